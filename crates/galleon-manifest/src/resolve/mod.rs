//! The resolved workspace: [`Workspace::load`] is the entry point other crates call.
//!
//! # Guarantees
//! A [`Workspace`] only exists when loading, resolution and every validation rule passed: all
//! references point at resources that exist, names follow Azure's rules, and the dependency
//! relation has no cycle. Later stages can therefore index and unwrap freely.

pub(crate) mod build;
mod gallery;
mod network;
mod tenants;
mod types;
mod vms;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use build::{ROLES, role_assignment_name};
pub use tenants::INLINE_SECRET;
pub use types::*;

use crate::address::Address;
use crate::diag::{Diagnostic, Diagnostics, Sources};
use crate::load::{self, Manifest};

/// Tag naming the workspace that owns a resource.
pub const TAG_WORKSPACE: &str = "galleon-workspace";
/// Tag holding a resource's address.
pub const TAG_ADDRESS: &str = "galleon-address";

/// A loaded, resolved and validated workspace.
#[derive(Clone, Debug)]
pub struct Workspace {
    sources: Arc<Sources>,
    manifest: Manifest,
    tenants: Vec<TenantSpec>,
    resources: Vec<Resource>,
    lock: Option<LockSpec>,
}

impl Workspace {
    /// Loads the workspace at `path` (a directory of `*.yaml`/`*.yml`, or one file), resolves
    /// it and runs every validation rule. No network access; secrets are not read.
    ///
    /// # Errors
    /// Every problem found, with positions and the source texts to render them.
    pub fn load(path: &Path) -> Result<Workspace, Diagnostics> {
        let (sources, manifest, diags) = load::load(path);
        let sources = Arc::new(sources);
        match manifest {
            Some(m) => Self::resolve(sources, m, diags),
            None => Err(Diagnostics::new(sources, diags)),
        }
    }

    /// Resolves and validates an already merged manifest.
    ///
    /// # Errors
    /// Every resolution and validation problem.
    pub fn from_manifest(
        sources: Arc<Sources>,
        manifest: Manifest,
    ) -> Result<Workspace, Diagnostics> {
        Self::resolve(sources, manifest, Vec::new())
    }

    fn resolve(
        sources: Arc<Sources>,
        manifest: Manifest,
        mut diags: Vec<Diagnostic>,
    ) -> Result<Workspace, Diagnostics> {
        let tenants = tenants::resolve_tenants(&manifest, &mut diags);
        let lock = tenants::resolve_lock(&manifest, &mut diags);
        let mut b = build::Builder::new(&manifest, &sources, &tenants);
        b.resource_groups();
        b.galleries(&manifest.workspace);
        b.nsgs();
        b.networks();
        b.public_ips();
        b.nics();
        b.vms();
        b.link_sources();
        diags.append(&mut b.diags);
        let resources = std::mem::take(&mut b.out);
        diags.extend(crate::validate::check(
            &manifest, &sources, &tenants, &resources,
        ));
        if !diags.is_empty() {
            // Top to bottom, file by file: the order a user fixes them in. Stable, so problems
            // at one position keep the order the rules found them.
            diags.sort_by_key(|d| (d.file, d.loc.map(|l| (l.line, l.col))));
            return Err(Diagnostics::new(sources, diags));
        }
        Ok(Workspace {
            sources,
            manifest,
            tenants,
            resources,
            lock,
        })
    }

    /// Workspace name (the `galleon-workspace` tag value).
    pub fn name(&self) -> &str {
        &self.manifest.workspace
    }
    /// Every concrete resource, `count` and shorthands expanded, in a stable order.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }
    /// The resource at `address`.
    pub fn resource(&self, address: &Address) -> Option<&Resource> {
        self.resources.iter().find(|r| &r.address == address)
    }
    /// Tenants with their (referenced) credentials.
    pub fn tenants(&self) -> &[TenantSpec] {
        &self.tenants
    }
    /// The tenant with this key.
    pub fn tenant(&self, key: &str) -> Option<&TenantSpec> {
        self.tenants.iter().find(|t| t.key == key)
    }
    /// Where apply takes its lock, if configured.
    pub fn lock(&self) -> Option<&LockSpec> {
        self.lock.as_ref()
    }
    /// The raw merged manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    /// Source files, for rendering diagnostics that later stages produce.
    pub fn sources(&self) -> &Arc<Sources> {
        &self.sources
    }
    /// User tags plus galleon's ownership tags (`galleon-workspace`, `galleon-address`), which
    /// win over user tags of the same name.
    pub fn tags_for(&self, resource: &Resource) -> BTreeMap<String, String> {
        let mut tags = match &resource.spec {
            Spec::ResourceGroup(s) => s.tags.clone(),
            Spec::Gallery(s) => s.tags.clone(),
            Spec::GalleryImage(s) => s.tags.clone(),
            Spec::ImageVersion(s) => s.tags.clone(),
            Spec::GalleryGrant(_) => return BTreeMap::new(),
            Spec::Network(s) => s.tags.clone(),
            Spec::Nsg(s) => s.tags.clone(),
            Spec::PublicIp(s) => s.tags.clone(),
            Spec::Nic(s) => s.tags.clone(),
            Spec::Vm(s) => s.tags.clone(),
        };
        tags.insert(TAG_WORKSPACE.into(), self.name().to_owned());
        tags.insert(TAG_ADDRESS.into(), resource.address.to_string());
        tags
    }
}
