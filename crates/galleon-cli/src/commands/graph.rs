//! `galleon graph`: the workspace's dependency graph as DOT or Mermaid on stdout.

use galleon_graph::{Format, ResourceGraph, render::render};

use crate::cli::{GlobalArgs, GraphArgs, GraphFormat};
use crate::exit::ExitStatus;

/// Loads the workspace and prints its graph.
pub fn run(args: &GraphArgs, global: &GlobalArgs) -> ExitStatus {
    let ws = match super::load_workspace(&args.path.path, global) {
        Ok(ws) => ws,
        Err(status) => return status,
    };
    let graph = match ResourceGraph::from_workspace(&ws) {
        Ok(g) => g,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("Error: {e}");
            return ExitStatus::Failure;
        }
    };
    let format = match args.format {
        GraphFormat::Dot => Format::Dot,
        GraphFormat::Mermaid => Format::Mermaid,
    };
    print!("{}", render(&graph, format));
    ExitStatus::Success
}
