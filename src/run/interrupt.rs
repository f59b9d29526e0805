//! Stopping a run on SIGINT or SIGTERM. The caller races the run against [`signal`]; when a
//! signal wins, the run's future is dropped, and with it every host's connection: each ssh
//! master is told to exit, each host's persistent shell sees its input end and stops the script
//! in flight before it renames anything (see `transport::shell`). Exit codes are
//! ansible-playbook's: 99 after SIGINT ("User interrupted execution"), 143 after SIGTERM (it
//! dies of the signal). SIGKILL cannot be caught: the hosts still stop on their own, but the
//! local ssh master outlives hactl.

use tokio::signal::unix::{SignalKind, signal as listen};

/// The signal that stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    Int,
    Term,
}

impl Interrupt {
    /// The process exit code ansible-playbook gives (or a shell reports) for this signal.
    pub fn exit_code(self) -> u8 {
        match self {
            Interrupt::Int => 99,
            Interrupt::Term => 143,
        }
    }

    /// What to tell the user.
    pub fn message(self) -> &'static str {
        match self {
            Interrupt::Int => "User interrupted execution",
            Interrupt::Term => "stopped by SIGTERM",
        }
    }
}

/// Waits for SIGINT or SIGTERM. Where the handlers cannot be installed it never returns, and
/// the signals keep their default action.
pub async fn signal() -> Interrupt {
    match (
        listen(SignalKind::interrupt()),
        listen(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => tokio::select! {
            _ = int.recv() => Interrupt::Int,
            _ = term.recv() => Interrupt::Term,
        },
        _ => std::future::pending().await,
    }
}
