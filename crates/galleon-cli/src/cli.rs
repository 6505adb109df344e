//! Command-line syntax (clap derive). Adding a command: one variant in [`Command`] and one module
//! in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Cross-tenant Azure image sharing as code: YAML manifests, plan, apply.
#[derive(Debug, Parser)]
#[command(name = "galleon", version, propagate_version = true)]
#[command(after_help = "Examples:
  galleon validate examples/cross-tenant
  galleon graph examples/fleet --format mermaid
  galleon schema > schemas/galleon.schema.json")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Never colour output (also: NO_COLOR=1).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a workspace without touching Azure: syntax, references, names, regions, access.
    #[command(after_help = "Examples:
  galleon validate                      # the workspace in the current directory
  galleon validate examples/cross-tenant
  galleon validate infra/images.yaml    # a single file

  galleon validate --format json        # for CI: a JSON report on stdout

Exit status: 0 when valid, 1 with every problem printed to stderr (or in the JSON report).")]
    Validate(ValidateArgs),
    /// Print the manifest's JSON Schema (draft-07) for editors.
    #[command(after_help = "Examples:
  galleon schema > schemas/galleon.schema.json

Reference it from a manifest's first line:
  # yaml-language-server: $schema=../../schemas/galleon.schema.json
  galleon schema --markdown > docs/manifest.md   # the manifest reference")]
    Schema(SchemaArgs),
    /// Print the dependency graph of a workspace as DOT or Mermaid.
    #[command(after_help = "Examples:
  galleon graph examples/cross-tenant | dot -Tsvg > graph.svg
  galleon graph examples/fleet --format mermaid
  galleon graph examples/cross-tenant --target vm.web   # vm.web and what it needs")]
    Graph(GraphArgs),
    /// Check a cross-tenant image setup made by hand (no manifest) and explain each failure.
    #[command(after_help = "Examples:
  galleon doctor --image /subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<g>/images/<i>/versions/<v> \\
    --image-tenant <tenant A> --tenant <tenant B> --subscription <sub B> --resource-group rg-app \\
    --location northeurope --admin-username azureuser --ssh-key ~/.ssh/id_ed25519.pub \\
    --client-id <app> --client-secret-env GALLEON_APP_SECRET
  galleon doctor ... --azure-cli --json
  galleon doctor ... --emit-manifest ./workspace
  galleon doctor explain error.txt      # explain the error az vm create, Terraform or Bicep printed

Exit status: 0 when every check passed, 1 when one failed (each failure has a hint).
See docs/troubleshooting.md for every Azure error of the scenario.")]
    Doctor(Box<crate::commands::doctor::DoctorArgs>),
    /// Show what apply would change in Azure, with preflight checks; save it with --out.
    #[command(after_help = "Examples:
  galleon plan examples/cross-tenant
  galleon plan --out plan.json          # then: galleon apply plan.json
  galleon plan --format markdown > comment.md
  galleon plan --detailed-exitcode      # exit 2 when there are changes

Exit status: 0 success, 1 error or failed preflight check, 2 changes (with --detailed-exitcode).")]
    Plan(PlanArgs),
    /// Carry out a plan: create, update, replace and delete in dependency order.
    #[command(after_help = "Examples:
  galleon apply --sandbox --auto-approve examples/cross-tenant   # no Azure account needed
  galleon apply examples/cross-tenant      # plans, shows the plan, asks for 'yes'
  galleon plan --out plan.json && galleon apply plan.json
  galleon apply --json --auto-approve | jq .   # machine-readable events

Exit status: 0 every step succeeded (or nothing to do), 1 error or a failed step, 130 interrupted.")]
    Apply(ApplyArgs),
    /// Delete everything the workspace owns (tagged by galleon), in reverse dependency order.
    #[command(after_help = "Examples:
  galleon destroy --sandbox --auto-approve examples/cross-tenant
  galleon destroy examples/cross-tenant

Resources galleon did not create are never deleted.")]
    Destroy(DestroyArgs),
    /// Break the workspace's apply lock left behind by a crashed or killed apply.
    #[command(after_help = "Examples:
  galleon force-unlock examples/cross-tenant

Only do this when no apply is running: it lets a second apply start.")]
    ForceUnlock(ForceUnlockArgs),
    /// Run the Azure emulator (ARM + Entra ID on loopback) for tests, demos and other clients.
    #[command(subcommand)]
    #[command(after_help = "Examples:
  galleon emulator serve --seed tests/conformance/seed.yaml --state-dir /tmp/emu --port 8443
  GALLEON_ENDPOINT=https://127.0.0.1:8443 GALLEON_CA_FILE=/tmp/emu/ca.pem galleon plan")]
    Emulator(EmulatorCommand),
    /// Print shell completions.
    #[command(after_help = "Examples:
  galleon completions bash > /etc/bash_completion.d/galleon
  galleon completions zsh > \"${fpath[1]}/_galleon\"")]
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    #[command(after_help = "Examples:
  galleon man > galleon.1 && man ./galleon.1")]
    Man,
}

/// Arguments of `galleon schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the manifest reference (Markdown, as in docs/manifest.md) instead of the schema.
    #[arg(long)]
    pub markdown: bool,
}

/// A workspace path.
#[derive(Debug, Args)]
pub struct PathArg {
    /// Workspace directory (all *.yaml/*.yml in it) or a single manifest file.
    #[arg(default_value = ".")]
    pub path: PathBuf,
}

/// Arguments of `galleon validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub path: PathArg,
    /// Report format: `text` (snippets on stderr) or `json` (a report on stdout).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// How `validate` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable, with source snippets, on stderr.
    Text,
    /// `{"valid": bool, "resources": n, "diagnostics": [...]}` on stdout.
    Json,
}

/// Arguments of `galleon graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub path: PathArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Draw only this resource and what it depends on (repeatable), e.g. `vm.web`.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
}

/// Graph output formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// Arguments of `galleon plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub path: PathArg,
    /// Save the plan to FILE for `galleon apply FILE`.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Same as --format json.
    #[arg(long)]
    pub json: bool,
    /// Exit 2 when the plan has changes, 0 when it has none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan only this resource and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Also list resources that are up to date.
    #[arg(long)]
    pub show_unchanged: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Where Azure is: the public cloud by default, a custom endpoint, or the built-in sandbox.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Run against an Azure emulator inside this process, seeded from the workspace (state in
    /// <workspace>/.galleon/sandbox); no Azure account needed.
    #[arg(long, conflicts_with_all = ["endpoint", "ca_file"])]
    pub sandbox: bool,
    /// ARM endpoint of a custom cloud, e.g. an emulator started with `galleon emulator serve`.
    #[arg(long, env = "GALLEON_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Extra CA certificate (PEM) to trust for --endpoint.
    #[arg(long, env = "GALLEON_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}

/// Arguments of `galleon apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Workspace directory or manifest file, or a plan saved with `galleon plan --out`.
    #[command(flatten)]
    pub path: PathArg,
    /// With a saved plan: the workspace it was made from (credentials, lock). Default: `.`.
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Skip the interactive approval.
    #[arg(long)]
    pub auto_approve: bool,
    /// How long to wait for another apply's lock, e.g. `30s`, `5m` (default: fail at once).
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
    /// Machine-readable events on stdout (docs/apply-events.md) instead of progress.
    #[arg(long)]
    pub json: bool,
    /// Apply only this resource and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub concurrency: ConcurrencyArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// How many resources apply works on at once. Most of a step is waiting for Azure's
/// long-running operation, so the bound that matters is ARM's per-subscription write bucket:
/// by default a resource starts as soon as that bucket admits its write, and its polls are
/// paced within the read bucket (docs/apply.md). These caps are for users who want fewer.
#[derive(Debug, Args)]
pub struct ConcurrencyArgs {
    /// Resources in progress at once, overall [default: no fixed cap, as ARM admits them]
    #[arg(long, value_name = "N")]
    pub parallelism: Option<usize>,
    /// Resources in progress at once within one subscription [default: no fixed cap, as ARM
    /// admits them]
    #[arg(long, value_name = "N")]
    pub parallelism_per_subscription: Option<usize>,
}

/// Arguments of `galleon destroy`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub path: PathArg,
    /// Skip the interactive approval.
    #[arg(long)]
    pub auto_approve: bool,
    /// How long to wait for another apply's lock, e.g. `30s`, `5m`.
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
    /// Machine-readable events on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub concurrency: ConcurrencyArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Arguments of `galleon force-unlock`.
#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub path: PathArg,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `galleon emulator ...`.
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the Azure emulator until interrupted; prints one JSON line with its endpoint.
    Serve(EmulatorServeArgs),
}

/// Arguments of `galleon emulator serve` (the same as `galleon-emulator serve`).
#[derive(Debug, Args)]
pub struct EmulatorServeArgs {
    /// Seed file (YAML) describing tenants, apps, subscriptions, roles and resources.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Instead of a seed file: the Azure a workspace expects (its tenants, app consent, Owner on
    /// its subscriptions, image sources, lock storage); apps accept the secrets it references.
    #[arg(long, value_name = "DIR", conflicts_with = "seed")]
    pub workspace: Option<PathBuf>,
    /// Persist state (and the CA, ca.pem) here so it survives restarts.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Also write the ready line to this file.
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
}

/// Arguments of `galleon completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Plan output formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-style text.
    Text,
    /// The versioned JSON format (docs/plan-json.md).
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}
