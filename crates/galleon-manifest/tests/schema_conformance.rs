//! The examples conform to the checked-in JSON Schema, as an editor would check them, and
//! typical mistakes do not. A small draft-07 subset validator (the keywords schemars emits) keeps
//! this free of a JSON Schema dependency.

use regex::Regex;
use serde_json::Value;

use galleon_manifest::schema::json_schema;

/// Returns the first violation, as a JSON-pointer-ish path and a reason.
fn check(root: &Value, schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/definitions/");
        return check(root, &root["definitions"][name], v, path);
    }
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(root, sub, v, path)?;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let ok = alts
                .iter()
                .filter(|s| check(root, s, v, path).is_ok())
                .count();
            let fine = if key == "oneOf" { ok == 1 } else { ok >= 1 };
            if !fine {
                return Err(format!("{path}: {key} matched {ok} alternatives"));
            }
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !types
            .iter()
            .any(|t| *t == actual || (*t == "number" && actual == "integer"))
        {
            return Err(format!("{path}: {actual} is not {types:?}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return Err(format!("{path}: {v} not in {e:?}"));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        return Err(format!("{path}: {v} is not {c}"));
    }
    if let (Some(p), Some(s)) = (schema.get("pattern").and_then(Value::as_str), v.as_str())
        && !Regex::new(p).unwrap().is_match(s)
    {
        return Err(format!("{path}: `{s}` does not match {p}"));
    }
    if let Some(n) = v.as_f64() {
        if schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            return Err(format!("{path}: {n} below minimum"));
        }
        if schema
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            return Err(format!("{path}: {n} above maximum"));
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            check(root, items, x, &format!("{path}/{i}"))?;
        }
    }
    if let Some(o) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let req = req.as_str().unwrap();
            if !o.contains_key(req) {
                return Err(format!("{path}: missing required `{req}`"));
            }
        }
        for (k, x) in o {
            let sub = format!("{path}/{k}");
            if let Some(names) = schema.get("propertyNames") {
                check(root, names, &Value::String(k.clone()), &sub)?;
            }
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => check(root, s, x, &sub)?,
                (None, Some(Value::Bool(false))) => return Err(format!("{sub}: unknown field")),
                (None, Some(s @ Value::Object(_))) => check(root, s, x, &sub)?,
                _ => {}
            }
        }
    }
    Ok(())
}

fn validate(yaml: &str) -> Result<(), String> {
    let schema = json_schema();
    let value: Value = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
    check(&schema, &schema, &value, "")
}

#[test]
fn examples_conform_to_the_schema() {
    let mut n = 0;
    for dir in ["../../examples/cross-tenant", "../../examples/fleet"] {
        for f in std::fs::read_dir(dir).unwrap() {
            let f = f.unwrap().path();
            if !matches!(f.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                continue; // e.g. a sandbox's .galleon/ state directory
            }
            let text = std::fs::read_to_string(&f).unwrap();
            validate(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            n += 1;
        }
    }
    assert_eq!(n, 4);
}

#[test]
fn the_schema_catches_typical_mistakes() {
    let base = std::fs::read_to_string("../../examples/cross-tenant/tenants.yaml").unwrap();
    let cases = [
        (
            "client_secret: { env: GALLEON_APP_SECRET }",
            "client_secret: hunter2",
            "anyOf",
        ),
        (
            "tenant_id: 11111111-1111-4111-8111-111111111111",
            "tenant_id: not-a-guid",
            "does not match",
        ),
        (
            "workspace: cross-tenant",
            "workspace: cross-tenant\nworkspaces: x",
            "unknown field",
        ),
    ];
    for (from, to, expect) in cases {
        let text = base.replacen(from, to, 1);
        assert_ne!(text, base, "{from}");
        let err = validate(&text).expect_err(to);
        assert!(err.contains(expect), "{to}: {err}");
    }
    let images = std::fs::read_to_string("../../examples/cross-tenant/images.yaml").unwrap();
    for (from, to, expect) in [
        ("\"1.0.0\":", "\"1.0\":", "does not match"),
        (
            "os_state: Generalized",
            "os_state: Generalised",
            "oneOf matched 0",
        ),
        ("replicas: 2", "replicas: 0", "below minimum"),
    ] {
        let text = images.replacen(from, to, 1);
        assert_ne!(text, images, "{from}");
        let err = validate(&text).expect_err(to);
        assert!(err.contains(expect), "{to}: {err}");
    }
}
