//! Notify scripts: what runs when a VRRP instance or sync group changes state.
//!
//! keepalived 2.2.7 (`send_instance_notifies`, `notify_script_exec` in
//! keepalived/vrrp/vrrp_notify.c) runs, on each change:
//!
//! 1. the state's own script (`notify_master`, `notify_backup`, `notify_fault`,
//!    `notify_stop`, `notify_deleted`) exactly as configured, with no extra arguments;
//! 2. then the generic `notify` script with four arguments appended:
//!    `INSTANCE|GROUP`, the instance or group name, `MASTER|BACKUP|FAULT|STOP|DELETED`, and the
//!    effective priority (always 0 for a group).
//!
//! Without `notify_deleted`, an instance being deleted is reported as FAULT (keepalived keeps
//! that for backward compatibility). Scripts are split into argv (see `track::argv`) and run
//! directly, without a shell, with stdio on /dev/null.
//!
//! Running never blocks the caller: [`Notifier`] spawns each script and a task that reaps it
//! and logs a non-zero exit. [`Notifier::drain`] lets shutdown wait (bounded) for `notify_stop`.

pub mod fifo;

use std::time::Duration;

use tokio::task::JoinSet;

pub use crate::fsm::NotifyState;
use crate::track::ScriptCommand;

/// The notify scripts of one instance (or sync group).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyScripts {
    pub master: Option<ScriptCommand>,
    pub backup: Option<ScriptCommand>,
    pub fault: Option<ScriptCommand>,
    pub stop: Option<ScriptCommand>,
    pub deleted: Option<ScriptCommand>,
    /// The generic `notify` script.
    pub generic: Option<ScriptCommand>,
    /// `notify_deleted`: report deletion as DELETED rather than FAULT.
    pub notify_deleted: bool,
}

impl NotifyScripts {
    /// What to run for `state`, in keepalived's order: the state's own script (no extra
    /// arguments), then `notify` with `kind name STATE priority` appended.
    pub fn plan(
        &self,
        kind: Kind,
        name: &str,
        state: NotifyState,
        priority: u8,
    ) -> Vec<(ScriptCommand, Vec<String>)> {
        let state = match state {
            NotifyState::Deleted if !self.notify_deleted => NotifyState::Fault,
            s => s,
        };
        let own = match state {
            NotifyState::Master => &self.master,
            NotifyState::Backup => &self.backup,
            NotifyState::Fault => &self.fault,
            NotifyState::Stop => &self.stop,
            NotifyState::Deleted => &self.deleted,
        };
        let mut out = Vec::new();
        if let Some(script) = own {
            out.push((script.clone(), Vec::new()));
        }
        if let Some(generic) = &self.generic {
            let priority = match kind {
                Kind::Instance => priority,
                Kind::Group => 0,
            };
            let args = vec![
                kind.as_str().to_owned(),
                name.to_owned(),
                state.as_str().to_owned(),
                priority.to_string(),
            ];
            out.push((generic.clone(), args));
        }
        out
    }
}

/// Whether a notification is about a VRRP instance or a sync group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Instance,
    Group,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Instance => "INSTANCE",
            Kind::Group => "GROUP",
        }
    }
}

/// Somewhere to send state-change notifications; [`Notifier`] is the real one.
pub trait NotifySink {
    fn notify(
        &mut self,
        scripts: &NotifyScripts,
        kind: Kind,
        name: &str,
        state: NotifyState,
        priority: u8,
    );
}

/// Spawns notify scripts and reaps them in the background. Must be used inside a tokio
/// runtime.
#[derive(Debug, Default)]
pub struct Notifier {
    running: JoinSet<()>,
    fifos: fifo::NotifyFifos,
}

impl Notifier {
    pub fn new() -> Self {
        Notifier::default()
    }

    /// A notifier that also writes every change to the daemon's notify FIFOs.
    pub fn with_fifos(fifos: fifo::NotifyFifos) -> Self {
        Notifier {
            running: JoinSet::new(),
            fifos,
        }
    }

    /// Starts one script with `extra` arguments appended; returns at once.
    pub fn spawn(&mut self, script: &ScriptCommand, extra: &[String]) {
        let shown = script.display();
        // Finished reapers are collected here so the set does not grow without bound.
        while self.running.try_join_next().is_some() {}
        match script.command(extra).spawn() {
            Ok(mut child) => {
                self.running.spawn(async move {
                    match child.wait().await {
                        Ok(status) if status.success() => {}
                        Ok(status) => {
                            tracing::warn!(script = %shown, %status, "notify script failed");
                        }
                        Err(e) => {
                            tracing::warn!(script = %shown, error = %e, "waiting for notify script")
                        }
                    }
                });
            }
            Err(e) => tracing::warn!(script = %shown, error = %e, "cannot run notify script"),
        }
    }

    /// Waits up to `limit` for every script still running, then kills the rest (keepalived
    /// gives `notify_stop` one second at shutdown).
    pub async fn drain(&mut self, limit: Duration) {
        let all = async { while self.running.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, all).await.is_err() {
            // Dropping a reaper drops its child, which kills it (kill_on_drop).
            self.running.abort_all();
            while self.running.join_next().await.is_some() {}
        }
    }

    /// How many scripts are still running or unreaped.
    pub fn outstanding(&self) -> usize {
        self.running.len()
    }
}

impl NotifySink for Notifier {
    fn notify(
        &mut self,
        scripts: &NotifyScripts,
        kind: Kind,
        name: &str,
        state: NotifyState,
        priority: u8,
    ) {
        self.fifos.write(kind, name, state, priority);
        for (script, extra) in scripts.plan(kind, name, state, priority) {
            self.spawn(&script, &extra);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> ScriptCommand {
        ScriptCommand::parse(s).expect("parse")
    }

    fn plan_strings(p: &[(ScriptCommand, Vec<String>)]) -> Vec<String> {
        p.iter()
            .map(|(c, extra)| {
                let mut words: Vec<String> = c
                    .argv()
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                words.extend(extra.iter().cloned());
                words.join("|")
            })
            .collect()
    }

    #[test]
    fn own_script_then_generic_with_four_args() {
        let scripts = NotifyScripts {
            master: Some(cmd("/bin/m 'a b'")),
            generic: Some(cmd("/bin/n x")),
            ..NotifyScripts::default()
        };
        let p = scripts.plan(Kind::Instance, "VI_1", NotifyState::Master, 150);
        assert_eq!(
            plan_strings(&p),
            ["/bin/m|a b", "/bin/n|x|INSTANCE|VI_1|MASTER|150"]
        );
        let p = scripts.plan(Kind::Instance, "VI_1", NotifyState::Backup, 100);
        assert_eq!(plan_strings(&p), ["/bin/n|x|INSTANCE|VI_1|BACKUP|100"]);
        let p = scripts.plan(Kind::Group, "G1", NotifyState::Fault, 100);
        assert_eq!(plan_strings(&p), ["/bin/n|x|GROUP|G1|FAULT|0"]);
    }

    #[test]
    fn deleted_is_fault_unless_notify_deleted() {
        let mut scripts = NotifyScripts {
            fault: Some(cmd("/bin/f")),
            deleted: Some(cmd("/bin/d")),
            generic: Some(cmd("/bin/n")),
            ..NotifyScripts::default()
        };
        let p = scripts.plan(Kind::Instance, "VI_1", NotifyState::Deleted, 100);
        assert_eq!(
            plan_strings(&p),
            ["/bin/f", "/bin/n|INSTANCE|VI_1|FAULT|100"]
        );
        scripts.notify_deleted = true;
        let p = scripts.plan(Kind::Instance, "VI_1", NotifyState::Deleted, 100);
        assert_eq!(
            plan_strings(&p),
            ["/bin/d", "/bin/n|INSTANCE|VI_1|DELETED|100"]
        );
    }
}
