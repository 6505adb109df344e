//! `galleon schema`: the manifest's JSON Schema on stdout.

use crate::exit::ExitStatus;

/// Prints the schema exactly as checked in at `schemas/galleon.schema.json`.
pub fn run() -> ExitStatus {
    print!("{}", galleon_manifest::schema::json_schema_string());
    ExitStatus::Success
}
