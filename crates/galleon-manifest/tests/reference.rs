//! `docs/manifest.md` is generated from the JSON Schema; this fails when it drifts.
//! Regenerate with `GALLEON_UPDATE_DOCS=1 cargo test -p galleon-manifest --test reference`
//! (or `galleon schema --markdown > docs/manifest.md`).

use std::path::Path;

#[test]
fn manifest_reference_matches_the_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/manifest.md");
    let generated = galleon_manifest::reference::markdown();
    if std::env::var_os("GALLEON_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/manifest.md is out of date: GALLEON_UPDATE_DOCS=1 cargo test -p galleon-manifest --test reference"
    );
}

#[test]
fn every_section_and_definition_is_documented() {
    let page = galleon_manifest::reference::markdown();
    let schema = galleon_manifest::schema::json_schema();
    for section in schema["properties"].as_object().unwrap().keys() {
        assert!(
            page.contains(&format!("| `{section}` |")),
            "{section} missing"
        );
    }
    for name in schema["definitions"].as_object().unwrap().keys() {
        assert!(page.contains(&format!("\n## {name}\n")), "{name} missing");
    }
    // Enumerations list their values, not "string".
    assert!(page.contains("`Generalized`") && page.contains("`Specialized`"));
}
