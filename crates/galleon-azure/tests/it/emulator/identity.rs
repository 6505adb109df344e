//! Identity against the emulator's Entra side: refresh on expiry, federated token files, and
//! the ARM and Entra errors of a wrong tenant, a missing role or a bad credential.

use galleon_azure::{AzureError, CredentialSource, CredentialSpec};
use galleon_emulator::seed::SeedFederatedCredential;
use serde_json::{Value, json};

use super::*;
use crate::{APP, CANARY, SUB_A, SUB_B, TENANT_A, TENANT_B, a, b};

#[tokio::test]
async fn arm_and_entra_errors_are_mapped_with_hints() {
    let c = Ctx::start(seed()).await;
    // The token of the wrong tenant for the subscription.
    let err = c.client.get(&a(), &rg(SUB_B, "rg-app")).await.unwrap_err();
    assert_eq!(
        err.arm_code(),
        Some("InvalidAuthenticationTokenTenant"),
        "{err}"
    );
    assert!(err.hint().unwrap().contains(TENANT_A));

    // A principal without a role.
    let lonely = Ctx::client_for(&c.emu, &[spec(TENANT_B, LONELY, CANARY)]).await;
    let err = lonely
        .put(
            &b(),
            &rg(SUB_B, "rg-x"),
            &json!({"location": "northeurope"}),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(err.arm_code(), Some("AuthorizationFailed"), "{err}");
    assert!(
        err.hint()
            .unwrap()
            .contains("Microsoft.Resources/subscriptions/resourceGroups/write")
            || err.hint().unwrap().contains("needs a role"),
        "{:?}",
        err.hint()
    );

    // No service principal in the tenant, wrong secret, expired secret, unknown tenant.
    let cases: [(CredentialSpec, u32, &str); 4] = [
        (spec(TENANT_A, LONELY, CANARY), 700016, "az ad sp create"),
        (spec(TENANT_B, APP, "wrong-secret"), 7000215, "wrong"),
        (spec(TENANT_B, APP, "old-secret"), 7000222, "expired"),
        (
            spec("99999999-9999-4999-8999-999999999999", APP, CANARY),
            90002,
            "does not exist",
        ),
    ];
    for (s, code, words) in cases {
        let tenant = s.tenant_id.clone();
        let client = Ctx::client_for(&c.emu, &[s]).await;
        let err = client.get(&tenant, &rg(SUB_B, "rg-app")).await.unwrap_err();
        let AzureError::Entra(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.aadsts(), Some(code), "{err}");
        assert!(
            err.hint().unwrap().contains(words),
            "{code}: {:?}",
            err.hint()
        );
    }
}

#[tokio::test]
async fn tokens_are_refreshed_when_the_emulator_says_they_expired() {
    let c = Ctx::start(seed()).await;
    c.client
        .put(
            &b(),
            &rg(SUB_B, "rg-app"),
            &json!({"location": "northeurope"}),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(c.token_requests(), 1);
    // An hour and a half later at the server, the cached token is expired there.
    c.emu.advance_clock(5400);
    c.client.get(&b(), &rg(SUB_B, "rg-app")).await.unwrap();
    assert_eq!(
        c.token_requests(),
        2,
        "one refresh after ExpiredAuthenticationToken"
    );
    let statuses: Vec<u16> = c
        .log()
        .iter()
        .filter(|e| e.path == rg(SUB_B, "rg-app") && e.method == "GET")
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, vec![401, 200]);
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_before_use() {
    let mut s = seed();
    s.settings.token_lifetime_secs = 240;
    let c = Ctx::start(s).await;
    c.client
        .get(&b(), &format!("/subscriptions/{SUB_B}"))
        .await
        .unwrap();
    c.client
        .get(&b(), &format!("/subscriptions/{SUB_B}"))
        .await
        .unwrap();
    assert_eq!(
        c.token_requests(),
        2,
        "a token with less than 5 minutes left is replaced"
    );
    assert!(
        c.log().iter().all(|e| e.status != 401),
        "never sent an expiring token"
    );
}

#[tokio::test]
async fn federated_token_file_signs_in() {
    let mut s = seed();
    s.apps[0]
        .federated_credentials
        .push(SeedFederatedCredential {
            name: Some("ci".into()),
            issuer: "ISSUER".into(),
            subject: "repo:contoso/images:environment:prod".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
        });
    let c = Ctx::start(s).await;
    let issuer = format!("{}/_emulator/oidc", c.emu.endpoint());
    c.emu.shared().world().apps[0].federated_credentials[0].issuer = issuer;
    let http = galleon_azure::build_client(Some(c.emu.ca_pem())).unwrap();
    let mint = |sub: &'static str| {
        let http = http.clone();
        let url = format!("{}/oidc/token", c.emu.admin());
        async move {
            let r: Value = http.post(url).json(&json!({"subject": sub, "audience": "api://AzureADTokenExchange", "lifetime_secs": 600})).send().await.unwrap().json().await.unwrap();
            r["token"].as_str().unwrap().to_string()
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(&file, mint("repo:contoso/images:environment:prod").await).unwrap();
    let fed = |f: &std::path::Path| CredentialSpec {
        tenant_id: a(),
        client_id: APP.into(),
        source: CredentialSource::FederatedTokenFile(Some(f.to_path_buf())),
    };
    let client = Ctx::client_for(&c.emu, &[fed(&file)]).await;
    client
        .get(&a(), &rg(SUB_A, "rg-image-build"))
        .await
        .unwrap();

    let wrong = dir.path().join("wrong");
    std::fs::write(
        &wrong,
        mint("repo:contoso/images:ref:refs/heads/main").await,
    )
    .unwrap();
    let client = Ctx::client_for(&c.emu, &[fed(&wrong)]).await;
    let err = client
        .get(&a(), &rg(SUB_A, "rg-image-build"))
        .await
        .unwrap_err();
    let AzureError::Entra(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.aadsts(), Some(700213));
    assert!(
        err.hint()
            .unwrap()
            .contains("subject 'repo:contoso/images:ref:refs/heads/main'"),
        "{:?}",
        err.hint()
    );
}
