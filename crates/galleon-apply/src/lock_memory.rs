//! An in-process lease store with Azure's lease rules (expiry, renew, release, break): the
//! lock backend of the executor tests and of callers that need exclusion within one process.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::lock::{LockBackend, LockError, LockInfo};

/// Lease state held in memory, on tokio's clock (so paused-time tests can expire leases).
#[derive(Debug, Default)]
pub struct MemoryLock {
    state: Mutex<Option<Lease>>,
    /// The blob's content: kept after release, like the lock blob, for `force-unlock` output.
    content: Mutex<Option<LockInfo>>,
}

#[derive(Debug)]
struct Lease {
    id: String,
    duration: Duration,
    expires: Instant,
    /// Broken by `force_unlock`: free for others, never renewable, still releasable.
    broken: bool,
}

impl MemoryLock {
    fn backend_error(action: &'static str, message: &str) -> LockError {
        LockError::Backend {
            action,
            source: message.to_owned().into(),
        }
    }

    /// Whether a live lease exists right now (broken and expired ones do not count).
    pub fn is_held(&self) -> bool {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.as_ref().is_some_and(|l| l.expires > Instant::now())
    }
}

impl LockBackend for MemoryLock {
    async fn try_acquire(&self, info: &LockInfo, duration: Duration) -> Result<String, LockError> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut content = self
            .content
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.as_ref().is_some_and(|l| l.expires > Instant::now()) {
            return Err(LockError::Held {
                workspace: info.workspace.clone(),
                holder: content.clone().map(Box::new),
            });
        }
        *state = Some(Lease {
            id: info.id.clone(),
            duration,
            expires: Instant::now() + duration,
            broken: false,
        });
        *content = Some(info.clone());
        Ok(info.id.clone())
    }

    async fn renew(&self, lease_id: &str) -> Result<(), LockError> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match state.as_mut() {
            // Azure renews an expired lease too, as long as nobody took the blob since; a
            // broken one never (Lease Blob: "LeaseIsBrokenAndCannotBeRenewed").
            Some(l) if l.id == lease_id && !l.broken => {
                l.expires = Instant::now() + l.duration;
                Ok(())
            }
            _ => Err(Self::backend_error(
                "renew",
                "LeaseIdMismatchWithLeaseOperation",
            )),
        }
    }

    async fn release(&self, lease_id: &str) -> Result<(), LockError> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match state.as_ref() {
            Some(l) if l.id == lease_id => {
                *state = None;
                Ok(())
            }
            _ => Err(Self::backend_error(
                "release",
                "LeaseIdMismatchWithLeaseOperation",
            )),
        }
    }

    async fn force_unlock(&self) -> Result<Option<LockInfo>, LockError> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(l) = state.as_mut() {
            // A break period of 0: free for others at once.
            l.expires = Instant::now();
            l.broken = true;
        }
        drop(state);
        Ok(self
            .content
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone())
    }
}
