//! The README's commands, followed literally on a copy of the repository's example: the sandbox
//! apply, then a plan that finds nothing to do. Also the CLI's generated docs.

use std::process::Command;

use crate::context::{galleon_bin, repo};

#[test]
fn readme_first_command_applies_the_seed_scenario_in_the_sandbox() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let first = readme
        .lines()
        .find(|l| l.starts_with("cargo run -- "))
        .expect("the README's first command");
    let args: Vec<&str> = first
        .trim_start_matches("cargo run -- ")
        .split_whitespace()
        .collect();
    assert_eq!(args.last(), Some(&"examples/cross-tenant"));

    let tmp = tempfile::tempdir().unwrap();
    let examples = tmp.path().join("examples");
    std::fs::create_dir_all(&examples).unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(repo().join("examples/cross-tenant"))
        .arg(&examples)
        .status()
        .unwrap();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(examples.join("cross-tenant/.galleon"));

    let run = |args: &[&str]| {
        Command::new(galleon_bin())
            .args(args)
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .env_remove("GALLEON_ENDPOINT")
            .env_remove("GALLEON_CA_FILE")
            .output()
            .unwrap()
    };
    let apply = run(&args);
    let out = String::from_utf8_lossy(&apply.stdout);
    assert!(
        apply.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    assert!(out.contains("Apply complete: 11 created"), "{out}");

    let plan = run(&[
        "plan",
        "--sandbox",
        "--detailed-exitcode",
        "examples/cross-tenant",
    ]);
    let out = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(0), "{out}");
    assert!(out.contains("No changes."), "{out}");
}

#[test]
fn completions_and_man_page_mention_every_command() {
    let help = Command::new(galleon_bin()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let commands: Vec<String> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // Wrapped descriptions continue on lines indented deeper than the command names.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Command::new(galleon_bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        for c in &commands {
            assert!(text.contains(c.as_str()), "{shell} completions lack {c}");
        }
    }
    let man = Command::new(galleon_bin()).arg("man").output().unwrap();
    assert!(man.status.success());
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(text.starts_with(".ie") || text.contains(".TH"), "not roff");
    for c in &commands {
        assert!(
            text.contains(&format!("galleon\\-{c}")) || text.contains(&format!("galleon-{c}")),
            "man page lacks {c}"
        );
    }
}
