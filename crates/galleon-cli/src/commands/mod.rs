//! One module per command; [`run`] dispatches.

mod apply;
mod completions;
pub mod doctor;
mod emulator;
pub mod explain;
mod force_unlock;
mod graph;
mod plan;
mod schema;
pub mod session;
mod validate;

use galleon_manifest::{Diagnostics, RenderStyle, Workspace};

use crate::cli::{Command, GlobalArgs};
use crate::exit::ExitStatus;

/// Runs one command.
pub fn run(command: Command, global: &GlobalArgs) -> ExitStatus {
    match command {
        Command::Validate(args) => validate::run(&args, global),
        Command::Schema(args) => schema::run(args.markdown),
        Command::Graph(args) => graph::run(&args, global),
        Command::Doctor(args) => doctor::run(&args, global),
        Command::Plan(args) => plan::run(&args, global),
        Command::Apply(args) => apply::run_apply(&args, global),
        Command::Destroy(args) => apply::run_destroy(&args, global),
        Command::ForceUnlock(args) => force_unlock::run(&args, global),
        Command::Emulator(crate::cli::EmulatorCommand::Serve(args)) => emulator::serve(&args),
        Command::Completions(args) => completions::completions(args.shell),
        Command::Man => completions::man(),
    }
}

/// Loads a workspace, printing its diagnostics to stderr when it does not load.
pub fn load_workspace(
    path: &std::path::Path,
    global: &GlobalArgs,
) -> Result<Workspace, ExitStatus> {
    Workspace::load(path).map_err(|d| {
        report(&d, global);
        ExitStatus::Failure
    })
}

/// Prints diagnostics with snippets to stderr, then a one-line count.
pub fn report(diags: &Diagnostics, global: &GlobalArgs) {
    let style = RenderStyle {
        color: crate::logging::color(global),
        width: 100,
    };
    eprint!("{}", diags.render(style));
    let n = diags.len();
    eprintln!(
        "Error: {n} problem{} found; nothing was changed.",
        if n == 1 { "" } else { "s" }
    );
}
