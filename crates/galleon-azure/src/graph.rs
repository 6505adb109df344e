//! Azure Resource Graph queries: how galleon reads many resources across subscriptions at once
//! during a plan (arm-protocol.md §3).
//!
//! `POST /providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01`, result format
//! `objectArray` asked for explicitly (the docs and the spec disagree on the default), pages of
//! up to 1000 rows followed through `$skipToken`. The query must project `id` for paging to work.

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::arm::ArmClient;
use crate::error::AzureError;
use crate::ids::TenantId;

/// Largest page Resource Graph serves.
pub const MAX_PAGE: u32 = 1000;

/// A Resource Graph query.
#[derive(Debug, Clone)]
pub struct GraphQuery {
    /// KQL, e.g. `resources | where tags['galleon-workspace'] == 'w' | project id, name, type, tags`.
    pub query: String,
    /// Subscriptions to query (in one tenant).
    pub subscriptions: Vec<String>,
    /// Page size (1..=1000).
    pub page_size: u32,
}

impl GraphQuery {
    /// A query over `subscriptions` with the largest page size.
    pub fn new(query: impl Into<String>, subscriptions: Vec<String>) -> Self {
        Self {
            query: query.into(),
            subscriptions,
            page_size: MAX_PAGE,
        }
    }

    fn body(&self, skip_token: Option<&str>) -> Value {
        let mut options =
            json!({"resultFormat": "objectArray", "$top": self.page_size.clamp(1, MAX_PAGE)});
        if let Some(t) = skip_token {
            options["$skipToken"] = Value::String(t.to_string());
        }
        json!({"subscriptions": self.subscriptions, "query": self.query, "options": options})
    }
}

/// All rows of a query.
#[derive(Debug, Clone, Default)]
pub struct GraphResult {
    /// The rows, each a JSON object.
    pub rows: Vec<Value>,
    /// `totalRecords` of the first page.
    pub total_records: u64,
    /// Whether Resource Graph said the result is incomplete (`resultTruncated`, e.g. no `id`
    /// projected): the caller must not treat a missing row as a missing resource.
    pub truncated: bool,
}

impl ArmClient {
    /// Runs a Resource Graph query with `tenant`'s token and reads every page.
    ///
    /// The POST is a read: it is charged to the read bucket and retried like a GET.
    pub async fn resource_graph(
        &self,
        tenant: &TenantId,
        query: &GraphQuery,
    ) -> Result<GraphResult, AzureError> {
        let path = "/providers/Microsoft.ResourceGraph/resources";
        let url = self.url_for(path, Some(crate::api_version::RESOURCE_GRAPH), &[])?;
        let mut result = GraphResult::default();
        let mut skip: Option<String> = None;
        let mut first = true;
        loop {
            let body =
                serde_json::to_vec(&query.body(skip.as_deref())).expect("JSON values serialize");
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let raw = self
                .graph_exchange(tenant, url.clone(), body, headers)
                .await?;
            let page = self.ok_or_error(&raw, "POST", path)?;
            if let Some(wait) = quota_wait(&raw.headers) {
                tracing::info!(
                    wait_ms = wait.as_millis() as u64,
                    "Resource Graph quota used up; waiting for it to reset"
                );
                tokio::time::sleep(wait).await;
            }
            let rows = page
                .body
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if first {
                result.total_records = page
                    .body
                    .get("totalRecords")
                    .and_then(Value::as_u64)
                    .unwrap_or(rows.len() as u64);
                first = false;
            }
            // `resultTruncated` is a string enum "true"/"false" in the spec; accept a bool too.
            let truncated = match page.body.get("resultTruncated") {
                Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
                Some(Value::Bool(b)) => *b,
                _ => false,
            };
            result.truncated |= truncated;
            result.rows.extend(rows);
            match page.body.get("$skipToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => skip = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(result)
    }

    async fn graph_exchange(
        &self,
        tenant: &TenantId,
        url: url::Url,
        body: Vec<u8>,
        headers: HeaderMap,
    ) -> Result<crate::http::RawResponse, AzureError> {
        // Charged as a read on the tenant-level bucket: Resource Graph throttles per user, not
        // per subscription.
        self.exchange_with_kind(
            Method::POST,
            tenant,
            url,
            Some(body),
            headers,
            crate::limiter::OpKind::Read,
        )
        .await
    }
}

/// How long to pause before the next query when Resource Graph says the user's quota is spent:
/// `x-ms-user-quota-remaining: 0` with `x-ms-user-quota-resets-after: hh:mm:ss` (15 queries per
/// 5 s window per user; guidance-for-throttled-requests.md, arm-protocol.md §3.3).
fn quota_wait(headers: &HeaderMap) -> Option<std::time::Duration> {
    let remaining: i64 = headers
        .get("x-ms-user-quota-remaining")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    if remaining > 0 {
        return None;
    }
    let reset = headers.get("x-ms-user-quota-resets-after")?.to_str().ok()?;
    let mut secs = 0u64;
    for part in reset.trim().split(':') {
        secs = secs * 60 + part.parse::<u64>().ok()?;
    }
    Some(std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_body_asks_for_object_arrays_and_pages() {
        let q = GraphQuery {
            page_size: 5000,
            ..GraphQuery::new("resources | project id", vec!["s1".into()])
        };
        let b = q.body(None);
        assert_eq!(b["options"]["resultFormat"], "objectArray");
        assert_eq!(b["options"]["$top"], 1000, "clamped to the service maximum");
        assert!(b["options"].get("$skipToken").is_none());
        assert_eq!(q.body(Some("tok"))["options"]["$skipToken"], "tok");
        assert_eq!(b["subscriptions"][0], "s1");
    }

    #[test]
    fn spent_quota_pauses_until_reset() {
        let mut h = HeaderMap::new();
        h.insert("x-ms-user-quota-remaining", HeaderValue::from_static("0"));
        h.insert(
            "x-ms-user-quota-resets-after",
            HeaderValue::from_static("00:00:03"),
        );
        assert_eq!(quota_wait(&h), Some(std::time::Duration::from_secs(3)));
        h.insert(
            "x-ms-user-quota-resets-after",
            HeaderValue::from_static("00:01:05"),
        );
        assert_eq!(quota_wait(&h), Some(std::time::Duration::from_secs(65)));
        h.insert("x-ms-user-quota-remaining", HeaderValue::from_static("4"));
        assert_eq!(quota_wait(&h), None);
        assert_eq!(quota_wait(&HeaderMap::new()), None);
    }
}
