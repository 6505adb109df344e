//! A child written after its parent was deleted out of band (arm-errors.md §6, §5.3: 404
//! `ParentResourceNotFound`). With a saved plan galleon notices the deletion before writing
//! anything (the plan is stale); only a deletion during the apply itself reaches Azure.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;

const SOURCE: &str = "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-image-build/providers/Microsoft.Compute/images/ubuntu-2204-base";

/// The seed example applied, then a version 1.1.0 of `golden/ubuntu` added to the manifest.
fn applied_with_a_new_version() -> TestContext {
    let ctx = TestContext::new("cross-tenant");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    ctx.edit(
        "images.yaml",
        "        versions:\n",
        &format!(
            "        versions:\n          \"1.1.0\":\n            source: {SOURCE}\n            target_regions:\n              - region: westeurope\n"
        ),
    );
    ctx
}

fn delete_the_definition(ctx: &TestContext) {
    let definition = ctx
        .resource("/galleries/golden_images/images/ubuntu")
        .expect("the definition");
    delete_out_of_band(ctx, definition["id"].as_str().unwrap());
}

/// A fresh apply recreates the definition and both versions, then nothing is left to do.
#[track_caller]
fn assert_recreated(ctx: &TestContext) {
    assert_next_apply_adds(ctx, 3, "/images/ubuntu/versions/1.1.0");
    ctx.run(&["plan", "--detailed-exitcode"]).expect(0);
}

fn version_puts(ctx: &TestContext) -> Vec<Value> {
    ctx.requests()
        .into_iter()
        .filter(|r| {
            r["method"] == "PUT"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/versions/1.1.0"))
        })
        .collect()
}

#[test]
fn a_saved_plan_whose_parent_was_deleted_is_refused_as_stale_before_any_write() {
    let ctx = applied_with_a_new_version();
    let path = ctx.workspace.join("plan.json");
    let planned = ctx
        .run(&["plan", "--out", path.to_str().unwrap()])
        .expect(0);
    assert!(
        planned.stdout().contains("Plan: 1 to add, 0 to change"),
        "{}",
        planned.stdout()
    );
    delete_the_definition(&ctx);
    let run = ctx
        .run(&["apply", "--auto-approve", path.to_str().unwrap()])
        .expect(1);
    let text = output(&run);
    assert!(text.contains("Error: the plan is stale"), "{text}");
    assert!(
        text.lines().any(
            |l| l.trim_start().starts_with("gallery_image.golden/ubuntu (")
                && l.ends_with("disappeared (it was deleted since the plan was made)")
        ),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("hint: ") && l.contains("run `galleon plan` again")),
        "{text}"
    );
    assert!(version_puts(&ctx).is_empty(), "the version was written");
    assert_recreated(&ctx);
}

#[test]
fn a_definition_deleted_while_the_apply_runs_fails_its_new_version_with_parent_resource_not_found()
{
    let ctx = applied_with_a_new_version();
    // The version's PUT is held up on its way to ARM (a slow link); the definition is deleted
    // once the apply has planned and started the version's step.
    ctx.admin_put(
        "faults",
        &json!({"latency_ms": 3000, "method": "PUT", "path_contains": "/versions/1.1.0"}),
    );
    let mut child = ctx
        .galleon()
        .args(["apply", "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Progress lines as they come: the version's step starting is the cue to delete.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            all.extend_from_slice(line.as_bytes());
            all.push(b'\n');
            let _ = tx.send(line);
        }
        all
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the version's step never started");
        if line.starts_with("image_version.golden/ubuntu/1.1.0: creating") {
            break;
        }
    }
    delete_the_definition(&ctx);
    let mut finished = child.wait_with_output().unwrap();
    finished.stdout = reader.join().unwrap();
    let run = Run(finished).expect(1);
    let text = output(&run);
    let line = text
        .lines()
        .find(|l| l.starts_with("image_version.golden/ubuntu/1.1.0: failed"))
        .unwrap_or_else(|| panic!("no failure line for the version:\n{text}"));
    assert!(
        line.contains("ParentResourceNotFound: Can not perform requested operation on nested resource. Parent resource 'golden_images/ubuntu' not found."),
        "{line}"
    );
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("hint: ")
            && l.contains("run `galleon plan` again so the plan recreates it")),
        "{text}"
    );
    let puts = version_puts(&ctx);
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(puts[0]["status"], 404);
    assert!(ctx.resource("/images/ubuntu/versions/1.1.0").is_none());
    ctx.admin_put("faults", &json!({}));
    assert_recreated(&ctx);
}
