//! Galleries with their image definitions, versions and RBAC grants.
//!
//! Grants get their deterministic role-assignment name here (UUIDv5 of workspace + address), so
//! the planner can find an existing assignment again without any state file.

use crate::address::{Address, Kind};
use crate::diag::{Code, Diagnostic};
use crate::load::Item;
use crate::model::{ImageSecurityType, ReplicaStorage};
use crate::resolve::build::{
    Builder, Placement, ROLES, dangling, name_or_key, role_assignment_name,
};
use crate::resolve::types::*;

impl Builder<'_> {
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
}
