//! `galleon plan` through the binary: exit codes and the three output formats, from an empty
//! emulator and from a drifted one.

use serde_json::{Value, json};

use crate::context::TestContext;

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[TIME]",
        ),
        (r"plan made \d{4}-\d{2}-\d{2}", "plan made [DATE]"),
        (
            r#""galleon_version": "[^"]+""#,
            r#""galleon_version": "[VERSION]""#,
        ),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        // What a live read saw: etags and content hashes change with every emulator run.
        (
            r#""content_sha256": "[0-9a-f]{64}""#,
            r#""content_sha256": "[SHA256]""#,
        ),
        (r#"W/\\"[0-9a-f-]{36}\\""#, "[ETAG]"),
        // What the emulator made up while applying, in an order concurrency decides: disk name
        // suffixes, VM ids, MAC and private addresses.
        (r"_[0-9a-f]{32}", "_[HASH]"),
        (r#"(vmId"?\s*[:=]\s*)"[0-9a-f-]{36}""#, r#"$1"[UUID]""#),
        (r"[0-9A-F]{2}(-[0-9A-F]{2}){5}", "[MAC]"),
        (r#"(privateIPAddress"?\s*[:=]\s*)"[0-9.]+""#, r#"$1"[IP]""#),
        // The same two as JSON attribute changes: `"path": ...,` then `"before": ...`.
        (
            r#"("path": "[^"]*(vmId|privateIPAddress)",\s*"before": )"[^"]*""#,
            r#"$1"[GENERATED]""#,
        ),
    ]
}

#[test]
fn detailed_exitcode_is_2_with_changes_0_without_1_on_error() {
    let ctx = TestContext::new("cross-tenant");
    ctx.run(&["plan", "--detailed-exitcode"]).expect(2);
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    ctx.run(&["plan", "--detailed-exitcode"]).expect(0);
    ctx.run(&["plan"]).expect(0);
    ctx.edit("app.yaml", "resource_group: app", "resource_group: nowhere");
    let bad = ctx.run(&["plan", "--detailed-exitcode"]).expect(1);
    assert!(bad.stderr().contains("app.yaml:"), "{}", bad.stderr());
}

/// The three formats of one plan, each under `{prefix}_{format}`.
fn snapshot_formats(ctx: &TestContext, prefix: &str) {
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(format!("{prefix}_text"), ctx.run(&["plan"]).expect(0).stdout());
        insta::assert_snapshot!(format!("{prefix}_json"), ctx.run(&["plan", "--json"]).expect(0).stdout());
        insta::assert_snapshot!(format!("{prefix}_markdown"), ctx.run(&["plan", "--format", "markdown"]).expect(0).stdout());
    });
}

/// Writes a resource's new fields into the emulator behind galleon's back.
fn drift(ctx: &TestContext, suffix: &str, edit: impl FnOnce(&mut Value)) {
    let mut r = ctx
        .resource(suffix)
        .unwrap_or_else(|| panic!("no {suffix}"));
    edit(&mut r);
    let mut body = json!({"id": r["id"], "location": r["location"], "tags": r["tags"]});
    if !r["properties"].is_null() {
        body["properties"] = r["properties"].clone();
    }
    ctx.admin_post("resources", &body);
}

#[test]
fn plan_formats_from_an_empty_emulator() {
    snapshot_formats(&TestContext::new("cross-tenant"), "empty");
}

#[test]
fn plan_formats_from_a_drifted_emulator() {
    let ctx = TestContext::new("cross-tenant");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    // Drift: someone retags the resource group and widens the NSG by hand.
    drift(&ctx, "/resourcegroups/rg-app", |rg| {
        rg["tags"]["cost-center"] = json!("42");
    });
    drift(&ctx, "/networksecuritygroups/nsg-web", |nsg| {
        nsg["properties"]["securityRules"][0]["properties"]["sourceAddressPrefix"] =
            json!("10.0.0.0/8");
    });
    snapshot_formats(&ctx, "drifted");
}

#[test]
fn fleet_plan_formats_from_an_empty_emulator() {
    snapshot_formats(&TestContext::new("fleet"), "fleet_empty");
}

#[test]
fn fleet_plan_formats_from_a_drifted_emulator() {
    let ctx = TestContext::new("fleet");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    // Drift by hand: a retagged resource group and a widened address space; and in the
    // manifest, one VM fewer in the east (its VM and NIC are owned, so they are deleted).
    drift(&ctx, "/resourcegroups/rg-fleet-north", |rg| {
        rg["tags"]["cost-center"] = json!("42");
    });
    drift(&ctx, "/virtualnetworks/west", |vnet| {
        vnet["properties"]["addressSpace"]["addressPrefixes"] =
            json!(["10.2.0.0/16", "10.9.0.0/16"]);
    });
    ctx.edit("fleet.yaml", "count: 4", "count: 3");
    snapshot_formats(&ctx, "fleet_drifted");
}

#[test]
fn direct_sharing_members_are_planned_applied_with_the_share_action_and_then_steady() {
    let ctx = TestContext::new("cross-tenant");
    ctx.edit(
        "images.yaml",
        "    sharing:\n",
        "    sharing:\n      direct:\n        tenants: [22222222-2222-4222-8222-222222222222]\n",
    );
    let plan = ctx.run(&["plan", "--json"]).expect(0);
    let plan: Value = serde_json::from_str(&plan.stdout()).unwrap();
    let share = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "gallery_share.golden")
        .expect("the members are a change");
    assert_eq!(share["request"]["method"], "POST");
    assert_eq!(share["request"]["body"]["operationType"], "Add");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    let gallery = ctx.resource("/galleries/golden_images").unwrap();
    assert_eq!(
        gallery["properties"]["sharingProfile"]["groups"],
        json!([{"type": "AADTenants", "ids": ["22222222-2222-4222-8222-222222222222"]}]),
        "{gallery:#}"
    );
    ctx.run(&["plan", "--detailed-exitcode"]).expect(0);

    // Shared with a subscription instead: one POST adds it, a second removes the tenant.
    ctx.edit(
        "images.yaml",
        "tenants: [22222222-2222-4222-8222-222222222222]",
        "subscriptions: [bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb]",
    );
    let text = ctx.run(&["plan"]).expect(0).stdout();
    assert!(text.contains("gallery_share.golden/remove"), "{text}");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    let gallery = ctx.resource("/galleries/golden_images").unwrap();
    let groups = &gallery["properties"]["sharingProfile"]["groups"];
    let ids = |ty: &str| {
        groups
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["type"] == ty)
            .flat_map(|g| g["ids"].as_array().unwrap().clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids("Subscriptions"),
        [json!("bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb")],
        "{groups}"
    );
    assert!(ids("AADTenants").is_empty(), "{groups}");
    ctx.run(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn a_plan_whose_new_vms_exceed_the_cores_quota_fails_with_the_increase_link() {
    let ctx = TestContext::new("cross-tenant");
    let quota = |n: u64| {
        ctx.admin_put(
            "subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/quotas",
            &json!({"cores": {"northeurope": n}}),
        );
    };
    // The example's VM is a Standard_D2s_v5: 2 vCPUs.
    quota(1);
    let run = ctx.run(&["plan"]).expect(1);
    let out = run.stdout();
    assert!(out.contains("[vm-quota]"), "{out}");
    assert!(
        out.contains("Current Limit: 1, Current Usage: 0, Additional Required: 2"),
        "{out}"
    );
    assert!(
        out.contains("https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota"),
        "{out}"
    );
    quota(2);
    ctx.run(&["plan", "--detailed-exitcode"]).expect(2);
}
