//! What a resource handler sees of a request: the authenticated caller, the auxiliary
//! (cross-tenant) principals, the parsed path/query/body, the locked state and the clock; and
//! what it gives back (`Reply`).
//!
//! Handlers are plain synchronous functions over `&mut Ctx` because the whole world sits behind
//! one lock: a handler's checks and writes are atomic without any extra care.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;

use crate::arm::ids::ArmPath;
use crate::arm::registry::Registry;
use crate::state::State;

/// An authenticated principal, from a verified access token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Principal {
    /// Token tenant (`tid`).
    pub tenant: String,
    /// Object id in that tenant (`oid`).
    pub object_id: String,
    /// Application id (`appid`).
    pub app_id: String,
}

impl Principal {
    /// How ARM names the client in AuthorizationFailed messages (the appId for apps).
    pub fn client_name(&self) -> &str {
        &self.app_id
    }
}

/// One incoming ARM request, parsed.
#[derive(Debug, Clone)]
pub struct ArmRequest {
    /// HTTP method.
    pub method: Method,
    /// Parsed path (`action` set for POST actions).
    pub path: ArmPath,
    /// Query parameters as sent.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// JSON body, `Value::Null` when empty.
    pub body: Value,
}

impl ArmRequest {
    /// A query parameter by name, case-insensitively (`$expand`, `$skipToken`...).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A header value as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The context a handler runs in.
pub struct Ctx<'a> {
    /// The world, locked for the duration of the handler.
    pub state: &'a mut State,
    /// Provider table (for deployments that run other handlers, and LRO hooks).
    pub registry: &'a Registry,
    /// The emulator's current time (wall clock + admin offset).
    pub now: OffsetDateTime,
    /// Base URL, e.g. `https://127.0.0.1:8443`, for Location/nextLink URLs.
    pub endpoint: &'a str,
    /// The principal of the `Authorization` token.
    pub caller: Principal,
    /// Valid principals from `x-ms-authorization-auxiliary` (at most 3, unexpired, verified).
    pub aux: Vec<Principal>,
    /// The request's `api-version`.
    pub api_version: String,
    /// Whether an operation started by this request must end `Failed` (fault injection).
    pub fail_next_operation: bool,
}

impl Ctx<'_> {
    /// The auxiliary principal for `tenant`, if the request carried a valid token for it.
    pub fn aux_for_tenant(&self, tenant: &str) -> Option<&Principal> {
        self.aux
            .iter()
            .find(|p| p.tenant.eq_ignore_ascii_case(tenant))
    }

    /// The principal that acts in `tenant`: the caller when it belongs there, else an auxiliary
    /// principal of that tenant.
    pub fn principal_in(&self, tenant: &str) -> Option<&Principal> {
        if self.caller.tenant.eq_ignore_ascii_case(tenant) {
            Some(&self.caller)
        } else {
            self.aux_for_tenant(tenant)
        }
    }

    /// The tenant owning a subscription id, if the subscription exists.
    pub fn tenant_of_subscription(&self, subscription: &str) -> Option<String> {
        self.state
            .subscription(subscription)
            .map(|s| s.tenant.clone())
    }
}

/// A successful (or LRO-accepted) answer from a handler.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Extra headers (Location, Azure-AsyncOperation, Retry-After, ETag...).
    pub headers: Vec<(String, String)>,
    /// JSON body; `None` for empty bodies (202/204).
    pub body: Option<Value>,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// Any status with a JSON body.
    pub fn with_status(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// A status without a body (204, 202).
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// Query parameters as a map with lower-cased keys (handy for handlers that read several).
pub fn query_map(query: &[(String, String)]) -> BTreeMap<String, String> {
    query
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}
