//! The few questions the doctor asks Azure, behind a trait so the checks run unchanged against
//! Azure, the emulator, or an in-memory fake in unit tests.
//!
//! Everything is a read: a token per tenant, the unauthenticated subscription lookup that names a
//! subscription's tenant, and ARM GETs. The doctor never writes, so it can run against production.

use std::future::Future;

use galleon_azure::{
    ArmClient, ArmRequest, AzureError, Method, TenantId, build_client, principal_of,
};
use serde_json::Value;

use crate::report::AzureAnswer;

/// A question Azure did not answer the way the doctor hoped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What Azure said (status, code, message); `status` is `None` for local failures.
    pub answer: AzureAnswer,
    /// galleon's hint for it, when galleon-azure has one.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure with Azure's status, code and message.
    pub fn new(status: Option<u16>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            answer: AzureAnswer {
                status,
                code: code.into(),
                message: message.into(),
            },
            hint: None,
        }
    }

    /// The ARM or Entra code.
    pub fn code(&self) -> &str {
        &self.answer.code
    }

    /// The HTTP status.
    pub fn status(&self) -> Option<u16> {
        self.answer.status
    }

    /// Reads a client error: ARM's code and message, Entra's AADSTS code and description.
    pub fn from_azure(e: &AzureError) -> Self {
        let hint = e.hint();
        let mut f = match e {
            AzureError::Arm(a) => Failure::new(Some(a.status), &a.code, &a.message),
            AzureError::Entra(x) => {
                let code = x
                    .aadsts()
                    .map_or_else(|| x.error.clone(), |n| format!("AADSTS{n}"));
                Failure::new(Some(x.status), code, &x.description)
            }
            AzureError::LroFailed { error, .. } => Failure::new(None, &error.code, &error.message),
            other => Failure::new(other.status(), "ClientError", other.to_string()),
        };
        f.hint = hint;
        f
    }
}

/// Who a token says the caller is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedIn {
    /// The app (client) id.
    pub app_id: Option<String>,
    /// The service principal's object id in that tenant.
    pub object_id: Option<String>,
}

/// The reads the doctor needs.
pub trait Probe {
    /// Gets an ARM token in `tenant` and says who it is for.
    fn sign_in(&self, tenant: &TenantId) -> impl Future<Output = Result<SignedIn, Failure>> + Send;

    /// The tenant that owns `subscription`, from ARM's 401 challenge to an unauthenticated
    /// request; `Ok(None)` when ARM gave no challenge.
    fn subscription_tenant(
        &self,
        subscription: &str,
    ) -> impl Future<Output = Result<Option<String>, Failure>> + Send;

    /// `GET {path}` with `tenant`'s token; `api_version` `None` takes galleon's pinned one.
    fn get(
        &self,
        tenant: &TenantId,
        path: &str,
        api_version: Option<&str>,
        query: &[(&str, &str)],
    ) -> impl Future<Output = Result<Value, Failure>> + Send;
}

/// The tenant id in a `WWW-Authenticate: Bearer authorization_uri="https://login.windows.net/<tid>"`
/// challenge (entra.md §4: the discovery pattern SDKs use; sovereign hosts and a trailing `/`
/// are tolerated).
pub fn tenant_from_challenge(header: &str) -> Option<String> {
    let start = header.find("authorization_uri=\"")? + "authorization_uri=\"".len();
    let rest = &header[start..];
    let uri = url::Url::parse(&rest[..rest.find('"')?]).ok()?;
    let tenant = uri.path_segments()?.rev().find(|s| !s.is_empty())?;
    tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        .then(|| tenant.to_string())
}

/// [`Probe`] over galleon's Azure client.
#[derive(Debug, Clone)]
pub struct LiveProbe {
    client: ArmClient,
    anonymous: reqwest::Client,
}

impl LiveProbe {
    /// A probe using `client` (credentials already configured, see
    /// [`crate::Setup::credential_specs`]).
    ///
    /// # Errors
    /// When the cloud's CA cannot be loaded for the unauthenticated client.
    pub fn new(client: ArmClient) -> Result<Self, Failure> {
        let anonymous =
            build_client(client.cloud().ca_pem()).map_err(|e| Failure::from_azure(&e))?;
        Ok(Self { client, anonymous })
    }
}

impl Probe for LiveProbe {
    async fn sign_in(&self, tenant: &TenantId) -> Result<SignedIn, Failure> {
        let scope = self.client.cloud().arm_scope();
        let token = self
            .client
            .tokens()
            .token(tenant, &scope)
            .await
            .map_err(|e| Failure::from_azure(&e))?;
        let p = principal_of(&token.secret).unwrap_or_default();
        Ok(SignedIn {
            app_id: p.app_id,
            object_id: p.object_id,
        })
    }

    async fn subscription_tenant(&self, subscription: &str) -> Result<Option<String>, Failure> {
        if !subscription
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(Failure::new(
                None,
                "InvalidSubscriptionId",
                format!("'{subscription}' is not a subscription id"),
            ));
        }
        let mut url = self.client.cloud().arm_endpoint();
        url.set_path(&format!("/subscriptions/{subscription}"));
        // api-version 2016-06-01 as the SDKs' tenant discovery uses (arm-errors.md §0).
        url.set_query(Some("api-version=2016-06-01"));
        let resp = self.anonymous.get(url).send().await.map_err(|e| {
            Failure::new(
                None,
                "Transport",
                format!("subscription lookup failed: {e}"),
            )
        })?;
        let status = resp.status().as_u16();
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if status == 404 {
            let body = resp.bytes().await.unwrap_or_default();
            let parsed = galleon_azure::ArmErrorBody::parse(&body).unwrap_or_default();
            return Err(Failure::new(Some(404), parsed.code, parsed.message));
        }
        Ok(challenge.as_deref().and_then(tenant_from_challenge))
    }

    async fn get(
        &self,
        tenant: &TenantId,
        path: &str,
        api_version: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<Value, Failure> {
        let req = ArmRequest {
            api_version,
            query: query.to_vec(),
            ..ArmRequest::new(Method::GET, tenant, path)
        };
        self.client
            .send(req)
            .await
            .map(|r| r.body)
            .map_err(|e| Failure::from_azure(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_names_the_subscription_tenant() {
        let h = r#"Bearer authorization_uri="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header.""#;
        assert_eq!(
            tenant_from_challenge(h).as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        let gov = r#"Bearer authorization_uri="https://login.microsoftonline.us/11111111-1111-4111-8111-111111111111/", error="invalid_token""#;
        assert_eq!(
            tenant_from_challenge(gov).as_deref(),
            Some("11111111-1111-4111-8111-111111111111")
        );
        let emulator = r#"Bearer authorization_uri="https://127.0.0.1:8443/22222222-2222-4222-8222-222222222222""#;
        assert_eq!(
            tenant_from_challenge(emulator).as_deref(),
            Some("22222222-2222-4222-8222-222222222222")
        );
    }

    #[test]
    fn challenge_without_tenant_names_none() {
        assert_eq!(
            tenant_from_challenge(
                r#"Bearer authorization_uri="https://login.windows.net/", error="invalid_token""#
            ),
            None
        );
        assert_eq!(tenant_from_challenge("Bearer realm=\"x\""), None);
    }
}
