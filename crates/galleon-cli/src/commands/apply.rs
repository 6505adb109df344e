//! `galleon apply` and `galleon destroy`: plan (or read a saved plan), show it, ask, then carry it
//! out under the workspace's lock with live progress.
//!
//! Exit codes: 0 when every step succeeded or there was nothing to do, 1 on any error or failed
//! step, 130 when interrupted by Ctrl-C.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use anyhow::Context as _;
use galleon_apply::{ApplyOptions, LockOptions, View, cancel_on_ctrl_c, destroy_plan, sink};
use galleon_plan::{Plan, PlanOptions};
use galleon_render::{TextOptions, render_text};

use super::session::{Session, base_dir, report_error};
use crate::cli::{ApplyArgs, ConcurrencyArgs, DestroyArgs, GlobalArgs};
use crate::exit::ExitStatus;

/// `galleon apply [PATH|PLANFILE]`.
pub fn run_apply(args: &ApplyArgs, global: &GlobalArgs) -> ExitStatus {
    let saved = match read_plan_file(&args.path.path) {
        Ok(saved) => saved,
        Err(e) => {
            report_error(&e);
            return ExitStatus::Failure;
        }
    };
    let workspace_path = match (&saved, &args.workspace) {
        (_, Some(dir)) => dir.clone(),
        (Some(_), None) => std::path::PathBuf::from("."),
        (None, None) => args.path.path.clone(),
    };
    let Ok(workspace) = super::load_workspace(&workspace_path, global) else {
        return ExitStatus::Failure;
    };
    let base = base_dir(&workspace_path);
    run(global, |rt| {
        rt.block_on(async {
            let session = Session::open(&workspace, &base, &args.connection).await?;
            let (plan, from_file) = match saved {
                Some(plan) => (plan, true),
                None => {
                    let options = PlanOptions {
                        targets: args.targets.clone(),
                        ..PlanOptions::default()
                    };
                    let azure = galleon_plan::AzureContext {
                        arm: session.arm.clone(),
                        resource_graph: true,
                    };
                    (
                        galleon_plan::plan(&workspace, &azure, options).await?,
                        false,
                    )
                }
            };
            execute(
                &plan,
                &workspace,
                &session,
                Exec {
                    operation: "apply",
                    from_file,
                    auto_approve: args.auto_approve,
                    lock_timeout: &args.lock_timeout,
                    json: args.json,
                    concurrency: &args.concurrency,
                    global,
                },
            )
            .await
        })
    })
}

/// `galleon destroy [PATH]`: deletes everything the workspace owns, nothing else.
pub fn run_destroy(args: &DestroyArgs, global: &GlobalArgs) -> ExitStatus {
    let Ok(workspace) = super::load_workspace(&args.path.path, global) else {
        return ExitStatus::Failure;
    };
    let base = base_dir(&args.path.path);
    run(global, |rt| {
        rt.block_on(async {
            let session = Session::open(&workspace, &base, &args.connection).await?;
            let azure = galleon_plan::AzureContext {
                arm: session.arm.clone(),
                resource_graph: true,
            };
            let plan = galleon_plan::plan(&workspace, &azure, PlanOptions::default()).await?;
            execute(
                &destroy_plan(&plan),
                &workspace,
                &session,
                Exec {
                    operation: "destroy",
                    from_file: false,
                    auto_approve: args.auto_approve,
                    lock_timeout: &args.lock_timeout,
                    json: args.json,
                    concurrency: &args.concurrency,
                    global,
                },
            )
            .await
        })
    })
}

struct Exec<'a> {
    operation: &'static str,
    from_file: bool,
    auto_approve: bool,
    lock_timeout: &'a str,
    json: bool,
    concurrency: &'a ConcurrencyArgs,
    global: &'a GlobalArgs,
}

async fn execute(
    plan: &Plan,
    workspace: &galleon_manifest::Workspace,
    session: &Session,
    exec: Exec<'_>,
) -> anyhow::Result<ExitStatus> {
    if !exec.json {
        print!(
            "{}",
            render_text(
                plan,
                TextOptions {
                    color: color(exec.global),
                    show_unchanged: false
                }
            )
        );
    }
    if plan.has_failed_checks() {
        anyhow::bail!("preflight checks failed; nothing was changed");
    }
    if !plan.has_changes() {
        return Ok(ExitStatus::Success);
    }
    // A saved plan was reviewed when it was made; applying it is the approval (as in Terraform).
    if !exec.from_file && !exec.auto_approve && !confirm(exec.operation)? {
        eprintln!(
            "{} cancelled; nothing was changed.",
            capitalise(exec.operation)
        );
        return Ok(ExitStatus::Failure);
    }
    let azure = session.apply_context(workspace)?;
    let options = ApplyOptions {
        cancel: cancel_on_ctrl_c(),
        lock: LockOptions {
            timeout: galleon_apply::parse_timeout(exec.lock_timeout)
                .map_err(|e| anyhow::anyhow!("--lock-timeout: {e}"))?,
            ..LockOptions::default()
        },
        operation: exec.operation.into(),
        exec: galleon_apply::ExecOptions {
            max_parallel: cap(exec.concurrency.parallelism),
            max_per_subscription: cap(exec.concurrency.parallelism_per_subscription),
            ..galleon_apply::ExecOptions::default()
        },
        ..ApplyOptions::default()
    };
    let view = if exec.json {
        View::Json
    } else {
        View::Human {
            no_color: !color(exec.global),
        }
    };
    let sink = sink::for_view_explained(view, super::explain::step_failure);
    match galleon_apply::apply(plan, &azure, options, &*sink).await {
        Ok(summary) => Ok(match summary.outcome.exit_code() {
            0 => ExitStatus::Success,
            130 => ExitStatus::Interrupted,
            _ => ExitStatus::Failure,
        }),
        Err(e) => {
            let hint = e.hint();
            let err = anyhow::Error::new(e);
            report_error(&err);
            if let Some(hint) = hint {
                eprintln!("hint: {hint}");
            }
            Ok(ExitStatus::Failure)
        }
    }
}

/// `--parallelism N` caps at N (at least 1); absent, ARM's buckets are the only bound.
fn cap(flag: Option<usize>) -> usize {
    flag.map_or(galleon_apply::UNCAPPED, |n| n.max(1))
}

/// Reads `path` as a saved plan when it is one; `None` for a workspace directory or manifest.
fn read_plan_file(path: &Path) -> anyhow::Result<Option<Plan>> {
    if !path.is_file() {
        return Ok(None);
    }
    let head = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8_lossy(&head[..head.len().min(256)]);
    if !text.trim_start().starts_with('{') {
        return Ok(None);
    }
    Ok(Some(Plan::read_file(path)?))
}

fn confirm(operation: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "{operation} needs confirmation but standard input is not a terminal: \
             review the plan and pass --auto-approve, or apply a saved plan file"
        );
    }
    eprint!(
        "\nDo you want to perform these actions?\n  galleon will {operation} the resources above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn color(global: &GlobalArgs) -> bool {
    crate::logging::color(global) && std::io::stdout().is_terminal()
}

/// Runs `body` on a fresh runtime and maps its error to exit status 1.
fn run(
    _global: &GlobalArgs,
    body: impl FnOnce(&tokio::runtime::Runtime) -> anyhow::Result<ExitStatus>,
) -> ExitStatus {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            report_error(&anyhow::anyhow!(e).context("cannot start the async runtime"));
            return ExitStatus::Failure;
        }
    };
    match body(&runtime) {
        Ok(status) => status,
        Err(e) => {
            report_error(&e);
            ExitStatus::Failure
        }
    }
}
