//! Waiting for ARM's long-running operations (arm-protocol.md §2).
//!
//! After a write, ARM says how to follow it: an `Azure-AsyncOperation` status document (poll
//! until `status` is terminal), a `Location` URL (202 until done, then the result), or, for a PUT
//! answered 200/201 without either, the resource's own `provisioningState`. Waits honour
//! `Retry-After`. PUT and PATCH end with a GET of the original URI (autorest's `original-uri`);
//! POST takes its result from `Location`. Polls carry only the primary token: the auxiliary
//! header belongs to the initial write (arm-errors.md §3, azure-cli PR#16797). Polling URLs
//! on another host are refused before any token is attached.
//!
//! Polls are reads, charged to the subscription's read bucket like any GET. An apply can have
//! hundreds of operations running in one subscription, each asking to be polled every second
//! or so; the limiter's [`RateLimiter::poll_wait`](crate::RateLimiter::poll_wait) lengthens the
//! wait when they would together outrun the bucket, so that polls neither provoke 429s nor
//! queue in front of the writes and reads of other steps.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use crate::arm::ArmClient;
use crate::error::{ArmErrorBody, AzureError, redact_url};
use crate::http::RawResponse;
use crate::ids::TenantId;
use crate::request::ArmResponse;

/// Terminal states of an operation or a resource's `provisioningState`.
pub fn is_terminal(status: &str) -> bool {
    ["succeeded", "failed", "canceled", "cancelled"].contains(&status.to_ascii_lowercase().as_str())
}

fn succeeded(status: &str) -> bool {
    status.eq_ignore_ascii_case("succeeded")
}

/// How an operation is followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Nothing to wait for.
    Done,
    /// Poll the `Azure-AsyncOperation` status document.
    AsyncOperation(Url),
    /// Poll `Location` until it stops answering 202.
    Location(Url),
    /// GET the resource until its `provisioningState` is terminal.
    ProvisioningState,
}

/// Chooses how to follow an initial response (async-operations.md: "If Azure-AsyncOperation
/// isn't one of the header values, then look for Location").
pub fn poll_kind(
    method: &Method,
    status: u16,
    headers: &HeaderMap,
    body: &Value,
) -> Result<Poll, String> {
    let header_url = |name: &str| -> Result<Option<Url>, String> {
        match headers.get(name).and_then(|v| v.to_str().ok()) {
            Some(v) => Url::parse(v).map(Some).map_err(|e| format!("{name}: {e}")),
            None => Ok(None),
        }
    };
    if let Some(u) = header_url("azure-asyncoperation")? {
        return Ok(Poll::AsyncOperation(u));
    }
    if let Some(u) = header_url("location")?
        && (status == 202 || *method != Method::PUT)
    {
        return Ok(Poll::Location(u));
    }
    let state = body
        .pointer("/properties/provisioningState")
        .and_then(Value::as_str);
    match state {
        Some(s) if *method == Method::PUT || *method == Method::PATCH => Ok(if is_terminal(s) {
            Poll::Done
        } else {
            Poll::ProvisioningState
        }),
        _ => Ok(Poll::Done),
    }
}

/// Follows the operation started by `initial` to its end.
pub(crate) async fn complete(
    client: &ArmClient,
    tenant: &TenantId,
    method: &Method,
    original: &Url,
    path: &str,
    initial: RawResponse,
) -> Result<ArmResponse, AzureError> {
    let first = ArmResponse::from_raw(&initial)?;
    let kind = poll_kind(
        method,
        initial.status.as_u16(),
        &initial.headers,
        &first.body,
    )
    .map_err(|detail| AzureError::InvalidResponse {
        url: redact_url(original),
        detail,
    })?;
    if kind == Poll::Done {
        if let Some(state) = first
            .body
            .pointer("/properties/provisioningState")
            .and_then(Value::as_str)
            && !succeeded(state)
        {
            return Err(failed(method, path, state, &first.body));
        }
        return Ok(first);
    }
    let lro = &client.inner.lro;
    let deadline = Instant::now() + lro.max_wait;
    // Polls are charged to the subscription of the URL they go to (the limiter's key).
    let poll_url = match &kind {
        Poll::AsyncOperation(u) | Poll::Location(u) => u,
        _ => original,
    };
    let subscription = crate::ids::subscription_of(poll_url.path()).unwrap_or("");
    let limiter = &client.inner.http.limiter;
    let _polled = limiter.operation_started(subscription);
    let next_wait = |headers: &HeaderMap| {
        let asked = retry_after_or(headers, lro.default_interval, lro.min_interval);
        limiter.poll_wait(subscription, asked)
    };
    let mut wait = next_wait(&initial.headers);
    let mut location_result: Option<ArmResponse> = None;
    let mut location_for_post: Option<Url> =
        initial.header("location").and_then(|l| Url::parse(l).ok());
    loop {
        if Instant::now() + wait > deadline {
            return Err(AzureError::Timeout {
                what: format!("{method} {path}"),
                limit: lro.max_wait,
            });
        }
        tokio::time::sleep(wait).await;
        match &kind {
            Poll::AsyncOperation(url) => {
                let raw = poll(client, tenant, url).await?;
                // A 4xx/5xx here is a failure to read the status, not of the operation.
                let doc = client.ok_or_error(&raw, "GET", url.path())?;
                let status = doc
                    .body
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("InProgress")
                    .to_string();
                tracing::debug!(%method, path, status, "operation status");
                if is_terminal(&status) {
                    if !succeeded(&status) {
                        return Err(failed(method, path, &status, &doc.body));
                    }
                    if *method == Method::POST && location_for_post.is_none() {
                        let props = doc.body.get("properties").cloned().unwrap_or(Value::Null);
                        return Ok(ArmResponse { body: props, ..doc });
                    }
                    break;
                }
                wait = next_wait(&raw.headers);
            }
            Poll::Location(url) => {
                let raw = poll(client, tenant, url).await?;
                if raw.status.as_u16() == 202 {
                    wait = next_wait(&raw.headers);
                    continue;
                }
                let doc = client.ok_or_error(&raw, "GET", url.path())?;
                location_result = Some(doc);
                location_for_post = None;
                break;
            }
            Poll::ProvisioningState => {
                let raw = poll(client, tenant, original).await?;
                let doc = client.ok_or_error(&raw, "GET", path)?;
                let state = doc
                    .body
                    .pointer("/properties/provisioningState")
                    .and_then(Value::as_str)
                    .unwrap_or("Succeeded")
                    .to_string();
                if is_terminal(&state) {
                    if !succeeded(&state) {
                        return Err(failed(method, path, &state, &doc.body));
                    }
                    return Ok(doc);
                }
                wait = next_wait(&raw.headers);
            }
            Poll::Done => unreachable!("handled above"),
        }
    }
    match *method {
        Method::PUT | Method::PATCH => {
            let raw = poll(client, tenant, original).await?;
            client.ok_or_error(&raw, "GET", path)
        }
        Method::DELETE => Ok(ArmResponse {
            status: first.status,
            ..location_result.unwrap_or(first)
        }),
        _ => {
            if let Some(url) = location_for_post {
                let raw = poll(client, tenant, &url).await?;
                return client.ok_or_error(&raw, "GET", url.path());
            }
            Ok(location_result.unwrap_or(first))
        }
    }
}

/// A polling GET: primary token only, never the auxiliary header.
async fn poll(client: &ArmClient, tenant: &TenantId, url: &Url) -> Result<RawResponse, AzureError> {
    client
        .exchange(
            Method::GET,
            tenant,
            url.clone(),
            None,
            &[],
            HeaderMap::new(),
            true,
        )
        .await
}

fn retry_after_or(headers: &HeaderMap, default: Duration, floor: Duration) -> Duration {
    crate::retry::retry_after(headers)
        .unwrap_or(default)
        .max(floor)
}

fn failed(method: &Method, path: &str, status: &str, body: &Value) -> AzureError {
    let error = body
        .get("error")
        .or_else(|| body.pointer("/properties/error"))
        .and_then(|e| serde_json::from_value::<ArmErrorBody>(e.clone()).ok())
        .unwrap_or_else(|| ArmErrorBody {
            code: status.to_string(),
            message: format!("the operation ended {status} without an error"),
            ..Default::default()
        });
    AzureError::LroFailed {
        method: method.to_string(),
        resource_id: path.to_string(),
        status: status.to_string(),
        error: Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn async_operation_header_wins_over_location() {
        let h = headers(&[
            ("azure-asyncoperation", "https://m/op/1"),
            ("location", "https://m/loc/1"),
        ]);
        assert_eq!(
            poll_kind(&Method::DELETE, 202, &h, &Value::Null).unwrap(),
            Poll::AsyncOperation(Url::parse("https://m/op/1").unwrap())
        );
    }

    #[test]
    fn location_is_followed_for_202_and_non_put() {
        let h = headers(&[("location", "https://m/loc/1")]);
        assert_eq!(
            poll_kind(&Method::DELETE, 202, &h, &Value::Null).unwrap(),
            Poll::Location(Url::parse("https://m/loc/1").unwrap())
        );
        assert_eq!(
            poll_kind(&Method::PUT, 202, &h, &Value::Null).unwrap(),
            Poll::Location(Url::parse("https://m/loc/1").unwrap())
        );
        // A 201 PUT with Location but a body state: follow the body.
        let body = json!({"properties": {"provisioningState": "Creating"}});
        assert_eq!(
            poll_kind(&Method::PUT, 201, &h, &body).unwrap(),
            Poll::ProvisioningState
        );
    }

    #[test]
    fn provisioning_state_decides_without_headers() {
        let creating = json!({"properties": {"provisioningState": "Creating"}});
        let done = json!({"properties": {"provisioningState": "Succeeded"}});
        assert_eq!(
            poll_kind(&Method::PUT, 201, &HeaderMap::new(), &creating).unwrap(),
            Poll::ProvisioningState
        );
        assert_eq!(
            poll_kind(&Method::PUT, 200, &HeaderMap::new(), &done).unwrap(),
            Poll::Done
        );
        assert_eq!(
            poll_kind(&Method::PUT, 200, &HeaderMap::new(), &json!({})).unwrap(),
            Poll::Done,
            "no state = Succeeded"
        );
        assert_eq!(
            poll_kind(&Method::DELETE, 200, &HeaderMap::new(), &Value::Null).unwrap(),
            Poll::Done
        );
    }

    #[test]
    fn terminal_states() {
        for s in ["Succeeded", "failed", "Canceled"] {
            assert!(is_terminal(s));
        }
        for s in ["InProgress", "Creating", "Updating", "Running", "Accepted"] {
            assert!(!is_terminal(s));
        }
    }

    #[test]
    fn failure_carries_the_status_documents_error() {
        let body = json!({"status": "Failed", "error": {"code": "OSProvisioningTimedOut", "message": "late"}});
        let e = failed(&Method::PUT, "/x", "Failed", &body);
        assert_eq!(e.arm_code(), Some("OSProvisioningTimedOut"));
        assert!(
            e.to_string()
                .contains("ended Failed: OSProvisioningTimedOut: late"),
            "{e}"
        );
        let e = failed(&Method::DELETE, "/x", "Canceled", &json!({}));
        assert_eq!(e.arm_code(), Some("Canceled"));
    }
}
