//! Microsoft Entra ID (v2.0 endpoints) and ARM's cloud metadata: OIDC discovery, signing keys,
//! the client-credentials token endpoint (secret and federated assertion), and the test OIDC
//! issuer that stands in for GitHub/Kubernetes in workload-identity tests.
//!
//! Wire facts: `/work/shared/azure/entra.md` §1-§4 (request fields, success body, AADSTS codes
//! and statuses, v1 access-token claims) and official-clients.md §i/§iii (what MSAL and az read).

use std::sync::Arc;

use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::Shared;
use crate::arm::json_response;
use crate::state::{App, Tenant};

/// `GET /metadata/endpoints`: the cloud description `az cloud register` and galleon read.
pub async fn metadata_endpoints(State(shared): State<Arc<Shared>>) -> Response {
    let e = &shared.endpoint;
    let body = json!({
        "name": "GalleonEmulator",
        "portal": e,
        "authentication": {
            "loginEndpoint": format!("{e}/"),
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "media": e,
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "resourceManager": format!("{e}/"),
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "gallery": e,
        "sqlManagement": e,
        "vmImageAliasDoc": format!("{e}/vmImageAliasDoc"),
        "batch": "https://batch.core.windows.net/",
        // No `storage` suffix: blobs are served path-style at `{endpoint}/blob/{account}`, and a
        // client that saw `core.windows.net` here would send tokens to the real Azure Storage.
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net"
        }
    });
    json_response(StatusCode::OK, Vec::new(), Some(body))
}

/// Entra's error body with Trace/Correlation ids and timestamp (entra.md §2).
fn aad_error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
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

fn no_store_headers() -> Vec<(String, String)> {
    vec![
        ("Cache-Control".into(), "no-store, no-cache".into()),
        ("Pragma".into(), "no-cache".into()),
        ("Expires".into(), "-1".into()),
        ("X-Content-Type-Options".into(), "nosniff".into()),
        ("x-ms-request-id".into(), Uuid::new_v4().to_string()),
        ("x-ms-ests-server".into(), "galleon-emulator".into()),
    ]
}

fn tenant_not_found(tenant: &str, discovery: bool) -> Response {
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

/// The resource audience a client-credentials scope names, or the AADSTS error to answer.
fn audience_of(scope: &str) -> Result<String, (u32, String)> {
    let scopes: Vec<&str> = scope
        .split_whitespace()
        .filter(|s| !matches!(*s, "openid" | "profile" | "offline_access" | "email"))
        .collect();
    let [single] = scopes.as_slice() else {
        return Err((
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        ));
    };
    let Some(resource) = single.strip_suffix("/.default") else {
        return Err((
            1002012,
            format!(
                "The provided value for scope {single} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    };
    let known = [
        "https://management.azure.com",
        "https://management.azure.com/",
        "https://management.core.windows.net",
        "https://management.core.windows.net/",
        "https://storage.azure.com",
        "https://storage.azure.com/",
        "https://graph.microsoft.com",
    ];
    if known.contains(&resource) {
        Ok(resource.to_owned())
    } else {
        Err((
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {single} is not valid."
            ),
        ))
    }
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|v| v.into_iter().next().map(|(_, v)| v))
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// `POST /{tenant}/oauth2/v2.0/token` (client_credentials).
pub async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let world = shared.world();
    let now = world.now();
    let Some(t) = world.tenant(&tenant).cloned() else {
        if Uuid::parse_str(&tenant).is_err() && !tenant.contains('.') {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900023,
                &format!(
                    "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."
                ),
            );
        }
        return tenant_not_found(&tenant, false);
    };
    if param(&form, "resource").is_some() {
        // The v2.0 endpoint takes scopes only (entra.md §1).
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            901002,
            "The 'resource' request parameter isn't supported.",
        );
    }
    let basic = basic_credentials(&headers);
    let missing = |name: &str| {
        aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            &format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let Some(grant) = param(&form, "grant_type") else {
        return missing("grant_type");
    };
    if grant != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let client_id = param(&form, "client_id")
        .map(str::to_owned)
        .or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let Some(client_id) = client_id else {
        return missing("client_id");
    };
    let Some(scope) = param(&form, "scope") else {
        return missing("scope");
    };
    let app = world.app(&client_id).cloned();
    let sp = world.service_principal(&client_id, &t.id).cloned();
    let (Some(app), Some(sp)) = (app, sp) else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                t.display_name
            ),
        );
    };
    let secret = param(&form, "client_secret")
        .map(str::to_owned)
        .or_else(|| basic.map(|b| b.1));
    let acr = match (secret, param(&form, "client_assertion")) {
        (Some(secret), _) => match check_secret(&app, &secret) {
            Ok(()) => "1",
            Err(r) => return r,
        },
        (None, Some(assertion)) => match check_assertion(&shared, &app, assertion, now) {
            Ok(()) => "2",
            Err(r) => return r,
        },
        (None, None) => {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
    };
    let aud = match audience_of(scope) {
        Ok(a) => a,
        Err((code, text)) => {
            return aad_error(StatusCode::BAD_REQUEST, "invalid_scope", code, &text);
        }
    };
    let lifetime = world.settings.token_lifetime_secs as i64;
    let iat = now.unix_timestamp() - 300;
    let issuer = format!("https://sts.windows.net/{}/", t.id);
    let claims = json!({
        "aud": aud, "iss": issuer, "iat": iat, "nbf": iat, "exp": now.unix_timestamp() + lifetime,
        "aio": "emulator", "appid": app.app_id, "appidacr": acr, "idp": issuer, "idtyp": "app",
        "oid": sp.object_id, "rh": "0.emulator.", "sub": sp.object_id, "tid": t.id,
        "uti": Uuid::new_v4().simple().to_string(), "ver": "1.0",
    });
    drop(world);
    let access_token = shared.signer.sign(&claims);
    let body = json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token});
    json_response(StatusCode::OK, no_store_headers(), Some(body))
}

fn check_secret(app: &App, secret: &str) -> Result<(), Response> {
    match app.secrets.iter().find(|s| s.value == secret) {
        Some(s) if s.expired => Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            &format!(
                "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                app.app_id
            ),
        )),
        Some(_) => Ok(()),
        None => Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.app_id
            ),
        )),
    }
}

/// The test OIDC issuer URL.
pub fn oidc_issuer(endpoint: &str) -> String {
    format!("{endpoint}/_emulator/oidc")
}

fn check_assertion(
    shared: &Shared,
    app: &App,
    assertion: &str,
    now: OffsetDateTime,
) -> Result<(), Response> {
    let malformed = || {
        aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50027,
            "JWT token is invalid or malformed.",
        )
    };
    let claims = crate::token::peek_claims(assertion).ok_or_else(malformed)?;
    let iss = claims["iss"].as_str().unwrap_or_default();
    // Only our own issuer's keys are reachable offline; other issuers are trusted on their claims.
    if iss == oidc_issuer(&shared.endpoint) && shared.signer.verify(assertion).is_err() {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "Client assertion failed signature validation.",
        ));
    }
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let nbf = claims["nbf"].as_i64().unwrap_or(i64::MIN);
    let fmt = |t: i64| {
        OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    };
    if exp < now.unix_timestamp() || nbf > now.unix_timestamp() + 300 {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {}, expiry time of assertion {}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
                fmt(now.unix_timestamp()),
                fmt(exp)
            ),
        ));
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    let auds: Vec<String> = match &claims["aud"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let by_issuer: Vec<_> = app
        .federated_credentials
        .iter()
        .filter(|f| f.issuer == iss)
        .collect();
    let hint = "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation";
    if by_issuer.is_empty() {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700211,
            &format!(
                "No matching federated identity record found for presented assertion issuer '{iss}'. {hint}"
            ),
        ));
    }
    let by_subject: Vec<_> = by_issuer.into_iter().filter(|f| f.subject == sub).collect();
    if by_subject.is_empty() {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700213,
            &format!(
                "No matching federated identity record found for presented assertion subject '{sub}'. {hint}"
            ),
        ));
    }
    if !by_subject
        .iter()
        .any(|f| f.audiences.iter().any(|a| auds.contains(a)))
    {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{}'. {hint}",
                auds.join(",")
            ),
        ));
    }
    Ok(())
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
