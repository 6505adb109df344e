//! Exit codes, as an enum so no command invents its own numbers.

use std::process::ExitCode;

/// How `galleon` ends. Matches terraform's `-detailed-exitcode` convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success (and, for `plan --detailed-exitcode`, no changes).
    Success,
    /// 1: an error; details were printed to stderr.
    Failure,
    /// 2: `plan --detailed-exitcode` found changes. Reserved for the plan command.
    ChangesPresent,
    /// 130: interrupted by Ctrl-C (128 + SIGINT, as shells report it).
    Interrupted,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(match s {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::ChangesPresent => 2,
            ExitStatus::Interrupted => 130,
        })
    }
}
