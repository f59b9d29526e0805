//! The `hactl-agent` command line: argument parsing and the terminal output of each subcommand.
//! The work itself is done by the library; this module only maps its results to text and exit
//! codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hactl_agent::config::{self, ConfigError, Diagnostic};

/// keepalived's default config path.
const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

#[derive(Debug, Parser)]
#[command(name = "hactl-agent", version, about = "A VRRP agent that reads keepalived.conf")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a keepalived.conf like `keepalived -t`: exit 0 if clean, 1 if hactl-agent cannot
    /// run it, 3 if it can but keepalived would report problems.
    Check {
        /// The config file.
        #[arg(short = 'f', long = "use-file", default_value = DEFAULT_CONFIG)]
        file: PathBuf,
    },
    /// Run the VRRP instances of a keepalived.conf.
    Run {
        #[arg(short = 'f', long = "use-file", default_value = DEFAULT_CONFIG)]
        file: PathBuf,
    },
    /// Show the state of a running agent.
    Status,
}

/// Exit codes of `check`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INVALID: u8 = 1;
    pub const NOT_BUILT: u8 = 2;
    pub const WARNINGS: u8 = 3;
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check { file } => check(&file),
        Command::Run { .. } => not_built("run"),
        Command::Status => not_built("status"),
    }
}

fn check(file: &std::path::Path) -> ExitCode {
    match config::parse_file(file) {
        Ok(parsed) => {
            report(&parsed.warnings);
            let code = if parsed.has_warnings() { exit::WARNINGS } else { exit::OK };
            ExitCode::from(code)
        }
        Err(ConfigError::Invalid { diagnostics }) => {
            report(&diagnostics);
            ExitCode::from(exit::INVALID)
        }
        Err(e) => {
            report_line(&format!("error: {e}"));
            ExitCode::from(exit::INVALID)
        }
    }
}

fn not_built(what: &str) -> ExitCode {
    report_line(&format!("hactl-agent {what}: not built yet"));
    ExitCode::from(exit::NOT_BUILT)
}

fn report(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        report_line(&d.to_string());
    }
}

/// The one place that writes to the terminal.
#[allow(clippy::print_stderr)]
fn report_line(line: &str) {
    eprintln!("{line}");
}
