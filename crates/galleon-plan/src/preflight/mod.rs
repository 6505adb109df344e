//! Preflight: the failures Azure would only report at apply time, found at plan time from
//! live data (pain-points.md: replication, security type, generation, permissions).
//!
//! Each check yields a [`CheckResult`] with what to do. Messages quote the Azure error the
//! check prevents (arm-errors.md §4), so a user who has seen it recognises it.

use std::collections::{BTreeMap, BTreeSet};

use galleon_manifest::resolve::{ImageRef, Principal, Spec};
use galleon_manifest::{Resource, Workspace};
use serde_json::Value;

use crate::live::LiveState;
use crate::lower::DesiredResource;
use crate::{CheckResult, CheckStatus, ResourceKind};

mod fit;
use fit::fit;

/// Built-in roles whose actions include `Microsoft.Compute/galleries/images/versions/read`
/// (arm-protocol.md §5.1): Owner, Contributor, Reader, Compute Gallery Image Reader,
/// Compute Gallery Artifacts Publisher.
pub const READ_ROLES: [&str; 5] = [
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "cf7c76d2-98a3-4358-a134-615aa78bf44d",
    "85a2d0d9-2eba-4c9c-b355-11c2cc0788ab",
];

/// The outcome of signing in to a tenant: galleon's service principal object id there, or
/// why Entra refused (with the hint, e.g. the consent link for AADSTS700016).
pub type SignIn = Result<String, String>;

/// What the checks look at.
#[derive(Debug)]
pub struct PreflightInput<'a> {
    /// The workspace.
    pub workspace: &'a Workspace,
    /// Lowered resources, by address.
    pub desired: &'a BTreeMap<String, &'a DesiredResource>,
    /// Everything read.
    pub live: &'a LiveState,
    /// Sign-in outcome per tenant key.
    pub sign_ins: &'a BTreeMap<String, SignIn>,
}

/// Runs every check.
pub fn checks(input: &PreflightInput<'_>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for r in input.workspace.resources() {
        match &r.spec {
            Spec::Vm(vm) => vm_checks(input, r, &vm.image, &mut out),
            Spec::GalleryGrant(g) => grant_check(input, r, &g.principal, &mut out),
            _ => {}
        }
    }
    // Passing checks repeat for every VM of a `count`; keep the first of each.
    let mut seen = BTreeSet::new();
    out.retain(|c| c.status != CheckStatus::Pass || seen.insert((c.id.clone(), c.title.clone())));
    out
}

fn vm_checks(
    input: &PreflightInput<'_>,
    vm: &Resource,
    image: &ImageRef,
    out: &mut Vec<CheckResult>,
) {
    let address = vm.address.to_string();
    let check =
        |id: &str, status, title: String, message: String, fix: Option<String>| CheckResult {
            id: id.into(),
            address: Some(address.clone()),
            status,
            title,
            message,
            fix,
        };
    let image_id = image.arm_id().to_owned();
    let (definition, version) = match image {
        ImageRef::Version {
            version,
            definition,
        } => (Some(definition), Some(version)),
        ImageRef::Latest { definition, .. } => (Some(definition), None),
        ImageRef::External { .. } => (None, None),
    };

    if let Some(t) = vm
        .image_tenant
        .as_ref()
        .filter(|t| t.tenant_id != vm.tenant_id)
    {
        let sign_in = input.sign_ins.get(&t.key);
        let same_app = app_of(input.workspace, &vm.tenant) == app_of(input.workspace, &t.key);
        out.push(match (sign_in, same_app) {
            (_, false) => check(
                "image-tenant-sign-in",
                CheckStatus::Fail,
                format!("tenants {} and {} sign in with different apps", vm.tenant, t.key),
                "ARM accepts auxiliary tokens only from the principal that makes the request: the VM write would fail with LinkedAuthorizationFailed".into(),
                Some(format!("use one multi-tenant app for both tenants (the same auth.client_id in {} and {})", vm.tenant, t.key)),
            ),
            (Some(Ok(_)), true) => check(
                "image-tenant-sign-in",
                CheckStatus::Pass,
                format!("the app signs in to image tenant {}", t.key),
                String::new(),
                None,
            ),
            (Some(Err(why)), true) => check(
                "image-tenant-sign-in",
                CheckStatus::Fail,
                format!("the app cannot sign in to image tenant {}", t.key),
                why.clone(),
                Some(consent_fix(input.workspace, &t.key, &t.tenant_id)),
            ),
            (None, true) => check(
                "image-tenant-sign-in",
                CheckStatus::Skipped,
                format!("sign-in to image tenant {}", t.key),
                "not attempted".into(),
                None,
            ),
        });
        out.push(readable(
            input,
            vm,
            &t.key,
            definition.map(|d| d.arm_id.as_str()),
            &check,
        ));
    }

    // The version: exists, succeeded, replicated to the VM's region.
    if let Some(v) = version {
        let planned = input.desired.get(&v.address.to_string()).map(|d| &d.body);
        let live = input.live.get(&v.arm_id).map(|l| &l.body);
        let state = live
            .and_then(|b| b.pointer("/properties/provisioningState"))
            .and_then(Value::as_str);
        out.push(match (live, planned, state) {
            (None, None, _) => check(
                "image-version-exists",
                CheckStatus::Fail,
                format!("image version {} does not exist", v.address),
                format!(
                    "The gallery image {} is not available in {} region.",
                    v.arm_id, vm.location
                ),
                Some(format!(
                    "create {} first, or point {} at an existing version",
                    v.address, vm.address
                )),
            ),
            (Some(_), _, Some(s)) if !s.eq_ignore_ascii_case("Succeeded") => check(
                "image-version-exists",
                CheckStatus::Fail,
                format!("image version {} is {s}", v.address),
                "a VM can only be created from a version whose provisioning succeeded".into(),
                Some("wait for replication to finish, or fix and re-publish the version".into()),
            ),
            _ => check(
                "image-version-exists",
                CheckStatus::Pass,
                format!(
                    "image version {} exists or is created by this plan",
                    v.address
                ),
                String::new(),
                None,
            ),
        });
        if let Some(body) = planned.or(live) {
            let regions: Vec<String> = body
                .pointer("/properties/publishingProfile/targetRegions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("name").and_then(Value::as_str))
                .map(norm_region)
                .collect();
            let wanted = norm_region(&vm.location);
            out.push(if regions.contains(&wanted) {
                check("image-replicated-to-vm-region", CheckStatus::Pass,
                    format!("{} is replicated to {}", v.address, vm.location), String::new(), None)
            } else {
                check(
                    "image-replicated-to-vm-region",
                    CheckStatus::Fail,
                    format!("{} is not replicated to {}", v.address, vm.location),
                    format!(
                        "The gallery image {} is not available in {} region (GalleryImageNotFound); it is replicated to {}",
                        v.arm_id, vm.location, if regions.is_empty() { "no region".into() } else { regions.join(", ") }
                    ),
                    Some(format!("add {} to target_regions of {}", vm.location, v.address)),
                )
            });
        }
    }

    // The definition against the VM: OS state, generation, security type.
    let Some(def) = definition else {
        out.push(check(
            "image-fits-vm",
            CheckStatus::Skipped,
            format!("image {image_id} is not managed here"),
            "galleon checks OS state, generation and security type only for images it manages"
                .into(),
            None,
        ));
        return;
    };
    let body = input
        .desired
        .get(&def.address.to_string())
        .map(|d| &d.body)
        .or_else(|| input.live.get(&def.arm_id).map(|l| &l.body));
    let (Some(def_body), Some(vm_body)) = (
        body,
        input.desired.get(&vm.address.to_string()).map(|d| &d.body),
    ) else {
        return;
    };
    out.push(fit(def_body, vm_body, &def.address.to_string(), &check));
}

fn readable(
    input: &PreflightInput<'_>,
    vm: &Resource,
    image_tenant: &str,
    definition_id: Option<&str>,
    check: &impl Fn(&str, CheckStatus, String, String, Option<String>) -> CheckResult,
) -> CheckResult {
    let Some(Ok(oid)) = input.sign_ins.get(image_tenant) else {
        return check(
            "image-readable",
            CheckStatus::Skipped,
            "read access to the image".into(),
            "needs a sign-in to the image tenant".into(),
            None,
        );
    };
    let Some(gallery) = definition_id.and_then(|d| {
        d.to_ascii_lowercase()
            .split("/images/")
            .next()
            .map(str::to_owned)
    }) else {
        return check(
            "image-readable",
            CheckStatus::Skipped,
            "read access to the image".into(),
            "the image is not managed by this workspace".into(),
            None,
        );
    };
    let grants_read = |body: &Value| {
        let p = &body["properties"];
        let principal = p["principalId"].as_str().unwrap_or_default();
        let role = p["roleDefinitionId"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        principal.eq_ignore_ascii_case(oid) && READ_ROLES.contains(&role.as_str())
    };
    // Listed at the gallery with atScope(): assignments at the gallery and above it.
    let live = input.live.iter().any(|l| {
        l.kind() == Some(ResourceKind::GalleryGrant)
            && gallery.starts_with(&scope_of(&l.arm_id))
            && grants_read(&l.body)
    });
    let planned = input.desired.values().find(|d| {
        d.kind == ResourceKind::GalleryGrant
            && d.arm_id.to_ascii_lowercase().starts_with(&gallery)
            && grants_read(&d.body)
    });
    match (live, planned) {
        (true, _) => check(
            "image-readable",
            CheckStatus::Pass,
            format!("the app can read images of {gallery}"),
            String::new(),
            None,
        ),
        (false, Some(g)) => check(
            "image-readable",
            CheckStatus::Pass,
            format!(
                "the app can read images of {gallery} once {} exists",
                g.address
            ),
            String::new(),
            None,
        ),
        (false, None) => check(
            "image-readable",
            CheckStatus::Fail,
            format!("the app cannot read the image in tenant {image_tenant}"),
            format!(
                "no role assignment gives principal {oid} read access to {gallery}: the VM write would fail with LinkedAuthorizationFailed"
            ),
            Some(format!(
                "add to the gallery: sharing: {{grants: [{{app: {}, role: Reader}}]}}",
                vm.tenant
            )),
        ),
    }
}

/// The scope of a role assignment id (what precedes `/providers/Microsoft.Authorization/`).
fn scope_of(assignment_id: &str) -> String {
    let lower = assignment_id.to_ascii_lowercase();
    lower
        .split("/providers/microsoft.authorization/roleassignments/")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn grant_check(
    input: &PreflightInput<'_>,
    grant: &Resource,
    principal: &Principal,
    out: &mut Vec<CheckResult>,
) {
    let Principal::App { tenant, .. } = principal else {
        return;
    };
    let resolved = input
        .desired
        .get(&grant.address.to_string())
        .and_then(|d| d.body.pointer("/properties/principalId"))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if resolved {
        return;
    }
    let why = match input.sign_ins.get(&grant.tenant) {
        Some(Err(why)) => why.clone(),
        _ if app_of(input.workspace, tenant) != app_of(input.workspace, &grant.tenant) => format!(
            "the app of tenant {tenant} is not the app galleon signs in to tenant {} with, so its object id there is unknown",
            grant.tenant
        ),
        _ => "galleon could not sign in to the gallery's tenant".into(),
    };
    out.push(CheckResult {
        id: "grant-principal".into(),
        address: Some(grant.address.to_string()),
        status: CheckStatus::Fail,
        title: format!(
            "the service principal of tenant {tenant}'s app in tenant {} is unknown",
            grant.tenant
        ),
        message: why,
        fix: Some(format!(
            "use `principal_id:` with the object id of that service principal in tenant {}",
            grant.tenant
        )),
    });
}

fn app_of<'w>(workspace: &'w Workspace, tenant: &str) -> Option<&'w str> {
    workspace.tenant(tenant).and_then(|t| t.auth.client_id())
}

fn consent_fix(workspace: &Workspace, tenant: &str, tenant_id: &str) -> String {
    match app_of(workspace, tenant) {
        Some(app) => format!(
            "an admin of tenant {tenant} consents once: https://login.microsoftonline.com/{tenant_id}/adminconsent?client_id={app} or `az ad sp create --id {app}` signed in to that tenant"
        ),
        None => {
            format!("sign in to tenant {tenant} once and check the app's service principal there")
        }
    }
}

/// Regions compare without case or spaces ("West Europe" is "westeurope").
fn norm_region(r: &str) -> String {
    r.replace(' ', "").to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
