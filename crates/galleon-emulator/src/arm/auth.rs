//! ARM authentication: the `Authorization` bearer token and the `x-ms-authorization-auxiliary`
//! tokens, checked in the order of arm-errors.md §8 and answered with ARM's 401 codes and
//! messages (§3), including the `WWW-Authenticate` challenge clients use to discover a
//! subscription's tenant.

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;

use crate::arm::context::Principal;
use crate::arm::errors::ArmError;
use crate::token::{Signer, peek_claims};

/// The audiences ARM accepts, verbatim from its 401 message.
pub const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// Why a bearer token was refused (shared with data planes such as blob storage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not a JWT or bad signature.
    Invalid,
    /// No `oid` claim.
    NoObjectId,
    /// `exp` is in the past: (expiry, now).
    Expired(OffsetDateTime, OffsetDateTime),
    /// `aud` not accepted.
    WrongAudience(String),
}

/// Verifies a raw JWT: signature, `oid`, expiry against `now`, audience in `audiences`.
///
/// # Errors
/// The first failing check.
pub fn verify_token(
    signer: &Signer,
    token: &str,
    now: OffsetDateTime,
    audiences: &[&str],
) -> Result<(Principal, Value), TokenProblem> {
    let claims = signer.verify(token).map_err(|_| TokenProblem::Invalid)?;
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if text("oid").is_empty() {
        return Err(TokenProblem::NoObjectId);
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let exp = OffsetDateTime::from_unix_timestamp(exp).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if exp < now {
        return Err(TokenProblem::Expired(exp, now));
    }
    let aud = text("aud");
    if !audiences.iter().any(|a| *a == aud) {
        return Err(TokenProblem::WrongAudience(aud));
    }
    let principal = Principal {
        tenant: text("tid"),
        object_id: text("oid"),
        app_id: text("appid"),
    };
    Ok((principal, claims))
}

/// ARM's date format in ExpiredAuthenticationToken: `5/13/2024 6:05:58 PM`.
pub fn arm_time(t: OffsetDateTime) -> String {
    let (h, ampm) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        h,
        t.minute(),
        t.second(),
        ampm
    )
}

fn unauthorized(code: &str, message: String) -> ArmError {
    ArmError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Adds ARM's `WWW-Authenticate` challenge naming the subscription's tenant.
pub fn with_challenge(err: ArmError, tenant: Option<&str>, description: &str) -> ArmError {
    match tenant {
        Some(tid) => err.with_header(
            "WWW-Authenticate",
            format!(
                "Bearer authorization_uri=\"https://login.windows.net/{tid}\", error=\"invalid_token\", error_description=\"{description}\""
            ),
        ),
        None => err,
    }
}

/// Authenticates the primary token. `sub_tenant` is the target subscription's tenant, used for
/// the challenge header.
///
/// # Errors
/// 401 AuthenticationFailed / AuthenticationFailedInvalidHeader / InvalidAuthenticationToken /
/// ExpiredAuthenticationToken / InvalidAuthenticationTokenAudience.
pub fn authenticate(
    headers: &HeaderMap,
    signer: &Signer,
    now: OffsetDateTime,
    sub_tenant: Option<&str>,
) -> Result<Principal, ArmError> {
    let Some(value) = headers.get("authorization") else {
        let e = unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".into(),
        );
        return Err(with_challenge(
            e,
            sub_tenant,
            "The authentication failed because of missing 'Authorization' header.",
        ));
    };
    let value = value.to_str().unwrap_or_default();
    let token = match value.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            t.trim()
        }
        _ => {
            let e = unauthorized(
                "AuthenticationFailedInvalidHeader",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.".into(),
            );
            return Err(with_challenge(
                e,
                sub_tenant,
                "The authentication failed because of an invalid 'Authorization' header.",
            ));
        }
    };
    verify_token(signer, token, now, &ARM_AUDIENCES)
        .map(|(p, _)| p)
        .map_err(|problem| {
            // The challenge repeats the reason (quotes would break the header's quoting).
            let err = primary_error(problem);
            let description = err.message.replace('"', "'");
            with_challenge(err, sub_tenant, &description)
        })
}

fn primary_error(problem: TokenProblem) -> ArmError {
    match problem {
        TokenProblem::Invalid => unauthorized("InvalidAuthenticationToken", "The access token is invalid.".into()),
        TokenProblem::NoObjectId => unauthorized(
            "InvalidAuthenticationToken",
            "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present. If you are accessing as application please make sure service principal is properly created in the tenant.".into(),
        ),
        TokenProblem::Expired(exp, now) => unauthorized(
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                arm_time(exp),
                arm_time(now)
            ),
        ),
        TokenProblem::WrongAudience(aud) => unauthorized(
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
            ),
        ),
    }
}

/// 401 InvalidAuthenticationTokenTenant when the token's tenant does not own the subscription.
///
/// # Errors
/// The tenants differ.
pub fn check_tenant(principal: &Principal, sub_tenant: &str) -> Result<(), ArmError> {
    if principal.tenant.eq_ignore_ascii_case(sub_tenant) {
        return Ok(());
    }
    let e = unauthorized(
        "InvalidAuthenticationTokenTenant",
        format!(
            "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{sub_tenant}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{sub_tenant}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
            principal.tenant
        ),
    );
    Err(with_challenge(
        e,
        Some(sub_tenant),
        "The access token is from the wrong issuer. It must match the tenant associated with this subscription. Please use correct authority to get the token.",
    ))
}

/// Parses `x-ms-authorization-auxiliary`: up to three `Bearer <t>` entries separated by `,`
/// (current docs, az CLI) or `;` (older docs, Az PowerShell). Every token must verify and be
/// unexpired, otherwise ARM answers 401 naming the token's app and tenant (authenticate-multi-
/// tenant.md). The exact code for a bad auxiliary token is unconfirmed (arm-errors.md §9); we
/// reuse the primary-token codes with the client and tenant named.
///
/// # Errors
/// More than three tokens (400), or an invalid/expired/wrong-audience token (401).
pub fn parse_auxiliary(
    headers: &HeaderMap,
    signer: &Signer,
    now: OffsetDateTime,
) -> Result<Vec<Principal>, ArmError> {
    let Some(value) = headers
        .get("x-ms-authorization-auxiliary")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(Vec::new());
    };
    let tokens: Vec<&str> = value
        .split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.split_once(' ').map_or(s, |(_, t)| t.trim()))
        .collect();
    if tokens.len() > 3 {
        return Err(ArmError::bad_request(
            "InvalidAuxiliaryTokens",
            format!(
                "The 'x-ms-authorization-auxiliary' header can hold up to three auxiliary tokens; {} were provided.",
                tokens.len()
            ),
        ));
    }
    let mut out = Vec::new();
    for token in tokens {
        match verify_token(signer, token, now, &ARM_AUDIENCES) {
            Ok((p, _)) => out.push(p),
            Err(problem) => {
                let claims = peek_claims(token).unwrap_or(Value::Null);
                let appid = claims["appid"].as_str().unwrap_or("unknown");
                let tid = claims["tid"].as_str().unwrap_or("unknown");
                let base = primary_error(problem);
                return Err(unauthorized(
                    &base.code,
                    format!(
                        "The auxiliary token for client '{appid}' in tenant '{tid}' is not valid: {}",
                        base.message
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Whether the request carried an auxiliary header at all, and the tenants named by its tokens
/// (unverified; for the admin request log only).
pub fn auxiliary_tenants(headers: &HeaderMap) -> Option<Vec<String>> {
    let value = headers.get("x-ms-authorization-auxiliary")?.to_str().ok()?;
    Some(
        value
            .split([',', ';'])
            .filter_map(|s| s.trim().split_once(' ').map(|(_, t)| t.trim()))
            .filter_map(peek_claims)
            .filter_map(|c| c["tid"].as_str().map(str::to_owned))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_time_uses_twelve_hour_clock() {
        let t = time::macros::datetime!(2024-05-13 18:05:58 UTC);
        assert_eq!(arm_time(t), "5/13/2024 6:05:58 PM");
        let t = time::macros::datetime!(2024-01-02 00:01:02 UTC);
        assert_eq!(arm_time(t), "1/2/2024 12:01:02 AM");
    }
}
