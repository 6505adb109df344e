//! Snapshot tests: what a user sees for each kind of plan, in each format.

use galleon_plan::{Plan, fixtures};
use galleon_render::{
    JsonPlan, TextOptions, render_json, render_markdown, render_text, schema_json,
};

fn cases() -> [(&'static str, Plan); 6] {
    [
        ("create_only", fixtures::create_only()),
        ("mixed", fixtures::mixed()),
        ("replace", fixtures::replace()),
        ("delete", fixtures::delete()),
        ("preflight_failures", fixtures::preflight_failures()),
        ("no_changes", fixtures::no_changes()),
    ]
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(
        r#"galleon[_ ]version"?: "?\d+\.\d+\.\d+(-[\w.]+)?"#,
        "galleon_version: [version]",
    );
    s.add_filter(r"galleon \d+\.\d+\.\d+(-[\w.]+)? ·", "galleon [version] ·");
    s
}

#[test]
fn text_snapshots() {
    for (name, plan) in cases() {
        let text = render_text(&plan, TextOptions::default());
        settings().bind(|| insta::assert_snapshot!(format!("text_{name}"), text));
    }
}

#[test]
fn markdown_snapshots() {
    for (name, plan) in cases() {
        let md = render_markdown(&plan);
        settings().bind(|| insta::assert_snapshot!(format!("markdown_{name}"), md));
    }
}

#[test]
fn json_snapshot_of_a_mixed_plan() {
    let json = render_json(&fixtures::mixed());
    settings().bind(|| insta::assert_snapshot!("json_mixed", json));
}

#[test]
fn colour_only_when_asked() {
    let plan = fixtures::replace();
    let plain = render_text(&plan, TextOptions::default());
    assert!(!plain.contains('\u{1b}'));
    let coloured = render_text(
        &plan,
        TextOptions {
            color: true,
            show_unchanged: false,
        },
    );
    assert!(coloured.contains("\u{1b}["));
    let stripped = strip_ansi(&coloured);
    assert_eq!(stripped, plain, "colour adds escapes and nothing else");
}

#[test]
fn summary_line_and_forces_replacement_come_from_the_plan() {
    let text = render_text(&fixtures::mixed(), TextOptions::default());
    assert!(text.contains("Plan: 1 to add, 1 to change, 1 to replace, 1 to destroy."));
    assert!(text.contains("properties.hyperVGeneration = \"V1\" -> \"V2\" # forces replacement"));
    let none = render_text(&fixtures::no_changes(), TextOptions::default());
    assert!(none.contains("No changes. Your infrastructure matches the configuration."));
    assert!(
        !none.contains("resource_group.images"),
        "no-ops are hidden by default"
    );
    let all = render_text(
        &fixtures::no_changes(),
        TextOptions {
            color: false,
            show_unchanged: true,
        },
    );
    assert!(all.contains("resource_group.images is up to date"));
}

#[test]
fn markdown_lists_failed_checks_before_changes() {
    let md = render_markdown(&fixtures::preflight_failures());
    let failed = md
        .find("Failed preflight checks")
        .expect("failed checks section");
    let changes = md.find("#### Changes").expect("changes section");
    assert!(failed < changes);
    assert!(
        md.contains("**Fix:** an admin of tenant publisher consents once: az ad sp create --id")
    );
}

#[test]
fn json_output_matches_its_checked_in_schema() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/plan.schema.json"
    );
    let generated = schema_json();
    if std::env::var_os("GALLEON_UPDATE_SCHEMAS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schemas/plan.schema.json is stale: run `GALLEON_UPDATE_SCHEMAS=1 cargo test -p galleon-render` and commit it"
    );
    let schema: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let output: serde_json::Value = serde_json::from_str(&render_json(&fixtures::mixed())).unwrap();
    let required = schema["required"].as_array().unwrap();
    for key in required {
        assert!(
            output.get(key.as_str().unwrap()).is_some(),
            "output lacks required {key}"
        );
    }
    let declared = schema["properties"].as_object().unwrap();
    for key in output.as_object().unwrap().keys() {
        assert!(declared.contains_key(key), "schema does not declare {key}");
    }
}

#[test]
fn json_view_answers_the_questions_of_ci() {
    let plan = fixtures::preflight_failures();
    let view = JsonPlan::new(&plan);
    assert!(view.has_changes);
    assert!(!view.applyable);
    assert_eq!(view.format_version, 1);
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
