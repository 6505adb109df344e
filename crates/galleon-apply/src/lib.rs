//! Applier: executes a plan in dependency order, concurrently, with an apply lock held in Azure.
//!
//! The pieces, from the inside out: [`schedule`] orders a plan's changes into steps,
//! [`executor`] walks them with bounded concurrency and emits [`event`]s to a sink
//! ([`sink`] has the terminal, plain and JSON ones); [`stale`] refuses a plan the world has
//! moved away from; [`lock`] keeps two applies of one workspace apart; [`runner`] sends the
//! plan's requests; [`destroy`] turns a plan into one that deletes what the workspace owns.
//!
//! For the CLI, in short:
//!
//! ```text
//! let azure = AzureContext::new(client, workspace, lock_tenant_id, account, container)?;
//! let options = ApplyOptions {
//!     cancel: cancel_on_ctrl_c(),
//!     lock: LockOptions { timeout: parse_timeout(&args.lock_timeout)?, ..Default::default() },
//!     operation: "apply".into(), // or "destroy", with destroy_plan(&plan)
//!     ..Default::default()
//! };
//! let sink = sink::for_view(View::Human { no_color });
//! match apply(&plan, &azure, options, &*sink).await {
//!     Ok(summary) => exit(summary.outcome.exit_code()),
//!     Err(e) => { eprintln!("error: {e}"); if let Some(h) = e.hint() { eprintln!("hint: {h}") } exit(1) }
//! }
//! // galleon force-unlock: force_unlock(&azure).await? returns the broken lock's holder.
//! ```

mod apply;
mod azure;
pub mod destroy;
pub mod event;
pub mod executor;
pub mod lock;
mod lock_memory;
pub mod runner;
pub mod schedule;
pub mod sink;
pub mod stale;
pub mod step;
#[cfg(test)]
mod testing;

pub use apply::{
    ApplyError, ApplyOptions, AzureContext, LimiterAdmission, apply, apply_with, cancel_on_ctrl_c,
    changes_of, force_unlock,
};
pub use azure::{ArmReader, ArmWrites, BlobLockBackend, ReadError, STATUS_EVERY, failure_of};
pub use destroy::destroy_plan;
pub use event::{Event, EventKind, EventSink, NullSink, Outcome, RecordingSink, Summary};
pub use executor::{Admission, ExecOptions, Progress, StepRunner, UNCAPPED, execute};
pub use lock::{LockBackend, LockError, LockGuard, LockInfo, LockOptions, parse_timeout};
pub use lock_memory::MemoryLock;
pub use runner::{ArmRunner, ArmWriter, Write};
pub use schedule::{Schedule, ScheduleError};
pub use sink::{JsonSink, LiveSink, PlainSink, View};
pub use stale::{Drift, LiveReader, Moved, StaleError, check_fresh};
pub use step::{Change, ChangeAction, Op, ReplaceOrder, StepFailure, StepId};
pub use tokio_util::sync::CancellationToken;
