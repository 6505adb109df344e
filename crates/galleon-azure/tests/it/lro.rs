//! Long-running operations both ways (Azure-AsyncOperation and Location), Retry-After between
//! polls, the final GET, failures, and polls that never carry the auxiliary header.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use galleon_azure::AzureError;
use serde_json::json;

use crate::stub::{Reply, Stub};
use crate::{SUB_B, a, b, stub_client};

fn vm_path() -> String {
    format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    )
}

#[tokio::test]
async fn put_follows_azure_async_operation_then_gets_the_resource() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let stub = Stub::start(move |s| {
        if s.is_token_request() {
            return None;
        }
        let host = s.header("host").unwrap().to_string();
        Some(match (s.method.as_str(), s.path.as_str()) {
            ("PUT", _) => Reply::json(201, json!({"id": s.path, "properties": {"provisioningState": "Creating"}}))
                .header("azure-asyncoperation", &format!("https://{host}/subscriptions/{SUB_B}/providers/Microsoft.Compute/locations/northeurope/operations/op1?api-version=2025-04-01"))
                .header("retry-after", "1"),
            ("GET", p2) if p2.ends_with("/operations/op1") => {
                let n = p.fetch_add(1, Ordering::SeqCst);
                let status = if n == 0 { "InProgress" } else { "Succeeded" };
                Reply::json(200, json!({"name": "op1", "status": status, "startTime": "2026-01-01T00:00:00Z"})).header("retry-after", "1")
            }
            ("GET", _) => Reply::json(200, json!({"id": s.path, "properties": {"provisioningState": "Succeeded", "vmId": "v"}})).header("etag", "\"e1\""),
            _ => Reply::empty(500),
        })
    })
    .await;
    let client = stub_client(&stub);
    let started = Instant::now();
    let r = client
        .put(&b(), &vm_path(), &json!({"properties": {}}), &[a()])
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two Retry-After: 1 waits, took {:?}",
        started.elapsed()
    );
    assert_eq!(
        r.body["properties"]["vmId"], "v",
        "the final GET's body is returned"
    );
    assert_eq!(r.etag.as_deref(), Some("\"e1\""));
    let seen = stub.arm_seen();
    let shape: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(shape, ["PUT web", "GET op1", "GET op1", "GET web"]);
    assert!(seen[0].header("x-ms-authorization-auxiliary").is_some());
    assert!(
        seen[1..]
            .iter()
            .all(|s| s.header("x-ms-authorization-auxiliary").is_none()),
        "polls and the final GET carry no aux token"
    );
    assert!(
        seen[1..]
            .iter()
            .all(|s| s.header("authorization").is_some())
    );
}

#[tokio::test]
async fn delete_follows_location_until_it_stops_answering_202() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let stub = Stub::start(move |s| {
        if s.is_token_request() {
            return None;
        }
        let host = s.header("host").unwrap().to_string();
        Some(match s.method.as_str() {
            "DELETE" => Reply::empty(202).header("location", &format!("https://{host}/subscriptions/{SUB_B}/operationresults/del1?api-version=2025-04-01")),
            _ => {
                if p.fetch_add(1, Ordering::SeqCst) < 2 { Reply::empty(202).header("retry-after", "0") } else { Reply::empty(200) }
            }
        })
    })
    .await;
    let client = stub_client(&stub);
    assert!(client.delete(&b(), &vm_path(), &[]).await.unwrap());
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    let seen = stub.arm_seen();
    assert_eq!(seen.len(), 4);
    assert!(
        seen[1..]
            .iter()
            .all(|s| s.path.ends_with("/operationresults/del1")),
        "no final GET after a DELETE"
    );
}

#[tokio::test]
async fn put_without_headers_polls_the_provisioning_state() {
    let gets = Arc::new(AtomicUsize::new(0));
    let g = gets.clone();
    let stub = Stub::start(move |s| {
        if s.is_token_request() {
            return None;
        }
        Some(match s.method.as_str() {
            "PUT" => Reply::json(
                201,
                json!({"properties": {"provisioningState": "Updating"}}),
            ),
            _ => {
                let state = if g.fetch_add(1, Ordering::SeqCst) == 0 {
                    "Updating"
                } else {
                    "Succeeded"
                };
                Reply::json(200, json!({"properties": {"provisioningState": state}}))
            }
        })
    })
    .await;
    let client = stub_client(&stub);
    let r = client
        .put(
            &b(),
            &format!(
                "/subscriptions/{SUB_B}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"
            ),
            &json!({}),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(gets.load(Ordering::SeqCst), 2);
    assert!(stub.arm_seen()[0].query.contains("api-version=2025-03-03"));
}

#[tokio::test]
async fn a_failed_operation_reports_the_status_documents_error() {
    let stub = Stub::start(move |s| {
        if s.is_token_request() {
            return None;
        }
        let host = s.header("host").unwrap().to_string();
        Some(match s.method.as_str() {
            "PUT" => Reply::json(201, json!({"properties": {"provisioningState": "Creating"}}))
                .header("azure-asyncoperation", &format!("https://{host}/subscriptions/{SUB_B}/providers/Microsoft.Compute/locations/ne/operations/op2")),
            _ => Reply::json(200, json!({"status": "Failed", "error": {"code": "OSProvisioningTimedOut", "message": "OS Provisioning did not finish in the allotted time."}})),
        })
    })
    .await;
    let client = stub_client(&stub);
    let err = client
        .put(&b(), &vm_path(), &json!({}), &[])
        .await
        .unwrap_err();
    let AzureError::LroFailed {
        status,
        error,
        method,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(status, "Failed");
    assert_eq!(error.code, "OSProvisioningTimedOut");
    assert_eq!(method, "PUT");
}

#[tokio::test]
async fn an_operation_url_on_another_host_is_refused() {
    let stub = Stub::start(|s| {
        (!s.is_token_request()).then(|| {
            Reply::json(201, json!({})).header(
                "azure-asyncoperation",
                "https://attacker.example/op?api-version=1",
            )
        })
    })
    .await;
    let client = stub_client(&stub);
    let err = client
        .put(&b(), &vm_path(), &json!({}), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, AzureError::ForbiddenHost { .. }), "{err:?}");
    assert_eq!(stub.arm_seen().len(), 1);
}

#[tokio::test]
async fn post_action_takes_its_result_from_location() {
    let stub = Stub::start(move |s| {
        if s.is_token_request() {
            return None;
        }
        let host = s.header("host").unwrap().to_string();
        Some(match s.method.as_str() {
            "POST" => Reply::json(202, json!({"operationType": "Add"})).header(
                "location",
                &format!("https://{host}/subscriptions/{SUB_B}/share-result/1"),
            ),
            _ => Reply::json(
                200,
                json!({"operationType": "Add", "groups": [{"type": "AADTenants", "ids": ["t"]}]}),
            ),
        })
    })
    .await;
    let client = stub_client(&stub);
    let path = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/share"
    );
    let r = client
        .post(
            &b(),
            &path,
            Some(&json!({"operationType": "Add"})),
            &[],
            false,
        )
        .await
        .unwrap();
    assert_eq!(r.body["groups"][0]["type"], "AADTenants");
}

#[tokio::test]
async fn patch_follows_location_then_gets_the_original_uri() {
    let stub = Stub::start(move |s| {
        if s.is_token_request() {
            return None;
        }
        let host = s.header("host").unwrap().to_string();
        Some(match (s.method.as_str(), s.path.ends_with("/web")) {
            ("PATCH", _) => Reply::empty(202).header(
                "location",
                &format!("https://{host}/subscriptions/{SUB_B}/operationresults/p1"),
            ),
            ("GET", false) => Reply::json(
                200,
                json!({"note": "the operation result, not the resource"}),
            ),
            ("GET", true) => Reply::json(200, json!({"id": s.path, "tags": {"owner": "galleon"}})),
            _ => Reply::empty(500),
        })
    })
    .await;
    let client = stub_client(&stub);
    let r = client
        .patch(
            &b(),
            &vm_path(),
            &json!({"tags": {"owner": "galleon"}}),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.body["tags"]["owner"], "galleon");
    let shape: Vec<String> = stub
        .arm_seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(shape, ["PATCH web", "GET p1", "GET web"]);
}

#[tokio::test]
async fn a_canceled_operation_is_an_error_and_an_endless_one_times_out() {
    let stub = Stub::start(move |s| {
        if s.is_token_request() {
            return None;
        }
        let host = s.header("host").unwrap().to_string();
        Some(
            match (s.method.as_str(), s.path.rsplit('/').next().unwrap()) {
                ("PUT", "web") => Reply::json(201, json!({})).header(
                    "azure-asyncoperation",
                    &format!("https://{host}/subscriptions/{SUB_B}/operations/cancel"),
                ),
                ("PUT", _) => Reply::json(201, json!({})).header(
                    "azure-asyncoperation",
                    &format!("https://{host}/subscriptions/{SUB_B}/operations/forever"),
                ),
                (_, "cancel") => Reply::json(200, json!({"status": "Canceled"})),
                _ => Reply::json(200, json!({"status": "InProgress"})),
            },
        )
    })
    .await;
    let client = stub_client(&stub);
    let err = client
        .put(&b(), &vm_path(), &json!({}), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AzureError::LroFailed { status, .. } if status == "Canceled"),
        "{err:?}"
    );

    let mut options = crate::fast_options();
    options.lro.max_wait = Duration::from_millis(300);
    let client = galleon_azure::ArmClient::new(stub.cloud(), options).unwrap();
    client
        .configure_credentials(&[crate::secret_spec(crate::TENANT_B)])
        .unwrap();
    let other = format!("{}2", vm_path());
    let err = client.put(&b(), &other, &json!({}), &[]).await.unwrap_err();
    assert!(
        matches!(err, AzureError::Timeout { limit, .. } if limit == Duration::from_millis(300)),
        "{err:?}"
    );
}
