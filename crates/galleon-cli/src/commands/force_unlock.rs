//! `galleon force-unlock`: breaks the apply lock a crashed or killed apply left behind.

use super::session::{Session, base_dir, report_error};
use crate::cli::{ForceUnlockArgs, GlobalArgs};
use crate::exit::ExitStatus;

/// Breaks the lease and says whose lock it was.
pub fn run(args: &ForceUnlockArgs, global: &GlobalArgs) -> ExitStatus {
    let Ok(workspace) = super::load_workspace(&args.path.path, global) else {
        return ExitStatus::Failure;
    };
    let base = base_dir(&args.path.path);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            report_error(&anyhow::Error::new(e));
            return ExitStatus::Failure;
        }
    };
    let outcome = runtime.block_on(async {
        let session = Session::open(&workspace, &base, &args.connection).await?;
        let azure = session.apply_context(&workspace)?;
        anyhow::Ok(galleon_apply::force_unlock(&azure).await?)
    });
    match outcome {
        Ok(Some(holder)) => {
            eprintln!(
                "Broke the lock of workspace `{}`: {} by {} since {} (galleon {}).",
                workspace.name(),
                holder.operation,
                holder.who,
                holder.created,
                holder.version
            );
            ExitStatus::Success
        }
        Ok(None) => {
            eprintln!("Workspace `{}` was not locked.", workspace.name());
            ExitStatus::Success
        }
        Err(e) => {
            report_error(&e);
            ExitStatus::Failure
        }
    }
}
