//! ARM's authentication and authorization errors in the order of arm-errors.md §8, the
//! subscription tenant challenge, and RBAC allow/deny.

use reqwest::{Method, StatusCode};

use crate::common::*;

fn sub_path(sub: &str) -> String {
    format!("/subscriptions/{sub}?api-version=2022-12-01")
}

#[tokio::test]
async fn unauthenticated_subscription_get_reveals_tenant_in_challenge() {
    let t = TestContext::start(scenario()).await;
    let a = t.call(Method::GET, &sub_path(SUB_B), None, &[], None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.code(), "AuthenticationFailed");
    assert_eq!(
        a.message(),
        "Authentication failed. The 'Authorization' header is missing."
    );
    assert!(
        a.header("www-authenticate").starts_with(&format!(
            "Bearer authorization_uri=\"https://login.windows.net/{TENANT_B}\""
        )),
        "{}",
        a.header("www-authenticate")
    );
    assert_eq!(a.header("x-ms-failure-cause"), "gateway");
    assert!(!a.header("x-ms-request-id").is_empty());
    assert_eq!(
        a.header("x-ms-request-id"),
        a.header("x-ms-correlation-request-id")
    );
}

#[tokio::test]
async fn malformed_and_invalid_tokens() {
    let t = TestContext::start(scenario()).await;
    let a = t
        .call(
            Method::GET,
            &sub_path(SUB_A),
            None,
            &[("authorization", "Basic abc")],
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailedInvalidHeader"
        )
    );
    let a = t.get(&sub_path(SUB_A), "not-a-jwt").await;
    assert_eq!(
        (a.status, a.code(), a.message()),
        (
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The access token is invalid."
        )
    );
}

#[tokio::test]
async fn expired_token_after_clock_advance() {
    let mut seed = scenario();
    seed.settings.token_lifetime_secs = 60;
    let t = TestContext::start(seed).await;
    let tok = t.token_a().await;
    assert_eq!(t.get(&sub_path(SUB_A), &tok).await.status, StatusCode::OK);
    t.emu.advance_clock(120);
    let a = t.get(&sub_path(SUB_A), &tok).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "ExpiredAuthenticationToken")
    );
    assert!(
        a.message()
            .starts_with("The access token expiry UTC time '"),
        "{}",
        a.message()
    );
    assert!(a.message().contains("' is earlier than current UTC time '"));
    assert!(
        a.header("www-authenticate")
            .contains("error_description=\"The access token expiry UTC time"),
        "{}",
        a.header("www-authenticate")
    );
}

#[tokio::test]
async fn wrong_audience_and_wrong_tenant() {
    let t = TestContext::start(scenario()).await;
    let storage = t
        .token_for(APP, TENANT_A, "https://storage.azure.com/.default")
        .await;
    let a = t.get(&sub_path(SUB_A), &storage).await;
    assert_eq!(
        (a.status, a.code()),
        (
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenAudience"
        )
    );
    assert!(a.message().contains("'https://storage.azure.com'"));
    // A tenant-A token used as primary on tenant B's subscription.
    let a = t.get(&sub_path(SUB_B), &t.token_a().await).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "InvalidAuthenticationTokenTenant")
    );
    assert!(a.message().starts_with(&format!("The access token is from the wrong issuer 'https://sts.windows.net/{TENANT_A}/'. It must match the tenant 'https://sts.windows.net/{TENANT_B}/'")));
    assert!(
        a.header("www-authenticate")
            .contains(&format!("login.windows.net/{TENANT_B}"))
    );
}

#[tokio::test]
async fn unknown_subscription_and_listing() {
    let t = TestContext::start(scenario()).await;
    let tok = t.token_a().await;
    let a = t
        .get(&sub_path("cccccccc-0000-4000-8000-cccccccccccc"), &tok)
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::NOT_FOUND, "SubscriptionNotFound")
    );
    let a = t.get("/subscriptions?api-version=2022-12-01", &tok).await;
    let ids: Vec<&str> = a.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subscriptionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![SUB_A]);
    assert_eq!(a.body["value"][0]["tenantId"], TENANT_A);
    assert_eq!(a.body["value"][0]["state"], "Enabled");
    assert_eq!(a.header("x-ms-ratelimit-remaining-tenant-reads"), "249");
    assert!(
        a.headers
            .get("x-ms-ratelimit-remaining-subscription-reads")
            .is_none()
    );
    let a = t.get("/subscriptions", &tok).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "MissingApiVersionParameter")
    );
}

#[tokio::test]
async fn rbac_denies_without_role_and_allows_with_it() {
    let t = TestContext::start(scenario()).await;
    let lonely = t.token_for(LONELY_APP, TENANT_B, ARM_SCOPE).await;
    let path = format!("{}?{RG_API}", rg_path(SUB_B, "rg-app"));
    let a = t
        .put(
            &path,
            &lonely,
            serde_json::json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "AuthorizationFailed")
    );
    let oid = t
        .emu
        .shared()
        .world()
        .service_principal(LONELY_APP, TENANT_B)
        .unwrap()
        .object_id
        .clone();
    assert_eq!(
        a.message(),
        format!(
            "The client '{LONELY_APP}' with object id '{oid}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            rg_path(SUB_B, "rg-app")
        )
    );
    // Reader at the subscription: reads pass, writes still fail.
    let tb = t.token_b().await;
    let ra = format!(
        "/subscriptions/{SUB_B}/providers/Microsoft.Authorization/roleAssignments/6f1d1d7e-0000-4000-8000-000000000001?api-version=2022-04-01"
    );
    let body = serde_json::json!({"properties": {"roleDefinitionId": format!("/subscriptions/{SUB_B}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"), "principalId": oid, "principalType": "ServicePrincipal"}});
    // Contributor cannot write role assignments (NotActions Microsoft.Authorization/*/Write).
    let denied = t.put(&ra, &tb, body.clone()).await;
    assert_eq!(
        (denied.status, denied.code()),
        (StatusCode::FORBIDDEN, "AuthorizationFailed")
    );
    let app_b = t
        .emu
        .shared()
        .world()
        .service_principal(APP, TENANT_B)
        .unwrap()
        .object_id
        .clone();
    t.emu
        .shared()
        .world()
        .insert_resource(galleon_emulator::providers::authorization::assignment(
            &format!("/subscriptions/{SUB_B}"),
            "6f1d1d7e-0000-4000-8000-0000000000aa",
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
            &app_b,
            "ServicePrincipal",
            None,
            time::OffsetDateTime::now_utc(),
        ));
    let created = t.put(&ra, &tb, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let lonely_read = t
        .get(
            &format!("/subscriptions/{SUB_B}/resourcegroups?{RG_API}"),
            &lonely,
        )
        .await;
    assert_eq!(lonely_read.status, StatusCode::OK, "{}", lonely_read.body);
    let still = t
        .put(
            &path,
            &lonely,
            serde_json::json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(still.code(), "AuthorizationFailed");
}

#[tokio::test]
async fn auxiliary_tokens_are_verified() {
    let mut seed = scenario();
    seed.settings.token_lifetime_secs = 60;
    let t = TestContext::start(seed).await;
    let tb = t.token_b().await;
    let ta = t.token_a().await;
    let path = format!("{}?{RG_API}", rg_path(SUB_B, "rg-x"));
    let ok = t
        .call(
            Method::GET,
            &path,
            Some(&tb),
            &[("x-ms-authorization-auxiliary", &format!("Bearer {ta}"))],
            None,
        )
        .await;
    assert_eq!(ok.code(), "ResourceGroupNotFound");
    let bad = t
        .call(
            Method::GET,
            &path,
            Some(&tb),
            &[("x-ms-authorization-auxiliary", "Bearer garbage")],
            None,
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken")
    );
    let four = format!("Bearer {ta}, Bearer {ta}; Bearer {ta}, Bearer {ta}");
    let too_many = t
        .call(
            Method::GET,
            &path,
            Some(&tb),
            &[("x-ms-authorization-auxiliary", &four)],
            None,
        )
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    t.emu.advance_clock(30);
    let fresh_b = t.token_b().await;
    t.emu.advance_clock(45);
    let expired = t
        .call(
            Method::GET,
            &path,
            Some(&fresh_b),
            &[("x-ms-authorization-auxiliary", &format!("Bearer {ta}"))],
            None,
        )
        .await;
    assert_eq!(
        (expired.status, expired.code()),
        (StatusCode::UNAUTHORIZED, "ExpiredAuthenticationToken")
    );
    assert!(
        expired
            .message()
            .contains(&format!("client '{APP}' in tenant '{TENANT_A}'")),
        "{}",
        expired.message()
    );
}

#[tokio::test]
async fn lists_are_filtered_by_rbac_for_resource_group_scoped_roles() {
    let mut seed = scenario();
    let rg = |n: &str| galleon_emulator::seed::SeedResource {
        id: rg_path(SUB_B, n),
        location: Some("westeurope".into()),
        properties: None,
        tags: None,
        extra: Default::default(),
    };
    seed.resources.extend([rg("rg-visible"), rg("rg-hidden")]);
    seed.role_assignments.push(grant(
        LONELY_APP,
        TENANT_B,
        "Reader",
        &rg_path(SUB_B, "rg-visible"),
    ));
    let t = TestContext::start(seed).await;
    let lonely = t.token_for(LONELY_APP, TENANT_B, ARM_SCOPE).await;
    let list = t
        .get(
            &format!("/subscriptions/{SUB_B}/resourcegroups?{RG_API}"),
            &lonely,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let names: Vec<&str> = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["rg-visible"]);
    let all = t
        .get(
            &format!("/subscriptions/{SUB_B}/resourcegroups?{RG_API}"),
            &t.token_b().await,
        )
        .await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 2);
    // A principal with no role at all in the subscription is refused outright.
    let mut seed = scenario();
    seed.resources.push(rg("rg-visible"));
    let t = TestContext::start(seed).await;
    let lonely = t.token_for(LONELY_APP, TENANT_B, ARM_SCOPE).await;
    let denied = t
        .get(
            &format!("/subscriptions/{SUB_B}/resourcegroups?{RG_API}"),
            &lonely,
        )
        .await;
    assert_eq!(denied.code(), "AuthorizationFailed");
}
