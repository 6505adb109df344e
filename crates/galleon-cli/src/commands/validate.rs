//! `galleon validate`: load, resolve and check a workspace; no network.

use galleon_manifest::Workspace;

use crate::cli::{GlobalArgs, ReportFormat, ValidateArgs};
use crate::exit::ExitStatus;

/// Text: a success line on stdout, or every problem on stderr. JSON: a report on stdout.
pub fn run(args: &ValidateArgs, global: &GlobalArgs) -> ExitStatus {
    if args.format == ReportFormat::Json {
        let (report, status) = match Workspace::load(&args.path.path) {
            Ok(ws) => (
                serde_json::json!({"valid": true, "resources": ws.resources().len(), "diagnostics": []}),
                ExitStatus::Success,
            ),
            Err(d) => (
                serde_json::json!({"valid": false, "resources": null, "diagnostics": d.to_json()}),
                ExitStatus::Failure,
            ),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("JSON serialises")
        );
        return status;
    }
    match super::load_workspace(&args.path.path, global) {
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
