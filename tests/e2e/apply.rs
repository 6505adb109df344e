//! `galleon apply` and `galleon destroy` on the seed scenario (issue 6's list, one test each).

use serde_json::json;

use crate::context::TestContext;

const TENANT_A: &str = "11111111-1111-4111-8111-111111111111";

fn vm_puts(ctx: &TestContext) -> Vec<serde_json::Value> {
    ctx.requests()
        .into_iter()
        .filter(|r| {
            matches!(r["method"].as_str(), Some("PUT" | "PATCH"))
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.to_lowercase().ends_with("/virtualmachines/web"))
        })
        .collect()
}

fn writes(ctx: &TestContext) -> usize {
    ctx.requests()
        .iter()
        .filter(|r| matches!(r["method"].as_str(), Some("PUT" | "PATCH" | "DELETE")))
        .filter(|r| !r["path"].as_str().unwrap_or("").starts_with("/blob/"))
        .count()
}

#[test]
fn seed_scenario_from_scratch_then_second_apply_is_a_no_op() {
    let ctx = TestContext::new("cross-tenant");
    let run = ctx.run(&["apply", "--auto-approve"]).expect(0);
    assert!(run.stdout().contains("Plan: 11 to add"), "{}", run.stdout());

    // The VM in tenant B references the image version in tenant A, and its PUT carried tenant
    // A's token as auxiliary; no read ever carried one.
    let vm = ctx.resource("/virtualmachines/web").expect("the VM exists");
    let image = vm["properties"]["storageProfile"]["imageReference"]["id"]
        .as_str()
        .unwrap();
    assert!(
        image
            .to_lowercase()
            .contains("/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/")
    );
    let puts = vm_puts(&ctx);
    assert!(!puts.is_empty());
    assert!(
        puts.iter()
            .all(|r| r["auxiliary_tenants"] == json!([TENANT_A])),
        "{puts:?}"
    );
    assert!(
        !ctx.requests()
            .iter()
            .any(|r| r["method"] == "GET" && r["auxiliary"] == true)
    );

    let before = writes(&ctx);
    let again = ctx.run(&["apply", "--auto-approve"]).expect(0);
    assert!(again.stdout().contains("No changes."), "{}", again.stdout());
    assert_eq!(writes(&ctx), before, "a second apply wrote to Azure");

    // Destroy leaves nothing owned and everything unowned (the image source and its group).
    ctx.run(&["destroy", "--auto-approve"]).expect(0);
    let left = ctx.resources();
    assert!(
        !left
            .iter()
            .any(|r| r["tags"]["galleon-workspace"] == "cross-tenant"),
        "{left:?}"
    );
    assert!(ctx.resource("/images/ubuntu-2204-base").is_some());
    ctx.run(&["plan", "--detailed-exitcode"]).expect(2);
}

#[test]
fn a_change_applies_in_place_with_the_auxiliary_token() {
    let ctx = TestContext::new("cross-tenant");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    ctx.edit("app.yaml", "app: web", "app: web-v2");
    let plan = ctx.run(&["plan"]).expect(0);
    assert!(plan.stdout().contains("~ vm.web"), "{}", plan.stdout());
    // The implied NIC and public IP carry the VM's tags too.
    assert!(plan.stdout().contains("3 to change"), "{}", plan.stdout());
    let count = vm_puts(&ctx).len();
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    let vm = ctx.resource("/virtualmachines/web").unwrap();
    assert_eq!(vm["tags"]["app"], "web-v2");
    // Later writes (tags included) of a VM built from another tenant's image need the token too.
    let puts = vm_puts(&ctx);
    assert!(puts.len() > count);
    assert_eq!(puts.last().unwrap()["auxiliary_tenants"], json!([TENANT_A]));
}

#[test]
fn an_immutable_change_replaces() {
    let ctx = TestContext::new("cross-tenant");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    let before = ctx.resource("/virtualmachines/web").unwrap();
    // Azure cannot change a VM's admin user in place: galleon must replace the VM.
    ctx.edit(
        "app.yaml",
        "admin_username: azureuser",
        "admin_username: ops",
    );
    let plan = ctx.run(&["plan"]).expect(0);
    assert!(plan.stdout().contains("-/+ vm.web"), "{}", plan.stdout());
    assert!(
        plan.stdout().contains("forces replacement"),
        "{}",
        plan.stdout()
    );
    assert!(plan.stdout().contains("1 to replace"), "{}", plan.stdout());
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    let after = ctx.resource("/virtualmachines/web").unwrap();
    assert_eq!(after["properties"]["osProfile"]["adminUsername"], "ops");
    assert_ne!(
        after["properties"]["vmId"], before["properties"]["vmId"],
        "not recreated"
    );
    ctx.run(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn removing_from_yaml_deletes_and_destroy_spares_unowned_resources() {
    let ctx = TestContext::new("cross-tenant");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    // Someone else's NSG in the same resource group, and one named like ours in another group.
    let rg = "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/resourceGroups/rg-app";
    ctx.admin_post(
        "resources",
        &json!({"id": format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/nsg-theirs"),
                "location": "northeurope", "properties": {"securityRules": []}}),
    );
    ctx.edit("app.yaml", "public_ip: true", "public_ip: false");
    let plan = ctx.run(&["plan"]).expect(0);
    assert!(
        plan.stdout().contains("- public_ip.web"),
        "{}",
        plan.stdout()
    );
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    assert!(ctx.resource("/publicipaddresses/web-pip").is_none());

    // ARM deletes a resource group with everything in it: galleon refuses to delete its own
    // group while it holds someone else's resource, and says so; everything else goes.
    let destroy = ctx.run(&["destroy", "--auto-approve"]).expect(1);
    assert!(
        destroy
            .stdout()
            .contains("refusing to delete resource group rg-app"),
        "{}",
        destroy.stdout()
    );
    let left: Vec<String> = ctx
        .resources()
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_lowercase))
        .collect();
    assert!(
        left.iter()
            .any(|id| id.ends_with("/networksecuritygroups/nsg-theirs")),
        "{left:?}"
    );
    let owned: Vec<&str> = ctx
        .resources()
        .iter()
        .filter(|r| r["tags"]["galleon-workspace"] == "cross-tenant")
        .filter_map(|r| r["id"].as_str().map(|_| "owned"))
        .collect();
    assert_eq!(owned.len(), 1, "only rg-app may survive: {left:?}");
    assert!(left.iter().any(|id| id.ends_with("/resourcegroups/rg-app")));
    // What galleon never managed is untouched: the image source and its group.
    assert!(
        left.iter()
            .any(|id| id.contains("/resourcegroups/rg-image-build/")),
        "{left:?}"
    );
}

#[test]
fn a_stale_plan_is_refused() {
    let ctx = TestContext::new("cross-tenant");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    ctx.edit("app.yaml", "app: web", "app: web-v2");
    ctx.run(&["plan", "--out", "plan.json"]).expect(0);
    // The world moves after the plan: someone retags the VM.
    let mut vm = ctx.resource("/virtualmachines/web").unwrap();
    vm["tags"]["owner"] = json!("someone-else");
    ctx.admin_post(
        "resources",
        &json!({"id": vm["id"], "location": vm["location"], "properties": vm["properties"],
                "tags": vm["tags"], "extra": {"zones": vm["zones"]}}),
    );
    let run = ctx.run(&["apply", "plan.json"]).expect(1);
    assert!(
        run.stderr().contains("vm.web") || run.stderr().contains("virtualMachines/web"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        ctx.resource("/virtualmachines/web").unwrap()["tags"]["app"],
        "web"
    );
}

#[test]
fn a_failed_branch_does_not_block_an_independent_one() {
    let ctx = TestContext::new("cross-tenant");
    // Every public IP operation fails; the gallery side does not depend on it.
    ctx.admin_post("resources", &json!({"id": "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/resourceGroups/rg-app", "location": "northeurope"}));
    let faults = json!({"lro_failure_rate": 1.0, "path_contains": "publicipaddresses", "seed": 1});
    put(&ctx, "faults", &faults);
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let out = format!("{}{}", run.stdout(), run.stderr());
    assert!(ctx.resource("/versions/1.0.0").is_some(), "{out}");
    assert!(ctx.resource("/virtualmachines/web").is_none(), "{out}");
    assert!(out.contains("public_ip.web"), "{out}");
    assert!(out.to_lowercase().contains("skipped"), "{out}");
    put(&ctx, "faults", &json!({}));
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    ctx.run(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn two_concurrent_applies_one_fails_on_the_lock() {
    let ctx = TestContext::new("cross-tenant");
    let mut settings = ctx.admin_get("settings");
    settings["lro_default_ms"] = json!(1500);
    put(&ctx, "settings", &settings);
    let first = ctx
        .galleon()
        .args(["apply", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let second = ctx
        .galleon()
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    let codes = [first.status.code(), second.status.code()];
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "{codes:?}"
    );
    let loser = if first.status.success() {
        &second
    } else {
        &first
    };
    let err = String::from_utf8_lossy(&loser.stderr).to_lowercase();
    assert!(err.contains("lock"), "{err}");
}

fn put(ctx: &TestContext, path: &str, body: &serde_json::Value) {
    ctx.admin_put(path, body);
}

#[test]
fn a_missing_reader_grant_is_explained_before_anything_changes() {
    let ctx = TestContext::new("cross-tenant");
    // The grant goes to some other principal: the consumer's app could not read the image, and
    // Azure would answer the VM's PUT with LinkedAuthorizationFailed. galleon says so first.
    ctx.edit(
        "images.yaml",
        "- app: consumer",
        "- principal_id: 99999999-9999-4999-8999-999999999999",
    );
    let run = ctx.run(&["apply", "--auto-approve"]);
    let out = format!("{}{}", run.stdout(), run.stderr());
    assert_eq!(run.code(), 1, "{out}");
    assert!(out.contains("LinkedAuthorizationFailed"), "{out}");
    assert!(
        out.contains("app.yaml:41:12"),
        "names the file, line and column: {out}"
    );
    assert!(out.contains("nothing was changed"), "{out}");
    let writes = ctx
        .requests()
        .iter()
        .filter(|r| r["method"] != "GET" && r["method"] != "POST")
        .count();
    assert_eq!(writes, 0);
}
