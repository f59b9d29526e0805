//! `hactl` binary: parse the command line, call the library, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = hactl::cli::Cli::parse();
    match hactl::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            hactl::report::error(&err);
            ExitCode::from(1)
        }
    }
}
