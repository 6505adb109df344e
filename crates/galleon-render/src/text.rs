//! The human plan, in Terraform's idiom: `+` create, `~` update in place, `-/+` replace with
//! `# forces replacement` on the responsible attributes, `-` destroy; grouped by tenant and
//! subscription because a cross-tenant plan is read one tenant at a time.

use std::fmt::Write;

use galleon_plan::{Action, CheckStatus, Plan, ResourceChange};
use owo_colors::{OwoColorize, Style};
use similar::ChangeTag;

use crate::attrs::{AttrLine, Mark, Shown, attr_lines};
use crate::{TextOptions, groups, summary_line};

/// Renders the plan for a terminal.
pub fn render_text(plan: &Plan, options: TextOptions) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    if plan.has_changes() {
        out.push_str(&legend(plan, p));
    }
    for group in groups(plan) {
        let shown: Vec<_> = group
            .changes
            .iter()
            .filter(|c| options.show_unchanged || c.action.is_change())
            .collect();
        if shown.is_empty() {
            continue;
        }
        let heading = format!(
            "Tenant {} ({}), subscription {}",
            group.tenant, group.tenant_id, group.subscription
        );
        let _ = writeln!(out, "{}\n", p.paint(&heading, Style::new().bold()));
        for change in shown {
            resource(&mut out, change, p);
        }
    }
    preflight(&mut out, plan, p);
    let _ = writeln!(out, "{}", p.paint(&summary_line(plan), Style::new().bold()));
    if plan.has_failed_checks() {
        let _ = writeln!(
            out,
            "{}: apply refuses this plan until the failed preflight checks pass.",
            p.paint("hint", Style::new().cyan().bold())
        );
    }
    out
}

#[derive(Clone, Copy)]
struct Painter(bool);

impl Painter {
    fn paint(self, s: &str, style: Style) -> String {
        if self.0 {
            s.style(style).to_string()
        } else {
            s.to_owned()
        }
    }

    fn action(self, action: Action) -> Style {
        match action {
            Action::Create => Style::new().green(),
            Action::Update => Style::new().yellow(),
            Action::Replace => Style::new().magenta(),
            Action::Delete => Style::new().red(),
            Action::NoOp => Style::new().dimmed(),
        }
    }

    fn mark(self, mark: Mark) -> Style {
        match mark {
            Mark::Add => Style::new().green(),
            Mark::Remove => Style::new().red(),
            Mark::Change => Style::new().yellow(),
        }
    }
}

fn legend(plan: &Plan, p: Painter) -> String {
    let mut out = String::from(
        "galleon will perform the following actions. Resource actions are indicated with the following symbols:\n",
    );
    for action in [
        Action::Create,
        Action::Update,
        Action::Replace,
        Action::Delete,
    ] {
        if plan.changes.iter().any(|c| c.action == action) {
            let label = match action {
                Action::Create => "create",
                Action::Update => "update in-place",
                Action::Replace => "destroy and then create replacement",
                _ => "destroy",
            };
            let symbol = p.paint(action.symbol(), p.action(action));
            let _ = writeln!(out, "  {} {label}", pad(&symbol, action));
        }
    }
    out.push('\n');
    out
}

/// Right-aligns a possibly coloured symbol to three columns.
fn pad(painted: &str, action: Action) -> String {
    format!("{}{painted}", " ".repeat(3 - action.symbol().len()))
}

fn resource(out: &mut String, change: &ResourceChange, p: Painter) {
    let comment = format!("# {} {}", change.address, change.action.verb());
    let _ = writeln!(out, "  {}", p.paint(&comment, Style::new().bold()));
    if change.action.is_replace() && !change.replace_reasons.is_empty() {
        let why = format!(
            "# (replacement forced by {})",
            change.replace_reasons.join(", ")
        );
        let _ = writeln!(out, "  {}", p.paint(&why, Style::new().dimmed()));
    }
    if change.action == Action::Delete && change.owned_by_us {
        let why = "# (owned by this workspace and no longer declared)";
        let _ = writeln!(out, "  {}", p.paint(why, Style::new().dimmed()));
    }
    let symbol = p.paint(change.action.symbol(), p.action(change.action));
    let _ = writeln!(
        out,
        "{} {} {} {{",
        pad(&symbol, change.action),
        change.address,
        p.paint(&format!("({})", change.arm_id), Style::new().dimmed()),
    );
    if change
        .request
        .as_ref()
        .is_some_and(|r| !r.aux_tenant_ids.is_empty())
    {
        let ids = change.request.as_ref().map(|r| r.aux_tenant_ids.join(", "));
        let note = format!(
            "# writes with auxiliary tokens of tenant {}",
            ids.unwrap_or_default()
        );
        let _ = writeln!(out, "        {}", p.paint(&note, Style::new().dimmed()));
    }
    for line in attr_lines(change) {
        attribute(out, &line, p);
    }
    out.push_str("    }\n\n");
}

fn attribute(out: &mut String, line: &AttrLine<'_>, p: Painter) {
    let mark = p.paint(line.mark.symbol(), p.mark(line.mark));
    let forces = if line.forces_replacement {
        format!(" {}", p.paint("# forces replacement", Style::new().red()))
    } else {
        String::new()
    };
    match &line.shown {
        Shown::One(v) => {
            let _ = writeln!(out, "      {mark} {} = {v}{forces}", line.path);
        }
        Shown::Both(before, after) => {
            let _ = writeln!(
                out,
                "      {mark} {} = {before} -> {after}{forces}",
                line.path
            );
        }
        Shown::Lines(lines) => {
            let _ = writeln!(out, "      {mark} {} = <<-EOT{forces}", line.path);
            for (tag, text) in lines {
                let (sym, style) = match tag {
                    ChangeTag::Equal => (" ", Style::new()),
                    ChangeTag::Delete => ("-", Style::new().red()),
                    ChangeTag::Insert => ("+", Style::new().green()),
                };
                let _ = writeln!(out, "          {} {text}", p.paint(sym, style));
            }
            out.push_str("        EOT\n");
        }
    }
}

fn preflight(out: &mut String, plan: &Plan, p: Painter) {
    if plan.preflight.is_empty() {
        return;
    }
    let count = |s| plan.preflight.iter().filter(|c| c.status == s).count();
    let _ = writeln!(
        out,
        "{} {} passed, {} failed, {} warned, {} skipped",
        p.paint("Preflight checks:", Style::new().bold()),
        count(CheckStatus::Pass),
        count(CheckStatus::Fail),
        count(CheckStatus::Warn),
        count(CheckStatus::Skipped),
    );
    // Failures first: they are what stops apply.
    for status in [CheckStatus::Fail, CheckStatus::Warn, CheckStatus::Skipped] {
        for check in plan.preflight.iter().filter(|c| c.status == status) {
            let (label, style) = match status {
                CheckStatus::Fail => ("FAIL", Style::new().red().bold()),
                CheckStatus::Warn => ("WARN", Style::new().yellow().bold()),
                _ => ("SKIP", Style::new().dimmed()),
            };
            let about = check
                .address
                .as_deref()
                .map(|a| format!(" {a}:"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} [{}]{about} {}",
                p.paint(label, style),
                check.id,
                check.title
            );
            if !check.message.is_empty() {
                let _ = writeln!(out, "       {}", check.message);
            }
            if let Some(fix) = &check.fix {
                let _ = writeln!(
                    out,
                    "       {}: {fix}",
                    p.paint("fix", Style::new().cyan().bold())
                );
            }
        }
    }
    out.push('\n');
}
