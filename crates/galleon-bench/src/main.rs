//! `galleon-bench`: figures for docs/performance.md, each beside the bound that limits it.
//!
//! 1. apply of a fleet (default 500 VMs over 5 subscriptions) against the emulator with ARM's
//!    rate limits on, 20 ms per request and LRO durations scaled down from Azure's typical ones:
//!    wall time against the lower bound computed from those durations and limits;
//! 2. the same kind of apply the way people do it by hand (one create after another, as the
//!    seed's `az` commands do) and with concurrency 10 (Terraform's default), beside galleon;
//! 3. plan (refresh) of many existing resources over many subscriptions against one GET per
//!    resource with concurrency 10, and the 429s each provoked;
//! 4. local cost: CPU time and peak memory of a plan against an in-sync emulator with no added
//!    latency, and the time of `galleon validate` on the examples.
//!
//! It prints figures; it asserts nothing about speed (CI runs it at `--small` size only to
//! prove it works).

mod bound;
mod emulator;
mod fleet;
mod scenarios;

use std::path::PathBuf;

use clap::Parser;

/// Benchmarks galleon against the emulator and prints a table of figures with their bounds.
#[derive(Debug, Parser)]
#[command(name = "galleon-bench")]
pub struct Args {
    /// VMs in the apply scenario (each implies a NIC).
    #[arg(long, default_value_t = 500)]
    pub vms: usize,
    /// Consumer subscriptions the VMs are spread over.
    #[arg(long, default_value_t = 5)]
    pub subscriptions: usize,
    /// Azure's typical LRO durations are divided by this (a VM's 120 s becomes 6 s at 20).
    #[arg(long, default_value_t = 20.0)]
    pub scale: f64,
    /// Latency the emulator adds to every request, milliseconds.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
    /// VMs in the side-by-side comparison with the one-at-a-time and concurrency-10 baselines.
    #[arg(long, default_value_t = 10)]
    pub baseline_vms: usize,
    /// Leave out the one-at-a-time baseline of scenario 2, which at 500 VMs runs for over an
    /// hour: `--only 2 --baseline-vms 500 --no-serial-baseline` compares with concurrency 10.
    #[arg(long)]
    pub no_serial_baseline: bool,
    /// Resources to refresh in the plan scenario.
    #[arg(long, default_value_t = 10_000)]
    pub refresh_resources: usize,
    /// Subscriptions those resources are spread over.
    #[arg(long, default_value_t = 20)]
    pub refresh_subscriptions: usize,
    /// Tiny sizes, for CI: proves the benchmark runs, measures nothing worth reading.
    #[arg(long)]
    pub small: bool,
    /// Only these scenarios (1-4); all by default.
    #[arg(long = "only", value_name = "N")]
    pub only: Vec<u8>,
    /// The galleon binary (default: next to this one).
    #[arg(long)]
    pub galleon: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.small {
        args.vms = 6;
        args.subscriptions = 2;
        args.scale = 400.0;
        args.latency_ms = 1;
        args.baseline_vms = 2;
        args.refresh_resources = 60;
        args.refresh_subscriptions = 3;
    }
    let galleon = match &args.galleon {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("galleon"),
    };
    anyhow::ensure!(
        galleon.exists(),
        "{} not found: build it first (cargo build --release -p galleon-cli) or pass --galleon",
        galleon.display()
    );
    let runtime = tokio::runtime::Runtime::new()?;
    let want = |n: u8| args.only.is_empty() || args.only.contains(&n);
    let mut rows = Vec::new();
    if want(1) || want(2) {
        rows.extend(runtime.block_on(scenarios::apply(&galleon, &args, want(2)))?);
    }
    if want(3) || want(4) {
        rows.extend(runtime.block_on(scenarios::refresh(&galleon, &args, want(3), want(4)))?);
    }
    if want(4) {
        rows.extend(scenarios::validate(&galleon)?);
    }
    println!("{}", scenarios::table(&rows));
    Ok(())
}
