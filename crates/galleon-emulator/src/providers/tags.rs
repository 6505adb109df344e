//! `Microsoft.Resources/tags/default` at any scope (Tags_*AtScope in
//! specification/resources/resource-manager/Microsoft.Resources/resources/stable/2025-04-01/resources.json):
//! PUT replaces a resource's tags, PATCH merges/replaces/deletes them, GET/DELETE as usual.
//! Authorized by `Microsoft.Resources/tags/write` *or* a write on the tagged resource
//! (arm-protocol.md §8), and a tag write on a VM built from another tenant's image re-runs the
//! linked check, as ARM does.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::rbac;
use crate::arm::registry::{Rbac, Registry, ResourceType};
use crate::providers::generic;
use crate::providers::resources::API_VERSIONS;
use crate::state::ensure_object;

/// Registers the tags type.
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        get: Some(get_tags),
        put: Some(put_tags),
        patch: Some(patch_tags),
        delete: Some(delete_tags),
        rbac: Rbac::Handler,
        // RBAC first (in the handler), then a missing group is reported by the handler.
        needs_resource_group: false,
        ..ResourceType::new("Microsoft.Resources", "tags", API_VERSIONS)
    });
}

/// The tags API authorizes either `Microsoft.Resources/tags/write` or a write on the resource.
fn authorize_tags(ctx: &Ctx<'_>, req: &ArmRequest, write: bool) -> Result<String, ArmError> {
    let scope = req.path.scope.clone();
    let target_type = crate::arm::ids::type_of(&scope).unwrap_or_default();
    let (tags_action, own_action) = if write {
        (
            "Microsoft.Resources/tags/write",
            format!("{target_type}/write"),
        )
    } else {
        (
            "Microsoft.Resources/tags/read",
            format!("{target_type}/read"),
        )
    };
    let oid = &ctx.caller.object_id;
    if rbac::is_allowed(ctx.state, oid, tags_action, &scope, false)
        || rbac::is_allowed(ctx.state, oid, &own_action, &scope, false)
    {
        if write {
            // Tagging re-runs ARM's linked check of the tagged resource (e.g. a VM built from
            // another tenant's image needs the auxiliary token again).
            crate::providers::glue::check_linked_at(ctx, &scope)?;
        }
        return Ok(scope);
    }
    Err(ArmError::authorization_failed(
        ctx.caller.client_name(),
        oid,
        tags_action,
        &req.path.raw,
    ))
}

fn tags_target<'s>(ctx: &'s mut Ctx<'_>, scope: &str) -> Result<&'s mut Value, ArmError> {
    let r = ctx.state.resource_mut(scope).ok_or_else(|| {
        let p = crate::arm::ids::ArmPath::parse(scope);
        match p {
            Some(p) if p.types.len() == 2 && p.scope.is_empty() => {
                ArmError::resource_group_not_found(p.name().unwrap_or_default())
            }
            Some(p) => generic::not_found(&p),
            None => {
                ArmError::bad_request("InvalidScope", format!("The scope '{scope}' is invalid."))
            }
        }
    })?;
    Ok(&mut r.body)
}

fn tags_reply(req: &ArmRequest, body: &Value) -> Reply {
    let tags = body.get("tags").cloned().unwrap_or_else(|| json!({}));
    Reply::ok(json!({
        "id": req.path.raw,
        "name": "default",
        "type": "Microsoft.Resources/tags",
        "properties": {"tags": tags},
    }))
}

fn get_tags(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let scope = authorize_tags(ctx, req, false)?;
    let body = tags_target(ctx, &scope)?.clone();
    Ok(tags_reply(req, &body))
}

fn put_tags(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let scope = authorize_tags(ctx, req, true)?;
    let tags = req
        .body
        .pointer("/properties/tags")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let body = tags_target(ctx, &scope)?;
    ensure_object(body).insert("tags".into(), tags);
    let body = body.clone();
    Ok(tags_reply(req, &body))
}

/// PATCH tags: `operation` Merge | Replace | Delete.
fn patch_tags(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let scope = authorize_tags(ctx, req, true)?;
    let op = req
        .body
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("Merge")
        .to_owned();
    let given = req
        .body
        .pointer("/properties/tags")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let body = tags_target(ctx, &scope)?;
    let tags = ensure_object(
        ensure_object(body)
            .entry("tags")
            .or_insert_with(|| json!({})),
    );
    match op.to_ascii_lowercase().as_str() {
        "replace" => {
            tags.clear();
            tags.extend(given.as_object().cloned().unwrap_or_default());
        }
        "delete" => {
            for k in given
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                tags.remove(&k);
            }
        }
        "merge" => tags.extend(given.as_object().cloned().unwrap_or_default()),
        other => {
            return Err(ArmError::bad_request(
                "InvalidRequestContent",
                format!(
                    "The tag operation '{other}' is not valid. Valid values are Merge, Replace and Delete."
                ),
            ));
        }
    }
    let body = body.clone();
    Ok(tags_reply(req, &body))
}

fn delete_tags(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let scope = authorize_tags(ctx, req, true)?;
    let body = tags_target(ctx, &scope)?;
    ensure_object(body).insert("tags".into(), json!({}));
    Ok(Reply::empty(StatusCode::OK))
}
