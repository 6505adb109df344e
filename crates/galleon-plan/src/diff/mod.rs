//! The diff engine: compares the managed fields of a desired ARM body with a live one.
//!
//! Only what galleon sends is compared: a field present live but absent from the desired body
//! is Azure's (read-only, or a default) and never shows as a change. A field galleon manages
//! but wants absent is sent as an explicit `null`. Per-kind [`Rules`] decide the rest. The
//! result is computed once here; renderers only print it (terraform's differ -> renderer).

mod compare;
mod path;
mod rules;

pub use rules::{DefaultValue, EXACT_MAPS, Immutability, READ_ONLY, Rules, rules_for};

use serde_json::Value;

use crate::{Action, AttributeChange, ResourceKind};

/// The outcome of comparing one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// What to do.
    pub action: Action,
    /// The changed leaves, in body order.
    pub attribute_changes: Vec<AttributeChange>,
    /// For a replace: the paths of the changes that force it.
    pub replace_reasons: Vec<String>,
    /// The live managed fields.
    pub before: Option<Value>,
    /// The desired managed fields.
    pub after: Option<Value>,
}

/// Diffs a desired body (`None`: not declared) against a live body (`None`: absent).
///
/// Deletion is decided by the caller, which alone knows ownership: pass `desired: None` only
/// for a live resource this workspace owns.
pub fn diff(kind: ResourceKind, desired: Option<&Value>, live: Option<&Value>) -> Diff {
    diff_with(rules_for(kind), desired.cloned(), live.cloned())
}

/// [`diff`] of bodies the caller no longer needs: they become the diff's `after` and
/// `before` in place, so a plan holds each body once, not a copy beside the original.
pub fn diff_owned(kind: ResourceKind, desired: Option<Value>, live: Option<Value>) -> Diff {
    diff_with(rules_for(kind), desired, live)
}

/// [`diff_owned`] with explicit rules, for kinds and tests outside the table.
pub fn diff_with(rules: &Rules, desired: Option<Value>, live: Option<Value>) -> Diff {
    let cmp = compare::Comparer::new(rules);
    match (desired, live) {
        (None, None) => Diff {
            action: Action::NoOp,
            attribute_changes: Vec::new(),
            replace_reasons: Vec::new(),
            before: None,
            after: None,
        },
        (Some(mut after), None) => {
            cmp.strip_read_only(&mut after);
            Diff {
                action: Action::Create,
                attribute_changes: cmp.leaves(&after, compare::Side::After),
                replace_reasons: Vec::new(),
                before: None,
                after: Some(after),
            }
        }
        (None, Some(mut before)) => {
            cmp.strip_read_only(&mut before);
            Diff {
                action: Action::Delete,
                attribute_changes: cmp.leaves(&before, compare::Side::Before),
                replace_reasons: Vec::new(),
                before: Some(before),
                after: None,
            }
        }
        (Some(mut after), Some(mut before)) => {
            cmp.strip_read_only(&mut after);
            let mut attribute_changes = cmp.changes(&after, &before);
            if let Some(change) = failed_provisioning(&before) {
                attribute_changes.push(change);
            }
            cmp.project(&after, &mut before);
            let mut replace_reasons: Vec<String> = attribute_changes
                .iter()
                .filter(|c| c.forces_replacement)
                .map(|c| c.path.clone())
                .collect();
            replace_reasons.dedup();
            let action = if attribute_changes.is_empty() {
                Action::NoOp
            } else if replace_reasons.is_empty() {
                Action::Update
            } else {
                Action::Replace
            };
            Diff {
                action,
                attribute_changes,
                replace_reasons,
                before: Some(before),
                after: Some(after),
            }
        }
    }
}

/// The live fields a plan can need of a declared resource: those its desired body names
/// (projected as the diff projects them) and those ownership, preflight and deletion read.
/// Narrowing a listed body to these as soon as its page is parsed is what keeps a
/// 10,000-resource plan's memory at the size of what it compares.
pub fn narrow_live(kind: ResourceKind, desired: &Value, live: &mut Value) {
    const KEPT: [&str; 6] = ["id", "name", "type", "etag", "tags", "managedBy"];
    let Value::Object(map) = live else { return };
    let kept: Vec<(String, Value)> = KEPT
        .iter()
        .filter(|k| desired.get(**k).is_none())
        .filter_map(|k| map.remove_entry(*k))
        .collect();
    let state = map
        .get("properties")
        .and_then(|p| p.get("provisioningState"))
        .cloned();
    compare::Comparer::new(rules_for(kind)).project(desired, live);
    let Value::Object(map) = live else { return };
    map.extend(kept);
    if let Some(state) = state {
        let properties = map
            .entry("properties")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(p) = properties {
            p.entry("provisioningState").or_insert(state);
        }
    }
}

/// A resource whose last write ended `Failed` or `Canceled` holds the desired fields but is not
/// what was asked for (a VM that never booted, a vnet half-made): it must be written again, or
/// galleon would call a broken resource up to date and never retry it. ARM's provisioning
/// states: only Succeeded, Failed and Canceled are terminal, no value means Succeeded
/// (azure-resource-manager-rpc `v1.0/Addendum.md#provisioningstate-property`; arm-protocol.md).
/// A PUT of the same body is how ARM clients retry provisioning.
fn failed_provisioning(live: &Value) -> Option<AttributeChange> {
    let state = live["properties"]["provisioningState"].as_str()?;
    (state.eq_ignore_ascii_case("failed") || state.eq_ignore_ascii_case("canceled")).then(|| {
        AttributeChange {
            path: "properties.provisioningState".to_owned(),
            before: Value::String(state.to_owned()),
            after: Value::String("Succeeded".to_owned()),
            forces_replacement: false,
            sensitive: false,
        }
    })
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
