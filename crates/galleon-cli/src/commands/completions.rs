//! Shell completions and the man page, generated from the clap definition so they never drift.

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::exit::ExitStatus;

/// `galleon completions <shell>`.
pub fn completions(shell: clap_complete::Shell) -> ExitStatus {
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "galleon",
        &mut std::io::stdout(),
    );
    ExitStatus::Success
}

/// `galleon man`: one page for the binary, with a section per subcommand.
pub fn man() -> ExitStatus {
    let command = Cli::command();
    let mut out = std::io::stdout();
    let page = clap_mangen::Man::new(command.clone());
    if page.render(&mut out).is_err() {
        return ExitStatus::Failure;
    }
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("galleon-{}", sub.get_name());
        if clap_mangen::Man::new(sub.clone())
            .title(name)
            .render(&mut out)
            .is_err()
        {
            return ExitStatus::Failure;
        }
    }
    ExitStatus::Success
}
