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
    let mut out = Vec::new();
    write_canonical(value, &mut out).expect("writing to a Vec cannot fail");
    out
}

/// Lower-case hex SHA-256 of [`canonical_json`], streamed into the hash: fingerprinting every
/// body of a 10,000-resource read should not first copy each one sorted and then serialise it.
pub fn canonical_sha256(value: &Value) -> String {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hashing = Hashing(Sha256::new());
    write_canonical(value, &mut hashing).expect("hashing cannot fail");
    hex::encode(hashing.0.finalize())
}

/// Compact JSON with object keys sorted, written as it is walked.
fn write_canonical(value: &Value, w: &mut impl std::io::Write) -> std::io::Result<()> {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            w.write_all(b"{")?;
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                serde_json::to_writer(&mut *w, k)?;
                w.write_all(b":")?;
                write_canonical(v, w)?;
            }
            w.write_all(b"}")
        }
        Value::Array(items) => {
            w.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_canonical(item, w)?;
            }
            w.write_all(b"]")
        }
        scalar => Ok(serde_json::to_writer(w, scalar)?),
    }
}

/// The value at a path of object keys. `Value::pointer` allocates two strings per step (it
/// unescapes `~0`/`~1`), which showed in checks run once per VM of a large fleet.
pub(crate) fn field<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
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
        let escaped = json!({"k\"ey": "va\nlue", "n": [1.5, -2, true, null, {"z": {}, "y": []}]});
        assert_eq!(
            canonical_json(&escaped),
            serde_json::to_vec(
                &json!({"k\"ey": "va\nlue", "n": [1.5, -2, true, null, {"y": [], "z": {}}]})
            )
            .unwrap()
        );
        assert_eq!(canonical_sha256(&a), sha256_hex(&canonical_json(&b)));
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
