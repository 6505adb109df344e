//! `galleon schema`: the manifest's JSON Schema (or the reference generated from it) on stdout.

use crate::exit::ExitStatus;

/// Prints the schema exactly as checked in at `schemas/galleon.schema.json`, or with
/// `--markdown` the reference checked in at `docs/manifest.md`.
pub fn run(markdown: bool) -> ExitStatus {
    if markdown {
        print!("{}", galleon_manifest::reference::markdown());
    } else {
        print!("{}", galleon_manifest::schema::json_schema_string());
    }
    ExitStatus::Success
}
