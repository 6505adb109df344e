//! The seed file: the world the emulator starts with (tenants, apps, service principals,
//! subscriptions, role assignments, pre-existing resources) and its tunables.
//!
//! It exists as plain serde types so that tests can build a seed in code and the CLI can read
//! one from YAML; `state` turns it into the live store. The format is documented with a complete
//! example in the crate README.

mod build;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use build::{SeedError, resource_from_seed};

/// Everything the emulator knows at start-up.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Entra ID tenants (directories).
    #[serde(default)]
    pub tenants: Vec<SeedTenant>,
    /// App registrations, each living in a home tenant.
    #[serde(default)]
    pub apps: Vec<SeedApp>,
    /// Service principals (enterprise apps): an app may only get tokens in tenants where it has one.
    #[serde(default)]
    pub service_principals: Vec<SeedServicePrincipal>,
    /// Subscriptions, each trusting exactly one tenant.
    #[serde(default)]
    pub subscriptions: Vec<SeedSubscription>,
    /// RBAC role assignments present from the start.
    #[serde(default)]
    pub role_assignments: Vec<SeedRoleAssignment>,
    /// Pre-existing ARM resources (resource groups, managed images, storage accounts...).
    #[serde(default)]
    pub resources: Vec<SeedResource>,
    /// Tunables: token lifetime, LRO durations, paging, throttling, faults.
    #[serde(default)]
    pub settings: Settings,
}

/// An Entra ID tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedTenant {
    /// Tenant id (GUID).
    pub id: String,
    /// Display name, used in AADSTS messages such as 700016.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Verified domain, e.g. `contoso.onmicrosoft.com`; accepted wherever a tenant id is.
    #[serde(default)]
    pub domain: Option<String>,
}

/// An app registration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedApp {
    /// Application (client) id.
    pub app_id: String,
    /// The tenant the app is registered in.
    pub home_tenant: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Client secrets. The emulator is the only place a secret literal may live.
    #[serde(default)]
    pub secrets: Vec<SeedSecret>,
    /// Federated identity credentials (workload identity).
    #[serde(default)]
    pub federated_credentials: Vec<SeedFederatedCredential>,
}

/// A client secret of an app.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedSecret {
    /// The secret value.
    pub value: String,
    /// An expired secret answers AADSTS7000222.
    #[serde(default)]
    pub expired: bool,
}

impl std::fmt::Debug for SeedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedSecret")
            .field("value", &"***")
            .field("expired", &self.expired)
            .finish()
    }
}

/// A federated identity credential: trust tokens with this issuer/subject/audience.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedFederatedCredential {
    /// Name of the credential (informational).
    #[serde(default)]
    pub name: Option<String>,
    /// Expected `iss` of the assertion.
    pub issuer: String,
    /// Expected `sub` of the assertion (exact, case-sensitive as in Entra since 2025).
    pub subject: String,
    /// Accepted `aud` values; defaults to `api://AzureADTokenExchange`.
    #[serde(default = "default_fic_audiences")]
    pub audiences: Vec<String>,
}

fn default_fic_audiences() -> Vec<String> {
    vec!["api://AzureADTokenExchange".to_owned()]
}

/// A service principal: the app's presence (consent) in a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedServicePrincipal {
    /// The app this principal represents.
    pub app_id: String,
    /// Tenant the principal lives in.
    pub tenant: String,
    /// Object id; derived deterministically from app and tenant when absent.
    #[serde(default)]
    pub object_id: Option<String>,
}

/// A subscription.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedSubscription {
    /// Subscription id (GUID).
    pub id: String,
    /// Tenant that owns the subscription.
    pub tenant: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Quotas, e.g. `cores: {westeurope: 20}` (region keys lower-case).
    #[serde(default)]
    pub quotas: BTreeMap<String, BTreeMap<String, u64>>,
}

/// A principal reference in the seed: by app and tenant, or by object id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SeedPrincipal {
    /// The service principal of `app_id` in `tenant`.
    App {
        /// Application id.
        app_id: String,
        /// Tenant of the service principal.
        tenant: String,
    },
    /// A principal object id (user, group or SP).
    ObjectId {
        /// Object id.
        object_id: String,
    },
}

/// A role assignment in the seed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedRoleAssignment {
    /// Who gets the role.
    pub principal: SeedPrincipal,
    /// Built-in role name (`Reader`) or role definition GUID.
    pub role: String,
    /// Scope: `/subscriptions/{s}[/resourceGroups/{rg}[/providers/...]]`.
    pub scope: String,
    /// Assignment name (GUID); derived from principal, role and scope when absent.
    #[serde(default)]
    pub name: Option<String>,
}

/// A pre-existing ARM resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedResource {
    /// Full ARM id; the type is derived from it.
    pub id: String,
    /// Location (region).
    #[serde(default)]
    pub location: Option<String>,
    /// Resource properties as Azure returns them (provisioningState defaults to Succeeded).
    #[serde(default)]
    pub properties: Option<Value>,
    /// Tags.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    /// Other top-level fields (`sku`, `kind`, `identity`...).
    #[serde(default)]
    pub extra: BTreeMap<String, Value>,
}

/// Tunables.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Access-token lifetime in seconds (`expires_in`).
    pub token_lifetime_secs: u64,
    /// Default LRO duration in milliseconds.
    pub lro_default_ms: u64,
    /// LRO duration per resource type (`Microsoft.Compute/virtualMachines`), milliseconds.
    pub lro_ms: BTreeMap<String, u64>,
    /// `Retry-After` seconds sent with LRO responses.
    pub retry_after_secs: u64,
    /// Page size of ARM list operations (small so that paging is exercised).
    pub page_size: usize,
    /// Per subscription+principal token buckets.
    pub throttling: Throttling,
    /// Injected faults.
    pub faults: Faults,
    /// Audiences `GET /metadata/endpoints` advertises instead of ARM's own (empty: ARM's). Plays
    /// a cloud description that does not match the ARM it names, so a client requests tokens
    /// ARM refuses with `InvalidAuthenticationTokenAudience`.
    pub metadata_audiences: Vec<String>,
    /// Tenants (ids or domains) whose tokens Entra signs with another cloud's key, as when a
    /// client signs in at a sovereign cloud's authority and calls this cloud's ARM: ARM cannot
    /// verify them and answers `InvalidAuthenticationToken` "The access token is invalid."
    pub other_cloud_tenants: Vec<String>,
    /// Entra before March 2026: an app without a service principal in a tenant still gets a
    /// token there, with no object id (entra.md §5, deprecate-service-principal-less-
    /// authentication.md); ARM refuses it for its missing `oid` claim. Off: AADSTS700016.
    pub service_principal_less_tokens: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_lifetime_secs: 3599,
            lro_default_ms: 50,
            lro_ms: BTreeMap::new(),
            retry_after_secs: 0,
            page_size: 100,
            throttling: Throttling::default(),
            faults: Faults::default(),
            metadata_audiences: Vec::new(),
            other_cloud_tenants: Vec::new(),
            service_principal_less_tokens: false,
        }
    }
}

/// Token-bucket sizes; defaults are ARM's 2024 regional limits (arm-protocol.md §1.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Throttling {
    /// Switch throttling off entirely (headers are still sent).
    pub enabled: bool,
    /// Read bucket.
    pub reads: Bucket,
    /// Write bucket (PUT, PATCH, POST).
    pub writes: Bucket,
    /// Delete bucket.
    pub deletes: Bucket,
}

impl Default for Throttling {
    fn default() -> Self {
        Self {
            enabled: true,
            reads: Bucket {
                capacity: 250,
                refill_per_sec: 25.0,
            },
            writes: Bucket {
                capacity: 200,
                refill_per_sec: 10.0,
            },
            deletes: Bucket {
                capacity: 200,
                refill_per_sec: 10.0,
            },
        }
    }
}

/// One token bucket.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Tokens when full.
    pub capacity: u32,
    /// Tokens added per second.
    pub refill_per_sec: f64,
}

/// Injected faults, drawn per request from a seeded generator so runs are reproducible.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Seed of the fault generator.
    pub seed: u64,
    /// Probability (0..1) of a 429 `TooManyRequests` unrelated to the buckets.
    pub throttle_rate: f64,
    /// Probability of a 500 `InternalServerError`.
    pub error_500_rate: f64,
    /// Probability of a 503 `ServiceUnavailable`.
    pub error_503_rate: f64,
    /// Probability of dropping the connection without an answer.
    pub drop_rate: f64,
    /// Probability that a started LRO ends `Failed`.
    pub lro_failure_rate: f64,
    /// Latency added to each request, milliseconds.
    pub latency_ms: u64,
    /// Only requests whose path contains this (case-insensitive) are affected; all when absent.
    pub path_contains: Option<String>,
    /// Only requests with this method are affected; all when absent.
    pub method: Option<String>,
    /// What a proxy between the client and ARM does to the `Authorization` header of every
    /// affected request (deterministic, not drawn); ARM's own token checks then answer.
    pub authorization: Option<AuthorizationFault>,
}

/// A proxy's damage to the `Authorization` header (arm-errors.md §3, §8 rows 1-2).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationFault {
    /// The header is removed (a proxy that drops credentials it does not own).
    Strip,
    /// The bearer scheme is replaced (`Negotiate <token>`), as a proxy doing integrated
    /// authentication writes its own scheme over the client's.
    NotBearer,
}

impl Seed {
    /// Parses a YAML seed.
    ///
    /// # Errors
    /// The YAML does not match the seed format.
    pub fn from_yaml(text: &str) -> Result<Self, SeedError> {
        serde_saphyr::from_str(text).map_err(SeedError::Yaml)
    }
}
