//! The doctor end to end over an in-memory Azure ([`fake::World`]): the all-green run, one test
//! per failing condition (`conditions.rs`), snapshots of what users see, and the emitted
//! workspace.

mod conditions;
mod fake;

use fake::{World, setup};
use galleon_doctor::{Report, Status, render_text, run};

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

pub fn doctor(world: &World, setup: &galleon_doctor::Setup) -> Report {
    block_on(run(setup, world))
}

/// Filters for what varies between runs against a real emulator (ports, times, request ids).
fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "[TIME]",
        ),
        (r"(Trace|Correlation) ID: [0-9a-f-]+", "$1 ID: [ID]"),
    ]
}

#[test]
fn all_green() {
    let report = doctor(&World::green(), &setup());
    assert_eq!(
        report.failures(),
        Vec::<&str>::new(),
        "{}",
        render_text(&report)
    );
    assert_eq!(report.exit_code(), 0);
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [
            "sign_in.target",
            "sign_in.image",
            "image.subscription_tenant",
            "target.subscription_tenant",
            "image.read",
            "image.exists",
            "image.provisioned",
            "image.latest",
            "image.region",
            "vm.os_state",
            "vm.generation",
            "vm.security_type",
            "target.resource_group",
            "target.vm_write",
            "target.network_join",
            "dry_run",
        ]
    );
    // Only "latest" is skipped: the image is referenced by version.
    let skipped: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Skip)
        .map(|c| c.id)
        .collect();
    assert_eq!(skipped, ["image.latest"]);
    assert!(
        report
            .check("dry_run")
            .unwrap()
            .detail
            .contains("x-ms-authorization-auxiliary")
    );
}

#[test]
fn all_green_text_snapshot() {
    let report = doctor(&World::green(), &setup());
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(render_text(&report));
    });
}

#[test]
fn all_green_json_snapshot() {
    let report = doctor(&World::green(), &setup());
    insta::with_settings!({filters => filters()}, {
        insta::assert_json_snapshot!(report.to_json());
    });
}

/// The seed scenario's most common breakage: the app was never consented in the image's tenant.
fn broken() -> Report {
    let mut w = World::green();
    w.service_principals.remove(fake::IMAGE_TENANT);
    doctor(&w, &setup())
}

/// Several independent failures at once: every one is listed with its fix.
#[test]
fn many_failures_text_snapshot() {
    let mut w = World::green();
    w.put(fake::definition("Specialized", "V2", "TrustedLaunch"));
    w.rights.insert(
        fake::TARGET_TENANT.into(),
        vec![serde_json::json!({"actions": ["*/read"], "notActions": []})],
    );
    let mut s = setup();
    s.region = "eastus".into();
    s.vm_size = "Standard_A1_v2".into();
    s.security_type = galleon_doctor::SecurityType::Standard;
    let report = doctor(&w, &s);
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(render_text(&report));
    });
}

#[test]
fn failing_text_snapshot() {
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(render_text(&broken()));
    });
}

#[test]
fn failing_json_snapshot() {
    let report = broken();
    assert_eq!(report.exit_code(), 1);
    insta::with_settings!({filters => filters()}, {
        insta::assert_json_snapshot!(report.to_json());
    });
}

#[test]
fn emitted_manifest_validates() {
    let dir = tempfile::tempdir().unwrap();
    let written = galleon_doctor::emit_workspace(&setup(), dir.path()).unwrap();
    assert_eq!(written.len(), 2);
    let ws = galleon_manifest::Workspace::load(dir.path());
    if let Err(d) = &ws {
        panic!("emitted workspace does not validate: {d:?}");
    }
    // Never overwrite what a user already has.
    assert!(matches!(
        galleon_doctor::emit_workspace(&setup(), dir.path()),
        Err(galleon_doctor::EmitError::Exists { .. })
    ));
}

#[test]
fn emitted_manifest_snapshot() {
    let files = galleon_doctor::workspace_files(&setup());
    let joined: String = files.iter().map(|(n, c)| format!("--- {n}\n{c}")).collect();
    insta::assert_snapshot!(joined);
}
