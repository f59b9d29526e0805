//! `hactl-agent` binary: a thin wrapper over the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("hactl-agent {}: not built yet", env!("CARGO_PKG_VERSION"));
    }
    ExitCode::from(2)
}
