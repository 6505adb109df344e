//! Entra ID: discovery documents, the token endpoint's success body and claims, and each
//! AADSTS error clients must be able to tell apart.

use base64::Engine as _;
use galleon_emulator::seed::SeedFederatedCredential;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn form<'a>(app: &'a str, secret: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", app),
        ("client_secret", secret),
        ("grant_type", "client_credentials"),
        ("scope", scope),
        ("client_info", "1"),
    ]
}

#[tokio::test]
async fn token_has_v1_arm_claims_with_per_tenant_object_ids() {
    let t = TestContext::start(scenario()).await;
    let a = t
        .token_request(TENANT_A, &form(APP, SECRET, ARM_SCOPE))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["token_type"], "Bearer");
    assert_eq!(a.body["expires_in"], 3599);
    assert_eq!(a.body["ext_expires_in"], 3599);
    let ca = claims(a.body["access_token"].as_str().unwrap());
    assert_eq!(ca["aud"], "https://management.azure.com");
    assert_eq!(ca["iss"], format!("https://sts.windows.net/{TENANT_A}/"));
    assert_eq!(ca["tid"], TENANT_A);
    assert_eq!(ca["appid"], APP);
    assert_eq!(ca["appidacr"], "1");
    assert_eq!(ca["idtyp"], "app");
    assert_eq!(ca["ver"], "1.0");
    assert_eq!(ca["oid"], ca["sub"]);
    assert_eq!(ca["iat"], ca["nbf"]);
    assert_eq!(
        ca["exp"].as_i64().unwrap() - ca["iat"].as_i64().unwrap(),
        3599 + 300
    );
    // Same app in tenant B (by domain, CLI scope form): other tenant, other object id.
    let b = t
        .token_request(
            "consumer.onmicrosoft.com",
            &form(APP, SECRET, "https://management.core.windows.net//.default"),
        )
        .await;
    let cb = claims(b.body["access_token"].as_str().unwrap());
    assert_eq!(cb["tid"], TENANT_B);
    assert_eq!(cb["aud"], "https://management.core.windows.net/");
    assert_ne!(cb["oid"], ca["oid"]);
    assert!(
        a.headers
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("no-store")
    );
}

#[tokio::test]
async fn secret_in_basic_auth_and_storage_scope() {
    let t = TestContext::start(scenario()).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{APP}:{SECRET}"));
    let r = t
        .http
        .post(t.url(&format!("/{TENANT_A}/oauth2/v2.0/token")))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://storage.azure.com/.default"),
            (
                "claims",
                "{\"access_token\":{\"xms_cc\":{\"values\":[\"CP1\"]}}}",
            ),
        ])
        .send()
        .await
        .unwrap();
    let a = read(r).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        claims(a.body["access_token"].as_str().unwrap())["aud"],
        "https://storage.azure.com"
    );
}

async fn aadsts(
    t: &TestContext,
    tenant: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, u64, String) {
    let a = t.token_request(tenant, form).await;
    let desc = a.body["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (
        a.status,
        a.body["error"].as_str().unwrap_or_default().to_owned(),
        a.body["error_codes"][0].as_u64().unwrap_or(0),
        desc,
    )
}

#[tokio::test]
async fn token_errors_use_real_aadsts_codes() {
    let t = TestContext::start(scenario()).await;
    let (s, e, c, d) = aadsts(
        &t,
        "99999999-9999-4999-8999-999999999999",
        &form(APP, SECRET, ARM_SCOPE),
    )
    .await;
    assert_eq!(
        (s, e.as_str(), c),
        (StatusCode::BAD_REQUEST, "invalid_request", 90002)
    );
    assert!(
        d.starts_with("AADSTS90002: Tenant '99999999-9999-4999-8999-999999999999' not found."),
        "{d}"
    );
    assert!(d.contains("\r\nTrace ID: "));
    // LONELY_APP is registered in B and has no service principal in A.
    let (s, e, c, d) = aadsts(&t, TENANT_A, &form(LONELY_APP, SECRET, ARM_SCOPE)).await;
    assert_eq!(
        (s, e.as_str(), c),
        (StatusCode::BAD_REQUEST, "unauthorized_client", 700016)
    );
    assert!(
        d.contains(&format!(
            "Application with identifier '{LONELY_APP}' was not found in the directory 'Publisher'"
        )),
        "{d}"
    );
    let (s, e, c, _) = aadsts(&t, TENANT_A, &form(APP, "wrong", ARM_SCOPE)).await;
    assert_eq!(
        (s, e.as_str(), c),
        (StatusCode::UNAUTHORIZED, "invalid_client", 7000215)
    );
    let (s, _, c, _) = aadsts(&t, TENANT_A, &form(APP, "old-secret", ARM_SCOPE)).await;
    assert_eq!((s, c), (StatusCode::UNAUTHORIZED, 7000222));
    let (s, _, c, _) = aadsts(
        &t,
        TENANT_A,
        &[
            ("client_id", APP),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_eq!((s, c), (StatusCode::UNAUTHORIZED, 7000218));
    let (s, e, c, _) = aadsts(
        &t,
        TENANT_A,
        &form(
            APP,
            SECRET,
            "https://management.azure.com/user_impersonation",
        ),
    )
    .await;
    assert_eq!(
        (s, e.as_str(), c),
        (StatusCode::BAD_REQUEST, "invalid_scope", 1002012)
    );
    let (_, _, c, _) = aadsts(
        &t,
        TENANT_A,
        &form(APP, SECRET, "https://example.contoso.com/.default"),
    )
    .await;
    assert_eq!(c, 70011);
    let (_, _, c, d) = aadsts(
        &t,
        TENANT_A,
        &[
            ("client_id", APP),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    assert_eq!(c, 900144);
    assert!(d.contains("'scope'"));
    let (s, _, c, _) = aadsts(&t, "not_a_tenant", &form(APP, SECRET, ARM_SCOPE)).await;
    assert_eq!((s, c), (StatusCode::BAD_REQUEST, 900023));
    let mut with_resource = form(APP, SECRET, ARM_SCOPE);
    with_resource.push(("resource", "https://management.azure.com/"));
    let (_, _, c, _) = aadsts(&t, TENANT_A, &with_resource).await;
    assert_eq!(c, 901002);
}

#[tokio::test]
async fn consent_creates_service_principal_and_unblocks_tokens() {
    let t = TestContext::start(scenario()).await;
    let (_, _, c, _) = aadsts(&t, TENANT_A, &form(LONELY_APP, SECRET, ARM_SCOPE)).await;
    assert_eq!(c, 700016);
    let a = t
        .admin(
            Method::POST,
            "/service-principals",
            Some(json!({"app_id": LONELY_APP, "tenant": TENANT_A})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    t.token_for(LONELY_APP, TENANT_A, ARM_SCOPE).await;
}

#[tokio::test]
async fn discovery_documents_point_back_at_the_emulator() {
    let t = TestContext::start(scenario()).await;
    let e = t.emu.endpoint().to_owned();
    let a = read(
        t.http
            .get(t.url("/publisher.onmicrosoft.com/v2.0/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body["token_endpoint"],
        format!("{e}/{TENANT_A}/oauth2/v2.0/token")
    );
    assert_eq!(
        a.body["authorization_endpoint"],
        format!("{e}/{TENANT_A}/oauth2/v2.0/authorize")
    );
    let bad = read(
        t.http
            .get(t.url("/nope.example/v2.0/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (bad.status, bad.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_tenant"))
    );
    let keys = read(
        t.http
            .get(t.url("/common/discovery/v2.0/keys"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let k = &keys.body["keys"][0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["kid"], k["x5t"]);
    let m = read(
        t.http
            .get(t.url("/metadata/endpoints?api-version=2022-09-01"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(m.body["authentication"]["loginEndpoint"], format!("{e}/"));
    assert_eq!(
        m.body["authentication"]["audiences"][0],
        "https://management.core.windows.net/"
    );
    assert!(m.body["suffixes"].is_object());
    assert_eq!(m.body["resourceManager"], format!("{e}/"));
    // A cloud description naming another audience (tests of InvalidAuthenticationTokenAudience).
    let mut settings = t.admin(Method::GET, "/settings", None).await.body;
    settings["metadata_audiences"] = json!(["https://datalake.azure.net/"]);
    t.admin(Method::PUT, "/settings", Some(settings)).await;
    let m = read(
        t.http
            .get(t.url("/metadata/endpoints?api-version=2022-09-01"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        m.body["authentication"]["audiences"],
        json!(["https://datalake.azure.net/"])
    );
}

#[tokio::test]
async fn federated_assertion_from_test_issuer() {
    let mut seed = scenario();
    let issuer_placeholder = "ISSUER";
    seed.apps[0]
        .federated_credentials
        .push(SeedFederatedCredential {
            name: Some("ci".into()),
            issuer: issuer_placeholder.into(),
            subject: "repo:contoso/images:environment:prod".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
        });
    // The issuer URL contains the port, known only after start: patch the state in place.
    let t = TestContext::start(seed).await;
    let issuer = format!("{}/_emulator/oidc", t.emu.endpoint());
    t.emu.shared().world().apps[0].federated_credentials[0].issuer = issuer.clone();
    let conf = t
        .admin(Method::GET, "/oidc/.well-known/openid-configuration", None)
        .await;
    assert_eq!(conf.body["issuer"], issuer);
    let mint = |sub: &'static str, aud: &'static str, life: i64| {
        let t = &t;
        async move {
            t.admin(
                Method::POST,
                "/oidc/token",
                Some(json!({"subject": sub, "audience": aud, "lifetime_secs": life})),
            )
            .await
            .body["token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let assertion = |jwt: String| {
        vec![
            ("client_id".to_owned(), APP.to_owned()),
            ("grant_type".into(), "client_credentials".into()),
            ("scope".into(), ARM_SCOPE.into()),
            (
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ),
            ("client_assertion".into(), jwt),
        ]
    };
    let send = |f: Vec<(String, String)>| {
        let t = &t;
        async move {
            read(
                t.http
                    .post(t.url(&format!("/{TENANT_A}/oauth2/v2.0/token")))
                    .form(&f)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let ok = send(assertion(
        mint(
            "repo:contoso/images:environment:prod",
            "api://AzureADTokenExchange",
            600,
        )
        .await,
    ))
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        claims(ok.body["access_token"].as_str().unwrap())["appidacr"],
        "2"
    );
    // Our issuer's tokens are verified: a forged signature is refused.
    let good = mint(
        "repo:contoso/images:environment:prod",
        "api://AzureADTokenExchange",
        600,
    )
    .await;
    let (head, _) = good.rsplit_once('.').unwrap();
    let forged = send(assertion(format!("{head}.AAAA"))).await;
    assert_eq!(
        (forged.status, forged.body["error_codes"][0].as_u64()),
        (StatusCode::UNAUTHORIZED, Some(700027))
    );
    let wrong_sub = send(assertion(
        mint(
            "repo:contoso/images:ref:refs/heads/main",
            "api://AzureADTokenExchange",
            600,
        )
        .await,
    ))
    .await;
    assert_eq!(wrong_sub.body["error_codes"][0], 700213);
    let wrong_aud = send(assertion(
        mint("repo:contoso/images:environment:prod", "api://other", 600).await,
    ))
    .await;
    assert_eq!(wrong_aud.body["error_codes"][0], 700212);
    let expired = send(assertion(
        mint(
            "repo:contoso/images:environment:prod",
            "api://AzureADTokenExchange",
            -10,
        )
        .await,
    ))
    .await;
    assert_eq!(expired.body["error_codes"][0], 700024);
    // Same claims from another issuer (unsigned by us) match no record.
    t.emu.shared().world().apps[0].federated_credentials[0].issuer =
        "https://token.actions.githubusercontent.com".into();
    let wrong_iss = send(assertion(
        mint(
            "repo:contoso/images:environment:prod",
            "api://AzureADTokenExchange",
            600,
        )
        .await,
    ))
    .await;
    assert_eq!(wrong_iss.body["error_codes"][0], 700211);
}
