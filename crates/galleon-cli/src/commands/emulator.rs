//! `galleon emulator serve`: the emulator binary's `serve`, inside the main binary, so that one
//! download gives users both galleon and an Azure to try it against.

use std::io::Write as _;

use galleon_emulator::{Emulator, EmulatorConfig, Seed};

use super::session::report_error;
use crate::cli::EmulatorServeArgs;
use crate::exit::ExitStatus;

/// Starts the emulator, prints the ready line, and serves until Ctrl-C.
pub fn serve(args: &EmulatorServeArgs) -> ExitStatus {
    let outcome = (|| -> anyhow::Result<()> {
        let seed = match (&args.seed, &args.workspace) {
            (Some(path), _) => Seed::from_yaml(&std::fs::read_to_string(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            (None, Some(dir)) => {
                let workspace = galleon_manifest::Workspace::load(dir).map_err(|d| {
                    anyhow::anyhow!(
                        "{}",
                        d.render(galleon_manifest::RenderStyle {
                            color: false,
                            width: 100
                        })
                    )
                })?;
                crate::sandbox::workspace_seed(&workspace, &super::session::base_dir(dir))?
            }
            (None, None) => Seed::default(),
        };
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(async {
            let running = Emulator::start(EmulatorConfig {
                seed,
                state_dir: args.state_dir.clone(),
                port: args.port,
                http: false,
            })
            .await?;
            let line = running.ready_line();
            if let Some(file) = &args.ready_file {
                std::fs::write(file, format!("{line}\n"))?;
            }
            let mut stdout = std::io::stdout();
            writeln!(stdout, "{line}")?;
            stdout.flush()?;
            tokio::signal::ctrl_c().await?;
            running.shutdown().await;
            anyhow::Ok(())
        })
    })();
    match outcome {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            report_error(&e);
            ExitStatus::Failure
        }
    }
}
