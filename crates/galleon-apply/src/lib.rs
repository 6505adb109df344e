//! Applier: executes a plan in dependency order, concurrently, with an apply lock held in Azure.
//!
//! The pieces, from the inside out: [`schedule`] orders a plan's changes into steps,
//! [`executor`] walks them with bounded concurrency and emits [`event`]s to a sink
//! ([`sink`] has the terminal, plain and JSON ones).

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
    ApplyError, ApplyOptions, AzureContext, apply, apply_with, changes_of, force_unlock,
};
pub use azure::{ArmReader, BlobLockBackend, ReadError, failure_of};
pub use destroy::destroy_plan;
pub use event::{Event, EventKind, EventSink, NullSink, Outcome, RecordingSink, Summary};
pub use executor::{ExecOptions, Progress, StepRunner, execute};
pub use lock::{LockBackend, LockError, LockGuard, LockInfo, LockOptions, parse_timeout};
pub use lock_memory::MemoryLock;
pub use runner::{ArmRunner, ArmWriter, Write};
pub use schedule::{Schedule, ScheduleError};
pub use sink::{JsonSink, LiveSink, PlainSink, View};
pub use stale::{Drift, LiveReader, Moved, StaleError, check_fresh};
pub use step::{Change, ChangeAction, Op, ReplaceOrder, StepFailure, StepId};
pub use tokio_util::sync::CancellationToken;
