//! Credentials and the token cache over HTTPS: what goes in a token request, caching,
//! single-flight, refresh before expiry and after ARM's `ExpiredAuthenticationToken`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use galleon_azure::{ArmClient, AzureError, Cloud, CredentialSource, CredentialSpec, TenantId};
use serde_json::json;

use crate::stub::{Reply, Stub};
use crate::{APP, CANARY, SUB_B, TENANT_A, TENANT_B, a, b, fast_options, stub_client};

fn rg_path() -> String {
    format!("/subscriptions/{SUB_B}/resourceGroups/rg-app")
}

fn ok_rg(s: &crate::stub::Seen) -> Option<Reply> {
    (s.path.ends_with("/resourceGroups/rg-app"))
        .then(|| Reply::json(200, json!({"id": s.path, "name": "rg-app"})))
}

#[tokio::test]
async fn client_secret_token_request_is_a_client_credentials_form_and_is_cached() {
    let stub = Stub::start(ok_rg).await;
    let client = stub_client(&stub);
    client.get(&b(), &rg_path()).await.unwrap();
    client.get(&b(), &rg_path()).await.unwrap();
    let tokens = stub.token_requests();
    assert_eq!(tokens.len(), 1, "the second GET reuses the cached token");
    let t = &tokens[0];
    assert_eq!(t.path, format!("/{TENANT_B}/oauth2/v2.0/token"));
    assert_eq!(t.form("grant_type").as_deref(), Some("client_credentials"));
    assert_eq!(t.form("client_id").as_deref(), Some(APP));
    assert_eq!(t.form("client_secret").as_deref(), Some(CANARY));
    assert_eq!(
        t.form("scope").as_deref(),
        Some("https://management.core.windows.net/.default")
    );
    assert_eq!(
        t.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let arm = &stub.arm_seen()[0];
    assert!(arm.header("authorization").unwrap().starts_with("Bearer "));
    assert!(
        arm.query.contains("api-version=2025-04-01"),
        "{}",
        arm.query
    );
    assert!(arm.header("user-agent").unwrap().starts_with("galleon/"));
    assert!(
        arm.header("x-ms-client-request-id")
            .is_some_and(|v| uuid::Uuid::parse_str(v).is_ok())
    );
    assert_ne!(
        stub.arm_seen()[0].header("x-ms-client-request-id"),
        stub.arm_seen()[1].header("x-ms-client-request-id")
    );
}

#[tokio::test]
async fn concurrent_requests_share_one_token_request() {
    let stub = Stub::start(ok_rg).await;
    let client = stub_client(&stub);
    let path = rg_path();
    let tenant = b();
    let gets = (0..8).map(|_| client.get(&tenant, &path));
    for r in futures::future::join_all(gets).await {
        r.unwrap();
    }
    assert_eq!(
        stub.token_requests().len(),
        1,
        "single-flight per (tenant, scope)"
    );
}

#[tokio::test]
async fn tokens_within_five_minutes_of_expiry_are_refreshed() {
    let stub = Stub::start(ok_rg).await;
    stub.set_token_lifetime(299);
    let client = stub_client(&stub);
    client.get(&b(), &rg_path()).await.unwrap();
    client.get(&b(), &rg_path()).await.unwrap();
    assert_eq!(
        stub.token_requests().len(),
        2,
        "a token with < 5 min left is not reused"
    );
    stub.set_token_lifetime(3599);
    client.get(&b(), &rg_path()).await.unwrap();
    client.get(&b(), &rg_path()).await.unwrap();
    assert_eq!(stub.token_requests().len(), 3);
}

#[tokio::test]
async fn expired_authentication_token_refreshes_once_and_retries() {
    let rejected = Arc::new(AtomicUsize::new(0));
    let r = rejected.clone();
    let stub = Stub::start(move |s| {
        if s.is_token_request() {
            return None;
        }
        // The first token the stub issued (n=1) is "expired" at the server.
        let auth = s.header("authorization").unwrap_or("");
        let claims: serde_json::Value = galleon_azure::decode_claims(auth.trim_start_matches("Bearer ")).unwrap();
        if claims["n"] == 1 {
            r.fetch_add(1, Ordering::SeqCst);
            return Some(Reply::json(401, json!({"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry UTC time '1/1/2026 0:00:00 AM' is earlier than current UTC time '1/1/2026 1:00:00 AM'."}})));
        }
        ok_rg(s)
    })
    .await;
    let client = stub_client(&stub);
    client.get(&b(), &rg_path()).await.unwrap();
    assert_eq!(rejected.load(Ordering::SeqCst), 1);
    assert_eq!(stub.token_requests().len(), 2, "one refresh");
}

#[tokio::test]
async fn a_second_expired_token_answer_is_an_error_not_a_loop() {
    let stub = Stub::start(|s| {
        (!s.is_token_request()).then(|| {
            Reply::json(
                401,
                json!({"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}}),
            )
        })
    })
    .await;
    let client = stub_client(&stub);
    let err = client.get(&b(), &rg_path()).await.unwrap_err();
    assert_eq!(err.arm_code(), Some("ExpiredAuthenticationToken"));
    assert_eq!(stub.arm_seen().len(), 2);
    assert!(err.hint().unwrap().contains("clock"));
}

#[tokio::test]
async fn federated_assertion_is_sent_as_client_assertion() {
    let stub = Stub::start(ok_rg).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(
        &file,
        "header.eyJzdWIiOiJyZXBvOm8vcjpyZWY6cmVmcy9oZWFkcy9tYWluIn0.sig\n",
    )
    .unwrap();
    let client = ArmClient::new(stub.cloud(), fast_options()).unwrap();
    client
        .configure_credentials(&[CredentialSpec {
            tenant_id: b(),
            client_id: APP.into(),
            source: CredentialSource::FederatedTokenFile(Some(file)),
        }])
        .unwrap();
    client.get(&b(), &rg_path()).await.unwrap();
    let t = &stub.token_requests()[0];
    assert_eq!(
        t.form("client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert_eq!(
        t.form("client_assertion").as_deref(),
        Some("header.eyJzdWIiOiJyZXBvOm8vcjpyZWY6cmVmcy9oZWFkcy9tYWluIn0.sig")
    );
    assert_eq!(t.form("client_secret"), None);
    assert_eq!(t.form("client_id").as_deref(), Some(APP));
}

#[tokio::test]
async fn federated_mismatch_is_a_typed_entra_error_with_the_presented_claims() {
    let stub = Stub::start(|s| {
        s.is_token_request().then(|| Reply::json(401, json!({
            "error": "invalid_client",
            "error_description": "AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:o/r:ref:refs/heads/dev'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026-01-01 00:00:00Z",
            "error_codes": [700213]
        })))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let b64 =
        |v: &str| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v);
    std::fs::write(&file, format!("{}.{}.sig", b64("{}"), b64(r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:o/r:ref:refs/heads/dev","aud":"api://AzureADTokenExchange"}"#))).unwrap();
    let client = ArmClient::new(stub.cloud(), fast_options()).unwrap();
    client
        .configure_credentials(&[CredentialSpec {
            tenant_id: b(),
            client_id: APP.into(),
            source: CredentialSource::FederatedTokenFile(Some(file)),
        }])
        .unwrap();
    let err = client.get(&b(), &rg_path()).await.unwrap_err();
    let AzureError::Entra(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.aadsts(), Some(700213));
    assert_eq!(e.status, 401);
    let hint = err.hint().unwrap();
    assert!(
        hint.contains("subject 'repo:o/r:ref:refs/heads/dev'"),
        "{hint}"
    );
    assert!(
        hint.contains("issuer 'https://token.actions.githubusercontent.com'"),
        "{hint}"
    );
    assert!(stub.arm_seen().is_empty(), "no ARM request without a token");
}

#[tokio::test]
async fn missing_service_principal_gets_the_consent_hint() {
    let stub = Stub::start(move |s| {
        (s.is_token_request() && s.path.starts_with(&format!("/{TENANT_A}/"))).then(|| Reply::json(400, json!({
            "error": "unauthorized_client",
            "error_description": format!("AADSTS700016: Application with identifier '{APP}' was not found in the directory 'Publisher'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant. Trace ID: x Correlation ID: y Timestamp: 2026-01-01 00:00:00Z"),
            "error_codes": [700016]
        })))
    })
    .await;
    let client = stub_client(&stub);
    let err = client
        .get(&a(), "/subscriptions/aaaa/resourceGroups/rg")
        .await
        .unwrap_err();
    let hint = err.hint().unwrap();
    assert!(
        hint.contains(&format!("az ad sp create --id {APP}")),
        "{hint}"
    );
    assert!(hint.contains(TENANT_A), "{hint}");
    assert!(err.to_string().contains("AADSTS700016"), "{err}");
    assert!(!err.to_string().contains("Trace ID"), "{err}");
}

#[tokio::test]
async fn object_id_comes_from_the_oid_claim() {
    let stub = Stub::start(|_| None).await;
    let client = stub_client(&stub);
    assert_eq!(
        client.object_id(&b()).await.unwrap(),
        format!("oid-{APP}-in-{TENANT_B}")
    );
    assert_eq!(
        client.object_id(&a()).await.unwrap(),
        format!("oid-{APP}-in-{TENANT_A}")
    );
}

#[tokio::test]
async fn unknown_tenant_has_no_credential() {
    let stub = Stub::start(|_| None).await;
    let client = stub_client(&stub);
    let err = client
        .get(
            &TenantId::new("33333333-3333-4333-8333-333333333333"),
            &rg_path(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no credential configured"),
        "{err}"
    );
    assert!(stub.seen().is_empty());
}

#[cfg(unix)]
#[tokio::test]
async fn azure_cli_credential_runs_az_with_scope_and_tenant() {
    use std::os::unix::fs::PermissionsExt;
    let stub = Stub::start(ok_rg).await;
    let dir = tempfile::tempdir().unwrap();
    let args_file = dir.path().join("args");
    let az = dir.path().join("az");
    let token = crate::stub::fake_token(TENANT_B, APP, 99);
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    std::fs::write(&az, format!("#!/bin/sh\necho \"$@\" > {}\necho '{{\"accessToken\":\"{token}\",\"expiresOn\":\"2030-01-01 00:00:00.000000\",\"expires_on\":{expires},\"tenant\":\"{TENANT_B}\",\"tokenType\":\"Bearer\"}}'\n", args_file.display())).unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let client = ArmClient::new(
        stub.cloud(),
        galleon_azure::ClientOptions {
            az_program: az.clone(),
            ..fast_options()
        },
    )
    .unwrap();
    client
        .configure_credentials(&[CredentialSpec {
            tenant_id: b(),
            client_id: String::new(),
            source: CredentialSource::AzureCli,
        }])
        .unwrap();
    client.get(&b(), &rg_path()).await.unwrap();
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert_eq!(
        args.trim(),
        format!(
            "account get-access-token -o json --scope https://management.core.windows.net/.default --tenant {TENANT_B}"
        )
    );
    assert!(stub.token_requests().is_empty());
    assert_eq!(
        stub.arm_seen()[0].header("authorization").unwrap(),
        format!("Bearer {token}")
    );

    std::fs::write(
        &az,
        "#!/bin/sh\necho 'ERROR: Please run az login to setup account.' >&2\nexit 1\n",
    )
    .unwrap();
    let client = ArmClient::new(
        stub.cloud(),
        galleon_azure::ClientOptions {
            az_program: az,
            ..fast_options()
        },
    )
    .unwrap();
    client
        .configure_credentials(&[CredentialSpec {
            tenant_id: b(),
            client_id: String::new(),
            source: CredentialSource::AzureCli,
        }])
        .unwrap();
    let err = client.get(&b(), &rg_path()).await.unwrap_err();
    assert!(err.to_string().contains("Please run az login"), "{err}");
    assert!(err.hint().unwrap().contains("az login"));
}

#[tokio::test]
async fn managed_identity_is_refused_for_a_cross_tenant_workspace() {
    let client = ArmClient::new(Cloud::AzureCloud, fast_options()).unwrap();
    let err = client
        .configure_credentials(&[
            crate::secret_spec(TENANT_A),
            CredentialSpec {
                tenant_id: b(),
                client_id: APP.into(),
                source: CredentialSource::ManagedIdentity,
            },
        ])
        .unwrap_err();
    let err = AzureError::from(err);
    assert!(
        err.to_string()
            .contains("managed identity cannot be used across tenants"),
        "{err}"
    );
    assert!(
        err.hint()
            .unwrap()
            .contains("no cross-tenant managed identity")
    );
}

#[tokio::test]
async fn cloud_discovery_reads_the_metadata_endpoint() {
    let stub = Stub::start(|s| {
        (s.path == "/metadata/endpoints").then(|| {
            assert_eq!(s.query, "api-version=2022-09-01");
            Reply::json(200, json!({"name": "Stubby", "resourceManager": "https://127.0.0.1/", "authentication": {"loginEndpoint": "https://127.0.0.1:1", "audiences": ["https://management.core.windows.net/"]}, "suffixes": {}}))
        })
    })
    .await;
    let cloud = Cloud::discover(&stub.endpoint, Some(&stub.ca_pem))
        .await
        .unwrap();
    assert_eq!(cloud.name(), "Stubby");
    assert_eq!(cloud.authority_host().as_str(), "https://127.0.0.1:1/");
    assert_eq!(cloud.arm_endpoint(), stub.endpoint);
    // Without the extra CA the self-signed endpoint is not trusted.
    assert!(Cloud::discover(&stub.endpoint, None).await.is_err());
}

#[tokio::test]
async fn an_unavailable_token_endpoint_is_retried() {
    let failures = Arc::new(AtomicUsize::new(0));
    let f = failures.clone();
    let stub = Stub::start(move |s| {
        if s.is_token_request() && f.fetch_add(1, Ordering::SeqCst) < 2 {
            return Some(Reply::json(503, json!({"error": "temporarily_unavailable", "error_description": "AADSTS50196: try later"})));
        }
        ok_rg(s)
    })
    .await;
    let client = stub_client(&stub);
    client.get(&b(), &rg_path()).await.unwrap();
    assert_eq!(stub.token_requests().len(), 3);
}

#[tokio::test]
async fn discovery_refuses_plain_http() {
    let err = Cloud::discover(&url::Url::parse("http://127.0.0.1:1/").unwrap(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AzureError::Config(ref m) if m.contains("https")),
        "{err:?}"
    );
}

#[tokio::test]
async fn cloud_discovery_rides_out_a_throttled_or_failing_endpoint() {
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let stub = Stub::start(move |s| {
        (s.path == "/metadata/endpoints").then(|| match n.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::json(429, json!({"error": {"code": "TooManyRequests", "message": "slow down"}})).header("retry-after", "0"),
            1 => Reply::json(503, json!({"error": {"code": "ServiceUnavailable", "message": "x"}})),
            _ => Reply::json(200, json!({"name": "Stubby", "authentication": {"loginEndpoint": "https://127.0.0.1:1", "audiences": ["https://management.core.windows.net/"]}, "suffixes": {}})),
        })
    })
    .await;
    let cloud = Cloud::discover(&stub.endpoint, Some(&stub.ca_pem))
        .await
        .unwrap();
    assert_eq!(cloud.name(), "Stubby");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
