//! One module per command; [`run`] dispatches.

pub mod doctor;
mod graph;
mod plan;
mod schema;
mod validate;

use galleon_manifest::{Diagnostics, RenderStyle, Workspace};

use crate::cli::{Command, GlobalArgs};
use crate::exit::ExitStatus;

/// Runs one command.
pub fn run(command: Command, global: &GlobalArgs) -> ExitStatus {
    match command {
        Command::Validate(args) => validate::run(&args.path, global),
        Command::Schema => schema::run(),
        Command::Graph(args) => graph::run(&args, global),
        Command::Doctor(args) => doctor::run(&args, global),
        Command::Plan(args) => plan::run(&args, global),
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
