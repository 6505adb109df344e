//! Loader behaviour: merging, duplicate keys across files, secrets never kept, parse positions.

use std::path::Path;

use galleon_manifest::Code;
use galleon_manifest::load::{load, parse_file};
use galleon_manifest::model::SecretSource;

#[test]
fn cross_tenant_example_merges_three_files() {
    let (sources, m, diags) = load(Path::new("../../examples/cross-tenant"));
    assert!(diags.is_empty(), "{diags:?}");
    let m = m.expect("example loads");
    assert_eq!(sources.files().len(), 3);
    assert_eq!(m.workspace, "cross-tenant");
    assert_eq!(m.tenants.len(), 2);
    assert_eq!(m.galleries["golden"].value.images.len(), 1);
    let vm = &m.virtual_machines["web"];
    assert_eq!(vm.value.image.loc.line, 41);
}

#[test]
fn inline_secret_is_dropped_at_parse_time() {
    let text = "tenants:\n  a:\n    tenant_id: x\n    auth:\n      client_secret: hunter2\n";
    let m = parse_file(0, text).unwrap();
    let auth = &m.tenants.get("a").unwrap().auth;
    let secret = auth.client_secret.as_ref().unwrap();
    assert_eq!(secret.value, SecretSource::Inline);
    assert_eq!((secret.loc.line, secret.loc.col), (5, 22));
    assert!(!format!("{m:?}").contains("hunter2"));
}

#[test]
fn unknown_field_is_a_parse_error_with_position() {
    let err = parse_file(0, "tenants:\n  a:\n    tenant_idd: x\n").unwrap_err();
    assert_eq!(err.code, Code::Parse);
    assert!(
        err.message.contains("unknown field `tenant_idd`"),
        "{}",
        err.message
    );
    let loc = err.loc.unwrap();
    assert_eq!((loc.line, loc.col), (3, 5));
}

#[test]
fn duplicate_key_in_one_file_is_rejected() {
    let err = parse_file(0, "workspace: a\nworkspace: b\n").unwrap_err();
    assert_eq!(err.code, Code::Parse);
    assert!(
        err.message.to_lowercase().contains("duplicate"),
        "{}",
        err.message
    );
}

#[test]
fn empty_and_comment_only_files_are_empty_manifests() {
    assert!(parse_file(0, "").unwrap().tenants.is_empty());
    assert!(
        parse_file(0, "# nothing\n---\n")
            .unwrap()
            .tenants
            .is_empty()
    );
}

#[test]
fn inline_secrets_are_masked_in_kept_sources() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.yaml");
    std::fs::write(
        &path,
        "tenants:\n  a:\n    tenant_id: x\n    auth:\n      client_secret: hunter2\n",
    )
    .unwrap();
    let (sources, m, _) = load(&path);
    assert!(m.is_some());
    let text = &sources.get(0).text;
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("client_secret: *******\n"), "{text}");
    assert!(!format!("{sources:?}").contains("client_secret"));
}
