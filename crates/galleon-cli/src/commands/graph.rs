//! `galleon graph`: the workspace's dependency graph as DOT or Mermaid on stdout.

use galleon_graph::{Format, ResourceGraph, render::render};
use galleon_manifest::Address;

use crate::cli::{GlobalArgs, GraphArgs, GraphFormat};
use crate::exit::ExitStatus;

/// Loads the workspace and prints its graph, or the part `--target` selects.
pub fn run(args: &GraphArgs, global: &GlobalArgs) -> ExitStatus {
    let ws = match super::load_workspace(&args.path.path, global) {
        Ok(ws) => ws,
        Err(status) => return status,
    };
    let targets: Vec<Address> = match args.targets.iter().map(|t| t.parse()).collect() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitStatus::Failure;
        }
    };
    let graph = ResourceGraph::from_workspace(&ws).and_then(|g| {
        if targets.is_empty() {
            Ok(g)
        } else {
            g.restrict(&targets)
        }
    });
    let graph = match graph {
        Ok(g) => g,
        Err(e) => {
            tracing::debug!("graph failed: {e}");
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
