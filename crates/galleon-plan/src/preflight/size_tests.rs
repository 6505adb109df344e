//! The VM size against the live image definition, for an image referenced by raw id: manifest
//! validation cannot see such an image, so only preflight can predict Compute's 400.

use std::collections::BTreeMap;
use std::path::Path;

use galleon_manifest::Workspace;
use serde_json::{Value, json};

use super::*;
use crate::live::LiveResource;
use crate::lower::{LowerContext, lower_workspace};

const VERSION_ID: &str = "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/golden_images/images/ubuntu/versions/1.0.0";

/// Checks of the example's consumer half with the VM naming the version by id, at `size`,
/// against a live definition of `generation`.
fn run(size: &str, generation: &str) -> Vec<CheckResult> {
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
        )
        .replace("size: Standard_D2s_v5", &format!("size: {size}"))
        .replace("security_type: TrustedLaunch", "security_type: Standard");
    std::fs::write(dir.path().join("app.yaml"), app).unwrap();
    let workspace = Workspace::load(dir.path()).expect("consumer workspace loads");
    let desired = lower_workspace(&workspace, &LowerContext::default()).unwrap();
    let mut live = LiveState::default();
    let mut external = BTreeMap::new();
    let definition = VERSION_ID.split("/versions/").next().unwrap();
    let bodies: [(&str, Value); 2] = [
        (
            VERSION_ID,
            json!({"properties": {"provisioningState": "Succeeded",
                "publishingProfile": {"targetRegions": [{"name": "North Europe"}]}}}),
        ),
        (
            definition,
            json!({"properties": {"osState": "Generalized", "hyperVGeneration": generation}}),
        ),
    ];
    for (id, body) in bodies {
        live.insert(LiveResource::new(
            id.into(),
            "publisher".into(),
            "11111111-1111-4111-8111-111111111111".into(),
            body,
        ));
        external.insert(id.to_ascii_lowercase(), ExternalRead::Found);
    }
    let by_address = desired.iter().map(|d| (d.address.clone(), d)).collect();
    let sign_ins = BTreeMap::from([("publisher".to_owned(), Ok("oid".to_owned()))]);
    checks(&PreflightInput {
        workspace: &workspace,
        desired: &by_address,
        live: &live,
        sign_ins: &sign_ins,
        external: &external,
    })
}

fn fits(checks: &[CheckResult]) -> &CheckResult {
    checks.iter().find(|c| c.id == "image-fits-vm").unwrap()
}

#[test]
fn a_gen1_only_size_fails_against_a_v2_image_referenced_by_id() {
    let checks = run("Standard_A2_v2", "V2");
    let c = fits(&checks);
    assert_eq!(c.status, CheckStatus::Fail, "{c:#?}");
    assert_eq!(c.address.as_deref(), Some("vm.web"));
    assert!(
        c.message.contains(
            "The selected VM size 'Standard_A2_v2' cannot boot Hypervisor Generation '2'"
        ),
        "{}",
        c.message
    );
    let fix = c.fix.as_deref().unwrap();
    assert!(fix.contains("pick a size that boots generation 2"), "{fix}");
}

#[test]
fn the_same_size_fits_a_v1_image_and_a_gen2_size_fits_the_v2_image() {
    assert_eq!(fits(&run("Standard_A2_v2", "V1")).status, CheckStatus::Pass);
    assert_eq!(
        fits(&run("Standard_D2s_v5", "V2")).status,
        CheckStatus::Pass
    );
}
