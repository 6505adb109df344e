//! Executor behaviour on fake steps of known durations, on tokio's paused clock: the virtual
//! times asserted here are exact, so a scheduling regression shows up as a number.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::event::{Outcome, RecordingSink};
use crate::step::{Change, ChangeAction, ReplaceOrder};

/// A step's scripted behaviour: how long it takes, whether it fails.
#[derive(Clone, Copy)]
struct Script {
    secs: u64,
    fail: bool,
}

/// Runs scripted steps and records when each ran, in virtual seconds.
struct Fake {
    origin: Instant,
    scripts: HashMap<String, Script>,
    log: Mutex<Vec<(String, u64, u64)>>,
    /// Highest number of concurrent steps seen per subscription.
    peak: Mutex<HashMap<String, (usize, usize)>>,
}

impl Fake {
    fn new(scripts: &[(&str, u64, bool)]) -> Self {
        Self {
            origin: Instant::now(),
            scripts: scripts
                .iter()
                .map(|&(a, secs, fail)| (a.to_string(), Script { secs, fail }))
                .collect(),
            log: Mutex::new(Vec::new()),
            peak: Mutex::new(HashMap::new()),
        }
    }

    /// (step, start, end) in finishing order.
    fn log(&self) -> Vec<(String, u64, u64)> {
        self.log.lock().unwrap().clone()
    }

    fn peak(&self, sub: &str) -> usize {
        self.peak.lock().unwrap().get(sub).map_or(0, |p| p.1)
    }
}

impl StepRunner<String> for Fake {
    async fn run(
        &self,
        step: &StepId,
        subscription: &String,
        progress: &Progress<'_>,
    ) -> Result<(), StepFailure> {
        let script = self.scripts[&step.address];
        let started = self.origin.elapsed().as_secs();
        {
            let mut peak = self.peak.lock().unwrap();
            let p = peak.entry(subscription.clone()).or_default();
            p.0 += 1;
            p.1 = p.1.max(p.0);
        }
        progress.lro("InProgress");
        tokio::time::sleep(Duration::from_secs(script.secs)).await;
        self.peak.lock().unwrap().get_mut(subscription).unwrap().0 -= 1;
        let ended = self.origin.elapsed().as_secs();
        self.log
            .lock()
            .unwrap()
            .push((step.to_string(), started, ended));
        if script.fail {
            return Err(StepFailure {
                code: Some("Conflict".into()),
                message: format!("{} failed", step.address),
                hint: Some("try again".into()),
                ..StepFailure::default()
            });
        }
        Ok(())
    }
}

/// A change in subscription `sub`, whose payload is the subscription (the fake tracks peaks).
fn change(address: &str, sub: &str, action: ChangeAction, deps: &[&str]) -> Change<String> {
    Change {
        address: address.into(),
        subscription: sub.into(),
        action,
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        referenced_by: Vec::new(),
        payload: sub.into(),
    }
}

fn create(address: &str, deps: &[&str]) -> Change<String> {
    change(address, "s1", ChangeAction::Create, deps)
}

async fn run(
    changes: Vec<Change<String>>,
    fake: &Fake,
    options: ExecOptions,
    cancel: &CancellationToken,
) -> (Summary, RecordingSink) {
    let schedule = Schedule::build(changes).unwrap();
    let sink = RecordingSink::default();
    let summary = execute(&schedule, fake, &sink, &options, cancel).await;
    (summary, sink)
}

fn names(log: &[(String, u64, u64)]) -> Vec<&str> {
    log.iter().map(|(n, ..)| n.as_str()).collect()
}

#[tokio::test(start_paused = true)]
async fn wall_time_is_the_critical_path_not_the_sum() {
    // a(3) ─┐
    //       ├─ c(2) ── d(4)     critical path a+c+d = 9 s; sum of all steps = 16 s
    // b(1) ─┘
    // e(6) independent
    let fake = Fake::new(&[
        ("a.x", 3, false),
        ("b.x", 1, false),
        ("c.x", 2, false),
        ("d.x", 4, false),
        ("e.x", 6, false),
    ]);
    let changes = vec![
        create("a.x", &[]),
        create("b.x", &[]),
        create("c.x", &["a.x", "b.x"]),
        create("d.x", &["c.x"]),
        create("e.x", &[]),
    ];
    let (summary, sink) = run(
        changes,
        &fake,
        ExecOptions::default(),
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(
        fake.log(),
        [
            ("b.x".into(), 0, 1),
            ("a.x".into(), 0, 3),
            ("c.x".into(), 3, 5),
            ("e.x".into(), 0, 6),
            ("d.x".into(), 5, 9)
        ]
    );
    assert_eq!(summary.elapsed, Duration::from_secs(9));
    assert_eq!((summary.created, summary.outcome), (5, Outcome::Success));
    assert_eq!(sink.summary(), Some(summary));
    let lro = sink
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::LroProgress { .. }))
        .count();
    assert_eq!(lro, 5);
}

#[tokio::test(start_paused = true)]
async fn a_failure_skips_only_its_transitive_dependents_once() {
    // a fails; b and d depend on a, c on b, d also on x. x and e are independent.
    let fake = Fake::new(&[
        ("a.x", 1, true),
        ("b.x", 1, false),
        ("c.x", 1, false),
        ("d.x", 1, false),
        ("x.x", 2, false),
        ("e.x", 5, false),
    ]);
    let changes = vec![
        create("a.x", &[]),
        create("b.x", &["a.x"]),
        create("c.x", &["b.x"]),
        create("d.x", &["a.x", "x.x"]),
        create("x.x", &[]),
        create("e.x", &[]),
    ];
    let (summary, sink) = run(
        changes,
        &fake,
        ExecOptions::default(),
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(names(&fake.log()), ["a.x", "x.x", "e.x"]);
    let mut skipped: Vec<(String, String)> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Skipped { because } => Some((e.step.address, because.address)),
            _ => None,
        })
        .collect();
    skipped.sort();
    let expect = |s: &str| (s.to_string(), "a.x".to_string());
    assert_eq!(skipped, [expect("b.x"), expect("c.x"), expect("d.x")]);
    let failed = sink
        .events()
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::Failed { .. }));
    let Some(EventKind::Failed { error, hint }) = failed.map(|e| e.kind) else {
        panic!()
    };
    assert_eq!(
        (error.code.as_deref(), hint.as_deref()),
        (Some("Conflict"), Some("try again"))
    );
    assert_eq!(
        (summary.created, summary.failed, summary.skipped),
        (2, 1, 3)
    );
    assert_eq!(
        (summary.outcome, summary.elapsed),
        (Outcome::Failed, Duration::from_secs(5))
    );
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded_per_subscription_and_overall() {
    let mut scripts = Vec::new();
    let mut changes = Vec::new();
    for (sub, count) in [("s1", 6), ("s2", 2)] {
        for i in 0..count {
            let address = format!("{sub}.r{i}");
            scripts.push((address.clone(), 1, false));
            changes.push(change(&address, sub, ChangeAction::Create, &[]));
        }
    }
    let scripts: Vec<(&str, u64, bool)> = scripts
        .iter()
        .map(|(a, s, f)| (a.as_str(), *s, *f))
        .collect();
    let fake = Fake::new(&scripts);
    let options = ExecOptions {
        max_parallel: 4,
        max_per_subscription: 2,
        ..Default::default()
    };
    let (summary, _) = run(changes, &fake, options, &CancellationToken::new()).await;
    assert_eq!((fake.peak("s1"), fake.peak("s2")), (2, 2));
    // s1's six steps, two at a time, take 3 s; s2 is not starved by s1's queue.
    assert_eq!(summary.elapsed, Duration::from_secs(3));
    let s2_ends: Vec<u64> = fake
        .log()
        .iter()
        .filter(|(n, ..)| n.starts_with("s2"))
        .map(|l| l.2)
        .collect();
    assert_eq!(s2_ends, [1, 1]);

    let fake = Fake::new(&scripts);
    let changes = scripts.iter().map(|(a, ..)| create(a, &[])).collect();
    let options = ExecOptions {
        max_parallel: 3,
        max_per_subscription: 10,
        ..Default::default()
    };
    let (summary, _) = run(changes, &fake, options, &CancellationToken::new()).await;
    assert_eq!(
        (fake.peak("s1"), summary.elapsed),
        (3, Duration::from_secs(3))
    );
}

#[tokio::test(start_paused = true)]
async fn deletions_run_in_reverse_dependency_order() {
    let fake = Fake::new(&[
        ("resource_group.app", 1, false),
        ("network.app", 1, false),
        ("nic.web", 1, false),
        ("vm.web", 3, false),
        ("nsg.web", 1, false),
    ]);
    let del = |a, deps| change(a, "s1", ChangeAction::Delete, deps);
    let changes = vec![
        del("resource_group.app", &[]),
        del("network.app", &["resource_group.app", "nsg.web"]),
        del("nsg.web", &["resource_group.app"]),
        del("nic.web", &["network.app"]),
        del("vm.web", &["nic.web"]),
    ];
    let (summary, _) = run(
        changes,
        &fake,
        ExecOptions::default(),
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(
        names(&fake.log()),
        [
            "vm.web",
            "nic.web",
            "network.app",
            "nsg.web",
            "resource_group.app"
        ]
    );
    assert_eq!(
        (summary.deleted, summary.elapsed),
        (5, Duration::from_secs(7))
    );
}

#[tokio::test(start_paused = true)]
async fn replacement_halves_never_overlap_and_count_once() {
    let fake = Fake::new(&[("nic.web", 2, false), ("public_ip.web", 1, false)]);
    let changes = vec![
        change(
            "nic.web",
            "s1",
            ChangeAction::Replace(ReplaceOrder::DeleteThenCreate),
            &[],
        ),
        change(
            "public_ip.web",
            "s1",
            ChangeAction::Replace(ReplaceOrder::CreateThenDelete),
            &[],
        ),
    ];
    let (summary, _) = run(
        changes,
        &fake,
        ExecOptions::default(),
        &CancellationToken::new(),
    )
    .await;
    let log = fake.log();
    let at = |n: &str| log.iter().find(|l| l.0 == n).map(|l| (l.1, l.2)).unwrap();
    assert_eq!(at("nic.web (replace: delete)"), (0, 2));
    assert_eq!(at("nic.web (replace: create)"), (2, 4));
    assert_eq!(at("public_ip.web (replace: create)"), (0, 1));
    assert_eq!(at("public_ip.web (replace: delete)"), (1, 2));
    assert_eq!((summary.replaced, summary.outcome), (2, Outcome::Success));
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_new_work_and_drains_in_flight_steps() {
    let fake = Fake::new(&[("a.x", 10, false), ("b.x", 1, false), ("c.x", 1, false)]);
    let changes = vec![
        create("a.x", &[]),
        create("b.x", &["a.x"]),
        create("c.x", &["b.x"]),
    ];
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        trigger.cancel();
    });
    let (summary, sink) = run(changes, &fake, ExecOptions::default(), &cancel).await;
    // a was in flight and finished within the drain bound; b and c never started.
    assert_eq!(names(&fake.log()), ["a.x"]);
    let cancelled: Vec<(String, bool)> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Cancelled { in_flight } => Some((e.step.address, in_flight)),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, [("b.x".into(), false), ("c.x".into(), false)]);
    assert_eq!((summary.created, summary.cancelled), (1, 2));
    assert_eq!(
        (summary.outcome, summary.elapsed),
        (Outcome::Cancelled, Duration::from_secs(10))
    );
}

#[tokio::test(start_paused = true)]
async fn in_flight_steps_are_abandoned_after_the_drain_bound() {
    let fake = Fake::new(&[("a.x", 60, false), ("b.x", 1, false)]);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        trigger.cancel();
    });
    let options = ExecOptions {
        drain_timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let changes = vec![create("a.x", &[]), create("b.x", &["a.x"])];
    let (summary, sink) = run(changes, &fake, options, &cancel).await;
    assert!(fake.log().is_empty());
    let kinds: Vec<(String, EventKind)> = sink
        .events()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Cancelled { .. }))
        .map(|e| (e.step.address, e.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a.x".into(), EventKind::Cancelled { in_flight: true }),
            ("b.x".into(), EventKind::Cancelled { in_flight: false })
        ]
    );
    assert_eq!(
        (summary.cancelled, summary.elapsed),
        (2, Duration::from_secs(5))
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_token_starts_nothing() {
    let fake = Fake::new(&[("a.x", 1, false)]);
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (summary, _) = run(
        vec![create("a.x", &[])],
        &fake,
        ExecOptions::default(),
        &cancel,
    )
    .await;
    assert!(fake.log().is_empty());
    assert_eq!(
        (summary.cancelled, summary.outcome),
        (1, Outcome::Cancelled)
    );
}

#[path = "executor_props.rs"]
mod props;
