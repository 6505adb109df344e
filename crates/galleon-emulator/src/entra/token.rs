//! `POST /{tenant}/oauth2/v2.0/token` (client_credentials): client secret in the body or Basic,
//! or a `client_assertion` matched against the app's federated identity credentials; answers
//! v1 access tokens or Entra's AADSTS errors (entra.md §1-§3).

use std::sync::{Arc, OnceLock};

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{aad_error, no_store_headers, oidc_issuer, tenant_not_found};
use crate::app::Shared;
use crate::arm::json_response;
use crate::state::App;
use crate::token::Signer;

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
    // Before March 2026 Entra still signed a registered multi-tenant app in where it had no
    // service principal, with a token carrying no object id (entra.md §5).
    let sp_less = app.is_some() && sp.is_none() && world.settings.service_principal_less_tokens;
    let (Some(app), Some(sp)) = (app, sp.map(Some).or(sp_less.then_some(None))) else {
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
    let mut claims = json!({
        "aud": aud, "iss": issuer, "iat": iat, "nbf": iat, "exp": now.unix_timestamp() + lifetime,
        "aio": "emulator", "appid": app.app_id, "appidacr": acr, "idp": issuer, "idtyp": "app",
        "rh": "0.emulator.", "tid": t.id,
        "uti": Uuid::new_v4().simple().to_string(), "ver": "1.0",
    });
    if let Some(sp) = &sp {
        claims["oid"] = json!(sp.object_id);
        claims["sub"] = json!(sp.object_id);
    }
    let other_cloud = world.settings.other_cloud_tenants.iter().any(|o| {
        o.eq_ignore_ascii_case(&t.id)
            || t.domain
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(o))
    });
    drop(world);
    let access_token = if other_cloud {
        other_cloud_signer().sign(&claims)
    } else {
        shared.signer.sign(&claims)
    };
    let body = json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token});
    json_response(StatusCode::OK, no_store_headers(), Some(body))
}

/// Another cloud's Entra signing key: generated once per process, published nowhere, so no
/// token it signs verifies at this ARM.
fn other_cloud_signer() -> &'static Signer {
    static KEY: OnceLock<Signer> = OnceLock::new();
    KEY.get_or_init(|| Signer::generate().expect("RSA key generation"))
}

fn check_secret(app: &App, secret: &str) -> Result<(), Response> {
    let digest = crate::state::secret_digest(secret);
    match app.secrets.iter().find(|s| s.value == digest) {
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
