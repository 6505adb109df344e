//! Preflight: the failures Azure would only report at apply time, found at plan time from
//! live data (pain-points.md: replication, security type, generation, permissions).
//!
//! Each check yields a [`CheckResult`] with what to do. Messages quote the Azure error the
//! check prevents (arm-errors.md §4), so a user who has seen it recognises it.

use std::collections::{BTreeMap, BTreeSet};

use galleon_manifest::resolve::{Principal, Spec};
use galleon_manifest::{Resource, Workspace};
use serde_json::Value;

use crate::live::LiveState;
use crate::lower::DesiredResource;
use crate::{CheckResult, CheckStatus};

mod fit;
mod image;
mod quota;

use image::{Grants, vm_checks};
pub use quota::{quota_checks, usage_scopes};

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
    /// Images galleon does not manage, read directly: lower-cased id to the failure, if any.
    pub external: &'a BTreeMap<String, ExternalRead>,
}

/// The outcome of reading an image this workspace does not manage, in the image's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalRead {
    /// Read (the body is in the live state).
    Found,
    /// ARM answered 404.
    NotFound,
    /// ARM refused (403) or failed otherwise: the message, hint included.
    Refused(String),
}

/// Runs every check.
pub fn checks(input: &PreflightInput<'_>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let grants = Grants::of(input);
    for r in input.workspace.resources() {
        match &r.spec {
            Spec::Vm(vm) => vm_checks(input, &grants, r, &vm.image, &mut out),
            Spec::GalleryGrant(g) => grant_check(input, r, &g.principal, &mut out),
            _ => {}
        }
    }
    // Passing checks repeat for every VM of a `count`; keep the first of each.
    let mut seen = BTreeSet::new();
    out.retain(|c| c.status != CheckStatus::Pass || seen.insert((c.id.clone(), c.title.clone())));
    out
}

/// The scope of a role assignment id (what precedes `/providers/Microsoft.Authorization/`).
pub(super) fn scope_of(assignment_id: &str) -> String {
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
        .and_then(|d| crate::field(&d.body, &["properties", "principalId"]))
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

pub(super) fn app_of<'w>(workspace: &'w Workspace, tenant: &str) -> Option<&'w str> {
    workspace.tenant(tenant).and_then(|t| t.auth.client_id())
}

pub(super) fn consent_fix(workspace: &Workspace, tenant: &str, tenant_id: &str) -> String {
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
pub(super) fn norm_region(r: &str) -> String {
    r.replace(' ', "").to_ascii_lowercase()
}

#[cfg(test)]
mod size_tests;
#[cfg(test)]
mod tests;
