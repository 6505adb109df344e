//! The attribute lines of one resource change, shared by the text and markdown printers.
//!
//! This is presentation only: which changes exist, and which force replacement, was decided
//! by the planner. Here each becomes a marked line, and a long multi-line string becomes a
//! line diff (`similar`) instead of two unreadable escaped strings.

use galleon_plan::{Action, AttributeChange, ResourceChange};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

/// What happens to one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Add,
    Remove,
    Change,
}

impl Mark {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Mark::Add => "+",
            Mark::Remove => "-",
            Mark::Change => "~",
        }
    }
}

/// How an attribute's value is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shown {
    /// One value (added or removed).
    One(String),
    /// A scalar change, before and after.
    Both(String, String),
    /// A multi-line string change, line by line.
    Lines(Vec<(ChangeTag, String)>),
}

/// One printed attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrLine<'p> {
    pub mark: Mark,
    pub path: &'p str,
    pub shown: Shown,
    pub forces_replacement: bool,
}

/// The attribute lines of a change, in the planner's order.
pub(crate) fn attr_lines(change: &ResourceChange) -> Vec<AttrLine<'_>> {
    change
        .attribute_changes
        .iter()
        .map(|a| line(change.action, a))
        .collect()
}

fn line(action: Action, a: &AttributeChange) -> AttrLine<'_> {
    let (mark, shown) = match action {
        Action::Create => (Mark::Add, Shown::One(value(a, &a.after))),
        Action::Delete => (Mark::Remove, Shown::One(value(a, &a.before))),
        _ if a.before.is_null() => (Mark::Add, Shown::One(value(a, &a.after))),
        _ if a.after.is_null() => (Mark::Remove, Shown::One(value(a, &a.before))),
        _ => (Mark::Change, both(a)),
    };
    AttrLine {
        mark,
        path: &a.path,
        shown,
        forces_replacement: a.forces_replacement,
    }
}

fn both(a: &AttributeChange) -> Shown {
    if let (Value::String(before), Value::String(after)) = (&a.before, &a.after)
        && !a.sensitive
        && (before.contains('\n') || after.contains('\n'))
    {
        let diff = TextDiff::from_lines(before.as_str(), after.as_str());
        let lines = diff
            .iter_all_changes()
            .map(|c| (c.tag(), c.value().trim_end_matches('\n').to_owned()))
            .collect();
        return Shown::Lines(lines);
    }
    Shown::Both(value(a, &a.before), value(a, &a.after))
}

/// A value as JSON: strings quoted, objects and lists compact.
fn value(a: &AttributeChange, v: &Value) -> String {
    if a.sensitive {
        return "(sensitive value)".to_owned();
    }
    serde_json::to_string(v).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attr(before: Value, after: Value) -> AttributeChange {
        AttributeChange {
            path: "properties.description".into(),
            before,
            after,
            forces_replacement: false,
            sensitive: false,
        }
    }

    #[test]
    fn marks_follow_action_then_presence() {
        let a = attr(Value::Null, json!("x"));
        assert_eq!(line(Action::Update, &a).mark, Mark::Add);
        let r = attr(json!("x"), Value::Null);
        assert_eq!(line(Action::Replace, &r).mark, Mark::Remove);
        assert_eq!(line(Action::Delete, &r).shown, Shown::One("\"x\"".into()));
        let c = attr(json!(1), json!(2));
        assert_eq!(
            line(Action::Update, &c).shown,
            Shown::Both("1".into(), "2".into())
        );
    }

    #[test]
    fn multi_line_strings_become_a_line_diff() {
        let a = attr(json!("one\ntwo\nthree"), json!("one\n2\nthree"));
        let Shown::Lines(lines) = line(Action::Update, &a).shown else {
            panic!("expected a line diff");
        };
        let tags: Vec<_> = lines.iter().map(|(t, s)| (*t, s.as_str())).collect();
        assert_eq!(
            tags,
            [
                (ChangeTag::Equal, "one"),
                (ChangeTag::Delete, "two"),
                (ChangeTag::Insert, "2"),
                (ChangeTag::Equal, "three"),
            ]
        );
    }

    #[test]
    fn sensitive_values_are_never_shown() {
        let mut a = attr(json!("old-secret"), json!("new-secret"));
        a.sensitive = true;
        let shown = line(Action::Update, &a).shown;
        assert_eq!(
            shown,
            Shown::Both("(sensitive value)".into(), "(sensitive value)".into())
        );
    }
}
