//! Properties of the diff engine on arbitrary bodies: a body never differs from itself, live
//! fields galleon does not send never show, and one changed leaf is exactly one change.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{diff, narrow_live};
use crate::{Action, ResourceKind};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (0u32..5000).prop_map(Value::from),
        "[a-z]{1,8}".prop_map(Value::from),
    ]
}

/// Keys that no rule treats specially (no tags, ids, names, locations or read-only fields).
fn key() -> impl Strategy<Value = String> {
    "k[a-z]{1,6}".prop_map(String::from)
}

fn object(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), inner, 1..4)
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
}

/// `{"properties": {...}}` with nested objects, lists of scalars and scalars inside.
fn body() -> impl Strategy<Value = Value> {
    let value = scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(scalar(), 0..4).prop_map(Value::from),
            object(inner)
        ]
    });
    object(value).prop_map(|properties| json!({"properties": properties}))
}

/// Every path to a scalar leaf (as JSON pointers), outside lists.
fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
        Value::Array(_) => {}
        _ => out.push(at),
    }
}

proptest! {
    #[test]
    fn a_body_never_differs_from_itself(d in body()) {
        let result = diff(ResourceKind::Nsg, Some(&d), Some(&d));
        prop_assert_eq!(result.action, Action::NoOp);
        prop_assert!(result.attribute_changes.is_empty());
    }

    #[test]
    fn live_only_fields_never_show(d in body(), extra in scalar(), name in key()) {
        let mut live = d.clone();
        live["properties"]["provisioningState"] = json!("Succeeded");
        live["id"] = json!("/subscriptions/s/resourceGroups/rg");
        live["properties"][format!("{name}Extra")] = extra;
        let result = diff(ResourceKind::Nsg, Some(&d), Some(&live));
        prop_assert_eq!(result.action, Action::NoOp, "{:?}", result.attribute_changes);
    }

    #[test]
    fn one_changed_leaf_is_exactly_one_change(d in body(), pick in any::<prop::sample::Index>()) {
        let mut paths = Vec::new();
        leaves(&d, String::new(), &mut paths);
        prop_assume!(!paths.is_empty());
        let pointer = &paths[pick.index(paths.len())];
        let mut live = d.clone();
        *live.pointer_mut(pointer).unwrap() = json!("changed-VALUE");
        let result = diff(ResourceKind::Nsg, Some(&d), Some(&live));
        prop_assert_eq!(result.action, Action::Update);
        prop_assert_eq!(result.attribute_changes.len(), 1);
        let change = &result.attribute_changes[0];
        prop_assert_eq!(change.path.replace('.', "/"), pointer.trim_start_matches('/'));
        prop_assert_eq!(&change.before, &json!("changed-VALUE"));
    }

    #[test]
    fn narrowing_live_never_changes_the_diff(
        d in body(),
        extra in body(),
        conflicts in any::<bool>(),
    ) {
        // Live: the desired body plus fields galleon does not send, with some of the
        // desired values changed when `conflicts`.
        fn merge(live: &mut Value, extra: &Value, conflicts: bool) {
            match (live, extra) {
                (Value::Object(l), Value::Object(e)) => {
                    for (k, v) in e {
                        match l.get_mut(k) {
                            Some(lv) => merge(lv, v, conflicts),
                            None => {
                                l.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
                (l, e) if conflicts => *l = e.clone(),
                _ => {}
            }
        }
        let mut live = d.clone();
        merge(&mut live, &extra, conflicts);
        live["properties"]["provisioningState"] = json!("Succeeded");
        live["id"] = json!("/subscriptions/s/resourceGroups/rg");
        let mut narrowed = live.clone();
        narrow_live(ResourceKind::Nsg, &d, &mut narrowed);
        prop_assert_eq!(
            diff(ResourceKind::Nsg, Some(&d), Some(&narrowed)),
            diff(ResourceKind::Nsg, Some(&d), Some(&live))
        );
    }
}
