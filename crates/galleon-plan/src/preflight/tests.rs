//! Preflight checks on the seed scenario with hand-made live state and sign-in outcomes.

use std::collections::BTreeMap;
use std::path::Path;

use galleon_manifest::Workspace;
use serde_json::json;

use super::*;
use crate::ResourceKind;
use crate::live::LiveResource;
use crate::lower::{LowerContext, lower_workspace};

const OID: &str = "5e5e5e5e-0000-4000-8000-000000000001";
const GRANT: &str = "gallery_grant.golden/consumer/Reader";

struct Scenario {
    workspace: Workspace,
    desired: Vec<DesiredResource>,
    live: LiveState,
    sign_ins: BTreeMap<String, SignIn>,
    external: BTreeMap<String, ExternalRead>,
}

impl Scenario {
    fn new() -> Scenario {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cross-tenant");
        let workspace = Workspace::load(&dir).expect("example loads");
        let mut ctx = LowerContext::default();
        ctx.principal_ids.insert(GRANT.into(), OID.into());
        let desired = lower_workspace(&workspace, &ctx).unwrap();
        let sign_ins = BTreeMap::from([("publisher".to_owned(), Ok(OID.to_owned()))]);
        Scenario {
            workspace,
            desired,
            live: LiveState::default(),
            sign_ins,
            external: BTreeMap::new(),
        }
    }

    fn body(&mut self, address: &str) -> &mut serde_json::Value {
        &mut self
            .desired
            .iter_mut()
            .find(|d| d.address == address)
            .expect("declared")
            .body
    }

    fn run(&self) -> Vec<CheckResult> {
        let by_address = self
            .desired
            .iter()
            .map(|d| (d.address.clone(), d))
            .collect();
        checks(&PreflightInput {
            workspace: &self.workspace,
            desired: &by_address,
            live: &self.live,
            sign_ins: &self.sign_ins,
            external: &self.external,
        })
    }
}

fn status(checks: &[CheckResult], id: &str) -> CheckStatus {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id} in {checks:#?}"))
        .status
}

fn failed(checks: &[CheckResult], id: &str) -> CheckResult {
    let c = checks
        .iter()
        .find(|c| c.id == id && c.status == CheckStatus::Fail);
    c.unwrap_or_else(|| panic!("{id} did not fail: {checks:#?}"))
        .clone()
}

#[test]
fn the_seed_scenario_passes_every_check_before_anything_exists() {
    let checks = Scenario::new().run();
    for id in [
        "image-tenant-sign-in",
        "image-readable",
        "image-version-exists",
        "image-replicated-to-vm-region",
        "image-fits-vm",
    ] {
        assert_eq!(status(&checks, id), CheckStatus::Pass, "{id}: {checks:#?}");
    }
    assert_eq!(checks.len(), 5);
}

#[test]
fn missing_service_principal_fails_with_the_consent_link() {
    let mut s = Scenario::new();
    s.sign_ins.insert(
        "publisher".into(),
        Err("AADSTS700016: Application not found in the directory".into()),
    );
    let checks = s.run();
    let c = failed(&checks, "image-tenant-sign-in");
    assert!(c.message.contains("AADSTS700016"));
    let fix = c.fix.unwrap();
    assert!(fix.contains("/11111111-1111-4111-8111-111111111111/adminconsent?client_id=0a0a0a0a-3333-4333-8333-333333333333"));
    assert!(fix.contains("az ad sp create --id 0a0a0a0a-3333-4333-8333-333333333333"));
    assert_eq!(status(&checks, "image-readable"), CheckStatus::Skipped);
}

#[test]
fn region_missing_from_target_regions_fails() {
    let mut s = Scenario::new();
    let regions = s
        .body("image_version.golden/ubuntu/1.0.0")
        .pointer_mut("/properties/publishingProfile/targetRegions")
        .unwrap();
    regions
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "northeurope");
    let c = failed(&s.run(), "image-replicated-to-vm-region");
    assert!(c.message.contains("is not available in northeurope region"));
    assert_eq!(
        c.fix.as_deref(),
        Some("add northeurope to target_regions of image_version.golden/ubuntu/1.0.0")
    );
}

#[test]
fn live_version_that_failed_provisioning_fails() {
    let mut s = Scenario::new();
    let version = s
        .desired
        .iter()
        .find(|d| d.kind == ResourceKind::ImageVersion)
        .unwrap()
        .clone();
    let mut body = version.body.clone();
    body["properties"]["provisioningState"] = json!("Failed");
    s.live.insert(LiveResource::new(
        version.arm_id,
        "publisher".into(),
        version.tenant_id,
        body,
    ));
    // Declared by the workspace: the plan writes it again before the VM, so it may proceed.
    assert!(
        !s.run()
            .iter()
            .any(|c| c.id == "image-version-exists" && c.status == CheckStatus::Fail)
    );
    // Not declared (someone else's version): nothing galleon does will fix it.
    s.desired.retain(|d| d.kind != ResourceKind::ImageVersion);
    assert!(
        failed(&s.run(), "image-version-exists")
            .title
            .contains("is Failed")
    );
}

#[test]
fn specialized_image_with_admin_user_fails() {
    let mut s = Scenario::new();
    s.body("gallery_image.golden/ubuntu")["properties"]["osState"] = json!("Specialized");
    let c = failed(&s.run(), "image-fits-vm");
    assert!(c.message.contains("Parameter 'osProfile' is not allowed."));
}

#[test]
fn trusted_launch_vm_needs_generation_2_and_a_supporting_image() {
    let mut s = Scenario::new();
    s.body("gallery_image.golden/ubuntu")["properties"]["hyperVGeneration"] = json!("V1");
    assert!(
        failed(&s.run(), "image-fits-vm")
            .message
            .contains("generation V1")
    );

    let mut s = Scenario::new();
    s.body("gallery_image.golden/ubuntu")["properties"]["features"] =
        json!([{"name": "SecurityType", "value": "TrustedLaunch"}]);
    s.body("vm.web")["properties"]
        .as_object_mut()
        .unwrap()
        .remove("securityProfile");
    assert!(
        failed(&s.run(), "image-fits-vm")
            .message
            .contains("only supports creation of VMs and VM Scale Sets with 'TrustedLaunch'")
    );
}

#[test]
fn without_a_grant_the_image_is_unreadable_unless_a_live_assignment_covers_it() {
    let mut s = Scenario::new();
    s.desired.retain(|d| d.kind != ResourceKind::GalleryGrant);
    let c = failed(&s.run(), "image-readable");
    assert!(c.message.contains(OID));
    assert!(c.fix.unwrap().contains("app: consumer, role: Reader"));

    // A Reader assignment at the subscription, listed at the gallery with atScope().
    s.live.insert(LiveResource::new(
        "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/providers/Microsoft.Authorization/roleAssignments/1".into(),
        "publisher".into(),
        "11111111-1111-4111-8111-111111111111".into(),
        json!({"properties": {"principalId": OID.to_uppercase(),
            "roleDefinitionId": "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"}}),
    ));
    assert_eq!(status(&s.run(), "image-readable"), CheckStatus::Pass);
}

#[test]
fn a_grant_whose_principal_is_unknown_fails() {
    let mut s = Scenario::new();
    s.body(GRANT)["properties"]["principalId"] = json!("");
    s.sign_ins.insert(
        "publisher".into(),
        Err("AADSTS7000215: Invalid client secret provided.".into()),
    );
    let c = failed(&s.run(), "grant-principal");
    assert_eq!(c.address.as_deref(), Some(GRANT));
    assert!(c.message.contains("AADSTS7000215"));
}

const VERSION_ID: &str = "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/golden_images/images/ubuntu/versions/1.0.0";

/// The consumer half alone: the VM names the publisher's version by id.
fn consumer_only() -> (tempfile::TempDir, Scenario) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cross-tenant");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        examples.join("tenants.yaml"),
        dir.path().join("tenants.yaml"),
    )
    .unwrap();
    let app = std::fs::read_to_string(examples.join("app.yaml"))
        .unwrap()
        .replace(
            "image: golden/ubuntu/1.0.0",
            &format!("image: {VERSION_ID}\n    image_tenant: publisher"),
        );
    std::fs::write(dir.path().join("app.yaml"), app).unwrap();
    let workspace = Workspace::load(dir.path()).expect("consumer workspace loads");
    let desired = lower_workspace(&workspace, &LowerContext::default()).unwrap();
    let sign_ins = BTreeMap::from([("publisher".to_owned(), Ok(OID.to_owned()))]);
    let s = Scenario {
        workspace,
        desired,
        live: LiveState::default(),
        sign_ins,
        external: BTreeMap::new(),
    };
    (dir, s)
}

fn publish(s: &mut Scenario, regions: &[&str]) {
    let definition = VERSION_ID.split("/versions/").next().unwrap();
    let targets: Vec<_> = regions.iter().map(|r| json!({"name": r})).collect();
    for (id, body) in [
        (
            VERSION_ID,
            json!({"properties": {"provisioningState": "Succeeded", "publishingProfile": {"targetRegions": targets}}}),
        ),
        (
            definition,
            json!({"properties": {"osState": "Generalized", "hyperVGeneration": "V2",
            "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}}),
        ),
    ] {
        s.live.insert(LiveResource::new(
            id.into(),
            "publisher".into(),
            "11111111-1111-4111-8111-111111111111".into(),
            body,
        ));
        s.external
            .insert(id.to_ascii_lowercase(), ExternalRead::Found);
    }
}

#[test]
fn a_referenced_image_read_in_its_tenant_passes_every_check() {
    let (_dir, mut s) = consumer_only();
    publish(&mut s, &["West Europe", "North Europe"]);
    let checks = s.run();
    for id in [
        "image-tenant-sign-in",
        "image-readable",
        "image-version-exists",
        "image-replicated-to-vm-region",
        "image-fits-vm",
    ] {
        assert_eq!(status(&checks, id), CheckStatus::Pass, "{id}: {checks:#?}");
    }
}

#[test]
fn a_referenced_image_in_the_wrong_regions_fails_with_the_owners_fix() {
    let (_dir, mut s) = consumer_only();
    publish(&mut s, &["westeurope"]);
    let c = failed(&s.run(), "image-replicated-to-vm-region");
    assert!(c.fix.unwrap().contains("ask the image owner to replicate"));
}

#[test]
fn a_referenced_image_the_app_may_not_read_fails_readable_and_skips_existence() {
    let (_dir, mut s) = consumer_only();
    s.external.insert(
        VERSION_ID.to_ascii_lowercase(),
        ExternalRead::Refused("403 AuthorizationFailed".into()),
    );
    let checks = s.run();
    let c = failed(&checks, "image-readable");
    assert!(c.message.contains("403 AuthorizationFailed"));
    assert_eq!(
        status(&checks, "image-version-exists"),
        CheckStatus::Skipped
    );

    let (_dir, mut s) = consumer_only();
    s.external
        .insert(VERSION_ID.to_ascii_lowercase(), ExternalRead::NotFound);
    assert!(
        failed(&s.run(), "image-version-exists")
            .message
            .contains("is not available in northeurope region")
    );
}

#[test]
fn latest_needs_an_eligible_version_in_the_vm_region() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
    let workspace = Workspace::load(&dir).expect("fleet loads");
    let mut desired = lower_workspace(&workspace, &LowerContext::default()).unwrap();
    let sign_ins = BTreeMap::new();
    let run = |desired: &[DesiredResource]| {
        let by_address = desired.iter().map(|d| (d.address.clone(), d)).collect();
        let live = LiveState::default();
        let external = BTreeMap::new();
        checks(&PreflightInput {
            workspace: &workspace,
            desired: &by_address,
            live: &live,
            sign_ins: &sign_ins,
            external: &external,
        })
    };
    let central = |checks: &[CheckResult]| {
        checks
            .iter()
            .find(|c| {
                c.id == "image-replicated-to-vm-region"
                    && c.address.as_deref() == Some("vm.central[0]")
            })
            .cloned()
    };
    assert_eq!(
        central(&run(&desired)).map(|c| c.status),
        Some(CheckStatus::Pass)
    );
    for d in desired
        .iter_mut()
        .filter(|d| d.kind == ResourceKind::ImageVersion)
    {
        d.body["properties"]["publishingProfile"]["excludeFromLatest"] = json!(true);
    }
    let c = central(&run(&desired)).expect("a failure for the first central VM");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.message.contains("gallery_image.fleet/worker"));
}

#[test]
fn direct_sharing_creates_a_groups_gallery_and_warns_no_more() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cross-tenant");
    let dir = tempfile::tempdir().unwrap();
    for name in ["app.yaml", "tenants.yaml"] {
        std::fs::copy(examples.join(name), dir.path().join(name)).unwrap();
    }
    let images = std::fs::read_to_string(examples.join("images.yaml")).unwrap().replace(
        "    sharing:\n",
        "    sharing:\n      direct:\n        tenants: [22222222-2222-4222-8222-222222222222]\n",
    );
    std::fs::write(dir.path().join("images.yaml"), images).unwrap();
    let workspace = Workspace::load(dir.path()).expect("loads");
    let desired = lower_workspace(&workspace, &LowerContext::default()).unwrap();
    let gallery = desired
        .iter()
        .find(|d| d.kind == ResourceKind::Gallery)
        .unwrap();
    assert_eq!(
        gallery.body["properties"]["sharingProfile"],
        json!({"permissions": "Groups"})
    );
    let s = Scenario {
        workspace,
        desired,
        live: LiveState::default(),
        sign_ins: BTreeMap::new(),
        external: BTreeMap::new(),
    };
    // The members are planned (`gallery_share.golden`), so nothing is left to warn about.
    assert!(s.run().iter().all(|c| c.status != CheckStatus::Warn));
}
