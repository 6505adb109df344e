//! `galleon plan` through the binary: exit codes and the three output formats, from an empty
//! emulator and from a drifted one.

use serde_json::json;

use crate::context::TestContext;

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[TIME]",
        ),
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

#[test]
fn plan_formats_from_an_empty_emulator() {
    let ctx = TestContext::new("cross-tenant");
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!("empty_text", ctx.run(&["plan"]).expect(0).stdout());
        insta::assert_snapshot!("empty_json", ctx.run(&["plan", "--json"]).expect(0).stdout());
        insta::assert_snapshot!("empty_markdown", ctx.run(&["plan", "--format", "markdown"]).expect(0).stdout());
    });
}

#[test]
fn plan_formats_from_a_drifted_emulator() {
    let ctx = TestContext::new("cross-tenant");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    // Drift: someone retags the resource group and widens the NSG by hand, and deletes the NIC.
    let mut rg = ctx.resource("/resourcegroups/rg-app").unwrap();
    rg["tags"]["cost-center"] = json!("42");
    ctx.admin_post(
        "resources",
        &json!({"id": rg["id"], "location": rg["location"], "tags": rg["tags"]}),
    );
    let mut nsg = ctx.resource("/networksecuritygroups/nsg-web").unwrap();
    nsg["properties"]["securityRules"][0]["properties"]["sourceAddressPrefix"] =
        json!("10.0.0.0/8");
    ctx.admin_post(
        "resources",
        &json!({"id": nsg["id"], "location": nsg["location"], "properties": nsg["properties"], "tags": nsg["tags"]}),
    );
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!("drifted_text", ctx.run(&["plan"]).expect(0).stdout());
        insta::assert_snapshot!("drifted_json", ctx.run(&["plan", "--json"]).expect(0).stdout());
        insta::assert_snapshot!("drifted_markdown", ctx.run(&["plan", "--format", "markdown"]).expect(0).stdout());
    });
}
