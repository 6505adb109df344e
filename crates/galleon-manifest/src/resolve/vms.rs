//! Virtual machines: `count` stamping, the `network:` shorthand, and image references.
//!
//! This is where the cross-tenant edge appears: a VM whose image lives in another tenant records
//! that tenant (its token rides in `x-ms-authorization-auxiliary` on the VM PUT) and depends on
//! the gallery grant that lets its own tenant's app read the image.

use crate::address::{Address, Kind};
use crate::diag::{Code, Diagnostic};
use crate::load::Item;
use crate::model::{OsType, VirtualMachine, VmSecurityType};
use crate::resolve::build::{Builder, Placement, name_or_key, public_ip_id};
use crate::resolve::types::*;
use crate::span::{FileId, Sp};

/// A VM's image, resolved once for all its instances.
struct ResolvedImage {
    image: ImageRef,
    gallery: Option<Address>,
    tenant: TenantRef,
    os_type: Option<OsType>,
    depends: Vec<Address>,
}

impl Builder<'_> {
    pub fn vms(&mut self) {
        let m = self.m;
        for (key, item) in &m.virtual_machines {
            let vm = &item.value;
            let Some(p) = self.placement(item.file, &vm.resource_group) else {
                continue;
            };
            let image = self.vm_image(item, &p);
            let explicit_nic = vm
                .network_interface
                .as_ref()
                .map(|k| self.lookup(item.file, k, Kind::Nic, "network interface"));
            let count = vm.count.as_ref().map(|c| c.value);
            if let Some(c) = &vm.count
                && c.value == 0
            {
                self.diags.push(
                    Diagnostic::at(
                        Code::InvalidValue,
                        item.file,
                        c.loc,
                        "count must be at least 1",
                    )
                    .label("zero VMs"),
                );
                continue;
            }
            if vm.network_interface.is_some() == vm.network.is_some() {
                let loc = vm.network.as_ref().map(|n| n.loc).unwrap_or(item.key.loc);
                self.diags.push(
                    Diagnostic::at(
                        Code::InvalidValue,
                        item.file,
                        loc,
                        format!("VM `{key}` needs exactly one of `network_interface` or `network`"),
                    )
                    .help("`network: {subnet: <network>/<subnet>}` creates a NIC for the VM"),
                );
                continue;
            }
            if let (Some(nic), Some(c)) = (&vm.network_interface, &vm.count)
                && c.value > 1
            {
                self.diags.push(
                    Diagnostic::at(
                        Code::InvalidValue,
                        item.file,
                        nic.loc,
                        format!("{} VMs cannot share one network interface", c.value),
                    )
                    .help("use the `network:` shorthand, which creates one NIC per VM"),
                );
                continue;
            }
            let shorthand_subnet = match &vm.network {
                Some(n) => match self.subnet(item.file, &n.subnet) {
                    Some(s) => Some(s),
                    None => continue,
                },
                None => None,
            };
            let shorthand_nsg = match vm.network.as_ref().and_then(|n| n.nsg.as_ref()) {
                Some(k) => match self.lookup(item.file, k, Kind::Nsg, "network security group") {
                    Some(r) => Some(r),
                    None => continue,
                },
                None => None,
            };
            let (Some(image), Some(explicit_nic)) =
                (image, explicit_nic.map_or(Some(None), |n| n.map(Some)))
            else {
                continue;
            };
            let base = name_or_key(&vm.name, key);
            let location = vm
                .location
                .as_ref()
                .map(|l| l.value.clone())
                .unwrap_or_else(|| p.location.clone());
            let cross = image.tenant.tenant_id != p.tenant_id;
            let grant = if cross {
                image
                    .gallery
                    .as_ref()
                    .and_then(|g| self.grant_for(g, &p.tenant))
            } else {
                None
            };
            let indices: Vec<Option<u32>> = match count {
                Some(c) => (0..c).map(Some).collect(),
                None => vec![None],
            };
            for index in indices {
                let name = match index {
                    Some(i) => format!("{base}-{i}"),
                    None => base.clone(),
                };
                let address = Address::new(Kind::Vm, key.clone()).indexed(index);
                let nic = match (&explicit_nic, &shorthand_subnet) {
                    (Some(nic), _) => nic.clone(),
                    (None, Some((network, subnet_id))) => self.implied_nic(
                        item,
                        key,
                        index,
                        &p,
                        &name,
                        (network.clone(), subnet_id.clone()),
                        shorthand_nsg.clone(),
                    ),
                    (None, None) => continue,
                };
                let mut depends = vec![nic.address.clone()];
                depends.extend(image.depends.iter().cloned());
                depends.extend(grant.iter().cloned());
                let os_disk = vm.os_disk.clone().unwrap_or_default();
                let spec = Spec::Vm(Box::new(VmSpec {
                    size: vm.size.value.clone(),
                    zone: vm.zone.as_ref().map(|z| z.value.clone()),
                    image: image.image.clone(),
                    os_type: image.os_type,
                    security_type: vm
                        .security_type
                        .as_ref()
                        .map(|s| s.value)
                        .unwrap_or(VmSecurityType::Standard),
                    admin_username: vm.admin_username.as_ref().map(|a| a.value.clone()),
                    ssh_public_key: vm.ssh_public_key.as_ref().map(|k| k.value.clone()),
                    os_disk_size_gb: os_disk.size_gb.map(|s| s.value),
                    os_disk_storage: os_disk.storage.map(|s| s.value),
                    os_disk_caching: os_disk.caching.map(|s| s.value),
                    nic,
                    grant: grant.clone(),
                    tags: vm.tags.clone().unwrap_or_default(),
                }));
                let arm_id = format!(
                    "{}/providers/Microsoft.Compute/virtualMachines/{name}",
                    p.rg_id
                );
                let origin = self.origin(item.file, item.key.loc);
                self.push(
                    address,
                    &p,
                    name,
                    location.clone(),
                    arm_id,
                    spec,
                    depends,
                    origin,
                );
                if cross && let Some(last) = self.out.last_mut() {
                    last.image_tenant = Some(image.tenant.clone());
                }
            }
        }
    }

    /// The grant on `gallery` that gives `tenant`'s app access: one naming the tenant, else one
    /// naming another tenant that signs in with the same (multi-tenant) app.
    fn grant_for(&self, gallery: &Address, tenant: &str) -> Option<Address> {
        let client_id = self.client_ids.get(tenant).cloned().flatten();
        let grants = self.out.iter().filter_map(|r| match &r.spec {
            Spec::GalleryGrant(g) if &g.gallery.address == gallery => Some((r, g)),
            _ => None,
        });
        let mut by_client = None;
        for (r, g) in grants {
            if let Principal::App {
                tenant: t,
                client_id: c,
            } = &g.principal
            {
                if t == tenant {
                    return Some(r.address.clone());
                }
                if by_client.is_none() && c.is_some() && *c == client_id {
                    by_client = Some(r.address.clone());
                }
            }
        }
        by_client
    }

    #[allow(clippy::too_many_arguments)]
    fn implied_nic(
        &mut self,
        item: &Item<VirtualMachine>,
        key: &str,
        index: Option<u32>,
        p: &Placement,
        vm_name: &str,
        (network, subnet_id): (Ref, String),
        nsg: Option<Ref>,
    ) -> Ref {
        // The NIC and public IP live where the VM lives, which may differ from its group's region.
        let located = Placement {
            location: item
                .value
                .location
                .as_ref()
                .map(|l| l.value.clone())
                .unwrap_or_else(|| p.location.clone()),
            ..p.clone()
        };
        let p = &located;
        let shorthand = item.value.network.as_ref();
        let loc = shorthand.map(|n| n.loc).unwrap_or(item.key.loc);
        let origin = self.origin(item.file, loc);
        let tags = item.value.tags.clone().unwrap_or_default();
        let public_ip = if shorthand.is_some_and(|n| n.public_ip) {
            let address = Address::new(Kind::PublicIp, key.to_owned()).indexed(index);
            let name = format!("{vm_name}-pip");
            let arm_id = public_ip_id(p, &name);
            let spec = Spec::PublicIp(PublicIpSpec {
                sku: crate::model::PublicIpSku::Standard,
                allocation: crate::model::Allocation::Static,
                zones: item.value.zone.iter().map(|z| z.value.clone()).collect(),
                tags: tags.clone(),
            });
            self.check_free(item.file, &address, loc);
            self.push(
                address.clone(),
                p,
                name,
                p.location.clone(),
                arm_id.clone(),
                spec,
                vec![],
                origin.clone(),
            );
            Some(Ref { address, arm_id })
        } else {
            None
        };
        let address = Address::new(Kind::Nic, key.to_owned()).indexed(index);
        self.check_free(item.file, &address, loc);
        self.push_nic(
            address,
            p,
            format!("{vm_name}-nic"),
            network,
            subnet_id,
            public_ip,
            nsg,
            tags,
            origin,
        )
    }

    fn check_free(&mut self, file: FileId, address: &Address, loc: crate::span::Loc) {
        if self.find(address).is_some() {
            self.diags.push(
                Diagnostic::at(
                    Code::DuplicateName,
                    file,
                    loc,
                    format!(
                        "the `network:` shorthand implies `{address}`, which is already defined"
                    ),
                )
                .help("rename the VM or the explicitly defined resource"),
            );
        }
    }

    fn vm_image(&mut self, item: &Item<VirtualMachine>, p: &Placement) -> Option<ResolvedImage> {
        let vm = &item.value;
        let reference = &vm.image;
        if reference.value.starts_with("/subscriptions/") {
            // Only a gallery image (latest), a gallery image version or a managed image can be
            // booted by id (imageReference.id).
            let kind =
                crate::validate::images::arm_type(&reference.value).map(|t| t.to_lowercase());
            if !matches!(
                kind.as_deref(),
                Some(
                    "microsoft.compute/galleries/images"
                        | "microsoft.compute/galleries/images/versions"
                        | "microsoft.compute/images"
                )
            ) {
                self.diags.push(
                    Diagnostic::at(
                        Code::InvalidReference,
                        item.file,
                        reference.loc,
                        "this ARM id is not an image a VM can boot from",
                    )
                    .label("expected a gallery image, gallery image version or managed image id")
                    .help("e.g. /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<g>/images/<i>/versions/<v>"),
                );
                return None;
            }
            let tenant = match &vm.image_tenant {
                Some(t) => {
                    let Some(spec) = self.m.tenants.get(&t.value) else {
                        let known: Vec<String> = self.m.tenants.keys().cloned().collect();
                        self.diags.push(super::build::dangling(
                            item.file,
                            t,
                            "tenant",
                            known.iter(),
                        ));
                        return None;
                    };
                    TenantRef {
                        key: t.value.clone(),
                        tenant_id: spec.value.tenant_id.value.clone(),
                    }
                }
                None => TenantRef {
                    key: p.tenant.clone(),
                    tenant_id: p.tenant_id.clone(),
                },
            };
            return Some(ResolvedImage {
                image: ImageRef::External {
                    arm_id: reference.value.clone(),
                },
                gallery: None,
                tenant,
                os_type: None,
                depends: vec![],
            });
        }
        if let Some(t) = &vm.image_tenant {
            self.diags.push(
                Diagnostic::at(
                    Code::InvalidValue,
                    item.file,
                    t.loc,
                    "image_tenant only applies to an image given by ARM id",
                )
                .label("not used for a gallery image of this workspace")
                .help("the tenant of a managed image is its gallery's tenant; remove image_tenant"),
            );
        }
        let parts: Vec<&str> = reference.value.split('/').collect();
        let [gallery, image, version] = parts[..] else {
            self.diags.push(
                Diagnostic::at(
                    Code::InvalidReference,
                    item.file,
                    reference.loc,
                    format!("`{}` is not an image reference", reference.value),
                )
                .label("expected <gallery>/<image>/<version|latest> or an ARM id")
                .help("an image this workspace does not manage is given by its ARM id, starting with /subscriptions/"),
            );
            return None;
        };
        let at = |value: String| Sp {
            value,
            loc: reference.loc,
        };
        let g = self.lookup(item.file, &at(gallery.to_owned()), Kind::Gallery, "gallery")?;
        let def_addr = Address::new(Kind::GalleryImage, format!("{gallery}/{image}"));
        let Some(def) = self.reference(def_addr.clone()) else {
            let prefix = format!("{gallery}/");
            let known: Vec<String> = self
                .out
                .iter()
                .filter(|r| r.address.kind == Kind::GalleryImage)
                .filter_map(|r| r.address.name.strip_prefix(&prefix).map(str::to_owned))
                .collect();
            self.diags.push(super::build::dangling(
                item.file,
                &at(format!("{gallery}/{image}")),
                "image definition",
                known.iter(),
            ));
            return None;
        };
        let def_res = self.find(&def_addr)?;
        let tenant = TenantRef {
            key: def_res.tenant.clone(),
            tenant_id: def_res.tenant_id.clone(),
        };
        let os_type = match &def_res.spec {
            Spec::GalleryImage(s) => Some(s.os_type),
            _ => None,
        };
        let versions: Vec<(Address, bool)> = self
            .out
            .iter()
            .filter_map(|r| match &r.spec {
                Spec::ImageVersion(v) if v.image.address == def_addr => {
                    Some((r.address.clone(), v.exclude_from_latest))
                }
                _ => None,
            })
            .collect();
        let (image_ref, depends) = if version == "latest" {
            let eligible: Vec<Address> = versions
                .iter()
                .filter(|(_, excluded)| !excluded)
                .map(|(a, _)| a.clone())
                .collect();
            let mut depends: Vec<Address> = versions.into_iter().map(|(a, _)| a).collect();
            if depends.is_empty() {
                depends.push(def_addr.clone());
            }
            (
                ImageRef::Latest {
                    definition: def.clone(),
                    versions: eligible,
                },
                depends,
            )
        } else {
            let v_addr = Address::new(Kind::ImageVersion, format!("{gallery}/{image}/{version}"));
            let Some(v) = self.reference(v_addr.clone()) else {
                let known: Vec<String> = versions
                    .iter()
                    .map(|(a, _)| a.name.rsplit('/').next().unwrap_or_default().to_owned())
                    .collect();
                self.diags.push(super::build::dangling(
                    item.file,
                    &at(reference.value.clone()),
                    "image version",
                    known.iter(),
                ));
                return None;
            };
            (
                ImageRef::Version {
                    version: v,
                    definition: def.clone(),
                },
                vec![v_addr],
            )
        };
        Some(ResolvedImage {
            image: image_ref,
            gallery: Some(g.address),
            tenant,
            os_type,
            depends,
        })
    }
}
