//! `--json`: newline-delimited machine events, one JSON object per line, flushed per line so a
//! consumer sees each event as it happens. The format is documented in `docs/apply-events.md`
//! and pinned by the tests below; changing a field name is a breaking change.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

use super::Explainer;
use crate::event::{Event, EventSink, Summary};

/// Writes one JSON object per line to `W` (stdout, typically).
pub struct JsonSink<W> {
    out: Mutex<W>,
    explain: Option<Explainer>,
}

impl<W: Write + Send> JsonSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
            explain: None,
        }
    }

    /// The same sink, adding `cause` and `explained_by` to the failures `explain` knows.
    #[must_use]
    pub fn explained(self, explain: Option<Explainer>) -> Self {
        Self { explain, ..self }
    }

    /// Gives the writer back.
    pub fn into_inner(self) -> W {
        match self.out.into_inner() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn line(&self, value: &impl Serialize) {
        let Ok(mut out) = self.out.lock() else { return };
        if let Ok(mut bytes) = serde_json::to_vec(value) {
            bytes.push(b'\n');
            // A closed pipe must not abort the apply: Azure writes are already under way.
            let _ = out.write_all(&bytes);
            let _ = out.flush();
        }
    }
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    event: &'static str,
    #[serde(flatten)]
    summary: &'a Summary,
}

impl<W: Write + Send> EventSink for JsonSink<W> {
    fn emit(&self, event: &Event) {
        let (Some(x), hint) = super::explain(&event.kind, self.explain) else {
            return self.line(event);
        };
        // Additive fields beside `hint`, so a consumer of the older format reads it unchanged.
        let Ok(serde_json::Value::Object(mut line)) = serde_json::to_value(event) else {
            return self.line(event);
        };
        line.insert("hint".into(), hint.into());
        line.insert("cause".into(), x.cause.into());
        line.insert("explained_by".into(), x.explained_by.into());
        self.line(&line);
    }

    fn finish(&self, summary: &Summary) {
        self.line(&SummaryLine {
            event: "summary",
            summary,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::event::{EventKind, Outcome};
    use crate::sink::Explanation;
    use crate::step::{Op, StepFailure, StepId};

    fn replication(f: &StepFailure) -> Option<Explanation> {
        (f.code.as_deref() == Some("GalleryImageNotFound")).then(|| Explanation {
            cause: "the version is not replicated to the VM's region".into(),
            explained_by: "gallery_image_not_found".into(),
            fix: "the row's fix, not shown: galleon-azure's hint is".into(),
        })
    }

    #[test]
    fn every_line_is_one_documented_json_object() {
        let sink = JsonSink::new(Vec::new()).explained(Some(replication));
        let vm = StepId {
            address: "vm.web".into(),
            op: Op::Create,
            replace: false,
        };
        sink.emit(&Event {
            elapsed: Duration::from_millis(1500),
            step: vm.clone(),
            kind: EventKind::Failed {
                error: StepFailure {
                    code: Some("GalleryImageNotFound".into()),
                    message: "not replicated".into(),
                    target: Some("imageReference".into()),
                    request_id: Some("r-1".into()),
                    hint: None,
                },
                hint: Some("add the region to target_regions".into()),
            },
        });
        sink.emit(&Event {
            elapsed: Duration::from_millis(1500),
            step: StepId {
                address: "vm.other".into(),
                op: Op::Create,
                replace: false,
            },
            kind: EventKind::Skipped { because: vm },
        });
        sink.finish(&Summary {
            failed: 1,
            skipped: 1,
            elapsed: Duration::from_secs(2),
            outcome: Outcome::Failed,
            ..Summary::default()
        });
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let step = |a: &str| json!({"address": a, "op": "create", "replace": false});
        assert_eq!(
            lines,
            [
                json!({"elapsed_ms": 1500, "step": step("vm.web"), "event": "failed",
                       "error": {"code": "GalleryImageNotFound", "message": "not replicated",
                                 "target": "imageReference", "request_id": "r-1"},
                       "hint": "add the region to target_regions",
                       "cause": "the version is not replicated to the VM's region",
                       "explained_by": "gallery_image_not_found"}),
                json!({"elapsed_ms": 1500, "step": step("vm.other"), "event": "skipped",
                       "because": step("vm.web")}),
                json!({"event": "summary", "created": 0, "updated": 0, "replaced": 0,
                       "deleted": 0, "failed": 1, "skipped": 1, "cancelled": 0,
                       "elapsed_ms": 2000, "outcome": "failed"}),
            ]
        );
    }
}
