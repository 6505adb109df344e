//! The shapes of ARM calls: client options, a request in full, a response.
//!
//! Kept apart from [`crate::ArmClient`]'s logic so the request/response vocabulary other crates
//! use can be read on its own.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::error::AzureError;
use crate::http::RawResponse;
use crate::ids::TenantId;
use crate::limiter::LimiterConfig;
use crate::retry::RetryConfig;

/// Long-running operation polling limits.
#[derive(Debug, Clone)]
pub struct LroConfig {
    /// Wait between polls when the server sends no `Retry-After`.
    pub default_interval: Duration,
    /// Shortest wait between polls, whatever `Retry-After` says (`0` would spin).
    pub min_interval: Duration,
    /// Give up waiting for one operation after this long.
    pub max_wait: Duration,
}

impl Default for LroConfig {
    fn default() -> Self {
        // ARM's contract says 60 s without Retry-After; real RPs always send one, and 10 s is
        // the shortest Retry-After the contract allows (arm-protocol.md §2.1).
        Self {
            default_interval: Duration::from_secs(10),
            min_interval: Duration::from_secs(1),
            max_wait: Duration::from_secs(60 * 60),
        }
    }
}

/// Options of the client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Retry policy limits.
    pub retry: RetryConfig,
    /// Client-side rate limits per subscription.
    pub limiter: LimiterConfig,
    /// Timeout of one HTTP exchange.
    pub request_timeout: Duration,
    /// Long-running operation polling.
    pub lro: LroConfig,
    /// The Azure CLI program for [`crate::CredentialSource::AzureCli`].
    pub az_program: PathBuf,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            retry: RetryConfig::default(),
            limiter: LimiterConfig::default(),
            request_timeout: Duration::from_secs(120),
            lro: LroConfig::default(),
            az_program: PathBuf::from("az"),
        }
    }
}

/// A successful ARM response.
#[derive(Debug, Clone)]
pub struct ArmResponse {
    /// HTTP status of the final response.
    pub status: u16,
    /// The JSON body (`Null` when empty).
    pub body: Value,
    /// The resource's ETag (header, else the body's `etag`).
    pub etag: Option<String>,
    /// `x-ms-request-id` of the final response.
    pub request_id: Option<String>,
}

impl ArmResponse {
    pub(crate) fn from_raw(raw: &RawResponse) -> Result<Self, AzureError> {
        let body = if raw.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&raw.body).map_err(|e| AzureError::InvalidResponse {
                url: String::new(),
                detail: format!("body is not JSON: {e}"),
            })?
        };
        let etag = raw
            .header("etag")
            .map(str::to_string)
            .or_else(|| body.get("etag").and_then(Value::as_str).map(str::to_string));
        Ok(Self {
            status: raw.status.as_u16(),
            body,
            etag,
            request_id: raw.header("x-ms-request-id").map(str::to_string),
        })
    }
}

/// A request in full, for calls the shorthand methods do not cover.
#[derive(Clone)]
pub struct ArmRequest<'a> {
    /// HTTP method.
    pub method: Method,
    /// Tenant whose token authorizes the call (the tenant of the target subscription).
    pub tenant: &'a TenantId,
    /// Resource id or path, starting with `/`.
    pub path: &'a str,
    /// api-version; `None` takes the pinned one for the path's resource type.
    pub api_version: Option<&'a str>,
    /// Extra query parameters (`$expand`, `$filter`).
    pub query: Vec<(&'a str, &'a str)>,
    /// JSON body.
    pub body: Option<&'a Value>,
    /// Other tenants the write references (at most 3): their tokens go in the auxiliary header.
    pub aux_tenants: &'a [TenantId],
    /// `If-Match`.
    pub if_match: Option<&'a str>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a str>,
    /// Whether a POST may be resent after a server error (PUT, PATCH, DELETE, GET always may).
    pub idempotent: bool,
    /// Whether to wait for a long-running operation to finish.
    pub wait: bool,
}

impl<'a> ArmRequest<'a> {
    /// A request with defaults: pinned api-version, no aux tenants, waits for completion.
    pub fn new(method: Method, tenant: &'a TenantId, path: &'a str) -> Self {
        let idempotent = method != Method::POST;
        Self {
            method,
            tenant,
            path,
            api_version: None,
            query: Vec::new(),
            body: None,
            aux_tenants: &[],
            if_match: None,
            if_none_match: None,
            idempotent,
            wait: true,
        }
    }
}

// Written by hand: a body can hold an `adminPassword`, so Debug shows only its size.
impl std::fmt::Debug for ArmRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmRequest")
            .field("method", &self.method)
            .field("tenant", &self.tenant)
            .field("path", &self.path)
            .field("api_version", &self.api_version)
            .field("query", &self.query)
            .field(
                "body",
                &self
                    .body
                    .map(|b| format!("<{} bytes of JSON>", b.to_string().len())),
            )
            .field("aux_tenants", &self.aux_tenants)
            .field("if_match", &self.if_match)
            .field("if_none_match", &self.if_none_match)
            .field("idempotent", &self.idempotent)
            .field("wait", &self.wait)
            .finish()
    }
}
