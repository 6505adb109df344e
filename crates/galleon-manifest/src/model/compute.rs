//! Galleries, image definitions, image versions and virtual machines as written in YAML.
//!
//! Field docs become the JSON Schema descriptions editors show, so they describe the YAML, not
//! the Rust. Everything a rule checks is spanned; enum fields are closed so typos fail to parse.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{KeyedMap, Tags};
use crate::model::auth::SshKey;
use crate::span::Sp;

/// An Azure Compute Gallery (`Microsoft.Compute/galleries`), in its resource group's region.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gallery {
    /// Key of the resource group (under `resource_groups`).
    pub resource_group: Sp<String>,
    /// Azure name (default: the key). Letters, digits, `_` and `.`; no dashes.
    pub name: Option<Sp<String>>,
    /// Free-text description.
    pub description: Option<String>,
    /// Azure tags.
    pub tags: Option<Tags>,
    /// Who may read this gallery's images.
    pub sharing: Option<Sharing>,
    /// Image definitions, keyed by manifest name.
    #[serde(default)]
    pub images: KeyedMap<ImageDefinition>,
}

/// Access to a gallery from outside its tenant.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sharing {
    /// RBAC role assignments on the gallery.
    #[serde(default)]
    pub grants: Vec<Sp<Grant>>,
    /// Direct shared gallery: subscriptions and tenants it is shared with.
    pub direct: Option<DirectShare>,
}

/// One role assignment on a gallery: to a tenant's app (`app:`) or a principal (`principal_id:`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Key of a tenant whose app (its `auth.client_id`) receives the role.
    pub app: Option<Sp<String>>,
    /// Object id (GUID) of a principal that receives the role.
    #[schemars(pattern(crate::model::GUID_PATTERN))]
    pub principal_id: Option<Sp<String>>,
    /// `Reader` (default), `Compute Gallery Image Reader`, or a role definition GUID.
    pub role: Option<Sp<String>>,
}

/// Direct sharing of a gallery (`sharingProfile`).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectShare {
    /// Subscription ids (GUIDs).
    #[serde(default)]
    pub subscriptions: Vec<Sp<String>>,
    /// Tenant ids (GUIDs).
    #[serde(default)]
    pub tenants: Vec<Sp<String>>,
}

/// A gallery image definition (`galleries/images`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageDefinition {
    /// Azure name (default: the key).
    pub name: Option<Sp<String>>,
    /// Operating system family.
    pub os_type: Sp<OsType>,
    /// Whether VMs built from it are provisioned (Generalized) or booted as-is (Specialized).
    pub os_state: Sp<OsState>,
    /// Hyper-V generation (default V1, as in Azure).
    pub hyper_v_generation: Option<Sp<HyperVGeneration>>,
    /// Publisher, offer and SKU identifying the image.
    pub identifier: Sp<Identifier>,
    /// Security type the image supports (default Standard).
    pub security_type: Option<Sp<ImageSecurityType>>,
    /// CPU architecture (default x64).
    pub architecture: Option<Sp<Architecture>>,
    /// Free-text description.
    pub description: Option<String>,
    /// Azure tags.
    pub tags: Option<Tags>,
    /// Versions, keyed by `Major.Minor.Patch`.
    #[schemars(extend("propertyNames" = {"pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"}))]
    #[serde(default)]
    pub versions: KeyedMap<ImageVersion>,
}

/// Operating system family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum OsType {
    /// Linux.
    Linux,
    /// Windows.
    Windows,
}

/// Operating system state of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum OsState {
    /// Provisioned on first boot: needs admin user and key.
    Generalized,
    /// Booted as captured: must not set admin user or key.
    Specialized,
}

/// Hyper-V generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum HyperVGeneration {
    /// Generation 1 (BIOS).
    V1,
    /// Generation 2 (UEFI).
    V2,
}

/// Publisher / offer / SKU of an image definition.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identifier {
    /// Up to 128 of letters, digits, `.`, `_`, `-`; not ending in `.`.
    pub publisher: Sp<String>,
    /// Up to 64 of letters, digits, `.`, `_`, `-`; not ending in `.`.
    pub offer: Sp<String>,
    /// Up to 64 of letters, digits, `.`, `_`, `-`; not ending in `.`.
    pub sku: Sp<String>,
}

/// Security type an image definition declares (its `SecurityType` feature).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ImageSecurityType {
    /// No security features.
    Standard,
    /// Only Trusted Launch VMs.
    TrustedLaunch,
    /// Standard or Trusted Launch VMs.
    TrustedLaunchSupported,
    /// Standard, Trusted Launch or Confidential VMs.
    TrustedLaunchAndConfidentialVmSupported,
    /// Only Confidential VMs.
    #[serde(rename = "ConfidentialVM")]
    ConfidentialVm,
    /// Standard or Confidential VMs.
    #[serde(rename = "ConfidentialVMSupported")]
    ConfidentialVmSupported,
}

/// CPU architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Architecture {
    /// x86-64.
    #[serde(rename = "x64")]
    X64,
    /// 64-bit ARM.
    Arm64,
}

/// A gallery image version (`galleries/images/versions`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageVersion {
    /// ARM id of the source: a managed image, VM, disk, snapshot or another image version.
    #[schemars(required)]
    pub source: Option<Sp<String>>,
    /// Regions to replicate to; must include the gallery's region.
    #[serde(default)]
    pub target_regions: Vec<Sp<TargetRegion>>,
    /// Keep this version out of `latest` (default false).
    pub exclude_from_latest: Option<Sp<bool>>,
    /// End-of-life date (YYYY-MM-DD), informational.
    pub end_of_life: Option<Sp<String>>,
    /// Azure tags.
    pub tags: Option<Tags>,
}

/// One replication target.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRegion {
    /// Azure region name, e.g. `westeurope`.
    pub region: Sp<String>,
    /// Replica count (default 1).
    #[schemars(range(min = 1, max = 100))]
    pub replicas: Option<Sp<u32>>,
    /// Replica storage (default Standard_LRS).
    pub storage: Option<Sp<ReplicaStorage>>,
}

/// Storage account type of a replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[allow(non_camel_case_types)]
pub enum ReplicaStorage {
    /// Locally redundant HDD.
    Standard_LRS,
    /// Zone-redundant.
    Standard_ZRS,
    /// Premium SSD.
    Premium_LRS,
}

/// A virtual machine, or `count` identical ones.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VirtualMachine {
    /// Key of the resource group.
    pub resource_group: Sp<String>,
    /// Azure name (default: the key); with `count`, `<name>-<i>`.
    pub name: Option<Sp<String>>,
    /// Region (default: the resource group's).
    pub location: Option<Sp<String>>,
    /// Availability zone.
    pub zone: Option<Sp<String>>,
    /// VM size, e.g. `Standard_D2s_v5`.
    pub size: Sp<String>,
    /// Number of identical VMs (default 1).
    #[schemars(range(min = 1))]
    pub count: Option<Sp<u32>>,
    /// `<gallery>/<image>/<version>`, `<gallery>/<image>/latest`, or an ARM id starting with
    /// `/subscriptions/` for an image this workspace does not manage.
    pub image: Sp<String>,
    /// Tenant key owning a raw-ARM-id image (default: the VM's tenant).
    pub image_tenant: Option<Sp<String>>,
    /// Security type (default Standard).
    pub security_type: Option<Sp<VmSecurityType>>,
    /// Administrator user (Generalized images only).
    pub admin_username: Option<Sp<String>>,
    /// SSH public key (Generalized images only).
    pub ssh_public_key: Option<Sp<SshKey>>,
    /// OS disk settings.
    pub os_disk: Option<OsDisk>,
    /// Key of a NIC under `network_interfaces` (or use `network:`).
    pub network_interface: Option<Sp<String>>,
    /// Shorthand creating the VM's NIC (and public IP), like `az vm create`.
    pub network: Option<Sp<NetworkShorthand>>,
    /// Azure tags.
    pub tags: Option<Tags>,
}

/// Security type of a VM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum VmSecurityType {
    /// No security features.
    Standard,
    /// Trusted Launch (secure boot, vTPM).
    TrustedLaunch,
    /// Confidential VM.
    #[serde(rename = "ConfidentialVM")]
    ConfidentialVm,
}

/// OS disk settings.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OsDisk {
    /// Size in GiB (default: the image's).
    #[schemars(range(min = 1, max = 4095))]
    pub size_gb: Option<Sp<u32>>,
    /// Disk storage type.
    pub storage: Option<Sp<DiskStorage>>,
    /// Host caching.
    pub caching: Option<Sp<Caching>>,
}

/// Managed disk storage type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[allow(non_camel_case_types)]
pub enum DiskStorage {
    /// Standard HDD.
    Standard_LRS,
    /// Standard SSD.
    StandardSSD_LRS,
    /// Premium SSD.
    Premium_LRS,
}

/// Disk host caching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Caching {
    /// No caching.
    None,
    /// Read caching.
    ReadOnly,
    /// Read and write caching.
    ReadWrite,
}

/// `network:` shorthand on a VM.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkShorthand {
    /// `<network key>/<subnet key>`.
    pub subnet: Sp<String>,
    /// Also create a public IP `<vmname>-pip` (default false).
    #[serde(default)]
    pub public_ip: bool,
    /// Key of an NSG to attach to the NIC.
    pub nsg: Option<Sp<String>>,
}
