//! The built `galleon` binary: exit codes, stdout vs stderr, and the checked-in schema.

use std::process::{Command, Output};

fn galleon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_galleon"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("galleon runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn validate_ok_exits_zero_with_success_line() {
    let out = galleon(&["validate", "examples/cross-tenant"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Success! The workspace is valid (11 resources).\n"
    );
}

#[test]
fn validate_error_exits_one_with_every_diagnostic_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.yaml"),
        "tenants:\n  t:\n    tenant_id: nope\n    auth:\n      client_secret: hunter2\n\
         virtual_machines:\n  vm:\n    resource_group: rg\n    size: x\n    image: a/b/c\n\
         \x20   ssh_public_key: |\n      -----BEGIN OPENSSH PRIVATE KEY-----\n      b3BlbnNzaC1rZXkSECRET\n      -----END OPENSSH PRIVATE KEY-----\n\
         \x20   network: { subnet: a/b }\n",
    )
    .unwrap();
    let out = galleon(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("galleon::inline_secret"), "{err}");
    assert!(err.contains("galleon::invalid_guid"), "{err}");
    assert!(err.contains("main.yaml:5:22"), "{err}");
    assert!(!err.contains("hunter2"), "secret echoed: {err}");
    assert!(
        !err.contains("b3BlbnNzaC1rZXkSECRET"),
        "private key echoed: {err}"
    );
    assert!(!err.contains("PRIVATE KEY"), "private key echoed: {err}");
    assert!(!err.contains('\u{1b}'), "colour despite NO_COLOR: {err}");
    assert!(err.contains("problems found"), "{err}");
}

#[test]
fn schema_prints_the_checked_in_schema() {
    let out = galleon(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let checked_in = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/galleon.schema.json"
    ))
    .unwrap();
    assert_eq!(text(&out.stdout), checked_in);
}

#[test]
fn graph_prints_mermaid_to_stdout() {
    let out = galleon(&["graph", "examples/cross-tenant", "--format", "mermaid"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.starts_with("flowchart RL\n"), "{s}");
    assert!(s.contains("cross-tenant grant"), "{s}");
}

#[test]
fn help_has_examples() {
    let out = galleon(&["validate", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("galleon validate examples/cross-tenant"));
}

#[test]
fn validate_json_report() {
    let out = galleon(&[
        "validate",
        "crates/galleon-manifest/tests/fixtures/invalid_guid",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let first = &report["diagnostics"][0];
    assert_eq!(first["code"], "galleon::invalid_guid");
    assert_eq!(first["line"], 3);
    assert_eq!(first["column"], 16);
    assert!(
        first["file"]
            .as_str()
            .unwrap()
            .ends_with("invalid_guid/main.yaml")
    );

    let ok = galleon(&["validate", "examples/fleet", "--format", "json"]);
    assert_eq!(ok.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert!(report["resources"].as_u64().unwrap() > 20);
}

#[test]
fn graph_target_draws_the_closure_only() {
    let out = galleon(&["graph", "examples/cross-tenant", "--target", "nic.web"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("\"nic.web\" -> \"network.app\""), "{s}");
    assert!(!s.contains("vm.web"), "{s}");
    let bad = galleon(&["graph", "examples/cross-tenant", "--target", "vm.nope"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("no resource at address vm.nope"));
}
