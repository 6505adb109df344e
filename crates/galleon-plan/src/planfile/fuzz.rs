//! Fuzz targets for plan-file parsing, on stable Rust: proptest drives them (the number of
//! cases comes from `PROPTEST_CASES`, 256 by default; docs/reliability.md has the longer run).
//! `apply FILE` trusts nothing it did not write itself, so the properties are: never panic,
//! and never accept bytes that would mean a different plan than the one saved.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;

use super::PlanFileError;
use crate::{Plan, canonical_json, fixtures, sha256_hex};

fn saved_plans() -> Vec<Plan> {
    vec![
        fixtures::create_only(),
        fixtures::mixed(),
        fixtures::replace(),
        fixtures::delete(),
        fixtures::preflight_failures(),
        fixtures::no_changes(),
    ]
}

fn parse(bytes: &[u8]) -> Result<Plan, PlanFileError> {
    Plan::from_file_bytes(Path::new("fuzz.json"), bytes)
}

/// One way a file can be damaged between `plan --out` and `apply`.
#[derive(Debug, Clone)]
enum Damage {
    Flip { at: usize, mask: u8 },
    Truncate { at: usize },
    Insert { at: usize, byte: u8 },
    Remove { at: usize, len: usize },
}

impl Damage {
    fn apply(&self, bytes: &mut Vec<u8>) {
        let n = bytes.len();
        match *self {
            Damage::Flip { at, mask } => bytes[at % n] ^= mask,
            Damage::Truncate { at } => bytes.truncate(at % n),
            Damage::Insert { at, byte } => bytes.insert(at % (n + 1), byte),
            Damage::Remove { at, len } => {
                let start = at % n;
                bytes.drain(start..(start + len).min(n));
            }
        }
    }
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, mask)| Damage::Flip { at, mask }),
        any::<usize>().prop_map(|at| Damage::Truncate { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::Insert { at, byte }),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Damage::Remove { at, len }),
    ]
}

/// Paths (object keys and array indices) to every leaf of `value`.
fn leaves(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn leaf_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, key| match v {
        Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
        other => &mut other[key.as_str()],
    })
}

/// A different value of the same kind where possible: the edit a hand or a bug would make.
fn altered(leaf: &Value) -> Value {
    match leaf {
        Value::String(s) => Value::String(format!("{s}x")),
        Value::Number(n) => Value::from(n.as_f64().unwrap_or(0.0) + 1.0),
        Value::Bool(b) => Value::Bool(!b),
        Value::Null => Value::from(0),
        Value::Array(_) => Value::Array(vec![Value::Null]),
        Value::Object(_) => serde_json::json!({"x": 1}),
    }
}

/// Small arbitrary JSON, for the typed half of the parser.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_refused_without_panicking(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048)
    ) {
        prop_assert!(parse(&bytes).is_err());
    }

    #[test]
    fn a_damaged_file_is_refused_or_still_means_the_same_plan(
        which in 0..6usize,
        damages in proptest::collection::vec(damage(), 1..4),
    ) {
        let plan = saved_plans().swap_remove(which);
        let mut bytes = plan.to_file_bytes();
        for d in &damages {
            if !bytes.is_empty() {
                d.apply(&mut bytes);
            }
        }
        // Harmless damage exists (whitespace, the case of a hex digit in the checksum); a
        // different plan must never come out.
        if let Ok(parsed) = parse(&bytes) {
            prop_assert_eq!(parsed, plan);
        }
    }

    #[test]
    fn any_edited_value_is_a_checksum_mismatch(which in 0..6usize, pick in any::<prop::sample::Index>()) {
        let plan = saved_plans().swap_remove(which);
        let mut envelope: Value = serde_json::from_slice(&plan.to_file_bytes()).unwrap();
        let mut paths = Vec::new();
        leaves(&envelope["plan"], &mut Vec::new(), &mut paths);
        let path = pick.get(&paths).clone();
        let leaf = leaf_mut(&mut envelope["plan"], &path);
        *leaf = altered(leaf);
        let err = parse(&serde_json::to_vec(&envelope).unwrap()).unwrap_err();
        prop_assert!(matches!(err, PlanFileError::ChecksumMismatch { .. }), "{:?} at {:?}", err, path);
    }

    #[test]
    fn a_well_sealed_envelope_around_any_json_never_panics(
        plan in json_value(),
        keep in any::<bool>(),
    ) {
        // With a valid checksum, the typed parser is all that stands between the bytes and
        // apply: it must refuse, not panic, and what it accepts must round-trip.
        let mut plan = plan;
        if keep && let Value::Object(map) = &mut plan {
            let real = serde_json::to_value(fixtures::no_changes()).unwrap();
            for (k, v) in real.as_object().unwrap() {
                map.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        let envelope = serde_json::json!({
            "format": super::PLAN_FILE_FORMAT,
            "format_version": crate::FORMAT_VERSION,
            "sha256": sha256_hex(&canonical_json(&plan)),
            "plan": plan,
        });
        if let Ok(parsed) = parse(&serde_json::to_vec(&envelope).unwrap()) {
            prop_assert_eq!(parse(&parsed.to_file_bytes()).unwrap(), parsed);
        }
    }
}

#[test]
fn deeply_nested_json_is_refused_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    assert!(matches!(
        parse(deep.as_bytes()),
        Err(PlanFileError::Malformed { .. })
    ));
}
