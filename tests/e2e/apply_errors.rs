//! Issue 11: the troubleshooting rows only Azure can tell, proven through `galleon apply`.
//!
//! `docs/troubleshooting.md` promises that when Azure refuses the VM PUT, galleon prints Azure's
//! code and message, the address of the step that failed and a hint. Most of these conditions
//! are caught earlier (validate, plan preflight) when galleon can see them, so each test sets
//! up what galleon cannot see: an image referenced by raw ARM id whose gallery changes between
//! `plan --out` and `apply` (galleon fingerprints what it writes, not the images it reads), a
//! size or quota only Compute knows, or tokens Azure no longer accepts. The emulator answers
//! each with Azure's status, code and message (arm-errors.md §1-§4, cited in
//! `crates/galleon-emulator/src/providers/compute/checks.rs` and `src/arm/auth.rs`). This file
//! holds the setup both halves share; `compute` has Compute's refusals of the VM, `access` the
//! authorization refusals, `tokens` the sign-in and token refusals; `transport` what a proxy or
//! another cloud does to the token, `compute_more` refusals from state only Azure holds (size
//! restrictions, encryption sets, purchase plans), `parents` a child whose parent was deleted.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::context::{Run, TestContext};

mod access;
mod compute;
mod compute_more;
mod parents;
mod tokens;
mod transport;

const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
/// Owner's built-in role definition id (the seed gives the app Owner on each subscription).
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

fn gallery() -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-ext/providers/Microsoft.Compute/galleries/ext"
    )
}

/// The version the VM references by raw id.
fn version_id() -> String {
    format!("{}/images/ubuntu/versions/1.0.0", gallery())
}

/// The published image as the other tenant's gallery holds it.
struct Image {
    os_state: &'static str,
    generation: &'static str,
    /// The definition's `SecurityType` feature, if any.
    security: Option<&'static str>,
    regions: &'static [&'static str],
    /// The version's `excludeFromLatest`.
    exclude_from_latest: bool,
}

/// What the seed example's VM needs: Generalized, Gen2, Trusted Launch capable, in its region.
const FITS: Image = Image {
    os_state: "Generalized",
    generation: "V2",
    security: Some("TrustedLaunchSupported"),
    regions: &["westeurope", "northeurope"],
    exclude_from_latest: false,
};

/// The seed example with the VM's image given as a raw ARM id in the publisher tenant (a
/// gallery this workspace does not manage; `images.yaml` is gone), published as `image`.
fn raw_id_workspace(image: &Image) -> TestContext {
    let ctx = TestContext::new("cross-tenant");
    std::fs::remove_file(ctx.workspace.join("images.yaml")).expect("remove images.yaml");
    ctx.edit(
        "app.yaml",
        "image: golden/ubuntu/1.0.0",
        &format!("image: {}\n    image_tenant: publisher", version_id()),
    );
    let rg = format!("/subscriptions/{SUB_A}/resourceGroups/rg-ext");
    ctx.admin_post("resources", &json!({"id": rg, "location": "westeurope"}));
    ctx.admin_post(
        "resources",
        &json!({"id": gallery(), "location": "westeurope",
                "properties": {"provisioningState": "Succeeded"}}),
    );
    publish(&ctx, image);
    ctx
}

/// Writes (or rewrites, out of band) the image definition and its version.
fn publish(ctx: &TestContext, image: &Image) {
    let features: Vec<Value> = image
        .security
        .map(|s| json!({"name": "SecurityType", "value": s}))
        .into_iter()
        .collect();
    ctx.admin_post(
        "resources",
        &json!({"id": format!("{}/images/ubuntu", gallery()), "location": "westeurope",
                "properties": {"osType": "Linux", "osState": image.os_state,
                               "hyperVGeneration": image.generation, "features": features,
                               "identifier": {"publisher": "contoso", "offer": "ubuntu", "sku": "22_04"},
                               "provisioningState": "Succeeded"}}),
    );
    let regions: Vec<Value> = image.regions.iter().map(|r| json!({"name": r})).collect();
    ctx.admin_post(
        "resources",
        &json!({"id": version_id(), "location": "westeurope",
                "properties": {"publishingProfile": {"targetRegions": regions,
                                                      "excludeFromLatest": image.exclude_from_latest},
                               "provisioningState": "Succeeded"}}),
    );
}

/// `galleon plan --out`: the plan passes preflight against the image as it is now.
fn plan_out(ctx: &TestContext) -> PathBuf {
    let path = ctx.workspace.join("plan.json");
    let run = ctx
        .run(&["plan", "--out", path.to_str().unwrap()])
        .expect(0);
    assert!(
        run.stdout().contains("0 failed"),
        "preflight did not pass: {}",
        run.stdout()
    );
    path
}

/// Both streams: progress goes to stdout, the failure and its hint may go to either.
fn output(run: &Run) -> String {
    format!("{}\n{}", run.stdout(), run.stderr())
}

/// The VM's step failed with Azure's `code` and `message` and galleon's `hint`; everything
/// before it was created and the VM was not.
#[track_caller]
fn assert_vm_failed(ctx: &TestContext, run: &Run, code: &str, message: &str, hint: &str) {
    let text = output(run);
    let line = text
        .lines()
        .find(|l| l.starts_with("vm.web: failed"))
        .unwrap_or_else(|| panic!("no failure line for vm.web:\n{text}"));
    assert!(line.contains(&format!("{code}: ")), "{line}");
    assert!(line.contains(message), "{line}\n--- wanted\n{message}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("hint: ") && l.contains(hint)),
        "no hint containing {hint:?}:\n{text}"
    );
    assert!(
        text.contains("5 created, 1 failed"),
        "other steps broke:\n{text}"
    );
    assert!(ctx.resource("/virtualmachines/web").is_none());
    let nic = ctx
        .resource("/networkinterfaces/web-nic")
        .expect("the NIC was created");
    assert_eq!(nic["tags"]["galleon-address"], "nic.web");
}

/// `DELETE {admin}/resources?id=...`: removes `id` and what is below it out of band.
fn delete_out_of_band(ctx: &TestContext, id: &str) {
    let removed = admin_delete(ctx, "resources", &[("id", id)]);
    assert_ne!(
        removed["removed"],
        json!(0),
        "{id} was not removed: {removed}"
    );
}

/// `DELETE {admin}/{path}?{query}` (the context has no helper for it).
fn admin_delete(ctx: &TestContext, path: &str, query: &[(&str, &str)]) -> Value {
    let ca = std::fs::read_to_string(&ctx.ca_file).expect("CA file");
    let http = galleon_azure::build_client(Some(&ca)).expect("http client");
    let url = format!("{}/_emulator/{path}", ctx.endpoint);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let resp = http
            .delete(url)
            .query(query)
            .send()
            .await
            .expect("admin DELETE");
        assert!(
            resp.status().is_success(),
            "admin DELETE {path}: {}",
            resp.status()
        );
        resp.json().await.expect("admin JSON")
    })
}

/// Once the condition is gone, the next apply creates only the VM.
#[track_caller]
fn assert_converges(ctx: &TestContext) {
    assert_next_apply_adds(ctx, 1, "/virtualmachines/web");
}

/// The next apply succeeds, adding `adds` resources and changing none; `path` exists after.
#[track_caller]
fn assert_next_apply_adds(ctx: &TestContext, adds: usize, path: &str) {
    let again = ctx.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        again
            .stdout()
            .contains(&format!("Plan: {adds} to add, 0 to change")),
        "{}",
        again.stdout()
    );
    assert!(ctx.resource(path).is_some(), "{path} after the apply");
}

/// The last answer Azure gave a VM write.
fn last_vm_write(ctx: &TestContext) -> Value {
    ctx.requests()
        .into_iter()
        .filter(|r| r["method"] == "PUT")
        .rfind(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.to_lowercase().ends_with("/virtualmachines/web"))
        })
        .expect("a VM PUT reached the emulator")
}

/// The seed's role assignment of `role` at exactly `scope`.
fn assignment(ctx: &TestContext, scope: &str, role: &str) -> Value {
    ctx.resources()
        .into_iter()
        .find(|r| {
            r["type"] == "Microsoft.Authorization/roleAssignments"
                && r["properties"]["scope"] == scope
                && r["properties"]["roleDefinitionId"]
                    .as_str()
                    .is_some_and(|d| d.ends_with(role))
        })
        .unwrap_or_else(|| panic!("no {role} assignment at {scope}"))
}
