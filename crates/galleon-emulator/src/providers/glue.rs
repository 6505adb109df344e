//! The seam between the pure provider rules (`compute`, `network`, `graph`, `template`, `blob`)
//! and the emulator's framework: resource lookups over `State`, storing documents with their
//! private bookkeeping moved to `Resource::internal`, presenting them, RBAC-backed linked
//! authorization, paging, and starting LROs. Every route module of this engineer's providers
//! goes through here, so the framework types appear in one place.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::lro::{self, Begin, Completion};
use crate::arm::rbac;
use crate::providers::compute::gallery::PRIVATE;
use crate::providers::compute::linked::{self, Authority, Principal};
use crate::providers::generic;
use crate::providers::rp::{ArmId, Lookup};
use crate::state::{Resource, State, is_under};

/// Milliseconds since the epoch on the emulator clock.
pub fn now_ms(now: OffsetDateTime) -> i64 {
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The stored document with `internal` folded back in under [`PRIVATE`], as the pure rules
/// expect it.
pub fn full_doc(r: &Resource) -> Value {
    let mut d = r.body.clone();
    if !r.internal.is_null() {
        d[PRIVATE] = r.internal.clone();
    }
    d
}

/// [`Lookup`] over the live state.
pub struct StateLookup<'a>(pub &'a State);

impl Lookup for StateLookup<'_> {
    fn get(&self, id: &str) -> Option<Value> {
        self.0.resource(id).map(full_doc)
    }
    fn children(&self, parent_id: &str, child_type: &str) -> Vec<Value> {
        let prefix = format!(
            "{}/{}/",
            parent_id.trim_end_matches('/').to_ascii_lowercase(),
            child_type.to_ascii_lowercase()
        );
        self.0
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains('/'))
            .map(|(_, r)| full_doc(r))
            .collect()
    }
    fn all_of_type(&self, resource_type: &str) -> Vec<Value> {
        self.0
            .resources
            .values()
            .filter(|r| r.resource_type.eq_ignore_ascii_case(resource_type))
            .map(full_doc)
            .collect()
    }
}

/// [`Authority`] over the live state: subscriptions and RBAC.
pub struct StateAuthority<'a>(pub &'a State);

impl Authority for StateAuthority<'_> {
    fn subscription_tenant(&self, subscription: &str) -> Option<String> {
        self.0.subscription(subscription).map(|s| s.tenant.clone())
    }
    fn allowed(&self, principal: &Principal, action: &str, scope: &str) -> bool {
        rbac::is_allowed(self.0, &principal.object_id, action, scope, false)
    }
}

/// The request path as an [`ArmId`].
///
/// # Errors
/// 400 when the path is not a resource id.
pub fn arm_id(req: &ArmRequest) -> Result<ArmId, ArmError> {
    ArmId::parse(&req.path.raw).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidResourceId",
            format!("'{}' is not a valid resource id.", req.path.raw),
        )
    })
}

/// The stored document of the request's resource (with private data), if any.
pub fn existing(ctx: &Ctx<'_>, id: &str) -> Option<Value> {
    ctx.state.resource(id).map(full_doc)
}

/// ARM's linked-access check for a write of `ty` with `body` at the request path.
///
/// # Errors
/// 403 `LinkedAuthorizationFailed`.
pub fn check_linked(
    ctx: &Ctx<'_>,
    req: &ArmRequest,
    ty: &str,
    body: &Value,
) -> Result<(), ArmError> {
    let refs = linked::linked_refs(ty, body);
    if refs.is_empty() {
        return Ok(());
    }
    let action = format!("{ty}/write");
    linked::check(
        &ctx.caller,
        &action,
        &req.path.raw,
        &refs,
        &ctx.aux,
        &StateAuthority(ctx.state),
    )?;
    Ok(())
}

/// 404 `ParentResourceNotFound` when a nested resource's parent is missing.
///
/// # Errors
/// As described.
pub fn check_parent(ctx: &Ctx<'_>, req: &ArmRequest) -> Result<(), ArmError> {
    if let Some(parent) = req.path.parent_id()
        && ctx.state.resource(&parent).is_none()
    {
        let names = &req.path.names[..req.path.names.len() - 1];
        return Err(ArmError::parent_not_found(&names.join("/")));
    }
    Ok(())
}

/// Stores a document built by a pure rule: `PRIVATE` moves to `internal`, the casing of an
/// existing id is kept, and `provisioningState` is set (`Creating`/`Updating` for an LRO).
/// Returns the stored resource's body and whether it was created.
pub fn store(ctx: &mut Ctx<'_>, ty: &str, mut doc: Value, lro_mode: bool) -> (Value, bool) {
    let id_in = doc["id"].as_str().unwrap_or_default().to_owned();
    let previous = ctx.state.resource(&id_in).cloned();
    let creating = previous.is_none();
    let id = previous.as_ref().map_or(id_in, |p| p.id.clone());
    doc["id"] = json!(id);
    strip_nulls(&mut doc);
    let internal = doc
        .as_object_mut()
        .and_then(|o| o.remove(PRIVATE))
        .unwrap_or(Value::Null);
    let state_name = match (lro_mode, creating) {
        (false, _) => "Succeeded",
        (true, true) => "Creating",
        (true, false) => "Updating",
    };
    if doc["properties"].is_object() {
        doc["properties"]["provisioningState"] = json!(state_name);
    }
    ctx.state.insert_resource(Resource {
        id,
        resource_type: ty.to_owned(),
        body: doc.clone(),
        internal,
        created: previous.as_ref().map_or(ctx.now, |p| p.created),
        updated: ctx.now,
    });
    (doc, creating)
}

/// Removes `null` members recursively: a `null` in a request means "not set", and Azure's GET
/// omits unset properties rather than echoing `null`.
pub fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|_, x| !x.is_null());
            o.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Answers a PUT whose document is stored: synchronous 200/201, or an LRO (201/200 +
/// `Azure-AsyncOperation`) finishing after the configured duration, or `duration_ms` when given.
pub fn put_reply(
    ctx: &mut Ctx<'_>,
    ty: &str,
    body: Value,
    creating: bool,
    lro_mode: bool,
    duration_ms: Option<i64>,
) -> Reply {
    let status = if creating {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    if !lro_mode {
        return Reply::with_status(status, body);
    }
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    let op = lro::start(
        ctx,
        Begin {
            resource_id: id.clone(),
            resource_type: ty.to_owned(),
            location: body["location"].as_str().unwrap_or("global").to_owned(),
            completion: Completion::Provision { id },
            running_status: "InProgress",
            status_path: None,
        },
    );
    let op = match duration_ms {
        Some(ms) => {
            let completes = op.started + time::Duration::milliseconds(ms);
            if let Some(stored) = ctx.state.operations.get_mut(&op.id) {
                stored.completes = completes;
                stored.clone()
            } else {
                op
            }
        }
        None => op,
    };
    lro::put_accepted(ctx, &op, status, body)
}

/// Lists resources of `ty` below the collection's parent, each passed through `present`.
pub fn list(
    ctx: &mut Ctx<'_>,
    req: &ArmRequest,
    ty: &str,
    present: impl Fn(&Resource) -> Value,
) -> Reply {
    let nested = req.path.types.len() > 1;
    let parent = if nested {
        let last = req.path.types.last().map_or(0, String::len);
        req.path.raw[..req.path.raw.len() - last - 1].to_owned()
    } else {
        req.path.scope.clone()
    };
    let depth = parent.matches('/').count();
    let scope = parent.to_ascii_lowercase();
    let items: Vec<Value> = ctx
        .state
        .resources
        .iter()
        .filter(|(k, r)| r.resource_type.eq_ignore_ascii_case(ty) && is_under(k, &scope))
        .filter(|(_, r)| !nested || r.id.matches('/').count() == depth + 2)
        .map(|(_, r)| present(r))
        .collect();
    generic::page(ctx, req, items)
}

/// 404 `ResourceNotFound` for the request path.
pub fn not_found(req: &ArmRequest) -> ArmError {
    generic::not_found(&req.path)
}

/// Starts a DELETE LRO (202 + Location) that removes the resource when it completes.
pub fn delete_lro(ctx: &mut Ctx<'_>, ty: &str, id: &str) -> Reply {
    let location = ctx
        .state
        .resource(id)
        .and_then(|r| r.location().map(str::to_owned))
        .unwrap_or_else(|| "global".into());
    if let Some(r) = ctx.state.resource_mut(id) {
        r.set_provisioning_state("Deleting");
    }
    let op = lro::start(
        ctx,
        Begin {
            resource_id: id.to_owned(),
            resource_type: ty.to_owned(),
            location,
            completion: Completion::Delete { id: id.to_owned() },
            running_status: "InProgress",
            status_path: None,
        },
    );
    lro::accepted(ctx, &op)
}

/// The body of a PATCH applied to the stored document (RFC 7396 merge; `tags` replaced).
pub fn patched(stored: &Value, patch: &Value) -> Value {
    let mut out = stored.clone();
    if let Some(p) = patch.as_object() {
        for (k, v) in p {
            match k.as_str() {
                "id" | "name" | "type" | "location" => {}
                "tags" => out["tags"] = v.clone(),
                _ => generic::merge(&mut out[k.as_str()], v),
            }
        }
    }
    out
}

/// The linked check for a write to an existing resource through another API (tags at its
/// scope): ARM re-authorizes what the stored resource links to, so tagging a VM built from
/// another tenant's image needs the auxiliary token too (azure-cli #15536, #13732).
///
/// # Errors
/// 403 `LinkedAuthorizationFailed`.
pub fn check_linked_at(ctx: &Ctx<'_>, scope_id: &str) -> Result<(), ArmError> {
    let Some(r) = ctx.state.resource(scope_id) else {
        return Ok(());
    };
    let refs = linked::linked_refs(&r.resource_type, &r.body);
    if refs.is_empty() {
        return Ok(());
    }
    let action = format!("{}/write", r.resource_type);
    linked::check(
        &ctx.caller,
        &action,
        scope_id,
        &refs,
        &ctx.aux,
        &StateAuthority(ctx.state),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_stripped_at_every_depth() {
        let mut v = json!({"a": null, "b": {"c": null, "d": 1}, "e": [{"f": null}]});
        strip_nulls(&mut v);
        assert_eq!(v, json!({"b": {"d": 1}, "e": [{}]}));
    }
}
