//! One function per subcommand. `main` calls [`run()`], which dispatches here.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod apply;
pub mod completions;
pub mod inventory;
pub mod lint;
pub mod man;
pub mod render;
pub mod run;
pub mod status;
pub mod vault;

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Apply(args) => apply::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Inventory(args) => inventory::run(args),
        Command::Render(args) => render::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Vault(cmd) => vault::run(&cmd),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}
