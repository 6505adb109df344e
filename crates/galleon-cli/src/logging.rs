//! Logs go to stderr through tracing; stdout is reserved for data (plans, schemas, graphs).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::GlobalArgs;

/// Whether to colour output: off with `--no-color`, a non-empty `NO_COLOR`, or a non-terminal.
pub fn color(global: &GlobalArgs) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !global.no_color && !no_color_env && std::io::stderr().is_terminal()
}

/// `RUST_LOG` wins; otherwise `-v`/`-q` pick the level.
pub fn init(global: &GlobalArgs) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color(global))
        .with_target(false)
        .try_init();
}
