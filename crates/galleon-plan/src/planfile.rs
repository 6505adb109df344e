//! Saved plans (`galleon plan --out FILE`): an envelope with a format tag, a version and a
//! checksum, so that `apply FILE` refuses a file that is not a plan, is from another format
//! version, or was damaged or edited after it was written.
//!
//! The checksum is SHA-256 over the canonical bytes of the `plan` object (keys sorted, no
//! whitespace). It detects corruption and hand edits; it does not stop a forger, who can
//! recompute it. Protect plan files like any other build artefact if that matters.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{FORMAT_VERSION, Plan, canonical_json, sha256_hex};

/// The value of the envelope's `format` field.
pub const PLAN_FILE_FORMAT: &str = "galleon-plan";

/// Why a plan file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// The file could not be read or written.
    #[error("cannot access plan file {path}")]
    Io {
        /// The plan file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON, or its envelope or plan does not have the expected shape.
    #[error("{path} is not a galleon plan file")]
    Malformed {
        /// The plan file.
        path: PathBuf,
        /// The parse failure.
        #[source]
        source: serde_json::Error,
    },
    /// The `format` field names something else.
    #[error("{path} is not a galleon plan file (format is {found:?}, expected \"galleon-plan\")")]
    WrongFormat {
        /// The plan file.
        path: PathBuf,
        /// The format found.
        found: String,
    },
    /// The plan was written by a galleon with another plan format.
    #[error(
        "{path} uses plan format version {found}; this galleon reads version {expected}: run `galleon plan` again with this version"
    )]
    UnsupportedVersion {
        /// The plan file.
        path: PathBuf,
        /// The version found.
        found: u64,
        /// The version this build reads.
        expected: u32,
    },
    /// The checksum does not match the plan: the file was corrupted or edited.
    #[error(
        "{path} was modified after it was written (checksum mismatch): the plan cannot be trusted, run `galleon plan --out` again. \
         The checksum detects corruption and edits, not a forger who recomputes it."
    )]
    ChecksumMismatch {
        /// The plan file.
        path: PathBuf,
    },
}

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    format: &'static str,
    format_version: u32,
    plan: &'a Value,
    sha256: String,
}

#[derive(Deserialize)]
struct EnvelopeIn {
    format: String,
    format_version: u64,
    plan: Value,
    sha256: String,
}

impl Plan {
    /// The checksum written next to the plan.
    pub fn checksum(&self) -> String {
        sha256_hex(&canonical_json(&self.to_value()))
    }

    fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a plan always serialises")
    }

    /// Serialises the plan file envelope (pretty JSON, trailing newline).
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let plan = self.to_value();
        let envelope = EnvelopeOut {
            format: PLAN_FILE_FORMAT,
            format_version: FORMAT_VERSION,
            sha256: sha256_hex(&canonical_json(&plan)),
            plan: &plan,
        };
        let mut bytes = serde_json::to_vec_pretty(&envelope).expect("an envelope serialises");
        bytes.push(b'\n');
        bytes
    }

    /// Parses and verifies a plan file's bytes; `path` only names the file in errors.
    ///
    /// # Errors
    /// Refuses anything but an intact plan of this format version: see [`PlanFileError`].
    pub fn from_file_bytes(path: &Path, bytes: &[u8]) -> Result<Plan, PlanFileError> {
        let malformed = |source| PlanFileError::Malformed {
            path: path.to_owned(),
            source,
        };
        let envelope: EnvelopeIn = serde_json::from_slice(bytes).map_err(malformed)?;
        if envelope.format != PLAN_FILE_FORMAT {
            return Err(PlanFileError::WrongFormat {
                path: path.to_owned(),
                found: envelope.format,
            });
        }
        if envelope.format_version != u64::from(FORMAT_VERSION) {
            return Err(PlanFileError::UnsupportedVersion {
                path: path.to_owned(),
                found: envelope.format_version,
                expected: FORMAT_VERSION,
            });
        }
        // Checked before the plan is typed, so that an edit the types would silently absorb
        // (an added field, a reordered list) is refused too.
        if sha256_hex(&canonical_json(&envelope.plan)) != envelope.sha256.to_ascii_lowercase() {
            return Err(PlanFileError::ChecksumMismatch {
                path: path.to_owned(),
            });
        }
        serde_json::from_value(envelope.plan).map_err(malformed)
    }

    /// Writes the plan file atomically (temporary file, then rename), so that an interrupted
    /// write never leaves half a plan where apply would look for one.
    ///
    /// # Errors
    /// [`PlanFileError::Io`] when the directory is not writable.
    pub fn write_file(&self, path: &Path) -> Result<(), PlanFileError> {
        let io = |source| PlanFileError::Io {
            path: path.to_owned(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, self.to_file_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads and verifies a plan file.
    ///
    /// # Errors
    /// See [`Plan::from_file_bytes`]; [`PlanFileError::Io`] when the file cannot be read.
    pub fn read_file(path: &Path) -> Result<Plan, PlanFileError> {
        let bytes = std::fs::read(path).map_err(|source| PlanFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Plan::from_file_bytes(path, &bytes)
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn written(plan: &Plan) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tfplan.json");
        plan.write_file(&path).unwrap();
        (dir, path)
    }

    #[test]
    fn round_trips_a_plan_exactly() {
        let plan = fixtures::mixed();
        let (_dir, path) = written(&plan);
        assert_eq!(Plan::read_file(&path).unwrap(), plan);
        let envelope: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(envelope["format"], "galleon-plan");
        assert_eq!(envelope["format_version"], 1);
        assert_eq!(envelope["sha256"], plan.checksum());
    }

    #[test]
    fn refuses_an_edited_plan() {
        let plan = fixtures::mixed();
        let (_dir, path) = written(&plan);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("Standard", "Basic", 1);
        assert_ne!(text, edited);
        std::fs::write(&path, edited).unwrap();
        let err = Plan::read_file(&path).unwrap_err();
        assert!(
            matches!(err, PlanFileError::ChecksumMismatch { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("not a forger who recomputes it"));
    }

    #[test]
    fn refuses_an_added_field_the_types_would_ignore() {
        let plan = fixtures::no_changes();
        let mut envelope: Value = serde_json::from_slice(&plan.to_file_bytes()).unwrap();
        envelope["plan"]["extra"] = Value::Bool(true);
        let bytes = serde_json::to_vec(&envelope).unwrap();
        let err = Plan::from_file_bytes(Path::new("p"), &bytes).unwrap_err();
        assert!(
            matches!(err, PlanFileError::ChecksumMismatch { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn whitespace_and_key_order_do_not_matter() {
        let plan = fixtures::no_changes();
        let envelope: Value = serde_json::from_slice(&plan.to_file_bytes()).unwrap();
        let compact = serde_json::to_vec(&envelope).unwrap();
        assert_eq!(
            Plan::from_file_bytes(Path::new("p"), &compact).unwrap(),
            plan
        );
    }

    #[test]
    fn refuses_truncation_other_formats_and_versions() {
        let bytes = fixtures::no_changes().to_file_bytes();
        let truncated = &bytes[..bytes.len() / 2];
        assert!(matches!(
            Plan::from_file_bytes(Path::new("p"), truncated),
            Err(PlanFileError::Malformed { .. })
        ));

        let mut envelope: Value = serde_json::from_slice(&bytes).unwrap();
        envelope["format"] = "terraform-plan".into();
        let err = Plan::from_file_bytes(Path::new("p"), &serde_json::to_vec(&envelope).unwrap());
        assert!(matches!(err, Err(PlanFileError::WrongFormat { .. })));

        envelope["format"] = PLAN_FILE_FORMAT.into();
        envelope["format_version"] = 2.into();
        let err = Plan::from_file_bytes(Path::new("p"), &serde_json::to_vec(&envelope).unwrap())
            .unwrap_err();
        assert!(matches!(
            err,
            PlanFileError::UnsupportedVersion { found: 2, .. }
        ));
        assert!(err.to_string().contains("run `galleon plan` again"));
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_path() {
        let err = Plan::read_file(Path::new("/nonexistent/plan.json")).unwrap_err();
        assert!(matches!(err, PlanFileError::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/plan.json"));
    }
}
