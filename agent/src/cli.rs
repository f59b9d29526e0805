//! The `hactl-agent` command line: argument parsing and the terminal output of each subcommand.
//! The work itself is done by the library; this module only maps its results to text and exit
//! codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hactl_agent::config::{self, ConfigError, Diagnostic};
use hactl_agent::{runtime, status};

/// keepalived's default config path.
const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

#[derive(Debug, Parser)]
#[command(
    name = "hactl-agent",
    version,
    about = "A VRRP agent that reads keepalived.conf"
)]
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
    /// Run the VRRP instances of a keepalived.conf in the foreground, logging to stderr.
    Run {
        #[arg(short = 'f', long = "use-file", default_value = DEFAULT_CONFIG)]
        file: PathBuf,
        /// Where to serve status.
        #[arg(long, default_value = status::DEFAULT_SOCKET)]
        socket: PathBuf,
        /// Serve Prometheus metrics over HTTP at this address (`/metrics`), e.g.
        /// 127.0.0.1:9650 or [::]:9650.
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<std::net::SocketAddr>,
    },
    /// Show the state of a running agent.
    Status {
        /// Print the agent's JSON as is.
        #[arg(long)]
        json: bool,
        /// The running agent's status socket.
        #[arg(long, default_value = status::DEFAULT_SOCKET)]
        socket: PathBuf,
    },
    /// Take instances out of service for maintenance: a master hands over at once (priority
    /// 0 advert, as at a graceful stop) and the instance stays BACKUP until undrained, while
    /// the agent keeps running. A member of a sync group drains its whole group.
    Drain {
        /// A vrrp_instance name, or `all`.
        instance: String,
        /// The running agent's status socket.
        #[arg(long, default_value = status::DEFAULT_SOCKET)]
        socket: PathBuf,
    },
    /// Put drained instances back into service (with preemption a higher-priority instance
    /// takes its VIPs back after a Master_Down_Interval).
    Undrain {
        /// A vrrp_instance name, or `all`.
        instance: String,
        /// The running agent's status socket.
        #[arg(long, default_value = status::DEFAULT_SOCKET)]
        socket: PathBuf,
    },
}

/// Exit codes of `check`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INVALID: u8 = 1;
    pub const WARNINGS: u8 = 3;
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check { file } => check(&file),
        Command::Run {
            file,
            socket,
            metrics_listen,
        } => run_daemon(file, socket, metrics_listen),
        Command::Status { json, socket } => show_status(&socket, json),
        Command::Drain { instance, socket } => drain(&socket, true, &instance),
        Command::Undrain { instance, socket } => drain(&socket, false, &instance),
    }
}

fn drain(socket: &std::path::Path, drain: bool, instance: &str) -> ExitCode {
    match status::control(socket, drain, status::Selector::parse(instance)) {
        Ok(names) => {
            let verb = if drain { "drained" } else { "undrained" };
            output(&format!("{verb}: {}", names.join(", ")));
            ExitCode::SUCCESS
        }
        Err(e) => {
            report_line(&format!("error: {e}"));
            ExitCode::from(exit::INVALID)
        }
    }
}

fn run_daemon(config: PathBuf, socket: PathBuf, metrics: Option<std::net::SocketAddr>) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match runtime::run_blocking(&runtime::RunOptions {
        config,
        socket,
        metrics,
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report_line(&format!("error: {e}"));
            ExitCode::from(exit::INVALID)
        }
    }
}

fn show_status(socket: &std::path::Path, json: bool) -> ExitCode {
    match status::query(socket) {
        Ok(s) if json => match serde_json::to_string_pretty(&s) {
            Ok(text) => output(&text),
            Err(e) => report_line(&format!("error: {e}")),
        },
        Ok(s) => output(status::render(&s, status::now_ms()).trim_end()),
        Err(e) => {
            report_line(&format!("error: {e}"));
            return ExitCode::from(exit::INVALID);
        }
    }
    ExitCode::SUCCESS
}

fn check(file: &std::path::Path) -> ExitCode {
    match config::parse_file(file) {
        Ok(parsed) => {
            report(&parsed.warnings);
            let code = if parsed.has_warnings() {
                exit::WARNINGS
            } else {
                exit::OK
            };
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

fn report(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        report_line(&d.to_string());
    }
}

/// The exit status after stdout or stderr turned out to be a closed pipe
/// (`hactl-agent status | grep -q`): 128 + SIGPIPE, what a shell reports for a program killed
/// by SIGPIPE, as coreutils' are. The process ends quietly: there is nobody left to tell.
pub const PIPE_CLOSED: u8 = 141;

/// The one place that writes to the terminal.
fn report_line(line: &str) {
    write_or_exit(&mut std::io::stderr().lock(), line);
}

/// The one place that writes to stdout: status output.
fn output(text: &str) {
    write_or_exit(&mut std::io::stdout().lock(), text);
}

/// Writes `text` and a newline; a failed write (Rust ignores SIGPIPE, so a closed pipe comes
/// back as an error) ends the process: quietly with [`PIPE_CLOSED`] for a closed pipe, else 1.
fn write_or_exit(w: &mut dyn std::io::Write, text: &str) {
    let written = w
        .write_all(text.as_bytes())
        .and_then(|()| w.write_all(b"\n"))
        .and_then(|()| w.flush());
    if let Err(e) = written {
        std::process::exit(exit_status(&e).into());
    }
}

fn exit_status(e: &std::io::Error) -> u8 {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        PIPE_CLOSED
    } else {
        exit::INVALID
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_the_sigpipe_status() {
        let closed = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(exit_status(&closed), 141);
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(exit_status(&full), exit::INVALID);
    }
}
