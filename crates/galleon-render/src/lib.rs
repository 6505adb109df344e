//! Renders a finished [`Plan`] as text, JSON and markdown.
//!
//! One data model, many printers (ripgrep's grep-printer; terraform's jsonformat renderer):
//! every renderer here reads the attribute changes the planner computed and never diffs
//! anything itself, so the three views cannot disagree about what a plan does.

mod attrs;
mod json;
mod markdown;
mod text;

pub use json::{JSON_FORMAT, JSON_FORMAT_VERSION, JsonPlan, render_json, schema_json};
pub use markdown::render_markdown;
pub use text::render_text;

use galleon_plan::{Plan, ResourceChange, Summary};

/// How the human-facing renderers print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// ANSI colour. The caller decides (`NO_COLOR`, not a TTY, `--no-color`).
    pub color: bool,
    /// Also list resources that are up to date.
    pub show_unchanged: bool,
}

/// The one-line summary terraform users expect.
pub fn summary_line(plan: &Plan) -> String {
    let Summary {
        add,
        change,
        replace,
        destroy,
        ..
    } = plan.summary;
    if plan.has_changes() {
        format!(
            "Plan: {add} to add, {change} to change, {replace} to replace, {destroy} to destroy."
        )
    } else {
        "No changes. Your infrastructure matches the configuration.".to_owned()
    }
}

/// A tenant/subscription pair and its changes, in plan order of first appearance.
pub(crate) struct Group<'p> {
    pub tenant: &'p str,
    pub tenant_id: &'p str,
    pub subscription: &'p str,
    pub changes: Vec<&'p ResourceChange>,
}

pub(crate) fn groups(plan: &Plan) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for change in &plan.changes {
        let found = groups
            .iter_mut()
            .find(|g| g.tenant == change.tenant && g.subscription == change.subscription);
        match found {
            Some(g) => g.changes.push(change),
            None => groups.push(Group {
                tenant: &change.tenant,
                tenant_id: &change.tenant_id,
                subscription: &change.subscription,
                changes: vec![change],
            }),
        }
    }
    groups
}
