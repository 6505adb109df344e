//! Resource Graph through HTTPS: the workspace query galleon sends, paging with `$skipToken`,
//! tenant and RBAC scoping, quota headers and the refusal of unsupported queries.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use crate::world::*;

const ARG: &str = "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01";

#[tokio::test]
async fn workspace_query_pages_and_is_scoped_to_the_callers_tenant() {
    let mut seed = seed();
    for i in 0..5 {
        let mut r = res(
            format!(
                "{}/providers/Microsoft.Network/networkSecurityGroups/nsg{i}",
                rg_path(SUB_B, "rg-app")
            ),
            "northeurope",
            json!({}),
        );
        r.tags = Some(
            [(
                "galleon-workspace".to_owned(),
                if i < 4 { "prod" } else { "dev" }.to_owned(),
            )]
            .into_iter()
            .collect(),
        );
        seed.resources.push(r);
    }
    let ctx = TestContext::start(seed).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let query = format!(
        "Resources | where subscriptionId in ('{SUB_B}') | where tags['galleon-workspace'] == 'prod' | project id, name, type, location, resourceGroup, subscriptionId, tenantId, tags, properties"
    );
    let mut body = json!({"subscriptions": [SUB_B], "query": query, "options": {"$top": 3, "resultFormat": "objectArray"}});
    let mut rows = Vec::new();
    loop {
        let r = ctx
            .call(Method::POST, ARG, Some(&b), &[], Some(body.clone()))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["totalRecords"], 4);
        assert_eq!(r.body["resultTruncated"], "false");
        assert!(!r.header("x-ms-user-quota-remaining").is_empty());
        assert!(
            r.header("x-ms-user-quota-resets-after")
                .starts_with("00:00:0")
        );
        rows.extend(r.body["data"].as_array().unwrap().clone());
        match r.body["$skipToken"].as_str() {
            Some(t) => body["options"]["$skipToken"] = json!(t),
            None => break,
        }
    }
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["type"], "microsoft.network/networksecuritygroups");
    assert_eq!(rows[0]["resourceGroup"], "rg-app");
    assert_eq!(rows[0]["tenantId"], TENANT_B);
    // Tenant A's token sees none of tenant B's resources.
    let r = ctx
        .call(
            Method::POST,
            ARG,
            Some(&a),
            &[],
            Some(json!({"subscriptions": [SUB_B], "query": "Resources"})),
        )
        .await;
    assert_eq!(r.body["totalRecords"], 0);
    // Type filter over A's seeded gallery world.
    let r = ctx
        .call(
            Method::POST,
            ARG,
            Some(&a),
            &[],
            Some(json!({"subscriptions": [SUB_A],
        "query": "Resources | where type =~ 'Microsoft.Compute/galleries/images/versions'"})),
        )
        .await;
    assert_eq!(r.body["totalRecords"], 8, "{}", r.body);
}

#[tokio::test]
async fn unsupported_queries_and_quota() {
    let ctx = TestContext::start(seed()).await;
    let b = ctx.token_b().await;
    let r = ctx
        .call(
            Method::POST,
            ARG,
            Some(&b),
            &[],
            Some(json!({"query": "Resources | summarize count() by type"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "BadRequest")
    );
    assert!(
        r.body["error"]["details"][1]["message"]
            .as_str()
            .unwrap()
            .contains("summarize")
    );
    // 15 queries per 5 s window: sent together so that a slow machine cannot stretch them
    // over a window boundary; at most 15 (minus the one above) succeed, the rest are 429.
    let calls = (0..16).map(|_| {
        ctx.call(
            Method::POST,
            ARG,
            Some(&b),
            &[],
            Some(json!({"query": "Resources"})),
        )
    });
    let answers = futures::future::join_all(calls).await;
    let ok = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .count();
    assert!(ok <= 15, "{ok} queries passed in one window");
    let last = answers
        .into_iter()
        .find(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .expect("a throttled query");
    assert_eq!(last.code(), "RateLimiting", "{}", last.body);
    assert!(!last.header("retry-after").is_empty());
}
