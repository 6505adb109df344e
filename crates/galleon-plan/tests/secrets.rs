//! A plan never holds a secret: built from a workspace whose credentials are references to a
//! canary secret, neither the plan file nor its JSON contains the canary.

use std::path::Path;

use galleon_manifest::Workspace;
use galleon_plan::live::LiveState;
use galleon_plan::lower::{LowerContext, lower_workspace};
use galleon_plan::{PlanInput, build_plan};

const CANARY: &str = "CANARY-s3cr3t-9f4e2b7a-do-not-print";

#[test]
fn plans_from_secret_references_never_contain_the_secret() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cross-tenant");
    let dir = tempfile::tempdir().unwrap();
    for name in ["app.yaml", "images.yaml", "tenants.yaml"] {
        let text = std::fs::read_to_string(examples.join(name)).unwrap();
        let text = text.replace("{ env: GALLEON_APP_SECRET }", "{ file: app-secret.txt }");
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(dir.path().join("app-secret.txt"), CANARY).unwrap();

    let workspace = Workspace::load(dir.path()).expect("workspace loads");
    let desired = lower_workspace(&workspace, &LowerContext::default()).unwrap();
    let plan = build_plan(PlanInput {
        workspace: workspace.name(),
        desired,
        live: LiveState::default(),
        preflight: Vec::new(),
        targets: &[],
        created_at: time::OffsetDateTime::UNIX_EPOCH,
    })
    .unwrap();
    assert!(
        plan.summary.add > 5,
        "the plan is not empty: {:?}",
        plan.summary
    );

    let file = String::from_utf8(plan.to_file_bytes()).unwrap();
    assert!(!file.contains(CANARY));
    assert!(!format!("{plan:?}").contains(CANARY));
    // The only key material in a plan is the public SSH key the VM is given.
    assert!(file.contains("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"));
    assert!(!file.contains("PRIVATE KEY"));
}
