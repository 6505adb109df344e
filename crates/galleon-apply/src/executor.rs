//! Walks a [`Schedule`]: every step starts as soon as all it waits on has succeeded and ARM
//! would admit its write, so the wall time approaches the graph's critical path.
//!
//! Modelled on terraform's `internal/dag/walk.go`: a failed step makes its dependents skip,
//! reported once with the root cause, while independent branches carry on. One scheduling
//! loop owns all state; steps are futures polled by that loop, so no lock guards the graph.
//!
//! Most of a step is waiting for Azure's long-running operation, during which it sends only
//! polls, which the client paces within the read bucket. So what bounds how many steps run is
//! not a count but ARM's write bucket: a step starts when its subscription's bucket has a
//! token for its write ([`Admission`]), and holds nothing while its operation runs. Fixed caps
//! remain for users who want them (`--parallelism`, as in Terraform).
//!
//! # Guarantees
//! - A step starts only after every step it waits on succeeded; a step runs at most once.
//! - With an [`Admission`], a step starts only when its first write would be sent at once:
//!   started steps are being sent, not queued behind the rate limiter.
//! - At most `max_parallel` steps run at once, and at most `max_per_subscription` per
//!   subscription, when those caps are set.
//! - Every step ends with exactly one terminal event: Succeeded, Failed, Skipped or Cancelled.
//! - After cancellation no step starts; in-flight steps get `drain_timeout` to finish (a PUT
//!   already accepted by ARM proceeds in Azure anyway, so waiting tells the user its fate).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::event::{Event, EventKind, EventSink, Summary};
use crate::schedule::Schedule;
use crate::step::{Op, StepFailure, StepId};

/// Performs one step's write. Implemented by the ARM runner and by test fakes.
pub trait StepRunner<P>: Sync {
    /// Performs `step` and waits for Azure to finish it.
    ///
    /// # Errors
    /// A [`StepFailure`] with ARM's fields when the write or its long-running operation failed.
    fn run(
        &self,
        step: &StepId,
        payload: &P,
        progress: &Progress<'_>,
    ) -> impl Future<Output = Result<(), StepFailure>> + Send;
}

/// Lets a running step report the state of its long-running operation.
pub struct Progress<'a> {
    sink: &'a dyn EventSink,
    step: &'a StepId,
    start: Instant,
}

impl Progress<'_> {
    /// Reports ARM's operation status (`Creating`, `InProgress`, ...).
    pub fn lro(&self, status: &str) {
        self.sink.emit(&Event {
            elapsed: self.start.elapsed(),
            step: self.step.clone(),
            kind: EventKind::LroProgress {
                status: status.to_owned(),
            },
        });
    }
}

/// Decides whether ARM would take a step's write now.
///
/// The executor asks before starting each step. Saying yes takes what the write will spend
/// (galleon-azure's limiter keeps it for the step's request), so a started step is sent at
/// once; saying no tells when to ask again.
pub trait Admission: Send + Sync + std::fmt::Debug {
    /// Admits the write `op` of a step in `subscription` if it can be sent now.
    ///
    /// # Errors
    /// How long until it could be; nothing was taken.
    fn admit(&self, subscription: &str, op: Op) -> Result<(), Duration>;
}

/// No fixed cap on steps in flight.
pub const UNCAPPED: usize = usize::MAX;

/// Concurrency bounds and the drain bound.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Steps running at once, overall ([`UNCAPPED`] by default).
    pub max_parallel: usize,
    /// Steps running at once within one subscription ([`UNCAPPED`] by default).
    pub max_per_subscription: usize,
    /// Which steps ARM would take now; `None` starts every ready step within the caps.
    /// [`crate::apply`] uses the client's rate limiter.
    pub admission: Option<Arc<dyn Admission>>,
    /// How long to wait for in-flight steps after cancellation before abandoning them.
    pub drain_timeout: Duration,
}

impl Default for ExecOptions {
    fn default() -> Self {
        // No fixed caps: the admission follows ARM's write buckets (200 at once, then 10/s per
        // subscription and principal; arm-protocol.md §1.1), and a step waiting on its
        // operation costs one poll now and then, which the client paces within the read
        // bucket. A fixed cap would only idle the buckets: with 500 VMs ready at once, 64 slots
        // kept 436 creates waiting for six-second operations that ARM would have run together.
        Self {
            max_parallel: UNCAPPED,
            max_per_subscription: UNCAPPED,
            admission: None,
            drain_timeout: Duration::from_secs(120),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Done,
}

/// Forwards to the caller's sink and keeps terminal events for the summary.
struct Tee<'a> {
    inner: &'a dyn EventSink,
    terminal: Mutex<Vec<Event>>,
}

impl EventSink for Tee<'_> {
    fn emit(&self, event: &Event) {
        if !matches!(
            event.kind,
            EventKind::Started | EventKind::LroProgress { .. }
        ) && let Ok(mut t) = self.terminal.lock()
        {
            t.push(event.clone());
        }
        self.inner.emit(event);
    }
}

/// Runs every step of `schedule` with `runner`, reporting to `sink`, until all steps ended or
/// `cancel` fired and the drain bound passed. Calls `sink.finish` with the summary it returns.
pub async fn execute<P, R>(
    schedule: &Schedule<P>,
    runner: &R,
    sink: &dyn EventSink,
    options: &ExecOptions,
    cancel: &CancellationToken,
) -> Summary
where
    P: Send + Sync,
    R: StepRunner<P>,
{
    let start = Instant::now();
    let steps = &schedule.steps;
    let tee = Tee {
        inner: sink,
        terminal: Mutex::new(Vec::new()),
    };
    let emit = |i: usize, kind| {
        tee.emit(&Event {
            elapsed: start.elapsed(),
            step: steps[i].id.clone(),
            kind,
        });
    };

    let mut state = vec![State::Waiting; steps.len()];
    let mut unmet: Vec<usize> = steps.iter().map(|s| s.waits_on.len()).collect();
    // Plan order among ready steps keeps runs reproducible.
    let mut ready: BTreeSet<usize> = (0..steps.len()).filter(|&i| unmet[i] == 0).collect();
    let mut in_flight = 0usize;
    let mut per_sub: HashMap<&str, usize> = HashMap::new();
    let mut running = FuturesUnordered::new();
    let mut drain_deadline: Option<Instant> = None;

    loop {
        // When a refused admission may succeed; the loop wakes then to ask again.
        let mut admit_at: Option<Instant> = None;
        if drain_deadline.is_none() && !cancel.is_cancelled() {
            let mut started = Vec::new();
            // A subscription refused for one kind of write refuses the next one too.
            let mut refused: HashSet<(&str, bool)> = HashSet::new();
            for &i in &ready {
                if in_flight >= options.max_parallel.max(1) {
                    break;
                }
                let sub = steps[i].subscription.as_str();
                if per_sub.get(sub).copied().unwrap_or(0) >= options.max_per_subscription.max(1) {
                    continue;
                }
                let op = steps[i].id.op;
                if let Some(admission) = &options.admission {
                    let key = (sub, op == Op::Delete);
                    if refused.contains(&key) {
                        continue;
                    }
                    if let Err(wait) = admission.admit(sub, op) {
                        refused.insert(key);
                        let at = Instant::now() + wait;
                        admit_at = Some(admit_at.map_or(at, |t: Instant| t.min(at)));
                        continue;
                    }
                }
                in_flight += 1;
                *per_sub.entry(sub).or_default() += 1;
                started.push(i);
                state[i] = State::Running;
                emit(i, EventKind::Started);
                let (tee, step) = (&tee, &steps[i]);
                running.push(async move {
                    let progress = Progress {
                        sink: tee,
                        step: &step.id,
                        start,
                    };
                    (i, runner.run(&step.id, &step.payload, &progress).await)
                });
            }
            for i in started {
                ready.remove(&i);
            }
        }
        if running.is_empty() && (admit_at.is_none() || cancel.is_cancelled()) {
            break;
        }
        tokio::select! {
            biased;
            Some((i, result)) = running.next() => {
                state[i] = State::Done;
                in_flight -= 1;
                if let Some(n) = per_sub.get_mut(steps[i].subscription.as_str()) {
                    *n -= 1;
                }
                match result {
                    Ok(()) => {
                        emit(i, EventKind::Succeeded { action: steps[i].id.op });
                        for &d in &steps[i].dependents {
                            unmet[d] -= 1;
                            if unmet[d] == 0 && state[d] == State::Waiting {
                                ready.insert(d);
                            }
                        }
                    }
                    Err(mut error) => {
                        let hint = error.hint.take();
                        emit(i, EventKind::Failed { error, hint });
                        skip_dependents(schedule, i, &mut state, |d, because| {
                            emit(d, EventKind::Skipped { because });
                        });
                    }
                }
            }
            () = cancel.cancelled(), if drain_deadline.is_none() => {
                drain_deadline = Some(Instant::now() + options.drain_timeout);
            }
            () = sleep_until_opt(drain_deadline) => {
                running.clear(); // abandons the in-flight futures
                for (i, st) in state.iter_mut().enumerate() {
                    if *st == State::Running {
                        *st = State::Done;
                        emit(i, EventKind::Cancelled { in_flight: true });
                    }
                }
                break;
            }
            () = sleep_until_opt(admit_at), if drain_deadline.is_none() => {}
        }
    }

    drop(running);
    let interrupted = cancel.is_cancelled();
    for (i, st) in state.iter().enumerate() {
        if *st == State::Waiting {
            emit(i, EventKind::Cancelled { in_flight: false });
        }
    }
    let terminal = tee.terminal.into_inner().unwrap_or_default();
    let summary = Summary::from_events(&terminal, start.elapsed(), interrupted);
    sink.finish(&summary);
    summary
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Marks every transitive dependent of the failed step `failed` as skipped, each once, naming
/// `failed` as the cause (terraform's `upstreamFailed`, without repeating it per hop).
fn skip_dependents<P>(
    schedule: &Schedule<P>,
    failed: usize,
    state: &mut [State],
    mut report: impl FnMut(usize, StepId),
) {
    let because = &schedule.steps[failed].id;
    let mut stack: Vec<usize> = schedule.steps[failed].dependents.clone();
    while let Some(d) = stack.pop() {
        // Already skipped through another failed step: its dependents are handled too.
        if state[d] != State::Waiting {
            continue;
        }
        state[d] = State::Done;
        report(d, because.clone());
        stack.extend(schedule.steps[d].dependents.iter().copied());
    }
}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "executor_admission_tests.rs"]
mod admission_tests;
