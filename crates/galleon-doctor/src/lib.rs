//! `galleon doctor`: checks a cross-tenant image setup made by hand (no manifest) and explains
//! every Azure failure of the cross-tenant image scenario.
//!
//! The checks are a library returning a [`Report`]; the CLI only renders it ([`render_text`],
//! [`Report::to_json`]) and exits with [`Report::exit_code`]. [`emit_workspace`] writes the galleon
//! workspace that expresses the setup, and [`catalogue`] maps each Azure message to its cause, fix,
//! the manifest address it concerns and where galleon catches it (the source of
//! `docs/troubleshooting.md`).
//!
//! ```no_run
//! # async fn demo(setup: galleon_doctor::Setup, client: galleon_azure::ArmClient) {
//! client.configure_credentials(&setup.credential_specs()).unwrap();
//! let probe = galleon_doctor::LiveProbe::new(client).unwrap();
//! let report = galleon_doctor::run(&setup, &probe).await;
//! print!("{}", galleon_doctor::render_text(&report));
//! std::process::exit(report.exit_code());
//! # }
//! ```

mod azure_text;
pub mod catalogue;
mod checks;
mod emit;
mod probe;
mod render;
mod report;
mod setup;

pub use checks::{SIZES, action_matches, allows, run, size_generations};
pub use emit::{EmitError, emit_workspace, workspace_files};
pub use probe::{Failure, LiveProbe, Probe, SignedIn, tenant_from_challenge};
pub use render::render_text;
pub use report::{AzureAnswer, Check, REPORT_FORMAT, Report, Status};
pub use setup::{AdminProfile, Credential, ImageRef, SecurityType, Setup, SetupError};
