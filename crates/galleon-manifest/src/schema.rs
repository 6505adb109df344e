//! The manifest's JSON Schema, for editors (yaml-language-server) and CI.
//!
//! Generated from the model's types and doc comments, as draft-07 because that is the newest
//! draft yaml-language-server fully supports. The checked-in copy at `schemas/galleon.schema.json`
//! is verified by a test, so it cannot drift from the code.

use schemars::generate::SchemaSettings;

use crate::model::ManifestFile;

/// The schema as a JSON value.
pub fn json_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<ManifestFile>();
    schema.to_value()
}

/// The schema as pretty-printed JSON with a trailing newline, exactly as checked in.
pub fn json_schema_string() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("a JSON value serialises");
    s.push('\n');
    s
}
