//! A client-side rate limiter so that galleon stays under ARM's limits instead of provoking 429s.
//!
//! ARM meters each subscription with token buckets per operation type (reads 250 burst / 25 per
//! second, writes and deletes 200 / 10; arm-protocol.md §1.1). galleon mirrors them per
//! subscription, and trusts the server's count when it is lower than its own: responses carry
//! `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`, and other clients of the same
//! subscription spend from the same bucket. A semaphore per subscription caps concurrency too.
//!
//! Two callers need more than "wait for a token":
//! - the applier starts a step only when its write would be admitted now ([`RateLimiter::try_admit`]),
//!   so that the number of steps in flight follows the write bucket instead of a fixed cap;
//! - long-running operations poll through the read bucket, and many of them at once would
//!   drain it; [`RateLimiter::poll_wait`] spreads their polls over the bucket's refill (see
//!   [`paced_poll`]) so that they never queue in front of creates and reads.

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

/// Share of the read refill that polls may use at steady state. The rest is for the read each
/// operation makes when it ends (the final GET of a PUT) and for anyone else's reads: at most
/// as many operations end per second as writes start them, so with ARM's buckets (reads 25/s,
/// writes 10/s) polls 10/s plus final reads 10/s leave 5/s and the reserve to the rest.
pub const POLL_SHARE: f64 = 0.4;

/// Share of the read burst that polls leave untouched.
pub const POLL_RESERVE: f64 = 0.2;

/// Polls may spend the burst above [`POLL_RESERVE`] over this long: long enough that a crowd of
/// new operations does not empty it in one round, short enough that it is used while it helps
/// (a crowd's first operations end within seconds when Azure's durations are scaled down, and
/// within a couple of minutes in Azure, by when the burst has refilled anyway).
pub const POLL_BURST_HORIZON: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct State {
    tokens: f64,
    updated: Instant,
    /// Tokens taken by [`RateLimiter::try_admit`] for a request not yet sent: the next
    /// request of the kind uses one instead of taking another.
    prepaid: u32,
}

/// The limiter: buckets and semaphores keyed by subscription (or `""` for tenant-level calls).
#[derive(Debug)]
pub struct RateLimiter {
    config: LimiterConfig,
    buckets: Mutex<HashMap<(String, OpKind), State>>,
    semaphores: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Long-running operations being polled, per subscription.
    operations: Mutex<HashMap<String, usize>>,
}

/// Held while a request is in flight; dropping it frees the concurrency slot.
#[derive(Debug)]
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

/// Counts one long-running operation as polled in its subscription until dropped.
#[derive(Debug)]
pub struct OperationTicket {
    limiter: Arc<RateLimiter>,
    key: String,
}

impl Drop for OperationTicket {
    fn drop(&mut self) {
        let mut map = self.limiter.operations.lock().expect("limiter lock");
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// ARM compares subscription ids case-insensitively; so must the buckets.
fn key(subscription: &str) -> String {
    subscription.to_ascii_lowercase()
}

impl RateLimiter {
    /// A limiter with the given limits.
    pub fn new(config: LimiterConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
            semaphores: Mutex::new(HashMap::new()),
            operations: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a token of `kind` for `subscription`, then for a concurrency slot.
    ///
    /// The token comes first so that a request waiting for its bucket holds no slot: a poll
    /// waiting for a read token must not keep a create from being sent. The price is that a
    /// request may leave a little later than its token allowed and bunch with the next ones;
    /// slots turn over every round trip (hundreds per second over 16 slots, against refills
    /// of 10-25), so such a bunch is a few requests, which the burst's reserve absorbs.
    pub async fn acquire(&self, subscription: &str, kind: OpKind) -> Permit {
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
        let semaphore = {
            let mut map = self.semaphores.lock().expect("limiter lock");
            map.entry(key(subscription))
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.max_concurrency.max(1))))
                .clone()
        };
        let slot = semaphore
            .acquire_owned()
            .await
            .expect("semaphore is never closed");
        Permit { _slot: slot }
    }

    /// Takes a token of `kind` for `subscription` if one is free now, for a request about to
    /// be sent: the next [`RateLimiter::acquire`] of that kind uses it without waiting.
    ///
    /// # Errors
    /// How long until a token is free, when none is now; nothing is taken.
    pub fn try_admit(&self, subscription: &str, kind: OpKind) -> Result<(), Duration> {
        self.try_admit_at(subscription, kind, Instant::now())
    }

    fn try_admit_at(&self, subscription: &str, kind: OpKind, now: Instant) -> Result<(), Duration> {
        let bucket = self.config.bucket(kind);
        self.with_state(subscription, kind, now, |state| {
            if state.tokens >= 1.0 {
                state.tokens -= 1.0;
                state.prepaid += 1;
                Ok(())
            } else {
                Err(Duration::from_secs_f64(
                    (1.0 - state.tokens) / bucket.per_second,
                ))
            }
        })
    }

    /// Takes one token and returns how long to wait before using it. Tokens may go negative:
    /// each waiter reserves its place, so waits queue up in order without re-checking.
    fn reserve(&self, subscription: &str, kind: OpKind, now: Instant) -> Duration {
        let bucket = self.config.bucket(kind);
        self.with_state(subscription, kind, now, |state| {
            if state.prepaid > 0 {
                state.prepaid -= 1;
                return Duration::ZERO;
            }
            state.tokens -= 1.0;
            if state.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-state.tokens / bucket.per_second)
            }
        })
    }

    /// Runs `f` on the refilled state of one bucket.
    fn with_state<T>(
        &self,
        subscription: &str,
        kind: OpKind,
        now: Instant,
        f: impl FnOnce(&mut State) -> T,
    ) -> T {
        let bucket = self.config.bucket(kind);
        let mut map = self.buckets.lock().expect("limiter lock");
        let state = map.entry((key(subscription), kind)).or_insert(State {
            tokens: bucket.burst,
            updated: now,
            prepaid: 0,
        });
        refill(state, bucket, now);
        f(state)
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
        self.with_state(subscription, kind, now, |state| {
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
        });
    }

    /// Whether the bucket of `kind` for `subscription` is more than half full: the test for
    /// reads nobody waits on (the live view of an operation's state), which must not take
    /// tokens that polls and the plan's own reads need.
    pub fn has_spare(&self, subscription: &str, kind: OpKind) -> bool {
        let burst = self.config.bucket(kind).burst;
        self.with_state(subscription, kind, Instant::now(), |s| {
            s.tokens > burst / 2.0
        })
    }

    /// Counts a long-running operation in `subscription` as polled until the ticket drops,
    /// for [`RateLimiter::poll_wait`].
    pub fn operation_started(self: &Arc<Self>, subscription: &str) -> OperationTicket {
        let key = key(subscription);
        *self
            .operations
            .lock()
            .expect("limiter lock")
            .entry(key.clone())
            .or_default() += 1;
        OperationTicket {
            limiter: Arc::clone(self),
            key,
        }
    }

    /// How long an operation in `subscription` should wait before its next poll, when the
    /// server asked for `asked` (its `Retry-After`, never shortened): see [`paced_poll`].
    pub fn poll_wait(&self, subscription: &str, asked: Duration) -> Duration {
        let in_flight = self
            .operations
            .lock()
            .expect("limiter lock")
            .get(&key(subscription))
            .copied()
            .unwrap_or(0);
        let tokens = self.with_state(subscription, OpKind::Read, Instant::now(), |s| s.tokens);
        let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0.8..1.2);
        paced_poll(asked, in_flight, tokens, self.config.reads, jitter)
    }

    #[cfg(test)]
    fn tokens(&self, subscription: &str, kind: OpKind) -> f64 {
        self.buckets.lock().unwrap()[&(key(subscription), kind)].tokens
    }

    #[cfg(test)]
    fn operations(&self, subscription: &str) -> usize {
        self.operations
            .lock()
            .unwrap()
            .get(&key(subscription))
            .copied()
            .unwrap_or(0)
    }
}

/// The wait before an operation's next poll when `in_flight` operations share a read bucket
/// holding `tokens`.
///
/// ARM asks each operation to be polled after `Retry-After` (arm-protocol.md §1.4: "When
/// tracking async operations, respect the Retry-After header hints"); galleon never polls
/// sooner. When the operations of one subscription together would poll faster than the
/// bucket allows, each waits longer: over one round of polls (every operation polled once)
/// they may spend [`POLL_SHARE`] of the refill, plus the burst above [`POLL_RESERVE`], spread
/// over at least [`POLL_BURST_HORIZON`]. The result is stretched by `jitter` (0.8-1.2,
/// random in use) so that operations started together do not poll together.
pub fn paced_poll(
    asked: Duration,
    in_flight: usize,
    tokens: f64,
    reads: Bucket,
    jitter: f64,
) -> Duration {
    let n = in_flight as f64;
    let spare = (tokens - reads.burst * POLL_RESERVE).max(0.0);
    let steady = (POLL_SHARE * reads.per_second).max(f64::MIN_POSITIVE);
    // A round shorter than the horizon spends the spare at spare/horizon per second; a longer
    // one spends all of it once, and the refill pays for the rest.
    let with_burst = n / (steady + spare / POLL_BURST_HORIZON.as_secs_f64());
    let round = with_burst.max((n - spare) / steady);
    if round <= asked.as_secs_f64() {
        return asked;
    }
    Duration::from_secs_f64(round * jitter).max(asked)
}

fn refill(state: &mut State, bucket: Bucket, now: Instant) {
    let elapsed = now.saturating_duration_since(state.updated).as_secs_f64();
    state.tokens = (state.tokens + elapsed * bucket.per_second).min(bucket.burst);
    state.updated = now;
}

#[cfg(test)]
#[path = "limiter_tests.rs"]
mod tests;
