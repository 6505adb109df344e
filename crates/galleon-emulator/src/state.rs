//! The emulator's world: directory objects, subscriptions, ARM resource documents and running
//! operations, in one serialisable struct kept behind a lock.
//!
//! Everything lives in one value so that persistence is a single JSON write after each mutation
//! (the state survives restarts with `--state-dir`), and so that handlers run synchronously on
//! `&mut State` without lock juggling. Resource documents are generic JSON keyed by lower-cased
//! id (ARM ids are case-insensitive) so that one store serves every provider.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::arm::lro::Operation;
use crate::seed::{SeedFederatedCredential, SeedSecret, Settings};

/// A tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    /// Tenant id (GUID, lower-case).
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Verified domain.
    pub domain: Option<String>,
}

/// An app registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    /// Application (client) id.
    pub app_id: String,
    /// Home tenant id.
    pub home_tenant: String,
    /// Display name.
    pub display_name: String,
    /// Client secrets (the emulator is the only place these literals live).
    pub secrets: Vec<SeedSecret>,
    /// Federated identity credentials.
    pub federated_credentials: Vec<SeedFederatedCredential>,
}

/// A service principal: an app's identity inside one tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServicePrincipal {
    /// Application id.
    pub app_id: String,
    /// Tenant id.
    pub tenant: String,
    /// Object id (differs per tenant, as in Entra).
    pub object_id: String,
}

/// A subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    /// Subscription id (lower-case GUID).
    pub id: String,
    /// Owning tenant id.
    pub tenant: String,
    /// Display name.
    pub display_name: String,
    /// Quotas by name then lower-case region (`cores` -> `westeurope` -> 20).
    pub quotas: BTreeMap<String, BTreeMap<String, u64>>,
}

/// A stored ARM resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    /// The id as first written (casing preserved, as ARM does).
    pub id: String,
    /// Fully-qualified type, e.g. `Microsoft.Compute/galleries/images`.
    pub resource_type: String,
    /// The JSON document GET returns (id, name, type, location, tags, properties...).
    pub body: Value,
    /// Provider-private data never shown to clients (e.g. replication start times).
    #[serde(default)]
    pub internal: Value,
    /// When the resource was first created.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// Last write.
    #[serde(with = "time::serde::rfc3339")]
    pub updated: OffsetDateTime,
}

impl Resource {
    /// `properties` of the body (an empty object when absent).
    pub fn properties(&self) -> &Value {
        self.body.get("properties").unwrap_or(&Value::Null)
    }

    /// Mutable `properties`, created when absent.
    pub fn properties_mut(&mut self) -> &mut Map<String, Value> {
        let body = ensure_object(&mut self.body);
        ensure_object(
            body.entry("properties")
                .or_insert_with(|| Value::Object(Map::new())),
        )
    }

    /// `location`, if any.
    pub fn location(&self) -> Option<&str> {
        self.body.get("location").and_then(Value::as_str)
    }

    /// `properties.provisioningState`, if any.
    pub fn provisioning_state(&self) -> Option<&str> {
        self.properties()
            .get("provisioningState")
            .and_then(Value::as_str)
    }

    /// Sets `properties.provisioningState`.
    pub fn set_provisioning_state(&mut self, state: &str) {
        self.properties_mut()
            .insert("provisioningState".into(), state.into());
    }
}

/// Turns a value into an object (replacing non-objects) and returns it.
pub fn ensure_object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("just made an object"),
    }
}

/// The whole world.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Tenants.
    pub tenants: Vec<Tenant>,
    /// App registrations.
    pub apps: Vec<App>,
    /// Service principals.
    pub service_principals: Vec<ServicePrincipal>,
    /// Subscriptions.
    pub subscriptions: Vec<Subscription>,
    /// ARM resources (incl. role assignments) keyed by lower-cased id. A persistent map: every
    /// write snapshots it for rollback (`arm::dispatch`), which must cost O(1), not a copy of a
    /// 10,000-resource world per request.
    pub resources: OrdMap<String, Resource>,
    /// Long-running operations keyed by operation id (persistent for the same reason).
    pub operations: OrdMap<String, Operation>,
    /// Provider-owned state that is not an ARM resource (e.g. blob containers), by provider name.
    pub extensions: BTreeMap<String, Value>,
    /// Tunables (from the seed, changed at run time through the admin API).
    pub settings: Settings,
    /// Seconds added to the wall clock (`POST /_emulator/clock/advance`).
    pub clock_offset_secs: i64,
}

impl State {
    /// The emulator's current time: wall clock plus the admin offset.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.clock_offset_secs)
    }

    /// Resolves a tenant by GUID or domain name, case-insensitively.
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| {
            t.id.eq_ignore_ascii_case(id_or_domain)
                || t.domain
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(id_or_domain))
        })
    }

    /// An app registration by application id.
    pub fn app(&self, app_id: &str) -> Option<&App> {
        self.apps
            .iter()
            .find(|a| a.app_id.eq_ignore_ascii_case(app_id))
    }

    /// The service principal of an app in a tenant.
    pub fn service_principal(&self, app_id: &str, tenant: &str) -> Option<&ServicePrincipal> {
        self.service_principals.iter().find(|sp| {
            sp.app_id.eq_ignore_ascii_case(app_id) && sp.tenant.eq_ignore_ascii_case(tenant)
        })
    }

    /// Adds the service principal of an app in a tenant (consent) unless present; returns it.
    pub fn ensure_service_principal(
        &mut self,
        app_id: &str,
        tenant: &str,
        object_id: Option<&str>,
    ) -> ServicePrincipal {
        if let Some(sp) = self.service_principal(app_id, tenant) {
            return sp.clone();
        }
        let sp = ServicePrincipal {
            app_id: app_id.to_ascii_lowercase(),
            tenant: tenant.to_ascii_lowercase(),
            object_id: object_id
                .map(str::to_ascii_lowercase)
                .unwrap_or_else(|| derived_guid(&["sp", app_id, tenant])),
        };
        self.service_principals.push(sp.clone());
        sp
    }

    /// A subscription by id.
    pub fn subscription(&self, id: &str) -> Option<&Subscription> {
        self.subscriptions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
    }

    /// A resource by id (case-insensitive).
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.get(&id.to_ascii_lowercase())
    }

    /// A mutable resource by id (case-insensitive).
    pub fn resource_mut(&mut self, id: &str) -> Option<&mut Resource> {
        self.resources.get_mut(&id.to_ascii_lowercase())
    }

    /// Stores a resource under its id.
    pub fn insert_resource(&mut self, resource: Resource) {
        self.resources
            .insert(resource.id.to_ascii_lowercase(), resource);
    }

    /// Removes a resource and everything nested below it (children, extension resources such as
    /// role assignments at its scope); returns how many documents went.
    pub fn remove_tree(&mut self, id: &str) -> usize {
        let key = id.to_ascii_lowercase();
        let doomed: Vec<String> = self
            .with_prefix(&key)
            .filter(|(k, _)| is_under(k, &key))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &doomed {
            self.resources.remove(k);
        }
        doomed.len()
    }

    /// Resources whose key starts with lower-cased `prefix` (a superset of those under it:
    /// `…/vm1` also finds `…/vm10`), found through the ordered map instead of a scan of the
    /// whole world.
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &str,
    ) -> impl Iterator<Item = (&'a String, &'a Resource)> + use<'a> {
        let owned = prefix.to_owned();
        self.resources
            .range::<_, str>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(&owned))
    }

    /// Resources whose id starts with `scope` (segment-wise) and whose type equals
    /// `resource_type` (case-insensitive), in id order.
    pub fn resources_of_type<'a>(
        &'a self,
        scope: &str,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Resource> + 'a {
        let scope = scope.trim_end_matches('/').to_ascii_lowercase();
        self.with_prefix(&scope).filter_map(move |(k, r)| {
            (r.resource_type.eq_ignore_ascii_case(resource_type) && is_under(k, &scope))
                .then_some(r)
        })
    }
}

/// Whether lower-cased `id` is `scope` or below it, on segment boundaries.
pub fn is_under(id: &str, scope: &str) -> bool {
    let scope = scope.trim_end_matches('/');
    scope.is_empty()
        || id == scope
        || (id.starts_with(scope) && id.as_bytes().get(scope.len()) == Some(&b'/'))
}

/// The stored form of a client secret: `sha256:<hex>`, so that neither memory dumps of the
/// state nor `state.json` hold the literal.
pub fn secret_digest(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A deterministic GUID from parts (UUIDv5), so seeds without explicit ids are reproducible.
pub fn derived_guid(parts: &[&str]) -> String {
    let joined = parts
        .iter()
        .map(|p| p.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("\n");
    Uuid::new_v5(&Uuid::NAMESPACE_URL, joined.as_bytes()).to_string()
}

/// Writes the state as JSON to `dir/state.json`, atomically (temp file + rename).
///
/// # Errors
/// The directory cannot be written.
pub fn persist(state: &State, dir: &Path) -> std::io::Result<()> {
    // Compact: the file is rewritten often and read only by the emulator.
    let json = serde_json::to_vec(state).map_err(std::io::Error::other)?;
    let tmp = dir.join("state.json.tmp");
    write_private(&tmp, &json)?;
    std::fs::rename(tmp, state_file(dir))
}

/// Reads `dir/state.json` when it exists.
///
/// # Errors
/// The file exists but cannot be read or parsed.
pub fn load(dir: &Path) -> std::io::Result<Option<State>> {
    let path = state_file(dir);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path)?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(std::io::Error::other)
}

/// Writes a file readable by its owner only (state, keys): other local users have no business
/// reading tokens' signing key or the emulator's directory.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.json")
}
