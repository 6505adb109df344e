//! The catalogue of Azure's messages (galleon-doctor's `catalogue`) wherever galleon shows an
//! Azure failure: under apply's failed steps, under plan's and destroy's errors, and as
//! `galleon doctor explain` for an error another tool (`az vm create`, Terraform, Bicep) printed.
//!
//! Output conventions (issue 11): under Azure's code and message a `cause:` line from the row,
//! then the `hint:` (galleon-azure's when it has one, since it names the concrete tenant, role or
//! region; else the row's fix); nothing when no row matches.

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;

use clap::Args;
use galleon_apply::StepFailure;
use galleon_apply::sink::Explanation;
use galleon_azure::{ArmErrorBody, AzureError};
use galleon_doctor::catalogue::{self, Entry, Pasted};
use serde_json::{Value, json};

use crate::exit::ExitStatus;

/// Arguments of `galleon doctor explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A file holding the error as the tool printed it; `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Print the explanation as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The row for a failed apply step (galleon-apply's `sink::Explainer`). A step's failure keeps
/// ARM's top-level code and message only, so a wrapper is explained by its own row here.
pub fn step_failure(f: &StepFailure) -> Option<Explanation> {
    let pasted = match &f.code {
        Some(code) => leaf(code, &f.message),
        // A token refusal reaches the step as text; its AADSTS code is in it (entra.md §2).
        None => Pasted::parse(&f.message).filter(|p| p.code.starts_with("AADSTS"))?,
    };
    let (entry, matched) = pasted.explain()?;
    Some(Explanation {
        cause: cause(entry, matched, &pasted),
        explained_by: entry.id.to_string(),
        fix: entry.fix.to_string(),
    })
}

/// The row for an error that stopped a command (plan's reads, destroy, apply's lock), with the
/// line to print under the error: `cause:` and, when galleon-azure has no hint, the row's fix.
pub fn azure_error(e: &AzureError) -> Option<(String, &'static str)> {
    let pasted = match e {
        AzureError::Arm(arm) => Pasted {
            code: arm.code.clone(),
            message: arm.message.clone(),
            details: arm.details.iter().map(from_body).collect(),
        },
        AzureError::LroFailed { error, .. } => from_body(error),
        AzureError::Entra(entra) => leaf(
            &entra
                .aadsts()
                .map_or_else(|| entra.error.clone(), |n| format!("AADSTS{n}")),
            &entra.description,
        ),
        _ => return None,
    };
    let (entry, matched) = pasted.explain()?;
    Some((cause(entry, matched, &pasted), entry.fix))
}

fn leaf(code: &str, message: &str) -> Pasted {
    Pasted {
        code: code.to_string(),
        message: message.to_string(),
        details: Vec::new(),
    }
}

fn from_body(b: &ArmErrorBody) -> Pasted {
    Pasted {
        code: b.code.clone(),
        message: b.message.clone(),
        details: b.details.iter().map(from_body).collect(),
    }
}

/// The row's cause, naming the inner error when a wrapper's detail was what matched (the user
/// saw only the wrapper's "see the details").
fn cause(entry: &Entry, matched: &Pasted, outer: &Pasted) -> String {
    if std::ptr::eq(matched, outer) {
        entry.cause.to_string()
    } else {
        format!("{} (in the details): {}", matched.code, entry.cause)
    }
}

/// `galleon doctor explain [FILE]`: exit 0 when a row explains the error, 1 otherwise.
pub fn run(args: &ExplainArgs) -> ExitStatus {
    let text = match read_input(args.file.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Failure;
        }
    };
    let pasted = Pasted::parse(&text);
    let found = pasted.as_ref().and_then(Pasted::explain);
    if args.json {
        let v = to_json(pasted.as_ref(), found);
        println!(
            "{}",
            serde_json::to_string_pretty(&v).expect("JSON renders")
        );
    } else {
        print!("{}", render_text(pasted.as_ref(), found));
    }
    if found.is_some() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

fn read_input(file: Option<&PathBuf>) -> Result<String, String> {
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        None => {
            if std::io::stdin().is_terminal() {
                eprintln!("Paste the error, then end with Ctrl-D (Ctrl-Z, Enter on Windows):");
            }
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            Ok(s)
        }
    }
}

const NEXT: &str = "Run `galleon doctor --image ID --subscription SUB --resource-group RG --location REGION ...`\n\
to check the setup step by step; docs/troubleshooting.md lists every message galleon knows.\n";

fn render_text(pasted: Option<&Pasted>, found: Option<(&'static Entry, &Pasted)>) -> String {
    let Some(p) = pasted else {
        return format!("Found no Azure error code in the input.\n{NEXT}");
    };
    let mut out = format!("Azure's answer: {}: {}\n", p.code, p.message);
    let mut stack: Vec<(usize, &Pasted)> = p.details.iter().rev().map(|d| (1, d)).collect();
    while let Some((depth, d)) = stack.pop() {
        out += &format!("{}detail: {}: {}\n", "  ".repeat(depth), d.code, d.message);
        stack.extend(d.details.iter().rev().map(|x| (depth + 1, x)));
    }
    let Some((e, matched)) = found else {
        return out + &format!("\ngalleon has no row for {}.\n{NEXT}", p.code);
    };
    let number = catalogue::row_number(e.id).unwrap_or_default();
    let status = e.status.map(|s| format!("{s} ")).unwrap_or_default();
    let caught: Vec<String> = e.caught.iter().map(ToString::to_string).collect();
    out += &format!(
        "\nExplained by row {number} of docs/troubleshooting.md ({}), for {}:\n",
        e.id, matched.code
    );
    for (label, value) in [
        (
            "code",
            format!("{status}{} (arm-errors.md {})", matched.code, e.section),
        ),
        ("cause", e.cause.to_string()),
        ("caught by", caught.join(", ")),
        ("fix", e.fix.to_string()),
        ("manifest", e.address.to_string()),
    ] {
        out += &format!("  {label:<10} {value}\n");
    }
    out
}

fn pasted_json(p: &Pasted) -> Value {
    json!({
        "code": p.code,
        "message": p.message,
        "details": p.details.iter().map(pasted_json).collect::<Vec<_>>(),
    })
}

fn to_json(pasted: Option<&Pasted>, found: Option<(&'static Entry, &Pasted)>) -> Value {
    let row = found.map(|(e, matched)| {
        json!({
            "id": e.id,
            "number": catalogue::row_number(e.id),
            "section": e.section,
            "status": e.status,
            "codes": e.codes,
            "matched": {"code": matched.code, "message": matched.message},
            "cause": e.cause,
            "caught": e.caught.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "fix": e.fix,
            "address": e.address,
        })
    });
    json!({
        "format": "galleon-explain/1",
        "explained": found.is_some(),
        "azure": pasted.map(pasted_json),
        "row": row,
        "docs": "docs/troubleshooting.md",
        "next": (found.is_none()).then(|| NEXT.replace('\n', " ").trim().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_failures_are_explained_by_code_and_message() {
        let f = StepFailure {
            code: Some("ResourceGroupNotFound".into()),
            message: "Resource group 'rg-app' could not be found.".into(),
            ..StepFailure::default()
        };
        let x = step_failure(&f).expect("explained");
        assert_eq!(x.explained_by, "resource_group_not_found");
        assert_eq!(
            x.fix,
            catalogue::entries()[catalogue::row_number(&x.explained_by).unwrap() - 1].fix
        );
        let unknown = StepFailure {
            code: Some("Conflict".into()),
            message: "scripted".into(),
            ..StepFailure::default()
        };
        assert_eq!(step_failure(&unknown), None);
        let transport = StepFailure::message("GET https://x: the request failed");
        assert_eq!(step_failure(&transport), None);
    }
}
