//! Retries over the wire: 429 with Retry-After obeyed, 5xx retried for idempotent requests
//! only, throttling past the cap, and the client-side limiter fed by ARM's headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use galleon_azure::{ArmClient, AzureError, ClientOptions, RetryConfig};
use serde_json::json;

use crate::stub::{Reply, Stub};
use crate::{SUB_B, b, fast_options, secret_spec, stub_client};

fn rg() -> String {
    format!("/subscriptions/{SUB_B}/resourceGroups/rg-app")
}

fn failing_first(
    n: usize,
    reply: Reply,
) -> (
    Arc<AtomicUsize>,
    impl Fn(&crate::stub::Seen) -> Option<Reply> + Send + Sync + 'static,
) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    (count, move |s: &crate::stub::Seen| {
        if s.is_token_request() {
            return None;
        }
        if c.fetch_add(1, Ordering::SeqCst) < n {
            Some(reply.clone())
        } else {
            Some(Reply::json(200, json!({"id": s.path})))
        }
    })
}

#[tokio::test]
async fn throttled_requests_wait_for_retry_after() {
    let throttle = Reply::json(429, json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "Number of 'read' requests for subscription exceeded. Please try again after '2' seconds."}}))
        .header("retry-after", "2");
    let (count, handler) = failing_first(1, throttle);
    let stub = Stub::start(handler).await;
    let client = stub_client(&stub);
    let started = Instant::now();
    client.get(&b(), &rg()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After: 2 obeyed, took {:?}",
        started.elapsed()
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn throttling_longer_than_the_cap_gives_up_at_once() {
    let throttle = Reply::json(
        429,
        json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "m"}}),
    )
    .header("retry-after", "600");
    let (count, handler) = failing_first(100, throttle);
    let stub = Stub::start(handler).await;
    let client = stub_client(&stub);
    let started = Instant::now();
    let err = client
        .put(&b(), &rg(), &json!({"location": "x"}), &[])
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let AzureError::ThrottledOut { retry_after, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(600)));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(err.hint().unwrap().contains("throttling"));
}

#[tokio::test]
async fn server_errors_are_retried_for_idempotent_requests() {
    for status in [500u16, 502, 503, 504] {
        let (count, handler) = failing_first(
            2,
            Reply::json(
                status,
                json!({"error": {"code": "InternalServerError", "message": "boom"}}),
            ),
        );
        let stub = Stub::start(handler).await;
        let client = stub_client(&stub);
        client
            .put(&b(), &rg(), &json!({"location": "x"}), &[])
            .await
            .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 3, "status {status}");
    }
}

#[tokio::test]
async fn a_post_is_not_resent_after_a_server_error_unless_marked_idempotent() {
    let path = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web/restart"
    );
    let (count, handler) = failing_first(
        1,
        Reply::json(
            500,
            json!({"error": {"code": "InternalServerError", "message": "boom"}}),
        ),
    );
    let stub = Stub::start(handler).await;
    let client = stub_client(&stub);
    let err = client
        .post(&b(), &path, None, &[], false)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    client.post(&b(), &path, None, &[], true).await.unwrap();
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "marked idempotent: the 200 after no retry needed"
    );
    let (count, handler) = failing_first(
        1,
        Reply::json(
            503,
            json!({"error": {"code": "ServiceUnavailable", "message": "x"}}),
        ),
    );
    let stub = Stub::start(handler).await;
    let client = stub_client(&stub);
    client.post(&b(), &path, None, &[], true).await.unwrap();
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "idempotent POST retried after 503"
    );
}

#[tokio::test]
async fn persistent_server_errors_end_as_the_arm_error_after_max_attempts() {
    let (count, handler) = failing_first(
        100,
        Reply::json(
            503,
            json!({"error": {"code": "ServiceUnavailable", "message": "down"}}),
        ),
    );
    let stub = Stub::start(handler).await;
    let client = stub_client(&stub);
    let err = client.get(&b(), &rg()).await.unwrap_err();
    assert_eq!(err.arm_code(), Some("ServiceUnavailable"));
    assert_eq!(
        count.load(Ordering::SeqCst),
        5,
        "max_attempts of the test options"
    );
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    // A port nobody listens on: connect fails every time.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let stub = Stub::start(|_| None).await;
    let mut cloud = stub.cloud();
    if let galleon_azure::Cloud::Custom(c) = &mut cloud {
        c.arm_endpoint = url::Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap();
    }
    let client = ArmClient::new(
        cloud,
        ClientOptions {
            retry: RetryConfig {
                max_attempts: 3,
                ..fast_options().retry
            },
            ..fast_options()
        },
    )
    .unwrap();
    client
        .configure_credentials(&[secret_spec(crate::TENANT_B)])
        .unwrap();
    let err = client.get(&b(), &rg()).await.unwrap_err();
    assert!(matches!(err, AzureError::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn remaining_count_headers_slow_the_client_down() {
    let stub = Stub::start(|s| {
        (!s.is_token_request()).then(|| {
            Reply::json(200, json!({})).header("x-ms-ratelimit-remaining-subscription-reads", "0")
        })
    })
    .await;
    let mut options = fast_options();
    options.limiter.reads = galleon_azure::Bucket {
        burst: 250.0,
        per_second: 4.0,
    };
    let client = ArmClient::new(stub.cloud(), options).unwrap();
    client
        .configure_credentials(&[secret_spec(crate::TENANT_B)])
        .unwrap();
    client.get(&b(), &rg()).await.unwrap();
    let started = Instant::now();
    client.get(&b(), &rg()).await.unwrap();
    client.get(&b(), &rg()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "server says 0 left: refill rate 4/s applies, took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retries_keep_the_client_request_id_of_the_logical_request() {
    let (_, handler) = failing_first(
        2,
        Reply::json(
            503,
            json!({"error": {"code": "ServiceUnavailable", "message": "x"}}),
        ),
    );
    let stub = Stub::start(handler).await;
    let client = stub_client(&stub);
    client.get(&b(), &rg()).await.unwrap();
    client.get(&b(), &rg()).await.unwrap();
    let ids: Vec<String> = stub
        .arm_seen()
        .iter()
        .map(|s| s.header("x-ms-client-request-id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(
        ids[0] == ids[1] && ids[1] == ids[2],
        "three attempts of one request: {ids:?}"
    );
    assert_ne!(ids[2], ids[3], "a new request gets a new id");
}

#[tokio::test]
async fn a_silent_server_is_a_timeout_after_the_retries() {
    // Accepts connections and never answers (not even the TLS handshake).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(std::sync::Mutex::new(Vec::new()));
    let h = held.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            h.lock().unwrap().push(tcp);
        }
    });
    let stub = Stub::start(|_| None).await;
    let mut cloud = stub.cloud();
    if let galleon_azure::Cloud::Custom(c) = &mut cloud {
        c.arm_endpoint = url::Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap();
    }
    let mut options = fast_options();
    options.request_timeout = Duration::from_millis(200);
    options.retry.max_attempts = 2;
    let client = ArmClient::new(cloud, options).unwrap();
    client
        .configure_credentials(&[secret_spec(crate::TENANT_B)])
        .unwrap();
    let err = client.get(&b(), &rg()).await.unwrap_err();
    assert!(
        matches!(err, AzureError::Timeout { limit, .. } if limit == Duration::from_millis(200)),
        "{err:?}"
    );
    assert_eq!(held.lock().unwrap().len(), 2, "one connection per attempt");
}

#[tokio::test]
async fn an_untrusted_certificate_fails_at_once() {
    let stub = Stub::start(|_| None).await;
    let mut cloud = stub.cloud();
    if let galleon_azure::Cloud::Custom(c) = &mut cloud {
        // Trust another CA than the one that signed the stub's certificate.
        c.ca_pem = Some(
            rcgen::generate_simple_self_signed(vec!["other".to_string()])
                .unwrap()
                .cert
                .pem(),
        );
    }
    let client = ArmClient::new(
        cloud,
        ClientOptions {
            retry: RetryConfig {
                min_delay: Duration::from_secs(2),
                ..fast_options().retry
            },
            ..fast_options()
        },
    )
    .unwrap();
    client
        .configure_credentials(&[secret_spec(crate::TENANT_B)])
        .unwrap();
    let started = Instant::now();
    let err = client.get(&b(), &rg()).await.unwrap_err();
    assert!(matches!(err, AzureError::Transport { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "not retried: {:?}",
        started.elapsed()
    );
    assert!(stub.seen().is_empty());
}
