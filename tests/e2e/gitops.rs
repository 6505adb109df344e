//! The GitHub Actions example: the workflow parses as YAML, and every galleon command and flag it
//! runs exists in this galleon (so the example cannot rot when the CLI changes).

use std::process::Command;

use serde_json::Value;

use crate::context::{galleon_bin, repo};

#[test]
fn the_github_workflow_parses_and_its_galleon_commands_exist() {
    let text = std::fs::read_to_string(repo().join("examples/github-actions/galleon.yml")).unwrap();
    let workflow: Value = serde_saphyr::from_str(&text).expect("the workflow is valid YAML");
    assert_eq!(
        workflow["permissions"]["id-token"], "write",
        "OIDC needs id-token: write"
    );
    let jobs = workflow["jobs"].as_object().expect("jobs");
    assert!(jobs.contains_key("plan") && jobs.contains_key("apply"));

    let mut invocations = Vec::new();
    for job in jobs.values() {
        for step in job["steps"].as_array().expect("steps") {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            for line in script.lines().filter(|l| !l.trim_start().starts_with('#')) {
                for part in line.split(['|', ';', '&']) {
                    let words: Vec<&str> = part.split_whitespace().collect();
                    if let Some(at) = words.iter().position(|w| *w == "galleon")
                        && words.get(at + 1).is_some_and(|w| !w.starts_with('-'))
                    {
                        invocations.push(words[at + 1..].join(" "));
                    }
                }
            }
        }
    }
    assert!(
        invocations.iter().any(|i| i.starts_with("plan ")),
        "{invocations:?}"
    );
    assert!(
        invocations.iter().any(|i| i.starts_with("apply ")),
        "{invocations:?}"
    );
    for invocation in &invocations {
        let words: Vec<&str> = invocation.split_whitespace().collect();
        let help = Command::new(galleon_bin())
            .args([words[0], "--help"])
            .output()
            .unwrap();
        assert!(
            help.status.success(),
            "`galleon {}` is not a command",
            words[0]
        );
        let help = String::from_utf8_lossy(&help.stdout);
        for flag in words.iter().filter(|w| w.starts_with("--")) {
            assert!(help.contains(flag), "`galleon {}` has no {flag}", words[0]);
        }
    }
}
