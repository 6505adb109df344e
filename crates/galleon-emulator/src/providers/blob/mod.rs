//! A minimal Azure Blob Storage data plane, served path-style at
//! `{endpoint}/blob/{account}/{container}[/{blob}]`: containers, block blobs and blob leases.
//! It exists for galleon's apply lock, which (like Terraform's azurerm backend) is a lease on a
//! blob: the atomic test-and-set ARM itself lacks. Semantics and error codes follow the Storage
//! REST reference ("Lease Blob", "Put Blob", "Blob service error codes" on learn.microsoft.com,
//! x-ms-version 2023-11-03); errors are Storage's XML with `x-ms-error-code`.
//!
//! This module is the storage engine only; authentication (Entra token for
//! `https://storage.azure.com`) and data-action RBAC are checked by the caller.

use std::collections::BTreeMap;

use base64::Engine;

mod lease;
use serde::{Deserialize, Serialize};

/// Leases and blobs of every account, kept in `State::extensions["blob"]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BlobStore {
    /// Containers keyed by `account/container` (lower-case; names are lower-case in Storage).
    pub containers: BTreeMap<String, Container>,
}

/// A container.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Container {
    /// Blobs by name (case-sensitive, as in Storage).
    pub blobs: BTreeMap<String, Blob>,
    /// Creation time, ms.
    pub created_ms: i64,
}

/// A block blob.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Blob {
    /// Content, base64.
    pub content_b64: String,
    /// Content type.
    pub content_type: String,
    /// ETag (quoted).
    pub etag: String,
    /// Last write, ms.
    pub modified_ms: i64,
    /// Current or last lease.
    pub lease: Option<LeaseRecord>,
}

/// A lease on a blob.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LeaseRecord {
    /// Lease id.
    pub id: String,
    /// Seconds, -1 = infinite.
    pub duration: i64,
    /// When the lease expires (ms), `None` = infinite.
    pub expires_ms: Option<i64>,
    /// When a break completes (ms), set by `break`.
    pub broken_at_ms: Option<i64>,
    /// Released explicitly.
    pub released: bool,
}

/// Lease state as Storage reports it in `x-ms-lease-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// No lease.
    Available,
    /// Held.
    Leased,
    /// Duration ran out (not renewed).
    Expired,
    /// Break period running.
    Breaking,
    /// Broken.
    Broken,
}

impl LeaseState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Leased => "leased",
            Self::Expired => "expired",
            Self::Breaking => "breaking",
            Self::Broken => "broken",
        }
    }
}

pub(crate) fn state_of(lease: Option<&LeaseRecord>, now: i64) -> LeaseState {
    let Some(l) = lease else {
        return LeaseState::Available;
    };
    if l.released {
        return LeaseState::Available;
    }
    if let Some(b) = l.broken_at_ms {
        return if now < b {
            LeaseState::Breaking
        } else {
            LeaseState::Broken
        };
    }
    match l.expires_ms {
        Some(e) if now >= e => LeaseState::Expired,
        _ => LeaseState::Leased,
    }
}

/// A data-plane request, already split by the caller.
#[derive(Debug, Clone, Default)]
pub struct BlobRequest {
    /// `GET`, `PUT`, `DELETE`, `HEAD`.
    pub method: String,
    /// Account name.
    pub account: String,
    /// Container name.
    pub container: String,
    /// Blob name, if the path has one.
    pub blob: Option<String>,
    /// Query pairs (`restype`, `comp`).
    pub query: Vec<(String, String)>,
    /// Headers with lower-cased names.
    pub headers: BTreeMap<String, String>,
    /// Body.
    pub body: Vec<u8>,
}

impl BlobRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A data-plane reply.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobReply {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl BlobReply {
    pub(crate) fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub(crate) fn h(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_owned(), v.into()));
        self
    }
    /// The `x-ms-error-code` of an error reply.
    pub fn error_code(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == "x-ms-error-code")
            .map(|(_, v)| v.as_str())
    }
    /// A header by name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A Storage error reply: XML body plus `x-ms-error-code`.
pub fn error(status: u16, code: &str, message: &str, now_ms: i64) -> BlobReply {
    let request_id = uuid::Uuid::new_v4();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:{request_id}\nTime:{}</Message></Error>",
        crate::providers::compute::gallery::rfc3339(now_ms).replace("+00:00", "Z")
    );
    let mut r = BlobReply::new(status)
        .h("x-ms-error-code", code)
        .h("x-ms-request-id", request_id.to_string())
        .h("Content-Type", "application/xml");
    r.body = body.into_bytes();
    r
}

fn http_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&fmt).unwrap_or_default()
}

fn new_etag() -> String {
    format!(
        "\"0x{}\"",
        uuid::Uuid::new_v4().simple().to_string()[..15].to_uppercase()
    )
}

/// Handles one request against the store at emulator time `now_ms`.
pub fn handle(store: &mut BlobStore, req: &BlobRequest, now_ms: i64) -> BlobReply {
    if req.header("x-ms-version").is_none() {
        // [R] Storage refuses OAuth without a service version that supports it.
        return error(
            400,
            "InvalidHeaderValue",
            "Authentication scheme Bearer is not supported in this version.",
            now_ms,
        );
    }
    let key = format!(
        "{}/{}",
        req.account.to_ascii_lowercase(),
        req.container.to_ascii_lowercase()
    );
    let reply = match &req.blob {
        None => container_op(store, &key, req, now_ms),
        Some(name) => blob_op(store, &key, name, req, now_ms),
    };
    let version = req.header("x-ms-version").unwrap_or_default().to_owned();
    let mut reply = reply
        .h("x-ms-version", version)
        .h("Date", http_date(now_ms));
    if !reply.headers.iter().any(|(k, _)| k == "x-ms-request-id") {
        reply = reply.h("x-ms-request-id", uuid::Uuid::new_v4().to_string());
    }
    reply
}

fn container_op(store: &mut BlobStore, key: &str, req: &BlobRequest, now: i64) -> BlobReply {
    if req.query("restype") != Some("container") {
        return error(
            400,
            "InvalidQueryParameterValue",
            "Value for one of the query parameters specified in the request URI is invalid.",
            now,
        );
    }
    match req.method.as_str() {
        "PUT" => {
            if store.containers.contains_key(key) {
                return error(
                    409,
                    "ContainerAlreadyExists",
                    "The specified container already exists.",
                    now,
                );
            }
            store.containers.insert(
                key.to_owned(),
                Container {
                    blobs: BTreeMap::new(),
                    created_ms: now,
                },
            );
            BlobReply::new(201)
                .h("ETag", new_etag())
                .h("Last-Modified", http_date(now))
        }
        "GET" | "HEAD" => match store.containers.get(key) {
            Some(c) => BlobReply::new(200).h("Last-Modified", http_date(c.created_ms)),
            None => error(
                404,
                "ContainerNotFound",
                "The specified container does not exist.",
                now,
            ),
        },
        "DELETE" => match store.containers.remove(key) {
            Some(_) => BlobReply::new(202),
            None => error(
                404,
                "ContainerNotFound",
                "The specified container does not exist.",
                now,
            ),
        },
        _ => error(
            405,
            "UnsupportedHttpVerb",
            "The resource doesn't support specified Http Verb.",
            now,
        ),
    }
}

fn blob_op(store: &mut BlobStore, key: &str, name: &str, req: &BlobRequest, now: i64) -> BlobReply {
    let Some(container) = store.containers.get_mut(key) else {
        return error(
            404,
            "ContainerNotFound",
            "The specified container does not exist.",
            now,
        );
    };
    if req.query("comp") == Some("lease") && req.method == "PUT" {
        return lease::lease_op(container, name, req, now);
    }
    match req.method.as_str() {
        "PUT" => put_blob(container, name, req, now),
        "GET" | "HEAD" => match container.blobs.get(name) {
            None => error(
                404,
                "BlobNotFound",
                "The specified blob does not exist.",
                now,
            ),
            Some(b) => {
                let content = base64::engine::general_purpose::STANDARD
                    .decode(&b.content_b64)
                    .unwrap_or_default();
                let state = state_of(b.lease.as_ref(), now);
                let mut r = BlobReply::new(200)
                    .h("Content-Length", content.len().to_string())
                    .h("Content-Type", b.content_type.clone())
                    .h("ETag", b.etag.clone())
                    .h("Last-Modified", http_date(b.modified_ms))
                    .h("x-ms-blob-type", "BlockBlob")
                    .h("x-ms-lease-state", state.as_str())
                    .h(
                        "x-ms-lease-status",
                        if state == LeaseState::Leased || state == LeaseState::Breaking {
                            "locked"
                        } else {
                            "unlocked"
                        },
                    );
                if state == LeaseState::Leased {
                    let infinite = b.lease.as_ref().is_some_and(|l| l.duration < 0);
                    r = r.h(
                        "x-ms-lease-duration",
                        if infinite { "infinite" } else { "fixed" },
                    );
                }
                if req.method == "GET" {
                    r.body = content;
                }
                r
            }
        },
        "DELETE" => {
            let Some(b) = container.blobs.get(name) else {
                return error(
                    404,
                    "BlobNotFound",
                    "The specified blob does not exist.",
                    now,
                );
            };
            if let Some(e) = lease_guard(b, req, now) {
                return e;
            }
            container.blobs.remove(name);
            BlobReply::new(202).h("x-ms-delete-type-permanent", "true")
        }
        _ => error(
            405,
            "UnsupportedHttpVerb",
            "The resource doesn't support specified Http Verb.",
            now,
        ),
    }
}

/// Write protection of a leased blob ("Lease Blob": writes need the active lease's id).
fn lease_guard(b: &Blob, req: &BlobRequest, now: i64) -> Option<BlobReply> {
    let state = state_of(b.lease.as_ref(), now);
    let given = req.header("x-ms-lease-id");
    let active = matches!(state, LeaseState::Leased | LeaseState::Breaking);
    match (active, given) {
        (true, None) => Some(error(
            412,
            "LeaseIdMissing",
            "There is currently a lease on the blob and no lease ID was specified in the request.",
            now,
        )),
        (true, Some(id))
            if !b
                .lease
                .as_ref()
                .is_some_and(|l| l.id.eq_ignore_ascii_case(id)) =>
        {
            Some(error(
                412,
                "LeaseIdMismatchWithBlobOperation",
                "The lease ID specified did not match the lease ID for the blob.",
                now,
            ))
        }
        (false, Some(_)) => Some(error(
            412,
            "LeaseNotPresentWithBlobOperation",
            "There is currently no lease on the blob.",
            now,
        )),
        _ => None,
    }
}

fn put_blob(container: &mut Container, name: &str, req: &BlobRequest, now: i64) -> BlobReply {
    if req
        .header("x-ms-blob-type")
        .is_none_or(|t| !t.eq_ignore_ascii_case("BlockBlob"))
    {
        return error(
            400,
            "MissingRequiredHeader",
            "An HTTP header that's mandatory for this request is not specified.",
            now,
        )
        .h("x-ms-header-name", "x-ms-blob-type");
    }
    let existing = container.blobs.get(name);
    if let Some(b) = existing {
        if let Some(e) = lease_guard(b, req, now) {
            return e;
        }
        if req.header("if-none-match") == Some("*") {
            return error(
                409,
                "BlobAlreadyExists",
                "The specified blob already exists.",
                now,
            );
        }
    } else if req.header("x-ms-lease-id").is_some() {
        return error(
            412,
            "LeaseNotPresentWithBlobOperation",
            "There is currently no lease on the blob.",
            now,
        );
    }
    let etag = new_etag();
    let blob = Blob {
        content_b64: base64::engine::general_purpose::STANDARD.encode(&req.body),
        content_type: req
            .header("content-type")
            .unwrap_or("application/octet-stream")
            .to_owned(),
        etag: etag.clone(),
        modified_ms: now,
        lease: existing.and_then(|b| b.lease.clone()),
    };
    container.blobs.insert(name.to_owned(), blob);
    BlobReply::new(201)
        .h("ETag", etag)
        .h("Last-Modified", http_date(now))
        .h("x-ms-request-server-encrypted", "true")
}

#[cfg(test)]
mod tests;
