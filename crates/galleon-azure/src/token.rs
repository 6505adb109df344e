//! Access tokens per (tenant, scope): requested from Entra ID (or the Azure CLI), cached,
//! refreshed five minutes before they expire, one request at a time per key.
//!
//! Five minutes is what MSAL and azure-identity use (entra.md §7), and it also covers a long
//! apply: a VM PUT that waits on its operation gets a fresh token for its next request. Many
//! resources applied at once ask for the same token; a per-key async mutex makes them share a
//! single token request (single-flight) instead of sending one each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use crate::credential::{Credential, CredentialError, CredentialSpec};
use crate::entra::ClassifyName;
use crate::error::{AzureError, Principal, redact_url};
use crate::http::{Call, HttpCore};
use crate::ids::TenantId;
use crate::secret::Secret;

/// Tokens are refreshed when less than this is left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// An access token and when it expires.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub secret: Secret,
    /// When it expires, on this process's clock.
    pub expires_at: Instant,
}

impl AccessToken {
    fn fresh(&self, now: Instant) -> bool {
        self.expires_at.saturating_duration_since(now) > REFRESH_MARGIN
    }
}

/// Claims of an access token that galleon uses, decoded without verifying the signature (the
/// token came from Entra over TLS; galleon only reads who it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenClaims {
    /// The service principal's object id in the token's tenant.
    #[serde(default)]
    pub oid: Option<String>,
    /// The app id (v1 tokens).
    #[serde(default)]
    pub appid: Option<String>,
    /// The app id (v2 tokens).
    #[serde(default)]
    pub azp: Option<String>,
    /// The tenant.
    #[serde(default)]
    pub tid: Option<String>,
    /// Expiry, seconds since the epoch.
    #[serde(default)]
    pub exp: Option<i64>,
}

/// Decodes a JWT's payload without verifying it.
pub fn decode_claims<T: serde::de::DeserializeOwned>(jwt: &str) -> Option<T> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The principal (app id, object id, tenant) of an access token.
pub fn principal_of(token: &Secret) -> Option<Principal> {
    let c: TokenClaims = decode_claims(token.expose())?;
    Some(Principal {
        app_id: c.appid.or(c.azp),
        object_id: c.oid,
        tenant_id: c.tid,
    })
}

type Slot = Arc<tokio::sync::Mutex<Option<AccessToken>>>;

/// The token cache. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    http: Arc<HttpCore>,
    authority: Url,
    az_program: std::path::PathBuf,
    credentials: Mutex<HashMap<TenantId, Arc<Credential>>>,
    slots: Mutex<HashMap<(TenantId, String), Slot>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenants: Vec<String> = self
            .inner
            .credentials
            .lock()
            .expect("lock")
            .keys()
            .map(ToString::to_string)
            .collect();
        f.debug_struct("TokenCache")
            .field("authority", &self.inner.authority.as_str())
            .field("tenants", &tenants)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(http: Arc<HttpCore>, authority: Url, az_program: std::path::PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                authority,
                az_program,
                credentials: Mutex::new(HashMap::new()),
                slots: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Registers the credentials of every tenant galleon works with. Managed identity is
    /// refused when more than one tenant is configured.
    pub fn configure(&self, specs: &[CredentialSpec]) -> Result<(), CredentialError> {
        let tenants: std::collections::HashSet<&TenantId> =
            specs.iter().map(|s| &s.tenant_id).collect();
        let cross_tenant = tenants.len() > 1;
        let mut loaded = Vec::with_capacity(specs.len());
        for spec in specs {
            loaded.push((
                spec.tenant_id.clone(),
                Arc::new(Credential::load(
                    spec,
                    cross_tenant,
                    &self.inner.az_program,
                )?),
            ));
        }
        self.inner.credentials.lock().expect("lock").extend(loaded);
        Ok(())
    }

    /// A token for `tenant` and `scope`, from the cache when it has more than five minutes left.
    ///
    /// # Errors
    /// [`AzureError::Entra`] when Entra refuses (with the AADSTS code), [`AzureError::Credential`]
    /// when no credential is configured or it cannot be read.
    pub async fn token(&self, tenant: &TenantId, scope: &str) -> Result<AccessToken, AzureError> {
        let slot = self.slot(tenant, scope);
        let mut guard = slot.lock().await;
        if let Some(t) = guard.as_ref()
            && t.fresh(Instant::now())
        {
            return Ok(t.clone());
        }
        let token = self.request(tenant, scope).await?;
        *guard = Some(token.clone());
        Ok(token)
    }

    /// Drops the cached token so the next [`TokenCache::token`] asks again (after ARM said
    /// `ExpiredAuthenticationToken`, e.g. because of clock skew).
    pub async fn invalidate(&self, tenant: &TenantId, scope: &str) {
        *self.slot(tenant, scope).lock().await = None;
    }

    /// The object id of galleon's service principal in `tenant` (the `oid` claim of an ARM
    /// token): what role assignments name as `principalId`.
    pub async fn object_id(&self, tenant: &TenantId, scope: &str) -> Result<String, AzureError> {
        let token = self.token(tenant, scope).await?;
        principal_of(&token.secret)
            .and_then(|p| p.object_id)
            .ok_or_else(|| AzureError::InvalidResponse {
                url: format!("token for tenant {tenant}"),
                detail: "the access token has no oid claim".into(),
            })
    }

    fn slot(&self, tenant: &TenantId, scope: &str) -> Slot {
        self.inner
            .slots
            .lock()
            .expect("lock")
            .entry((tenant.clone(), scope.to_string()))
            .or_default()
            .clone()
    }

    fn credential(&self, tenant: &TenantId) -> Result<Arc<Credential>, CredentialError> {
        self.inner
            .credentials
            .lock()
            .expect("lock")
            .get(tenant)
            .cloned()
            .ok_or_else(|| CredentialError::NoCredential {
                tenant: tenant.clone(),
            })
    }

    async fn request(&self, tenant: &TenantId, scope: &str) -> Result<AccessToken, AzureError> {
        let credential = self.credential(tenant)?;
        let (client_id, form): (&str, Vec<(&str, String)>) = match credential.as_ref() {
            Credential::AzureCli { program } => {
                return crate::entra::azure_cli_token(program, tenant, scope).await;
            }
            Credential::ClientSecret { client_id, secret } => (
                client_id,
                vec![("client_secret", secret.expose().to_string())],
            ),
            Credential::Federated { client_id, .. } => {
                let assertion = credential
                    .assertion()?
                    .expect("federated credential has an assertion");
                (
                    client_id,
                    vec![
                        (
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
                        ),
                        ("client_assertion", assertion.expose().to_string()),
                    ],
                )
            }
        };
        let mut fields = vec![
            ("client_id", client_id.to_string()),
            ("scope", scope.to_string()),
            ("grant_type", "client_credentials".to_string()),
        ];
        fields.extend(form);
        let body = crate::entra::form_body(&fields);
        let url = self
            .inner
            .authority
            .join(&format!("{tenant}/oauth2/v2.0/token"))
            .map_err(|e| AzureError::Config(format!("token URL: {e}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        // Asking twice for a token has no side effect, so the request is idempotent.
        let call = Call {
            method: Method::POST,
            url: url.clone(),
            headers,
            body: Some(body.into_bytes()),
            auth: None,
            idempotent: true,
            limit: None,
        };
        let resp = self.inner.http.send(&call, None).await?;
        if !resp.status.is_success() {
            let assertion = match credential.as_ref() {
                Credential::Federated { .. } => {
                    let claims = credential
                        .assertion()
                        .ok()
                        .flatten()
                        .and_then(|a| crate::entra::assertion_claims(&a));
                    credential.forget_assertion();
                    claims
                }
                _ => None,
            };
            return Err(crate::entra::parse_entra_error(
                resp.status.as_u16(),
                &resp.body,
                tenant,
                client_id,
                &self.inner.authority,
                assertion,
            )
            .into());
        }
        #[derive(Deserialize)]
        struct Success {
            access_token: String,
            expires_in: crate::entra::NumOrString,
        }
        let ok: Success =
            serde_json::from_slice(&resp.body).map_err(|e| AzureError::InvalidResponse {
                url: redact_url(&url),
                detail: format!("token response: {}", e.classify_name()),
            })?;
        let secs = ok
            .expires_in
            .seconds()
            .ok_or_else(|| AzureError::InvalidResponse {
                url: redact_url(&url),
                detail: "token response: expires_in is not a number".into(),
            })?;
        tracing::debug!(%tenant, scope, expires_in = secs, "obtained an access token");
        Ok(AccessToken {
            secret: Secret::new(ok.access_token),
            expires_at: Instant::now() + Duration::from_secs(secs.max(0) as u64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: serde_json::Value) -> String {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            b64(br#"{"alg":"RS256","typ":"JWT"}"#),
            b64(payload.to_string().as_bytes())
        )
    }

    #[test]
    fn oid_and_appid_are_read_from_a_token() {
        let t = Secret::new(jwt(
            serde_json::json!({"oid":"sp-oid","appid":"app","tid":"t","exp":1}),
        ));
        let p = principal_of(&t).unwrap();
        assert_eq!(p.object_id.as_deref(), Some("sp-oid"));
        assert_eq!(p.app_id.as_deref(), Some("app"));
        assert_eq!(p.tenant_id.as_deref(), Some("t"));
        assert!(principal_of(&Secret::new("not-a-jwt")).is_none());
    }

    #[test]
    fn token_freshness_uses_a_five_minute_margin() {
        let now = Instant::now();
        let t = |secs| AccessToken {
            secret: Secret::new("t"),
            expires_at: now + Duration::from_secs(secs),
        };
        assert!(t(301).fresh(now));
        assert!(!t(300).fresh(now));
        assert!(!t(0).fresh(now));
    }
}
