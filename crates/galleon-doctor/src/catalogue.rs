//! Every message Azure answers when a cross-tenant image VM goes wrong (arm-errors.md §§1-7, 10),
//! with its cause, its fix, the manifest address it concerns, and where galleon catches it first.
//!
//! [`explain`] is the apply-time mapping: given Azure's code and message it finds the row, so a
//! failure galleon could not foresee is still explained. [`render_markdown`] writes the table of
//! `docs/troubleshooting.md`; a test keeps the two identical. The `sample` of each row is a real
//! (or, where arm-errors.md marks it [R], reconstructed) Azure text, and a generated test per row
//! proves [`explain`] recognises it.

use std::fmt::Write;

/// Where galleon catches a failure before Azure does, or explains it after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catch {
    /// `galleon validate`, offline, with this diagnostic code.
    Validate(&'static str),
    /// `galleon plan`'s preflight, live, with this check id (galleon-plan `preflight`).
    Plan(&'static str),
    /// `galleon doctor`, live, with this check id.
    Doctor(&'static str),
    /// `galleon doctor` refuses the input before asking Azure anything.
    DoctorInput,
    /// Only Azure can tell, at apply time: galleon-azure's hint (`AzureError::hint`) names the
    /// fix under the error, and [`explain`] the cause and manifest address.
    ApplyHint,
    /// galleon never sends such a request (template deployments, scale sets, Marketplace
    /// images, a user's `az login`), but another tool's failure is explained by [`explain`].
    Explain,
}

impl std::fmt::Display for Catch {
    /// Plain words, for terminals: `plan (image-tenant-sign-in)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.markdown().replace('`', ""))
    }
}

impl Catch {
    fn markdown(self) -> String {
        match self {
            Catch::Validate(code) => format!("validate (`{code}`)"),
            Catch::Plan(id) => format!("plan (`{id}`)"),
            Catch::Doctor(id) => format!("doctor (`{id}`)"),
            Catch::DoctorInput => "doctor (input)".into(),
            Catch::ApplyHint => "apply hint".into(),
            Catch::Explain => "explained (other tools)".into(),
        }
    }
}

/// One Azure message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Row id; the generated test is `catalogue::tests::explains_<id>`.
    pub id: &'static str,
    /// Where arm-errors.md documents it.
    pub section: &'static str,
    /// HTTP status, when known.
    pub status: Option<u16>,
    /// The codes Azure uses for it; empty when the code is not known.
    pub codes: &'static [&'static str],
    /// Substrings that identify the message among others with the same code.
    pub needles: &'static [&'static str],
    /// Azure's text, with example values.
    pub sample: &'static str,
    /// Why it happens.
    pub cause: &'static str,
    /// What the user does.
    pub fix: &'static str,
    /// The manifest address (or field) it concerns.
    pub address: &'static str,
    /// Where galleon catches or explains it.
    pub caught: &'static [Catch],
    /// Tests beyond the generated one that prove it is caught: `doctor::name` in
    /// `galleon-doctor/tests/doctor/`, `cli::name` in `galleon-cli/tests/doctor/` (the binary
    /// against the emulator), `plan::name` in galleon-plan's preflight tests,
    /// `catalogue::tests::name` here.
    pub tests: &'static [&'static str],
}

impl Entry {
    fn matches(&self, code: &str, message: &str) -> bool {
        let code_ok =
            self.codes.is_empty() || self.codes.iter().any(|c| c.eq_ignore_ascii_case(code));
        let lower = message.to_ascii_lowercase();
        code_ok
            && self
                .needles
                .iter()
                .all(|n| lower.contains(&n.to_ascii_lowercase()))
    }
}

mod entries;
mod pasted;

pub use pasted::Pasted;

/// Every row.
pub fn entries() -> &'static [Entry] {
    &entries::ENTRIES
}

/// The row's number in `docs/troubleshooting.md` (1-based), so output can point at it.
pub fn row_number(id: &str) -> Option<usize> {
    entries().iter().position(|e| e.id == id).map(|i| i + 1)
}

/// Codes whose message only says "see the details" (arm-errors.md §§6-7): the cause is inside.
pub fn is_wrapper(code: &str) -> bool {
    const WRAPPERS: &[&str] = &[
        "DeploymentFailed",
        "InvalidTemplateDeployment",
        "MultipleErrorsOccurred",
    ];
    WRAPPERS.iter().any(|w| w.eq_ignore_ascii_case(code))
}

/// The row for Azure's `code` and `message`, the most specific first.
pub fn explain(code: &str, message: &str) -> Option<&'static Entry> {
    let by_code = entries()
        .iter()
        .find(|e| !e.codes.is_empty() && e.matches(code, message));
    by_code.or_else(|| {
        entries()
            .iter()
            .find(|e| e.codes.is_empty() && e.matches(code, message))
    })
}

/// Like [`explain`], looking through `DeploymentFailed`/`InvalidTemplateDeployment`/
/// `MultipleErrorsOccurred` wrappers to the first detail that has a row (arm-errors.md §7: `az vm
/// create` reports the cross-tenant failure inside the deployment's details).
pub fn explain_nested<'a>(
    code: &str,
    message: &str,
    details: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<&'static Entry> {
    if is_wrapper(code)
        && let Some(inner) = details.into_iter().find_map(|(c, m)| explain(c, m))
    {
        return Some(inner);
    }
    explain(code, message)
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The table of `docs/troubleshooting.md`: one row per message.
pub fn render_markdown() -> String {
    let mut out = String::from(
        "| # | Azure's text | status, code | cause | where galleon catches it | what the user does | manifest address | tests |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (i, e) in entries().iter().enumerate() {
        let code = if e.codes.is_empty() {
            "code unconfirmed".to_string()
        } else {
            e.codes.join(" / ")
        };
        let status = e.status.map(|s| format!("{s} ")).unwrap_or_default();
        let caught: Vec<String> = e.caught.iter().map(|c| c.markdown()).collect();
        let mut tests = vec![format!("`catalogue::tests::explains_{}`", e.id)];
        tests.extend(e.tests.iter().map(|t| format!("`{t}`")));
        let _ = writeln!(
            out,
            "| {} | `{}` | {status}{code} ({}) | {} | {} | {} | {} | {} |",
            i + 1,
            cell(e.sample),
            e.section,
            cell(e.cause),
            caught.join(", "),
            cell(e.fix),
            cell(e.address),
            tests.join("<br>"),
        );
    }
    out
}

#[cfg(test)]
mod tests;
