//! `hactl completions SHELL`: the completion script of a shell for hactl, generated from the
//! clap command line when asked, so it always matches the binary that prints it (a script
//! generated at build time would go stale beside a newer `hactl` on PATH).

use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::report;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    ///
    /// bash: `hactl completions bash > /etc/bash_completion.d/hactl`;
    /// zsh: `hactl completions zsh > "${fpath[1]}/_hactl"`;
    /// fish: `hactl completions fish > ~/.config/fish/completions/hactl.fish`.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script on stdout.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    report::verbatim(&script(args.shell)?);
    Ok(ExitCode::SUCCESS)
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> anyhow::Result<String> {
    let mut cmd = crate::cli::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "hactl", &mut buf);
    Ok(String::from_utf8(buf)?)
}
