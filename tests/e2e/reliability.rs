//! Issue 8, faults and tokens: the fleet example (56 resources) applied through an emulator
//! that throttles, fails, drops connections and fails operations, or whose tokens expire in
//! the middle of the run. The promises and figures are in `docs/reliability.md`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::context::{Run, TestContext};
use crate::invariants::{self, Desired};

/// Plants resources galleon must never touch: one untagged, one tagged by another workspace
/// with an address the fleet also uses, in a subscription the fleet writes to.
pub fn plant_unowned(ctx: &TestContext) {
    let rg = "/subscriptions/bbbbbbbb-0001-4000-8000-bbbbbbbbbbbb/resourceGroups/rg-theirs";
    ctx.admin_post("resources", &json!({"id": rg, "location": "westeurope"}));
    ctx.admin_post(
        "resources",
        &json!({"id": format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/nsg-theirs"),
                "location": "westeurope", "properties": {"securityRules": []}}),
    );
    ctx.admin_post(
        "resources",
        &json!({"id": format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/east-0-nsg"),
                "location": "westeurope", "properties": {"securityRules": []},
                "tags": {"galleon-workspace": "other", "galleon-address": "nsg.east"}}),
    );
}

fn settings(ctx: &TestContext, change: impl FnOnce(&mut Value)) {
    let mut s = ctx.admin_get("settings");
    change(&mut s);
    ctx.admin_put("settings", &s);
}

fn apply_json(ctx: &TestContext) -> Run {
    ctx.run(&["apply", "--auto-approve", "--json"])
}

/// The fault mix: 10% 5xx (half 500, half 503 with Retry-After), 5% 429 with
/// Retry-After, 2% dropped connections, 5% failed long-running operations.
fn fault_mix(seed: u64) -> Value {
    json!({"error_500_rate": 0.05, "error_503_rate": 0.05, "throttle_rate": 0.05,
           "drop_rate": 0.02, "lro_failure_rate": 0.05, "seed": seed})
}

fn faults_seen(ctx: &TestContext) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for r in ctx.requests() {
        if let Some(f) = r["fault"].as_str() {
            *counts.entry(f.to_owned()).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

/// Applies under faults until an apply succeeds; returns how many applies it took.
fn converge_under_faults(seed: u64) -> usize {
    let ctx = TestContext::new("fleet");
    let desired = Desired::read(&ctx, "fleet");
    plant_unowned(&ctx);
    let before = invariants::unowned(&ctx, &desired);
    ctx.admin_put("faults", &fault_mix(seed));
    let mut applies = 0;
    loop {
        applies += 1;
        let run = apply_json(&ctx);
        invariants::assert_half_made_reported(&ctx, &desired, &run.stdout());
        if run.code() == 0 {
            break;
        }
        assert_eq!(run.code(), 1, "{}", run.stderr());
        assert!(applies < 3, "not converged after 3 applies (seed {seed})");
    }
    let faults = faults_seen(&ctx);
    eprintln!("seed {seed}: converged in {applies} applies; faults injected {faults:?}");
    // The mix really was injected, all kinds of it, or the test proves nothing.
    for kind in ["throttle", "error500", "error503", "drop"] {
        assert!(faults.iter().any(|(k, _)| k == kind), "{kind}: {faults:?}");
    }
    ctx.admin_put("faults", &json!({}));
    invariants::assert_converged(&ctx, &desired);
    invariants::assert_untouched(&ctx, &before);
    applies
}

#[test]
fn the_fleet_converges_under_injected_faults() {
    // GALLEON_RELIABILITY_RUNS=N repeats with N seeds (docs/reliability.md has the figures).
    let runs: u64 = std::env::var("GALLEON_RELIABILITY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut histogram = [0usize; 4];
    for seed in 1..=runs {
        histogram[converge_under_faults(seed)] += 1;
    }
    eprintln!("applies needed (1, 2, 3): {:?}", &histogram[1..]);
}

#[test]
fn tokens_expiring_mid_apply_are_refreshed() {
    let ctx = TestContext::new("fleet");
    let desired = Desired::read(&ctx, "fleet");
    // Slow operations so that the apply is still writing when the tokens expire.
    settings(&ctx, |s| s["lro_default_ms"] = json!(400));
    let child = ctx
        .galleon()
        .args(["apply", "--auto-approve", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Wait for the first write (the lock blob), then age every token galleon holds by an hour
    // and a minute: galleon's own clock still thinks they are fresh, Azure (the emulator) says
    // expired, to the lock's Storage calls and to ARM alike. The lease itself stays renewable
    // after expiry while nobody else took it.
    while !ctx.requests().iter().any(|r| r["method"] == "PUT") {
        assert!(Instant::now() < deadline, "no write started");
        std::thread::sleep(Duration::from_millis(50));
    }
    ctx.admin_post("clock/advance", &json!({"seconds": 3660}));
    let out = child.wait_with_output().unwrap();
    let run = Run(out).expect(0);
    let expired: Vec<Value> = ctx
        .requests()
        .into_iter()
        .filter(|r| r["status"] == 401)
        .collect();
    assert!(
        !expired.is_empty(),
        "the emulator never refused an expired token, so nothing was proved"
    );
    let refused = |prefix: &str| {
        expired
            .iter()
            .any(|r| r["path"].as_str().unwrap_or("").starts_with(prefix))
    };
    assert!(refused("/blob/"), "Storage never refused an expired token");
    assert!(
        refused("/subscriptions/"),
        "ARM never refused an expired token"
    );
    // RFC 3339 times of one format compare as strings.
    let first_401 = expired[0]["time"].as_str().unwrap().to_owned();
    let refreshed = ctx
        .requests()
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap_or("")
                .ends_with("/oauth2/v2.0/token")
        })
        .any(|r| r["time"].as_str().unwrap_or("") > first_401.as_str() && r["status"] == 200);
    assert!(refreshed, "no token was fetched after the first 401");
    assert!(
        run.stdout().contains("\"outcome\":\"success\""),
        "{}",
        run.stdout()
    );
    invariants::assert_converged(&ctx, &desired);
}

#[test]
fn short_lived_tokens_are_renewed_before_they_expire() {
    let ctx = TestContext::new("fleet");
    let desired = Desired::read(&ctx, "fleet");
    // Tokens that live 5 min 2 s are "fresh" for 2 s under galleon's 5-minute margin: a run
    // of several seconds must fetch new ones on its own, without a single 401.
    settings(&ctx, |s| {
        s["token_lifetime_secs"] = json!(302);
        s["lro_default_ms"] = json!(300);
    });
    let start = Instant::now();
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    let tokens = ctx
        .requests()
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap_or("")
                .ends_with("/oauth2/v2.0/token")
        })
        .count();
    // Two tenants and two audiences (ARM, storage) need at most 4 tokens per 2 s window.
    assert!(
        start.elapsed() > Duration::from_secs(3),
        "the run was too short to prove renewal"
    );
    assert!(
        tokens > 4,
        "only {tokens} token requests: nothing was renewed"
    );
    assert!(!ctx.requests().iter().any(|r| r["status"] == 401));
    invariants::assert_converged(&ctx, &desired);
}
