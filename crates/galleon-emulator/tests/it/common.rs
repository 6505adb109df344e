//! `TestContext`: starts an emulator in-process with a seed, trusts its CA, gets tokens and
//! calls ARM. `scenario()` is the two-tenant seed most tests start from.

#![allow(dead_code)]

use galleon_emulator::seed::{
    SeedApp, SeedPrincipal, SeedResource, SeedRoleAssignment, SeedSecret, SeedServicePrincipal,
    SeedSubscription, SeedTenant,
};
use galleon_emulator::{Emulator, EmulatorConfig, RunningEmulator, Seed};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

/// Publisher tenant (owns the gallery).
pub const TENANT_A: &str = "11111111-1111-4111-8111-111111111111";
/// Consumer tenant (builds VMs).
pub const TENANT_B: &str = "22222222-2222-4222-8222-222222222222";
/// The multi-tenant app, registered in A with a service principal in B.
pub const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
/// An app with no role anywhere, registered in B.
pub const LONELY_APP: &str = "0b0b0b0b-4444-4444-8444-444444444444";
/// The app's secret (test literal; the emulator is the only place it exists).
pub const SECRET: &str = "emulator-test-secret";
/// Subscription of tenant A.
pub const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
/// Subscription of tenant B.
pub const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
/// ARM scope as azure-identity sends it.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// The two-tenant scenario: APP is Contributor+User Access Administrator on SUB_A and
/// Contributor on SUB_B; LONELY_APP has no role.
pub fn scenario() -> Seed {
    Seed {
        tenants: vec![
            SeedTenant {
                id: TENANT_A.into(),
                display_name: Some("Publisher".into()),
                domain: Some("publisher.onmicrosoft.com".into()),
            },
            SeedTenant {
                id: TENANT_B.into(),
                display_name: Some("Consumer".into()),
                domain: Some("consumer.onmicrosoft.com".into()),
            },
        ],
        apps: vec![
            SeedApp {
                app_id: APP.into(),
                home_tenant: TENANT_A.into(),
                display_name: Some("galleon".into()),
                secrets: vec![
                    SeedSecret {
                        value: SECRET.into(),
                        expired: false,
                    },
                    SeedSecret {
                        value: "old-secret".into(),
                        expired: true,
                    },
                ],
                federated_credentials: Vec::new(),
            },
            SeedApp {
                app_id: LONELY_APP.into(),
                home_tenant: TENANT_B.into(),
                display_name: Some("lonely".into()),
                secrets: vec![SeedSecret {
                    value: SECRET.into(),
                    expired: false,
                }],
                federated_credentials: Vec::new(),
            },
        ],
        service_principals: vec![SeedServicePrincipal {
            app_id: APP.into(),
            tenant: TENANT_B.into(),
            object_id: None,
        }],
        subscriptions: vec![
            SeedSubscription {
                id: SUB_A.into(),
                tenant: TENANT_A.into(),
                display_name: Some("publisher".into()),
                quotas: Default::default(),
            },
            SeedSubscription {
                id: SUB_B.into(),
                tenant: TENANT_B.into(),
                display_name: Some("consumer".into()),
                quotas: Default::default(),
            },
        ],
        role_assignments: vec![
            grant(
                APP,
                TENANT_A,
                "Contributor",
                &format!("/subscriptions/{SUB_A}"),
            ),
            grant(
                APP,
                TENANT_A,
                "User Access Administrator",
                &format!("/subscriptions/{SUB_A}"),
            ),
            grant(
                APP,
                TENANT_B,
                "Contributor",
                &format!("/subscriptions/{SUB_B}"),
            ),
        ],
        resources: vec![SeedResource {
            id: format!("/subscriptions/{SUB_A}/resourceGroups/rg-image-build"),
            location: Some("westeurope".into()),
            properties: None,
            tags: None,
            extra: Default::default(),
        }],
        settings: Default::default(),
    }
}

/// A role assignment of the app's service principal in `tenant`.
pub fn grant(app: &str, tenant: &str, role: &str, scope: &str) -> SeedRoleAssignment {
    SeedRoleAssignment {
        principal: SeedPrincipal::App {
            app_id: app.into(),
            tenant: tenant.into(),
        },
        role: role.into(),
        scope: scope.into(),
        name: None,
    }
}

/// A started emulator plus an HTTPS client that trusts it.
pub struct TestContext {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
    pub dir: Option<tempfile::TempDir>,
}

/// A response, read completely.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// A header as a string ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// `error.code` of an ARM error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// `error.message` of an ARM error body.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

pub fn client(ca_pem: &str) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA parses");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .expect("client builds")
}

impl TestContext {
    /// Starts an in-memory emulator.
    pub async fn start(seed: Seed) -> Self {
        Self::start_config(
            EmulatorConfig {
                seed,
                ..EmulatorConfig::default()
            },
            None,
        )
        .await
    }

    /// Starts with a state dir (persistence tests).
    pub async fn start_in(seed: Seed, dir: tempfile::TempDir) -> Self {
        let config = EmulatorConfig {
            seed,
            state_dir: Some(dir.path().to_owned()),
            ..EmulatorConfig::default()
        };
        Self::start_config(config, Some(dir)).await
    }

    async fn start_config(config: EmulatorConfig, dir: Option<tempfile::TempDir>) -> Self {
        let emu = Emulator::start(config).await.expect("emulator starts");
        let http = client(emu.ca_pem());
        Self { emu, http, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.endpoint(), path)
    }

    /// Raw token request; returns the answer.
    pub async fn token_request(&self, tenant: &str, form: &[(&str, &str)]) -> Answer {
        let r = self
            .http
            .post(self.url(&format!("/{tenant}/oauth2/v2.0/token")))
            .form(form)
            .send()
            .await
            .expect("token request");
        read(r).await
    }

    /// A token for `app` in `tenant` (client secret), panicking on failure.
    pub async fn token_for(&self, app: &str, tenant: &str, scope: &str) -> String {
        let a = self
            .token_request(
                tenant,
                &[
                    ("client_id", app),
                    ("client_secret", SECRET),
                    ("grant_type", "client_credentials"),
                    ("scope", scope),
                    ("client_info", "1"),
                ],
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "token for {app} in {tenant}: {}",
            a.body
        );
        a.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// The ARM token of APP in tenant A / B.
    pub async fn token_a(&self) -> String {
        self.token_for(APP, TENANT_A, ARM_SCOPE).await
    }

    pub async fn token_b(&self) -> String {
        self.token_for(APP, TENANT_B, ARM_SCOPE).await
    }

    /// An ARM call with optional bearer token, extra headers and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            self.url(path)
        };
        let mut rb = self.http.request(method, url);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        read(rb.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), &[], None).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(token), &[], Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.call(Method::DELETE, path, Some(token), &[], None)
            .await
    }

    /// Admin API call.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.emu.admin()));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        read(rb.send().await.expect("admin request")).await
    }

    /// Polls a URL until it stops answering 202 / InProgress (bounded).
    pub async fn wait(&self, url: &str, token: &str) -> Answer {
        for _ in 0..200 {
            let a = self.get(url, token).await;
            let running = a.status == StatusCode::ACCEPTED
                || matches!(a.body["status"].as_str(), Some("InProgress" | "Running"));
            if !running {
                return a;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("operation at {url} never finished");
    }
}

pub async fn read(r: reqwest::Response) -> Answer {
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// `/subscriptions/{sub}/resourceGroups/{rg}`.
pub fn rg_path(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

/// The RG api-version az uses.
pub const RG_API: &str = "api-version=2024-11-01";
