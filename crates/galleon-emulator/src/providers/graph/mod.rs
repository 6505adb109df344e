//! Azure Resource Graph (`POST /providers/Microsoft.ResourceGraph/resources`, api-version
//! 2024-04-01, specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/
//! 2024-04-01/resourcegraph.json): the small subset of KQL galleon uses to find everything a
//! workspace owns in one call per tenant, with `$top`/`$skip`/`$skipToken` paging.
//!
//! Supported query language (anything else is a 400 `BadRequest` naming the unsupported part):
//!
//! ```text
//! Resources [| where COND]* [| project F[, F]*] [| order by F [asc|desc]] [| limit N | take N]
//! COND  := TERM [and TERM]*           TERM := EXPR OP VALUE
//! EXPR  := name | type | location | resourceGroup | subscriptionId | tenantId | id | kind
//!        | tags['k'] | tags.k | properties.a.b | tolower(EXPR)
//! OP    := == | != | =~ | !~ | contains | startswith | in | in~ | !in
//! VALUE := 'str' | "str" | ('a', 'b', ...)
//! ```
//!
//! Rows carry ARG's casing quirks: `type` and `resourceGroup` lower-cased, `id` as stored
//! (learn.microsoft.com governance/resource-graph/concepts/explore-resources.md).

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::providers::rp::{ArmId, RpError};

mod parse;
use parse::{Expr, Term, invalid};
pub use parse::{Query, parse};

/// A resource as a Resource Graph row.
pub fn row(doc: &Value, tenant_id: &str) -> Value {
    let id = doc["id"].as_str().unwrap_or_default();
    let parsed = ArmId::parse(id);
    let ty = doc["type"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| parsed.as_ref().map(ArmId::full_type))
        .unwrap_or_default();
    json!({
        "id": id,
        "name": doc["name"].as_str().map(str::to_owned).or_else(|| parsed.as_ref().and_then(|p| p.name().map(str::to_owned))).unwrap_or_default(),
        "type": ty.to_ascii_lowercase(),
        "tenantId": tenant_id,
        "kind": doc.get("kind").cloned().unwrap_or_else(|| json!("")),
        "location": doc.get("location").cloned().unwrap_or_else(|| json!("")),
        "resourceGroup": parsed.as_ref().and_then(|p| p.resource_group.clone()).unwrap_or_default().to_ascii_lowercase(),
        "subscriptionId": parsed.as_ref().map(|p| p.subscription.clone()).unwrap_or_default(),
        "managedBy": doc.get("managedBy").cloned().unwrap_or_else(|| json!("")),
        "sku": doc.get("sku").cloned().unwrap_or(Value::Null),
        "plan": doc.get("plan").cloned().unwrap_or(Value::Null),
        "properties": doc.get("properties").cloned().unwrap_or_else(|| json!({})),
        "tags": doc.get("tags").cloned().unwrap_or_else(|| json!({})),
        "identity": doc.get("identity").cloned().unwrap_or(Value::Null),
        "zones": doc.get("zones").cloned().unwrap_or(Value::Null),
        "extendedLocation": Value::Null,
    })
}

fn eval(expr: &Expr, row: &Value) -> Option<String> {
    match expr {
        Expr::Lower(e) => eval(e, row).map(|s| s.to_lowercase()),
        Expr::Field(path) => {
            let mut v = row;
            for (k, seg) in path.iter().enumerate() {
                v = if k == 0 || v.is_object() {
                    // Columns are case-insensitive in KQL; tag keys are too in ARM.
                    v.as_object()?
                        .iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(seg))
                        .map(|(_, x)| x)?
                } else {
                    return None;
                };
            }
            match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            }
        }
    }
}

fn matches(t: &Term, row: &Value) -> bool {
    let v = eval(&t.expr, row);
    let first = t.values.first().map(String::as_str).unwrap_or_default();
    match (t.op.as_str(), v) {
        ("==", Some(v)) => v == first,
        ("=~", Some(v)) => v.eq_ignore_ascii_case(first),
        ("!=", v) => v.as_deref() != Some(first),
        ("!~", v) => !v.is_some_and(|v| v.eq_ignore_ascii_case(first)),
        ("contains", Some(v)) => v.to_lowercase().contains(&first.to_lowercase()),
        ("startswith", Some(v)) => v.to_lowercase().starts_with(&first.to_lowercase()),
        ("in", Some(v)) => t.values.contains(&v),
        ("in~", Some(v)) => t.values.iter().any(|x| x.eq_ignore_ascii_case(&v)),
        ("!in", v) => !v.is_some_and(|v| t.values.contains(&v)),
        _ => false,
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The response body (QueryResponse).
    pub body: Value,
}

/// Runs a QueryRequest body over `rows` (already limited to what the caller may see).
///
/// # Errors
/// 400 for a bad query or options.
pub fn run(request: &Value, mut rows: Vec<Value>) -> Result<Page, RpError> {
    let text = request["query"]
        .as_str()
        .ok_or_else(|| invalid("the 'query' property is required"))?;
    let q = parse(text)?;
    if let Some(subs) = request["subscriptions"].as_array() {
        let subs: Vec<String> = subs
            .iter()
            .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
            .collect();
        rows.retain(|r| {
            r["subscriptionId"]
                .as_str()
                .is_some_and(|s| subs.contains(&s.to_ascii_lowercase()))
        });
    }
    rows.retain(|r| q.wheres.iter().all(|t| matches(t, r)));
    match &q.order {
        Some((col, desc)) => {
            let col = Expr::Field(vec![col.clone()]);
            rows.sort_by_key(|r| eval(&col, r));
            if *desc {
                rows.reverse();
            }
        }
        // Stable order by id so that pages do not shift (the doc requires id for paging).
        None => rows.sort_by(|a, b| {
            a["id"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .cmp(&b["id"].as_str().map(str::to_ascii_lowercase))
        }),
    }
    if let Some(n) = q.limit {
        rows.truncate(n);
    }
    let total = rows.len();
    let opts = &request["options"];
    let top = match opts["$top"].as_u64() {
        Some(t) if (1..=1000).contains(&t) => t as usize,
        Some(t) => return Err(invalid(format!("$top must be between 1 and 1000, not {t}"))),
        None => 100,
    };
    let skip = match opts["$skipToken"].as_str() {
        Some(tok) => decode_token(tok).ok_or_else(|| invalid("the $skipToken is invalid"))?,
        None => opts["$skip"].as_u64().unwrap_or(0) as usize,
    };
    let has_id = q
        .project
        .as_ref()
        .is_none_or(|cols| cols.iter().any(|c| c.eq_ignore_ascii_case("id")));
    let end = (skip + top).min(total);
    let page: Vec<Value> = rows[skip.min(total)..end]
        .iter()
        .map(|r| project(r, q.project.as_deref()))
        .collect();
    let more = end < total;
    let mut body = json!({
        "totalRecords": total,
        "count": page.len(),
        "resultTruncated": if more && !has_id { "true" } else { "false" },
        "facets": [],
    });
    if more && has_id {
        body["$skipToken"] = json!(encode_token(end));
    }
    body["data"] = if opts["resultFormat"]
        .as_str()
        .is_some_and(|f| f.eq_ignore_ascii_case("table"))
    {
        table(&page)
    } else {
        json!(page)
    };
    Ok(Page { body })
}

fn project(row: &Value, cols: Option<&[String]>) -> Value {
    let Some(cols) = cols else { return row.clone() };
    let mut out = Map::new();
    for c in cols {
        let v = row
            .as_object()
            .and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(c))
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or(Value::Null);
        out.insert(c.clone(), v);
    }
    Value::Object(out)
}

fn table(rows: &[Value]) -> Value {
    let cols: Vec<String> = rows
        .first()
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let kind = |v: &Value| match v {
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        _ => "object",
    };
    let columns: Vec<Value> = cols
        .iter()
        .map(|c| json!({"name": c, "type": rows.first().map_or("object", |r| kind(&r[c]))}))
        .collect();
    let data: Vec<Value> = rows
        .iter()
        .map(|r| json!(cols.iter().map(|c| r[c].clone()).collect::<Vec<_>>()))
        .collect();
    json!({"columns": columns, "rows": data})
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(json!({"$skip": offset}).to_string())
}

fn decode_token(tok: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(tok).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v["$skip"].as_u64().map(|n| n as usize)
}

#[cfg(test)]
mod tests;
