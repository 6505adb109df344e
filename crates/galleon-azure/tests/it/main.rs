//! Integration tests of galleon's Azure client over real HTTPS: against a programmable stub
//! (exact corner cases) and against galleon's emulator (realistic Azure behaviour).

mod auth;
mod blob;
mod emulator;
mod lro;
mod requests;
mod retries;
mod secrets;
mod stub;

use std::time::Duration;

use galleon_azure::{
    ArmClient, ClientOptions, CredentialSource, CredentialSpec, LimiterConfig, LroConfig,
    RetryConfig, Secret, SecretSource, TenantId,
};

pub const TENANT_A: &str = "11111111-1111-4111-8111-111111111111";
pub const TENANT_B: &str = "22222222-2222-4222-8222-222222222222";
pub const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
pub const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
pub const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
/// A client secret that must never appear in any output.
pub const CANARY: &str = "canary-Cl1entS3cret-do-not-print";

pub fn a() -> TenantId {
    TenantId::new(TENANT_A)
}
pub fn b() -> TenantId {
    TenantId::new(TENANT_B)
}

/// Fast options for tests: short backoff and polling, generous limits.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        retry: RetryConfig {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            total_cap: Duration::from_secs(20),
            max_attempts: 5,
        },
        limiter: LimiterConfig::default(),
        request_timeout: Duration::from_secs(10),
        lro: LroConfig {
            default_interval: Duration::from_millis(50),
            min_interval: Duration::from_millis(20),
            max_wait: Duration::from_secs(20),
        },
        ..ClientOptions::default()
    }
}

pub fn secret_spec(tenant: &str) -> CredentialSpec {
    CredentialSpec {
        tenant_id: TenantId::new(tenant),
        client_id: APP.into(),
        source: CredentialSource::ClientSecret(SecretSource::Value(Secret::new(CANARY))),
    }
}

/// A client for the stub with client-secret credentials for both tenants.
pub fn stub_client(stub: &stub::Stub) -> ArmClient {
    let client = ArmClient::new(stub.cloud(), fast_options()).unwrap();
    client
        .configure_credentials(&[secret_spec(TENANT_A), secret_spec(TENANT_B)])
        .unwrap();
    client
}
