//! The seed file: the world the emulator starts with (tenants, apps, service principals,
//! subscriptions, role assignments, pre-existing resources) and its tunables.
//!
//! It exists as plain serde types so that tests can build a seed in code and the CLI can read
//! one from YAML; `state` turns it into the live store. The format is documented with a complete
//! example in the crate README.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// A seed that cannot become a state.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The YAML is not a valid seed.
    #[error("invalid seed YAML")]
    Yaml(#[source] serde_saphyr::Error),
    /// Something names a tenant that is not declared.
    #[error("{what} names unknown tenant '{tenant}'")]
    UnknownTenant {
        /// What referred to it.
        what: String,
        /// The tenant reference.
        tenant: String,
    },
    /// A role assignment names a role the emulator does not know.
    #[error("role assignment at '{scope}' names unknown role '{role}'")]
    UnknownRole {
        /// Scope of the assignment.
        scope: String,
        /// The role reference.
        role: String,
    },
    /// A role assignment names an app with no service principal in the scope's tenant.
    #[error(
        "role assignment at '{scope}' names app '{app_id}' which has no service principal in tenant '{tenant}'"
    )]
    UnknownPrincipal {
        /// Scope of the assignment.
        scope: String,
        /// The app.
        app_id: String,
        /// The tenant.
        tenant: String,
    },
    /// A resource id that is not an ARM resource id.
    #[error("'{0}' is not an ARM resource id")]
    BadResourceId(String),
}

impl Seed {
    /// Builds the initial state. Every app gets a service principal in its home tenant (as the
    /// portal's app registration does); other tenants need an explicit `service_principals`
    /// entry (consent).
    ///
    /// # Errors
    /// Dangling references (tenant, role, principal) or malformed resource ids.
    pub fn build(&self, now: time::OffsetDateTime) -> Result<crate::state::State, SeedError> {
        use crate::state::{App, State, Subscription, Tenant};
        let mut state = State {
            settings: self.settings.clone(),
            ..State::default()
        };
        for t in &self.tenants {
            state.tenants.push(Tenant {
                id: t.id.to_ascii_lowercase(),
                display_name: t.display_name.clone().unwrap_or_else(|| t.id.clone()),
                domain: t.domain.clone(),
            });
        }
        let tenant_id = |state: &State, what: &str, t: &str| {
            state
                .tenant(t)
                .map(|t| t.id.clone())
                .ok_or_else(|| SeedError::UnknownTenant {
                    what: what.to_owned(),
                    tenant: t.to_owned(),
                })
        };
        for sp in &self.service_principals {
            let tid = tenant_id(
                &state,
                &format!("service principal of {}", sp.app_id),
                &sp.tenant,
            )?;
            state.ensure_service_principal(&sp.app_id, &tid, sp.object_id.as_deref());
        }
        for a in &self.apps {
            let home = tenant_id(&state, &format!("app {}", a.app_id), &a.home_tenant)?;
            state.apps.push(App {
                app_id: a.app_id.to_ascii_lowercase(),
                home_tenant: home.clone(),
                display_name: a.display_name.clone().unwrap_or_else(|| a.app_id.clone()),
                secrets: a.secrets.clone(),
                federated_credentials: a.federated_credentials.clone(),
            });
            state.ensure_service_principal(&a.app_id, &home, None);
        }
        for s in &self.subscriptions {
            let tid = tenant_id(&state, &format!("subscription {}", s.id), &s.tenant)?;
            state.subscriptions.push(Subscription {
                id: s.id.to_ascii_lowercase(),
                tenant: tid,
                display_name: s.display_name.clone().unwrap_or_else(|| s.id.clone()),
                quotas: s.quotas.clone(),
            });
        }
        for r in &self.resources {
            state.insert_resource(resource_from_seed(r, now)?);
        }
        for ra in &self.role_assignments {
            let role =
                crate::arm::rbac::find_role(&ra.role).ok_or_else(|| SeedError::UnknownRole {
                    scope: ra.scope.clone(),
                    role: ra.role.clone(),
                })?;
            let object_id = match &ra.principal {
                SeedPrincipal::ObjectId { object_id } => object_id.to_ascii_lowercase(),
                SeedPrincipal::App { app_id, tenant } => {
                    let tid =
                        tenant_id(&state, &format!("role assignment at {}", ra.scope), tenant)?;
                    state
                        .service_principal(app_id, &tid)
                        .map(|sp| sp.object_id.clone())
                        .ok_or_else(|| SeedError::UnknownPrincipal {
                            scope: ra.scope.clone(),
                            app_id: app_id.clone(),
                            tenant: tid.clone(),
                        })?
                }
            };
            let name = ra.name.clone().unwrap_or_else(|| {
                crate::state::derived_guid(&["ra", &ra.scope, role.id, &object_id])
            });
            state.insert_resource(crate::providers::authorization::assignment(
                &ra.scope,
                &name,
                role.id,
                &object_id,
                "ServicePrincipal",
                None,
                now,
            ));
        }
        Ok(state)
    }
}

/// Builds a stored resource from a seed (or admin) resource description.
///
/// # Errors
/// The id is not an ARM resource id.
pub fn resource_from_seed(
    r: &SeedResource,
    now: time::OffsetDateTime,
) -> Result<crate::state::Resource, SeedError> {
    let resource_type =
        crate::arm::ids::type_of(&r.id).ok_or_else(|| SeedError::BadResourceId(r.id.clone()))?;
    let name =
        r.id.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
    let mut body = serde_json::Map::new();
    body.insert("id".into(), r.id.clone().into());
    body.insert("name".into(), name.into());
    body.insert("type".into(), resource_type.clone().into());
    if let Some(loc) = &r.location {
        let loc = crate::providers::generic::normalize_location(loc);
        body.insert("location".into(), loc.into());
    }
    if let Some(tags) = &r.tags {
        body.insert(
            "tags".into(),
            serde_json::to_value(tags).unwrap_or_default(),
        );
    }
    for (k, v) in &r.extra {
        body.insert(k.clone(), v.clone());
    }
    let mut props = r
        .properties
        .clone()
        .unwrap_or_else(|| serde_json::json!({}));
    if let Some(p) = props.as_object_mut() {
        p.entry("provisioningState")
            .or_insert_with(|| "Succeeded".into());
    }
    body.insert("properties".into(), props);
    Ok(crate::state::Resource {
        id: r.id.clone(),
        resource_type,
        body: Value::Object(body),
        internal: Value::Null,
        created: now,
        updated: now,
    })
}
