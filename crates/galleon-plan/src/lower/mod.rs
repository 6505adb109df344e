//! Lowering: each resolved manifest resource becomes the exact ARM write galleon would send.
//!
//! The body is the REST JSON shape of the Azure specs for the pinned api-version, holding only
//! fields galleon manages (so the diff compares exactly those), ownership tags on every
//! taggable resource, and an explicit `null` where galleon manages a field it wants absent
//! (a subnet's NSG, a NIC's public IP), so that drift towards "present" is seen.

mod bodies;

use std::collections::HashMap;
use std::path::PathBuf;

use galleon_manifest::resolve::TAG_WORKSPACE;
use galleon_manifest::{Resource, Workspace};
use serde_json::Value;

use crate::ResourceKind;

/// One resource as galleon wants it in Azure.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredResource {
    /// Manifest address.
    pub address: String,
    /// Kind.
    pub kind: ResourceKind,
    /// ARM id.
    pub arm_id: String,
    /// Tenant key.
    pub tenant: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Subscription id.
    pub subscription: String,
    /// Resource group name.
    pub resource_group: String,
    /// Azure region (empty for role assignments).
    pub location: String,
    /// The PUT body: managed fields only.
    pub body: Value,
    /// Addresses this resource references.
    pub depends_on: Vec<String>,
    /// Tenants whose tokens the write needs in `x-ms-authorization-auxiliary`.
    pub aux_tenant_ids: Vec<String>,
}

/// Facts lowering needs that the manifest does not hold.
#[derive(Debug, Clone, Default)]
pub struct LowerContext {
    /// Object id of each grant's principal in the gallery's tenant, by grant address. A
    /// missing entry lowers to an empty `principalId`; the planner reports it as a failed check.
    pub principal_ids: HashMap<String, String>,
}

/// Why a resource could not be lowered.
#[derive(Debug, thiserror::Error)]
pub enum LowerError {
    /// An `ssh_public_key: {file: ...}` could not be read.
    #[error("{address}: cannot read the SSH public key file {}", path.display())]
    SshKeyFile {
        /// The VM.
        address: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key file holds something other than one public key.
    #[error("{address}: {} does not hold an SSH public key", path.display())]
    NotAPublicKey {
        /// The VM.
        address: String,
        /// The file.
        path: PathBuf,
    },
}

/// The kind of a manifest resource.
pub fn kind_of(kind: galleon_manifest::Kind) -> ResourceKind {
    use galleon_manifest::Kind as K;
    match kind {
        K::ResourceGroup => ResourceKind::ResourceGroup,
        K::Gallery => ResourceKind::Gallery,
        K::GalleryImage => ResourceKind::GalleryImage,
        K::ImageVersion => ResourceKind::ImageVersion,
        K::GalleryGrant => ResourceKind::GalleryGrant,
        K::Network => ResourceKind::Network,
        K::Nsg => ResourceKind::Nsg,
        K::PublicIp => ResourceKind::PublicIp,
        K::Nic => ResourceKind::Nic,
        K::Vm => ResourceKind::Vm,
    }
}

/// Lowers every resource of a workspace, in the workspace's order.
///
/// # Errors
/// The first resource whose inputs cannot be read (an SSH key file).
pub fn lower_workspace(
    workspace: &Workspace,
    ctx: &LowerContext,
) -> Result<Vec<DesiredResource>, LowerError> {
    workspace
        .resources()
        .iter()
        .map(|r| lower(workspace, r, ctx))
        .collect()
}

/// Lowers one resource.
///
/// # Errors
/// See [`LowerError`].
pub fn lower(
    workspace: &Workspace,
    resource: &Resource,
    ctx: &LowerContext,
) -> Result<DesiredResource, LowerError> {
    let kind = kind_of(resource.kind());
    let tags = workspace.tags_for(resource);
    debug_assert!(!kind.taggable() || tags.contains_key(TAG_WORKSPACE));
    let body = bodies::body(resource, &tags, ctx)?;
    // Cross-tenant VMs: ARM re-checks the linked image on create and on every later write,
    // tags included (azure-cli #15536, #13732), so every PUT carries the image tenant's token.
    let aux_tenant_ids = match &resource.image_tenant {
        Some(t) if t.tenant_id != resource.tenant_id => vec![t.tenant_id.clone()],
        _ => Vec::new(),
    };
    Ok(DesiredResource {
        address: resource.address.to_string(),
        kind,
        arm_id: resource.arm_id.clone(),
        tenant: resource.tenant.clone(),
        tenant_id: resource.tenant_id.clone(),
        subscription: resource.subscription.clone(),
        resource_group: resource.resource_group.clone(),
        location: resource.location.clone(),
        body,
        depends_on: resource
            .depends_on
            .iter()
            .map(ToString::to_string)
            .collect(),
        aux_tenant_ids,
    })
}

#[cfg(test)]
mod tests;
