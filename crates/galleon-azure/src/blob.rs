//! The apply lock: a blob lease in a storage account, the primitive Terraform's azurerm backend
//! uses, because ARM has no atomic test-and-set of its own (arm-protocol.md §8b).
//!
//! One blob per workspace holds who has the lock and since when; a 60-second lease on it is the
//! lock itself, renewed while apply runs. A second apply gets `409 LeaseAlreadyPresent`, mapped
//! to [`AzureError::LockHeld`] with the blob's content so the user sees who holds it.
//! Storage REST with an Entra token: scope `https://storage.azure.com/.default`, `x-ms-version:
//! 2023-11-03` (OAuth needs 2017-11-09 or later).

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, IF_NONE_MATCH};
use url::Url;

use crate::arm::ArmClient;
use crate::cloud::STORAGE_SCOPE;
use crate::error::{ArmError, AzureError};
use crate::http::{Auth, Call, RawResponse};
use crate::ids::TenantId;

/// Storage service version sent with every blob request.
pub const STORAGE_VERSION: &str = "2023-11-03";

/// Lease length: long enough to survive a slow renewal, short enough that a crashed apply frees
/// the lock within a minute.
pub const LEASE_SECONDS: u32 = 60;

/// A held lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease id (galleon proposes a random UUID).
    pub id: String,
}

/// The lock blob of one workspace.
#[derive(Debug, Clone)]
pub struct BlobLock {
    client: ArmClient,
    tenant: TenantId,
    container: Url,
    blob: Url,
}

impl ArmClient {
    /// The lock blob `{container}/{blob}` in storage `account`, reached with `tenant`'s token.
    pub fn blob_lock(
        &self,
        tenant: &TenantId,
        account: &str,
        container: &str,
        blob: &str,
    ) -> Result<BlobLock, AzureError> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !valid(container) || !valid(blob) {
            return Err(AzureError::Config(format!(
                "invalid container or blob name '{container}/{blob}'"
            )));
        }
        let endpoint = self.cloud().blob_endpoint(account)?;
        let bad = |e: url::ParseError| AzureError::Config(format!("blob URL: {e}"));
        let container_url = endpoint.join(&format!("{container}/")).map_err(bad)?;
        let blob_url = container_url.join(blob).map_err(bad)?;
        let mut container_only = container_url.clone();
        container_only.set_path(container_url.path().trim_end_matches('/'));
        Ok(BlobLock {
            client: self.clone(),
            tenant: tenant.clone(),
            container: container_only,
            blob: blob_url,
        })
    }
}

impl BlobLock {
    /// Takes the lock: creates the container and blob if missing, acquires a 60 s lease, and
    /// writes `holder` (who, since when) into the blob under the lease.
    ///
    /// # Errors
    /// [`AzureError::LockHeld`] with the current holder's text when another lease is active.
    pub async fn lock(&self, holder: &str) -> Result<Lease, AzureError> {
        self.ensure_container().await?;
        self.create_if_missing().await?;
        let lease = self.acquire(&uuid::Uuid::new_v4().to_string()).await?;
        self.upload(holder, Some(&lease)).await?;
        Ok(lease)
    }

    /// `PUT {container}?restype=container`; an existing container is fine.
    pub async fn ensure_container(&self) -> Result<(), AzureError> {
        let mut url = self.container.clone();
        url.set_query(Some("restype=container"));
        let raw = self.send(Method::PUT, url, HeaderMap::new(), None).await?;
        match (raw.status.as_u16(), error_code(&raw).as_deref()) {
            (200..=299, _) | (409, Some("ContainerAlreadyExists")) => Ok(()),
            _ => Err(self.error(&raw, "PUT")),
        }
    }

    async fn create_if_missing(&self) -> Result<(), AzureError> {
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("*"));
        let raw = self.put_blob(b"".to_vec(), headers).await?;
        match (raw.status.as_u16(), error_code(&raw).as_deref()) {
            // 409 BlobAlreadyExists / 412 ConditionNotMet: it exists; a leased blob answers 412
            // LeaseIdMissing, which also means it exists.
            (200..=299, _) | (409, _) | (412, _) => Ok(()),
            _ => Err(self.error(&raw, "PUT")),
        }
    }

    /// Writes the blob's content, under `lease` when one is held.
    pub async fn upload(&self, content: &str, lease: Option<&Lease>) -> Result<(), AzureError> {
        let mut headers = HeaderMap::new();
        if let Some(l) = lease {
            headers.insert("x-ms-lease-id", value(&l.id)?);
        }
        let raw = self.put_blob(content.as_bytes().to_vec(), headers).await?;
        if raw.status.is_success() {
            Ok(())
        } else {
            Err(self.error(&raw, "PUT"))
        }
    }

    async fn put_blob(
        &self,
        body: Vec<u8>,
        mut headers: HeaderMap,
    ) -> Result<RawResponse, AzureError> {
        headers.insert("x-ms-blob-type", HeaderValue::from_static("BlockBlob"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        self.send(Method::PUT, self.blob.clone(), headers, Some(body))
            .await
    }

    /// The blob's content, `None` when it does not exist.
    pub async fn read(&self) -> Result<Option<String>, AzureError> {
        let raw = self
            .send(Method::GET, self.blob.clone(), HeaderMap::new(), None)
            .await?;
        match raw.status.as_u16() {
            200..=299 => Ok(Some(String::from_utf8_lossy(&raw.body).into_owned())),
            404 => Ok(None),
            _ => Err(self.error(&raw, "GET")),
        }
    }

    /// Acquires a 60 s lease with `proposed_id`.
    pub async fn acquire(&self, proposed_id: &str) -> Result<Lease, AzureError> {
        let raw = self
            .lease(
                "acquire",
                &[
                    ("x-ms-lease-duration", &LEASE_SECONDS.to_string()),
                    ("x-ms-proposed-lease-id", proposed_id),
                ],
            )
            .await?;
        if raw.status.is_success() {
            let id = raw
                .header("x-ms-lease-id")
                .unwrap_or(proposed_id)
                .to_string();
            return Ok(Lease { id });
        }
        if raw.status.as_u16() == 409 && error_code(&raw).as_deref() == Some("LeaseAlreadyPresent")
        {
            let holder = self
                .read()
                .await
                .ok()
                .flatten()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "unknown holder".to_string());
            return Err(AzureError::LockHeld { holder });
        }
        Err(self.error(&raw, "PUT"))
    }

    /// Renews `lease` for another 60 s.
    pub async fn renew(&self, lease: &Lease) -> Result<(), AzureError> {
        let raw = self.lease("renew", &[("x-ms-lease-id", &lease.id)]).await?;
        if raw.status.is_success() {
            Ok(())
        } else {
            Err(self.error(&raw, "PUT"))
        }
    }

    /// Releases `lease`.
    pub async fn release(&self, lease: &Lease) -> Result<(), AzureError> {
        let raw = self
            .lease("release", &[("x-ms-lease-id", &lease.id)])
            .await?;
        if raw.status.is_success() {
            Ok(())
        } else {
            Err(self.error(&raw, "PUT"))
        }
    }

    /// Breaks whatever lease is held, at once (`galleon force-unlock`).
    pub async fn break_lease(&self) -> Result<(), AzureError> {
        let raw = self
            .lease("break", &[("x-ms-lease-break-period", "0")])
            .await?;
        if raw.status.is_success() {
            Ok(())
        } else {
            Err(self.error(&raw, "PUT"))
        }
    }

    async fn lease(
        &self,
        action: &'static str,
        extra: &[(&'static str, &str)],
    ) -> Result<RawResponse, AzureError> {
        let mut url = self.blob.clone();
        url.set_query(Some("comp=lease"));
        let mut headers = HeaderMap::new();
        headers.insert("x-ms-lease-action", HeaderValue::from_static(action));
        for (k, v) in extra {
            headers.insert(HeaderName::from_static(k), value(v)?);
        }
        self.send(Method::PUT, url, headers, None).await
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        mut headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<RawResponse, AzureError> {
        headers.insert("x-ms-version", HeaderValue::from_static(STORAGE_VERSION));
        let call = Call {
            method,
            url,
            headers,
            body: Some(body.unwrap_or_default()),
            auth: Some(Auth {
                tenant: self.tenant.clone(),
                scope: STORAGE_SCOPE.to_string(),
                aux: Vec::new(),
            }),
            // Every blob call here is idempotent: a lease acquire with the same proposed id
            // succeeds again on a lease it already holds.
            idempotent: true,
            limit: None,
        };
        self.client
            .inner
            .http
            .send(&call, Some(&self.client.inner.tokens))
            .await
    }

    fn error(&self, raw: &RawResponse, method: &str) -> AzureError {
        let mut e = ArmError::from_response(
            raw.status.as_u16(),
            method,
            self.blob.path(),
            raw.header("x-ms-request-id").map(str::to_string),
            None,
            b"",
        );
        e.code = error_code(raw).unwrap_or_else(|| format!("HttpStatus{}", raw.status.as_u16()));
        e.message = xml_tag(&String::from_utf8_lossy(&raw.body), "Message").unwrap_or_default();
        e.principal = raw.principal.clone();
        e.into()
    }
}

fn value(v: &str) -> Result<HeaderValue, AzureError> {
    HeaderValue::from_str(v).map_err(|_| AzureError::Config(format!("invalid header value {v:?}")))
}

/// Storage's error code: the `x-ms-error-code` header, else `<Code>` of the XML body.
fn error_code(raw: &RawResponse) -> Option<String> {
    raw.header("x-ms-error-code")
        .map(str::to_string)
        .or_else(|| xml_tag(&String::from_utf8_lossy(&raw.body), "Code"))
}

fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..start + end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_error_xml_is_read() {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>LeaseAlreadyPresent</Code><Message>There is already a lease present.\nRequestId:x</Message></Error>";
        assert_eq!(xml_tag(xml, "Code").as_deref(), Some("LeaseAlreadyPresent"));
        assert!(
            xml_tag(xml, "Message")
                .unwrap()
                .starts_with("There is already a lease present.")
        );
        assert_eq!(xml_tag("<Error/>", "Code"), None);
    }

    #[test]
    fn lock_urls_per_cloud() {
        let c = ArmClient::new(crate::Cloud::AzureCloud, crate::ClientOptions::default()).unwrap();
        let l = c
            .blob_lock(&TenantId::new("t"), "galleonstate", "locks", "ws.lock")
            .unwrap();
        assert_eq!(
            l.container.as_str(),
            "https://galleonstate.blob.core.windows.net/locks"
        );
        assert_eq!(
            l.blob.as_str(),
            "https://galleonstate.blob.core.windows.net/locks/ws.lock"
        );
        assert!(
            c.blob_lock(&TenantId::new("t"), "galleonstate", "../x", "b")
                .is_err()
        );
    }
}
