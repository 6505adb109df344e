//! The apply lock: one apply (or destroy) per workspace at a time, held in Azure.
//!
//! galleon has no state file, so the lock lives next to the resources: a blob lease on
//! `{container}/{workspace}.lock`, as terraform's azurerm backend does for its state blob. A
//! lease is Azure's atomic test-and-set with a built-in expiry (15-60 s, Lease Blob REST API,
//! learn.microsoft.com/rest/api/storageservices/lease-blob), so a crashed apply frees the lock
//! by itself within a minute; a live one renews it in the background. The backend is a trait
//! so that the engine and its tests do not need Azure.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Who holds the lock and why; written into the lock blob and shown to whoever waits on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Random id of this lock acquisition (also the proposed lease id).
    pub id: String,
    /// The workspace locked.
    pub workspace: String,
    /// `apply` or `destroy`.
    pub operation: String,
    /// `user@host` of the holder.
    pub who: String,
    /// galleon version of the holder.
    pub version: String,
    /// When the lock was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// What the holder is doing (`3 to add, 1 to destroy`), for whoever waits.
    #[serde(default)]
    pub what: String,
}

impl LockInfo {
    /// Describes a lock about to be taken by this process.
    pub fn new(workspace: &str, operation: &str) -> Self {
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME"));
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned());
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            workspace: workspace.to_owned(),
            operation: operation.to_owned(),
            who: format!(
                "{}@{}",
                user.as_deref().unwrap_or("unknown"),
                host.as_deref().unwrap_or("unknown")
            ),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            created: OffsetDateTime::now_utc(),
            what: String::new(),
        }
    }

    /// The same, saying what the holder is about to do.
    #[must_use]
    pub fn doing(mut self, what: impl Into<String>) -> Self {
        self.what = what.into();
        self
    }
}

fn describe(holder: &Option<Box<LockInfo>>) -> String {
    let Some(h) = holder else {
        return String::new();
    };
    let what = if h.what.is_empty() {
        String::new()
    } else {
        format!(": {}", h.what)
    };
    let since = h
        .created
        .format(&time::format_description::well_known::Rfc3339);
    format!(
        " by {} since {} (galleon {} {}{what}; lock id {})",
        h.who,
        since.unwrap_or_default(),
        h.version,
        h.operation,
        h.id
    )
}

/// Why the lock could not be taken, kept or given back.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds the lock (and still did when `--lock-timeout` ran out).
    #[error("the apply lock of workspace {workspace} is held{}", describe(.holder))]
    Held {
        /// The locked workspace.
        workspace: String,
        /// What the holder wrote into the lock, when readable.
        holder: Option<Box<LockInfo>>,
    },
    /// The lease could not be renewed before it expired: another apply may now take the lock.
    #[error("the apply lock was lost: it could not be renewed before it expired")]
    Lost,
    /// The lock storage failed (network, permissions, missing container).
    #[error("the apply lock storage failed while trying to {action}")]
    Backend {
        /// What was being done (`acquire`, `renew`, `release`, `break`).
        action: &'static str,
        /// The underlying failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl LockError {
    /// The `hint:` line for the user.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            LockError::Held { .. } => Some(
                "wait for that apply to finish, pass --lock-timeout 5m to wait here, or run \
                 `galleon force-unlock` if it crashed (a crashed holder's lease expires within 60 s)",
            ),
            LockError::Lost => Some(
                "check the storage account's reachability; run `galleon plan` to see the state",
            ),
            LockError::Backend { .. } => Some(
                "check the `lock:` section (storage account and container) and that the \
                 principal has Storage Blob Data Contributor on it",
            ),
        }
    }
}

/// A lease-based lock store (Azure Blob lease, or the in-memory one).
pub trait LockBackend: Send + Sync + 'static {
    /// Tries once to take the lock for `duration`, recording `info`; returns the lease id.
    ///
    /// # Errors
    /// [`LockError::Held`] when someone holds it; [`LockError::Backend`] otherwise.
    fn try_acquire(
        &self,
        info: &LockInfo,
        duration: Duration,
    ) -> impl Future<Output = Result<String, LockError>> + Send;
    /// Extends the lease for another full duration.
    ///
    /// # Errors
    /// Any failure; the caller retries until the lease would have expired.
    fn renew(&self, lease_id: &str) -> impl Future<Output = Result<(), LockError>> + Send;
    /// Gives the lock back.
    ///
    /// # Errors
    /// Any failure; the lease then expires by itself.
    fn release(&self, lease_id: &str) -> impl Future<Output = Result<(), LockError>> + Send;
    /// Breaks whatever lease is held (for a crashed holder) and returns what it had written.
    ///
    /// # Errors
    /// [`LockError::Backend`] when the store cannot be reached.
    fn force_unlock(&self) -> impl Future<Output = Result<Option<LockInfo>, LockError>> + Send;
}

/// Lease length and waiting behaviour.
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// Lease length; Azure allows 15 to 60 seconds.
    pub lease: Duration,
    /// How long to keep retrying while someone else holds the lock (`--lock-timeout`).
    pub timeout: Duration,
    /// Pause between attempts while waiting.
    pub retry_every: Duration,
}

impl Default for LockOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            timeout: Duration::ZERO,
            retry_every: Duration::from_secs(5),
        }
    }
}

/// Parses `--lock-timeout`: a number with a unit (`90s`, `5m`, `1h`), or `0` for no wait.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: use 90s, 5m or 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("invalid duration {text:?}: use 90s, 5m or 1h")),
    };
    Ok(Duration::from_secs(secs))
}

/// The held lock. Renews itself until [`LockGuard::release`]; dropping it without releasing
/// stops the renewal and lets the lease expire (the Ctrl-C-twice path).
#[derive(Debug)]
pub struct LockGuard<B: LockBackend> {
    backend: Arc<B>,
    lease_id: String,
    renewer: JoinHandle<()>,
    lost: CancellationToken,
}

impl<B: LockBackend> LockGuard<B> {
    /// Cancelled when the lease could not be renewed: stop starting writes.
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

    /// Stops renewing and gives the lock back.
    ///
    /// # Errors
    /// [`LockError::Backend`] when the release failed (the lease then expires by itself).
    pub async fn release(self) -> Result<(), LockError> {
        self.renewer.abort();
        self.backend.release(&self.lease_id).await
    }
}

impl<B: LockBackend> Drop for LockGuard<B> {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Takes the lock, waiting up to `options.timeout` while someone else holds it, and starts
/// renewing it every third of the lease.
///
/// # Errors
/// [`LockError::Held`] with the holder's info when the wait ran out; backend failures at once.
pub async fn acquire<B: LockBackend>(
    backend: Arc<B>,
    info: &LockInfo,
    options: &LockOptions,
) -> Result<LockGuard<B>, LockError> {
    let deadline = tokio::time::Instant::now() + options.timeout;
    let lease_id = loop {
        match backend.try_acquire(info, options.lease).await {
            Ok(id) => break id,
            Err(LockError::Held { workspace, holder }) => {
                let now = tokio::time::Instant::now();
                if now >= deadline {
                    return Err(LockError::Held { workspace, holder });
                }
                tracing::info!(holder = %describe(&holder), "apply lock held; waiting");
                tokio::time::sleep(options.retry_every.min(deadline - now)).await;
            }
            Err(e) => return Err(e),
        }
    };
    let lost = CancellationToken::new();
    let renewer = tokio::spawn(renew_loop(
        Arc::clone(&backend),
        lease_id.clone(),
        options.lease,
        lost.clone(),
    ));
    Ok(LockGuard {
        backend,
        lease_id,
        renewer,
        lost,
    })
}

/// Renews every third of the lease; after a failure retries every two seconds until the lease
/// would have expired, then declares the lock lost.
async fn renew_loop<B: LockBackend>(
    backend: Arc<B>,
    lease_id: String,
    lease: Duration,
    lost: CancellationToken,
) {
    let mut valid_until = tokio::time::Instant::now() + lease;
    let mut wait = lease / 3;
    loop {
        tokio::time::sleep(wait).await;
        match backend.renew(&lease_id).await {
            Ok(()) => {
                valid_until = tokio::time::Instant::now() + lease;
                wait = lease / 3;
            }
            Err(e) if tokio::time::Instant::now() + Duration::from_secs(2) < valid_until => {
                tracing::warn!(error = %e, "renewing the apply lock failed; retrying");
                wait = Duration::from_secs(2);
            }
            Err(e) => {
                tracing::error!(error = %e, "the apply lock expired: stopping");
                lost.cancel();
                return;
            }
        }
    }
}

#[cfg(test)]
#[path = "lock_tests.rs"]
mod tests;
