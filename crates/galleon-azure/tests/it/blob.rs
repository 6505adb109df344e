//! The apply lock over blob leases: create, acquire, held by someone else, renew, release.

use std::sync::{Arc, Mutex};

use galleon_azure::AzureError;

use crate::stub::{Reply, Stub};
use crate::{b, stub_client};

/// A tiny blob service: one blob, one lease.
#[derive(Default)]
struct Blob {
    container: bool,
    content: Option<String>,
    lease: Option<String>,
}

fn blob_service(
    state: Arc<Mutex<Blob>>,
) -> impl Fn(&crate::stub::Seen) -> Option<Reply> + Send + Sync + 'static {
    move |s| {
        if s.is_token_request() {
            return None;
        }
        assert_eq!(s.header("x-ms-version"), Some("2023-11-03"));
        assert!(s.path.starts_with("/blob/galleonstate/locks"), "{}", s.path);
        let mut st = state.lock().unwrap();
        let err = |status: u16, code: &str| Reply::empty(status).header("x-ms-error-code", code);
        Some(match (s.method.as_str(), s.query.as_str()) {
            ("PUT", "restype=container") => {
                if st.container {
                    return Some(err(409, "ContainerAlreadyExists"));
                }
                st.container = true;
                Reply::empty(201)
            }
            ("PUT", "comp=lease") => match s.header("x-ms-lease-action").unwrap() {
                "acquire" => {
                    assert_eq!(s.header("x-ms-lease-duration"), Some("60"));
                    let proposed = s.header("x-ms-proposed-lease-id").unwrap().to_string();
                    if st.lease.is_some() && st.lease.as_deref() != Some(&proposed) {
                        return Some(err(409, "LeaseAlreadyPresent"));
                    }
                    st.lease = Some(proposed.clone());
                    Reply::empty(201).header("x-ms-lease-id", &proposed)
                }
                "renew" if st.lease.as_deref() == s.header("x-ms-lease-id") => Reply::empty(200),
                "release" if st.lease.as_deref() == s.header("x-ms-lease-id") => {
                    st.lease = None;
                    Reply::empty(200)
                }
                "break" => {
                    st.lease = None;
                    Reply::empty(202)
                }
                _ => err(409, "LeaseIdMismatchWithLeaseOperation"),
            },
            ("PUT", "") => {
                assert_eq!(s.header("x-ms-blob-type"), Some("BlockBlob"));
                if s.header("if-none-match") == Some("*") && st.content.is_some() {
                    return Some(err(409, "BlobAlreadyExists"));
                }
                if st.lease.is_some() && st.lease.as_deref() != s.header("x-ms-lease-id") {
                    return Some(err(412, "LeaseIdMissing"));
                }
                st.content = Some(s.body.clone());
                Reply::empty(201)
            }
            ("GET", "") => match &st.content {
                Some(c) => Reply {
                    status: 200,
                    headers: vec![],
                    body: c.clone(),
                },
                None => err(404, "BlobNotFound"),
            },
            _ => Reply::empty(400),
        })
    }
}

#[tokio::test]
async fn second_locker_sees_who_holds_the_lock() {
    let state = Arc::new(Mutex::new(Blob::default()));
    let stub = Stub::start(blob_service(state.clone())).await;
    let client = stub_client(&stub);
    let lock = client
        .blob_lock(&b(), "galleonstate", "locks", "cross-tenant.lock")
        .unwrap();
    let lease = lock
        .lock("alice@laptop since 2026-01-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(
        state.lock().unwrap().content.as_deref(),
        Some("alice@laptop since 2026-01-01T00:00:00Z")
    );
    lock.renew(&lease).await.unwrap();

    let other = client
        .blob_lock(&b(), "galleonstate", "locks", "cross-tenant.lock")
        .unwrap();
    let err = other.lock("bob@ci").await.unwrap_err();
    let AzureError::LockHeld { holder } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(holder, "alice@laptop since 2026-01-01T00:00:00Z");
    assert!(err.hint().unwrap().contains("force-unlock"));

    lock.release(&lease).await.unwrap();
    let lease2 = other.lock("bob@ci").await.unwrap();
    assert_ne!(lease2, lease);
    other.break_lease().await.unwrap();
    assert!(state.lock().unwrap().lease.is_none());
    // Storage tokens are requested with the storage scope.
    assert!(
        stub.token_requests()
            .iter()
            .any(|t| t.form("scope").as_deref() == Some("https://storage.azure.com/.default"))
    );
}
