//! What a plan will do to one resource, and the symbol every printer shows for it.
//!
//! Modelled on terraform's `internal/plans/action.go`: one closed enum, so that the applier
//! and the renderers can match exhaustively and never invent an action of their own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The single action planned for a resource. Apply executes exactly this; it never re-decides.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The resource does not exist and will be created.
    Create,
    /// The resource exists and will be changed in place.
    Update,
    /// An immutable field changed: the resource is deleted, then created again.
    Replace,
    /// The resource is owned by this workspace but no longer declared: it will be deleted.
    Delete,
    /// The live resource already matches the configuration.
    NoOp,
}

impl Action {
    /// Every action, in the order printers list them.
    pub const ALL: [Action; 5] = [
        Action::Create,
        Action::Update,
        Action::Replace,
        Action::Delete,
        Action::NoOp,
    ];

    /// The symbol terraform users already know: `+`, `~`, `-/+`, `-`, and a blank for no-op.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::NoOp => " ",
        }
    }

    /// True when the resource is destroyed and created again.
    pub fn is_replace(self) -> bool {
        matches!(self, Action::Replace)
    }

    /// True for every action that writes to Azure.
    pub fn is_change(self) -> bool {
        !matches!(self, Action::NoOp)
    }

    /// The verb printers use after the address: "will be created" and so on.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "will be created",
            Action::Update => "will be updated in-place",
            Action::Replace => "must be replaced",
            Action::Delete => "will be destroyed",
            Action::NoOp => "is up to date",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_follow_terraform() {
        let symbols: Vec<_> = Action::ALL.iter().map(|a| a.symbol()).collect();
        assert_eq!(symbols, ["+", "~", "-/+", "-", " "]);
    }

    #[test]
    fn only_replace_is_replace_and_only_noop_is_not_a_change() {
        for action in Action::ALL {
            assert_eq!(action.is_replace(), action == Action::Replace);
            assert_eq!(action.is_change(), action != Action::NoOp);
        }
    }

    #[test]
    fn serialises_snake_case() {
        assert_eq!(serde_json::to_string(&Action::NoOp).unwrap(), "\"no_op\"");
        let back: Action = serde_json::from_str("\"replace\"").unwrap();
        assert_eq!(back, Action::Replace);
    }
}
