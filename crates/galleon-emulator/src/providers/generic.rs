//! Behaviour most ARM resource types share, as helpers providers call from their handlers:
//! building the stored document from a PUT body, GET/404, PATCH merge, DELETE (optionally as an
//! LRO), and paged lists with `nextLink`.
//!
//! Providers with special rules (Compute checks, network address assignment) run those first and
//! then call these, passing a `shape` closure to add the read-only fields their type returns.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::ids::ArmPath;
use crate::arm::lro::{self, Begin, Completion};
use crate::state::{Resource, ensure_object};

/// How a PUT behaves.
#[derive(Debug, Clone, Copy)]
pub struct PutOptions {
    /// Run as an LRO: 201/200 + `Azure-AsyncOperation`, `provisioningState` Creating/Updating
    /// until the configured duration has passed.
    pub lro: bool,
    /// Give the resource a weak `etag` that changes on each write (Network resources).
    pub etag: bool,
    /// `location` is required in the body.
    pub require_location: bool,
}

impl Default for PutOptions {
    fn default() -> Self {
        Self {
            lro: true,
            etag: false,
            require_location: true,
        }
    }
}

/// Lower-case, space-free region name as ARM normalises it (`West Europe` -> `westeurope`).
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `Microsoft.Compute/galleries/g/images/i`: the name form ARM uses in ResourceNotFound.
pub fn qualified_name(path: &ArmPath) -> String {
    let mut parts = vec![path.namespace.clone().unwrap_or_default()];
    for (t, n) in path.types.iter().zip(path.names.iter()) {
        parts.push(t.clone());
        parts.push(n.clone());
    }
    parts.join("/")
}

/// The 404 ARM answers for a missing resource at `path`.
pub fn not_found(path: &ArmPath) -> ArmError {
    ArmError::resource_not_found(
        &qualified_name(path),
        path.resource_group.as_deref().unwrap_or(""),
    )
}

/// Builds the stored document for a PUT: the request body with `id`, `name`, `type`,
/// normalised `location` and `properties` filled in.
pub fn document(req: &ArmRequest, full_type: &str, opts: PutOptions) -> Result<Value, ArmError> {
    let mut body = if req.body.is_null() {
        json!({})
    } else {
        req.body.clone()
    };
    let obj = body
        .as_object_mut()
        .ok_or_else(|| ArmError::invalid_content("the request body must be a JSON object"))?;
    match obj.get("location").and_then(Value::as_str) {
        Some(loc) => {
            let loc = normalize_location(loc);
            obj.insert("location".into(), json!(loc));
        }
        None if opts.require_location => {
            return Err(ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            ));
        }
        None => {}
    }
    let name = req.path.name().unwrap_or_default().to_owned();
    let mut out = Map::new();
    out.insert("id".into(), json!(req.path.raw));
    out.insert("name".into(), json!(name));
    out.insert("type".into(), json!(full_type));
    for (k, v) in obj.iter() {
        if !matches!(k.as_str(), "id" | "name" | "type") {
            out.insert(k.clone(), v.clone());
        }
    }
    if !out.contains_key("properties") {
        out.insert("properties".into(), json!({}));
    }
    Ok(Value::Object(out))
}

/// PUT: create or replace. `shape` adds read-only fields (it sees the previous document on an
/// update). Checks that a nested resource's parent exists (404 `ParentResourceNotFound`).
///
/// # Errors
/// Body not an object, location missing, parent missing, or whatever `shape` returns.
pub fn put(
    ctx: &mut Ctx<'_>,
    req: &ArmRequest,
    full_type: &str,
    opts: PutOptions,
    shape: impl FnOnce(&mut Value, Option<&Resource>) -> Result<(), ArmError>,
) -> Result<Reply, ArmError> {
    if let Some(parent) = req.path.parent_id()
        && ctx.state.resource(&parent).is_none()
    {
        let names = &req.path.names[..req.path.names.len() - 1];
        return Err(ArmError::parent_not_found(&names.join("/")));
    }
    let mut body = document(req, full_type, opts)?;
    let previous = ctx.state.resource(&req.path.raw).cloned();
    shape(&mut body, previous.as_ref())?;
    if opts.etag {
        body["etag"] = json!(format!("W/\"{}\"", Uuid::new_v4()));
    }
    let creating = previous.is_none();
    let status = if creating {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let id = previous
        .as_ref()
        .map_or_else(|| req.path.raw.clone(), |p| p.id.clone());
    body["id"] = json!(id);
    let state_name = if !opts.lro {
        "Succeeded"
    } else if creating {
        "Creating"
    } else {
        "Updating"
    };
    ensure_object(&mut body["properties"]).insert("provisioningState".into(), json!(state_name));
    let resource = Resource {
        id: id.clone(),
        resource_type: full_type.to_owned(),
        body: body.clone(),
        internal: previous
            .as_ref()
            .map_or(Value::Null, |p| p.internal.clone()),
        created: previous.as_ref().map_or(ctx.now, |p| p.created),
        updated: ctx.now,
    };
    ctx.state.insert_resource(resource);
    if !opts.lro {
        return Ok(Reply::with_status(status, body));
    }
    let location = body["location"].as_str().unwrap_or("global").to_owned();
    let op = lro::start(
        ctx,
        Begin {
            resource_id: id.clone(),
            resource_type: full_type.to_owned(),
            location,
            completion: Completion::Provision { id },
            running_status: "InProgress",
            status_path: None,
        },
    );
    Ok(lro::put_accepted(ctx, &op, status, body))
}

/// GET of one resource.
///
/// # Errors
/// 404 `ResourceNotFound`.
pub fn get(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    ctx.state
        .resource(&req.path.raw)
        .map(|r| Reply::ok(r.body.clone()))
        .ok_or_else(|| not_found(&req.path))
}

/// PATCH: merges `tags` (replacing the tag set, as ARM does) and `properties` (JSON merge).
///
/// # Errors
/// 404 `ResourceNotFound`.
pub fn patch(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let now = ctx.now;
    let r = ctx
        .state
        .resource_mut(&req.path.raw)
        .ok_or_else(|| not_found(&req.path))?;
    if let Some(patch) = req.body.as_object() {
        for (k, v) in patch {
            match k.as_str() {
                "properties" => merge(&mut r.body["properties"], v),
                "id" | "name" | "type" | "location" => {}
                _ => {
                    ensure_object(&mut r.body).insert(k.clone(), v.clone());
                }
            }
        }
    }
    r.updated = now;
    Ok(Reply::ok(r.body.clone()))
}

/// RFC 7396 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            let t = ensure_object(target);
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// DELETE: 204 when absent; with `lro`, 202 + Location and the resource (and everything below
/// it) disappears when the operation completes, else 200 at once.
///
/// # Errors
/// None today; kept fallible so providers can add checks in the same shape.
pub fn delete(
    ctx: &mut Ctx<'_>,
    req: &ArmRequest,
    full_type: &str,
    lro_mode: bool,
) -> Result<Reply, ArmError> {
    let Some(r) = ctx.state.resource_mut(&req.path.raw) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    if !lro_mode {
        let id = r.id.clone();
        ctx.state.remove_tree(&id);
        return Ok(Reply::empty(StatusCode::OK));
    }
    r.set_provisioning_state("Deleting");
    let id = r.id.clone();
    let location = r.location().unwrap_or("global").to_owned();
    let op = lro::start(
        ctx,
        Begin {
            resource_id: id.clone(),
            resource_type: full_type.to_owned(),
            location,
            completion: Completion::Delete { id },
            running_status: "InProgress",
            status_path: None,
        },
    );
    Ok(lro::accepted(ctx, &op))
}

/// GET on a collection: every resource of `full_type` directly under the collection's parent
/// (resource group, subscription, or parent resource), paged.
pub fn list(ctx: &mut Ctx<'_>, req: &ArmRequest, full_type: &str) -> Result<Reply, ArmError> {
    let nested = req.path.types.len() > 1;
    let parent = if nested {
        let last = req.path.types.last().map_or(0, String::len);
        req.path.raw[..req.path.raw.len() - last - 1].to_owned()
    } else {
        req.path.scope.clone()
    };
    let parent_depth = parent.matches('/').count();
    let items: Vec<Value> = ctx
        .state
        .resources_of_type(&parent, full_type)
        // Nested types list only direct children of the named parent.
        .filter(|r| !nested || r.id.matches('/').count() == parent_depth + 2)
        .map(|r| r.body.clone())
        .collect();
    let items = readable(ctx, items);
    Ok(page(ctx, req, items))
}

/// Keeps the items (ARM documents with `id` and `type`) the caller may read: ARM filters list
/// results by RBAC, so a principal with a role on one resource sees just that one.
pub fn readable(ctx: &Ctx<'_>, items: Vec<Value>) -> Vec<Value> {
    let oid = &ctx.caller.object_id;
    items
        .into_iter()
        .filter(|item| match (item["id"].as_str(), item["type"].as_str()) {
            (Some(id), Some(t)) => crate::arm::rbac::is_allowed(
                ctx.state,
                oid,
                &crate::arm::rbac::read_action(t),
                id,
                false,
            ),
            _ => true,
        })
        .collect()
}

/// One page of `items` with `nextLink` when more follow; the page size comes from settings and
/// the position from `$skiptoken`.
pub fn page(ctx: &Ctx<'_>, req: &ArmRequest, items: Vec<Value>) -> Reply {
    let size = ctx.state.settings.page_size.max(1);
    let start: usize = req
        .query("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let end = (start + size).min(items.len());
    let value: Vec<Value> = items.get(start..end).unwrap_or_default().to_vec();
    let mut body = json!({ "value": value });
    if end < items.len() {
        let mut query: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
            .cloned()
            .collect();
        query.push(("$skiptoken".into(), end.to_string()));
        let qs = serde_urlencoded::to_string(&query).unwrap_or_default();
        body["nextLink"] = json!(format!("{}{}?{}", ctx.endpoint, req.path.raw, qs));
    }
    Reply::ok(body)
}
