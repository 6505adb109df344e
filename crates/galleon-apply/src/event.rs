//! What the executor tells the outside world while it works, and the tally at the end.
//!
//! The executor only emits events; how they are shown (live terminal, plain lines, JSON) is the
//! sinks' business, the way terraform separates `views` from the walk. The summary is computed
//! from the same events, so what the user saw and what the exit code says cannot disagree.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::step::{Op, StepFailure, StepId};

/// One thing that happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Time since the apply started (the executor's clock, so tests can pin it).
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
    /// The step concerned.
    pub step: StepId,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What happened to a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The step's write was sent (or is about to be).
    Started,
    /// The long-running operation reported a status (`Creating`, `InProgress`, ...).
    LroProgress {
        /// ARM's status string, verbatim.
        status: String,
    },
    /// The write finished and Azure reports success.
    Succeeded {
        /// The write performed.
        action: Op,
    },
    /// The write failed; `error` keeps ARM's fields.
    Failed {
        /// What went wrong.
        error: StepFailure,
        /// What the user can do about it.
        hint: Option<String>,
    },
    /// The step never ran because a step it waits on (transitively) failed.
    Skipped {
        /// The step that failed (the root cause, never an intermediate skipped step).
        because: StepId,
    },
    /// The apply was interrupted before this step finished.
    Cancelled {
        /// True when the step's write was in flight and abandoned after the drain bound.
        in_flight: bool,
    },
}

/// Receives events. Called from the executor's task; implementations must not block for long.
pub trait EventSink: Send + Sync {
    /// One event, in the order they happened.
    fn emit(&self, event: &Event);
    /// The run is over; show the summary.
    fn finish(&self, _summary: &Summary) {}
}

/// Discards everything (library callers that only want the outcome).
#[derive(Debug, Default)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _event: &Event) {}
}

/// Keeps every event, for tests and for callers that post-process.
#[derive(Debug, Default)]
pub struct RecordingSink {
    events: Mutex<Vec<Event>>,
    summary: Mutex<Option<Summary>>,
}

impl RecordingSink {
    /// Everything emitted so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
    /// The summary, once finished.
    pub fn summary(&self) -> Option<Summary> {
        self.summary.lock().ok().and_then(|s| s.clone())
    }
}

impl EventSink for RecordingSink {
    fn emit(&self, event: &Event) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
    }
    fn finish(&self, summary: &Summary) {
        if let Ok(mut s) = self.summary.lock() {
            *s = Some(summary.clone());
        }
    }
}

/// How the run ended, for the CLI's exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every step succeeded (or there was nothing to do).
    #[default]
    Success,
    /// At least one step failed; independent steps still ran.
    Failed,
    /// Interrupted (Ctrl-C) before everything ran.
    Cancelled,
}

impl Outcome {
    /// The process exit code: 0 success, 1 failure, 130 interrupted (128 + SIGINT, what a
    /// shell reports for Ctrl-C).
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Cancelled => 130,
        }
    }
}

/// Counts per address: a replacement counts once, as replaced, when both halves succeeded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Resources created.
    pub created: usize,
    /// Resources updated in place.
    pub updated: usize,
    /// Resources replaced.
    pub replaced: usize,
    /// Resources deleted.
    pub deleted: usize,
    /// Resources with a failed step.
    pub failed: usize,
    /// Resources skipped because something they wait on failed.
    pub skipped: usize,
    /// Resources not finished because the apply was interrupted.
    pub cancelled: usize,
    /// Wall time of the run.
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
    /// The verdict.
    pub outcome: Outcome,
}

impl Summary {
    /// Tallies `events` per address. The worst thing that happened to an address wins
    /// (failed > cancelled > skipped > done), so a replacement whose delete half succeeded and
    /// whose create half failed counts as failed, once.
    pub fn from_events(events: &[Event], elapsed: Duration, interrupted: bool) -> Self {
        #[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
        enum Fate {
            Done,
            Skipped,
            Cancelled,
            Failed,
        }
        let mut per_address: BTreeMap<&str, (Fate, Option<Op>, bool)> = BTreeMap::new();
        for e in events {
            let fate = match &e.kind {
                EventKind::Succeeded { .. } => Fate::Done,
                EventKind::Skipped { .. } => Fate::Skipped,
                EventKind::Cancelled { .. } => Fate::Cancelled,
                EventKind::Failed { .. } => Fate::Failed,
                EventKind::Started | EventKind::LroProgress { .. } => continue,
            };
            let entry = per_address
                .entry(&e.step.address)
                .or_insert((fate, None, false));
            entry.0 = entry.0.max(fate);
            entry.2 |= e.step.replace;
            if let EventKind::Succeeded { action } = e.kind {
                entry.1 = Some(action);
            }
        }
        let mut s = Summary {
            elapsed,
            ..Summary::default()
        };
        for (fate, op, replace) in per_address.values() {
            match (fate, op, replace) {
                (Fate::Failed, ..) => s.failed += 1,
                (Fate::Cancelled, ..) => s.cancelled += 1,
                (Fate::Skipped, ..) => s.skipped += 1,
                (Fate::Done, _, true) => s.replaced += 1,
                (Fate::Done, Some(Op::Create), false) => s.created += 1,
                (Fate::Done, Some(Op::Update), false) => s.updated += 1,
                (Fate::Done, Some(Op::Delete), false) => s.deleted += 1,
                (Fate::Done, None, false) => {}
            }
        }
        s.outcome = if interrupted || s.cancelled > 0 {
            Outcome::Cancelled
        } else if s.failed > 0 || s.skipped > 0 {
            Outcome::Failed
        } else {
            Outcome::Success
        };
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(address: &str, op: Op, replace: bool, kind: EventKind) -> Event {
        Event {
            elapsed: Duration::ZERO,
            step: StepId {
                address: address.into(),
                op,
                replace,
            },
            kind,
        }
    }

    #[test]
    fn summary_counts_addresses_not_steps() {
        let ok = |op| EventKind::Succeeded { action: op };
        let events = vec![
            ev("nic.web", Op::Delete, true, ok(Op::Delete)),
            ev("nic.web", Op::Create, true, ok(Op::Create)),
            ev("vm.web", Op::Delete, true, ok(Op::Delete)),
            ev(
                "vm.web",
                Op::Create,
                true,
                EventKind::Failed {
                    error: StepFailure::message("boom"),
                    hint: None,
                },
            ),
            ev("nsg.web", Op::Create, false, ok(Op::Create)),
            ev("network.app", Op::Update, false, ok(Op::Update)),
            ev("public_ip.old", Op::Delete, false, ok(Op::Delete)),
            ev(
                "vm.other",
                Op::Create,
                false,
                EventKind::Skipped {
                    because: StepId {
                        address: "vm.web".into(),
                        op: Op::Create,
                        replace: true,
                    },
                },
            ),
        ];
        let s = Summary::from_events(&events, Duration::from_secs(3), false);
        assert_eq!(
            (
                s.created, s.updated, s.replaced, s.deleted, s.failed, s.skipped
            ),
            (1, 1, 1, 1, 1, 1)
        );
        assert_eq!(s.outcome, Outcome::Failed);
        assert_eq!(
            Summary::from_events(&[], Duration::ZERO, true).outcome,
            Outcome::Cancelled
        );
    }

    #[test]
    fn events_serialise_flat_with_a_tag() {
        let e = ev(
            "nsg.web",
            Op::Create,
            false,
            EventKind::LroProgress {
                status: "Creating".into(),
            },
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "elapsed_ms": 0,
                "step": {"address": "nsg.web", "op": "create", "replace": false},
                "event": "lro_progress",
                "status": "Creating"
            })
        );
    }
}
