//! One line per event, no colour, no cursor movement: for CI logs, pipes and `--no-color`.
//!
//! LRO progress is printed only when the status changes, so a ten-minute VM creation polled
//! every few seconds costs two lines, not two hundred.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use super::{Explainer, doing, outcome_line, summary_line};
use crate::event::{Event, EventKind, EventSink, Summary};
use crate::step::StepId;

/// Writes plain lines to `W` (stdout or stderr, typically).
pub struct PlainSink<W> {
    inner: Mutex<Plain<W>>,
    explain: Option<Explainer>,
}

struct Plain<W> {
    out: W,
    started: HashMap<StepId, Duration>,
    last_status: HashMap<StepId, String>,
}

impl<W: Write + Send> PlainSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            inner: Mutex::new(Plain {
                out,
                started: HashMap::new(),
                last_status: HashMap::new(),
            }),
            explain: None,
        }
    }

    /// The same sink, explaining failures with `explain`.
    #[must_use]
    pub fn explained(self, explain: Option<Explainer>) -> Self {
        Self { explain, ..self }
    }

    /// Gives the writer back (tests read what was written).
    pub fn into_inner(self) -> W {
        match self.inner.into_inner() {
            Ok(p) => p.out,
            Err(poisoned) => poisoned.into_inner().out,
        }
    }
}

impl<W: Write + Send> EventSink for PlainSink<W> {
    fn emit(&self, event: &Event) {
        let Ok(mut p) = self.inner.lock() else { return };
        let step = &event.step;
        let line = match &event.kind {
            EventKind::Started => {
                p.started.insert(step.clone(), event.elapsed);
                format!("{step}: {}...", doing(step))
            }
            EventKind::LroProgress { status } => {
                if p.last_status.get(step) == Some(status) {
                    return;
                }
                p.last_status.insert(step.clone(), status.clone());
                format!("{step}: still {} (Azure says {status})", doing(step))
            }
            kind => {
                let took = p
                    .started
                    .remove(step)
                    .map(|t| event.elapsed.saturating_sub(t));
                p.last_status.remove(step);
                match outcome_line(step, kind, took, self.explain) {
                    Some(line) => line,
                    None => return,
                }
            }
        };
        // A closed pipe must not abort the apply: Azure writes are already under way.
        let _ = writeln!(p.out, "{line}");
    }

    fn finish(&self, summary: &Summary) {
        if let Ok(mut p) = self.inner.lock() {
            let _ = writeln!(p.out, "{}", summary_line(summary));
            let _ = p.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;
    use crate::step::Op;

    #[test]
    fn prints_one_line_per_event_and_deduplicates_lro_status() {
        let sink = PlainSink::new(Vec::new());
        let step = StepId {
            address: "vm.web".into(),
            op: Op::Create,
            replace: false,
        };
        let at = |secs, kind| Event {
            elapsed: Duration::from_secs(secs),
            step: step.clone(),
            kind,
        };
        let lro = |s: &str| EventKind::LroProgress { status: s.into() };
        sink.emit(&at(1, EventKind::Started));
        sink.emit(&at(2, lro("Creating")));
        sink.emit(&at(3, lro("Creating")));
        sink.emit(&at(4, lro("Succeeded")));
        sink.emit(&at(5, EventKind::Succeeded { action: Op::Create }));
        sink.finish(&Summary {
            created: 1,
            elapsed: Duration::from_secs(5),
            outcome: Outcome::Success,
            ..Summary::default()
        });
        let text = String::from_utf8(sink.into_inner()).unwrap();
        assert_eq!(
            text,
            "vm.web: creating...\n\
             vm.web: still creating (Azure says Creating)\n\
             vm.web: still creating (Azure says Succeeded)\n\
             vm.web: created after 4.0s\n\
             Apply complete: 1 created (5.0s).\n"
        );
    }
}
