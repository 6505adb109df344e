//! Issue 8, hostile input through the real binary: YAML bombs, deep nesting and huge files are
//! refused quickly under a hard memory limit; every malformed manifest is reported with its
//! file, line and column; a damaged or edited plan file is refused before anything is written.
//! (Fuzzing of the loader and the plan-file parser: `galleon-manifest/tests/hostile.rs` and
//! `galleon-plan/src/planfile_fuzz.rs`.)

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::context::{Run, SECRET, TestContext, galleon_bin};

/// Address-space limit for hostile runs: a loader that expanded a bomb would abort instead of
/// answering with a diagnostic.
const MEMORY_LIMIT_KIB: u64 = 256 * 1024;

/// `galleon validate DIR` under `ulimit -v`, timed.
fn validate_bounded(dir: &std::path::Path) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" validate \"$1\""
        ))
        .arg(galleon_bin())
        .arg(dir)
        .env("NO_COLOR", "1")
        .env("GALLEON_APP_SECRET", SECRET)
        .stdin(Stdio::null())
        .output()
        .expect("run galleon under ulimit");
    (out, start.elapsed())
}

fn refused(name: &str, text: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let (out, took) = validate_bounded(dir.path());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{name}: {:?}\n{all}",
        out.status
    );
    assert!(took < Duration::from_secs(5), "{name} took {took:?}");
    assert!(all.contains(name), "the error names the file: {all}");
    all
}

#[test]
fn yaml_bombs_deep_nesting_and_huge_files_are_refused_quickly_in_bounded_memory() {
    // Billion laughs: 10^9 "lol"s if aliases were expanded, inside a value that could hold them.
    let mut bomb =
        String::from("workspace: w\nx0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
    for i in 1..10 {
        bomb.push_str(&format!(
            "x{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(",")
        ));
    }
    refused("bomb.yaml", bomb.as_bytes());

    let deep = format!(
        "workspace: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let out = refused("deep.yaml", deep.as_bytes());
    assert!(out.contains("deep.yaml:1:"), "{out}");

    // 64 MiB of honest-looking YAML: refused by size before it is parsed.
    let line = "# padding padding padding padding padding padding padding padding padding\n";
    let huge = line.repeat(64 * 1024 * 1024 / line.len());
    let out = refused("huge.yaml", huge.as_bytes());
    assert!(out.contains("4194304 bytes"), "{out}");
}

/// (file text, where the error must point). Positions checked by hand against the text.
const MALFORMED: &[(&str, &str)] = &[
    ("workspace: [1, 2\n", "1:12"),
    ("workspace: x\nworkspace: y\n", "2:1"),
    ("workspace: \"x\ntenants: {}\n", "1:12"),
    ("workspace: *nothing\n", "1:12"),
    ("workspace:\n  nested: map\n", "2:3"),
    ("workspace: x\ntenants:\n  a: [\n", "3:6"),
    ("workspace: x\ncolour: blue\n", "2:1"),
    (
        "workspace: x\ntenants:\n  a:\n    tenant_id: 11111111-1111-4111-8111-111111111111\n",
        "4:5",
    ),
    (
        "workspace: x\nresource_groups:\n  rg:\n    tenant: nope\n    subscription: \
         aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa\n    name: rg\n    location: westeurope\n",
        "4:13",
    ),
];

#[test]
fn every_malformed_manifest_is_reported_with_file_line_and_column() {
    for (text, at) in MALFORMED {
        let out = refused("bad.yaml", text.as_bytes());
        assert!(
            out.contains(&format!("bad.yaml:{at}")),
            "expected bad.yaml:{at} for {text:?}:\n{out}"
        );
    }
}

fn plan_file(ctx: &TestContext) -> std::path::PathBuf {
    ctx.run(&["plan", "--out", "plan.json"]).expect(0);
    ctx.workspace.join("plan.json")
}

fn writes(ctx: &TestContext) -> usize {
    ctx.requests()
        .iter()
        .filter(|r| matches!(r["method"].as_str(), Some("PUT" | "PATCH" | "DELETE")))
        .count()
}

#[test]
fn a_corrupted_or_tampered_plan_file_is_refused_before_any_write() {
    let ctx = TestContext::new("cross-tenant");
    let path = plan_file(&ctx);
    let good = std::fs::read_to_string(&path).unwrap();
    let tampered = [
        // An edit that keeps valid JSON (a create turned into a delete): the checksum catches it.
        (
            good.replacen("\"action\": \"create\"", "\"action\": \"delete\"", 1),
            "modified after it was written",
        ),
        // Truncation (a crash while copying the file).
        (
            good[..good.len() / 2].to_owned(),
            "is not a galleon plan file",
        ),
        // Another tool's JSON.
        (
            "{\"format_version\": 1}".to_owned(),
            "is not a galleon plan file",
        ),
        // A bit flip in the checksum itself.
        (
            good.replacen("\"sha256\": \"", "\"sha256\": \"0", 1),
            "modified after it was written",
        ),
    ];
    for (text, message) in tampered {
        assert_ne!(text, good);
        std::fs::write(&path, &text).unwrap();
        let run: Run = ctx.run(&["apply", "plan.json"]).expect(1);
        assert!(
            run.stderr().contains(message),
            "{message}: {}",
            run.stderr()
        );
        assert!(run.stderr().contains("plan.json"), "{}", run.stderr());
    }
    assert_eq!(writes(&ctx), 0, "a refused plan wrote to Azure");
    // The untouched file still applies.
    std::fs::write(&path, &good).unwrap();
    ctx.run(&["apply", "plan.json"]).expect(0);
}
