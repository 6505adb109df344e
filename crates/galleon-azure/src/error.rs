//! The one error type of galleon's Azure client, and the typed ARM and Entra errors inside it.
//!
//! Callers (plan, apply, the CLI) match on these to decide what to show and whether a failure is
//! the user's to fix; [`AzureError::hint`] turns known causes into a `hint:` line (texts in
//! [`crate::hints`]). No variant ever holds a token or a client secret.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::credential::CredentialError;
use crate::ids::TenantId;

/// Everything that can go wrong talking to Azure.
#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    /// ARM (or a resource provider behind it) answered with an error envelope.
    #[error(transparent)]
    Arm(Box<ArmError>),
    /// Microsoft Entra ID refused to issue a token.
    #[error(transparent)]
    Entra(Box<EntraError>),
    /// A credential could not be loaded or used (missing variable, unreadable file, `az` failed).
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// The request could not be sent, or its response could not be read.
    #[error("{method} {url}: the request failed")]
    Transport {
        /// HTTP method.
        method: String,
        /// URL without its query string.
        url: String,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// An operation did not finish within the time galleon allows it.
    #[error("{what} did not finish within {limit:?}")]
    Timeout {
        /// What was being waited for (a request, a long-running operation).
        what: String,
        /// The limit that was reached.
        limit: Duration,
    },
    /// A long-running operation ended `Failed` or `Canceled`.
    #[error("{method} {resource_id}: the operation ended {status}: {}", error.summary())]
    LroFailed {
        /// HTTP method of the request that started the operation.
        method: String,
        /// The resource the operation worked on.
        resource_id: String,
        /// The terminal status (`Failed`, `Canceled`).
        status: String,
        /// The `error` of the status document.
        error: Box<ArmErrorBody>,
    },
    /// Azure kept throttling past galleon's total retry time.
    #[error(
        "{method} {url}: still throttled after waiting {waited:?} (last Retry-After {retry_after:?})"
    )]
    ThrottledOut {
        /// HTTP method.
        method: String,
        /// URL without its query string.
        url: String,
        /// How long galleon already waited.
        waited: Duration,
        /// The server's last `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// A URL pointed at a host galleon does not send credentials to.
    #[error(
        "refusing to send a request with credentials to {url}: not the configured ARM, authority or blob endpoint"
    )]
    ForbiddenHost {
        /// The refused URL, without its query string.
        url: String,
    },
    /// A response was not what the API documents (bad JSON, missing field).
    #[error("{url}: unexpected response: {detail}")]
    InvalidResponse {
        /// URL without its query string.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// Invalid configuration: an endpoint URL, a CA file, an argument.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The apply lock is held by someone else.
    #[error("the apply lock is held: {holder}")]
    LockHeld {
        /// The lock blob's content: who holds it and since when.
        holder: String,
    },
}

impl AzureError {
    /// A one-line suggestion for known causes, without the `hint: ` prefix.
    pub fn hint(&self) -> Option<String> {
        match self {
            AzureError::Arm(e) => crate::hints::arm_hint(e),
            AzureError::Entra(e) => crate::hints::entra_hint(e),
            AzureError::Credential(e) => crate::hints::credential_hint(e),
            AzureError::LroFailed { error, .. } => {
                crate::hints::code_hint(&error.code, &error.message)
            }
            AzureError::ThrottledOut { .. } => {
                crate::hints::code_hint("SubscriptionRequestsThrottled", "")
            }
            AzureError::LockHeld { .. } => Some(crate::hints::LOCK_HELD.to_string()),
            _ => None,
        }
    }

    /// The ARM error code, when this is an ARM error or a failed operation.
    pub fn arm_code(&self) -> Option<&str> {
        match self {
            AzureError::Arm(e) => Some(&e.code),
            AzureError::LroFailed { error, .. } => Some(&error.code),
            _ => None,
        }
    }

    /// The HTTP status of an ARM or Entra error.
    pub fn status(&self) -> Option<u16> {
        match self {
            AzureError::Arm(e) => Some(e.status),
            AzureError::Entra(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether ARM said the resource (or its group) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, AzureError::Arm(e) if e.status == 404)
    }
}

impl From<ArmError> for AzureError {
    fn from(e: ArmError) -> Self {
        AzureError::Arm(Box::new(e))
    }
}

impl From<EntraError> for AzureError {
    fn from(e: EntraError) -> Self {
        AzureError::Entra(Box::new(e))
    }
}

/// ARM's `error` object: `{"code","message","target","details":[...]}` (arm-errors.md §0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmErrorBody {
    /// The error code (`LinkedAuthorizationFailed`, `GalleryImageNotFound`, ...).
    #[serde(default)]
    pub code: String,
    /// The message, as Azure wrote it.
    #[serde(default)]
    pub message: String,
    /// What the error is about (`imageReference`, `osProfile`), when given.
    #[serde(default)]
    pub target: Option<String>,
    /// Nested errors (throttling details, deployment failures).
    #[serde(default)]
    pub details: Vec<ArmErrorBody>,
}

impl ArmErrorBody {
    /// Parses an ARM error body. Accepts the enveloped form `{"error":{...}}` and the bare form
    /// that the Compute RP's throttling responses use (arm-protocol.md §1.4).
    pub fn parse(body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Envelope {
            error: ArmErrorBody,
        }
        if let Ok(env) = serde_json::from_slice::<Envelope>(body) {
            return Some(env.error);
        }
        serde_json::from_slice::<ArmErrorBody>(body)
            .ok()
            .filter(|b| !b.code.is_empty())
    }

    fn summary(&self) -> String {
        format!("{}: {}", self.code, self.message)
    }
}

/// The principal that made a failed request, read from its token's claims (for hints).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// The app (client) id, `appid` claim.
    pub app_id: Option<String>,
    /// The service principal's object id in the token's tenant, `oid` claim.
    pub object_id: Option<String>,
    /// The token's tenant, `tid` claim.
    pub tenant_id: Option<String>,
}

/// An error answered by Azure Resource Manager.
#[derive(Debug, Clone)]
pub struct ArmError {
    /// HTTP status.
    pub status: u16,
    /// `error.code`, or `HttpStatus<N>` when the body had none.
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// `error.target`.
    pub target: Option<String>,
    /// `error.details`.
    pub details: Vec<ArmErrorBody>,
    /// `x-ms-request-id`.
    pub request_id: Option<String>,
    /// `x-ms-correlation-request-id`.
    pub correlation_id: Option<String>,
    /// HTTP method of the failed request.
    pub method: String,
    /// The resource id (URL path) of the failed request.
    pub resource_id: String,
    /// Who made the request, when known.
    pub principal: Option<Principal>,
    /// Tenants whose tokens went in `x-ms-authorization-auxiliary`.
    pub aux_tenants: Vec<TenantId>,
    /// The gallery image the request body referenced (`imageReference.id`), for hints.
    pub linked_image: Option<String>,
}

impl ArmError {
    /// Builds the error from a response's status, request ids and body.
    pub fn from_response(
        status: u16,
        method: &str,
        resource_id: &str,
        request_id: Option<String>,
        correlation_id: Option<String>,
        body: &[u8],
    ) -> Self {
        let parsed = ArmErrorBody::parse(body).unwrap_or_else(|| ArmErrorBody {
            code: format!("HttpStatus{status}"),
            message: String::from_utf8_lossy(body).chars().take(500).collect(),
            ..ArmErrorBody::default()
        });
        ArmError {
            status,
            code: parsed.code,
            message: parsed.message,
            target: parsed.target,
            details: parsed.details,
            request_id,
            correlation_id,
            method: method.to_string(),
            resource_id: resource_id.to_string(),
            principal: None,
            aux_tenants: Vec::new(),
            linked_image: None,
        }
    }
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} {}: {}",
            self.method, self.resource_id, self.status, self.code, self.message
        )?;
        if let Some(target) = &self.target {
            write!(f, " (target {target})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ArmError {}

/// An error answered by the Entra ID token endpoint (entra.md §2).
#[derive(Debug, Clone)]
pub struct EntraError {
    /// HTTP status (400 or 401 mostly).
    pub status: u16,
    /// OAuth error (`invalid_client`, `unauthorized_client`, ...).
    pub error: String,
    /// The `AADSTS` codes, from `error_codes` or the description's prefix.
    pub codes: Vec<u32>,
    /// The description up to Entra's trace block (which is noise for users).
    pub description: String,
    /// The tenant the token was requested from.
    pub tenant: TenantId,
    /// The app that asked.
    pub client_id: String,
    /// `trace_id`, for support requests.
    pub trace_id: Option<String>,
    /// `correlation_id`, for support requests.
    pub correlation_id: Option<String>,
    /// Claims of the federated assertion that was presented, for mismatch hints.
    pub assertion: Option<AssertionClaims>,
    /// The authority host, to build consent links.
    pub authority: String,
}

/// The claims of a federated assertion that Entra matches against a federated credential.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssertionClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud` (joined with `, ` when several).
    pub audience: String,
}

impl EntraError {
    /// The first AADSTS code.
    pub fn aadsts(&self) -> Option<u32> {
        self.codes.first().copied()
    }
}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token request for app {} in tenant {} failed: {} {}: {}",
            self.client_id, self.tenant, self.status, self.error, self.description
        )
    }
}

impl std::error::Error for EntraError {}

/// Keeps only `api-version` from a URL's query: queries can carry SAS signatures or skip tokens
/// that have no place in logs or errors.
pub fn redact_url(url: &url::Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path());
    if let Some((_, v)) = url.query_pairs().find(|(k, _)| k == "api-version") {
        out.push_str("?api-version=");
        out.push_str(&v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_enveloped_and_bare_error_bodies() {
        let enveloped =
            br#"{"error":{"code":"GalleryImageNotFound","message":"m","target":"imageReference"}}"#;
        let b = ArmErrorBody::parse(enveloped).unwrap();
        assert_eq!(b.code, "GalleryImageNotFound");
        assert_eq!(b.target.as_deref(), Some("imageReference"));
        let bare = br#"{"code":"OperationNotAllowed","message":"too many","details":[{"code":"TooManyRequests","target":"HighCostGet","message":"x"}]}"#;
        let b = ArmErrorBody::parse(bare).unwrap();
        assert_eq!(b.code, "OperationNotAllowed");
        assert_eq!(b.details[0].target.as_deref(), Some("HighCostGet"));
        assert!(ArmErrorBody::parse(b"<html>").is_none());
    }

    #[test]
    fn arm_error_without_body_gets_a_status_code() {
        let e = ArmError::from_response(502, "GET", "/subscriptions/s", None, None, b"bad gateway");
        assert_eq!(e.code, "HttpStatus502");
        assert!(
            e.to_string()
                .contains("GET /subscriptions/s: 502 HttpStatus502: bad gateway")
        );
    }

    #[test]
    fn redact_url_keeps_only_the_api_version() {
        let u =
            url::Url::parse("https://acct.blob.core.windows.net/c/b?sig=SECRET&api-version=1&x=2")
                .unwrap();
        assert_eq!(
            redact_url(&u),
            "https://acct.blob.core.windows.net/c/b?api-version=1"
        );
        let u = url::Url::parse("https://127.0.0.1:8443/p?$skipToken=abc").unwrap();
        assert_eq!(redact_url(&u), "https://127.0.0.1:8443/p");
    }
}
