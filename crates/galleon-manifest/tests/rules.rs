//! One fixture workspace per validation rule (`tests/fixtures/<code>/`): loading must fail with
//! that code, and the rendered report (snippets, labels, help) is snapshotted.

use std::path::Path;

use galleon_manifest::{RenderStyle, Workspace};

const STYLE: RenderStyle = RenderStyle {
    color: false,
    width: 100,
};

#[test]
fn every_rule_fixture_fails_with_its_code() {
    let mut dirs: Vec<_> = std::fs::read_dir("tests/fixtures")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 20, "fixtures missing: {dirs:?}");
    for dir in dirs {
        let rule = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let diags = match Workspace::load(Path::new(&dir)) {
            Ok(ws) => panic!(
                "{rule}: fixture loaded ({} resources)",
                ws.resources().len()
            ),
            Err(d) => d,
        };
        let code = format!("galleon::{rule}");
        assert!(
            diags.items().iter().any(|d| d.code.as_str() == code),
            "{rule}: no {code} in:\n{diags}"
        );
        assert!(
            diags
                .items()
                .iter()
                .all(|d| d.file.is_some() && d.loc.is_some()),
            "{rule}: a diagnostic has no position:\n{diags}"
        );
        let rendered = diags.render(STYLE);
        for secret in ["s3cr3t", "PRIVATE KEY", "eyJhbGci"] {
            assert!(
                !rendered.contains(secret),
                "{rule}: secret shown:\n{rendered}"
            );
        }
        insta::assert_snapshot!(rule.clone(), rendered);
    }
}
