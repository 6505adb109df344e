//! The one place requests leave galleon: TLS setup, the host allowlist, the retry loop, rate
//! limiting, token attachment and request logging.
//!
//! Every ARM, token and blob request goes through [`HttpCore::send`], so the rules hold
//! everywhere: tokens only go to the configured hosts over https, `x-ms-authorization-auxiliary`
//! only when the caller asked for it, retries follow [`crate::retry`], and logs carry method,
//! redacted URL, status, duration and request id but never a header value or a token body.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::error::{ArmErrorBody, AzureError, Principal, redact_url};
use crate::ids::TenantId;
use crate::limiter::{OpKind, RateLimiter};
use crate::retry::{self, Decision, Outcome, RetryConfig};
use crate::secret::Secret;
use crate::token::TokenCache;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("galleon/", env!("CARGO_PKG_VERSION"));

/// Header carrying tokens for the other tenants a write references (arm-errors.md §3).
pub const AUX_HEADER: &str = "x-ms-authorization-auxiliary";

/// ARM accepts at most three auxiliary tokens.
pub const MAX_AUX_TENANTS: usize = 3;

/// Builds the reqwest client: rustls with the `ring` provider, the webpki roots and the extra
/// CA, HTTP/2 and HTTP/1.1, no redirects (a redirect could carry a token to another host).
pub fn build_client(ca_pem: Option<&str>) -> Result<reqwest::Client, AzureError> {
    build_client_with_timeout(ca_pem, Duration::from_secs(120))
}

pub(crate) fn build_client_with_timeout(
    ca_pem: Option<&str>,
    timeout: Duration,
) -> Result<reqwest::Client, AzureError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = ca_pem {
        let mut reader = std::io::BufReader::new(pem.as_bytes());
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut reader) {
            let cert = cert.map_err(|e| AzureError::Config(format!("CA file: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| AzureError::Config(format!("CA file: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(AzureError::Config(
                "CA file holds no PEM certificate".into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AzureError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true)
        .connect_timeout(Duration::from_secs(15))
        .timeout(timeout)
        .build()
        .map_err(|e| AzureError::Config(format!("HTTP client: {e}")))
}

/// Origins (host and port over https) that may receive credentials.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    origins: Vec<(String, u16)>,
    blob_suffix: Option<String>,
}

impl AllowedHosts {
    /// Allows the origin of `url`.
    pub fn allow(&mut self, url: &Url) {
        if let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) {
            self.origins.push((host.to_ascii_lowercase(), port));
        }
    }

    /// Allows `*.blob.{suffix}` on port 443 (storage accounts of a public cloud).
    pub fn allow_blob_suffix(&mut self, suffix: &str) {
        self.blob_suffix = Some(format!(".blob.{}", suffix.to_ascii_lowercase()));
    }

    /// Whether `url` may receive credentials.
    pub fn permits(&self, url: &Url) -> bool {
        if url.scheme() != "https" {
            return false;
        }
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.origins.iter().any(|(h, p)| *h == host && *p == port)
            || self
                .blob_suffix
                .as_ref()
                .is_some_and(|s| port == 443 && host.ends_with(s.as_str()) && host.len() > s.len())
    }
}

/// What a request needs for authentication.
#[derive(Debug, Clone)]
pub(crate) struct Auth {
    pub tenant: TenantId,
    pub scope: String,
    pub aux: Vec<TenantId>,
}

/// One logical request (retried as a whole).
#[derive(Debug)]
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    /// The body; may contain a secret (token requests), so it is never logged.
    pub body: Option<Vec<u8>>,
    pub auth: Option<Auth>,
    pub idempotent: bool,
    /// Rate-limit bucket: subscription (or `""`) and op type.
    pub limit: Option<(String, OpKind)>,
}

/// A response read to the end.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Who the primary token belongs to, for error hints.
    pub principal: Option<Principal>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Shared HTTP machinery.
#[derive(Debug)]
pub(crate) struct HttpCore {
    pub client: reqwest::Client,
    pub allowed: AllowedHosts,
    pub retry: RetryConfig,
    pub limiter: Arc<RateLimiter>,
    /// The per-exchange timeout the client was built with, for [`AzureError::Timeout`].
    pub request_timeout: Duration,
}

impl HttpCore {
    /// Sends `call`, retrying per [`crate::retry`], and returns the final response whatever
    /// its status; errors are transport failures, throttling past the cap and refused hosts.
    pub async fn send(
        &self,
        call: &Call,
        tokens: Option<&TokenCache>,
    ) -> Result<RawResponse, AzureError> {
        let redacted = redact_url(&call.url);
        if !self.allowed.permits(&call.url) {
            return Err(AzureError::ForbiddenHost { url: redacted });
        }
        if let Some(auth) = &call.auth
            && auth.aux.len() > MAX_AUX_TENANTS
        {
            return Err(AzureError::Config(format!(
                "a request may reference at most {MAX_AUX_TENANTS} other tenants, got {}",
                auth.aux.len()
            )));
        }
        // One id for the logical request, kept across retries so Azure's logs tie them together.
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let started = tokio::time::Instant::now();
        let mut backoff = self.retry.backoff();
        let mut waited = Duration::ZERO;
        let mut attempts = 0u32;
        let mut refreshed = false;
        loop {
            attempts += 1;
            let _permit = match &call.limit {
                Some((sub, kind)) => Some(self.limiter.acquire(sub, *kind).await),
                None => None,
            };
            let (request, principal) = self.build(call, tokens, &client_request_id).await?;
            let sent_at = tokio::time::Instant::now();
            let result = self.client.execute(request).await;
            let (outcome_status, response) = match result {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(body) => (
                            Some(status),
                            Some(RawResponse {
                                status,
                                headers,
                                body: body.to_vec(),
                                principal,
                            }),
                        ),
                        Err(source) if attempts >= self.retry.max_attempts || !call.idempotent => {
                            return Err(AzureError::Transport {
                                method: call.method.to_string(),
                                url: redacted,
                                source,
                            });
                        }
                        Err(source) => {
                            tracing::info!(method = %call.method, url = %redacted, error = %chain(&source), "reading the response failed; retrying");
                            (None, None)
                        }
                    }
                }
                Err(source) if certificate_rejected(&source) => {
                    // An untrusted or mismatched certificate does not heal by waiting.
                    return Err(AzureError::Transport {
                        method: call.method.to_string(),
                        url: redacted,
                        source,
                    });
                }
                Err(source) => {
                    let outcome = if source.is_connect() {
                        Outcome::ConnectFailed
                    } else {
                        Outcome::SendFailed
                    };
                    let decision = retry::decide(outcome, call.idempotent, refreshed);
                    let step = backoff.next().unwrap_or(self.retry.max_delay);
                    let wait = retry::next_wait(
                        retry::RetryReason::Transport,
                        None,
                        step,
                        waited,
                        self.retry.total_cap,
                    );
                    match (decision, wait) {
                        (Decision::Retry(_), Some(wait)) if attempts < self.retry.max_attempts => {
                            tracing::info!(method = %call.method, url = %redacted, error = %chain(&source), wait_ms = wait.as_millis() as u64, attempt = attempts, "request failed; retrying");
                            tokio::time::sleep(wait).await;
                            waited += wait;
                            continue;
                        }
                        _ if source.is_timeout() => {
                            return Err(AzureError::Timeout {
                                what: format!("{} {redacted}", call.method),
                                limit: self.request_timeout,
                            });
                        }
                        _ => {
                            return Err(AzureError::Transport {
                                method: call.method.to_string(),
                                url: redacted,
                                source,
                            });
                        }
                    }
                }
            };
            let Some(response) = response else {
                let wait = backoff.next().unwrap_or(self.retry.max_delay);
                tokio::time::sleep(wait).await;
                waited += wait;
                continue;
            };
            let status = outcome_status.expect("status with response");
            tracing::debug!(
                method = %call.method,
                url = %redacted,
                status = status.as_u16(),
                duration_ms = sent_at.elapsed().as_millis() as u64,
                request_id = response.header("x-ms-request-id").unwrap_or(""),
                "azure request"
            );
            if let Some((sub, kind)) = &call.limit {
                self.limiter.observe(sub, *kind, &response.headers);
            }
            // ARM names its 401s in a JSON body; Storage (the lock blob) in `x-ms-error-code`.
            let code = (status.as_u16() == 401)
                .then(|| {
                    ArmErrorBody::parse(&response.body)
                        .map(|b| b.code)
                        .or_else(|| response.header("x-ms-error-code").map(str::to_owned))
                })
                .flatten();
            match retry::decide(
                Outcome::Status {
                    status: status.as_u16(),
                    code: code.as_deref(),
                },
                call.idempotent,
                refreshed,
            ) {
                Decision::GiveUp => return Ok(response),
                Decision::RefreshToken => {
                    refreshed = true;
                    if let (Some(tokens), Some(auth)) = (tokens, &call.auth) {
                        tracing::info!(method = %call.method, url = %redacted, tenant = %auth.tenant, "token expired at the server; refreshing once");
                        tokens.invalidate(&auth.tenant, &auth.scope).await;
                        for t in &auth.aux {
                            tokens.invalidate(t, &auth.scope).await;
                        }
                        continue;
                    }
                    return Ok(response);
                }
                Decision::Retry(reason) => {
                    // Floored so that a server repeating `Retry-After: 0` cannot spin the loop
                    // past the total cap: waiting a little longer than asked still honours it.
                    let server_wait =
                        retry::retry_after(&response.headers).map(|w| w.max(self.retry.min_delay));
                    let step = backoff.next().unwrap_or(self.retry.max_delay);
                    let out_of_attempts = reason != retry::RetryReason::Throttled
                        && attempts >= self.retry.max_attempts;
                    let wait =
                        retry::next_wait(reason, server_wait, step, waited, self.retry.total_cap);
                    match wait {
                        Some(wait) if !out_of_attempts => {
                            if reason == retry::RetryReason::Throttled {
                                tracing::info!(method = %call.method, url = %redacted, wait_s = wait.as_secs_f64(), "throttled by Azure (429); waiting as Retry-After asks");
                            } else {
                                tracing::info!(method = %call.method, url = %redacted, status = status.as_u16(), wait_ms = wait.as_millis() as u64, attempt = attempts, "server error; retrying");
                            }
                            tokio::time::sleep(wait).await;
                            waited += wait;
                        }
                        _ if reason == retry::RetryReason::Throttled => {
                            return Err(AzureError::ThrottledOut {
                                method: call.method.to_string(),
                                url: redacted,
                                waited: started.elapsed(),
                                retry_after: server_wait,
                            });
                        }
                        _ => return Ok(response),
                    }
                }
            }
        }
    }

    async fn build(
        &self,
        call: &Call,
        tokens: Option<&TokenCache>,
        client_request_id: &str,
    ) -> Result<(reqwest::Request, Option<Principal>), AzureError> {
        let mut builder = self
            .client
            .request(call.method.clone(), call.url.clone())
            .headers(call.headers.clone())
            .header("x-ms-client-request-id", client_request_id);
        let mut principal = None;
        if let Some(auth) = &call.auth {
            let tokens = tokens.ok_or_else(|| {
                AzureError::Config("no token cache for an authenticated call".into())
            })?;
            // Boxed: token requests go through `send` too, which makes the future type recursive.
            let primary = Box::pin(tokens.token(&auth.tenant, &auth.scope)).await?;
            principal = crate::token::principal_of(&primary.secret);
            builder = builder.header(
                AUTHORIZATION,
                sensitive(&format!("Bearer {}", primary.secret.expose()))?,
            );
            if !auth.aux.is_empty() {
                let mut aux = Vec::with_capacity(auth.aux.len());
                for tenant in &auth.aux {
                    aux.push(Box::pin(tokens.token(tenant, &auth.scope)).await?.secret);
                }
                builder = builder.header(
                    HeaderName::from_static(AUX_HEADER),
                    sensitive(&aux_header_value(&aux))?,
                );
            }
        }
        if let Some(body) = &call.body {
            builder = builder.body(body.clone());
        }
        let request = builder.build().map_err(|source| AzureError::Transport {
            method: call.method.to_string(),
            url: redact_url(&call.url),
            source,
        })?;
        Ok((request, principal))
    }
}

/// Whether TLS refused the server's certificate (rustls says "invalid peer certificate: ...").
pub(crate) fn certificate_rejected(error: &reqwest::Error) -> bool {
    chain(error).to_ascii_lowercase().contains("certificate")
}

/// An error and its causes, `a: b: c`, for log lines (uv's retry logging).
fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

/// `Bearer <t1>, Bearer <t2>`: comma-separated as ARM documents and the Azure CLI sends
/// (arm-errors.md §3, azure-cli PR#16797).
pub fn aux_header_value(tokens: &[Secret]) -> String {
    tokens
        .iter()
        .map(|t| format!("Bearer {}", t.expose()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A header value marked sensitive, so that hyper and reqwest never print it.
fn sensitive(value: &str) -> Result<HeaderValue, AzureError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        AzureError::Config("a token holds characters not allowed in a header".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_matches_origin_exactly() {
        let mut a = AllowedHosts::default();
        a.allow(&Url::parse("https://management.azure.com/").unwrap());
        a.allow(&Url::parse("https://127.0.0.1:8443/").unwrap());
        a.allow_blob_suffix("core.windows.net");
        assert!(a.permits(&Url::parse("https://MANAGEMENT.azure.com/subscriptions?x=1").unwrap()));
        assert!(a.permits(&Url::parse("https://127.0.0.1:8443/x").unwrap()));
        assert!(
            !a.permits(&Url::parse("https://127.0.0.1:8444/x").unwrap()),
            "another port is another origin"
        );
        assert!(
            !a.permits(&Url::parse("http://management.azure.com/").unwrap()),
            "never over plain http"
        );
        assert!(!a.permits(&Url::parse("https://management.azure.com.evil.example/").unwrap()));
        assert!(a.permits(&Url::parse("https://acct.blob.core.windows.net/c/b").unwrap()));
        assert!(!a.permits(&Url::parse("https://blob.core.windows.net/").unwrap()));
        assert!(
            !a.permits(&Url::parse("https://acct.blob.core.windows.net.evil.example/").unwrap())
        );
    }

    #[test]
    fn aux_header_joins_bearer_tokens_with_commas() {
        let v = aux_header_value(&[Secret::new("t1"), Secret::new("t2")]);
        assert_eq!(v, "Bearer t1, Bearer t2");
    }

    #[test]
    fn sensitive_header_values_do_not_print() {
        let v = sensitive("Bearer canary-token").unwrap();
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("canary"));
    }

    #[test]
    fn the_client_builds_with_an_extra_ca_and_rejects_garbage() {
        assert!(build_client(None).is_ok());
        assert!(matches!(
            build_client(Some("not a pem")),
            Err(AzureError::Config(_))
        ));
    }
}
