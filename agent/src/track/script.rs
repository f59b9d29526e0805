//! `vrrp_script`: run a check script every `interval`, kill it after `timeout`, and turn
//! results into OK/FAIL changes with keepalived's `rise`/`fall` counting.
//!
//! The counting is the pure [`ScriptCounter`]; the runner around it only spawns processes and
//! waits, so a hung script delays nothing but its own next run. Semantics from keepalived
//! 2.2.7 (`vrrp_script_child_thread`, `vrrp_init_script`):
//!
//! - exit 0 is success; any other exit, a signal, a spawn failure or a timeout is failure;
//! - on timeout the script's process group gets SIGTERM, then SIGKILL 2 s later;
//! - a `timeout` of 0 (keepalived's default) means "the interval";
//! - the first result decides the initial state at once (one success → OK, one failure →
//!   FAIL), unless `init_fail` starts the script failed; afterwards it takes `rise`
//!   consecutive successes to go OK and `fall` consecutive failures to go FAIL;
//! - a run is skipped while the previous one is still going (keepalived logs and skips too).

use std::os::unix::process::ExitStatusExt as _;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::ScriptCommand;

/// How long a timed-out script has between SIGTERM and SIGKILL (keepalived: 2 s).
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// One `vrrp_script` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptConfig {
    pub name: String,
    pub command: ScriptCommand,
    /// Default 1 s.
    pub interval: Duration,
    /// Zero means the interval (keepalived's default).
    pub timeout: Duration,
    /// Default 1.
    pub rise: u32,
    /// Default 1.
    pub fall: u32,
    /// `init_fail`: start in FAIL rather than waiting for the first result.
    pub init_fail: bool,
}

impl ScriptConfig {
    /// A script with keepalived's defaults: every second, timeout = interval, rise = fall = 1.
    pub fn new(name: impl Into<String>, command: ScriptCommand) -> Self {
        ScriptConfig {
            name: name.into(),
            command,
            interval: Duration::from_secs(1),
            timeout: Duration::ZERO,
            rise: 1,
            fall: 1,
            init_fail: false,
        }
    }

    fn effective_timeout(&self) -> Duration {
        if self.timeout.is_zero() {
            self.interval
        } else {
            self.timeout
        }
    }
}

/// A change of a script's state, as sent by [`run_tracker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatus {
    pub name: String,
    pub ok: bool,
}

/// keepalived's rise/fall counter.
///
/// `result` runs from 0 to `rise + fall - 1`; the script is OK while `result >= rise`. A
/// success below `rise - 1` counts up; reaching `rise` jumps to the top, so a fresh OK needs
/// `fall` failures to drop. A failure above `rise` counts down; at `rise` (or on the very
/// first result) it drops to 0, so a fresh FAIL needs `rise` successes to climb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCounter {
    rise: u32,
    fall: u32,
    result: u32,
    /// No result yet and not `init_fail`: the first result decides.
    initial: bool,
    /// `None` until the first result when not `init_fail`.
    ok: Option<bool>,
}

impl ScriptCounter {
    /// A counter in keepalived's initial state. `rise` and `fall` below 1 count as 1.
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> Self {
        let (rise, fall) = (rise.max(1), fall.max(1));
        ScriptCounter {
            rise,
            fall,
            result: if init_fail { 0 } else { rise - 1 },
            initial: !init_fail,
            ok: if init_fail { Some(false) } else { None },
        }
    }

    /// The current state: `None` until the first result (unless `init_fail`).
    pub fn ok(&self) -> Option<bool> {
        self.ok
    }

    /// Records one run; returns the new state if it changed.
    pub fn record(&mut self, success: bool) -> Option<bool> {
        let top = self.rise + self.fall - 1;
        let mut changed = None;
        if success {
            if self.result < self.rise - 1 {
                self.result += 1;
            } else if self.result != top {
                if self.result < self.rise {
                    changed = Some(true);
                }
                self.result = top;
            }
        } else if self.result > self.rise {
            self.result -= 1;
        } else {
            if self.result == self.rise || self.initial {
                changed = Some(false);
            }
            self.result = 0;
        }
        self.initial = false;
        if changed.is_some() {
            self.ok = changed;
        }
        changed
    }
}

/// How one run of a script ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptOutcome {
    Exited(i32),
    Signalled(i32),
    /// Killed by us after the timeout.
    TimedOut,
    /// Could not be started (no such file, not executable, ...).
    SpawnFailed(String),
}

impl ScriptOutcome {
    pub fn success(&self) -> bool {
        *self == ScriptOutcome::Exited(0)
    }

    fn from_status(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => ScriptOutcome::Exited(code),
            (None, Some(sig)) => ScriptOutcome::Signalled(sig),
            (None, None) => ScriptOutcome::Exited(-1),
        }
    }
}

/// Runs the script once, killing its process group after `timeout` (SIGTERM, then SIGKILL
/// after `grace`).
pub async fn run_once(
    command: &ScriptCommand,
    timeout: Duration,
    grace: Duration,
) -> ScriptOutcome {
    let mut child = match command.command(std::iter::empty::<&str>()).spawn() {
        Ok(c) => c,
        Err(e) => return ScriptOutcome::SpawnFailed(e.to_string()),
    };
    // The child leads its own process group, so its pid is the group id.
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let outcome = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => ScriptOutcome::from_status(status),
        Ok(Err(e)) => ScriptOutcome::SpawnFailed(e.to_string()),
        Err(_) => {
            if let Some(g) = group {
                let _ = killpg(g, Signal::SIGTERM);
            }
            if tokio::time::timeout(grace, child.wait()).await.is_err() {
                if let Some(g) = group {
                    let _ = killpg(g, Signal::SIGKILL);
                }
                let _ = child.wait().await;
            }
            ScriptOutcome::TimedOut
        }
    };
    // Whatever the script left running in its group goes too (keepalived does the same after
    // a timeout; doing it always keeps a check from leaking daemons).
    if let Some(g) = group {
        let _ = killpg(g, Signal::SIGKILL);
    }
    outcome
}

/// Runs `config`'s script every interval for as long as `tx` has a receiver, sending a
/// [`ScriptStatus`] on every change of state. Spawn it as a task.
pub async fn run_tracker(config: ScriptConfig, tx: mpsc::Sender<ScriptStatus>) {
    let mut counter = ScriptCounter::new(config.rise, config.fall, config.init_fail);
    if config.init_fail {
        let initial = ScriptStatus {
            name: config.name.clone(),
            ok: false,
        };
        if tx.send(initial).await.is_err() {
            return;
        }
    }
    let mut ticks = tokio::time::interval(config.interval);
    // A run longer than the interval skips the missed runs instead of bursting them.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = tx.closed() => return,
        }
        let outcome = tokio::select! {
            o = run_once(&config.command, config.effective_timeout(), KILL_GRACE) => o,
            () = tx.closed() => return,
        };
        if !outcome.success() {
            tracing::debug!(script = %config.name, ?outcome, "vrrp_script failed");
        }
        if let Some(ok) = counter.record(outcome.success()) {
            tracing::info!(script = %config.name, ok, ?outcome, "VRRP_Script state changed");
            let change = ScriptStatus {
                name: config.name.clone(),
                ok,
            };
            if tx.send(change).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `runs` ('+' success, '-' failure) and renders the state after each as
    /// 'O' (OK), 'F' (FAIL) or '?' (no result yet), lower-case when it just changed.
    fn trace(rise: u32, fall: u32, init_fail: bool, runs: &str) -> String {
        let mut c = ScriptCounter::new(rise, fall, init_fail);
        runs.chars()
            .map(|r| {
                let changed = c.record(r == '+').is_some();
                match (c.ok(), changed) {
                    (Some(true), true) => 'o',
                    (Some(true), false) => 'O',
                    (Some(false), true) => 'f',
                    (Some(false), false) => 'F',
                    (None, _) => '?',
                }
            })
            .collect()
    }

    #[test]
    fn first_result_decides_then_rise_and_fall_count() {
        // Table worked through keepalived 2.2.7's vrrp_script_child_thread by hand.
        let cases = [
            (1, 1, false, "+-+-", "ofof"),
            (1, 1, false, "-+", "fo"),
            (2, 3, false, "+", "o"),
            (2, 3, false, "+--+--", "oOOOOO"),
            (2, 3, false, "+--+---", "oOOOOOf"),
            (2, 3, false, "+---", "oOOf"),
            (2, 3, false, "-+-++", "fFFFo"),
            (2, 3, false, "-++", "fFo"),
            (3, 2, false, "--+++", "fFFFo"),
            (3, 2, false, "++-+-", "oOOOO"),
            (3, 2, false, "+--", "oOf"),
            (1, 1, true, "-+", "Fo"),
            (2, 2, true, "+-++", "FFFo"),
        ];
        for (rise, fall, init_fail, runs, want) in cases {
            assert_eq!(
                trace(rise, fall, init_fail, runs),
                want,
                "rise {rise} fall {fall} init_fail {init_fail} runs {runs}"
            );
        }
    }

    #[test]
    fn init_fail_starts_failed() {
        let c = ScriptCounter::new(2, 2, true);
        assert_eq!(c.ok(), Some(false));
        assert_eq!(ScriptCounter::new(2, 2, false).ok(), None);
    }

    #[test]
    fn zero_timeout_means_interval() {
        let cmd = ScriptCommand::parse("/bin/true").expect("parse");
        let mut cfg = ScriptConfig::new("chk", cmd);
        cfg.interval = Duration::from_secs(3);
        assert_eq!(cfg.effective_timeout(), Duration::from_secs(3));
        cfg.timeout = Duration::from_secs(1);
        assert_eq!(cfg.effective_timeout(), Duration::from_secs(1));
    }
}
