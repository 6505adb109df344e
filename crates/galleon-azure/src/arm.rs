//! `ArmClient`: galleon's calls to Azure Resource Manager.
//!
//! Reads (GET, list with `nextLink`, Resource Graph) and writes (PUT, PATCH, DELETE, POST)
//! against `{endpoint}{id}?api-version=...`, with the api-version from [`crate::api_version`].
//! Writes wait for their long-running operation ([`crate::lro`]). Only a write whose caller
//! names other tenants carries `x-ms-authorization-auxiliary`; reads and polls never do, and
//! no request leaves for a host other than the cloud's own (pain-points.md: tools that drop or
//! misroute the auxiliary header are the most reported cross-tenant bug).

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, IF_MATCH, IF_NONE_MATCH};
use serde_json::Value;
use url::Url;

use crate::cloud::Cloud;
use crate::credential::{CredentialError, CredentialSpec};
use crate::error::{ArmError, AzureError, redact_url};
use crate::http::{AllowedHosts, Auth, Call, HttpCore, RawResponse};
use crate::ids::{TenantId, subscription_of};
use crate::limiter::{OpKind, RateLimiter};
use crate::request::{ArmRequest, ArmResponse, ClientOptions, LroConfig};
use crate::token::TokenCache;

/// galleon's ARM client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ArmClient {
    pub(crate) inner: Arc<ArmInner>,
}

#[derive(Debug)]
pub(crate) struct ArmInner {
    pub cloud: Cloud,
    pub http: Arc<HttpCore>,
    pub tokens: TokenCache,
    pub lro: LroConfig,
}

impl ArmClient {
    /// A client for `cloud`. Tokens go only to the cloud's ARM endpoint, authority host and
    /// blob endpoints.
    pub fn new(cloud: Cloud, options: ClientOptions) -> Result<Self, AzureError> {
        let client =
            crate::http::build_client_with_timeout(cloud.ca_pem(), options.request_timeout)?;
        let mut allowed = AllowedHosts::default();
        allowed.allow(&cloud.arm_endpoint());
        allowed.allow(&cloud.authority_host());
        if let Some(suffix) = cloud.storage_suffix() {
            allowed.allow_blob_suffix(suffix);
        }
        let http = Arc::new(HttpCore {
            client,
            allowed,
            retry: options.retry,
            limiter: Arc::new(RateLimiter::new(options.limiter)),
            request_timeout: options.request_timeout,
        });
        let tokens = TokenCache::new(http.clone(), cloud.authority_host(), options.az_program);
        Ok(Self {
            inner: Arc::new(ArmInner {
                cloud,
                http,
                tokens,
                lro: options.lro,
            }),
        })
    }

    /// The cloud this client talks to.
    pub fn cloud(&self) -> &Cloud {
        &self.inner.cloud
    }

    /// The client-side rate limiter every request goes through (the applier asks it which
    /// steps ARM would admit now).
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        &self.inner.http.limiter
    }

    /// The token cache (for object ids and storage tokens).
    pub fn tokens(&self) -> &TokenCache {
        &self.inner.tokens
    }

    /// Registers the credential of every tenant (see [`TokenCache::configure`]).
    pub fn configure_credentials(&self, specs: &[CredentialSpec]) -> Result<(), CredentialError> {
        self.inner.tokens.configure(specs)
    }

    /// The object id of galleon's service principal in `tenant`.
    pub async fn object_id(&self, tenant: &TenantId) -> Result<String, AzureError> {
        self.inner
            .tokens
            .object_id(tenant, &self.inner.cloud.arm_scope())
            .await
    }

    /// `GET {id}`.
    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<ArmResponse, AzureError> {
        self.send(ArmRequest::new(Method::GET, tenant, id)).await
    }

    /// `GET {id}`, `None` when ARM answers 404 (the resource or its group does not exist).
    pub async fn get_optional(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<ArmResponse>, AzureError> {
        match self.get(tenant, id).await {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT {id}` and wait for the operation; returns the final resource.
    pub async fn put(
        &self,
        tenant: &TenantId,
        id: &str,
        body: &Value,
        aux_tenants: &[TenantId],
    ) -> Result<ArmResponse, AzureError> {
        self.send(ArmRequest {
            body: Some(body),
            aux_tenants,
            ..ArmRequest::new(Method::PUT, tenant, id)
        })
        .await
    }

    /// `PATCH {id}` and wait for the operation; returns the final resource.
    pub async fn patch(
        &self,
        tenant: &TenantId,
        id: &str,
        body: &Value,
        aux_tenants: &[TenantId],
    ) -> Result<ArmResponse, AzureError> {
        self.send(ArmRequest {
            body: Some(body),
            aux_tenants,
            ..ArmRequest::new(Method::PATCH, tenant, id)
        })
        .await
    }

    /// `DELETE {id}` and wait until it is gone. `Ok(false)` when it did not exist.
    pub async fn delete(
        &self,
        tenant: &TenantId,
        id: &str,
        aux_tenants: &[TenantId],
    ) -> Result<bool, AzureError> {
        match self
            .send(ArmRequest {
                aux_tenants,
                ..ArmRequest::new(Method::DELETE, tenant, id)
            })
            .await
        {
            // ARM answers 204 to a DELETE of something that does not exist.
            Ok(r) => Ok(r.status != 204),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `POST {path}` (an action such as `.../galleries/{g}/share`) and wait for its operation.
    pub async fn post(
        &self,
        tenant: &TenantId,
        path: &str,
        body: Option<&Value>,
        aux_tenants: &[TenantId],
        idempotent: bool,
    ) -> Result<ArmResponse, AzureError> {
        self.send(ArmRequest {
            body,
            aux_tenants,
            idempotent,
            ..ArmRequest::new(Method::POST, tenant, path)
        })
        .await
    }

    /// `GET {path}` of a collection, following `nextLink` to the end; returns every `value` item.
    pub async fn list(&self, tenant: &TenantId, path: &str) -> Result<Vec<Value>, AzureError> {
        self.list_with(tenant, path, None, &[]).await
    }

    /// Like [`ArmClient::list`] with query parameters (`$filter=atScope()`, `$expand`) and an
    /// optional api-version; `nextLink` pages keep whatever the server put in them.
    pub async fn list_with(
        &self,
        tenant: &TenantId,
        path: &str,
        api_version: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<Vec<Value>, AzureError> {
        self.list_keeping(tenant, path, api_version, query, Some)
            .await
    }

    /// Like [`ArmClient::list_with`], handing each item to `keep` as soon as its page is
    /// parsed and returning what it keeps: a caller that needs only part of each body never
    /// holds a whole listing (a plan of thousands of VMs would, page after page).
    pub async fn list_keeping<T>(
        &self,
        tenant: &TenantId,
        path: &str,
        api_version: Option<&str>,
        query: &[(&str, &str)],
        keep: impl FnMut(Value) -> Option<T>,
    ) -> Result<Vec<T>, AzureError> {
        let first = self.url_for(path, api_version, query)?;
        self.list_from(tenant, first, keep).await
    }

    pub(crate) async fn list_from<T>(
        &self,
        tenant: &TenantId,
        first: Url,
        mut keep: impl FnMut(Value) -> Option<T>,
    ) -> Result<Vec<T>, AzureError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let raw = self
                .exchange(
                    Method::GET,
                    tenant,
                    url.clone(),
                    None,
                    &[],
                    HeaderMap::new(),
                    true,
                )
                .await?;
            let mut resp = self.ok_or_error(&raw, "GET", url.path())?;
            drop(raw);
            if let Some(Value::Array(values)) = resp.body.get_mut("value").map(Value::take) {
                items.extend(values.into_iter().filter_map(&mut keep));
            }
            next = match resp.body.get("nextLink").and_then(Value::as_str) {
                Some(link) if !link.is_empty() => {
                    Some(Url::parse(link).map_err(|e| AzureError::InvalidResponse {
                        url: redact_url(&url),
                        detail: format!("nextLink: {e}"),
                    })?)
                }
                _ => None,
            };
        }
        Ok(items)
    }

    /// Sends a request in full.
    ///
    /// # Errors
    /// [`AzureError::Arm`] for an ARM error response (with the principal and auxiliary tenants
    /// attached for hints), [`AzureError::LroFailed`] when the operation ends `Failed` or
    /// `Canceled`, and the transport, throttling, timeout and host errors.
    pub async fn send(&self, req: ArmRequest<'_>) -> Result<ArmResponse, AzureError> {
        // Reads never carry other tenants' tokens: a read of another tenant's resource uses
        // that tenant's own token as the primary one.
        if !req.aux_tenants.is_empty() && (req.method == Method::GET || req.method == Method::HEAD)
        {
            return Err(AzureError::Config(format!(
                "{} {}: auxiliary tenants are only sent on writes",
                req.method, req.path
            )));
        }
        let query: Vec<(&str, &str)> = req.query.clone();
        let url = self.url_for(req.path, req.api_version, &query)?;
        let mut headers = HeaderMap::new();
        if let Some(v) = req.if_match {
            headers.insert(IF_MATCH, header_value(v)?);
        }
        if let Some(v) = req.if_none_match {
            headers.insert(IF_NONE_MATCH, header_value(v)?);
        }
        let body = match req.body {
            Some(b) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Some(serde_json::to_vec(b).expect("JSON values serialize"))
            }
            None => None,
        };
        let idempotent = req.idempotent || req.method != Method::POST;
        let raw = self
            .exchange(
                req.method.clone(),
                req.tenant,
                url.clone(),
                body,
                req.aux_tenants,
                headers,
                idempotent,
            )
            .await?;
        if !raw.status.is_success() {
            let mut err = self.arm_error(&raw, req.method.as_str(), req.path, req.aux_tenants);
            if let (AzureError::Arm(e), Some(body)) = (&mut err, req.body) {
                e.linked_image = image_reference(body);
            }
            return Err(err);
        }
        if req.method == Method::GET || !req.wait {
            return ArmResponse::from_raw(&raw);
        }
        crate::lro::complete(self, req.tenant, &req.method, &url, req.path, raw).await
    }

    /// One logical request (retried by the HTTP core) with the tenant's token.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn exchange(
        &self,
        method: Method,
        tenant: &TenantId,
        url: Url,
        body: Option<Vec<u8>>,
        aux: &[TenantId],
        headers: HeaderMap,
        idempotent: bool,
    ) -> Result<RawResponse, AzureError> {
        let kind = OpKind::of_method(&method);
        self.exchange_inner(method, tenant, url, body, aux, headers, idempotent, kind)
            .await
    }

    /// A read-only POST (Resource Graph): charged as `kind`, retried like a GET.
    pub(crate) async fn exchange_with_kind(
        &self,
        method: Method,
        tenant: &TenantId,
        url: Url,
        body: Option<Vec<u8>>,
        headers: HeaderMap,
        kind: OpKind,
    ) -> Result<RawResponse, AzureError> {
        self.exchange_inner(method, tenant, url, body, &[], headers, true, kind)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn exchange_inner(
        &self,
        method: Method,
        tenant: &TenantId,
        url: Url,
        body: Option<Vec<u8>>,
        aux: &[TenantId],
        headers: HeaderMap,
        idempotent: bool,
        kind: OpKind,
    ) -> Result<RawResponse, AzureError> {
        // ARM tokens go to the ARM endpoint only: not even to the authority host, whatever a
        // nextLink or operation URL says.
        let arm = self.inner.cloud.arm_endpoint();
        if url.scheme() != "https"
            || url.host_str() != arm.host_str()
            || url.port_or_known_default() != arm.port_or_known_default()
        {
            return Err(AzureError::ForbiddenHost {
                url: redact_url(&url),
            });
        }
        let sub = subscription_of(url.path()).unwrap_or("").to_string();
        let call = Call {
            method,
            url,
            headers,
            body,
            auth: Some(Auth {
                tenant: tenant.clone(),
                scope: self.inner.cloud.arm_scope(),
                aux: other_tenants(tenant, aux),
            }),
            idempotent,
            limit: Some((sub, kind)),
        };
        self.inner.http.send(&call, Some(&self.inner.tokens)).await
    }

    pub(crate) fn ok_or_error(
        &self,
        raw: &RawResponse,
        method: &str,
        path: &str,
    ) -> Result<ArmResponse, AzureError> {
        if raw.status.is_success() {
            ArmResponse::from_raw(raw)
        } else {
            Err(self.arm_error(raw, method, path, &[]))
        }
    }

    pub(crate) fn arm_error(
        &self,
        raw: &RawResponse,
        method: &str,
        path: &str,
        aux: &[TenantId],
    ) -> AzureError {
        let mut e = ArmError::from_response(
            raw.status.as_u16(),
            method,
            path,
            raw.header("x-ms-request-id").map(str::to_string),
            raw.header("x-ms-correlation-request-id")
                .map(str::to_string),
            &raw.body,
        );
        e.principal = raw.principal.clone();
        e.aux_tenants = aux.to_vec();
        e.into()
    }

    /// `{endpoint}{path}?api-version=...&{query}`.
    pub(crate) fn url_for(
        &self,
        path: &str,
        api_version: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<Url, AzureError> {
        if !path.starts_with('/') {
            return Err(AzureError::Config(format!(
                "an ARM path must start with '/': {path}"
            )));
        }
        let version = match api_version {
            Some(v) => v,
            None => crate::api_version::for_id(path).ok_or_else(|| {
                AzureError::Config(format!(
                    "no pinned api-version for {path}; pass one explicitly"
                ))
            })?,
        };
        let base = self.inner.cloud.arm_endpoint();
        let mut url = Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
            .map_err(|e| AzureError::Config(format!("bad ARM path {path}: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api-version", version);
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }
}

/// The gallery image a VM or scale-set body references by id.
fn image_reference(body: &Value) -> Option<String> {
    [
        "/properties/storageProfile/imageReference/id",
        "/properties/virtualMachineProfile/storageProfile/imageReference/id",
    ]
    .iter()
    .find_map(|p| body.pointer(p).and_then(Value::as_str))
    .map(str::to_string)
}

/// The auxiliary tenants to send: without the primary tenant (ARM ignores a token for the
/// subscription's own tenant, and it would use one of the three slots) and without repeats.
fn other_tenants(primary: &TenantId, aux: &[TenantId]) -> Vec<TenantId> {
    let mut out: Vec<TenantId> = Vec::with_capacity(aux.len());
    for t in aux {
        if t != primary && !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

fn header_value(v: &str) -> Result<HeaderValue, AzureError> {
    HeaderValue::from_str(v).map_err(|_| AzureError::Config(format!("invalid header value {v:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aux_tenants_drop_the_primary_and_repeats() {
        let (a, b, c) = (TenantId::new("a"), TenantId::new("b"), TenantId::new("c"));
        assert_eq!(
            other_tenants(&a, &[a.clone(), b.clone(), b.clone(), c.clone()]),
            vec![b.clone(), c]
        );
        assert!(other_tenants(&a, std::slice::from_ref(&a)).is_empty());
    }
}
