//! The plan as a pull-request comment: what a reviewer needs first (counts per tenant and
//! subscription, then what blocks apply), with each resource folded in a `<details>` block
//! holding a `diff` that GitHub and GitLab colour.

use std::fmt::Write;

use galleon_plan::{Action, CheckStatus, Plan, ResourceChange};
use similar::ChangeTag;

use crate::attrs::{Mark, Shown, attr_lines};
use crate::{groups, summary_line};

/// Renders the plan as GitHub-flavoured markdown.
pub fn render_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### galleon plan for workspace `{}`\n",
        code(&plan.workspace)
    );
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    table(&mut out, plan);
    checks(&mut out, plan);
    let changed: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action.is_change())
        .collect();
    if !changed.is_empty() {
        out.push_str("#### Changes\n\n");
        for change in changed {
            details(&mut out, change);
        }
    }
    let _ = writeln!(
        out,
        "<sub>galleon {} · plan made {}</sub>",
        html(&plan.galleon_version),
        plan.created_at.date()
    );
    out
}

fn table(out: &mut String, plan: &Plan) {
    out.push_str("| tenant | subscription | add | change | replace | destroy | unchanged |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    for group in groups(plan) {
        let count = |a: Action| group.changes.iter().filter(|c| c.action == a).count();
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            cell(group.tenant),
            code(group.subscription),
            count(Action::Create),
            count(Action::Update),
            count(Action::Replace),
            count(Action::Delete),
            count(Action::NoOp),
        );
    }
    out.push('\n');
}

fn checks(out: &mut String, plan: &Plan) {
    for (status, heading) in [
        (
            CheckStatus::Fail,
            ":x: Failed preflight checks (apply refuses this plan)",
        ),
        (CheckStatus::Warn, ":warning: Preflight warnings"),
    ] {
        let found: Vec<_> = plan
            .preflight
            .iter()
            .filter(|c| c.status == status)
            .collect();
        if found.is_empty() {
            continue;
        }
        let _ = writeln!(out, "#### {heading}\n");
        for check in found {
            let about = match &check.address {
                Some(a) => format!("`{}`, ", code(a)),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "- **{}** ({about}`{}`)",
                cell(&check.title),
                code(&check.id)
            );
            if !check.message.is_empty() {
                let _ = writeln!(out, "  {}", cell(&check.message));
            }
            if let Some(fix) = &check.fix {
                let _ = writeln!(out, "  **Fix:** {}", cell(fix));
            }
        }
        out.push('\n');
    }
    let passed = plan
        .preflight
        .iter()
        .filter(|c| c.status == CheckStatus::Pass)
        .count();
    let skipped = plan
        .preflight
        .iter()
        .filter(|c| c.status == CheckStatus::Skipped)
        .count();
    if passed + skipped > 0 {
        let _ = writeln!(out, "Preflight: {passed} passed, {skipped} skipped.\n");
    }
}

fn details(out: &mut String, change: &ResourceChange) {
    let _ = writeln!(
        out,
        "<details><summary><code>{} {}</code> {}</summary>\n",
        html(change.action.symbol()),
        html(&change.address),
        change.action.verb()
    );
    let _ = writeln!(out, "`{}`\n", code(&change.arm_id));
    if change.action.is_replace() && !change.replace_reasons.is_empty() {
        let reasons: Vec<_> = change
            .replace_reasons
            .iter()
            .map(|r| format!("`{}`", code(r)))
            .collect();
        let _ = writeln!(out, "Replacement forced by {}.\n", reasons.join(", "));
    }
    let mut body = String::new();
    for line in attr_lines(change) {
        let forces = if line.forces_replacement {
            "  # forces replacement"
        } else {
            ""
        };
        match &line.shown {
            Shown::One(v) => {
                let sign = if line.mark == Mark::Remove { '-' } else { '+' };
                let _ = writeln!(body, "{sign} {} = {v}{forces}", line.path);
            }
            Shown::Both(before, after) => {
                let _ = writeln!(body, "- {} = {before}", line.path);
                let _ = writeln!(body, "+ {} = {after}{forces}", line.path);
            }
            Shown::Lines(lines) => {
                let _ = writeln!(body, "~ {}:{forces}", line.path);
                for (tag, text) in lines {
                    let sign = match tag {
                        ChangeTag::Equal => ' ',
                        ChangeTag::Delete => '-',
                        ChangeTag::Insert => '+',
                    };
                    let _ = writeln!(body, "{sign}     {text}");
                }
            }
        }
    }
    let fence = fence_for(&body);
    let _ = writeln!(out, "{fence}diff\n{body}{fence}\n\n</details>\n");
}

/// A fence longer than any run of backticks in the body, so a value cannot close it.
fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Text for inline code spans: a backtick would end the span.
fn code(s: &str) -> String {
    s.replace('`', "'")
}

/// Text for a table cell or a list item: no pipes, no raw HTML, one line.
fn cell(s: &str) -> String {
    html(s).replace('|', "\\|").replace('\n', " ")
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_values() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }

    #[test]
    fn cells_cannot_break_tables_or_inject_html() {
        assert_eq!(cell("a|b\n<script>"), "a\\|b &lt;script&gt;");
    }
}
