//! When to retry a request, and how long to wait: a policy kept apart from the code that sends
//! requests (omicron's `is_retryable`), so it can be read and tested on its own.
//!
//! Rules (arm-protocol.md §1.3, pain-points.md):
//! - 429: always retry (the request was not processed), after `Retry-After` even when it is
//!   minutes; never sooner, because ARM answers an early retry with a new, longer wait.
//! - 500/502/503/504, 408 and transport errors after the request may have reached the server:
//!   retry only idempotent requests. PUT, PATCH and DELETE are idempotent in ARM (a PUT of the
//!   same body converges); POST only when the caller says so.
//! - Connection errors (nothing was sent): always retry.
//! - 401 `ExpiredAuthenticationToken` (ARM) or `InvalidAuthenticationInfo` (Storage): refresh the
//!   token once, then retry.
//! - Everything else is the caller's to handle.
//!
//! Waits without a server hint use jittered exponential backoff from 800 ms to 30 s (kube-rs'
//! watcher), and all waits together stay under a total cap.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use reqwest::header::HeaderMap;

/// Limits of the retry loop.
#[derive(Debug, Clone)]
pub struct RetryConfig {
    /// First backoff delay.
    pub min_delay: Duration,
    /// Largest backoff delay.
    pub max_delay: Duration,
    /// Total time one request may spend waiting between attempts.
    pub total_cap: Duration,
    /// Attempts for server errors and transport failures (429s are bounded by time only).
    pub max_attempts: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            min_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(30),
            total_cap: Duration::from_secs(15 * 60),
            max_attempts: 8,
        }
    }
}

impl RetryConfig {
    /// The jittered exponential backoff for one request.
    pub fn backoff(&self) -> ExponentialBackoff {
        ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .without_max_times()
            .build()
    }
}

/// What happened to one attempt, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// A response arrived.
    Status {
        /// HTTP status.
        status: u16,
        /// The ARM error code, when the body had one.
        code: Option<&'a str>,
    },
    /// The connection could not be made: the request never left.
    ConnectFailed,
    /// The request was sent (or may have been) but no complete response came back.
    SendFailed,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Stop and hand the outcome to the caller.
    GiveUp,
    /// Wait and send again; `Throttled` waits honour `Retry-After`.
    Retry(RetryReason),
    /// Get a fresh token and send again at once (only once per request).
    RefreshToken,
}

/// Why a request is retried, for the log line and the wait rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// 429: the server decides the wait.
    Throttled,
    /// 5xx or 408.
    ServerError,
    /// Connection or transport failure.
    Transport,
}

/// The policy: what to do after `outcome` for a request that is `idempotent` or not.
pub fn decide(outcome: Outcome<'_>, idempotent: bool, token_refreshed: bool) -> Decision {
    match outcome {
        Outcome::Status { status: 429, .. } => Decision::Retry(RetryReason::Throttled),
        // Storage answers an expired bearer token with 401 `InvalidAuthenticationInfo`
        // ("Lifetime validation failed. The token is expired.", Azure/azure-sdk-for-net#42859);
        // the code also covers other bad tokens, for which one refresh costs a single request.
        Outcome::Status {
            status: 401,
            code: Some("ExpiredAuthenticationToken" | "InvalidAuthenticationInfo"),
        } if !token_refreshed => Decision::RefreshToken,
        Outcome::Status {
            status: 408 | 500 | 502 | 503 | 504,
            ..
        } if idempotent => Decision::Retry(RetryReason::ServerError),
        Outcome::ConnectFailed => Decision::Retry(RetryReason::Transport),
        Outcome::SendFailed if idempotent => Decision::Retry(RetryReason::Transport),
        _ => Decision::GiveUp,
    }
}

/// The server's requested wait: `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds, as
/// azure-core reads them), else `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, time::OffsetDateTime::now_utc())
}

/// Parses a `Retry-After` value: delta-seconds (ARM's form) or an IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §10.2.3) relative to `now`.
pub fn parse_retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, &format)
        .ok()?
        .assume_utc();
    let delta = at - now;
    Some(if delta.is_negative() {
        Duration::ZERO
    } else {
        delta.unsigned_abs()
    })
}

/// The wait before the next attempt, or `None` when the total cap would be exceeded.
///
/// A throttled request waits the server's `Retry-After` (or backoff when it gave none); other
/// retries take the next backoff step, lengthened to any `Retry-After` the server sent.
pub fn next_wait(
    reason: RetryReason,
    server_wait: Option<Duration>,
    backoff_step: Duration,
    waited: Duration,
    cap: Duration,
) -> Option<Duration> {
    let wait = match (reason, server_wait) {
        (RetryReason::Throttled, Some(s)) => s,
        (_, Some(s)) => s.max(backoff_step),
        (_, None) => backoff_step,
    };
    (waited + wait <= cap).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn throttling_is_always_retried_even_for_post() {
        let o = Outcome::Status {
            status: 429,
            code: Some("SubscriptionRequestsThrottled"),
        };
        assert_eq!(
            decide(o, false, false),
            Decision::Retry(RetryReason::Throttled)
        );
    }

    #[test]
    fn server_errors_retry_only_idempotent_requests() {
        for status in [500, 502, 503, 504] {
            let o = Outcome::Status { status, code: None };
            assert_eq!(
                decide(o, true, false),
                Decision::Retry(RetryReason::ServerError)
            );
            assert_eq!(
                decide(o, false, false),
                Decision::GiveUp,
                "a POST that may have applied is not resent"
            );
        }
        assert_eq!(
            decide(
                Outcome::Status {
                    status: 501,
                    code: None
                },
                true,
                false
            ),
            Decision::GiveUp
        );
    }

    #[test]
    fn transport_failures() {
        assert_eq!(
            decide(Outcome::ConnectFailed, false, false),
            Decision::Retry(RetryReason::Transport)
        );
        assert_eq!(
            decide(Outcome::SendFailed, true, false),
            Decision::Retry(RetryReason::Transport)
        );
        assert_eq!(decide(Outcome::SendFailed, false, false), Decision::GiveUp);
    }

    #[test]
    fn storage_expired_token_refreshes_once() {
        let o = Outcome::Status {
            status: 401,
            code: Some("InvalidAuthenticationInfo"),
        };
        assert_eq!(decide(o, true, false), Decision::RefreshToken);
        assert_eq!(decide(o, true, true), Decision::GiveUp);
    }

    #[test]
    fn expired_token_refreshes_once() {
        let o = Outcome::Status {
            status: 401,
            code: Some("ExpiredAuthenticationToken"),
        };
        assert_eq!(decide(o, false, false), Decision::RefreshToken);
        assert_eq!(decide(o, false, true), Decision::GiveUp);
        let other = Outcome::Status {
            status: 401,
            code: Some("InvalidAuthenticationTokenTenant"),
        };
        assert_eq!(decide(other, true, false), Decision::GiveUp);
    }

    #[test]
    fn client_errors_are_not_retried() {
        for status in [400, 403, 404, 409, 412] {
            assert_eq!(
                decide(Outcome::Status { status, code: None }, true, false),
                Decision::GiveUp
            );
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        assert_eq!(
            parse_retry_after("307", now),
            Some(Duration::from_secs(307))
        );
        assert_eq!(
            parse_retry_after(" 10 ", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:02:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn retry_after_headers_prefer_milliseconds() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("20"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(20)));
        h.insert("x-ms-retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn waits_honour_the_server_and_the_cap() {
        let cap = Duration::from_secs(600);
        let step = Duration::from_secs(2);
        // A 5-minute Retry-After is obeyed, not shortened to the backoff.
        assert_eq!(
            next_wait(
                RetryReason::Throttled,
                Some(Duration::from_secs(300)),
                step,
                Duration::ZERO,
                cap
            ),
            Some(Duration::from_secs(300))
        );
        // ... but not when it would exceed the total cap.
        assert_eq!(
            next_wait(
                RetryReason::Throttled,
                Some(Duration::from_secs(300)),
                step,
                Duration::from_secs(400),
                cap
            ),
            None
        );
        assert_eq!(
            next_wait(RetryReason::ServerError, None, step, Duration::ZERO, cap),
            Some(step)
        );
        assert_eq!(
            next_wait(
                RetryReason::ServerError,
                Some(Duration::from_secs(5)),
                step,
                Duration::ZERO,
                cap
            ),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn backoff_grows_from_800ms_to_30s_with_jitter() {
        let mut b = RetryConfig::default().backoff();
        let first = b.next().unwrap();
        assert!(
            first >= Duration::from_millis(800) && first <= Duration::from_millis(1600),
            "{first:?}"
        );
        let late: Vec<Duration> = b.take(20).collect();
        assert!(
            late.iter().all(|d| *d <= Duration::from_secs(60)),
            "{late:?}"
        );
        assert!(late.last().unwrap() >= &Duration::from_secs(30));
    }
}
