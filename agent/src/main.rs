//! `hactl-agent` binary: a thin wrapper over the library. Parses the arguments, runs the
//! subcommand, returns its exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
