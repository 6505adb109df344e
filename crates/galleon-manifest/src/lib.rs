//! Workspace manifest: YAML to a typed, validated model with file:line:col diagnostics and a JSON Schema.
