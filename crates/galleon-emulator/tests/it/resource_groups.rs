//! Resource groups (sync PUT, PATCH, paged list, LRO delete that removes contents), tags API,
//! role assignments, api-version checks, rate-limit headers and persistence across restarts.

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
async fn role_assignments_at_gallery_scope_and_duplicates() {
    let t = TestContext::start(scenario()).await;
    let tok = t.token_a().await;
    let consumer_oid = t
        .emu
        .shared()
        .world()
        .service_principal(APP, TENANT_B)
        .unwrap()
        .object_id
        .clone();
    let scope = format!(
        "{}/providers/Microsoft.Compute/galleries/golden",
        rg_path(SUB_A, "rg-image-build")
    );
    let url = |name: &str| {
        format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"
        )
    };
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"), "principalId": consumer_oid, "principalType": "ServicePrincipal", "description": "galleon:ws:gallery_grant.golden/consumer/Reader"}});
    // The consumer's principal lives in tenant B, not A: ARM refuses it by directory.
    let wrong_dir = t
        .put(
            &url("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            &tok,
            body.clone(),
        )
        .await;
    assert_eq!(wrong_dir.code(), "PrincipalNotFound");
    let a_oid = t
        .emu
        .shared()
        .world()
        .service_principal(APP, TENANT_A)
        .unwrap()
        .object_id
        .clone();
    let mut body = body;
    body["properties"]["principalId"] = json!(a_oid);
    let a = t
        .put(
            &url("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            &tok,
            body.clone(),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["properties"]["scope"], scope);
    assert_eq!(a.body["type"], "Microsoft.Authorization/roleAssignments");
    assert_eq!(
        a.body["properties"]["description"],
        "galleon:ws:gallery_grant.golden/consumer/Reader"
    );
    let dup = t
        .put(
            &url("3fa85f64-5717-4562-b3fc-2c963f66afa7"),
            &tok,
            body.clone(),
        )
        .await;
    assert_eq!(
        (dup.status, dup.code()),
        (StatusCode::CONFLICT, "RoleAssignmentExists")
    );
    let bad = t.put(&url("not-a-guid"), &tok, body).await;
    assert_eq!(bad.code(), "InvalidRoleAssignmentId");
    let list = t.get(&format!("{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()"), &tok).await;
    // At the gallery: the new one plus the two inherited from the subscription.
    assert_eq!(
        list.body["value"].as_array().unwrap().len(),
        3,
        "{}",
        list.body
    );
    let def = t.get(&format!("/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName eq 'Compute Gallery Image Reader'"), &tok).await;
    assert_eq!(
        def.body["value"][0]["name"],
        "cf7c76d2-98a3-4358-a134-615aa78bf44d"
    );
    let del = t
        .delete(&url("3fa85f64-5717-4562-b3fc-2c963f66afa6"), &tok)
        .await;
    assert_eq!(del.status, StatusCode::OK);
    assert_eq!(
        t.delete(&url("3fa85f64-5717-4562-b3fc-2c963f66afa6"), &tok)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn state_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let t = TestContext::start_in(scenario(), dir).await;
    let tok = t.token_a().await;
    t.put(
        &format!("{}?{RG_API}", rg_path(SUB_A, "rg-keep")),
        &tok,
        json!({"location": "westeurope"}),
    )
    .await;
    let ca = t.emu.ca_pem().to_owned();
    let TestContext { emu, dir, .. } = t;
    emu.shutdown().await;
    let again = galleon_emulator::Emulator::start(galleon_emulator::EmulatorConfig {
        seed: galleon_emulator::Seed::default(),
        state_dir: Some(path.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        again.ca_pem(),
        ca,
        "the CA is reused so clients keep trusting it"
    );
    let t2 = TestContext {
        http: client(again.ca_pem()),
        emu: again,
        dir,
    };
    // The old token still verifies (same signing key) and the group is still there.
    let a = t2
        .get(&format!("{}?{RG_API}", rg_path(SUB_A, "rg-keep")), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn admin_request_log_records_principal_and_auxiliary_tenants_without_tokens() {
    let t = TestContext::start(scenario()).await;
    let tb = t.token_b().await;
    let ta = t.token_a().await;
    t.admin(Method::DELETE, "/requests", None).await;
    t.call(
        Method::GET,
        &format!("{}?{RG_API}", rg_path(SUB_B, "x")),
        Some(&tb),
        &[("x-ms-authorization-auxiliary", &format!("Bearer {ta}"))],
        None,
    )
    .await;
    let log = t.admin(Method::GET, "/requests", None).await;
    let e = &log.body[0];
    assert_eq!(e["method"], "GET");
    assert_eq!(e["status"], 404);
    assert_eq!(e["auxiliary"], true);
    assert_eq!(e["auxiliary_tenants"][0], TENANT_A);
    assert_eq!(e["principal"]["tenant"], TENANT_B);
    assert!(
        e["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "authorization")
    );
    let text = log.body.to_string();
    assert!(
        !text.contains(&tb) && !text.contains(&ta),
        "tokens never appear in the log"
    );
    let health = t.admin(Method::GET, "/health", None).await;
    assert_eq!(health.body["status"], "ok");
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
async fn admin_injects_drift_and_changes_settings() {
    let t = TestContext::start(scenario()).await;
    let tok = t.token_a().await;
    let rg = rg_path(SUB_A, "rg-image-build");
    // Drift: tags changed behind galleon's back.
    let a = t
        .admin(
            Method::POST,
            "/resources",
            Some(json!({"id": rg, "location": "westeurope", "tags": {"owner": "someone-else"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let got = t.get(&format!("{rg}?{RG_API}"), &tok).await;
    assert_eq!(got.body["tags"]["owner"], "someone-else");
    // An unowned resource appears, then disappears.
    let pip = format!("{rg}/providers/Microsoft.Network/publicIPAddresses/stray");
    t.admin(
        Method::POST,
        "/resources",
        Some(json!({"id": pip, "location": "westeurope", "properties": {"ipAddress": "20.1.2.3"}})),
    )
    .await;
    let state = t.admin(Method::GET, "/state", None).await;
    let found = state.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == pip.as_str())
        .unwrap()
        .clone();
    assert_eq!(found["type"], "Microsoft.Network/publicIPAddresses");
    assert_eq!(found["properties"]["provisioningState"], "Succeeded");
    assert!(
        !state.body.to_string().contains(SECRET),
        "secrets never leave through the admin API"
    );
    let removed = t
        .admin(Method::DELETE, &format!("/resources?id={pip}"), None)
        .await;
    assert_eq!(removed.body["removed"], 1);
    let bad = t
        .admin(Method::POST, "/resources", Some(json!({"id": "not-an-id"})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Settings at run time: page size 1.
    let mut settings = t.admin(Method::GET, "/settings", None).await.body;
    settings["page_size"] = json!(1);
    t.admin(Method::PUT, "/settings", Some(settings)).await;
    t.put(
        &format!("{}?{RG_API}", rg_path(SUB_A, "rg-2")),
        &tok,
        json!({"location": "westeurope"}),
    )
    .await;
    let page = t
        .get(
            &format!("/subscriptions/{SUB_A}/resourcegroups?{RG_API}"),
            &tok,
        )
        .await;
    assert_eq!(page.body["value"].as_array().unwrap().len(), 1);
    assert!(page.body["nextLink"].is_string());
    let advanced = t
        .admin(
            Method::POST,
            "/clock/advance",
            Some(json!({"seconds": 7200})),
        )
        .await;
    assert_eq!(advanced.body["clockOffsetSecs"], 7200);
    assert_eq!(
        t.get(&format!("{rg}?{RG_API}"), &tok).await.code(),
        "ExpiredAuthenticationToken"
    );
    assert_eq!(
        t.admin(Method::POST, "/clock/advance", Some(json!({"seconds": -1})))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn operations_in_flight_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let mut seed = scenario();
    seed.settings.lro_default_ms = 60_000;
    let t = TestContext::start_in(seed, dir).await;
    let tok = t.token_a().await;
    let d = t
        .delete(
            &format!("{}?{RG_API}", rg_path(SUB_A, "rg-image-build")),
            &tok,
        )
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    let location = d.header("location").replace(t.emu.endpoint(), "");
    let TestContext { emu, dir, .. } = t;
    emu.shutdown().await;
    let again = galleon_emulator::Emulator::start(galleon_emulator::EmulatorConfig {
        state_dir: Some(path),
        ..Default::default()
    })
    .await
    .unwrap();
    let t2 = TestContext {
        http: client(again.ca_pem()),
        emu: again,
        dir,
    };
    assert_eq!(
        t2.get(&location, &tok).await.status,
        StatusCode::ACCEPTED,
        "still running after restart"
    );
    t2.emu.advance_clock(61);
    assert_eq!(t2.get(&location, &tok).await.status, StatusCode::OK);
    assert_eq!(
        t2.get(
            &format!("{}?{RG_API}", rg_path(SUB_A, "rg-image-build")),
            &tok
        )
        .await
        .code(),
        "ResourceGroupNotFound"
    );
}
