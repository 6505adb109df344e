//! Microsoft Entra ID (v2.0 endpoints): OIDC discovery and signing keys here, the
//! client-credentials token endpoint in `token`, and the test OIDC issuer that stands in for
//! GitHub/Kubernetes in workload-identity tests in `oidc`.
//!
//! Wire facts: `/work/shared/azure/entra.md` §1-§4 (request fields, success body, AADSTS codes
//! and statuses, v1 access-token claims) and official-clients.md §i (what MSAL reads).

mod oidc;
mod token;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::Shared;
use crate::arm::json_response;
use crate::state::Tenant;

pub use oidc::{oidc_configuration, oidc_issuer, oidc_keys, oidc_token};
pub use token::token;

/// Entra's error body with Trace/Correlation ids and timestamp (entra.md §2).
pub(crate) fn aad_error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let now = OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let trace = Uuid::new_v4().to_string();
    let correlation = Uuid::new_v4().to_string();
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {stamp}"),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    json_response(status, no_store_headers(), Some(body))
}

pub(crate) fn no_store_headers() -> Vec<(String, String)> {
    vec![
        ("Cache-Control".into(), "no-store, no-cache".into()),
        ("Pragma".into(), "no-cache".into()),
        ("Expires".into(), "-1".into()),
        ("X-Content-Type-Options".into(), "nosniff".into()),
        ("x-ms-request-id".into(), Uuid::new_v4().to_string()),
        ("x-ms-ests-server".into(), "galleon-emulator".into()),
    ]
}

pub(crate) fn tenant_not_found(tenant: &str, discovery: bool) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        if discovery {
            "invalid_tenant"
        } else {
            "invalid_request"
        },
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
        ),
    )
}

fn resolve(shared: &Shared, tenant: &str) -> Option<Tenant> {
    shared.world().tenant(tenant).cloned()
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`, pointing back at the emulator.
pub async fn openid_configuration(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Response {
    let Some(t) = resolve(&shared, &tenant) else {
        return tenant_not_found(&tenant, true);
    };
    let (e, tid) = (&shared.endpoint, &t.id);
    let body = json!({
        "token_endpoint": format!("{e}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{e}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{e}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{e}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{e}/{tid}/oauth2/v2.0/devicecode"),
        "end_session_endpoint": format!("{e}/{tid}/oauth2/v2.0/logout"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    });
    let headers = vec![("Cache-Control".into(), "max-age=86400, private".into())];
    json_response(StatusCode::OK, headers, Some(body))
}

/// `GET /{tenant}/discovery/v2.0/keys` (also `/common/...`).
pub async fn keys(State(shared): State<Arc<Shared>>, Path(tenant): Path<String>) -> Response {
    let tid =
        if tenant.eq_ignore_ascii_case("common") || tenant.eq_ignore_ascii_case("organizations") {
            "{tenantid}".to_owned()
        } else {
            match resolve(&shared, &tenant) {
                Some(t) => t.id,
                None => return tenant_not_found(&tenant, true),
            }
        };
    let issuer = format!("{}/{tid}/v2.0", shared.endpoint);
    Json(json!({"keys": [shared.signer.jwk(Some(&issuer))]})).into_response()
}
