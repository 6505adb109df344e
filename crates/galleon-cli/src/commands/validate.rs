//! `galleon validate`: load, resolve and check a workspace; no network.

use std::path::Path;

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;

/// Prints a success line to stdout, or every problem to stderr.
pub fn run(path: &Path, global: &GlobalArgs) -> ExitStatus {
    match super::load_workspace(path, global) {
        Ok(ws) => {
            println!(
                "Success! The workspace is valid ({} resources).",
                ws.resources().len()
            );
            ExitStatus::Success
        }
        Err(status) => status,
    }
}
