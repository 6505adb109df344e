//! The `galleon` binary: parses arguments, sets up logging, dispatches to a command.
//!
//! Kept thin on purpose: every command is a small module in [`commands`] over library crates,
//! so behaviour is tested in the libraries and this file only wires things together.

mod cli;
mod commands;
mod exit;
mod logging;
mod sandbox;

use std::process::ExitCode;

use clap::Parser;

/// glibc's allocator spent a sixth of a 10,000-resource plan's CPU in malloc and free, and its
/// per-thread arenas kept freed pages: mimalloc does both for less (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    logging::init(&args.global);
    let status = commands::run(args.command, &args.global);
    status.into()
}
