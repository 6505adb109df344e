//! Which Azure galleon talks to: the public cloud, a sovereign cloud, or a custom one (the
//! emulator, Azure Stack) described by its ARM endpoint's metadata document.
//!
//! A cloud fixes four things: the ARM endpoint, the Entra authority host, the audience of ARM
//! tokens, and how storage blob endpoints are named. [`Cloud::discover`] does what
//! `az cloud register --endpoint-resource-manager` does: `GET {endpoint}/metadata/endpoints?
//! api-version=2022-09-01` (official-clients.md (iii)).

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::error::AzureError;
use crate::retry::{self, Decision, Outcome, RetryConfig, RetryReason};

/// Scope of storage data-plane tokens in every cloud (the blob lease lock uses it).
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

/// An Azure cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cloud {
    /// Azure public cloud.
    AzureCloud,
    /// Azure Government (US).
    AzureUSGovernment,
    /// Azure operated by 21Vianet (China).
    AzureChinaCloud,
    /// Any other cloud, such as galleon's emulator.
    Custom(Box<CustomCloud>),
}

/// The endpoints of a custom cloud.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomCloud {
    /// The cloud's name from its metadata (`name`), for messages.
    pub name: String,
    /// ARM endpoint, e.g. `https://127.0.0.1:8443/`.
    pub arm_endpoint: Url,
    /// Entra authority host, e.g. `https://127.0.0.1:8443/` (token URL `{host}/{tenant}/oauth2/v2.0/token`).
    pub authority_host: Url,
    /// Audience of ARM tokens; the scope is `{audience}/.default`.
    pub audience: String,
    /// Storage endpoint suffix, when the cloud names blob hosts `{account}.blob.{suffix}`; `None`
    /// means path-style `{arm_endpoint}/blob/{account}` (the emulator).
    pub storage_suffix: Option<String>,
    /// Extra CA certificate(s) to trust, PEM.
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for CustomCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomCloud")
            .field("name", &self.name)
            .field("arm_endpoint", &self.arm_endpoint.as_str())
            .field("authority_host", &self.authority_host.as_str())
            .field("audience", &self.audience)
            .field("storage_suffix", &self.storage_suffix)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "<pem>"))
            .finish()
    }
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("static URL")
}

impl Cloud {
    /// A well-known cloud by its `az cloud` name.
    pub fn from_name(name: &str) -> Option<Cloud> {
        match name.to_ascii_lowercase().as_str() {
            "azurecloud" | "public" => Some(Cloud::AzureCloud),
            "azureusgovernment" | "usgov" => Some(Cloud::AzureUSGovernment),
            "azurechinacloud" | "china" => Some(Cloud::AzureChinaCloud),
            _ => None,
        }
    }

    /// The cloud's name.
    pub fn name(&self) -> &str {
        match self {
            Cloud::AzureCloud => "AzureCloud",
            Cloud::AzureUSGovernment => "AzureUSGovernment",
            Cloud::AzureChinaCloud => "AzureChinaCloud",
            Cloud::Custom(c) => &c.name,
        }
    }

    /// The ARM endpoint, with a trailing slash.
    pub fn arm_endpoint(&self) -> Url {
        match self {
            Cloud::AzureCloud => url("https://management.azure.com/"),
            Cloud::AzureUSGovernment => url("https://management.usgovcloudapi.net/"),
            Cloud::AzureChinaCloud => url("https://management.chinacloudapi.cn/"),
            Cloud::Custom(c) => c.arm_endpoint.clone(),
        }
    }

    /// The Entra authority host, with a trailing slash.
    pub fn authority_host(&self) -> Url {
        match self {
            Cloud::AzureCloud => url("https://login.microsoftonline.com/"),
            Cloud::AzureUSGovernment => url("https://login.microsoftonline.us/"),
            Cloud::AzureChinaCloud => url("https://login.chinacloudapi.cn/"),
            Cloud::Custom(c) => c.authority_host.clone(),
        }
    }

    /// The audience of ARM tokens (entra.md §1: `https://management.azure.com` and
    /// `https://management.core.windows.net/` name the same resource in the public cloud).
    pub fn arm_audience(&self) -> &str {
        match self {
            Cloud::AzureCloud => "https://management.azure.com",
            Cloud::AzureUSGovernment => "https://management.usgovcloudapi.net",
            Cloud::AzureChinaCloud => "https://management.chinacloudapi.cn",
            Cloud::Custom(c) => &c.audience,
        }
    }

    /// The scope for ARM token requests: `{audience}/.default` (a double slash when the audience
    /// ends with one is what Entra expects, as the Azure CLI sends it).
    pub fn arm_scope(&self) -> String {
        format!("{}/.default", self.arm_audience())
    }

    /// The storage endpoint suffix of public clouds.
    pub fn storage_suffix(&self) -> Option<&str> {
        match self {
            Cloud::AzureCloud => Some("core.windows.net"),
            Cloud::AzureUSGovernment => Some("core.usgovcloudapi.net"),
            Cloud::AzureChinaCloud => Some("core.chinacloudapi.cn"),
            Cloud::Custom(c) => c.storage_suffix.as_deref(),
        }
    }

    /// The blob endpoint of a storage account, with a trailing slash:
    /// `https://{account}.blob.{suffix}/`, or `{endpoint}/blob/{account}/` in a custom cloud
    /// without a suffix.
    pub fn blob_endpoint(&self, account: &str) -> Result<Url, AzureError> {
        if account.is_empty()
            || !account
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(AzureError::Config(format!(
                "invalid storage account name '{account}'"
            )));
        }
        let s = match self.storage_suffix() {
            Some(suffix) => format!("https://{account}.blob.{suffix}/"),
            None => format!(
                "{}/blob/{account}/",
                self.arm_endpoint().as_str().trim_end_matches('/')
            ),
        };
        Url::parse(&s).map_err(|e| AzureError::Config(format!("blob endpoint {s}: {e}")))
    }

    /// Extra CA certificates to trust (custom clouds only).
    pub fn ca_pem(&self) -> Option<&str> {
        match self {
            Cloud::Custom(c) => c.ca_pem.as_deref(),
            _ => None,
        }
    }

    /// Reads a cloud's metadata from `GET {endpoint}/metadata/endpoints?api-version=2022-09-01`,
    /// trusting `ca_pem` in addition to the public roots.
    pub async fn discover(endpoint: &Url, ca_pem: Option<&str>) -> Result<Cloud, AzureError> {
        if endpoint.scheme() != "https" {
            return Err(AzureError::Config(format!(
                "the ARM endpoint must use https: {endpoint}"
            )));
        }
        let client = crate::http::build_client(ca_pem)?;
        let mut meta = endpoint.clone();
        meta.set_path(&format!(
            "{}/metadata/endpoints",
            endpoint.path().trim_end_matches('/')
        ));
        meta.set_query(Some("api-version=2022-09-01"));
        let redacted = crate::error::redact_url(&meta);
        // The first request of every run: a throttled or briefly failing endpoint must not end
        // the run, so it follows the same retry policy as ARM calls (a GET is idempotent).
        let config = RetryConfig::default();
        let mut backoff = config.backoff();
        let (mut attempts, mut waited) = (0u32, Duration::ZERO);
        let body = loop {
            attempts += 1;
            let (outcome, server_wait, result) = fetch_metadata(&client, &meta, &redacted).await;
            // Floored like every other wait: a repeated `Retry-After: 0` must not spin.
            let server_wait = server_wait.map(|w| w.max(config.min_delay));
            let step = backoff.next().unwrap_or(config.max_delay);
            let wait = match outcome.map(|o| retry::decide(o, true, true)) {
                Some(Decision::Retry(reason))
                    if reason == RetryReason::Throttled || attempts < config.max_attempts =>
                {
                    retry::next_wait(reason, server_wait, step, waited, config.total_cap)
                }
                _ => None,
            };
            match (result, wait) {
                (Ok(body), _) => break body,
                (Err(e), None) => return Err(e),
                (Err(e), Some(wait)) => {
                    tracing::info!(url = %redacted, error = %e, ?wait, "retrying cloud metadata");
                    waited += wait;
                    tokio::time::sleep(wait).await;
                }
            }
        };
        Cloud::from_metadata(endpoint, &body, ca_pem).map_err(|detail| {
            AzureError::InvalidResponse {
                url: redacted,
                detail,
            }
        })
    }

    /// The cloud galleon is pointed at: `endpoint` (`--endpoint` / `GALLEON_ENDPOINT`) is
    /// discovered with the extra CA read from `ca_file` (`--ca-file` / `GALLEON_CA_FILE`);
    /// without an endpoint, the public cloud (docs/architecture.md, "Pointing galleon at a
    /// cloud").
    pub async fn resolve(
        endpoint: Option<&str>,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Cloud, AzureError> {
        let ca_pem = match ca_file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                AzureError::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?),
            None => None,
        };
        match endpoint {
            Some(ep) => {
                let url = Url::parse(ep)
                    .map_err(|e| AzureError::Config(format!("invalid endpoint '{ep}': {e}")))?;
                Cloud::discover(&url, ca_pem.as_deref()).await
            }
            None if ca_pem.is_some() => Err(AzureError::Config(
                "a CA file is only used with an endpoint".into(),
            )),
            None => Ok(Cloud::AzureCloud),
        }
    }

    /// Builds a custom cloud from a metadata document. ARM's public endpoint answers with an
    /// array of clouds; a registered cloud may answer with one object. The entry whose
    /// `resourceManager` is `endpoint` wins, else the first.
    pub fn from_metadata(
        endpoint: &Url,
        body: &[u8],
        ca_pem: Option<&str>,
    ) -> Result<Cloud, String> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Meta {
            #[serde(default)]
            name: Option<String>,
            #[serde(default)]
            resource_manager: Option<String>,
            authentication: Auth,
            #[serde(default)]
            suffixes: Option<Suffixes>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Auth {
            login_endpoint: String,
            audiences: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Suffixes {
            #[serde(default)]
            storage: Option<String>,
        }
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let entries: Vec<Meta> = match value {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?,
            other => vec![serde_json::from_value(other).map_err(|e| e.to_string())?],
        };
        let same = |m: &&Meta| {
            m.resource_manager
                .as_deref()
                .map(|r| r.trim_end_matches('/'))
                == Some(endpoint.as_str().trim_end_matches('/'))
        };
        let pick = entries
            .iter()
            .find(same)
            .or(entries.first())
            .ok_or("empty metadata")?;
        let authority = Url::parse(&format!(
            "{}/",
            pick.authentication.login_endpoint.trim_end_matches('/')
        ))
        .map_err(|e| format!("loginEndpoint: {e}"))?;
        if authority.scheme() != "https" {
            return Err(format!("the authority host must use https: {authority}"));
        }
        let audience = pick
            .authentication
            .audiences
            .first()
            .ok_or("no audiences in metadata")?;
        let mut arm = endpoint.clone();
        if !arm.path().ends_with('/') {
            arm.set_path(&format!("{}/", arm.path()));
        }
        Ok(Cloud::Custom(Box::new(CustomCloud {
            name: pick.name.clone().unwrap_or_else(|| "Custom".into()),
            arm_endpoint: arm,
            authority_host: authority,
            // A trailing slash is kept off so the scope reads `{audience}/.default`.
            audience: audience.trim_end_matches('/').to_string(),
            storage_suffix: pick
                .suffixes
                .as_ref()
                .and_then(|s| s.storage.clone())
                .filter(|s| !s.is_empty()),
            ca_pem: ca_pem.map(str::to_string),
        })))
    }
}

/// One attempt at the metadata document: the outcome for the retry policy, the server's
/// requested wait, and the body or the error to report if no retry follows.
async fn fetch_metadata(
    client: &reqwest::Client,
    meta: &Url,
    redacted: &str,
) -> (
    Option<Outcome<'static>>,
    Option<Duration>,
    Result<Vec<u8>, AzureError>,
) {
    let transport = |source| AzureError::Transport {
        method: "GET".into(),
        url: redacted.to_owned(),
        source,
    };
    let resp = match client.get(meta.clone()).send().await {
        Ok(resp) => resp,
        Err(e) => {
            // An untrusted certificate will not become trusted by waiting: fail at once.
            let outcome = if crate::http::certificate_rejected(&e) {
                None
            } else if e.is_connect() {
                Some(Outcome::ConnectFailed)
            } else {
                Some(Outcome::SendFailed)
            };
            return (outcome, None, Err(transport(e)));
        }
    };
    let status = resp.status();
    let server_wait = retry::retry_after(resp.headers());
    let outcome = Some(Outcome::Status {
        status: status.as_u16(),
        code: None,
    });
    match resp.bytes().await {
        Err(e) => (Some(Outcome::SendFailed), None, Err(transport(e))),
        Ok(_) if !status.is_success() => (
            outcome,
            server_wait,
            Err(AzureError::InvalidResponse {
                url: redacted.to_owned(),
                detail: format!("status {status}"),
            }),
        ),
        Ok(body) => (outcome, None, Ok(body.to_vec())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_clouds() {
        let c = Cloud::AzureCloud;
        assert_eq!(c.arm_endpoint().as_str(), "https://management.azure.com/");
        assert_eq!(c.arm_scope(), "https://management.azure.com/.default");
        assert_eq!(
            c.blob_endpoint("galleonlock").unwrap().as_str(),
            "https://galleonlock.blob.core.windows.net/"
        );
        assert_eq!(
            Cloud::AzureUSGovernment.authority_host().as_str(),
            "https://login.microsoftonline.us/"
        );
        assert_eq!(
            Cloud::from_name("AzureChinaCloud"),
            Some(Cloud::AzureChinaCloud)
        );
        assert!(c.blob_endpoint("Bad_Name").is_err());
    }

    #[test]
    fn custom_cloud_from_a_single_object() {
        let ep = Url::parse("https://127.0.0.1:8443").unwrap();
        let body = br#"{"name":"GalleonEmulator","resourceManager":"https://127.0.0.1:8443/",
            "authentication":{"loginEndpoint":"https://127.0.0.1:8443","audiences":["https://management.core.windows.net/"]},
            "suffixes":{}}"#;
        let c = Cloud::from_metadata(&ep, body, Some("PEM")).unwrap();
        assert_eq!(c.name(), "GalleonEmulator");
        assert_eq!(c.arm_endpoint().as_str(), "https://127.0.0.1:8443/");
        assert_eq!(c.authority_host().as_str(), "https://127.0.0.1:8443/");
        assert_eq!(
            c.arm_scope(),
            "https://management.core.windows.net/.default"
        );
        assert_eq!(
            c.blob_endpoint("locks").unwrap().as_str(),
            "https://127.0.0.1:8443/blob/locks/"
        );
        assert_eq!(c.ca_pem(), Some("PEM"));
        assert!(!format!("{c:?}").contains("PEM"));
    }

    #[test]
    fn custom_cloud_from_the_public_array_form() {
        let ep = Url::parse("https://management.usgovcloudapi.net/").unwrap();
        let body = br#"[{"name":"AzureCloud","resourceManager":"https://management.azure.com/","authentication":{"loginEndpoint":"https://login.microsoftonline.com","audiences":["https://management.core.windows.net/"]},"suffixes":{"storage":"core.windows.net"}},
            {"name":"AzureUSGovernment","resourceManager":"https://management.usgovcloudapi.net/","authentication":{"loginEndpoint":"https://login.microsoftonline.us","audiences":["https://management.core.usgovcloudapi.net/"]},"suffixes":{"storage":"core.usgovcloudapi.net"}}]"#;
        let c = Cloud::from_metadata(&ep, body, None).unwrap();
        assert_eq!(c.name(), "AzureUSGovernment");
        assert_eq!(
            c.blob_endpoint("acct").unwrap().as_str(),
            "https://acct.blob.core.usgovcloudapi.net/"
        );
    }

    #[tokio::test]
    async fn resolve_defaults_to_the_public_cloud_and_checks_its_inputs() {
        assert_eq!(Cloud::resolve(None, None).await.unwrap(), Cloud::AzureCloud);
        let missing = std::path::Path::new("/nonexistent/ca.pem");
        let err = Cloud::resolve(Some("https://127.0.0.1:1"), Some(missing))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot read CA file /nonexistent/ca.pem"),
            "{err}"
        );
        assert!(Cloud::resolve(Some("not a url"), None).await.is_err());
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "x").unwrap();
        assert!(
            Cloud::resolve(None, Some(&ca)).await.is_err(),
            "a CA without an endpoint is a mistake"
        );
    }

    #[test]
    fn metadata_with_an_http_authority_is_refused() {
        let ep = Url::parse("https://127.0.0.1:1").unwrap();
        let body =
            br#"{"authentication":{"loginEndpoint":"http://127.0.0.1:1","audiences":["a"]}}"#;
        assert!(
            Cloud::from_metadata(&ep, body, None)
                .unwrap_err()
                .contains("https")
        );
    }
}
