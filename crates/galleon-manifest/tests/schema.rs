//! The checked-in schema matches the code, and every example uses it and validates.

use std::path::Path;

use galleon_manifest::Workspace;
use galleon_manifest::schema::{json_schema, json_schema_string};

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../schemas/galleon.schema.json"
);

#[test]
fn checked_in_schema_is_up_to_date() {
    let fresh = json_schema_string();
    if std::env::var_os("GALLEON_UPDATE_SCHEMA").is_some() {
        std::fs::write(SCHEMA, &fresh).unwrap();
    }
    let on_disk = std::fs::read_to_string(SCHEMA).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "schemas/galleon.schema.json is stale; regenerate with \
         `GALLEON_UPDATE_SCHEMA=1 cargo test -p galleon-manifest --test schema` \
         or `cargo run -- schema > schemas/galleon.schema.json`"
    );
}

#[test]
fn schema_is_draft07_and_documents_fields() {
    let s = json_schema();
    assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(s["additionalProperties"], false);
    let text = s.to_string();
    assert!(
        text.contains("Tenant key owning a raw-ARM-id image"),
        "doc comments missing"
    );
    assert!(text.contains("\"ConfidentialVM\""));
    // Secrets can only be references in the schema.
    assert!(text.contains("Never the secret itself"));
}

/// A GitHub Actions workflow shipped among the examples is YAML but not a manifest.
fn is_workflow(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("jobs:"))
}

#[test]
fn every_example_validates_and_declares_the_schema() {
    let mut count = 0;
    for dir in std::fs::read_dir("../../examples").unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let mut manifests = 0;
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if matches!(f.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                let text = std::fs::read_to_string(&f).unwrap();
                if is_workflow(&text) {
                    continue;
                }
                manifests += 1;
                assert!(
                    text.starts_with(
                        "# yaml-language-server: $schema=../../schemas/galleon.schema.json\n"
                    ),
                    "{} lacks the schema line",
                    f.display()
                );
            }
        }
        if manifests == 0 {
            continue;
        }
        let ws =
            Workspace::load(Path::new(&dir)).unwrap_or_else(|d| panic!("{}:\n{d}", dir.display()));
        assert!(!ws.resources().is_empty());
        count += 1;
    }
    assert!(count >= 2);
}
