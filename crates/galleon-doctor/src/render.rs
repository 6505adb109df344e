//! The checklist people read: one line per check with its mark, the finding indented below, and
//! for a failure the fix as a `hint:` line (uv's STYLE.md convention). No colour here; the CLI
//! decides about terminals and `NO_COLOR`.

use std::fmt::Write;

use crate::report::{Report, Status};

const STEPS: [&str; 6] = [
    "1. sign-in in each tenant",
    "2. access to the image",
    "3. the image version",
    "4. the VM against the image",
    "5. rights in the target resource group",
    "6. dry run of the VM PUT",
];

/// Renders the report as a checklist.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "galleon doctor");
    let _ = writeln!(out, "  image: {}", report.image);
    let _ = writeln!(out, "  vm:    {}", report.vm);
    for (i, step) in STEPS.iter().enumerate() {
        let step_no = u8::try_from(i + 1).unwrap_or(u8::MAX);
        let checks: Vec<_> = report.checks.iter().filter(|c| c.step == step_no).collect();
        if checks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{step}");
        for c in checks {
            let _ = writeln!(out, "  [{:>4}] {}  ({})", c.status.mark(), c.title, c.id);
            let _ = writeln!(out, "         {}", c.detail);
            if let Some(a) = c
                .azure
                .as_ref()
                .filter(|_| c.status == Status::Fail && c.id != "dry_run")
            {
                let status = a.status.map(|s| format!("{s} ")).unwrap_or_default();
                let _ = writeln!(out, "         azure: {status}{}", a.code);
            }
            if let Some(fix) = c.fix.as_ref().filter(|_| c.status == Status::Fail) {
                let _ = writeln!(out, "         hint: {fix}");
            }
        }
    }
    let failed = report.failures();
    let _ = writeln!(out);
    if failed.is_empty() {
        let _ = writeln!(out, "all checks passed");
    } else {
        let _ = writeln!(
            out,
            "{} check(s) failed: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    out
}
