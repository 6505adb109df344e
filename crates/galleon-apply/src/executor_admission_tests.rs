//! Steps start as ARM's write buckets admit them, through galleon-azure's own limiter, on
//! tokio's paused clock: start times are exact virtual instants.

use std::sync::Mutex;
use std::time::Duration;

use galleon_azure::{LimiterConfig, RateLimiter};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::apply::LimiterAdmission;
use crate::event::{Outcome, RecordingSink};
use crate::step::{Change, ChangeAction};

/// Steps that each wait `length` for their operation, recording when they started.
struct Operations {
    origin: Instant,
    length: Duration,
    started: Mutex<Vec<Duration>>,
    /// Steps running now, and the most seen at once.
    running: Mutex<(usize, usize)>,
}

impl Operations {
    fn new(length: Duration) -> Self {
        Self {
            origin: Instant::now(),
            length,
            started: Mutex::new(Vec::new()),
            running: Mutex::new((0, 0)),
        }
    }

    fn started(&self) -> Vec<Duration> {
        let mut s = self.started.lock().unwrap().clone();
        s.sort();
        s
    }

    fn peak(&self) -> usize {
        self.running.lock().unwrap().1
    }
}

impl StepRunner<String> for Operations {
    async fn run(&self, _: &StepId, _: &String, _: &Progress<'_>) -> Result<(), StepFailure> {
        self.started.lock().unwrap().push(self.origin.elapsed());
        {
            let mut r = self.running.lock().unwrap();
            r.0 += 1;
            r.1 = r.1.max(r.0);
        }
        tokio::time::sleep(self.length).await;
        self.running.lock().unwrap().0 -= 1;
        Ok(())
    }
}

/// `n` independent creates spread evenly over `subs` subscriptions.
fn creates(n: usize, subs: usize) -> Schedule<String> {
    let changes = (0..n)
        .map(|i| {
            let sub = format!("sub-{}", i % subs);
            Change {
                address: format!("vm.fleet[{i}]"),
                subscription: sub.clone(),
                action: ChangeAction::Create,
                depends_on: Vec::new(),
                referenced_by: Vec::new(),
                payload: sub,
            }
        })
        .collect();
    Schedule::build(changes).unwrap()
}

fn admitted_by_arm_limits() -> ExecOptions {
    let limiter = RateLimiter::new(LimiterConfig::default());
    ExecOptions {
        admission: Some(Arc::new(LimiterAdmission(Arc::new(limiter)))),
        ..ExecOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn every_ready_create_is_sent_before_any_completes_when_the_buckets_admit_them() {
    // The benchmark's VM phase: 500 six-second creates ready at once over 5 subscriptions,
    // 100 each, well inside the 200-write burst. Fixed caps of 64 ran them in 8 waves.
    let ops = Operations::new(Duration::from_secs(6));
    let summary = execute(
        &creates(500, 5),
        &ops,
        &RecordingSink::default(),
        &admitted_by_arm_limits(),
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Success);
    assert!(ops.started().iter().all(|t| t.is_zero()));
    assert_eq!(ops.peak(), 500);
    assert_eq!(summary.elapsed, Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn creates_beyond_the_write_burst_start_as_the_bucket_refills() {
    // 250 one-minute creates in one subscription: 200 at once, then 10 per second.
    let ops = Operations::new(Duration::from_secs(60));
    let summary = execute(
        &creates(250, 1),
        &ops,
        &RecordingSink::default(),
        &admitted_by_arm_limits(),
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Success);
    let started = ops.started();
    assert!(started[..200].iter().all(|t| t.is_zero()));
    for (k, t) in started[200..].iter().enumerate() {
        // The (k+1)-th token after the burst comes (k+1)/10 s in; never earlier.
        let due = Duration::from_millis(100 * (k as u64 + 1));
        assert!(
            *t + Duration::from_millis(1) >= due && *t <= due + Duration::from_millis(1),
            "step {} started at {t:?}, its token at {due:?}",
            200 + k
        );
    }
    // Every operation overlaps: the last starts 5 s in and runs its minute.
    assert_eq!(summary.elapsed.as_secs(), 65);
}

#[tokio::test(start_paused = true)]
async fn after_ctrl_c_no_step_waiting_for_its_token_starts() {
    let ops = Operations::new(Duration::from_secs(60));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1050)).await;
        trigger.cancel();
    });
    let options = ExecOptions {
        drain_timeout: Duration::from_secs(1),
        ..admitted_by_arm_limits()
    };
    let sink = RecordingSink::default();
    let summary = execute(&creates(250, 1), &ops, &sink, &options, &cancel).await;
    // 200 from the burst and 10 from the first second's refill; none after the Ctrl-C.
    assert_eq!(ops.started().len(), 210);
    assert!(ops.started().iter().all(|t| *t <= Duration::from_secs(1)));
    let waiting = sink
        .events()
        .iter()
        .filter(|e| e.kind == EventKind::Cancelled { in_flight: false })
        .count();
    assert_eq!((waiting, summary.outcome), (40, Outcome::Cancelled));
}

#[tokio::test(start_paused = true)]
async fn explicit_caps_still_bound_admitted_steps() {
    let ops = Operations::new(Duration::from_secs(6));
    let options = ExecOptions {
        max_parallel: 64,
        max_per_subscription: 32,
        ..admitted_by_arm_limits()
    };
    let summary = execute(
        &creates(100, 1),
        &ops,
        &RecordingSink::default(),
        &options,
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(ops.peak(), 32);
    // Four waves of six seconds, as `--parallelism-per-subscription 32` asks.
    assert_eq!(summary.elapsed, Duration::from_secs(24));
}
