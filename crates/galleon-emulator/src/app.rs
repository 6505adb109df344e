//! The running emulator's shared parts (state, keys, providers, throttling, faults, request log)
//! and the HTTP router that ties Entra, ARM, the data planes and the admin API together.
//!
//! ARM paths are case-insensitive and arbitrarily nested, so they are not routed by axum: every
//! path not claimed by Entra, metadata or admin falls through to `arm::handle` (or a registered
//! raw handler such as the blob data plane). One middleware applies injected faults and records
//! the request log for everything but the admin API.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use time::OffsetDateTime;

use crate::arm::registry::{RawCtx, RawRequest, Registry};
use crate::arm::throttle::Throttler;
use crate::arm::{self, LoggedPrincipal, context::Principal, errors::ArmError};
use crate::faults::{Fault, Injector};
use crate::seed::AuthorizationFault;
use crate::state::{self, State as World};
use crate::token::Signer;

/// Everything request handlers share.
pub struct Shared {
    /// The world.
    pub state: Mutex<World>,
    /// Provider routing table.
    pub registry: Registry,
    /// Token signing key.
    pub signer: Signer,
    /// Base URL (`https://127.0.0.1:PORT`).
    pub endpoint: String,
    /// Where state is persisted, if anywhere.
    pub state_dir: Option<PathBuf>,
    /// ARM token buckets.
    pub throttler: Mutex<Throttler>,
    /// Fault injection.
    pub faults: Mutex<Injector>,
    /// Request log (admin `GET requests`).
    pub log: Mutex<Vec<LogEntry>>,
    /// State changed since it was last written.
    pub dirty: AtomicBool,
    /// When the state was last written, and how long writing it took.
    pub last_persist: Mutex<(Instant, Duration)>,
}

/// How often the state is written at most. Writing the whole world after every request made
/// large worlds quadratic (thousands of resources rewritten per write); now a burst of writes
/// costs one file write per period, and `flush` (on a timer and at shutdown) writes the rest.
/// A killed emulator forgets at most this much acknowledged work, which a following apply
/// redoes (PUTs are idempotent).
pub const PERSIST_EVERY: Duration = Duration::from_millis(250);

/// A large world takes long to write (the bench's 11,000 resources: 37 MB of JSON, written
/// under the state lock), so the period grows to this many times the last write's cost:
/// persistence never takes more than a fifth of the emulator's time, whatever the world's size.
const PERSIST_COST_FACTOR: u32 = 4;

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Writes the state to the state dir (if any). Failures are logged, not fatal: the
    /// in-memory state stays authoritative.
    pub fn persist(&self, state: &World) {
        if self.state_dir.is_none() {
            return;
        }
        self.dirty.store(true, Ordering::SeqCst);
        if self.due() {
            self.write(state);
        }
    }

    /// Writes the state at once: for the admin API, whose writes are a test's own setup
    /// (planted resources, principals). A restart must never lose those, however soon it
    /// comes; they are few, so the period that protects ARM traffic is not needed.
    pub fn persist_now(&self, state: &World) {
        if self.state_dir.is_some() {
            self.write(state);
        }
    }

    /// Writes the state if it changed since the last write and the period is over (timer).
    pub fn flush(&self) {
        if self.state_dir.is_some() && self.dirty.load(Ordering::SeqCst) && self.due() {
            let world = self.world();
            self.write(&world);
        }
    }

    /// Writes the state now if it changed since the last write (shutdown).
    pub fn flush_now(&self) {
        if self.state_dir.is_some() && self.dirty.load(Ordering::SeqCst) {
            let world = self.world();
            self.write(&world);
        }
    }

    fn due(&self) -> bool {
        let (at, cost) = *self
            .last_persist
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        at.elapsed() >= PERSIST_EVERY.max(cost * PERSIST_COST_FACTOR)
    }

    fn write(&self, state: &World) {
        self.dirty.store(false, Ordering::SeqCst);
        let started = Instant::now();
        if let Some(dir) = &self.state_dir
            && let Err(e) = state::persist(state, dir)
        {
            self.dirty.store(true, Ordering::SeqCst);
            tracing::warn!(error = %e, "could not persist emulator state");
        }
        let done = Instant::now();
        *self
            .last_persist
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (done, done - started);
    }

    /// Locks the state (recovering from a poisoned lock: a panicking handler must not take the
    /// emulator down with it).
    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One logged request. Never contains token values.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// When it arrived.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Response status.
    pub status: u16,
    /// Names of the request headers present (lower-case).
    pub headers: Vec<String>,
    /// Whether `x-ms-authorization-auxiliary` was present.
    pub auxiliary: bool,
    /// Tenants of the auxiliary tokens (from their claims).
    pub auxiliary_tenants: Vec<String>,
    /// The authenticated principal, if authentication got that far.
    pub principal: Option<Principal>,
    /// Injected fault, if any (`throttle`, `error500`, `error503`, `drop`,
    /// `authorization_strip`, `authorization_not_bearer`).
    pub fault: Option<String>,
}

/// How many request log entries are kept.
const MAX_LOG_ENTRIES: usize = 20_000;

/// Marks a request whose LRO must fail (fault injection).
#[derive(Debug, Clone, Copy)]
pub struct FailOperation(pub bool);

/// Marks a response whose connection must be dropped instead of answered.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// Builds the router.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/metadata/endpoints",
            get(crate::metadata::metadata_endpoints),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(crate::entra::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(crate::entra::keys))
        .route("/{tenant}/discovery/keys", get(crate::entra::keys))
        .route("/{tenant}/oauth2/v2.0/token", post(crate::entra::token))
        .nest("/_emulator", crate::admin::router())
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            faults_and_log,
        ))
        .with_state(shared)
}

async fn fallback(state: State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if let Some(handler) = state.registry.raw_handler(&path) {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 256 * 1024 * 1024)
            .await
            .unwrap_or_default();
        let query =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).unwrap_or_default();
        let raw = RawRequest {
            method: parts.method,
            path,
            query,
            headers: parts.headers,
            body: body.to_vec(),
        };
        let mut world = state.world();
        let now = world.now();
        let reply = handler(
            &mut RawCtx {
                state: &mut world,
                signer: &state.signer,
                now,
                endpoint: &state.endpoint,
            },
            &raw,
        );
        state.persist(&world);
        drop(world);
        let mut response = Response::new(axum::body::Body::from(reply.body));
        *response.status_mut() = reply.status;
        for (k, v) in reply.headers {
            if let (Ok(n), Ok(v)) = (
                axum::http::HeaderName::from_bytes(k.as_bytes()),
                axum::http::HeaderValue::from_str(&v),
            ) {
                response.headers_mut().append(n, v);
            }
        }
        return response;
    }
    arm::handle(state, req).await
}

async fn faults_and_log(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_emulator/") {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let mut header_names: Vec<String> = req
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .collect();
    header_names.dedup();
    let aux = arm::auth::auxiliary_tenants(req.headers());
    let decision = shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .decide(&method, &path);
    if decision.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(decision.latency_ms)).await;
    }
    let tampered = decision
        .authorization
        .map(|damage| tamper_authorization(req.headers_mut(), damage));
    let (response, fault) = match decision.fault {
        Fault::None => {
            req.extensions_mut()
                .insert(FailOperation(decision.fail_operation));
            (next.run(req).await, tampered)
        }
        Fault::Throttle => (
            injected(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "The request is being throttled as the limit has been reached. Please try again later.",
                true,
            ),
            Some("throttle"),
        ),
        Fault::Error500 => (
            injected(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Encountered internal server error. Please try again.",
                false,
            ),
            Some("error500"),
        ),
        Fault::Error503 => (
            injected(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The server is currently unable to handle the request. Please try again later.",
                true,
            ),
            Some("error503"),
        ),
        Fault::Drop => {
            let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            r.extensions_mut().insert(DropConnection);
            (r, Some("drop"))
        }
    };
    let entry = LogEntry {
        time: OffsetDateTime::now_utc(),
        method,
        path,
        query,
        status: response.status().as_u16(),
        headers: header_names,
        auxiliary: aux.is_some(),
        auxiliary_tenants: aux.unwrap_or_default(),
        principal: response
            .extensions()
            .get::<LoggedPrincipal>()
            .map(|p| p.0.clone()),
        fault: fault.map(str::to_owned),
    };
    let mut log = shared
        .log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // A long sandbox session must not grow without bound: keep the most recent entries.
    if log.len() >= MAX_LOG_ENTRIES {
        log.drain(..MAX_LOG_ENTRIES / 10);
    }
    log.push(entry);
    drop(log);
    response
}

/// Does to the header what the configured proxy does; ARM's authentication then answers as it
/// would to whatever reached it. The token itself is never logged.
fn tamper_authorization(
    headers: &mut axum::http::HeaderMap,
    damage: AuthorizationFault,
) -> &'static str {
    match damage {
        AuthorizationFault::Strip => {
            headers.remove(axum::http::header::AUTHORIZATION);
            "authorization_strip"
        }
        AuthorizationFault::NotBearer => {
            if let Some(value) = headers.get(axum::http::header::AUTHORIZATION)
                && let Ok(text) = value.to_str()
            {
                let token = text.split_once(' ').map_or(text, |(_, t)| t);
                if let Ok(v) = axum::http::HeaderValue::from_str(&format!("Negotiate {token}")) {
                    headers.insert(axum::http::header::AUTHORIZATION, v);
                }
            }
            "authorization_not_bearer"
        }
    }
}

fn injected(status: StatusCode, code: &str, message: &str, retry: bool) -> Response {
    let mut e = ArmError::new(status, code, message);
    if retry {
        e = e.with_header("Retry-After", "1");
    }
    let body = Some(e.body());
    arm::json_response(status, e.headers, body)
}
