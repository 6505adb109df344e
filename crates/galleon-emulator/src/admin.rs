//! The admin API under `/_emulator/`: lets tests and demos look inside the emulator and bend
//! it — the request log (without token values), faults, settings, the stored resources,
//! out-of-band resource injection (drift, unowned resources), consent (service principals, and
//! its removal), subscription quotas and size restrictions, and the clock. No authentication: the server only listens on loopback.

use std::sync::Arc;

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::Shared;
use crate::seed::{Faults, SeedResource, Settings, resource_from_seed};

/// Routes, nested under `/_emulator`.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/health", get(health))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/settings", get(get_settings).put(put_settings))
        .route("/state", get(state))
        .route("/resources", post(post_resource).delete(delete_resource))
        .route(
            "/service-principals",
            post(post_service_principal).delete(delete_service_principal),
        )
        .route("/subscriptions/{id}/quotas", put(put_quotas))
        .route("/subscriptions/{id}/restrictions", put(put_restrictions))
        .route("/clock/advance", post(advance_clock))
        .route("/oidc/token", post(crate::entra::oidc_token))
        .route(
            "/oidc/.well-known/openid-configuration",
            get(crate::entra::oidc_configuration),
        )
        .route("/oidc/keys", get(crate::entra::oidc_keys))
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

async fn health(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({"status": "ok", "endpoint": shared.endpoint}))
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let log = shared
        .log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Json(json!(*log))
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared
        .log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let f = shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Json(json!(f.config()))
}

async fn put_faults(State(shared): State<Arc<Shared>>, Json(faults): Json<Faults>) -> Json<Value> {
    shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .set(faults.clone());
    let mut world = shared.world();
    world.settings.faults = faults.clone();
    shared.persist_now(&world);
    Json(json!(faults))
}

async fn get_settings(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!(shared.world().settings))
}

async fn put_settings(
    State(shared): State<Arc<Shared>>,
    Json(settings): Json<Settings>,
) -> Json<Value> {
    shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .set(settings.faults.clone());
    let mut world = shared.world();
    world.settings = settings.clone();
    shared.persist_now(&world);
    Json(json!(settings))
}

/// Resources (bodies as GET returns them), running operations and directory objects (without
/// secrets).
async fn state(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let world = shared.world();
    let resources: Vec<&Value> = world.resources.values().map(|r| &r.body).collect();
    let operations: Vec<Value> = world
        .operations
        .values()
        .map(|o| json!({"id": o.id, "status": o.status, "resourceId": o.resource_id}))
        .collect();
    Json(json!({
        "resources": resources,
        "operations": operations,
        "tenants": world.tenants,
        "servicePrincipals": world.service_principals,
        "subscriptions": world.subscriptions,
        "clockOffsetSecs": world.clock_offset_secs,
    }))
}

/// Inserts or replaces a resource (`SeedResource` shape: id, location, properties, tags,
/// extra). Role assignments are ordinary resources here too.
async fn post_resource(State(shared): State<Arc<Shared>>, Json(r): Json<SeedResource>) -> Response {
    let mut world = shared.world();
    let now = world.now();
    let mut resource = match resource_from_seed(&r, now) {
        Ok(res) => res,
        Err(e) => return bad(e.to_string()),
    };
    if let Some(prev) = world.resource(&r.id) {
        resource.created = prev.created;
        resource.internal = prev.internal.clone();
    }
    let body = resource.body.clone();
    world.insert_resource(resource);
    shared.persist_now(&world);
    (StatusCode::OK, Json(body)).into_response()
}

#[derive(Debug, Deserialize)]
struct IdQuery {
    id: String,
}

/// Removes a resource (and everything below it) out of band.
async fn delete_resource(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<IdQuery>,
) -> Json<Value> {
    let mut world = shared.world();
    let removed = world.remove_tree(&q.id);
    shared.persist_now(&world);
    Json(json!({"removed": removed}))
}

#[derive(Debug, Deserialize)]
struct NewServicePrincipal {
    app_id: String,
    tenant: String,
    #[serde(default)]
    object_id: Option<String>,
}

/// Consent: creates the app's service principal in a tenant.
async fn post_service_principal(
    State(shared): State<Arc<Shared>>,
    Json(sp): Json<NewServicePrincipal>,
) -> Response {
    let mut world = shared.world();
    let Some(tid) = world.tenant(&sp.tenant).map(|t| t.id.clone()) else {
        return bad(format!("unknown tenant '{}'", sp.tenant));
    };
    if world.app(&sp.app_id).is_none() {
        return bad(format!("unknown app '{}'", sp.app_id));
    }
    let created = world.ensure_service_principal(&sp.app_id, &tid, sp.object_id.as_deref());
    shared.persist_now(&world);
    (StatusCode::OK, Json(json!(created))).into_response()
}

#[derive(Debug, Deserialize)]
struct ServicePrincipalQuery {
    app_id: String,
    tenant: String,
}

/// Removes an app's service principal from a tenant (`az ad sp delete`), so the tenant is one
/// the app was never consented in. Its role assignments stay, orphaned, as in Azure.
async fn delete_service_principal(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<ServicePrincipalQuery>,
) -> Response {
    let mut world = shared.world();
    let Some(tid) = world.tenant(&q.tenant).map(|t| t.id.clone()) else {
        return bad(format!("unknown tenant '{}'", q.tenant));
    };
    let before = world.service_principals.len();
    world.service_principals.retain(|sp| {
        !(sp.app_id.eq_ignore_ascii_case(&q.app_id) && sp.tenant.eq_ignore_ascii_case(&tid))
    });
    let removed = before - world.service_principals.len();
    shared.persist_now(&world);
    Json(json!({"removed": removed})).into_response()
}

/// Replaces the sizes a subscription may not deploy, by region (`{"northeurope":
/// ["Standard_D2s_v5"]}`): Compute answers `NotAvailableForSubscription` for them.
async fn put_restrictions(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(by_region): Json<BTreeMap<String, Vec<String>>>,
) -> Response {
    let mut world = shared.world();
    if world.subscription(&id).is_none() {
        return bad(format!("unknown subscription '{id}'"));
    }
    crate::providers::compute::restrictions::set(&mut world, &id, &by_region);
    shared.persist_now(&world);
    Json(json!(by_region)).into_response()
}

/// Replaces a subscription's quotas (`{"cores": {"westeurope": 4}}`, as in the seed), so a test
/// can meet Compute's quota refusal without a seed of its own.
async fn put_quotas(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(quotas): Json<BTreeMap<String, BTreeMap<String, u64>>>,
) -> Response {
    let mut world = shared.world();
    let Some(sub) = world
        .subscriptions
        .iter_mut()
        .find(|s| s.id.eq_ignore_ascii_case(&id))
    else {
        return bad(format!("unknown subscription '{id}'"));
    };
    // Regions are matched normalised when a VM is checked, so they are stored as given.
    sub.quotas = quotas;
    let body = json!(sub.quotas);
    shared.persist_now(&world);
    Json(body).into_response()
}

#[derive(Debug, Deserialize)]
struct Advance {
    seconds: i64,
}

/// Moves the emulator clock forward (tokens expire, operations complete).
async fn advance_clock(State(shared): State<Arc<Shared>>, Json(a): Json<Advance>) -> Response {
    if a.seconds < 0 {
        return bad("the clock only moves forward");
    }
    let mut world = shared.world();
    world.clock_offset_secs += a.seconds;
    let now = world.now();
    shared.persist_now(&world);
    Json(json!({"clockOffsetSecs": world.clock_offset_secs, "now": now.unix_timestamp()}))
        .into_response()
}
