//! The framework's cross-cutting behaviour through a test-only resource type: LROs both ways
//! (PUT 201 + Azure-AsyncOperation, DELETE 202 + Location), injected LRO failures, throttling
//! with its headers, injected 429/500/503, dropped connections and latency.

// Handlers return `ArmError` by value, as in the crate itself.
#![allow(clippy::result_large_err)]

use std::time::Instant;

use galleon_emulator::arm::context::{ArmRequest, Ctx, Reply};
use galleon_emulator::arm::errors::ArmError;
use galleon_emulator::arm::registry::{Registry, ResourceType};
use galleon_emulator::providers::generic::{self, PutOptions};
use galleon_emulator::seed::Bucket;
use galleon_emulator::{Emulator, EmulatorConfig, Seed};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

const WIDGET: &str = "Microsoft.Compute/widgets";

fn put_widget(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    generic::put(ctx, req, WIDGET, PutOptions::default(), |body, _| {
        body["properties"]["widgetId"] = json!("w-1");
        Ok(())
    })
}

fn delete_widget(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    generic::delete(ctx, req, WIDGET, true)
}

fn list_widgets(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    generic::list(ctx, req, WIDGET)
}

/// Writes, then fails: the front door must roll the write back.
fn half_write(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    ctx.state.remove_tree(&req.path.raw);
    Err(ArmError::service(
        StatusCode::BAD_REQUEST,
        "InvalidParameter",
        "refused after writing",
    ))
}

fn boom(_: &mut Ctx<'_>, _: &ArmRequest) -> Result<Reply, ArmError> {
    panic!("handler bug")
}

async fn with_widgets(seed: Seed) -> TestContext {
    let mut registry = Registry::standard();
    registry.register(ResourceType {
        get: Some(generic::get),
        put: Some(put_widget),
        patch: Some(generic::patch),
        delete: Some(delete_widget),
        list: Some(list_widgets),
        actions: &[("halfWrite", half_write), ("boom", boom)],
        ..ResourceType::new("Microsoft.Compute", "widgets", &["2024-07-01"])
    });
    let emu = Emulator::start_with(
        EmulatorConfig {
            seed,
            ..EmulatorConfig::default()
        },
        registry,
    )
    .await
    .unwrap();
    TestContext {
        http: client(emu.ca_pem()),
        emu,
        dir: None,
    }
}

fn widget(name: &str) -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-image-build/providers/Microsoft.Compute/widgets/{name}?api-version=2024-07-01"
    )
}

#[tokio::test]
async fn lro_put_then_delete() {
    let mut seed = scenario();
    seed.settings.lro_default_ms = 150;
    seed.settings.retry_after_secs = 1;
    let t = with_widgets(seed).await;
    let tok = t.token_a().await;
    let a = t
        .put(
            &widget("w1"),
            &tok,
            json!({"location": "westeurope", "tags": {"k": "v"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["properties"]["provisioningState"], "Creating");
    assert_eq!(a.body["properties"]["widgetId"], "w-1");
    assert_eq!(a.header("retry-after"), "1");
    let op = a.header("azure-asyncoperation").to_owned();
    assert!(
        op.contains(&format!(
            "/subscriptions/{SUB_A}/providers/Microsoft.Compute/locations/westeurope/operations/"
        )),
        "{op}"
    );
    let running = t.get(&op, &tok).await;
    assert_eq!(running.body["status"], "InProgress");
    assert_eq!(
        t.get(&widget("w1"), &tok).await.body["properties"]["provisioningState"],
        "Creating"
    );
    let done = t.wait(&op, &tok).await;
    assert_eq!(done.body["status"], "Succeeded");
    assert!(done.body["endTime"].is_string());
    assert_eq!(
        t.get(&widget("w1"), &tok).await.body["properties"]["provisioningState"],
        "Succeeded"
    );
    // Update: 200 + Updating.
    let upd = t
        .put(&widget("w1"), &tok, json!({"location": "westeurope"}))
        .await;
    assert_eq!(
        (
            upd.status,
            upd.body["properties"]["provisioningState"].as_str()
        ),
        (StatusCode::OK, Some("Updating"))
    );
    t.emu.advance_clock(1);
    let d = t.delete(&widget("w1"), &tok).await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    let loc = d.header("location").to_owned();
    assert!(loc.contains("/operationResults/"), "{loc}");
    assert_eq!(t.get(&loc, &tok).await.status, StatusCode::ACCEPTED);
    assert_eq!(
        t.get(&widget("w1"), &tok).await.body["properties"]["provisioningState"],
        "Deleting"
    );
    let fin = t.wait(&loc, &tok).await;
    assert_eq!(fin.status, StatusCode::OK);
    let gone = t.get(&widget("w1"), &tok).await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::NOT_FOUND, "ResourceNotFound")
    );
    assert!(gone.message().starts_with("The Resource 'Microsoft.Compute/widgets/w1' under resource group 'rg-image-build' was not found."));
    // Deleting what is not there: 204.
    assert_eq!(
        t.delete(&widget("w1"), &tok).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn injected_lro_failure_ends_failed() {
    let mut seed = scenario();
    seed.settings.faults.lro_failure_rate = 1.0;
    let t = with_widgets(seed).await;
    let tok = t.token_a().await;
    let a = t
        .put(&widget("bad"), &tok, json!({"location": "westeurope"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    t.emu.advance_clock(5);
    let st = t.get(a.header("azure-asyncoperation"), &tok).await;
    assert_eq!(st.body["status"], "Failed");
    assert_eq!(st.body["error"]["code"], "InternalExecutionError");
    assert_eq!(
        t.get(&widget("bad"), &tok).await.body["properties"]["provisioningState"],
        "Failed"
    );
}

#[tokio::test]
async fn paging_lists_by_resource_group_and_subscription() {
    let mut seed = scenario();
    seed.settings.page_size = 2;
    seed.settings.lro_default_ms = 0;
    let t = with_widgets(seed).await;
    let tok = t.token_a().await;
    for n in ["a", "b", "c"] {
        t.put(&widget(n), &tok, json!({"location": "westeurope"}))
            .await;
    }
    for base in [
        format!(
            "/subscriptions/{SUB_A}/resourceGroups/rg-image-build/providers/Microsoft.Compute/widgets?api-version=2024-07-01"
        ),
        format!(
            "/subscriptions/{SUB_A}/providers/Microsoft.Compute/widgets?api-version=2024-07-01"
        ),
    ] {
        let p1 = t.get(&base, &tok).await;
        assert_eq!(
            p1.body["value"].as_array().unwrap().len(),
            2,
            "{base}: {}",
            p1.body
        );
        let p2 = t.get(p1.body["nextLink"].as_str().unwrap(), &tok).await;
        assert_eq!(p2.body["value"].as_array().unwrap().len(), 1);
        assert_eq!(p2.body["value"][0]["name"], "c");
    }
}

#[tokio::test]
async fn throttling_returns_429_with_retry_after_and_headers() {
    let mut seed = scenario();
    seed.settings.throttling.writes = Bucket {
        capacity: 3,
        refill_per_sec: 0.5,
    };
    let t = TestContext::start(seed).await;
    let tok = t.token_a().await;
    let rg = format!("{}?{RG_API}", rg_path(SUB_A, "rg-t"));
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let a = t.put(&rg, &tok, json!({"location": "westeurope"})).await;
        assert!(a.status.is_success());
        remaining.push(
            a.header("x-ms-ratelimit-remaining-subscription-writes")
                .to_owned(),
        );
        assert!(
            !a.header("x-ms-ratelimit-remaining-subscription-global-writes")
                .is_empty()
        );
    }
    assert_eq!(remaining, vec!["2", "1", "0"]);
    let a = t.put(&rg, &tok, json!({"location": "westeurope"})).await;
    assert_eq!(
        (a.status, a.code()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            "SubscriptionRequestsThrottled"
        )
    );
    assert_eq!(a.header("retry-after"), "2");
    let oid = t
        .emu
        .shared()
        .world()
        .service_principal(APP, TENANT_A)
        .unwrap()
        .object_id
        .clone();
    assert_eq!(
        a.message(),
        format!(
            "Number of 'write' requests for subscription '{SUB_A}' actor '{oid}' exceeded. Please try again after '2' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information."
        )
    );
    // Reads have their own bucket.
    let r = t.get(&rg, &tok).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-reads"),
        "249"
    );
}

#[tokio::test]
async fn injected_errors_drops_and_latency() {
    let t = TestContext::start(scenario()).await;
    let tok = t.token_a().await;
    let rg = format!("{}?{RG_API}", rg_path(SUB_A, "rg-image-build"));
    let set = |f: serde_json::Value| t.admin(Method::PUT, "/faults", Some(f));
    set(json!({"error_500_rate": 1.0, "path_contains": "/resourcegroups/"})).await;
    let a = t.get(&rg, &tok).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError")
    );
    // Token requests do not match the path filter.
    t.token_a().await;
    set(json!({"error_503_rate": 1.0})).await;
    let a = t.get(&rg, &tok).await;
    assert_eq!(
        (a.status, a.header("retry-after")),
        (StatusCode::SERVICE_UNAVAILABLE, "1")
    );
    set(json!({"throttle_rate": 1.0, "method": "PUT"})).await;
    assert_eq!(t.get(&rg, &tok).await.status, StatusCode::OK);
    assert_eq!(
        t.put(&rg, &tok, json!({"location": "westeurope"}))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    set(json!({"drop_rate": 1.0})).await;
    let dropped = t.http.get(t.url(&rg)).bearer_auth(&tok).send().await;
    assert!(dropped.is_err(), "connection should be dropped");
    set(json!({"latency_ms": 300})).await;
    let start = Instant::now();
    assert_eq!(t.get(&rg, &tok).await.status, StatusCode::OK);
    assert!(start.elapsed().as_millis() >= 300);
    set(json!({})).await;
    let log = t.admin(Method::GET, "/requests", None).await;
    let faults: Vec<&str> = log
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["fault"].as_str())
        .collect();
    assert_eq!(faults, vec!["error500", "error503", "throttle", "drop"]);
}

#[tokio::test]
async fn failed_writes_leave_nothing_and_panics_answer_500() {
    let mut seed = scenario();
    seed.settings.lro_default_ms = 0;
    let t = with_widgets(seed).await;
    let tok = t.token_a().await;
    t.put(&widget("keep"), &tok, json!({"location": "westeurope"}))
        .await;
    let action = |name: &str| {
        format!(
            "/subscriptions/{SUB_A}/resourceGroups/rg-image-build/providers/Microsoft.Compute/widgets/keep/{name}?api-version=2024-07-01"
        )
    };
    let a = t
        .call(Method::POST, &action("halfWrite"), Some(&tok), &[], None)
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "InvalidParameter")
    );
    assert_eq!(a.header("x-ms-failure-cause"), "service");
    assert_eq!(
        t.get(&widget("keep"), &tok).await.status,
        StatusCode::OK,
        "the handler's delete was rolled back"
    );
    let a = t
        .call(Method::POST, &action("boom"), Some(&tok), &[], None)
        .await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        t.get(&widget("keep"), &tok).await.status,
        StatusCode::OK,
        "the emulator keeps serving"
    );
}
