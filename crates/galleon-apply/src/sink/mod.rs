//! The three ways to show an apply: a live terminal view, plain lines, and JSON lines.
//!
//! One event stream, several renderings (ripgrep's `grep-printer` has `standard`, `summary` and
//! `json` for the same reason): the executor never formats anything. The wording shared by the
//! human sinks lives here so the live view and the CI log say the same thing.
//!
//! A failure is explained by galleon's catalogue of Azure's messages (`docs/troubleshooting.md`)
//! through an [`Explainer`] the caller supplies: the catalogue lives in galleon-doctor, above
//! this crate, and the event stream stays what the executor saw.

mod json;
mod live;
mod plain;

pub use json::JsonSink;
pub use live::LiveSink;
pub use plain::PlainSink;

use std::time::Duration;

use crate::event::{EventKind, EventSink, Outcome, Summary};
use crate::step::{Op, StepFailure, StepId};

/// What galleon's catalogue of Azure's messages says about a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// Why Azure answered this way (`cause:` under the error; JSON `cause`).
    pub cause: String,
    /// The catalogue row's id (`linked_tenant`), the key of its troubleshooting row (JSON
    /// `explained_by`).
    pub explained_by: String,
    /// The row's fix. The hint only when galleon-azure had none: its hint names the concrete
    /// tenant, role or region, the row's fix only the general remedy.
    pub fix: String,
}

/// Looks a failure up in the catalogue; `None` when no row matches.
pub type Explainer = fn(&StepFailure) -> Option<Explanation>;

/// How the user asked to see the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `--json`: machine events on stdout.
    Json,
    /// Live spinners on stderr when it is a terminal and colour is allowed, else plain lines.
    Human {
        /// `--no-color` (or `NO_COLOR` set): plain lines even on a terminal.
        no_color: bool,
    },
}

/// The sink for `view`: JSON on stdout; the live view on a colour terminal (stderr); plain
/// lines on stdout otherwise (CI logs, pipes), so `galleon apply | tee log` keeps everything.
pub fn for_view(view: View) -> Box<dyn EventSink> {
    build(view, None)
}

/// [`for_view`], each failure explained by `explain` (a `cause:` line, and its fix as the hint
/// when there is none).
pub fn for_view_explained(view: View, explain: Explainer) -> Box<dyn EventSink> {
    build(view, Some(explain))
}

fn build(view: View, explain: Option<Explainer>) -> Box<dyn EventSink> {
    use std::io::IsTerminal;
    match view {
        View::Json => Box::new(JsonSink::new(std::io::stdout()).explained(explain)),
        View::Human { no_color } => {
            let no_color = no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            if !no_color && std::io::stderr().is_terminal() {
                Box::new(LiveSink::stderr().explained(explain))
            } else {
                Box::new(PlainSink::new(std::io::stdout()).explained(explain))
            }
        }
    }
}

/// The explanation of a `Failed` event's error and the hint to show: galleon-azure's, else the
/// row's fix.
pub(crate) fn explain(
    kind: &EventKind,
    explain: Option<Explainer>,
) -> (Option<Explanation>, Option<String>) {
    let EventKind::Failed { error, hint } = kind else {
        return (None, None);
    };
    let x = explain.and_then(|f| f(error));
    let hint = hint.clone().or_else(|| x.as_ref().map(|x| x.fix.clone()));
    (x, hint)
}

/// "creating", "deleting", ...: what a running step is doing.
pub(crate) fn doing(step: &StepId) -> &'static str {
    match (step.op, step.replace) {
        (Op::Create, false) => "creating",
        (Op::Update, _) => "updating",
        (Op::Delete, false) => "deleting",
        (Op::Create, true) => "replacing: creating the new one",
        (Op::Delete, true) => "replacing: deleting the old one",
    }
}

/// One human line for a terminal event (`None` for Started and LRO progress, which the sinks
/// show their own way). `took` is the step's run time when known; a failure is followed by
/// `cause:` (when `explainer` knows it) and `hint:` lines.
pub(crate) fn outcome_line(
    step: &StepId,
    kind: &EventKind,
    took: Option<Duration>,
    explainer: Option<Explainer>,
) -> Option<String> {
    let after = took
        .map(|d| format!(" after {}", seconds(d)))
        .unwrap_or_default();
    let line = match kind {
        EventKind::Started | EventKind::LroProgress { .. } => return None,
        EventKind::Succeeded { action } => format!("{step}: {}{after}", action.past_tense()),
        EventKind::Failed { error, .. } => {
            let mut s = format!("{step}: failed{after}: {error}");
            let (explanation, hint) = explain(kind, explainer);
            if let Some(x) = explanation {
                s.push_str("\n  cause: ");
                s.push_str(&x.cause);
            }
            if let Some(hint) = hint {
                s.push_str("\n  hint: ");
                s.push_str(&hint);
            }
            s
        }
        EventKind::Skipped { because } => {
            format!("{step}: skipped because {} failed", because.address)
        }
        EventKind::Cancelled { in_flight: true } => format!(
            "{step}: interrupted while {}{after}; Azure may still finish it, run `galleon plan` to see",
            doing(step)
        ),
        EventKind::Cancelled { in_flight: false } => format!("{step}: not started (interrupted)"),
    };
    Some(line)
}

/// The closing line, terraform-style, with every non-zero count.
pub(crate) fn summary_line(s: &Summary) -> String {
    let head = match s.outcome {
        Outcome::Success => "Apply complete",
        Outcome::Failed => "Apply failed",
        Outcome::Cancelled => "Apply interrupted",
    };
    let counts = [
        (s.created, "created"),
        (s.updated, "updated"),
        (s.replaced, "replaced"),
        (s.deleted, "deleted"),
        (s.failed, "failed"),
        (s.skipped, "skipped"),
        (s.cancelled, "not finished"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    let parts = if parts.is_empty() {
        "no changes".to_string()
    } else {
        parts.join(", ")
    };
    format!("{head}: {parts} ({}).", seconds(s.elapsed))
}

/// `4.2s`, `1m05s`: short and stable.
pub(crate) fn seconds(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::StepFailure;

    fn id(address: &str, op: Op, replace: bool) -> StepId {
        StepId {
            address: address.into(),
            op,
            replace,
        }
    }

    #[test]
    fn lines_name_the_address_and_the_root_cause() {
        let failed = EventKind::Failed {
            error: StepFailure {
                code: Some("LinkedAuthorizationFailed".into()),
                message: "no access to the linked subscription".into(),
                ..StepFailure::default()
            },
            hint: Some("grant Reader on the gallery".into()),
        };
        let vm = id("vm.web", Op::Create, false);
        assert_eq!(
            outcome_line(&vm, &failed, Some(Duration::from_millis(2500)), None).unwrap(),
            "vm.web: failed after 2.5s: LinkedAuthorizationFailed: no access to the linked \
             subscription\n  hint: grant Reader on the gallery"
        );
        let skipped = EventKind::Skipped {
            because: vm.clone(),
        };
        assert_eq!(
            outcome_line(&id("vm.x", Op::Create, false), &skipped, None, None).unwrap(),
            "vm.x: skipped because vm.web failed"
        );
        assert_eq!(outcome_line(&vm, &EventKind::Started, None, None), None);
    }

    fn known(f: &StepFailure) -> Option<Explanation> {
        (f.code.as_deref() == Some("Known")).then(|| Explanation {
            cause: "no auxiliary token".into(),
            explained_by: "linked_tenant".into(),
            fix: "the row's fix".into(),
        })
    }

    #[test]
    fn explained_failures_get_a_cause_and_the_azure_hint_before_the_row_fix() {
        let failed = |code: &str, hint: Option<&str>| EventKind::Failed {
            error: StepFailure {
                code: Some(code.into()),
                message: "m".into(),
                ..StepFailure::default()
            },
            hint: hint.map(Into::into),
        };
        let vm = id("vm.web", Op::Create, false);
        let line = |kind| outcome_line(&vm, &kind, None, Some(known)).unwrap();
        assert_eq!(
            line(failed("Known", Some("concrete"))),
            "vm.web: failed: Known: m\n  cause: no auxiliary token\n  hint: concrete"
        );
        assert_eq!(
            line(failed("Known", None)),
            "vm.web: failed: Known: m\n  cause: no auxiliary token\n  hint: the row's fix"
        );
        assert_eq!(line(failed("Other", None)), "vm.web: failed: Other: m");
    }

    #[test]
    fn summary_line_lists_non_zero_counts() {
        let s = Summary {
            created: 2,
            failed: 1,
            skipped: 3,
            elapsed: Duration::from_secs(65),
            outcome: Outcome::Failed,
            ..Summary::default()
        };
        assert_eq!(
            summary_line(&s),
            "Apply failed: 2 created, 1 failed, 3 skipped (1m05s)."
        );
        assert_eq!(
            summary_line(&Summary::default()),
            "Apply complete: no changes (0.0s)."
        );
    }
}
