//! The ARM front door: every `management.azure.com`-style request goes through `handle`, which
//! runs ARM's generic checks in the order of arm-errors.md §8 before a provider sees it:
//!
//! 1. authentication of the `Authorization` token (401s),
//! 2. api-version present,
//! 3. subscription known (404) and owned by the token's tenant (401 + challenge),
//! 4. throttling per subscription+principal+op type (429), rate-limit headers,
//! 5. auxiliary tokens (401 when any is bad),
//! 6. LRO status polls, then provider/type/api-version lookup (400s),
//! 7. RBAC on the target scope (403 AuthorizationFailed),
//! 8. resource group exists (404 ResourceGroupNotFound),
//! 9. the provider's handler (linked checks, RP validation, the write itself).

pub mod auth;
pub mod context;
pub mod errors;
pub mod ids;
pub mod lro;
pub mod rbac;
pub mod registry;
pub mod throttle;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::{FailOperation, Shared};
use context::{ArmRequest, Ctx, Principal, Reply};
use errors::{ArmError, FailureCause};
use ids::{ArmPath, PathKind};
use registry::Rbac;

/// The principal a request was made by, attached to the response for the request log.
#[derive(Debug, Clone)]
pub struct LoggedPrincipal(pub Principal);

/// Largest request body accepted (deployment templates can be big).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Axum handler for every ARM path.
pub async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let fail_op = parts.extensions.get::<FailOperation>().is_some_and(|f| f.0);
    let mut extra = Vec::new();
    let mut principal = None;
    // A panicking handler answers 500 instead of resetting the connection; the state lock
    // recovers from poisoning (`Shared::world`).
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(&shared, &parts, &bytes, fail_op, &mut extra, &mut principal)
    }))
    .unwrap_or_else(|_| {
        Err(ArmError::internal(
            "The emulator failed while handling the request.",
        ))
    });
    let mut response = render(&parts, result, extra);
    if let Some(p) = principal {
        response.extensions_mut().insert(LoggedPrincipal(p));
    }
    response
}

fn dispatch(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    fail_op: bool,
    extra: &mut Vec<(String, String)>,
    principal_out: &mut Option<Principal>,
) -> Result<Reply, ArmError> {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).unwrap_or_default();
    let path = ArmPath::parse(parts.uri.path()).ok_or_else(|| {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The requested path was not found.",
        )
    })?;
    let mut guard = shared
        .state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let state = &mut *guard;
    let now = state.now();
    let advanced = lro::advance(state, &shared.registry, now, &shared.endpoint);
    let result = (|| {
        let sub = path.subscription.as_deref().map(|s| {
            state
                .subscription(s)
                .cloned()
                .ok_or_else(|| ArmError::subscription_not_found(s))
        });
        let sub_tenant = sub
            .as_ref()
            .and_then(|s| s.as_ref().ok())
            .map(|s| s.tenant.clone());
        let caller =
            auth::authenticate(&parts.headers, &shared.signer, now, sub_tenant.as_deref())?;
        *principal_out = Some(caller.clone());
        let api_version = query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
            .map(|(_, v)| v.clone())
            .ok_or_else(ArmError::missing_api_version)?;
        let sub = sub.transpose()?;
        if let Some(s) = &sub {
            auth::check_tenant(&caller, &s.tenant)?;
        }
        let throttle_scope = sub
            .as_ref()
            .map_or_else(|| format!("tenant-{}", caller.tenant), |s| s.id.clone());
        let op = throttle::OpType::of(&parts.method);
        let mut throttler = shared
            .throttler
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let charged = throttler.charge(
            &state.settings.throttling,
            &throttle_scope,
            &caller.object_id,
            op,
            now,
        );
        drop(throttler);
        match charged {
            // Tenant-level calls (`/subscriptions`, `/tenants`, Resource Graph) report the
            // tenant bucket (`x-ms-ratelimit-remaining-tenant-reads`), which has no global twin.
            Ok(h) if sub.is_none() => extra.extend(
                h.into_iter()
                    .filter(|(k, _)| !k.contains("-global-"))
                    .map(|(k, v)| (k.replace("-subscription-", "-tenant-"), v)),
            ),
            Ok(h) => extra.extend(h),
            Err(e) => return Err(e),
        }
        let aux = auth::parse_auxiliary(&parts.headers, &shared.signer, now)?;
        let body_json: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body).map_err(|e| ArmError::invalid_content(&e.to_string()))?
        };
        let mut ctx = Ctx {
            state: &mut *state,
            registry: &shared.registry,
            now,
            endpoint: &shared.endpoint,
            caller,
            aux,
            api_version,
            fail_next_operation: fail_op,
        };
        if let Some(reply) = poll_operation(&mut ctx, &path)? {
            return Ok(reply);
        }
        // A failed write leaves no resource behind, as in ARM (a refused PUT creates nothing):
        // keep a copy of the resources and operations and put it back on error. Provider
        // `extensions` are kept: they hold counters (e.g. Resource Graph quota) that failed
        // requests consume too.
        let before = (parts.method != Method::GET)
            .then(|| (ctx.state.resources.clone(), ctx.state.operations.clone()));
        let result = route(&mut ctx, parts, path.clone(), query.clone(), body_json);
        if let (Err(_), Some((resources, operations))) = (&result, before) {
            ctx.state.resources = resources;
            ctx.state.operations = operations;
        }
        result
    })();
    if parts.method != Method::GET || advanced {
        shared.persist(state);
    }
    result
}

/// Answers `.../operations/{id}`, `.../operationStatuses/{id}` and `.../operationResults/{id}`.
fn poll_operation(ctx: &mut Ctx<'_>, path: &ArmPath) -> Result<Option<Reply>, ArmError> {
    let (Some(kind), Some(id)) = (path.types.last(), path.names.last()) else {
        return Ok(None);
    };
    if path.kind() != PathKind::Instance {
        return Ok(None);
    }
    let results = match kind.to_ascii_lowercase().as_str() {
        "operations" | "operationstatuses" => false,
        "operationresults" => true,
        _ => return Ok(None),
    };
    let Some(op) = ctx.state.operations.get(id).cloned() else {
        return Ok(None);
    };
    // RG deletes expose their status only at the `operationresults` path.
    let results = results || op.status_path.ends_with(&format!("/operationresults/{id}"));
    lro::poll(ctx, &op, results).map(Some)
}

fn route(
    ctx: &mut Ctx<'_>,
    parts: &Parts,
    path: ArmPath,
    query: Vec<(String, String)>,
    body: Value,
) -> Result<Reply, ArmError> {
    let namespace = path.namespace.clone().unwrap_or_default();
    if !ctx.registry.knows_namespace(&namespace) {
        return Err(ArmError::invalid_namespace(&namespace));
    }
    let is_post = parts.method == Method::POST;
    let path = if is_post { path.into_action() } else { path };
    if path.types.is_empty() && path.subscription.is_some() && path.scope.matches('/').count() == 2
    {
        // `GET .../providers/{ns}` and `POST .../providers/{ns}/register`: every provider the
        // emulator implements is registered in every subscription.
        let registering = matches!(path.action.as_deref(), Some("register"));
        if parts.method == Method::GET || registering {
            return Ok(Reply::ok(crate::providers::resources::provider_body(
                ctx,
                &path.scope,
                &namespace,
            )));
        }
    }
    let type_path = path.type_path();
    let rt = *ctx.registry.find(&namespace, &type_path).ok_or_else(|| {
        ArmError::invalid_resource_type(&namespace, &path.types.join("/"), &ctx.api_version)
    })?;
    if !rt
        .api_versions
        .iter()
        .any(|v| v.eq_ignore_ascii_case(&ctx.api_version))
    {
        return Err(if rt.namespace == "Microsoft.Resources" {
            ArmError::invalid_api_version(&ctx.api_version, rt.api_versions)
        } else {
            ArmError::no_registered_provider(
                "global",
                &ctx.api_version,
                &rt.full_type(),
                rt.api_versions,
            )
        });
    }
    let collection = path.kind() == PathKind::Collection;
    let handler = match &path.action {
        Some(a) => rt
            .actions
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(a))
            .map(|(_, h)| *h),
        None => rt.handler(&parts.method, collection),
    }
    .ok_or_else(|| ArmError::method_not_allowed(parts.method.as_str()))?;
    if rt.rbac == Rbac::Standard {
        let verb = match (&path.action, &parts.method) {
            (Some(a), _) => format!("{a}/action"),
            (None, &Method::GET | &Method::HEAD) => "read".into(),
            (None, &Method::DELETE) => "delete".into(),
            (None, _) => "write".into(),
        };
        let action = format!("{}/{verb}", rt.full_type());
        let oid = ctx.caller.object_id.clone();
        let filtered_list = rt.filtered_list
            && collection
            && parts.method == Method::GET
            && path.subscription.as_deref().is_some_and(|s| {
                rbac::has_any_assignment_under(ctx.state, &oid, &format!("/subscriptions/{s}"))
            });
        if !filtered_list && !rbac::is_allowed(ctx.state, &oid, &action, &path.raw, false) {
            return Err(ArmError::authorization_failed(
                ctx.caller.client_name(),
                &oid,
                &action,
                &path.raw,
            ));
        }
    }
    if rt.needs_resource_group
        && let Some(rg_id) = path.resource_group_id()
        && ctx.state.resource(&rg_id).is_none()
    {
        return Err(ArmError::resource_group_not_found(
            path.resource_group.as_deref().unwrap_or_default(),
        ));
    }
    let req = ArmRequest {
        method: parts.method.clone(),
        path,
        query,
        headers: parts.headers.clone(),
        body,
    };
    let reply = handler(ctx, &req)?;
    if req.method == Method::HEAD {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    }
    Ok(reply)
}

/// Builds the HTTP response with ARM's common headers.
fn render(
    parts: &Parts,
    result: Result<Reply, ArmError>,
    extra: Vec<(String, String)>,
) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let correlation = parts
        .headers
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| request_id.clone(), str::to_owned);
    let (status, mut headers, body, cause) = match result {
        Ok(r) => (r.status, r.headers, r.body, None),
        Err(e) => {
            let body = Some(e.body());
            (e.status, e.headers, body, Some(e.cause))
        }
    };
    headers.extend(extra);
    let stamp = OffsetDateTime::now_utc();
    let routing = format!(
        "LOCAL:{:04}{:02}{:02}T{:02}{:02}{:02}Z:{request_id}",
        stamp.year(),
        u8::from(stamp.month()),
        stamp.day(),
        stamp.hour(),
        stamp.minute(),
        stamp.second()
    );
    headers.push(("x-ms-request-id".into(), request_id));
    headers.push(("x-ms-correlation-request-id".into(), correlation));
    headers.push(("x-ms-routing-request-id".into(), routing));
    headers.push(("Cache-Control".into(), "no-cache".into()));
    headers.push(("Pragma".into(), "no-cache".into()));
    headers.push(("Expires".into(), "-1".into()));
    headers.push((
        "Strict-Transport-Security".into(),
        "max-age=31536000; includeSubDomains".into(),
    ));
    if let Some(cause) = cause {
        let v = if cause == FailureCause::Gateway {
            "gateway"
        } else {
            "service"
        };
        headers.push(("x-ms-failure-cause".into(), v.into()));
    }
    json_response(status, headers, body)
}

/// A response with JSON body (or none) and headers.
pub fn json_response(
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Option<Value>,
) -> Response {
    let mut response = match body {
        Some(b) => {
            let mut r = Response::new(Body::from(serde_json::to_vec(&b).unwrap_or_default()));
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            r
        }
        None => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response.into_response()
}
