//! Resource groups (sync PUT, PATCH, paged list, LRO delete that removes contents), the tags
//! API, generic resource lists, existence checks and api-version/type errors.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn resource_group_lifecycle() {
    let mut seed = scenario();
    seed.settings.page_size = 2;
    let t = TestContext::start(seed).await;
    let tok = t.token_a().await;
    let p = |rg: &str| format!("{}?{RG_API}", rg_path(SUB_A, rg));
    let a = t
        .put(
            &p("rg-one"),
            &tok,
            json!({"location": "West Europe", "tags": {"team": "platform"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["location"], "westeurope");
    assert_eq!(a.body["type"], "Microsoft.Resources/resourceGroups");
    assert_eq!(a.body["properties"]["provisioningState"], "Succeeded");
    assert!(
        !a.header("x-ms-ratelimit-remaining-subscription-writes")
            .is_empty()
    );
    assert_eq!(
        t.put(&p("rg-one"), &tok, json!({"location": "westeurope"}))
            .await
            .status,
        StatusCode::OK
    );
    let moved = t
        .put(&p("rg-one"), &tok, json!({"location": "northeurope"}))
        .await;
    assert_eq!(moved.code(), "InvalidResourceGroupLocation");
    t.put(&p("rg-two"), &tok, json!({"location": "westeurope"}))
        .await;
    let patched = t
        .call(
            Method::PATCH,
            &p("RG-TWO"),
            Some(&tok),
            &[],
            Some(json!({"tags": {"a": "b"}})),
        )
        .await;
    assert_eq!(patched.body["tags"]["a"], "b");
    // Three groups (incl. the seeded one), page size 2.
    let first = t
        .get(
            &format!("/subscriptions/{SUB_A}/resourcegroups?{RG_API}"),
            &tok,
        )
        .await;
    assert_eq!(first.body["value"].as_array().unwrap().len(), 2);
    assert!(
        first
            .header("x-ms-ratelimit-remaining-subscription-reads")
            .parse::<u32>()
            .unwrap()
            < 250
    );
    let next = first.body["nextLink"].as_str().unwrap().to_owned();
    let second = t.get(&next, &tok).await;
    assert_eq!(second.body["value"].as_array().unwrap().len(), 1);
    assert!(second.body.get("nextLink").is_none());
    // Delete is an LRO that removes the group.
    t.put(&format!("/subscriptions/{SUB_A}/resourceGroups/rg-one/providers/Microsoft.Authorization/roleAssignments/6f1d1d7e-0000-4000-8000-000000000002?api-version=2022-04-01"), &tok,
        json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": t.emu.shared().world().service_principal(APP, TENANT_A).unwrap().object_id.clone()}})).await;
    let d = t.delete(&p("rg-one"), &tok).await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    let location = d.header("location").to_owned();
    assert!(
        location.starts_with(&format!(
            "{}/subscriptions/{SUB_A}/operationresults/",
            t.emu.endpoint()
        )),
        "{location}"
    );
    let done = t.wait(&location, &tok).await;
    assert_eq!(done.status, StatusCode::OK);
    let gone = t.get(&p("rg-one"), &tok).await;
    assert_eq!(
        (gone.status, gone.code(), gone.message()),
        (
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            "Resource group 'rg-one' could not be found."
        )
    );
    assert_eq!(
        t.emu
            .shared()
            .world()
            .resources
            .keys()
            .filter(|k| k.contains("/rg-one/"))
            .count(),
        0
    );
}

#[tokio::test]
async fn api_versions_and_unknown_types() {
    let t = TestContext::start(scenario()).await;
    let tok = t.token_a().await;
    let a = t
        .get(
            &format!(
                "{}?api-version=1999-01-01",
                rg_path(SUB_A, "rg-image-build")
            ),
            &tok,
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "InvalidApiVersionParameter")
    );
    let a = t
        .get(
            &format!(
                "{}/providers/Microsoft.Nope/things/x?api-version=2024-01-01",
                rg_path(SUB_A, "rg-image-build")
            ),
            &tok,
        )
        .await;
    assert_eq!(a.code(), "InvalidResourceNamespace");
    let a = t
        .get(
            &format!(
                "{}/providers/Microsoft.Authorization/nothings/x?api-version=2022-04-01",
                rg_path(SUB_A, "rg-image-build")
            ),
            &tok,
        )
        .await;
    assert_eq!(a.code(), "InvalidResourceType");
    let a = t
        .get(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/x?api-version=2099-01-01",
                rg_path(SUB_A, "rg-image-build")
            ),
            &tok,
        )
        .await;
    assert_eq!(a.code(), "NoRegisteredProviderFound");
}

#[tokio::test]
async fn tags_api_merge_replace_delete() {
    let t = TestContext::start(scenario()).await;
    let tok = t.token_a().await;
    let tags = format!(
        "{}/providers/Microsoft.Resources/tags/default?api-version=2025-04-01",
        rg_path(SUB_A, "rg-image-build")
    );
    let a = t
        .put(
            &tags,
            &tok,
            json!({"properties": {"tags": {"a": "1", "b": "2"}}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = t
        .call(
            Method::PATCH,
            &tags,
            Some(&tok),
            &[],
            Some(json!({"operation": "Merge", "properties": {"tags": {"c": "3"}}})),
        )
        .await;
    assert_eq!(
        a.body["properties"]["tags"],
        json!({"a": "1", "b": "2", "c": "3"})
    );
    let a = t
        .call(
            Method::PATCH,
            &tags,
            Some(&tok),
            &[],
            Some(json!({"operation": "Delete", "properties": {"tags": {"a": "1"}}})),
        )
        .await;
    assert_eq!(a.body["properties"]["tags"], json!({"b": "2", "c": "3"}));
    let a = t
        .call(
            Method::PATCH,
            &tags,
            Some(&tok),
            &[],
            Some(json!({"operation": "Replace", "properties": {"tags": {"z": "9"}}})),
        )
        .await;
    assert_eq!(a.body["properties"]["tags"], json!({"z": "9"}));
    let rg = t
        .get(
            &format!("{}?{RG_API}", rg_path(SUB_A, "rg-image-build")),
            &tok,
        )
        .await;
    assert_eq!(rg.body["tags"], json!({"z": "9"}));
    let lonely = t.token_for(LONELY_APP, TENANT_B, ARM_SCOPE).await;
    let tags_b = format!(
        "/subscriptions/{SUB_B}/resourceGroups/none/providers/Microsoft.Resources/tags/default?api-version=2025-04-01"
    );
    assert_eq!(
        t.put(&tags_b, &lonely, json!({"properties": {"tags": {}}}))
            .await
            .code(),
        "AuthorizationFailed"
    );
}

#[tokio::test]
async fn generic_resource_lists_existence_checks_and_tenants() {
    let mut seed = scenario();
    let image = format!(
        "{}/providers/Microsoft.Compute/images/ubuntu-2204-base",
        rg_path(SUB_A, "rg-image-build")
    );
    seed.resources.push(galleon_emulator::seed::SeedResource {
        id: image.clone(),
        location: Some("westeurope".into()),
        properties: Some(json!({"hyperVGeneration": "V2"})),
        tags: Some([("galleon-workspace".to_owned(), "ws".to_owned())].into()),
        extra: Default::default(),
    });
    let t = TestContext::start(seed).await;
    let tok = t.token_a().await;
    let in_rg = t
        .get(
            &format!(
                "{}/resources?api-version=2025-04-01",
                rg_path(SUB_A, "rg-image-build")
            ),
            &tok,
        )
        .await;
    assert_eq!(in_rg.status, StatusCode::OK, "{}", in_rg.body);
    let ids: Vec<&str> = in_rg.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // The role assignments inherited from the subscription and the group itself are not listed.
    assert_eq!(ids, vec![image.as_str()]);
    assert_eq!(in_rg.body["value"][0]["type"], "Microsoft.Compute/images");
    let filtered = t.get(&format!("/subscriptions/{SUB_A}/resources?api-version=2025-04-01&$filter=tagName eq 'galleon-workspace' and tagValue eq 'other'"), &tok).await;
    assert_eq!(filtered.body["value"].as_array().unwrap().len(), 0);
    let by_type = t.get(&format!("/subscriptions/{SUB_A}/resources?api-version=2025-04-01&$filter=resourceType eq 'Microsoft.Compute/images'"), &tok).await;
    assert_eq!(by_type.body["value"].as_array().unwrap().len(), 1);
    // HEAD = CheckExistence.
    let exists = t
        .call(
            Method::HEAD,
            &format!("{}?{RG_API}", rg_path(SUB_A, "rg-image-build")),
            Some(&tok),
            &[],
            None,
        )
        .await;
    assert_eq!(exists.status, StatusCode::NO_CONTENT);
    let missing = t
        .call(
            Method::HEAD,
            &format!("{}?{RG_API}", rg_path(SUB_A, "rg-missing")),
            Some(&tok),
            &[],
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let tenants = t.get("/tenants?api-version=2022-12-01", &tok).await;
    assert_eq!(tenants.body["value"][0]["tenantId"], TENANT_A);
    assert_eq!(
        tenants.body["value"][0]["defaultDomain"],
        "publisher.onmicrosoft.com"
    );
}

#[tokio::test]
async fn provider_registrations() {
    let t = TestContext::start(scenario()).await;
    let tok = t.token_a().await;
    let p = t
        .get(
            &format!(
                "/subscriptions/{SUB_A}/providers/microsoft.authorization?api-version=2021-04-01"
            ),
            &tok,
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body["namespace"], "Microsoft.Authorization");
    assert_eq!(p.body["registrationState"], "Registered");
    assert!(
        p.body["resourceTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["resourceType"] == "roleAssignments")
    );
    let r = t.call(Method::POST, &format!("/subscriptions/{SUB_A}/providers/Microsoft.Authorization/register?api-version=2021-04-01"), Some(&tok), &[], None).await;
    assert_eq!(r.body["registrationState"], "Registered");
    let all = t
        .get(
            &format!("/subscriptions/{SUB_A}/providers?api-version=2021-04-01"),
            &tok,
        )
        .await;
    assert!(
        all.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["namespace"] == "Microsoft.Resources")
    );
    let unknown = t
        .get(
            &format!("/subscriptions/{SUB_A}/providers/Microsoft.Nope?api-version=2021-04-01"),
            &tok,
        )
        .await;
    assert_eq!(unknown.code(), "InvalidResourceNamespace");
}
