//! ARM protocol against the emulator: injected throttling and server errors, operations with
//! Retry-After and failures, paging, Resource Graph, and the blob-lease apply lock.

use galleon_azure::{ArmClient, AzureError, Cloud, GraphQuery};
use galleon_emulator::seed::{Faults, SeedResource};
use serde_json::json;

use super::*;
use crate::{APP, CANARY, SUB_A, SUB_B, TENANT_B, a, b, fast_options};

#[tokio::test]
async fn throttling_and_server_errors_are_ridden_out() {
    let c = Ctx::start(seed()).await;
    c.client
        .put(
            &b(),
            &rg(SUB_B, "rg-app"),
            &json!({"location": "northeurope"}),
            &[],
        )
        .await
        .unwrap();
    // Enough attempts that a run of injected failures cannot exhaust them (0.4^10).
    let mut options = fast_options();
    options.retry.max_attempts = 10;
    let endpoint = url::Url::parse(c.emu.endpoint()).unwrap();
    let client = ArmClient::new(
        Cloud::discover(&endpoint, Some(c.emu.ca_pem()))
            .await
            .unwrap(),
        options,
    )
    .unwrap();
    client
        .configure_credentials(&[spec(TENANT_B, APP, CANARY)])
        .unwrap();
    c.emu.shared().faults.lock().unwrap().set(Faults {
        seed: 7,
        throttle_rate: 0.2,
        error_500_rate: 0.1,
        error_503_rate: 0.1,
        method: Some("GET".into()),
        ..Faults::default()
    });
    for _ in 0..10 {
        client.get(&b(), &rg(SUB_B, "rg-app")).await.unwrap();
    }
    let faults: Vec<String> = c.log().iter().filter_map(|e| e.fault.clone()).collect();
    assert!(faults.iter().any(|f| f == "throttle"), "{faults:?}");
    assert!(faults.iter().any(|f| f.starts_with("error5")), "{faults:?}");
    let ok = c
        .log()
        .iter()
        .filter(|e| e.method == "GET" && e.path == rg(SUB_B, "rg-app") && e.status == 200)
        .count();
    assert_eq!(ok, 10);
    // The 429s carried Retry-After: 1, and the client waited it out.
    let throttled = c.log().iter().filter(|e| e.status == 429).count();
    assert!(throttled >= 1);
}

/// Operations: polls wait for the emulator's `Retry-After`, and an operation the emulator fails
/// surfaces as `LroFailed` with the status document's error.
#[tokio::test]
async fn operations_wait_for_retry_after_and_report_failures() {
    let mut s = seed();
    s.settings.retry_after_secs = 1;
    s.settings.lro_default_ms = 200;
    let c = Ctx::start(s).await;
    let a = a();
    c.client
        .put(
            &a,
            &rg(SUB_A, "rg-golden-images"),
            &json!({"location": "westeurope"}),
            &[],
        )
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let g = c
        .client
        .put(&a, &gallery(), &json!({"location": "westeurope"}), &[])
        .await
        .unwrap();
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "waited Retry-After: 1 before polling, took {:?}",
        started.elapsed()
    );
    let polls = c
        .log()
        .into_iter()
        .filter(|e| e.method == "GET" && e.path.to_ascii_lowercase().contains("operation"))
        .count();
    assert!(polls >= 1, "the operation was polled");

    c.emu.shared().faults.lock().unwrap().set(Faults {
        seed: 1,
        lro_failure_rate: 1.0,
        ..Faults::default()
    });
    let err = c
        .client
        .put(
            &a,
            &format!(
                "{}/providers/Microsoft.Compute/galleries/second",
                rg(SUB_A, "rg-golden-images")
            ),
            &json!({"location": "westeurope"}),
            &[],
        )
        .await
        .unwrap_err();
    let AzureError::LroFailed { status, error, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(status, "Failed");
    assert!(!error.code.is_empty(), "{error:?}");
}

#[tokio::test]
async fn lists_page_and_resource_graph_pages() {
    let mut s = seed();
    s.settings.page_size = 2;
    let c = Ctx::start(s).await;
    for i in 0..5 {
        c.client
            .put(
                &b(),
                &rg(SUB_B, &format!("rg-{i}")),
                &json!({"location": "northeurope", "tags": {"galleon-workspace": "w"}}),
                &[],
            )
            .await
            .unwrap();
    }
    let groups = c
        .client
        .list(&b(), &format!("/subscriptions/{SUB_B}/resourcegroups"))
        .await
        .unwrap();
    assert_eq!(groups.len(), 5);
    assert!(
        c.log()
            .iter()
            .filter(|e| e.path.ends_with("/resourcegroups") && e.method == "GET")
            .count()
            >= 3,
        "followed nextLink"
    );

    let nsg = |i: usize| {
        format!(
            "{}/providers/Microsoft.Network/networkSecurityGroups/nsg-{i}",
            rg(SUB_B, "rg-0")
        )
    };
    for i in 0..3 {
        c.client
            .put(
                &b(),
                &nsg(i),
                &json!({"location": "northeurope", "tags": {"galleon-workspace": "w"}}),
                &[],
            )
            .await
            .unwrap();
    }
    let q = GraphQuery {
        page_size: 2,
        ..GraphQuery::new(
            "Resources | where tags['galleon-workspace'] == 'w' | project id, name, type",
            vec![SUB_B.into()],
        )
    };
    let r = c.client.resource_graph(&b(), &q).await.unwrap();
    assert_eq!(r.rows.len(), 3, "{:?}", r.rows);
    assert!(
        r.rows
            .iter()
            .all(|row| row["type"] == "microsoft.network/networksecuritygroups")
    );
    assert!(
        c.log()
            .iter()
            .filter(|e| e.path == "/providers/Microsoft.ResourceGraph/resources")
            .count()
            >= 2,
        "paged with $skipToken"
    );
}

#[tokio::test]
async fn apply_lock_against_the_emulator() {
    let mut s = seed();
    let account = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/galleonstate",
        rg(SUB_B, "rg-state")
    );
    for id in [rg(SUB_B, "rg-state"), account.clone()] {
        s.resources.push(SeedResource {
            id,
            location: Some("northeurope".into()),
            properties: None,
            tags: None,
            extra: Default::default(),
        });
    }
    // As in Azure, Contributor is not enough for blob data: the data role is needed.
    s.role_assignments.push(grant(
        APP,
        TENANT_B,
        "Storage Blob Data Contributor",
        &account,
    ));
    let c = Ctx::start(s).await;
    let lock = c
        .client
        .blob_lock(&b(), "galleonstate", "locks", "ws.lock")
        .unwrap();
    let lease = lock
        .lock("alice@laptop since 2026-01-01T00:00:00Z")
        .await
        .unwrap();
    lock.renew(&lease).await.unwrap();
    let other = c
        .client
        .blob_lock(&b(), "galleonstate", "locks", "ws.lock")
        .unwrap();
    let err = other.lock("bob@ci").await.unwrap_err();
    assert!(
        matches!(&err, AzureError::LockHeld { holder } if holder == "alice@laptop since 2026-01-01T00:00:00Z"),
        "{err:?}"
    );
    lock.release(&lease).await.unwrap();
    let lease2 = other.lock("bob@ci").await.unwrap();
    assert_ne!(lease2, lease);
    assert_eq!(other.read().await.unwrap().as_deref(), Some("bob@ci"));
    other.break_lease().await.unwrap();
    lock.lock("alice again").await.unwrap();
    let blob_requests: Vec<_> = c
        .log()
        .into_iter()
        .filter(|e| e.path.starts_with("/blob/galleonstate/"))
        .collect();
    assert!(blob_requests.iter().all(|e| !e.auxiliary));
    assert!(
        blob_requests.iter().any(|e| e.status == 409),
        "the held lease answered 409"
    );
}
