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
use crate::load::{Item, Manifest};
use crate::model::{Allocation, ImageSecurityType, PublicIpSku, ReplicaStorage};
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
        self.out.iter().find(|r| &r.address == address)
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

    pub fn galleries(&mut self, workspace: &str) {
        for (key, item) in &self.m.galleries {
            let g = &item.value;
            let Some(p) = self.placement(item.file, &g.resource_group) else {
                continue;
            };
            let name = name_or_key(&g.name, key);
            let gallery_id = format!("{}/providers/Microsoft.Compute/galleries/{name}", p.rg_id);
            let address = Address::new(Kind::Gallery, key.clone());
            let direct = g.sharing.as_ref().and_then(|s| s.direct.as_ref());
            let spec = Spec::Gallery(GallerySpec {
                description: g.description.clone(),
                tags: g.tags.clone().unwrap_or_default(),
                direct_share: direct.map(|d| DirectShareSpec {
                    subscriptions: d.subscriptions.iter().map(|s| s.value.clone()).collect(),
                    tenants: d.tenants.iter().map(|s| s.value.clone()).collect(),
                }),
            });
            let origin = self.origin(item.file, item.key.loc);
            self.push(
                address.clone(),
                &p,
                name,
                p.location.clone(),
                gallery_id.clone(),
                spec,
                vec![],
                origin,
            );
            let gallery = Ref {
                address,
                arm_id: gallery_id,
            };
            self.images(item, key, &p, &gallery);
            self.grants(item, key, &p, &gallery, workspace);
        }
    }

    fn images(
        &mut self,
        item: &Item<crate::model::Gallery>,
        gkey: &str,
        p: &Placement,
        gallery: &Ref,
    ) {
        for (ikey, def) in item.value.images.iter() {
            let name = name_or_key(&def.name, ikey);
            let image_id = format!("{}/images/{name}", gallery.arm_id);
            let address = Address::new(Kind::GalleryImage, format!("{gkey}/{}", ikey.value));
            let spec = Spec::GalleryImage(GalleryImageSpec {
                gallery: gallery.clone(),
                os_type: def.os_type.value,
                os_state: def.os_state.value,
                hyper_v_generation: def
                    .hyper_v_generation
                    .as_ref()
                    .map(|h| h.value)
                    .unwrap_or(crate::model::HyperVGeneration::V1),
                publisher: def.identifier.publisher.value.clone(),
                offer: def.identifier.offer.value.clone(),
                sku: def.identifier.sku.value.clone(),
                security_type: def
                    .security_type
                    .as_ref()
                    .map(|s| s.value)
                    .unwrap_or(ImageSecurityType::Standard),
                architecture: def
                    .architecture
                    .as_ref()
                    .map(|a| a.value)
                    .unwrap_or(crate::model::Architecture::X64),
                description: def.description.clone(),
                tags: def.tags.clone().unwrap_or_default(),
            });
            let origin = self.origin(item.file, ikey.loc);
            self.push(
                address.clone(),
                p,
                name,
                p.location.clone(),
                image_id.clone(),
                spec,
                vec![gallery.address.clone()],
                origin,
            );
            let image = Ref {
                address,
                arm_id: image_id,
            };
            for (vkey, v) in def.versions.iter() {
                let address = Address::new(
                    Kind::ImageVersion,
                    format!("{gkey}/{}/{}", ikey.value, vkey.value),
                );
                let spec = Spec::ImageVersion(ImageVersionSpec {
                    image: image.clone(),
                    source: v
                        .source
                        .as_ref()
                        .map(|s| s.value.clone())
                        .unwrap_or_default(),
                    source_managed: None,
                    target_regions: v
                        .target_regions
                        .iter()
                        .map(|t| TargetRegionSpec {
                            region: t.region.value.clone(),
                            replicas: t.replicas.as_ref().map(|r| r.value).unwrap_or(1),
                            storage: t
                                .storage
                                .as_ref()
                                .map(|s| s.value)
                                .unwrap_or(ReplicaStorage::Standard_LRS),
                        })
                        .collect(),
                    exclude_from_latest: v.exclude_from_latest.as_ref().is_some_and(|e| e.value),
                    end_of_life: v.end_of_life.as_ref().map(|e| e.value.clone()),
                    tags: v.tags.clone().unwrap_or_default(),
                });
                let origin = self.origin(item.file, vkey.loc);
                self.push(
                    address,
                    p,
                    vkey.value.clone(),
                    p.location.clone(),
                    format!("{}/versions/{}", image.arm_id, vkey.value),
                    spec,
                    vec![image.address.clone()],
                    origin,
                );
            }
        }
    }

    fn grants(
        &mut self,
        item: &Item<crate::model::Gallery>,
        gkey: &str,
        p: &Placement,
        gallery: &Ref,
        workspace: &str,
    ) {
        let Some(sharing) = &item.value.sharing else {
            return;
        };
        for grant in &sharing.grants {
            let role = grant
                .role
                .as_ref()
                .map(|r| r.value.clone())
                .unwrap_or_else(|| "Reader".into());
            let role_definition_id = match ROLES.iter().find(|(n, _)| *n == role) {
                Some((_, id)) => id.to_string(),
                None if crate::validate::is_guid(&role) => role.to_lowercase(),
                None => {
                    let loc = grant.role.as_ref().map(|r| r.loc).unwrap_or(grant.loc);
                    self.diags.push(
                        Diagnostic::at(Code::InvalidValue, item.file, loc, format!("unknown role `{role}`"))
                            .label("not a known role")
                            .help("use Reader, \"Compute Gallery Image Reader\", or a role definition GUID"),
                    );
                    continue;
                }
            };
            let (principal, principal_name) = match (&grant.app, &grant.principal_id) {
                (Some(app), None) => {
                    if !self.m.tenants.contains_key(&app.value) {
                        let known: Vec<String> = self.m.tenants.keys().cloned().collect();
                        self.diags
                            .push(dangling(item.file, app, "tenant", known.iter()));
                        continue;
                    }
                    let client_id = self.client_ids.get(&app.value).cloned().flatten();
                    let tenant_resolved = self.client_ids.contains_key(&app.value);
                    if tenant_resolved && client_id.is_none() {
                        self.diags.push(
                            Diagnostic::at(
                                Code::InvalidAuth,
                                item.file,
                                app.loc,
                                format!("tenant `{}` signs in without an app, so there is no app to grant a role to", app.value),
                            )
                            .label("no client_id for this tenant")
                            .help("give the tenant's auth a client_id (client_secret or federated_token_file), or grant by principal_id"),
                        );
                        continue;
                    }
                    (
                        Principal::App {
                            tenant: app.value.clone(),
                            client_id,
                        },
                        app.value.clone(),
                    )
                }
                (None, Some(id)) => (Principal::ObjectId(id.value.clone()), id.value.clone()),
                _ => {
                    self.diags.push(
                        Diagnostic::at(
                            Code::InvalidValue,
                            item.file,
                            grant.loc,
                            "a grant needs exactly one of `app` or `principal_id`",
                        )
                        .label("this grant"),
                    );
                    continue;
                }
            };
            let address = Address::new(
                Kind::GalleryGrant,
                format!("{gkey}/{principal_name}/{role}"),
            );
            if self.find(&address).is_some() {
                self.diags.push(
                    Diagnostic::at(
                        Code::DuplicateName,
                        item.file,
                        grant.loc,
                        format!("grant `{address}` is listed twice"),
                    )
                    .label("repeated grant"),
                );
                continue;
            }
            let name = role_assignment_name(workspace, &address);
            let spec = Spec::GalleryGrant(GalleryGrantSpec {
                gallery: gallery.clone(),
                principal,
                role,
                role_definition_id,
                description: format!("galleon:{workspace}:{address}"),
            });
            let origin = self.origin(item.file, grant.loc);
            let arm_id = format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
                gallery.arm_id
            );
            self.push(
                address,
                p,
                name,
                p.location.clone(),
                arm_id,
                spec,
                vec![gallery.address.clone()],
                origin,
            );
        }
    }

    pub fn nsgs(&mut self) {
        for (key, item) in &self.m.network_security_groups {
            let n = &item.value;
            let Some(p) = self.placement(item.file, &n.resource_group) else {
                continue;
            };
            let name = name_or_key(&n.name, key);
            let rules = n
                .rules
                .iter()
                .map(|r| RuleSpec {
                    name: r.name.value.clone(),
                    priority: r.priority.value,
                    direction: r.direction.value,
                    access: r.access.value,
                    protocol: r.protocol.value,
                    source: r.source.value.clone(),
                    source_port: opt_or(&r.source_port, "*"),
                    destination: opt_or(&r.destination, "*"),
                    destination_port: r.destination_port.value.clone(),
                })
                .collect();
            let spec = Spec::Nsg(NsgSpec {
                rules,
                tags: n.tags.clone().unwrap_or_default(),
            });
            let arm_id = format!(
                "{}/providers/Microsoft.Network/networkSecurityGroups/{name}",
                p.rg_id
            );
            let origin = self.origin(item.file, item.key.loc);
            self.push(
                Address::new(Kind::Nsg, key.clone()),
                &p,
                name,
                p.location.clone(),
                arm_id,
                spec,
                vec![],
                origin,
            );
        }
    }

    pub fn networks(&mut self) {
        for (key, item) in &self.m.networks {
            let n = &item.value;
            let Some(p) = self.placement(item.file, &n.resource_group) else {
                continue;
            };
            let name = name_or_key(&n.name, key);
            let arm_id = format!(
                "{}/providers/Microsoft.Network/virtualNetworks/{name}",
                p.rg_id
            );
            let mut depends = Vec::new();
            let mut subnets = Vec::new();
            let mut ok = true;
            for (skey, s) in n.subnets.iter() {
                let nsg = match &s.nsg {
                    Some(k) => match self.lookup(item.file, k, Kind::Nsg, "network security group")
                    {
                        Some(r) => Some(r),
                        None => {
                            ok = false;
                            continue;
                        }
                    },
                    None => None,
                };
                if let Some(r) = &nsg
                    && !depends.contains(&r.address)
                {
                    depends.push(r.address.clone());
                }
                let sname = name_or_key(&s.name, skey);
                subnets.push(SubnetSpec {
                    key: skey.value.clone(),
                    arm_id: format!("{arm_id}/subnets/{sname}"),
                    name: sname,
                    address_prefix: s.address_prefix.value.clone(),
                    nsg,
                });
            }
            if !ok {
                continue;
            }
            let spec = Spec::Network(NetworkSpec {
                address_space: n.address_space.iter().map(|a| a.value.clone()).collect(),
                subnets,
                tags: n.tags.clone().unwrap_or_default(),
            });
            let origin = self.origin(item.file, item.key.loc);
            self.push(
                Address::new(Kind::Network, key.clone()),
                &p,
                name,
                p.location.clone(),
                arm_id,
                spec,
                depends,
                origin,
            );
        }
    }

    pub fn public_ips(&mut self) {
        for (key, item) in &self.m.public_ips {
            let ip = &item.value;
            let Some(p) = self.placement(item.file, &ip.resource_group) else {
                continue;
            };
            let name = name_or_key(&ip.name, key);
            let spec = Spec::PublicIp(PublicIpSpec {
                sku: ip
                    .sku
                    .as_ref()
                    .map(|s| s.value)
                    .unwrap_or(PublicIpSku::Standard),
                allocation: ip
                    .allocation
                    .as_ref()
                    .map(|a| a.value)
                    .unwrap_or(Allocation::Static),
                zones: ip.zones.iter().map(|z| z.value.clone()).collect(),
                tags: ip.tags.clone().unwrap_or_default(),
            });
            let origin = self.origin(item.file, item.key.loc);
            let arm_id = public_ip_id(&p, &name);
            self.push(
                Address::new(Kind::PublicIp, key.clone()),
                &p,
                name,
                p.location.clone(),
                arm_id,
                spec,
                vec![],
                origin,
            );
        }
    }

    /// Resolves `<network>/<subnet>` to the network and the subnet's ARM id.
    pub(crate) fn subnet(&mut self, file: FileId, reference: &Sp<String>) -> Option<(Ref, String)> {
        let Some((net, sub)) = reference.value.split_once('/') else {
            self.diags.push(
                Diagnostic::at(
                    Code::InvalidReference,
                    file,
                    reference.loc,
                    format!("`{}` is not a subnet reference", reference.value),
                )
                .label("expected <network>/<subnet>"),
            );
            return None;
        };
        let net_key = Sp {
            value: net.to_owned(),
            loc: reference.loc,
        };
        let network = self.lookup(file, &net_key, Kind::Network, "network")?;
        let Some(Spec::Network(spec)) = self.find(&network.address).map(|r| &r.spec) else {
            return None;
        };
        match spec.subnets.iter().find(|s| s.key == sub) {
            Some(s) => Some((network.clone(), s.arm_id.clone())),
            None => {
                let known: Vec<String> = spec.subnets.iter().map(|s| s.key.clone()).collect();
                let sub_ref = Sp {
                    value: reference.value.clone(),
                    loc: reference.loc,
                };
                self.diags
                    .push(dangling(file, &sub_ref, "subnet", known.iter()));
                None
            }
        }
    }

    pub fn nics(&mut self) {
        for (key, item) in &self.m.network_interfaces {
            let n = &item.value;
            let Some(p) = self.placement(item.file, &n.resource_group) else {
                continue;
            };
            let subnet = self.subnet(item.file, &n.subnet);
            let pip = n
                .public_ip
                .as_ref()
                .map(|k| self.lookup(item.file, k, Kind::PublicIp, "public IP"));
            let nsg = n
                .nsg
                .as_ref()
                .map(|k| self.lookup(item.file, k, Kind::Nsg, "network security group"));
            let Some((network, subnet_id)) = subnet else {
                continue;
            };
            let Some(pip) = pip.map_or(Some(None), |r| r.map(Some)) else {
                continue;
            };
            let Some(nsg) = nsg.map_or(Some(None), |r| r.map(Some)) else {
                continue;
            };
            let name = name_or_key(&n.name, key);
            let origin = self.origin(item.file, item.key.loc);
            self.push_nic(
                Address::new(Kind::Nic, key.clone()),
                &p,
                name,
                network,
                subnet_id,
                pip,
                nsg,
                n.tags.clone().unwrap_or_default(),
                origin,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_nic(
        &mut self,
        address: Address,
        p: &Placement,
        name: String,
        network: Ref,
        subnet_id: String,
        public_ip: Option<Ref>,
        nsg: Option<Ref>,
        tags: std::collections::BTreeMap<String, String>,
        origin: Origin,
    ) -> Ref {
        let mut depends = vec![network.address.clone()];
        depends.extend(public_ip.iter().map(|r| r.address.clone()));
        depends.extend(nsg.iter().map(|r| r.address.clone()));
        let arm_id = format!(
            "{}/providers/Microsoft.Network/networkInterfaces/{name}",
            p.rg_id
        );
        let spec = Spec::Nic(NicSpec {
            network,
            subnet_id,
            public_ip,
            nsg,
            tags,
        });
        self.push(
            address.clone(),
            p,
            name,
            p.location.clone(),
            arm_id.clone(),
            spec,
            depends,
            origin,
        );
        Ref { address, arm_id }
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

fn opt_or(v: &Option<Sp<String>>, default: &str) -> String {
    v.as_ref()
        .map(|s| s.value.clone())
        .unwrap_or_else(|| default.to_owned())
}
