//! Planner: lowers the manifest to desired ARM resources, reads live state, diffs, runs
//! preflight checks, and writes plan files.
//!
//! The [`Plan`] is the only thing renderers and the applier see. It is computed once here and
//! never recomputed downstream: renderers print it, apply executes it.

mod action;
mod credentials;
pub mod diff;
mod error;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod kind;
pub mod live;
pub mod lower;
mod model;
mod planfile;
mod planner;
pub mod preflight;
pub mod read;
mod run;
pub mod share;

pub use action::Action;
pub use credentials::credential_specs;
pub use error::PlanError;
pub use kind::ResourceKind;
pub use model::{
    AttributeChange, CheckResult, CheckStatus, FORMAT_VERSION, Fingerprint, FingerprintState,
    Method, Plan, Request, ResourceChange, Summary,
};
pub use planfile::{PLAN_FILE_FORMAT, PlanFileError};
pub use planner::{PlanInput, build_plan};
pub use run::{AzureContext, PlanOptions, plan};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Serialises a JSON value with object keys sorted at every level, so that two bodies with
/// the same content hash the same whatever order the server sent their keys in.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sorted(value)).expect("a JSON value always serialises")
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_ignores_key_order_but_not_content() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": null}});
        let b = json!({"a": {"x": null, "y": [1, 2]}, "b": 1});
        let c = json!({"a": {"x": null, "y": [2, 1]}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_ne!(canonical_json(&a), canonical_json(&c));
        assert_eq!(canonical_json(&a), br#"{"a":{"x":null,"y":[1,2]},"b":1}"#);
    }

    #[test]
    fn fingerprint_records_etag_and_digest_or_absence() {
        let live = json!({"etag": "W/\"1\"", "name": "x"});
        let fp = Fingerprint::of("/subscriptions/s/resourceGroups/rg", Some(&live));
        match &fp.state {
            FingerprintState::Present {
                etag,
                content_sha256,
            } => {
                assert_eq!(etag.as_deref(), Some("W/\"1\""));
                assert_eq!(content_sha256.len(), 64);
            }
            FingerprintState::Absent => panic!("expected present"),
        }
        assert_eq!(Fingerprint::of("/x", None).state, FingerprintState::Absent);
    }
}
