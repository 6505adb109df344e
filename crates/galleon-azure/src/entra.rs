//! Talking to the Entra ID token endpoint and the Azure CLI: the request forms, the token
//! responses, and the errors with their AADSTS codes (entra.md §§1, 2, 6).
//!
//! Nothing here logs a request or response body: both hold secrets.

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use crate::credential::CredentialError;
use crate::error::{AssertionClaims, AzureError, EntraError};
use crate::ids::TenantId;
use crate::secret::Secret;
use crate::token::{AccessToken, decode_claims};

/// `expires_in` is a number on v2 endpoints and a string on v1 ones (entra.md §1).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum NumOrString {
    Num(i64),
    Str(String),
}

impl NumOrString {
    pub(crate) fn seconds(&self) -> Option<i64> {
        match self {
            NumOrString::Num(n) => Some(*n),
            NumOrString::Str(s) => s.trim().parse().ok(),
        }
    }
}

pub(crate) trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    // The error's Display can quote the input, which is a token: only its category is shown.
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "missing or mistyped field",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

pub(crate) fn form_body(fields: &[(&str, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

pub(crate) fn assertion_claims(assertion: &Secret) -> Option<AssertionClaims> {
    #[derive(Deserialize)]
    struct C {
        #[serde(default)]
        iss: String,
        #[serde(default)]
        sub: String,
        #[serde(default)]
        aud: serde_json::Value,
    }
    let c: C = decode_claims(assertion.expose())?;
    let audience = match c.aud {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    Some(AssertionClaims {
        issuer: c.iss,
        subject: c.sub,
        audience,
    })
}

/// Parses an Entra token-endpoint error (entra.md §2). The description is cut before its
/// `Trace ID:` block, whose separator varies (`\r\n` or a space).
pub fn parse_entra_error(
    status: u16,
    body: &[u8],
    tenant: &TenantId,
    client_id: &str,
    authority: &Url,
    assertion: Option<AssertionClaims>,
) -> EntraError {
    #[derive(Deserialize, Default)]
    struct Body {
        #[serde(default)]
        error: String,
        #[serde(default)]
        error_description: String,
        #[serde(default)]
        error_codes: Vec<u32>,
        #[serde(default)]
        trace_id: Option<String>,
        #[serde(default)]
        correlation_id: Option<String>,
    }
    let b: Body = serde_json::from_slice(body).unwrap_or_default();
    let description = match b.error_description.find("Trace ID:") {
        Some(i) => b.error_description[..i].trim_end().to_string(),
        None => b.error_description.trim().to_string(),
    };
    let mut codes = b.error_codes;
    if codes.is_empty()
        && let Some(rest) = description.strip_prefix("AADSTS")
    {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        codes.extend(digits.parse::<u32>().ok());
    }
    EntraError {
        status,
        error: if b.error.is_empty() {
            format!("http_{status}")
        } else {
            b.error
        },
        codes,
        description,
        tenant: tenant.clone(),
        client_id: client_id.to_string(),
        trace_id: b.trace_id,
        correlation_id: b.correlation_id,
        assertion,
        authority: authority.to_string(),
    }
}

/// Runs `az account get-access-token -o json --scope <scope> --tenant <tenant>` directly (no
/// shell; the tenant id is validated) and reads `accessToken` and `expires_on` (Azure CLI
/// 2.54+; entra.md §6).
pub(crate) async fn azure_cli_token(
    program: &std::path::Path,
    tenant: &TenantId,
    scope: &str,
) -> Result<AccessToken, AzureError> {
    let fail = |detail: String| {
        AzureError::Credential(CredentialError::AzureCli {
            tenant: tenant.clone(),
            detail,
        })
    };
    let output = tokio::process::Command::new(program)
        .args([
            "account",
            "get-access-token",
            "-o",
            "json",
            "--scope",
            scope,
            "--tenant",
            tenant.as_str(),
        ])
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| fail(format!("cannot run {}: {e}", program.display())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no error output");
        return Err(fail(line.chars().take(300).collect()));
    }
    #[derive(Deserialize)]
    struct CliToken {
        #[serde(rename = "accessToken")]
        access_token: String,
        expires_on: Option<NumOrString>,
    }
    let t: CliToken = serde_json::from_slice(&output.stdout)
        .map_err(|e| fail(format!("unexpected output: {}", e.classify_name())))?;
    let expires_on = t.expires_on.and_then(|e| e.seconds()).ok_or_else(|| {
        fail("no expires_on in the output: Azure CLI 2.54.0 or newer is needed".into())
    })?;
    let left = expires_on - time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(AccessToken {
        secret: Secret::new(t.access_token),
        expires_at: Instant::now() + Duration::from_secs(left.max(0) as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(payload: serde_json::Value) -> String {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            b64(br#"{"alg":"RS256","typ":"JWT"}"#),
            b64(payload.to_string().as_bytes())
        )
    }

    #[test]
    fn entra_errors_are_parsed_with_their_code_and_without_the_trace_block() {
        let body = br#"{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'app' was not found in the directory 'B'.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2026-01-01 00:00:00Z","error_codes":[700016],"trace_id":"1","correlation_id":"2"}"#;
        let a = Url::parse("https://login.microsoftonline.com/").unwrap();
        let e = parse_entra_error(400, body, &TenantId::new("B"), "app", &a, None);
        assert_eq!(e.aadsts(), Some(700016));
        assert_eq!(e.error, "unauthorized_client");
        assert!(
            e.description.ends_with("directory 'B'."),
            "{}",
            e.description
        );
        assert_eq!(e.trace_id.as_deref(), Some("1"));
        let spaced = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: x Correlation ID: y"}"#;
        let e = parse_entra_error(401, spaced, &TenantId::new("B"), "app", &a, None);
        assert_eq!(
            e.aadsts(),
            Some(7000215),
            "code from the description when error_codes is absent"
        );
        assert_eq!(
            e.description,
            "AADSTS7000215: Invalid client secret provided."
        );
    }

    #[test]
    fn assertion_claims_accept_string_or_array_audiences() {
        let a = Secret::new(jwt(
            serde_json::json!({"iss":"https://token.actions.githubusercontent.com","sub":"repo:o/r:ref:refs/heads/main","aud":["api://AzureADTokenExchange"]}),
        ));
        let c = assertion_claims(&a).unwrap();
        assert_eq!(c.audience, "api://AzureADTokenExchange");
        assert_eq!(c.subject, "repo:o/r:ref:refs/heads/main");
    }

    #[test]
    fn expires_in_as_number_or_string() {
        assert_eq!(
            serde_json::from_str::<NumOrString>("3599")
                .unwrap()
                .seconds(),
            Some(3599)
        );
        assert_eq!(
            serde_json::from_str::<NumOrString>("\"3599\"")
                .unwrap()
                .seconds(),
            Some(3599)
        );
    }
}
