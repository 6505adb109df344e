//! The blob engine's containers, uploads and lease state machine, without a server.

use super::*;

fn req(
    method: &str,
    blob: Option<&str>,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> BlobRequest {
    let mut h: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    h.insert("x-ms-version".into(), "2023-11-03".into());
    BlobRequest {
        method: method.into(),
        account: "galleonlock".into(),
        container: "locks".into(),
        blob: blob.map(str::to_owned),
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        headers: h,
        body: b"holder".to_vec(),
    }
}

fn setup() -> BlobStore {
    let mut s = BlobStore::default();
    assert_eq!(
        handle(
            &mut s,
            &req("PUT", None, &[("restype", "container")], &[]),
            0
        )
        .status,
        201
    );
    let r = handle(
        &mut s,
        &req("PUT", None, &[("restype", "container")], &[]),
        0,
    );
    assert_eq!(
        (r.status, r.error_code()),
        (409, Some("ContainerAlreadyExists"))
    );
    assert_eq!(
        handle(
            &mut s,
            &req(
                "PUT",
                Some("ws.lock"),
                &[],
                &[("x-ms-blob-type", "BlockBlob")]
            ),
            0
        )
        .status,
        201
    );
    s
}

fn acquire(s: &mut BlobStore, id: &str, duration: &str, now: i64) -> BlobReply {
    handle(
        s,
        &req(
            "PUT",
            Some("ws.lock"),
            &[("comp", "lease")],
            &[
                ("x-ms-lease-action", "acquire"),
                ("x-ms-lease-duration", duration),
                ("x-ms-proposed-lease-id", id),
            ],
        ),
        now,
    )
}

fn lease(s: &mut BlobStore, action: &str, id: &str, now: i64) -> BlobReply {
    handle(
        s,
        &req(
            "PUT",
            Some("ws.lock"),
            &[("comp", "lease")],
            &[("x-ms-lease-action", action), ("x-ms-lease-id", id)],
        ),
        now,
    )
}

#[test]
fn acquire_conflict_release_reacquire() {
    let mut s = setup();
    let r = acquire(&mut s, "a", "60", 0);
    assert_eq!((r.status, r.header("x-ms-lease-id")), (201, Some("a")));
    let r = acquire(&mut s, "b", "60", 1000);
    assert_eq!(
        (r.status, r.error_code()),
        (409, Some("LeaseAlreadyPresent"))
    );
    assert!(String::from_utf8(r.body).unwrap().starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>LeaseAlreadyPresent</Code>"
    ));
    let r = lease(&mut s, "release", "b", 1000);
    assert_eq!(
        (r.status, r.error_code()),
        (409, Some("LeaseIdMismatchWithLeaseOperation"))
    );
    assert_eq!(lease(&mut s, "release", "a", 1000).status, 200);
    assert_eq!(acquire(&mut s, "b", "60", 2000).status, 201);
}

#[test]
fn lease_expires_and_renew_extends() {
    let mut s = setup();
    acquire(&mut s, "a", "15", 0);
    assert_eq!(lease(&mut s, "renew", "a", 14_000).status, 200);
    assert_eq!(
        acquire(&mut s, "b", "15", 20_000).error_code(),
        Some("LeaseAlreadyPresent")
    );
    assert_eq!(
        acquire(&mut s, "b", "15", 29_001).status,
        201,
        "expired leases can be taken"
    );
    assert_eq!(
        lease(&mut s, "renew", "a", 30_000).error_code(),
        Some("LeaseIdMismatchWithLeaseOperation")
    );
}

#[test]
fn writes_need_the_lease_id() {
    let mut s = setup();
    acquire(&mut s, "a", "-1", 0);
    let put = |s: &mut BlobStore, id: Option<&str>| {
        let mut h = vec![("x-ms-blob-type", "BlockBlob")];
        if let Some(id) = id {
            h.push(("x-ms-lease-id", id));
        }
        handle(s, &req("PUT", Some("ws.lock"), &[], &h), 5)
    };
    assert_eq!(put(&mut s, None).error_code(), Some("LeaseIdMissing"));
    assert_eq!(put(&mut s, None).status, 412);
    assert_eq!(
        put(&mut s, Some("zzz")).error_code(),
        Some("LeaseIdMismatchWithBlobOperation")
    );
    assert_eq!(put(&mut s, Some("a")).status, 201);
    let get = handle(&mut s, &req("GET", Some("ws.lock"), &[], &[]), 5);
    assert_eq!(get.body, b"holder");
    assert_eq!(get.header("x-ms-lease-state"), Some("leased"));
    assert_eq!(get.header("x-ms-lease-duration"), Some("infinite"));
}

#[test]
fn break_frees_the_blob() {
    let mut s = setup();
    acquire(&mut s, "a", "60", 0);
    let r = handle(
        &mut s,
        &req(
            "PUT",
            Some("ws.lock"),
            &[("comp", "lease")],
            &[
                ("x-ms-lease-action", "break"),
                ("x-ms-lease-break-period", "0"),
            ],
        ),
        1000,
    );
    assert_eq!((r.status, r.header("x-ms-lease-time")), (202, Some("0")));
    assert_eq!(
        lease(&mut s, "renew", "a", 1000).error_code(),
        Some("LeaseIsBrokenAndCannotBeRenewed")
    );
    assert_eq!(acquire(&mut s, "b", "60", 1000).status, 201);
}

#[test]
fn missing_things_and_headers() {
    let mut s = setup();
    assert_eq!(
        handle(&mut s, &req("GET", Some("nope"), &[], &[]), 0).error_code(),
        Some("BlobNotFound")
    );
    let mut r = req("GET", Some("ws.lock"), &[], &[]);
    r.container = "other".into();
    assert_eq!(
        handle(&mut s, &r, 0).error_code(),
        Some("ContainerNotFound")
    );
    r = req("GET", Some("ws.lock"), &[], &[]);
    r.headers.remove("x-ms-version");
    assert_eq!(handle(&mut s, &r, 0).status, 400);
    assert_eq!(
        acquire(&mut s, "a", "5", 0).error_code(),
        Some("InvalidHeaderValue")
    );
    let r = handle(
        &mut s,
        &req(
            "PUT",
            Some("ws.lock"),
            &[],
            &[("x-ms-blob-type", "BlockBlob"), ("if-none-match", "*")],
        ),
        0,
    );
    assert_eq!(r.error_code(), Some("BlobAlreadyExists"));
    assert_eq!(
        lease(&mut s, "release", "a", 0).error_code(),
        Some("LeaseNotPresentWithLeaseOperation")
    );
}

#[test]
fn break_without_a_period_ends_an_infinite_lease_now_and_a_fixed_one_at_its_end() {
    let mut s = setup();
    acquire(&mut s, "a", "-1", 0);
    let brk = |s: &mut BlobStore, now| {
        handle(
            s,
            &req(
                "PUT",
                Some("ws.lock"),
                &[("comp", "lease")],
                &[("x-ms-lease-action", "break")],
            ),
            now,
        )
    };
    assert_eq!(brk(&mut s, 0).header("x-ms-lease-time"), Some("0"));
    assert_eq!(acquire(&mut s, "b", "30", 0).status, 201);
    assert_eq!(brk(&mut s, 10_000).header("x-ms-lease-time"), Some("20"));
    assert_eq!(
        acquire(&mut s, "c", "30", 15_000).error_code(),
        Some("LeaseIsBreakingAndCannotBeAcquired")
    );
    assert_eq!(acquire(&mut s, "c", "30", 30_000).status, 201);
}
