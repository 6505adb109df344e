//! Lowering the merged manifest into concrete [`Resource`]s.
//!
//! One pass per section in dependency order, so every reference looks up something already
//! resolved. A reference that cannot be followed becomes a `dangling_reference` diagnostic and
//! the resource that needed it is skipped (not guessed), so later rules never see half-resolved
//! data and the same mistake is reported once.

use std::collections::HashMap;

use uuid::Uuid;

use crate::address::{Address, Kind};
use crate::diag::{Code, Diagnostic, Sources};
use crate::load::Manifest;
use crate::resolve::types::*;
use crate::span::{FileId, Loc, Sp};

/// Built-in role names galleon knows, with their role definition GUIDs.
/// Source: learn.microsoft.com/azure/role-based-access-control/built-in-roles (Reader;
/// Compute Gallery Image Reader), also in /work/shared/azure/arm-protocol.md.
pub const ROLES: &[(&str, &str)] = &[
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    (
        "Compute Gallery Image Reader",
        "cf7c76d2-98a3-4358-a134-615aa78bf44d",
    ),
];

/// A dangling reference diagnostic listing what would have matched.
pub(crate) fn dangling<'a>(
    file: FileId,
    reference: &Sp<String>,
    what: &str,
    known: impl Iterator<Item = &'a String>,
) -> Diagnostic {
    let known: Vec<&str> = known.map(String::as_str).collect();
    let help = if known.is_empty() {
        format!("no {what} is defined in this workspace")
    } else {
        format!("known {what} keys: {}", known.join(", "))
    };
    Diagnostic::at(
        Code::DanglingReference,
        file,
        reference.loc,
        format!("{what} `{}` is not defined", reference.value),
    )
    .label(format!("no such {what}"))
    .help(help)
}

/// The deterministic name of a role assignment: UUIDv5 (URL namespace) of
/// `galleon:<workspace>:<address>`, so re-planning finds the same assignment without state.
pub fn role_assignment_name(workspace: &str, address: &Address) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("galleon:{workspace}:{address}").as_bytes(),
    )
    .to_string()
}

#[derive(Clone)]
pub(crate) struct Placement {
    pub rg: Address,
    pub tenant: String,
    pub tenant_id: String,
    pub subscription: String,
    pub rg_name: String,
    pub location: String,
    pub rg_id: String,
}

pub(crate) struct Builder<'a> {
    pub m: &'a Manifest,
    sources: &'a Sources,
    pub diags: Vec<Diagnostic>,
    pub out: Vec<Resource>,
    /// Where each address first appears in `out`: lookups by address happen for every
    /// reference, and a scan made a 10,000-resource workspace quadratic.
    index: HashMap<Address, usize>,
    rgs: HashMap<String, Placement>,
    pub client_ids: HashMap<String, Option<String>>,
}

impl<'a> Builder<'a> {
    pub fn new(m: &'a Manifest, sources: &'a Sources, tenants: &[TenantSpec]) -> Self {
        Builder {
            m,
            sources,
            diags: Vec::new(),
            out: Vec::new(),
            index: HashMap::new(),
            rgs: HashMap::new(),
            client_ids: tenants
                .iter()
                .map(|t| (t.key.clone(), t.auth.client_id().map(str::to_owned)))
                .collect(),
        }
    }

    pub(crate) fn origin(&self, file: FileId, loc: Loc) -> Origin {
        Origin {
            file,
            path: self.sources.get(file).path.clone(),
            loc,
        }
    }

    pub(crate) fn find(&self, address: &Address) -> Option<&Resource> {
        self.index.get(address).map(|&i| &self.out[i])
    }

    pub(crate) fn reference(&self, address: Address) -> Option<Ref> {
        let arm_id = self.find(&address)?.arm_id.clone();
        Some(Ref { address, arm_id })
    }

    /// Looks up a manifest key of `kind`; on a miss reports it and returns `None`.
    pub(crate) fn lookup(
        &mut self,
        file: FileId,
        key: &Sp<String>,
        kind: Kind,
        what: &str,
    ) -> Option<Ref> {
        let found = self.reference(Address::new(kind, key.value.clone()));
        // Defined but skipped because of its own error: that error is already reported.
        if found.is_none() && !self.defined(kind, &key.value) {
            let known: Vec<String> = self
                .out
                .iter()
                .filter(|r| r.address.kind == kind && r.address.index.is_none())
                .map(|r| r.address.name.clone())
                .filter(|n| !n.contains('/'))
                .collect();
            self.diags.push(dangling(file, key, what, known.iter()));
        }
        found
    }

    fn defined(&self, kind: Kind, key: &str) -> bool {
        match kind {
            Kind::Gallery => self.m.galleries.contains_key(key),
            Kind::Network => self.m.networks.contains_key(key),
            Kind::Nsg => self.m.network_security_groups.contains_key(key),
            Kind::PublicIp => self.m.public_ips.contains_key(key),
            Kind::Nic => self.m.network_interfaces.contains_key(key),
            _ => false,
        }
    }

    pub(crate) fn placement(&mut self, file: FileId, rg: &Sp<String>) -> Option<Placement> {
        if let Some(p) = self.rgs.get(&rg.value) {
            return Some(p.clone());
        }
        if self.m.resource_groups.contains_key(&rg.value) {
            return None;
        }
        let known: Vec<String> = self.m.resource_groups.keys().cloned().collect();
        self.diags
            .push(dangling(file, rg, "resource group", known.iter()));
        None
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        address: Address,
        p: &Placement,
        name: String,
        location: String,
        arm_id: String,
        spec: Spec,
        mut depends_on: Vec<Address>,
        origin: Origin,
    ) {
        if !depends_on.contains(&p.rg) && address != p.rg {
            depends_on.insert(0, p.rg.clone());
        }
        self.index.entry(address.clone()).or_insert(self.out.len());
        self.out.push(Resource {
            address,
            tenant: p.tenant.clone(),
            tenant_id: p.tenant_id.clone(),
            subscription: p.subscription.clone(),
            resource_group: p.rg_name.clone(),
            name,
            location,
            arm_id,
            spec,
            depends_on,
            image_tenant: None,
            origin,
        });
    }

    pub fn resource_groups(&mut self) {
        for (key, item) in &self.m.resource_groups {
            let rg = &item.value;
            let Some(tenant) = self.m.tenants.get(&rg.tenant.value) else {
                let known: Vec<String> = self.m.tenants.keys().cloned().collect();
                self.diags
                    .push(dangling(item.file, &rg.tenant, "tenant", known.iter()));
                continue;
            };
            let name = name_or_key(&rg.name, key);
            let p = Placement {
                rg: Address::new(Kind::ResourceGroup, key.clone()),
                tenant: rg.tenant.value.clone(),
                tenant_id: tenant.value.tenant_id.value.clone(),
                subscription: rg.subscription.value.clone(),
                rg_id: format!(
                    "/subscriptions/{}/resourceGroups/{name}",
                    rg.subscription.value
                ),
                rg_name: name.clone(),
                location: rg.location.value.clone(),
            };
            let spec = Spec::ResourceGroup(ResourceGroupSpec {
                tags: rg.tags.clone().unwrap_or_default(),
            });
            let origin = self.origin(item.file, item.key.loc);
            self.push(
                p.rg.clone(),
                &p,
                name,
                p.location.clone(),
                p.rg_id.clone(),
                spec,
                vec![],
                origin,
            );
            self.rgs.insert(key.clone(), p);
        }
    }

    /// Links image versions whose source is a VM or version managed here.
    pub fn link_sources(&mut self) {
        let by_id: HashMap<String, Address> = self
            .out
            .iter()
            .filter(|r| matches!(r.address.kind, Kind::Vm | Kind::ImageVersion))
            .map(|r| (r.arm_id.to_lowercase(), r.address.clone()))
            .collect();
        for r in &mut self.out {
            if let Spec::ImageVersion(v) = &mut r.spec
                && let Some(a) = by_id.get(&v.source.to_lowercase())
            {
                v.source_managed = Some(a.clone());
                if !r.depends_on.contains(a) {
                    r.depends_on.push(a.clone());
                }
            }
        }
    }
}

pub(crate) fn public_ip_id(p: &Placement, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Network/publicIPAddresses/{name}",
        p.rg_id
    )
}

pub(crate) fn name_or_key(name: &Option<Sp<String>>, key: &str) -> String {
    name.as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| key.to_owned())
}

pub(crate) fn opt_or(v: &Option<Sp<String>>, default: &str) -> String {
    v.as_ref()
        .map(|s| s.value.clone())
        .unwrap_or_else(|| default.to_owned())
}
