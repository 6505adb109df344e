//! The blob lease data plane through HTTPS, with the token and role checks Storage applies.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use crate::world::*;

const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

fn seed_with_account(data_role: bool) -> galleon_emulator::Seed {
    let mut s = seed();
    let account = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/galleonlock",
        rg_path(SUB_A, RG_GOLDEN)
    );
    s.resources
        .push(res(account.clone(), "westeurope", json!({})));
    if data_role {
        s.role_assignments.push(grant(
            APP,
            TENANT_A,
            "Storage Blob Data Contributor",
            &account,
        ));
    }
    s
}

async fn call(
    ctx: &TestContext,
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> reqwest::Response {
    let mut rb = ctx
        .http
        .request(method, ctx.url(path))
        .bearer_auth(token)
        .header("x-ms-version", "2023-11-03");
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.body(body.to_owned()).send().await.expect("blob request")
}

fn code(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn lease_acquire_conflict_release() {
    let ctx = TestContext::start(seed_with_account(true)).await;
    let t = ctx.token_for(APP, TENANT_A, STORAGE_SCOPE).await;
    let c = "/blob/galleonlock/locks";
    let blob = "/blob/galleonlock/locks/cross-tenant.lock";
    assert_eq!(
        call(
            &ctx,
            Method::PUT,
            &format!("{c}?restype=container"),
            &t,
            &[],
            ""
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let r = call(
        &ctx,
        Method::PUT,
        &format!("{c}?restype=container"),
        &t,
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status(), code(&r)),
        (StatusCode::CONFLICT, "ContainerAlreadyExists".into())
    );
    assert_eq!(
        call(
            &ctx,
            Method::PUT,
            blob,
            &t,
            &[("x-ms-blob-type", "BlockBlob")],
            ""
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let lease = |action: &'static str, extra: Vec<(&'static str, &'static str)>| {
        let mut h = vec![("x-ms-lease-action", action)];
        h.extend(extra);
        h
    };
    let r = call(
        &ctx,
        Method::PUT,
        &format!("{blob}?comp=lease"),
        &t,
        &lease(
            "acquire",
            vec![
                ("x-ms-lease-duration", "60"),
                (
                    "x-ms-proposed-lease-id",
                    "11111111-0000-0000-0000-000000000001",
                ),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.headers()["x-ms-lease-id"],
        "11111111-0000-0000-0000-000000000001"
    );
    let r = call(
        &ctx,
        Method::PUT,
        &format!("{blob}?comp=lease"),
        &t,
        &lease(
            "acquire",
            vec![
                ("x-ms-lease-duration", "60"),
                (
                    "x-ms-proposed-lease-id",
                    "22222222-0000-0000-0000-000000000002",
                ),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(
        (r.status(), code(&r)),
        (StatusCode::CONFLICT, "LeaseAlreadyPresent".into())
    );
    let text = r.text().await.unwrap();
    assert!(text.starts_with("<?xml") && text.contains("<Code>LeaseAlreadyPresent</Code>"));
    // Writing without the lease id: 412.
    let r = call(
        &ctx,
        Method::PUT,
        blob,
        &t,
        &[("x-ms-blob-type", "BlockBlob")],
        "me",
    )
    .await;
    assert_eq!(
        (r.status(), code(&r)),
        (StatusCode::PRECONDITION_FAILED, "LeaseIdMissing".into())
    );
    let r = call(
        &ctx,
        Method::PUT,
        blob,
        &t,
        &[
            ("x-ms-blob-type", "BlockBlob"),
            ("x-ms-lease-id", "11111111-0000-0000-0000-000000000001"),
        ],
        "holder: me",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = call(&ctx, Method::GET, blob, &t, &[], "").await;
    assert_eq!(r.headers()["x-ms-lease-state"], "leased");
    assert_eq!(r.text().await.unwrap(), "holder: me");
    let r = call(
        &ctx,
        Method::PUT,
        &format!("{blob}?comp=lease"),
        &t,
        &lease(
            "release",
            vec![("x-ms-lease-id", "22222222-0000-0000-0000-000000000002")],
        ),
        "",
    )
    .await;
    assert_eq!(
        (r.status(), code(&r)),
        (
            StatusCode::CONFLICT,
            "LeaseIdMismatchWithLeaseOperation".into()
        )
    );
    let r = call(
        &ctx,
        Method::PUT,
        &format!("{blob}?comp=lease"),
        &t,
        &lease(
            "release",
            vec![("x-ms-lease-id", "11111111-0000-0000-0000-000000000001")],
        ),
        "",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A 60 s lease taken again expires when the clock moves.
    let r = call(
        &ctx,
        Method::PUT,
        &format!("{blob}?comp=lease"),
        &t,
        &lease("acquire", vec![("x-ms-lease-duration", "15")]),
        "",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    ctx.emu.advance_clock(16);
    let r = call(
        &ctx,
        Method::PUT,
        &format!("{blob}?comp=lease"),
        &t,
        &lease("acquire", vec![("x-ms-lease-duration", "15")]),
        "",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = call(
        &ctx,
        Method::PUT,
        &format!("{blob}?comp=lease"),
        &t,
        &lease("break", vec![("x-ms-lease-break-period", "0")]),
        "",
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn storage_needs_a_storage_token_and_the_data_role() {
    let ctx = TestContext::start(seed_with_account(false)).await;
    let storage = ctx.token_for(APP, TENANT_A, STORAGE_SCOPE).await;
    let arm = ctx.token_a().await;
    let path = "/blob/galleonlock/locks?restype=container";
    let r = call(&ctx, Method::PUT, path, &arm, &[], "").await;
    assert_eq!(
        (r.status(), code(&r)),
        (StatusCode::UNAUTHORIZED, "InvalidAuthenticationInfo".into())
    );
    assert!(r.headers().contains_key("www-authenticate"));
    // Contributor (an Owner-like control-plane role) is not enough for data.
    let r = call(&ctx, Method::PUT, path, &storage, &[], "").await;
    assert_eq!(
        (r.status(), code(&r)),
        (
            StatusCode::FORBIDDEN,
            "AuthorizationPermissionMismatch".into()
        )
    );
    let other = ctx.token_for(APP, TENANT_B, STORAGE_SCOPE).await;
    let r = call(&ctx, Method::PUT, path, &other, &[], "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = ctx
        .http
        .put(ctx.url(path))
        .header("x-ms-version", "2023-11-03")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status(), code(&r)),
        (
            StatusCode::UNAUTHORIZED,
            "NoAuthenticationInformation".into()
        )
    );
}
