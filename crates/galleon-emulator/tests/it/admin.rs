//! The admin API (request log without tokens, drift injection, settings, clock) and
//! persistence: state, CA, signing key and in-flight operations survive a restart.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

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
async fn admin_replaces_a_subscriptions_quotas() {
    let t = TestContext::start(scenario()).await;
    let set = t
        .admin(
            Method::PUT,
            &format!("/subscriptions/{}/quotas", SUB_B.to_uppercase()),
            Some(json!({"cores": {"northeurope": 1}})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let state = t.admin(Method::GET, "/state", None).await;
    let sub = state.body["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == SUB_B)
        .unwrap()
        .clone();
    assert_eq!(sub["quotas"], json!({"cores": {"northeurope": 1}}));
    let unknown = t
        .admin(
            Method::PUT,
            "/subscriptions/cccccccc-0000-4000-8000-cccccccccccc/quotas",
            Some(json!({"cores": {}})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
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
    let saved = std::fs::read_to_string(path.join("state.json")).unwrap();
    assert!(!saved.contains(SECRET), "only secret digests are persisted");
    assert!(saved.contains("sha256:"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path.join("signing-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "keys are private to their owner");
    }
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

#[tokio::test]
async fn serves_http2_and_http1_over_tls() {
    let t = TestContext::start(scenario()).await;
    let h2 = t
        .http
        .get(format!("{}/health", t.emu.admin()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        h2.version(),
        reqwest::Version::HTTP_2,
        "ALPN picks h2 when offered"
    );
    let ca = reqwest::Certificate::from_pem(t.emu.ca_pem().as_bytes()).unwrap();
    let h1_client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .http1_only()
        .build()
        .unwrap();
    let h1 = h1_client
        .get(format!("{}/health", t.emu.admin()))
        .send()
        .await
        .unwrap();
    assert_eq!(h1.version(), reqwest::Version::HTTP_11);
    assert_eq!(h1.status(), StatusCode::OK);
}
