//! galleon's Azure client: clouds, credentials, token cache, ARM REST, long-running operations,
//! retries, rate limits and the blob-lease apply lock.
//!
//! Entry point: [`ArmClient::new`] for a [`Cloud`], then [`ArmClient::configure_credentials`]
//! with one [`CredentialSpec`] per tenant. Every request goes through one HTTP core that
//! enforces the rules galleon promises: tokens only to the cloud's own hosts, the auxiliary
//! header only on writes that reference other tenants, `Retry-After` obeyed, secrets never
//! printed (see [`Secret`]).

pub mod api_version;
mod arm;
mod blob;
mod cloud;
mod credential;
mod entra;
mod error;
mod graph;
pub mod hints;
mod http;
mod ids;
mod limiter;
pub mod lro;
mod request;
pub mod retry;
mod secret;
mod token;

pub use arm::ArmClient;
pub use blob::{BlobLock, LEASE_SECONDS, Lease, STORAGE_VERSION};
pub use cloud::{Cloud, CustomCloud, STORAGE_SCOPE};
pub use credential::{
    CredentialError, CredentialSource, CredentialSpec, FEDERATED_REREAD, SecretSource,
};
pub use error::{
    ArmError, ArmErrorBody, AssertionClaims, AzureError, EntraError, Principal, redact_url,
};
pub use graph::{GraphQuery, GraphResult, MAX_PAGE};
pub use http::{
    AUX_HEADER, AllowedHosts, MAX_AUX_TENANTS, USER_AGENT, aux_header_value, build_client,
};
pub use ids::{TenantId, resource_type_of, subscription_of};
pub use limiter::{Bucket, LimiterConfig, OpKind, Permit, RateLimiter};
pub use request::{ArmRequest, ArmResponse, ClientOptions, LroConfig};
pub use retry::RetryConfig;
pub use secret::Secret;
pub use token::{
    AccessToken, REFRESH_MARGIN, TokenCache, TokenClaims, decode_claims, principal_of,
};

/// Re-exported so callers can build [`ArmRequest`]s without depending on reqwest.
pub use reqwest::Method;
