//! The Resource Graph endpoint `POST /providers/Microsoft.ResourceGraph/resources`: builds the
//! caller's rows (subscriptions of the caller's tenant, resources the caller may read), runs the
//! query subset of `graph`, and reports ARG's per-user quota (15 queries per 5 s window,
//! `x-ms-user-quota-remaining` / `x-ms-user-quota-resets-after`, 429 `RateLimiting` when spent;
//! learn.microsoft.com governance/resource-graph/concepts/guidance-for-throttled-requests.md).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::rbac;
use crate::arm::registry::{Rbac, Registry, ResourceType};
use crate::providers::glue::now_ms;
use crate::providers::graph;

/// ResourceGraph api-versions (specification/resourcegraph/.../stable/*).
pub const GRAPH_VERSIONS: &[&str] = &[
    "2019-04-01",
    "2020-04-01-preview",
    "2021-03-01",
    "2022-10-01",
    "2024-04-01",
];

const QUOTA: i64 = 15;
const WINDOW_MS: i64 = 5_000;

/// Registers the query endpoint (a POST action on the provider root).
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        actions: &[("resources", query)],
        rbac: Rbac::Handler,
        needs_resource_group: false,
        ..ResourceType::new("Microsoft.ResourceGraph", "", GRAPH_VERSIONS)
    });
}

/// Charges one query to the caller's window; returns (remaining, ms until reset), or the wait
/// when the quota is spent.
fn charge(ctx: &mut Ctx<'_>) -> Result<(i64, i64), i64> {
    let now = now_ms(ctx.now);
    let enabled = ctx.state.settings.throttling.enabled;
    let quotas = ctx
        .state
        .extensions
        .entry("resource_graph_quota".into())
        .or_insert_with(|| json!({}));
    let slot = &mut quotas[ctx.caller.object_id.as_str()];
    let start = slot["window_start_ms"].as_i64().unwrap_or(0);
    if now - start >= WINDOW_MS {
        *slot = json!({ "window_start_ms": now, "used": 0 });
    }
    let start = slot["window_start_ms"].as_i64().unwrap_or(now);
    let used = slot["used"].as_i64().unwrap_or(0);
    let reset = (start + WINDOW_MS - now).max(0);
    if enabled && used >= QUOTA {
        return Err(reset);
    }
    slot["used"] = json!(used + 1);
    Ok((QUOTA - used - 1, reset))
}

fn hms(ms: i64) -> String {
    let s = (ms + 999) / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn query(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let (remaining, reset) = match charge(ctx) {
        Ok(v) => v,
        Err(wait) => {
            return Err(ArmError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RateLimiting",
                format!("Please provide below info when asking for support: timestamp = {}, correlationId = {}.", ctx.now, uuid::Uuid::new_v4()),
            )
            .with_detail(json!({"code": "RateLimiting", "message": "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help."}))
            .with_header("Retry-After", ((wait + 999) / 1000).to_string())
            .with_header("x-ms-user-quota-remaining", "0")
            .with_header("x-ms-user-quota-resets-after", hms(wait)));
        }
    };
    let tenant = ctx.caller.tenant.clone();
    let oid = ctx.caller.object_id.clone();
    let subs: Vec<String> = ctx
        .state
        .subscriptions
        .iter()
        .filter(|s| s.tenant.eq_ignore_ascii_case(&tenant))
        .map(|s| s.id.to_ascii_lowercase())
        .collect();
    let rows: Vec<Value> = ctx
        .state
        .resources
        .values()
        .filter(|r| {
            let t = r.resource_type.to_ascii_lowercase();
            !t.starts_with("microsoft.resources/") && !t.starts_with("microsoft.authorization/")
        })
        .filter(|r| {
            r.id.split('/')
                .nth(2)
                .is_some_and(|s| subs.contains(&s.to_ascii_lowercase()))
        })
        .filter(|r| {
            rbac::is_allowed(
                ctx.state,
                &oid,
                &format!("{}/read", r.resource_type),
                &r.id,
                false,
            )
        })
        .map(|r| graph::row(&r.body, &tenant))
        .collect();
    let page = graph::run(&req.body, rows)?;
    Ok(Reply::ok(page.body)
        .header("x-ms-user-quota-remaining", remaining.to_string())
        .header("x-ms-user-quota-resets-after", hms(reset)))
}
