//! The interactive view: one spinner per running step with its elapsed time and the LRO state
//! Azure last reported; finished steps scroll above as plain lines (the same wording as the CI
//! output), and the summary closes the run. Drawn on stderr, so stdout stays for data.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Explainer, doing, outcome_line, summary_line};
use crate::event::{Event, EventKind, EventSink, Summary};
use crate::step::StepId;

/// Live terminal view built on `indicatif`.
pub struct LiveSink {
    multi: MultiProgress,
    style: ProgressStyle,
    bars: Mutex<HashMap<StepId, (ProgressBar, Duration)>>,
    explain: Option<Explainer>,
}

impl LiveSink {
    /// A live view on stderr. Use [`super::PlainSink`] when stderr is not a terminal.
    pub fn stderr() -> Self {
        Self::with_target(ProgressDrawTarget::stderr())
    }

    /// A live view on any indicatif target (hidden in tests).
    pub fn with_target(target: ProgressDrawTarget) -> Self {
        let style =
            ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
        Self {
            multi: MultiProgress::with_draw_target(target),
            style,
            bars: Mutex::default(),
            explain: None,
        }
    }

    /// The same view, explaining failures with `explain`.
    #[must_use]
    pub fn explained(self, explain: Option<Explainer>) -> Self {
        Self { explain, ..self }
    }

    /// The running steps and their current message, in no particular order (for tests).
    pub fn running(&self) -> Vec<(String, String)> {
        let Ok(bars) = self.bars.lock() else {
            return Vec::new();
        };
        bars.iter()
            .map(|(id, (bar, _))| (id.to_string(), bar.message()))
            .collect()
    }

    fn print(&self, line: &str) {
        // Hidden targets refuse to print; nothing to do then.
        let _ = self.multi.println(line);
    }
}

impl EventSink for LiveSink {
    fn emit(&self, event: &Event) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        let step = &event.step;
        match &event.kind {
            EventKind::Started => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(self.style.clone());
                bar.set_prefix(step.to_string());
                bar.set_message(doing(step));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(step.clone(), (bar, event.elapsed));
            }
            EventKind::LroProgress { status } => {
                if let Some((bar, _)) = bars.get(step) {
                    bar.set_message(format!("{} ({status})", doing(step)));
                }
            }
            kind => {
                let took = bars.remove(step).map(|(bar, started)| {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                    event.elapsed.saturating_sub(started)
                });
                drop(bars);
                if let Some(line) = outcome_line(step, kind, took, self.explain) {
                    self.print(&line);
                }
            }
        }
    }

    fn finish(&self, summary: &Summary) {
        if let Ok(mut bars) = self.bars.lock() {
            for (_, (bar, _)) in bars.drain() {
                bar.finish_and_clear();
            }
        }
        self.print(&summary_line(summary));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::Op;

    #[test]
    fn spinners_follow_running_steps_and_their_lro_state() {
        let sink = LiveSink::with_target(ProgressDrawTarget::hidden());
        let id = |a: &str| StepId {
            address: a.into(),
            op: Op::Create,
            replace: false,
        };
        let ev = |a: &str, kind| Event {
            elapsed: Duration::ZERO,
            step: id(a),
            kind,
        };
        sink.emit(&ev("vm.web", EventKind::Started));
        sink.emit(&ev("nic.web", EventKind::Started));
        sink.emit(&ev(
            "vm.web",
            EventKind::LroProgress {
                status: "Creating".into(),
            },
        ));
        let mut running = sink.running();
        running.sort();
        assert_eq!(
            running,
            [
                ("nic.web".to_string(), "creating".to_string()),
                ("vm.web".to_string(), "creating (Creating)".to_string())
            ]
        );
        sink.emit(&ev("vm.web", EventKind::Succeeded { action: Op::Create }));
        assert_eq!(
            sink.running(),
            [("nic.web".to_string(), "creating".to_string())]
        );
        sink.finish(&Summary::default());
        assert!(sink.running().is_empty());
    }
}
