//! Issue 8, secrets: the canary client secret and every token the emulator issued stay out of
//! stdout, stderr (trace-level logs included), plan files, JSON output and error reports; TLS
//! is verified unless a CA is given; the auxiliary token travels only on the writes that need
//! it. (That tokens go only to the cloud's own hosts is proven against a stub server in
//! `galleon-azure/tests/it/requests.rs` and `lro.rs`, which can point links elsewhere.)

use std::time::{Duration, Instant};

use serde_json::json;

use crate::context::{Run, SECRET, TestContext};

/// Every access token is a JWT, and every JWT starts with the base64 of `{"`.
const JWT_PREFIX: &str = "eyJ";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} holds the client secret");
    assert!(!text.contains(JWT_PREFIX), "{what} holds a token:\n{text}");
}

fn check(what: &str, run: &Run) {
    assert_clean(&format!("{what} stdout"), &run.stdout());
    assert_clean(&format!("{what} stderr"), &run.stderr());
}

/// `galleon ARGS` with every log target at trace level.
fn traced(ctx: &TestContext, args: &[&str]) -> Run {
    Run(ctx
        .galleon()
        .args(args)
        .arg("-vvv")
        .env("RUST_LOG", "trace")
        .output()
        .expect("run galleon"))
}

#[test]
fn the_canary_secret_and_tokens_never_leave_the_process() {
    let ctx = TestContext::new("cross-tenant");
    let run = traced(&ctx, &["plan", "--out", "plan.json"]).expect(0);
    assert!(run.stderr().contains("TRACE"), "trace logging was not on");
    check("plan --out", &run);
    let file = std::fs::read_to_string(ctx.workspace.join("plan.json")).unwrap();
    assert_clean("plan file", &file);
    check("plan --json", &traced(&ctx, &["plan", "--json"]).expect(0));
    check(
        "plan markdown",
        &traced(&ctx, &["plan", "--format", "markdown"]).expect(0),
    );

    // A failing apply: error reports carry ARM's messages, not the credentials.
    let faults = json!({"lro_failure_rate": 1.0, "path_contains": "virtualmachines", "seed": 3});
    ctx.admin_put("faults", &faults);
    check(
        "failed apply --json",
        &traced(&ctx, &["apply", "--json", "plan.json"]).expect(1),
    );
    ctx.admin_put("faults", &json!({}));
    check(
        "apply",
        &traced(&ctx, &["apply", "--auto-approve"]).expect(0),
    );
    check(
        "destroy --json",
        &traced(&ctx, &["destroy", "--auto-approve", "--json"]).expect(0),
    );

    // Nothing galleon left in the workspace holds them either.
    for entry in walk(&ctx.workspace) {
        if let Ok(text) = std::fs::read_to_string(&entry) {
            assert_clean(&entry.display().to_string(), &text);
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_wrong_secret_is_refused_without_being_printed() {
    let ctx = TestContext::new("cross-tenant");
    let wrong = "wrong-canary-secret-51d0e2";
    let run = Run(ctx
        .galleon()
        .args(["plan", "-vvv"])
        .env("GALLEON_APP_SECRET", wrong)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap())
    .expect(1);
    let all = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        all.contains("AADSTS7000215"),
        "the sign-in error is explained: {all}"
    );
    assert!(!all.contains(wrong), "the wrong secret was printed");
    assert!(!all.contains(SECRET));
}

#[test]
fn tls_is_verified_unless_a_ca_is_given() {
    let ctx = TestContext::new("cross-tenant");
    let start = Instant::now();
    let run = Run(ctx
        .galleon()
        .arg("plan")
        .env_remove("GALLEON_CA_FILE")
        .output()
        .unwrap())
    .expect(1);
    assert!(
        run.stderr().to_lowercase().contains("certificate"),
        "{}",
        run.stderr()
    );
    // Refusing a certificate is not a transient failure worth retrying.
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    // The handshake failed before any request, so no token (nor the secret) was ever sent.
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
    ctx.run(&["plan"]).expect(0);
}

#[test]
fn the_auxiliary_token_travels_only_on_writes_that_need_it() {
    let ctx = TestContext::new("fleet");
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    let requests = ctx.requests();
    let aux: Vec<_> = requests.iter().filter(|r| r["auxiliary"] == true).collect();
    let vm_writes: std::collections::BTreeSet<String> = requests
        .iter()
        .filter(|r| r["method"] != "GET")
        .filter_map(|r| r["path"].as_str().map(str::to_lowercase))
        .filter(|p| p.contains("/providers/microsoft.compute/virtualmachines/"))
        .collect();
    // 20 VMs built from the other tenant's gallery: each create, once, carries that tenant.
    assert_eq!(vm_writes.len(), 20, "{vm_writes:?}");
    assert_eq!(aux.len(), vm_writes.len(), "{aux:?}");
    for r in &aux {
        let path = r["path"].as_str().unwrap().to_lowercase();
        assert_eq!(r["method"], "PUT", "{r}");
        assert!(
            path.contains("/providers/microsoft.compute/virtualmachines/"),
            "{path}"
        );
        assert_eq!(
            r["auxiliary_tenants"],
            json!(["11111111-1111-4111-8111-111111111111"])
        );
    }
}
