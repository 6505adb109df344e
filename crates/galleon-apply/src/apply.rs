//! `galleon apply` and `galleon destroy` end to end: check the plan, take the lock, prove the
//! plan fresh, walk it, give the lock back.
//!
//! The order matters. The lock comes before the freshness check, so that nobody can change
//! the world between the check and the writes through galleon; and it is released on every
//! path out (success, failure, Ctrl-C), so that only a killed process leaves it, to expire
//! within a minute.

use std::sync::Arc;

use galleon_azure::{ArmClient, BlobLock, OpKind, RateLimiter};
use galleon_plan::{Action, Method, Plan, ResourceChange};
use tokio_util::sync::CancellationToken;

use crate::azure::{ArmReader, ArmWrites, BlobLockBackend};
use crate::event::{EventSink, Summary};
use crate::executor::{Admission, ExecOptions, StepRunner, execute};
use crate::lock::{self, LockBackend, LockError, LockInfo, LockOptions};
use crate::runner::ArmRunner;
use crate::schedule::{Schedule, ScheduleError};
use crate::stale::{LiveReader, StaleError, check_fresh};
use crate::step::{Change, ChangeAction, Op, ReplaceOrder};

/// What `apply` needs from Azure: the client (with credentials for every tenant of the plan)
/// and the workspace's lock blob (`client.blob_lock(tenant, account, container,
/// "{workspace}.lock")` from the manifest's `lock:` section).
#[derive(Debug, Clone)]
pub struct AzureContext {
    /// The ARM client.
    pub client: ArmClient,
    /// The lock blob.
    pub lock: BlobLock,
}

impl AzureContext {
    /// The context for `workspace`, locking on `{container}/{workspace}.lock` in
    /// `storage_account` (the manifest's `lock:` section) with `lock_tenant_id`'s token.
    ///
    /// # Errors
    /// `AzureError::Config` for names a blob URL cannot carry.
    pub fn new(
        client: ArmClient,
        workspace: &str,
        lock_tenant_id: &str,
        storage_account: &str,
        container: &str,
    ) -> Result<Self, galleon_azure::AzureError> {
        let tenant = galleon_azure::TenantId::new(lock_tenant_id);
        let lock = client.blob_lock(
            &tenant,
            storage_account,
            container,
            &format!("{workspace}.lock"),
        )?;
        Ok(Self { client, lock })
    }
}

/// Steps admitted by the client's own rate limiter: a step starts when its subscription's
/// write (or delete) bucket has a token, which its request then spends.
#[derive(Debug)]
pub struct LimiterAdmission(pub Arc<RateLimiter>);

impl Admission for LimiterAdmission {
    fn admit(&self, subscription: &str, op: Op) -> Result<(), std::time::Duration> {
        let kind = match op {
            // A gallery's share action is a POST: ARM counts it as a write too.
            Op::Create | Op::Update => OpKind::Write,
            Op::Delete => OpKind::Delete,
        };
        self.0.try_admit(subscription, kind)
    }
}

/// Reads of the freshness check in flight at once; the limiter paces them further.
const FRESH_READS_AT_ONCE: usize = 64;

/// `galleon force-unlock`: breaks the workspace's lease whoever holds it, and returns what the
/// holder had written (to show the user whose apply they just unlocked).
///
/// # Errors
/// [`LockError::Backend`] when the storage account cannot be reached.
pub async fn force_unlock(azure: &AzureContext) -> Result<Option<LockInfo>, LockError> {
    BlobLockBackend::new(azure.lock.clone())
        .force_unlock()
        .await
}

/// A token cancelled by the first Ctrl-C, for [`ApplyOptions::cancel`]. Later Ctrl-Cs are the
/// caller's (the CLI exits at the second; the lease then expires by itself within a minute).
pub fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::warn!("interrupted: no new writes start; waiting for those in flight");
            trigger.cancel();
        }
    });
    token
}

/// How to run.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Concurrency and drain bounds.
    pub exec: ExecOptions,
    /// Lease length and `--lock-timeout`.
    pub lock: LockOptions,
    /// Fired by Ctrl-C: no new writes start; in-flight ones are drained.
    pub cancel: CancellationToken,
    /// `apply` or `destroy`, recorded in the lock.
    pub operation: String,
    /// Re-read what the plan read and refuse if it moved. Off only for a plan made moments
    /// ago in the same process under the same lock.
    pub check_fresh: bool,
    /// How often a running write's resource is read for the progress view.
    pub status_every: std::time::Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            exec: ExecOptions::default(),
            lock: LockOptions::default(),
            cancel: CancellationToken::new(),
            operation: "apply".into(),
            check_fresh: true,
            status_every: crate::azure::STATUS_EVERY,
        }
    }
}

/// Why an apply did not start (once started, failures are in the [`Summary`]).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan's preflight checks failed; it cannot be applied.
    #[error("the plan has failed preflight checks: {}", .0.join(", "))]
    FailedChecks(Vec<String>),
    /// A change lacks the request its action needs: the plan is malformed.
    #[error("the plan's change for {address} has no valid {expected} request")]
    MalformedChange {
        /// The address.
        address: String,
        /// What the action needs (`PUT`, `DELETE`).
        expected: &'static str,
    },
    /// The changes cannot be ordered.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// The lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The plan is stale, or freshness could not be checked.
    #[error(transparent)]
    Stale(#[from] StaleError),
    /// Ctrl-C before anything was written.
    #[error("interrupted before anything was written")]
    Interrupted,
}

impl ApplyError {
    /// The `hint:` line.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ApplyError::FailedChecks(_) => Some("fix what the checks report, then plan again"),
            ApplyError::Lock(e) => e.hint(),
            ApplyError::Stale(e) => Some(e.hint()),
            _ => None,
        }
    }
}

/// The plan's changes as executor input, checking each carries the request its action needs.
///
/// # Errors
/// [`ApplyError::MalformedChange`] for a change without a fitting request.
pub fn changes_of(plan: &Plan) -> Result<Vec<Change<ResourceChange>>, ApplyError> {
    let mut out = Vec::new();
    for c in &plan.changes {
        let (action, method, expected) = match c.action {
            Action::NoOp => continue,
            Action::Create => (ChangeAction::Create, Method::Put, "PUT"),
            Action::Update => (ChangeAction::Update, Method::Put, "PUT"),
            // The plan model has one order for a replacement: DELETE, then the PUT.
            Action::Replace => (
                ChangeAction::Replace(ReplaceOrder::DeleteThenCreate),
                Method::Put,
                "PUT",
            ),
            Action::Delete => (ChangeAction::Delete, Method::Delete, "DELETE"),
        };
        // An action (a gallery's `share`) is a POST with a body where a create or update is.
        let post =
            |m: Method| m == Method::Post && method == Method::Put && c.action != Action::Replace;
        let ok = c.request.as_ref().is_some_and(|r| {
            (r.method == method || post(r.method)) && (method == Method::Delete || r.body.is_some())
        });
        if !ok {
            return Err(ApplyError::MalformedChange {
                address: c.address.clone(),
                expected,
            });
        }
        out.push(Change {
            address: c.address.clone(),
            subscription: c.subscription.clone(),
            action,
            depends_on: c.depends_on.clone(),
            referenced_by: if c.action == Action::Delete {
                live_referrers(plan, &c.arm_id)
            } else {
                Vec::new()
            },
            payload: c.clone(),
        });
    }
    Ok(out)
}

/// Addresses of the other changes whose live body mentions `arm_id` (ARM ids compare
/// case-insensitively). Only deletions ask, and they are few, so a scan is cheap enough.
fn live_referrers(plan: &Plan, arm_id: &str) -> Vec<String> {
    // The id itself, or a child of it (a subnet of a network being deleted).
    let (exact, child) = (
        format!("\"{}\"", arm_id.to_ascii_lowercase()),
        format!("\"{}/", arm_id.to_ascii_lowercase()),
    );
    plan.changes
        .iter()
        .filter(|z| !z.arm_id.eq_ignore_ascii_case(arm_id))
        .filter(|z| {
            z.before.as_ref().is_some_and(|b| {
                let live = b.to_string().to_ascii_lowercase();
                live.contains(&exact) || live.contains(&child)
            })
        })
        .map(|z| z.address.clone())
        .collect()
}

/// Applies `plan` against Azure: see [`apply_with`].
///
/// # Errors
/// See [`apply_with`].
pub async fn apply(
    plan: &Plan,
    azure: &AzureContext,
    options: ApplyOptions,
    sink: &dyn EventSink,
) -> Result<Summary, ApplyError> {
    let writes = ArmWrites {
        client: azure.client.clone(),
        status_every: options.status_every,
    };
    let runner = ArmRunner::new(writes);
    let reader = ArmReader::for_plan(azure.client.clone(), plan);
    let lock = Arc::new(BlobLockBackend::new(azure.lock.clone()));
    let mut options = options;
    if options.exec.admission.is_none() {
        let limiter = Arc::clone(azure.client.limiter());
        options.exec.admission = Some(Arc::new(LimiterAdmission(limiter)));
    }
    apply_with(plan, &runner, &reader, lock, &options, sink).await
}

/// Applies `plan` with the given runner, reader and lock.
///
/// # Guarantees
/// Nothing is written unless the checks passed, the lock is held and the plan is fresh. The
/// lock is released on every return after it was taken. If the lease is lost mid-apply, no
/// new write starts.
///
/// # Errors
/// An [`ApplyError`] when the apply did not start; once started, the outcome is in the summary.
pub async fn apply_with<R, L, V>(
    plan: &Plan,
    runner: &R,
    reader: &V,
    lock_backend: Arc<L>,
    options: &ApplyOptions,
    sink: &dyn EventSink,
) -> Result<Summary, ApplyError>
where
    R: StepRunner<ResourceChange>,
    L: LockBackend,
    V: LiveReader,
{
    if plan.has_failed_checks() {
        let failed = plan
            .preflight
            .iter()
            .filter(|c| c.status == galleon_plan::CheckStatus::Fail)
            .map(|c| c.id.clone())
            .collect();
        return Err(ApplyError::FailedChecks(failed));
    }
    let schedule = Schedule::build(changes_of(plan)?)?;
    let s = &plan.summary;
    let info = LockInfo::new(&plan.workspace, &options.operation).doing(format!(
        "{} to add, {} to change, {} to replace, {} to destroy",
        s.add, s.change, s.replace, s.destroy
    ));
    let guard = tokio::select! {
        guard = lock::acquire(lock_backend, &info, &options.lock) => guard?,
        () = options.cancel.cancelled() => return Err(ApplyError::Interrupted),
    };
    let result = async {
        if options.check_fresh {
            tokio::select! {
                fresh = check_fresh(plan, reader, options.exec.max_parallel.min(FRESH_READS_AT_ONCE)) => fresh?,
                () = options.cancel.cancelled() => return Err(ApplyError::Interrupted),
            }
        }
        // Stop starting writes on Ctrl-C or when the lease is lost, whichever comes first.
        let stop = options.cancel.child_token();
        let lost = guard.lost();
        let watcher = {
            let stop = stop.clone();
            tokio::spawn(async move {
                lost.cancelled().await;
                stop.cancel();
            })
        };
        let summary = execute(&schedule, runner, sink, &options.exec, &stop).await;
        watcher.abort();
        Ok(summary)
    }
    .await;
    if let Err(e) = guard.release().await {
        tracing::warn!(error = %e, "releasing the apply lock failed; it expires within a minute");
    }
    result
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
