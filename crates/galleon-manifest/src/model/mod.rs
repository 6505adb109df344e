//! The manifest as written: one [`ManifestFile`] per YAML file, all spans kept.
//!
//! This is the raw layer. Defaults are not applied and references are not followed here; that is
//! the job of [`crate::resolve`], so that the JSON Schema describes exactly what users type.

mod auth;
mod compute;
mod keyed;
mod network;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub use auth::{Auth, SecretSource, SshKey, Tenant, TokenFile};
pub use compute::*;
pub use keyed::KeyedMap;
pub use network::*;

use crate::span::Sp;

/// What the schema says a GUID looks like (validation says it again, with a position).
pub(crate) const GUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// Azure tags (name to value).
pub type Tags = BTreeMap<String, String>;

/// One YAML file of a workspace. Sections of several files are merged.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "galleon workspace manifest")]
pub struct ManifestFile {
    /// Workspace name (default: the directory name); in one file only.
    pub workspace: Option<Sp<String>>,
    /// Entra ID tenants and how to sign in to them.
    #[serde(default)]
    pub tenants: KeyedMap<Tenant>,
    /// Resource groups.
    #[serde(default)]
    pub resource_groups: KeyedMap<ResourceGroup>,
    /// Compute galleries with their image definitions and versions.
    #[serde(default)]
    pub galleries: KeyedMap<Gallery>,
    /// Virtual networks.
    #[serde(default)]
    pub networks: KeyedMap<Network>,
    /// Network security groups.
    #[serde(default)]
    pub network_security_groups: KeyedMap<NetworkSecurityGroup>,
    /// Public IP addresses.
    #[serde(default)]
    pub public_ips: KeyedMap<PublicIp>,
    /// Network interfaces.
    #[serde(default)]
    pub network_interfaces: KeyedMap<NetworkInterface>,
    /// Virtual machines.
    #[serde(default)]
    pub virtual_machines: KeyedMap<VirtualMachine>,
    /// Where `apply` takes its lock (a blob lease).
    pub lock: Option<Sp<Lock>>,
}

/// A resource group.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroup {
    /// Key of the tenant it lives in.
    pub tenant: Sp<String>,
    /// Subscription id (GUID).
    #[schemars(pattern(crate::model::GUID_PATTERN))]
    pub subscription: Sp<String>,
    /// Azure name (default: the key).
    pub name: Option<Sp<String>>,
    /// Azure region, e.g. `westeurope`.
    pub location: Sp<String>,
    /// Azure tags.
    pub tags: Option<Tags>,
}

/// The apply lock: a blob lease in a storage account galleon does not manage.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Key of the tenant holding the storage account.
    pub tenant: Sp<String>,
    /// Storage account name.
    pub storage_account: Sp<String>,
    /// Blob container (default `galleon-locks`).
    pub container: Option<Sp<String>>,
    /// Subscription id (GUID) of the storage account.
    #[schemars(pattern(crate::model::GUID_PATTERN))]
    pub subscription: Sp<String>,
    /// Azure name of the storage account's resource group.
    pub resource_group: Sp<String>,
}
