//! ARM's subscription request limits: token buckets per subscription, principal and operation
//! type (reads 250/25 s⁻¹, writes 200/10 s⁻¹, deletes 200/10 s⁻¹ by default), plus the global
//! per-subscription bucket of 15x across all principals (arm-protocol.md §1.1-1.3).
//!
//! Every ARM response reports what is left (`x-ms-ratelimit-remaining-subscription-{reads,
//! writes,deletes}` and the `-global-` variants) after charging the request; an empty bucket
//! answers 429 `SubscriptionRequestsThrottled` with `Retry-After`. Buckets are runtime-only:
//! a restart refills them, as a fresh ARM region would.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use time::OffsetDateTime;

use crate::arm::errors::ArmError;
use crate::seed::{Bucket, Throttling};

/// Operation type, as ARM counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpType {
    /// GET/HEAD.
    Read,
    /// PUT/PATCH/POST.
    Write,
    /// DELETE.
    Delete,
}

impl OpType {
    /// From the HTTP method.
    pub fn of(method: &Method) -> Self {
        match *method {
            Method::GET | Method::HEAD => Self::Read,
            Method::DELETE => Self::Delete,
            _ => Self::Write,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Self::Read => "reads",
            Self::Write => "writes",
            Self::Delete => "deletes",
        }
    }

    fn bucket(self, cfg: &Throttling) -> Bucket {
        match self {
            Self::Read => cfg.reads,
            Self::Write => cfg.writes,
            Self::Delete => cfg.deletes,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Level {
    tokens: f64,
    last: OffsetDateTime,
}

/// The buckets.
#[derive(Debug, Default)]
pub struct Throttler {
    principal: HashMap<(String, String, OpType), Level>,
    global: HashMap<(String, OpType), Level>,
}

/// The headers to put on a response after charging a request.
pub fn headers(op: OpType, remaining: u32, global_remaining: u32) -> Vec<(String, String)> {
    vec![
        (
            format!("x-ms-ratelimit-remaining-subscription-{}", op.plural()),
            remaining.to_string(),
        ),
        (
            format!(
                "x-ms-ratelimit-remaining-subscription-global-{}",
                op.plural()
            ),
            global_remaining.to_string(),
        ),
    ]
}

fn refill(level: &mut Level, bucket: Bucket, capacity: f64, now: OffsetDateTime) {
    let elapsed = (now - level.last).as_seconds_f64().max(0.0);
    level.tokens = (level.tokens + elapsed * bucket.refill_per_sec).min(capacity);
    level.last = now;
}

impl Throttler {
    /// Charges one request; returns the response headers, or a 429 when a bucket is empty.
    ///
    /// # Errors
    /// 429 `SubscriptionRequestsThrottled` with `Retry-After` and the (zero) remaining headers.
    pub fn charge(
        &mut self,
        cfg: &Throttling,
        subscription: &str,
        principal: &str,
        op: OpType,
        now: OffsetDateTime,
    ) -> Result<Vec<(String, String)>, ArmError> {
        let bucket = op.bucket(cfg);
        let cap = f64::from(bucket.capacity);
        let gcap = cap * 15.0;
        let key = (
            subscription.to_ascii_lowercase(),
            principal.to_ascii_lowercase(),
            op,
        );
        let level = self.principal.entry(key).or_insert(Level {
            tokens: cap,
            last: now,
        });
        refill(level, bucket, cap, now);
        let glevel = self
            .global
            .entry((subscription.to_ascii_lowercase(), op))
            .or_insert(Level {
                tokens: gcap,
                last: now,
            });
        refill(glevel, bucket, gcap, now);
        if cfg.enabled && (level.tokens < 1.0 || glevel.tokens < 1.0) {
            let missing = 1.0 - level.tokens.min(glevel.tokens);
            let retry = (missing / bucket.refill_per_sec.max(0.001)).ceil().max(1.0) as u64;
            let mut err = ArmError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "SubscriptionRequestsThrottled",
                format!(
                    "Number of '{}' requests for subscription '{subscription}' actor '{principal}' exceeded. Please try again after '{retry}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
                    op.word()
                ),
            )
            .with_header("Retry-After", retry.to_string());
            for (k, v) in headers(
                op,
                level.tokens.max(0.0) as u32,
                glevel.tokens.max(0.0) as u32,
            ) {
                err = err.with_header(&k, v);
            }
            return Err(err);
        }
        if cfg.enabled {
            level.tokens -= 1.0;
            glevel.tokens -= 1.0;
        }
        let remaining = if cfg.enabled { level.tokens } else { cap - 1.0 };
        let global = if cfg.enabled {
            glevel.tokens
        } else {
            gcap - 1.0
        };
        Ok(headers(
            op,
            remaining.max(0.0) as u32,
            global.max(0.0) as u32,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empties_then_refills() {
        let cfg = Throttling {
            writes: Bucket {
                capacity: 2,
                refill_per_sec: 1.0,
            },
            ..Throttling::default()
        };
        let mut t = Throttler::default();
        let now = OffsetDateTime::now_utc();
        let h = t.charge(&cfg, "s", "p", OpType::Write, now).unwrap();
        assert_eq!(
            h[0],
            (
                "x-ms-ratelimit-remaining-subscription-writes".into(),
                "1".into()
            )
        );
        assert_eq!(h[1].1, "29");
        t.charge(&cfg, "s", "p", OpType::Write, now).unwrap();
        let e = t.charge(&cfg, "s", "p", OpType::Write, now).unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            e.headers
                .iter()
                .any(|(k, v)| k == "Retry-After" && v == "1")
        );
        // another principal has its own bucket; reads are separate
        t.charge(&cfg, "s", "q", OpType::Write, now).unwrap();
        t.charge(&cfg, "s", "p", OpType::Read, now).unwrap();
        t.charge(
            &cfg,
            "s",
            "p",
            OpType::Write,
            now + time::Duration::seconds(1),
        )
        .unwrap();
    }
}
