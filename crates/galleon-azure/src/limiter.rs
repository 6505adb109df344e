//! A client-side rate limiter so that galleon stays under ARM's limits instead of provoking 429s.
//!
//! ARM meters each subscription with token buckets per operation type (reads 250 burst / 25 per
//! second, writes and deletes 200 / 10; arm-protocol.md §1.1). galleon mirrors them per
//! subscription, and trusts the server's count when it is lower than its own: responses carry
//! `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`, and other clients of the same
//! subscription spend from the same bucket. A semaphore per subscription caps concurrency too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// ARM's operation types, each with its own bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// GET, HEAD and read-only POSTs (Resource Graph queries, list actions).
    Read,
    /// PUT, PATCH and POST actions.
    Write,
    /// DELETE.
    Delete,
}

impl OpKind {
    /// The kind ARM charges a method to.
    pub fn of_method(method: &reqwest::Method) -> Self {
        match *method {
            reqwest::Method::GET | reqwest::Method::HEAD => OpKind::Read,
            reqwest::Method::DELETE => OpKind::Delete,
            _ => OpKind::Write,
        }
    }

    fn header(self) -> &'static str {
        match self {
            OpKind::Read => "x-ms-ratelimit-remaining-subscription-reads",
            OpKind::Write => "x-ms-ratelimit-remaining-subscription-writes",
            OpKind::Delete => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
}

/// One token bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Tokens when full (the burst).
    pub burst: f64,
    /// Tokens added per second.
    pub per_second: f64,
}

/// Limits per subscription. The defaults are ARM's published ones.
#[derive(Debug, Clone)]
pub struct LimiterConfig {
    /// Read bucket.
    pub reads: Bucket,
    /// Write bucket.
    pub writes: Bucket,
    /// Delete bucket.
    pub deletes: Bucket,
    /// Requests in flight at once per subscription.
    pub max_concurrency: usize,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        Self {
            reads: Bucket {
                burst: 250.0,
                per_second: 25.0,
            },
            writes: Bucket {
                burst: 200.0,
                per_second: 10.0,
            },
            deletes: Bucket {
                burst: 200.0,
                per_second: 10.0,
            },
            max_concurrency: 16,
        }
    }
}

impl LimiterConfig {
    fn bucket(&self, kind: OpKind) -> Bucket {
        match kind {
            OpKind::Read => self.reads,
            OpKind::Write => self.writes,
            OpKind::Delete => self.deletes,
        }
    }
}

#[derive(Debug)]
struct State {
    tokens: f64,
    updated: Instant,
}

/// The limiter: buckets and semaphores keyed by subscription (or `""` for tenant-level calls).
#[derive(Debug)]
pub struct RateLimiter {
    config: LimiterConfig,
    buckets: Mutex<HashMap<(String, OpKind), State>>,
    semaphores: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Held while a request is in flight; dropping it frees the concurrency slot.
#[derive(Debug)]
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

impl RateLimiter {
    /// A limiter with the given limits.
    pub fn new(config: LimiterConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
            semaphores: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a concurrency slot and a token of `kind` for `subscription`.
    pub async fn acquire(&self, subscription: &str, kind: OpKind) -> Permit {
        let semaphore = {
            let mut map = self.semaphores.lock().expect("limiter lock");
            map.entry(subscription.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.max_concurrency.max(1))))
                .clone()
        };
        let slot = semaphore
            .acquire_owned()
            .await
            .expect("semaphore is never closed");
        let wait = self.reserve(subscription, kind, Instant::now());
        if !wait.is_zero() {
            tracing::debug!(
                subscription,
                ?kind,
                wait_ms = wait.as_millis() as u64,
                "rate limiter: waiting for a token"
            );
            tokio::time::sleep(wait).await;
        }
        Permit { _slot: slot }
    }

    /// Takes one token and returns how long to wait before using it. Tokens may go negative:
    /// each waiter reserves its place, so waits queue up in order without re-checking.
    fn reserve(&self, subscription: &str, kind: OpKind, now: Instant) -> Duration {
        let bucket = self.config.bucket(kind);
        let mut map = self.buckets.lock().expect("limiter lock");
        let state = map
            .entry((subscription.to_string(), kind))
            .or_insert(State {
                tokens: bucket.burst,
                updated: now,
            });
        refill(state, bucket, now);
        state.tokens -= 1.0;
        if state.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.tokens / bucket.per_second)
        }
    }

    /// Lowers galleon's count to the server's remaining count from a response's headers.
    pub fn observe(&self, subscription: &str, kind: OpKind, headers: &HeaderMap) {
        let Some(remaining) = headers
            .get(kind.header())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
        else {
            return;
        };
        self.observe_remaining(subscription, kind, remaining, Instant::now());
    }

    fn observe_remaining(&self, subscription: &str, kind: OpKind, remaining: f64, now: Instant) {
        let bucket = self.config.bucket(kind);
        let mut map = self.buckets.lock().expect("limiter lock");
        let state = map
            .entry((subscription.to_string(), kind))
            .or_insert(State {
                tokens: bucket.burst,
                updated: now,
            });
        refill(state, bucket, now);
        if remaining < state.tokens {
            if remaining < bucket.burst * 0.1 {
                tracing::info!(
                    subscription,
                    ?kind,
                    remaining,
                    "ARM reports few requests left; slowing down"
                );
            }
            state.tokens = remaining;
        }
    }

    #[cfg(test)]
    fn tokens(&self, subscription: &str, kind: OpKind) -> f64 {
        self.buckets.lock().unwrap()[&(subscription.to_string(), kind)].tokens
    }
}

fn refill(state: &mut State, bucket: Bucket, now: Instant) {
    let elapsed = now.saturating_duration_since(state.updated).as_secs_f64();
    state.tokens = (state.tokens + elapsed * bucket.per_second).min(bucket.burst);
    state.updated = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> LimiterConfig {
        LimiterConfig {
            reads: Bucket {
                burst: 5.0,
                per_second: 1.0,
            },
            writes: Bucket {
                burst: 2.0,
                per_second: 0.5,
            },
            deletes: Bucket {
                burst: 2.0,
                per_second: 0.5,
            },
            max_concurrency: 4,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn burst_is_free_then_the_refill_rate_applies() {
        let l = RateLimiter::new(small());
        let start = Instant::now();
        for _ in 0..5 {
            drop(l.acquire("s", OpKind::Read).await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(l.acquire("s", OpKind::Read).await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        drop(l.acquire("s", OpKind::Read).await);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn kinds_and_subscriptions_have_separate_buckets() {
        let l = RateLimiter::new(small());
        let start = Instant::now();
        for _ in 0..2 {
            drop(l.acquire("a", OpKind::Write).await);
        }
        drop(l.acquire("a", OpKind::Delete).await);
        drop(l.acquire("b", OpKind::Write).await);
        drop(l.acquire("a", OpKind::Read).await);
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(l.acquire("a", OpKind::Write).await);
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(2),
            "writes refill at 0.5/s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn server_remaining_count_slows_us_down() {
        let l = RateLimiter::new(small());
        let mut h = HeaderMap::new();
        h.insert(
            "x-ms-ratelimit-remaining-subscription-reads",
            "0".parse().unwrap(),
        );
        l.observe("s", OpKind::Read, &h);
        assert_eq!(l.tokens("s", OpKind::Read), 0.0);
        let start = Instant::now();
        drop(l.acquire("s", OpKind::Read).await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // A higher server count never raises ours above what we computed.
        h.insert(
            "x-ms-ratelimit-remaining-subscription-reads",
            "249".parse().unwrap(),
        );
        l.observe("s", OpKind::Read, &h);
        assert!(l.tokens("s", OpKind::Read) < 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped_per_subscription() {
        let l = Arc::new(RateLimiter::new(LimiterConfig {
            max_concurrency: 2,
            ..small()
        }));
        let p1 = l.acquire("s", OpKind::Read).await;
        let _p2 = l.acquire("s", OpKind::Read).await;
        let l2 = l.clone();
        let third = tokio::spawn(async move { l2.acquire("s", OpKind::Read).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!third.is_finished(), "a third request waits for a slot");
        let _other = l.acquire("t", OpKind::Read).await;
        drop(p1);
        third.await.unwrap();
    }

    #[test]
    fn methods_map_to_arm_operation_types() {
        assert_eq!(OpKind::of_method(&reqwest::Method::GET), OpKind::Read);
        assert_eq!(OpKind::of_method(&reqwest::Method::PUT), OpKind::Write);
        assert_eq!(OpKind::of_method(&reqwest::Method::PATCH), OpKind::Write);
        assert_eq!(OpKind::of_method(&reqwest::Method::POST), OpKind::Write);
        assert_eq!(OpKind::of_method(&reqwest::Method::DELETE), OpKind::Delete);
    }
}
