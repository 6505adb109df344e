//! `galleon-emulator serve`: runs the emulator until interrupted, printing one JSON ready line.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use galleon_emulator::{Emulator, EmulatorConfig, Seed};

#[derive(Debug, Parser)]
#[command(
    name = "galleon-emulator",
    version,
    about = "A local Azure Resource Manager and Entra ID"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve ARM and Entra ID on 127.0.0.1.
    Serve {
        /// Seed file (YAML); see the README.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Persist state, keys and the CA here (state survives restarts).
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Port (0 = any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Also write the ready line to this file.
        #[arg(long)]
        ready_file: Option<PathBuf>,
        /// Plain HTTP (debugging only; Azure clients require HTTPS).
        #[arg(long)]
        http: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let Command::Serve {
        seed,
        state_dir,
        port,
        ready_file,
        http,
    } = Cli::parse().command;
    let seed = match seed {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Seed::from_yaml(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Seed::default(),
    };
    let running = Emulator::start(EmulatorConfig {
        seed,
        state_dir,
        port,
        http,
    })
    .await?;
    let line = running.ready_line();
    if let Some(f) = ready_file {
        std::fs::write(&f, format!("{line}\n"))
            .with_context(|| format!("writing {}", f.display()))?;
    }
    println!("{line}");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    running.shutdown().await;
    Ok(())
}
