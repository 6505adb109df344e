//! What reaches ARM when something between the client and Azure interferes: a proxy that strips
//! or rewrites the `Authorization` header (fault `authorization`), a tenant whose tokens come
//! from another cloud's Entra (`other_cloud_tenants`), and the service-principal-less tokens
//! Entra issued before March 2026 (`service_principal_less_tokens`). In each case the emulator
//! only damages or issues the token; ARM's own checks give the answer (arm-errors.md §3).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

fn sub_path(sub: &str) -> String {
    format!("/subscriptions/{sub}?api-version=2022-12-01")
}

async fn set_faults(t: &TestContext, faults: Value) {
    let a = t.admin(Method::PUT, "/faults", Some(faults)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

async fn set_settings(t: &TestContext, change: impl FnOnce(&mut Value)) {
    let mut settings = t.admin(Method::GET, "/settings", None).await.body;
    change(&mut settings);
    let a = t.admin(Method::PUT, "/settings", Some(settings)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn a_proxy_stripping_or_rewriting_authorization_meets_arms_own_refusals() {
    let t = TestContext::start(scenario()).await;
    let b = t.token_b().await;
    set_faults(
        &t,
        json!({"authorization": "strip", "path_contains": format!("/subscriptions/{SUB_B}")}),
    )
    .await;
    let a = t.get(&sub_path(SUB_B), &b).await;
    assert_eq!(
        (a.status, a.code(), a.message()),
        (
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing."
        )
    );
    // The client did send the header; the log says the proxy took it.
    let log = t.admin(Method::GET, "/requests", None).await.body;
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert!(
        last["headers"]
            .as_array()
            .unwrap()
            .contains(&json!("authorization")),
        "{last}"
    );
    assert_eq!(last["fault"], "authorization_strip");
    // Requests the proxy rule does not match keep their header.
    let a_token = t.token_a().await;
    assert_eq!(
        t.get(&sub_path(SUB_A), &a_token).await.status,
        StatusCode::OK
    );

    set_faults(&t, json!({"authorization": "not_bearer", "method": "GET"})).await;
    let a = t.get(&sub_path(SUB_B), &b).await;
    assert_eq!(
        (a.status, a.code(), a.message()),
        (
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailedInvalidHeader",
            "Authentication failed. The 'Authorization' header is provided in an invalid format."
        )
    );
    set_faults(&t, json!({})).await;
    assert_eq!(t.get(&sub_path(SUB_B), &b).await.status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_of_a_tenant_signed_in_at_another_cloud_do_not_verify() {
    let t = TestContext::start(scenario()).await;
    set_settings(&t, |s| {
        s["other_cloud_tenants"] = json!(["consumer.onmicrosoft.com"])
    })
    .await;
    let b = t.token_b().await;
    let a = t.get(&sub_path(SUB_B), &b).await;
    assert_eq!(
        (a.status, a.code(), a.message()),
        (
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The access token is invalid."
        )
    );
    // Other tenants still sign in here.
    let a_token = t.token_a().await;
    assert_eq!(
        t.get(&sub_path(SUB_A), &a_token).await.status,
        StatusCode::OK
    );
    set_settings(&t, |s| s["other_cloud_tenants"] = json!([])).await;
    let b = t.token_b().await;
    assert_eq!(t.get(&sub_path(SUB_B), &b).await.status, StatusCode::OK);
}

#[tokio::test]
async fn before_march_2026_an_app_without_a_service_principal_got_a_token_arm_refuses() {
    let t = TestContext::start(scenario()).await;
    let form = [
        ("client_id", APP),
        ("client_secret", SECRET),
        ("grant_type", "client_credentials"),
        ("scope", ARM_SCOPE),
    ];
    // Consent withdrawn: no service principal of APP in B any more.
    let a = t
        .admin(
            Method::DELETE,
            &format!("/service-principals?app_id={APP}&tenant={TENANT_B}"),
            None,
        )
        .await;
    assert_eq!(a.body["removed"], 1, "{}", a.body);
    let a = t.token_request(TENANT_B, &form).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error_codes"], json!([700016]));

    set_settings(&t, |s| s["service_principal_less_tokens"] = json!(true)).await;
    let a = t.token_request(TENANT_B, &form).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let token = a.body["access_token"].as_str().unwrap().to_owned();
    let claims = galleon_emulator::token::peek_claims(&token).unwrap();
    assert!(claims.get("oid").is_none(), "{claims}");
    assert_eq!(claims["tid"], TENANT_B);
    let a = t.get(&sub_path(SUB_B), &token).await;
    assert_eq!(
        (a.status, a.code(), a.message()),
        (
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present. If you are accessing as application please make sure service principal is properly created in the tenant."
        )
    );
    // An app registered nowhere still gets AADSTS700016.
    let unknown = [
        ("client_id", "0c0c0c0c-4444-4444-8444-444444444444"),
        form[1],
        form[2],
        form[3],
    ];
    let a = t.token_request(TENANT_B, &unknown).await;
    assert_eq!(a.body["error_codes"], json!([700016]));
    // Consent again: the token carries the object id and ARM accepts it.
    let a = t
        .admin(
            Method::POST,
            "/service-principals",
            Some(json!({"app_id": APP, "tenant": TENANT_B})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let b = t.token_b().await;
    assert_eq!(t.get(&sub_path(SUB_B), &b).await.status, StatusCode::OK);
}
