//! The manifest reference (`docs/manifest.md`), generated from the JSON Schema so that the
//! documentation, the editor schema and the code are one source. A test keeps the checked-in
//! page in sync, as it does for `schemas/galleon.schema.json`.

use std::fmt::Write as _;

use serde_json::Value;

/// Renders the reference as Markdown.
pub fn markdown() -> String {
    render(&crate::schema::json_schema())
}

fn render(schema: &Value) -> String {
    let mut out = String::from(
        "# Manifest reference\n\n\
         <!-- Generated from the JSON Schema by `galleon schema --markdown`; do not edit. -->\n\n\
         A workspace is a directory of `*.yaml` files (or one file). Every file may hold any of the \
         top-level sections below; sections merge across files, and a key defined twice is an \
         error. Unknown fields are errors everywhere. Editors get completion and checks from \
         `schemas/galleon.schema.json` with a first line \
         `# yaml-language-server: $schema=<path>/schemas/galleon.schema.json`.\n\n## Top level\n\n",
    );
    table(&mut out, schema);
    let empty = serde_json::Map::new();
    let definitions = schema["definitions"].as_object().unwrap_or(&empty);
    for (name, def) in definitions {
        let _ = write!(out, "\n## {name}\n\n");
        if let Some(d) = def["description"].as_str() {
            let _ = write!(out, "{}\n\n", one_line(d));
        }
        if def["properties"].is_object() {
            table(&mut out, def);
        } else if let Some(values) = enum_values(def) {
            let _ = writeln!(out, "One of: {}.", values.join(", "));
        } else {
            let _ = writeln!(out, "Type: {}.", type_of(def));
        }
    }
    out
}

fn table(out: &mut String, object: &Value) {
    let required: Vec<&str> = object["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| field | type | required | description |\n|---|---|---|---|\n");
    if let Some(props) = object["properties"].as_object() {
        for (field, spec) in props {
            let _ = writeln!(
                out,
                "| `{field}` | {} | {} | {} |",
                type_of(spec),
                if required.contains(&field.as_str()) {
                    "yes"
                } else {
                    ""
                },
                one_line(spec["description"].as_str().unwrap_or("")).replace('|', "\\|"),
            );
        }
    }
}

/// A short type expression: `string`, `[Tenant](#tenant)`, `map of [Tenant](#tenant)`, ...
fn type_of(spec: &Value) -> String {
    if let Some(r) = spec["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[{name}](#{})", name.to_lowercase());
    }
    if let Some(values) = enum_values(spec) {
        return values.join(" \\| ");
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(items) = spec[key].as_array() {
            let parts: Vec<String> = items
                .iter()
                .filter(|i| i["type"] != "null")
                .map(type_of)
                .collect();
            return parts.join(" or ");
        }
    }
    let types: Vec<&str> = match &spec["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    match types.first().copied() {
        Some("array") => format!("list of {}", type_of(&spec["items"])),
        Some("object") if spec["additionalProperties"].is_object() => {
            format!("map of {}", type_of(&spec["additionalProperties"]))
        }
        Some(t) => t.to_owned(),
        None => "any".to_owned(),
    }
}

fn enum_values(spec: &Value) -> Option<Vec<String>> {
    if let Some(values) = spec["enum"].as_array() {
        return Some(
            values
                .iter()
                .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
                .collect(),
        );
    }
    // schemars writes documented unit variants as `oneOf` of `const`s.
    let variants = spec["oneOf"].as_array()?;
    variants
        .iter()
        .map(|v| {
            v["const"]
                .as_str()
                .or_else(|| v["enum"].as_array()?.first()?.as_str())
                .map(|c| format!("`{c}`"))
        })
        .collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
