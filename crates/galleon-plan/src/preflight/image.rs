//! A VM against the image it boots from: can the app sign in to the image's tenant and read
//! the image, does the version exist and succeed, is it replicated to the VM's region, does
//! it fit the VM. Works the same for images this workspace manages (planned bodies win over
//! live ones, since apply creates them first) and for images it only references (read
//! directly in the image's tenant).

use galleon_manifest::Resource;
use galleon_manifest::resolve::ImageRef;
use serde_json::Value;

use super::fit::fit;
use super::{ExternalRead, PreflightInput, READ_ROLES, app_of, consent_fix, norm_region, scope_of};
use crate::lower::DesiredResource;
use crate::{CheckResult, CheckStatus, ResourceKind};

/// A version or definition the VM uses: how to name it, its id, its address when managed.
struct Target {
    label: String,
    arm_id: String,
    address: Option<String>,
}

impl Target {
    /// The body after apply: the planned one when managed, else what is live.
    fn body<'a>(&self, input: &'a PreflightInput<'_>) -> Option<&'a Value> {
        let planned = self
            .address
            .as_ref()
            .and_then(|a| input.desired.get(a))
            .map(|d| &d.body);
        planned.or_else(|| input.live.get(&self.arm_id).map(|l| &l.body))
    }
}

fn targets(image: &ImageRef) -> (Option<Target>, Option<Target>) {
    let managed = |r: &galleon_manifest::resolve::Ref| Target {
        label: r.address.to_string(),
        arm_id: r.arm_id.clone(),
        address: Some(r.address.to_string()),
    };
    match image {
        ImageRef::Version {
            version,
            definition,
        } => (Some(managed(definition)), Some(managed(version))),
        ImageRef::Latest { definition, .. } => (Some(managed(definition)), None),
        ImageRef::External { arm_id } => {
            let lower = arm_id.to_ascii_lowercase();
            let external = |id: &str| Target {
                label: id.to_owned(),
                arm_id: id.to_owned(),
                address: None,
            };
            match lower.find("/versions/") {
                Some(i) if lower.contains("/galleries/") => {
                    (Some(external(&arm_id[..i])), Some(external(arm_id)))
                }
                _ if lower.contains("/galleries/") => (Some(external(arm_id)), None),
                // A managed image or a marketplace id: nothing galleon can check.
                _ => (None, None),
            }
        }
    }
}

/// Builds a check result for one VM.
pub(super) type Check<'c> =
    dyn Fn(&str, CheckStatus, String, String, Option<String>) -> CheckResult + 'c;

/// Role assignments that exist or are planned, gathered once: every VM of a large fleet asks
/// whether one lets the app read its image, and scanning everything read per VM was
/// quadratic.
pub(super) struct Grants<'a> {
    /// Live ones: the lower-cased scope of each, and its body.
    live: Vec<(String, &'a Value)>,
    /// Planned ones, by address: the lower-cased id of each, and the resource.
    planned: Vec<(String, &'a DesiredResource)>,
}

impl<'a> Grants<'a> {
    pub(super) fn of(input: &PreflightInput<'a>) -> Grants<'a> {
        let live = input
            .live
            .iter()
            .filter(|l| l.kind() == Some(ResourceKind::GalleryGrant))
            .map(|l| (scope_of(&l.arm_id), &l.body))
            .collect();
        let planned = input
            .desired
            .values()
            .filter(|d| d.kind == ResourceKind::GalleryGrant)
            .map(|d| (d.arm_id.to_ascii_lowercase(), *d))
            .collect();
        Grants { live, planned }
    }
}

pub(super) fn vm_checks(
    input: &PreflightInput<'_>,
    grants: &Grants<'_>,
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
    let (definition, version) = targets(image);
    if let Some(t) = vm
        .image_tenant
        .as_ref()
        .filter(|t| t.tenant_id != vm.tenant_id)
    {
        out.push(sign_in(input, vm, &t.key, &t.tenant_id, &check));
        let probe = version.as_ref().or(definition.as_ref());
        out.push(readable(input, grants, vm, &t.key, probe, &check));
    }
    if let Some(v) = &version {
        out.push(exists(input, vm, v, &check));
        if let Some(body) = v.body(input) {
            out.push(replicated(vm, v, body, &check));
        }
    }
    if let ImageRef::Latest {
        definition,
        versions,
    } = image
    {
        out.push(latest(
            input,
            vm,
            &definition.address.to_string(),
            versions,
            &check,
        ));
    }
    let def_body = definition.as_ref().and_then(|d| d.body(input));
    let vm_body = input.desired.get(&address).map(|d| &d.body);
    match (definition, def_body, vm_body) {
        (Some(d), Some(def_body), Some(vm_body)) => out.push(fit(def_body, vm_body, &d.label, &check)),
        _ => out.push(check(
            "image-fits-vm",
            CheckStatus::Skipped,
            format!("image {} could not be inspected", image.arm_id()),
            "OS state, generation and security type are checked for gallery images galleon can read".into(),
            None,
        )),
    }
}

fn sign_in(
    input: &PreflightInput<'_>,
    vm: &Resource,
    key: &str,
    tenant_id: &str,
    check: &Check<'_>,
) -> CheckResult {
    if app_of(input.workspace, &vm.tenant) != app_of(input.workspace, key) {
        return check(
            "image-tenant-sign-in",
            CheckStatus::Fail,
            format!("tenants {} and {key} sign in with different apps", vm.tenant),
            "ARM accepts auxiliary tokens only from the principal that makes the request: the VM write would fail with LinkedAuthorizationFailed".into(),
            Some(format!("use one multi-tenant app for both tenants (the same auth.client_id in {} and {key})", vm.tenant)),
        );
    }
    match input.sign_ins.get(key) {
        Some(Ok(_)) => check(
            "image-tenant-sign-in",
            CheckStatus::Pass,
            format!("the app signs in to image tenant {key}"),
            String::new(),
            None,
        ),
        Some(Err(why)) => check(
            "image-tenant-sign-in",
            CheckStatus::Fail,
            format!("the app cannot sign in to image tenant {key}"),
            why.clone(),
            Some(consent_fix(input.workspace, key, tenant_id)),
        ),
        None => check(
            "image-tenant-sign-in",
            CheckStatus::Skipped,
            format!("sign-in to image tenant {key}"),
            "not attempted".into(),
            None,
        ),
    }
}

fn readable(
    input: &PreflightInput<'_>,
    grants: &Grants<'_>,
    vm: &Resource,
    image_tenant: &str,
    probe: Option<&Target>,
    check: &Check<'_>,
) -> CheckResult {
    let skipped = |why: &str| {
        check(
            "image-readable",
            CheckStatus::Skipped,
            "read access to the image".into(),
            why.into(),
            None,
        )
    };
    let Some(Ok(oid)) = input.sign_ins.get(image_tenant) else {
        return skipped("needs a sign-in to the image tenant");
    };
    let Some(probe) = probe else {
        return skipped("the image is not a gallery image");
    };
    let grant_fix = Some(format!(
        "add to the gallery: sharing: {{grants: [{{app: {}, role: Reader}}]}}",
        vm.tenant
    ));
    if probe.address.is_none() {
        // Not managed here: the direct read in the image tenant, with the app's own token, is
        // the very permission the VM write needs.
        return match input.external.get(&probe.arm_id.to_ascii_lowercase()) {
            Some(ExternalRead::Found) => check(
                "image-readable",
                CheckStatus::Pass,
                format!("the app reads {} in tenant {image_tenant}", probe.label),
                String::new(),
                None,
            ),
            Some(ExternalRead::Refused(why)) => check(
                "image-readable",
                CheckStatus::Fail,
                format!("the app cannot read the image in tenant {image_tenant}"),
                format!("{why}\nthe VM write would fail with LinkedAuthorizationFailed"),
                Some(format!(
                    "ask the image owner for Reader (or Compute Gallery Image Reader) on the gallery for the app's service principal {oid}"
                )),
            ),
            Some(ExternalRead::NotFound) | None => {
                skipped("the image was not found (see image-version-exists)")
            }
        };
    }
    let gallery = probe
        .arm_id
        .to_ascii_lowercase()
        .split("/images/")
        .next()
        .unwrap_or_default()
        .to_owned();
    let grants_read = |body: &Value| {
        let p = &body["properties"];
        let principal = p["principalId"].as_str().unwrap_or_default();
        let role = p["roleDefinitionId"].as_str().unwrap_or_default();
        let role = role
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        principal.eq_ignore_ascii_case(oid) && READ_ROLES.contains(&role.as_str())
    };
    // Listed at the gallery with atScope(): assignments at the gallery and above it.
    let live = grants
        .live
        .iter()
        .any(|(scope, body)| gallery.starts_with(scope.as_str()) && grants_read(body));
    let planned = grants
        .planned
        .iter()
        .find(|(id, d)| id.starts_with(&gallery) && grants_read(&d.body))
        .map(|(_, d)| *d);
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
            grant_fix,
        ),
    }
}

fn exists(input: &PreflightInput<'_>, vm: &Resource, v: &Target, check: &Check<'_>) -> CheckResult {
    let planned = v
        .address
        .as_ref()
        .is_some_and(|a| input.desired.contains_key(a));
    let live = input.live.get(&v.arm_id).map(|l| &l.body);
    let state = live
        .and_then(|b| crate::field(b, &["properties", "provisioningState"]))
        .and_then(Value::as_str);
    let unreadable = matches!(
        input.external.get(&v.arm_id.to_ascii_lowercase()),
        Some(ExternalRead::Refused(_))
    );
    match (live, planned, state) {
        (None, false, _) if unreadable => check(
            "image-version-exists",
            CheckStatus::Skipped,
            format!("image version {}", v.label),
            "the app cannot read it (see image-readable)".into(),
            None,
        ),
        (None, false, _) => check(
            "image-version-exists",
            CheckStatus::Fail,
            format!("image version {} does not exist", v.label),
            format!(
                "The gallery image {} is not available in {} region.",
                v.arm_id, vm.location
            ),
            Some(format!(
                "create {} first, or point {} at an existing version",
                v.label, vm.address
            )),
        ),
        // A failed version this plan declares is written again before the VM (the diff plans
        // a failed resource as an update); only someone else's failed version is final.
        (Some(_), false, Some(s)) if !s.eq_ignore_ascii_case("Succeeded") => check(
            "image-version-exists",
            CheckStatus::Fail,
            format!("image version {} is {s}", v.label),
            "a VM can only be created from a version whose provisioning succeeded".into(),
            Some("wait for replication to finish, or fix and re-publish the version".into()),
        ),
        _ => check(
            "image-version-exists",
            CheckStatus::Pass,
            format!(
                "image version {} exists or is created by this plan",
                v.label
            ),
            String::new(),
            None,
        ),
    }
}

fn replicated(vm: &Resource, v: &Target, body: &Value, check: &Check<'_>) -> CheckResult {
    let regions: Vec<String> =
        crate::field(body, &["properties", "publishingProfile", "targetRegions"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("name").and_then(Value::as_str))
            .map(norm_region)
            .collect();
    if regions.contains(&norm_region(&vm.location)) {
        return check(
            "image-replicated-to-vm-region",
            CheckStatus::Pass,
            format!("{} is replicated to {}", v.label, vm.location),
            String::new(),
            None,
        );
    }
    let fix = match &v.address {
        Some(a) => format!("add {} to target_regions of {a}", vm.location),
        None => format!(
            "ask the image owner to replicate {} to {}, or place {} in {}",
            v.label,
            vm.location,
            vm.address,
            regions.join(" or ")
        ),
    };
    check(
        "image-replicated-to-vm-region",
        CheckStatus::Fail,
        format!("{} is not replicated to {}", v.label, vm.location),
        format!(
            "The gallery image {} is not available in {} region (GalleryImageNotFound); it is replicated to {}",
            v.arm_id,
            vm.location,
            if regions.is_empty() {
                "no region".into()
            } else {
                regions.join(", ")
            }
        ),
        Some(fix),
    )
}

/// `latest` resolves, in the VM's region, to the newest version not excluded from latest
/// (arm-errors.md §4.1, "There is no latest image version exists for ...").
fn latest(
    input: &PreflightInput<'_>,
    vm: &Resource,
    definition: &str,
    versions: &[galleon_manifest::Address],
    check: &Check<'_>,
) -> CheckResult {
    let region = norm_region(&vm.location);
    let eligible = versions
        .iter()
        .filter_map(|a| input.desired.get(&a.to_string()))
        .any(|d| {
            let p = &d.body["properties"]["publishingProfile"];
            let excluded = p["excludeFromLatest"].as_bool().unwrap_or(false);
            let regions = p["targetRegions"].as_array().into_iter().flatten();
            !excluded
                && regions
                    .filter_map(|r| r["name"].as_str())
                    .any(|r| norm_region(r) == region)
        });
    if eligible {
        return check(
            "image-replicated-to-vm-region",
            CheckStatus::Pass,
            format!(
                "the latest version of {definition} is available in {}",
                vm.location
            ),
            String::new(),
            None,
        );
    }
    check(
        "image-replicated-to-vm-region",
        CheckStatus::Fail,
        format!(
            "no version of {definition} eligible for latest is replicated to {}",
            vm.location
        ),
        format!(
            "The gallery image {definition} is not available in {} region (GalleryImageNotFound)",
            vm.location
        ),
        Some(format!(
            "replicate a version of {definition} to {} (target_regions) with exclude_from_latest unset",
            vm.location
        )),
    )
}
