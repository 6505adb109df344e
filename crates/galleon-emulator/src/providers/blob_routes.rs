//! The blob data plane's HTTP side: `{endpoint}/blob/{account}/{container}[/{blob}]`. Checks
//! what Storage checks before touching data (bearer token for `https://storage.azure.com` from
//! the account's tenant, the `Storage Blob Data Contributor` data actions — Owner is not
//! enough, as in Azure) and hands the request to the `blob` engine, whose state lives in
//! `State::extensions["blob"]`. Storage account resources themselves are ordinary ARM
//! documents (seeded, or PUT through the generic provider registered here).

use std::collections::BTreeMap;

use axum::http::StatusCode;

use crate::arm::auth::{TokenProblem, verify_token};
use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::rbac;
use crate::arm::registry::{RawCtx, RawReply, RawRequest, Registry, ResourceType};
use crate::providers::blob::{self, BlobReply, BlobRequest, BlobStore};
use crate::providers::generic;
use crate::providers::glue::{self, now_ms};

/// Storage RP api-versions (specification/storage/resource-manager/Microsoft.Storage/stable/*).
pub const STORAGE_VERSIONS: &[&str] = &[
    "2021-04-01",
    "2021-09-01",
    "2022-05-01",
    "2022-09-01",
    "2023-01-01",
    "2023-04-01",
    "2023-05-01",
    "2024-01-01",
    "2025-01-01",
    "2025-06-01",
];

const ACCOUNT: &str = "Microsoft.Storage/storageAccounts";
const AUDIENCES: [&str; 2] = ["https://storage.azure.com", "https://storage.azure.com/"];

/// Registers storage accounts (control plane) and the blob data plane.
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        get: Some(generic::get),
        put: Some(put_account),
        patch: Some(generic::patch),
        delete: Some(delete_account),
        list: Some(list_accounts),
        ..ResourceType::new("Microsoft.Storage", "storageAccounts", STORAGE_VERSIONS)
    });
    r.register_raw("/blob/", handle);
}

fn put_account(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let name = req.path.name().unwrap_or_default().to_owned();
    generic::put(
        ctx,
        req,
        ACCOUNT,
        generic::PutOptions::default(),
        |body, _| {
            let p = &mut body["properties"];
            p["primaryEndpoints"] =
                serde_json::json!({ "blob": format!("https://{name}.blob.core.windows.net/") });
            if body["kind"].is_null() {
                body["kind"] = "StorageV2".into();
            }
            Ok(())
        },
    )
}

fn delete_account(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    generic::delete(ctx, req, ACCOUNT, false)
}

fn list_accounts(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, ACCOUNT, |r| r.body.clone()))
}

fn raw(r: BlobReply) -> RawReply {
    RawReply {
        status: StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers: r.headers,
        body: r.body,
    }
}

fn handle(ctx: &mut RawCtx<'_>, req: &RawRequest) -> RawReply {
    let now = now_ms(ctx.now);
    let mut parts = req.path.trim_start_matches("/blob/").splitn(3, '/');
    let account = parts.next().unwrap_or_default().to_owned();
    let container = parts.next().unwrap_or_default().to_owned();
    let blob_name = parts.next().filter(|b| !b.is_empty()).map(str::to_owned);
    if account.is_empty() || container.is_empty() {
        return raw(blob::error(
            400,
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
            now,
        ));
    }
    // The account is a seeded or PUT ARM resource; its subscription's tenant must issue the token.
    let found = ctx.state.resources.values().find(|r| {
        r.resource_type.eq_ignore_ascii_case(ACCOUNT)
            && r.id
                .rsplit('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(&account))
    });
    let Some(acct) = found else {
        return raw(blob::error(
            404,
            "ResourceNotFound",
            "The specified resource does not exist.",
            now,
        ));
    };
    let account_id = acct.id.clone();
    let tenant = acct
        .id
        .split('/')
        .nth(2)
        .and_then(|s| ctx.state.subscription(s))
        .map(|s| s.tenant.clone())
        .unwrap_or_default();
    let token = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let challenge = format!(
        "Bearer authorization_uri={}/{tenant}/oauth2/authorize resource_id=https://storage.azure.com",
        ctx.endpoint
    );
    let unauth = |code: &str, msg: &str| {
        raw(blob::error(401, code, msg, now)).with_header("WWW-Authenticate", &challenge)
    };
    let Some(token) = token else {
        return unauth(
            "NoAuthenticationInformation",
            "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
        );
    };
    let principal = match verify_token(ctx.signer, token, ctx.now, &AUDIENCES) {
        Ok((p, _)) => p,
        Err(TokenProblem::Expired(..)) => {
            return unauth(
                "InvalidAuthenticationInfo",
                "Lifetime validation failed. The token is expired.",
            );
        }
        Err(TokenProblem::WrongAudience(_)) => {
            return unauth(
                "InvalidAuthenticationInfo",
                "Audience validation failed. Audience did not match.",
            );
        }
        Err(_) => {
            return unauth(
                "InvalidAuthenticationInfo",
                "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
            );
        }
    };
    if !principal.tenant.eq_ignore_ascii_case(&tenant) {
        return unauth(
            "InvalidAuthenticationInfo",
            "Issuer validation failed. Issuer did not match.",
        );
    }
    let verb = match req.method.as_str() {
        "GET" | "HEAD" => "read",
        "DELETE" => "delete",
        _ => "write",
    };
    let action = format!("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{verb}");
    let scope = format!("{account_id}/blobServices/default/containers/{container}");
    if !rbac::is_allowed(ctx.state, &principal.object_id, &action, &scope, true) {
        return raw(blob::error(
            403,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
            now,
        ));
    }
    let headers: BTreeMap<String, String> = req
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let breq = BlobRequest {
        method: req.method.as_str().to_owned(),
        account,
        container,
        blob: blob_name,
        query: req.query.clone(),
        headers,
        body: req.body.clone(),
    };
    let mut store: BlobStore = ctx
        .state
        .extensions
        .get("blob")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let reply = blob::handle(&mut store, &breq, now);
    if let Ok(v) = serde_json::to_value(&store) {
        ctx.state.extensions.insert("blob".into(), v);
    }
    raw(reply)
}

trait WithHeader {
    fn with_header(self, k: &str, v: &str) -> Self;
}

impl WithHeader for RawReply {
    fn with_header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}
