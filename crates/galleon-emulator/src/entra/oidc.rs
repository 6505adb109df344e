//! The test OIDC issuer under `/_emulator/oidc`: mints workload-identity tokens (what GitHub
//! Actions or a Kubernetes cluster would issue) signed by the emulator's key, with discovery and
//! JWKS documents, so federated credentials can be tested without a real issuer.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::Shared;

/// The test OIDC issuer URL.
pub fn oidc_issuer(endpoint: &str) -> String {
    format!("{endpoint}/_emulator/oidc")
}

/// `POST /_emulator/oidc/token` `{"subject","audience"[,"lifetime_secs"]}`: a workload-identity
/// token signed by the emulator (stands in for GitHub's or a cluster's issuer).
pub async fn oidc_token(State(shared): State<Arc<Shared>>, Json(req): Json<Value>) -> Response {
    let now = shared.world().now();
    let lifetime = req["lifetime_secs"].as_i64().unwrap_or(600);
    let claims = json!({
        "iss": oidc_issuer(&shared.endpoint),
        "sub": req["subject"].as_str().unwrap_or_default(),
        "aud": req["audience"].as_str().unwrap_or("api://AzureADTokenExchange"),
        "iat": now.unix_timestamp(),
        "nbf": now.unix_timestamp(),
        "exp": now.unix_timestamp() + lifetime,
        "jti": Uuid::new_v4().to_string(),
    });
    Json(json!({"token": shared.signer.sign(&claims)})).into_response()
}

/// The test issuer's OIDC discovery document.
pub async fn oidc_configuration(State(shared): State<Arc<Shared>>) -> Response {
    let iss = oidc_issuer(&shared.endpoint);
    Json(json!({
        "issuer": iss,
        "jwks_uri": format!("{iss}/keys"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

/// The test issuer's JWKS.
pub async fn oidc_keys(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"keys": [shared.signer.jwk(None)]})).into_response()
}
