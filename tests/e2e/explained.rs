//! Issue 11: where only Azure can tell, galleon maps Azure's code and message to the cause from
//! its catalogue (`docs/troubleshooting.md`), under the error and above the hint, in apply's
//! per-step failure (text and `--json`) and in the errors that stop plan or apply.

use serde_json::{Value, json};

use crate::context::{Run, TestContext};

const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

/// The start of the `linked_tenant` row's cause.
const LINKED_CAUSE: &str =
    "cause: the request carried no token for the tenant owning the image's subscription";

/// The seed example with its VM built from a version in the publisher's subscription given by
/// raw id and no `image_tenant`: galleon sends no auxiliary token, which plan cannot see and
/// ARM refuses on the VM's PUT with `LinkedAuthorizationFailed` (arm-errors.md §1.2).
fn vm_without_image_tenant() -> TestContext {
    let ctx = TestContext::new("cross-tenant");
    std::fs::remove_file(ctx.workspace.join("images.yaml")).expect("remove images.yaml");
    let gallery = format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-ext/providers/Microsoft.Compute/galleries/ext"
    );
    let version = format!("{gallery}/images/ubuntu/versions/1.0.0");
    ctx.edit(
        "app.yaml",
        "image: golden/ubuntu/1.0.0",
        &format!("image: {version}"),
    );
    let seed = [
        json!({"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-ext"), "location": "westeurope"}),
        json!({"id": gallery, "location": "westeurope", "properties": {"provisioningState": "Succeeded"}}),
        json!({"id": format!("{gallery}/images/ubuntu"), "location": "westeurope",
               "properties": {"osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
                              "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}],
                              "identifier": {"publisher": "contoso", "offer": "ubuntu", "sku": "22_04"},
                              "provisioningState": "Succeeded"}}),
        json!({"id": version, "location": "westeurope",
               "properties": {"publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
                              "provisioningState": "Succeeded"}}),
    ];
    for resource in &seed {
        ctx.admin_post("resources", resource);
    }
    ctx
}

fn output(run: &Run) -> String {
    format!("{}\n{}", run.stdout(), run.stderr())
}

#[test]
fn apply_explains_a_refused_vm_with_the_catalogue_cause() {
    let ctx = vm_without_image_tenant();
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let text = output(&run);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("vm.web: failed"))
        .unwrap_or_else(|| panic!("no failure line for vm.web:\n{text}"));
    assert!(lines[at].contains("LinkedAuthorizationFailed: "), "{text}");
    // Under Azure's code and message: the row's cause, then galleon-azure's own hint (it names
    // what was sent), not the row's general fix.
    assert!(
        lines[at + 1].starts_with(&format!("  {LINKED_CAUSE}")),
        "{text}"
    );
    assert!(lines[at + 2].starts_with("  hint: "), "{text}");
    assert!(
        lines[at + 2].contains("no auxiliary token was sent"),
        "{text}"
    );

    // The same failure as a JSON event: `cause` and `explained_by` beside `hint`.
    let run = ctx.run(&["apply", "--auto-approve", "--json"]).expect(1);
    let failed: Vec<Value> = run
        .stdout()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{}", run.stdout());
    let e = &failed[0];
    assert_eq!(e["step"]["address"], "vm.web");
    assert_eq!(e["error"]["code"], "LinkedAuthorizationFailed");
    assert_eq!(e["explained_by"], "linked_tenant");
    assert!(
        format!("cause: {}", e["cause"].as_str().unwrap()).starts_with(LINKED_CAUSE),
        "{e}"
    );
    assert!(
        e["hint"]
            .as_str()
            .unwrap()
            .contains("no auxiliary token was sent")
    );
}

#[test]
fn plan_explains_an_unknown_subscription_with_the_catalogue_cause() {
    let ctx = vm_without_image_tenant();
    ctx.edit("app.yaml", SUB_B, "cccccccc-3333-4333-8333-cccccccccccc");
    let run = ctx.run(&["plan"]).expect(1);
    let err = run.stderr();
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("cause: "))
        .unwrap_or_else(|| panic!("no cause line:\n{err}"));
    assert!(err.contains("SubscriptionNotFound: "), "{err}");
    assert_eq!(
        lines[at],
        "cause: the subscription id is wrong or belongs to another cloud"
    );
    assert!(lines[at + 1].starts_with("hint: "), "{err}");
}
