//! The result of a doctor run as data: one [`Check`] per question, in the order, so the
//! CLI only renders it (text for people, JSON for machines) and picks the exit code.

use serde::Serialize;

/// Version of the JSON document; bumped when a field changes meaning or disappears.
pub const REPORT_FORMAT: u32 = 1;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The check passed.
    Pass,
    /// The check failed; the check's `fix` says what to do.
    Fail,
    /// The check could not run (an earlier failure hides what it needs, or it does not apply).
    Skip,
}

impl Status {
    /// The mark the text checklist shows.
    pub fn mark(self) -> &'static str {
        match self {
            Status::Pass => "ok",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

/// What Azure answered (or, for the VM PUT galleon does not send, would answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AzureAnswer {
    /// HTTP status, when the answer came over HTTP.
    pub status: Option<u16>,
    /// `error.code`, or `AADSTS<n>` for Entra.
    pub code: String,
    /// The message as Azure writes it.
    pub message: String,
}

/// One question the doctor answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id, e.g. `image.region`; used in JSON and tests.
    pub id: &'static str,
    /// The step (1-6) this check belongs to.
    pub step: u8,
    /// What is checked, for people.
    pub title: String,
    /// Outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do when it failed.
    pub fix: Option<String>,
    /// What Azure answered to galleon's own probe, when that is the evidence.
    pub azure: Option<AzureAnswer>,
    /// What the VM PUT would get because of this failure (used by the dry run).
    pub predicted: Option<AzureAnswer>,
}

impl Check {
    /// A passing check.
    pub fn pass(
        id: &'static str,
        step: u8,
        title: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            id,
            step,
            title: title.into(),
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
            azure: None,
            predicted: None,
        }
    }

    /// A failing check with its fix.
    pub fn fail(
        id: &'static str,
        step: u8,
        title: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Fail,
            fix: Some(fix.into()),
            ..Self::pass(id, step, title, detail)
        }
    }

    /// A skipped check and why.
    pub fn skip(
        id: &'static str,
        step: u8,
        title: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Skip,
            ..Self::pass(id, step, title, why)
        }
    }

    /// Attaches Azure's answer to galleon's probe.
    pub fn with_azure(mut self, answer: Option<AzureAnswer>) -> Self {
        self.azure = answer;
        self
    }

    /// Attaches the VM PUT's predicted answer.
    pub fn predicting(mut self, status: u16, code: &str, message: impl Into<String>) -> Self {
        self.predicted = Some(AzureAnswer {
            status: Some(status),
            code: code.to_string(),
            message: message.into(),
        });
        self
    }
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// [`REPORT_FORMAT`].
    pub format: u32,
    /// The image checked.
    pub image: String,
    /// The VM id the setup describes.
    pub vm: String,
    /// Every check, in order.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// The check with `id`.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Ids of the failed checks, in order.
    pub fn failures(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.id)
            .collect()
    }

    /// Process exit code: 0 when every check passed or was skipped, 1 when one failed.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.failed())
    }

    /// The JSON document (`--json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("the report serializes")
    }
}
