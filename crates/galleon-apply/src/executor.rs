//! Walks a [`Schedule`]: every step starts as soon as all it waits on has succeeded, within the
//! concurrency bounds, so the wall time approaches the graph's critical path.
//!
//! Modelled on terraform's `internal/dag/walk.go`: a failed step makes its dependents skip,
//! reported once with the root cause, while independent branches carry on. One scheduling
//! loop owns all state; steps are futures polled by that loop, so no lock guards the graph.
//!
//! # Guarantees
//! - A step starts only after every step it waits on succeeded; a step runs at most once.
//! - At most `max_parallel` steps run at once, and at most `max_per_subscription` per
//!   subscription (ARM throttles writes per subscription and principal).
//! - Every step ends with exactly one terminal event: Succeeded, Failed, Skipped or Cancelled.
//! - After cancellation no step starts; in-flight steps get `drain_timeout` to finish (a PUT
//!   already accepted by ARM proceeds in Azure anyway, so waiting tells the user its fate).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::event::{Event, EventKind, EventSink, Summary};
use crate::schedule::Schedule;
use crate::step::{StepFailure, StepId};

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

/// Concurrency bounds and the drain bound.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Steps running at once, overall.
    pub max_parallel: usize,
    /// Steps running at once within one subscription.
    pub max_per_subscription: usize,
    /// How long to wait for in-flight steps after cancellation before abandoning them.
    pub drain_timeout: Duration,
}

impl Default for ExecOptions {
    fn default() -> Self {
        // ARM grants 10 writes/s per subscription and principal (token bucket of 200); a
        // handful in flight stays far below that even with LRO polling.
        Self {
            max_parallel: 10,
            max_per_subscription: 5,
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
    let global = Arc::new(Semaphore::new(options.max_parallel.max(1)));
    let mut per_sub: HashMap<&str, Arc<Semaphore>> = HashMap::new();
    let mut running = FuturesUnordered::new();
    let mut drain_deadline: Option<Instant> = None;

    loop {
        if drain_deadline.is_none() && !cancel.is_cancelled() {
            let mut started = Vec::new();
            for &i in &ready {
                let Ok(g) = Arc::clone(&global).try_acquire_owned() else {
                    break;
                };
                let sem = per_sub
                    .entry(steps[i].subscription.as_str())
                    .or_insert_with(|| {
                        Arc::new(Semaphore::new(options.max_per_subscription.max(1)))
                    });
                let Ok(s) = Arc::clone(sem).try_acquire_owned() else {
                    continue;
                };
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
                    let result = runner.run(&step.id, &step.payload, &progress).await;
                    drop((g, s));
                    (i, result)
                });
            }
            for i in started {
                ready.remove(&i);
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            Some((i, result)) = running.next() => {
                state[i] = State::Done;
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
