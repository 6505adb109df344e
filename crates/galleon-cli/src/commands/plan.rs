//! `galleon plan`: read Azure, print what apply would do, optionally save it for apply.
//!
//! Exit codes follow terraform's `-detailed-exitcode`: 0 no changes, 2 changes (only with
//! `--detailed-exitcode`; otherwise 0), 1 on error or when a preflight check failed.

use std::io::IsTerminal;

use galleon_plan::{AzureContext, Plan, PlanOptions};
use galleon_render::{TextOptions, render_json, render_markdown, render_text};

use super::session::Session;
use crate::cli::{GlobalArgs, PlanArgs, PlanFormat};
use crate::exit::ExitStatus;

/// Plans, renders to stdout, writes `--out`, and maps the outcome to an exit status.
pub fn run(args: &PlanArgs, global: &GlobalArgs) -> ExitStatus {
    let workspace = match super::load_workspace(&args.path.path, global) {
        Ok(ws) => ws,
        Err(status) => return status,
    };
    // One thread: a plan waits on Azure, and the little it computes between responses (parse,
    // narrow, fingerprint) gains nothing from worker threads, whose heaps would each keep
    // pages of the bodies they parsed (docs/performance.md, scenario 4).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::anyhow!(e).context("cannot start the async runtime")),
    };
    let base = super::session::base_dir(&args.path.path);
    let outcome = runtime.block_on(async {
        let session = Session::open(&workspace, &base, &args.connection).await?;
        let azure = AzureContext {
            arm: session.arm.clone(),
            resource_graph: true,
        };
        let options = PlanOptions {
            targets: args.targets.clone(),
            ..PlanOptions::default()
        };
        anyhow::Ok(galleon_plan::plan(&workspace, &azure, options).await?)
    });
    let plan = match outcome {
        Ok(plan) => plan,
        Err(e) => return fail(&e),
    };
    print!("{}", render(&plan, args, global));
    if plan.has_failed_checks() {
        eprintln!("Error: preflight checks failed; the plan was not saved and cannot be applied.");
        return ExitStatus::Failure;
    }
    if let Some(out) = &args.out {
        if let Err(e) = plan.write_file(out) {
            return fail(&anyhow::Error::new(e));
        }
        eprintln!(
            "Saved the plan to {}; apply it with `galleon apply {}`.",
            out.display(),
            out.display()
        );
    }
    let status = match (args.detailed_exitcode, plan.has_changes()) {
        (true, true) => ExitStatus::ChangesPresent,
        _ => ExitStatus::Success,
    };
    // The process ends here: freeing every body of a large plan one by one only costs time
    // (a twelfth of a 10,000-resource plan's CPU), the OS takes the memory back at once.
    std::mem::forget(plan);
    std::mem::forget(workspace);
    status
}

fn render(plan: &Plan, args: &PlanArgs, global: &GlobalArgs) -> String {
    match (args.json, args.format) {
        (true, _) | (false, PlanFormat::Json) => render_json(plan),
        (false, PlanFormat::Markdown) => render_markdown(plan),
        (false, PlanFormat::Text) => {
            let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let color = !global.no_color && !no_color_env && std::io::stdout().is_terminal();
            render_text(
                plan,
                TextOptions {
                    color,
                    show_unchanged: args.show_unchanged,
                },
            )
        }
    }
}

/// Prints an error (causes, Azure hint) and maps it to exit status 1.
fn fail(e: &anyhow::Error) -> ExitStatus {
    super::session::report_error(e);
    ExitStatus::Failure
}
