//! Issue 8, crashes: galleon killed with SIGKILL at random points of an apply (and of a
//! destroy), and the emulator killed and restarted from its persisted state in the middle of an
//! apply. Each time, the next run must reach exactly the declared state: nothing duplicated,
//! nothing missing, nothing unowned touched. Kill points come from a seeded generator so a
//! failure can be replayed; `GALLEON_RELIABILITY_RUNS=N` raises the number of rounds.

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::context::TestContext;
use crate::invariants::{self, Desired};
use crate::reliability::plant_unowned;

/// SplitMix64: deterministic kill points from a seed, no dependency needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A delay in `0..max_ms` milliseconds.
    fn delay(&mut self, max_ms: u64) -> Duration {
        Duration::from_millis(self.next() % max_ms)
    }
}

fn rounds(ci_default: usize) -> usize {
    std::env::var("GALLEON_RELIABILITY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci_default)
}

fn spawn(ctx: &TestContext, args: &[&str]) -> Child {
    ctx.galleon()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start galleon")
}

/// `Child::kill` is SIGKILL on Unix: no destructor, no lock release, no flush.
fn kill_after(mut child: Child, delay: Duration) -> bool {
    std::thread::sleep(delay);
    let finished = child.try_wait().expect("wait").is_some();
    let _ = child.kill();
    let _ = child.wait();
    !finished
}

/// What a user does after a crash: wait out the apply lock's lease (60 s, moved on the
/// emulator's clock), which also lets operations the dead process left running finish.
fn wait_out_the_lease(ctx: &TestContext) {
    ctx.admin_post("clock/advance", &json!({"seconds": 61}));
}

fn slow_operations(ctx: &TestContext) {
    let mut s = ctx.admin_get("settings");
    s["lro_default_ms"] = json!(150);
    ctx.admin_put("settings", &s);
}

#[test]
fn sigkill_at_random_points_then_the_next_run_converges() {
    let ctx = TestContext::new("fleet");
    let desired = Desired::read(&ctx, "fleet");
    plant_unowned(&ctx);
    let before = invariants::unowned(&ctx, &desired);
    slow_operations(&ctx);
    let mut rng = Rng(0x006a_11e0);
    let mut killed = 0;
    // Each round kills one apply and one destroy: 2 kill points per round.
    for round in 0..rounds(3) {
        let at = rng.delay(6_000);
        killed += usize::from(kill_after(spawn(&ctx, &["apply", "--auto-approve"]), at));
        wait_out_the_lease(&ctx);
        let run = ctx.run(&["apply", "--auto-approve", "--json"]);
        assert_eq!(
            run.code(),
            0,
            "round {round}: apply after a kill at {at:?}\n{}\n{}",
            run.stdout(),
            run.stderr()
        );
        invariants::assert_converged(&ctx, &desired);

        let at = rng.delay(4_000);
        killed += usize::from(kill_after(spawn(&ctx, &["destroy", "--auto-approve"]), at));
        wait_out_the_lease(&ctx);
        ctx.run(&["destroy", "--auto-approve"]).expect(0);
        invariants::assert_nothing_owned(&ctx, "fleet");
    }
    eprintln!(
        "{killed} of {} runs killed before they finished",
        2 * rounds(3)
    );
    assert!(killed > 0, "every run finished before its kill point");
    invariants::assert_untouched(&ctx, &before);
}

#[test]
fn the_emulator_restarting_mid_apply_then_the_next_run_converges() {
    let mut ctx = TestContext::new("fleet");
    let desired = Desired::read(&ctx, "fleet");
    plant_unowned(&ctx);
    let before = invariants::unowned(&ctx, &desired);
    slow_operations(&ctx);
    let mut rng = Rng(0x004e_57a7);
    for round in 0..rounds(2) {
        let child = spawn(&ctx, &["apply", "--auto-approve"]);
        std::thread::sleep(rng.delay(5_000));
        ctx.restart_emulator();
        // The interrupted run may finish either way; what matters is the next one.
        let interrupted = child.wait_with_output().expect("wait");
        assert!(
            matches!(interrupted.status.code(), Some(0 | 1)),
            "round {round}: {:?}",
            interrupted.status
        );
        wait_out_the_lease(&ctx);
        let run = ctx.run(&["apply", "--auto-approve", "--json"]);
        assert_eq!(
            run.code(),
            0,
            "round {round}\n{}\n{}",
            run.stdout(),
            run.stderr()
        );
        invariants::assert_converged(&ctx, &desired);
        ctx.run(&["destroy", "--auto-approve"]).expect(0);
        invariants::assert_nothing_owned(&ctx, "fleet");
    }
    invariants::assert_untouched(&ctx, &before);
}

#[test]
fn a_killed_apply_keeps_the_lock_until_its_lease_expires_or_it_is_broken() {
    let ctx = TestContext::new("cross-tenant");
    slow_operations(&ctx);
    let mut child = spawn(&ctx, &["apply", "--auto-approve"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let leased = |r: &serde_json::Value| {
        r["path"].as_str().unwrap_or("").starts_with("/blob/")
            && r["query"].as_str().unwrap_or("").contains("comp=lease")
            && r["status"] == 201
    };
    while !ctx.requests().iter().any(leased) {
        assert!(
            std::time::Instant::now() < deadline,
            "the lock was never taken"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    // The dead holder's lease still stands: a second apply must not write beside it, and says
    // how to recover.
    let blocked = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let err = blocked.stderr();
    assert!(
        err.contains("lock") && err.contains("force-unlock"),
        "{err}"
    );
    // Breaking it is the user's explicit decision; then the apply converges.
    ctx.run(&["force-unlock"]).expect(0);
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    ctx.run(&["plan", "--detailed-exitcode"]).expect(0);
}
