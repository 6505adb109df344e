//! VM rules: the VM must be buildable from its image in its region, with its size, its security
//! type, its OS profile, and — across tenants — with access to the image.
//!
//! Each rule mirrors a synchronous rejection of the VM PUT (see /work/shared/azure/arm-errors.md
//! §4): GalleryImageNotFound "is not available in `<region>` region" (§4.1), the TrustedLaunch
//! BadRequest (§4.4), LinkedAuthorizationFailed for a missing cross-tenant grant (§1), and the
//! Hyper-V generation mismatch of a size that only supports one generation. Catching them here
//! turns a failed apply into a failed `validate`.

use std::collections::BTreeSet;

use crate::address::{Address, Kind};
use crate::diag::{Code, Diagnostic};
use crate::load::Manifest;
use crate::resolve::{AuthMethod, GalleryImageSpec, ImageRef, Resource, Spec, TenantSpec};

use super::compat::{SSH_KEY_TYPES, os_profile, security, size};
use super::images::same_region;

fn find<'r>(resources: &'r [Resource], address: &Address) -> Option<&'r Resource> {
    resources.iter().find(|r| &r.address == address)
}

/// Runs the VM rules.
pub fn check(
    m: &Manifest,
    tenants: &[TenantSpec],
    resources: &[Resource],
    out: &mut Vec<Diagnostic>,
) {
    let mut mi_reported = BTreeSet::new();
    for (key, item) in &m.virtual_machines {
        let vm = &item.value;
        let file = item.file;
        if let Some(k) = &vm.ssh_public_key
            && k.value == crate::model::SshKey::PrivateKey
        {
            out.push(
                Diagnostic::at(Code::InlineSecret, file, k.loc, crate::resolve::INLINE_SECRET)
                    .label("this is a private key")
                    .help("give the public key (ssh-ed25519 AAAA...) or `{file: ~/.ssh/id_ed25519.pub}`; treat the pasted private key as exposed"),
            );
        }
        if let Some(k) = &vm.ssh_public_key
            && let crate::model::SshKey::Inline(key) = &k.value
            && !SSH_KEY_TYPES
                .iter()
                .any(|t| key.trim_start().starts_with(t))
        {
            out.push(
                Diagnostic::at(
                    Code::InvalidValue,
                    file,
                    k.loc,
                    "ssh_public_key is not an OpenSSH public key Azure accepts",
                )
                .label("expected `ssh-rsa AAAA...` or `ssh-ed25519 AAAA...`")
                .help("Azure accepts RSA (2048 bits or more) and Ed25519 keys in OpenSSH format"),
            );
        }
        if let Some(size) = vm.os_disk.as_ref().and_then(|d| d.size_gb.as_ref())
            && !(1..=4095).contains(&size.value)
        {
            out.push(
                Diagnostic::at(
                    Code::InvalidValue,
                    file,
                    size.loc,
                    "os_disk.size_gb must be 1-4095",
                )
                .label("out of range")
                .help("an OS disk is at most 4 TiB (4095 GiB)"),
            );
        }
        // All instances share image, size and tenant: check the first.
        let Some(r) = resources
            .iter()
            .find(|r| r.address.kind == Kind::Vm && r.address.name == *key)
        else {
            continue;
        };
        let Spec::Vm(spec) = &r.spec else { continue };
        let image_loc = vm.image.loc;

        if r.image_tenant.is_some() {
            for t in [
                Some(r.tenant.as_str()),
                r.image_tenant.as_ref().map(|t| t.key.as_str()),
            ]
            .into_iter()
            .flatten()
            {
                let is_mi = tenants
                    .iter()
                    .any(|s| s.key == t && matches!(s.auth, AuthMethod::ManagedIdentity { .. }));
                if is_mi && mi_reported.insert(t.to_owned()) {
                    let titem = &m.tenants[t];
                    let loc = titem
                        .value
                        .auth
                        .managed_identity
                        .as_ref()
                        .map(|b| b.loc)
                        .unwrap_or(titem.key.loc);
                    out.push(
                        Diagnostic::at(
                            Code::ManagedIdentityCrossTenant,
                            titem.file,
                            loc,
                            format!("tenant `{t}` signs in with a managed identity, but VM `{key}` builds across tenants with it"),
                        )
                        .label("managed identity")
                        .help("a managed identity cannot obtain tokens for another tenant; use a multi-tenant app (client_secret or federated_token_file)"),
                    );
                }
            }
        }

        let (def_addr, versions): (&Address, Vec<&Address>) = match &spec.image {
            ImageRef::External { .. } => continue,
            ImageRef::Version {
                version,
                definition,
            } => (&definition.address, vec![&version.address]),
            ImageRef::Latest {
                definition,
                versions,
            } => (&definition.address, versions.iter().collect()),
        };
        let Some(def_res) = find(resources, def_addr) else {
            continue;
        };
        let Spec::GalleryImage(def) = &def_res.spec else {
            continue;
        };

        // Region: the VM's region must hold a replica of the version it boots.
        if matches!(spec.image, ImageRef::Latest { .. }) && versions.is_empty() {
            out.push(
                Diagnostic::at(
                    Code::NoLatestVersion,
                    file,
                    image_loc,
                    format!("`{}` has no version eligible for latest", vm.image.value),
                )
                .label("every version is excluded from latest (or there is none)")
                .help("Azure: \"There is no latest image version exists\"; pin a version or unset exclude_from_latest"),
            );
        } else {
            let regions: Vec<&str> = versions
                .iter()
                .filter_map(|a| find(resources, a))
                .filter_map(|v| match &v.spec {
                    Spec::ImageVersion(s) => Some(s),
                    _ => None,
                })
                .flat_map(|s| s.target_regions.iter().map(|t| t.region.as_str()))
                .collect();
            if !regions.iter().any(|reg| same_region(reg, &r.location)) {
                let mut listed: Vec<&str> = regions.clone();
                listed.dedup();
                out.push(
                    Diagnostic::at(
                        Code::RegionNotReplicated,
                        file,
                        image_loc,
                        format!(
                            "VM `{key}` is in `{}` but `{}` is only replicated to {}",
                            r.location,
                            vm.image.value,
                            listed.join(", ")
                        ),
                    )
                    .label("no replica in the VM's region")
                    .help(format!(
                        "add `- region: {}` to the version's target_regions",
                        r.location
                    )),
                );
            }
        }

        os_profile(key, vm, def, file, out);
        security(key, vm, spec.security_type, def, file, out);
        size(key, vm, def, file, out);
        access(
            key,
            r,
            spec.grant.as_ref(),
            def,
            resources,
            file,
            image_loc,
            out,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn access(
    key: &str,
    r: &Resource,
    grant: Option<&Address>,
    def: &GalleryImageSpec,
    resources: &[Resource],
    file: usize,
    loc: crate::span::Loc,
    out: &mut Vec<Diagnostic>,
) {
    let Some(image_tenant) = &r.image_tenant else {
        return;
    };
    if grant.is_some() {
        return;
    }
    let direct = find(resources, &def.gallery.address).and_then(|g| match &g.spec {
        Spec::Gallery(s) => s.direct_share.as_ref(),
        _ => None,
    });
    let shared = direct.is_some_and(|d| {
        d.tenants
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&r.tenant_id))
            || d.subscriptions
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&r.subscription))
    });
    if !shared {
        out.push(
            Diagnostic::at(
                Code::CrossTenantAccess,
                file,
                loc,
                format!(
                    "VM `{key}` (tenant `{}`) uses an image in tenant `{}`, but gallery `{}` grants tenant `{}`'s app no access",
                    r.tenant, image_tenant.key, def.gallery.address.name, r.tenant
                ),
            )
            .label("no access to this image")
            .help(format!(
                "add `sharing: {{grants: [{{app: {}, role: Reader}}]}}` to gallery `{}` (without it Azure answers LinkedAuthorizationFailed)",
                r.tenant, def.gallery.address.name
            )),
        );
    }
}
