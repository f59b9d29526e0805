//! Modules: what a task does on a host, as one remote shell script per task and host.
//!
//! A module turns its (already rendered) arguments into a [`Remote`] step: a POSIX shell
//! script, the bytes for its stdin, and a function that reads what came back into an
//! [`Outcome`] reported exactly as Ansible reports it (`ok`/`changed`/`failed`). Each script
//! decides idempotence on the host itself (hashes, `stat`, `dpkg-query`), so a task costs one
//! round trip and the host needs only a shell and coreutils.
//!
//! Every module is one type listed once in [`registry::MODULES`]; modules that never touch the
//! host (`debug`, `set_fact`, `assert`, ...) run on the controller, and `template`/`copy`
//! render there before they put the result on the host.

pub mod add_host;
pub mod apt_key;
pub mod apt_repository;
pub mod args;
pub mod assert;
pub mod async_job;
pub mod authorized_key;
pub mod blockinfile;
pub mod command;
pub mod copy;
pub mod cron;
pub mod debconf;
pub mod debug;
pub mod edit;
pub mod engine;
pub mod fail;
pub mod fetch;
pub mod file;
pub mod file_put;
pub mod find;
pub mod get_url;
pub mod git;
pub mod group;
pub mod group_by;
pub mod hostname;
pub mod http;
pub mod include_vars;
pub mod ini_file;
pub mod lineinfile;
pub mod make;
pub mod mount;
pub mod package;
pub mod package_facts;
pub mod pause;
pub mod ping;
pub mod pip;
pub mod protocol;
pub mod registry;
pub mod replace;
pub mod service;
pub mod service_facts;
pub mod set_fact;
pub mod setup;
pub mod slurp;
pub mod stat;
pub mod sysctl;
pub mod tempfile;
pub mod template;
#[cfg(test)]
pub mod testutil;
pub mod timezone;
pub mod unarchive;
pub mod uri;
pub mod user;
pub mod wait_for;
pub mod yum_repository;

use serde_json::{Map, Value};

use crate::transport::ExecOutput;

/// Ansible's per-host task status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Changed,
    Failed,
    Skipped,
}

/// A file's content before and after a task, for `--diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    pub path: String,
    pub before: Option<String>,
    pub after: String,
}

/// What a module did on one host.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    /// The result as `register` stores it (`rc`, `stdout`, `msg`, `changed`, ...).
    pub result: Map<String, Value>,
    pub diff: Option<FileDiff>,
}

impl Outcome {
    pub fn new(status: Status) -> Outcome {
        let mut result = Map::new();
        result.insert("changed".into(), Value::Bool(status == Status::Changed));
        if status == Status::Failed {
            result.insert("failed".into(), Value::Bool(true));
        }
        Outcome {
            status,
            result,
            diff: None,
        }
    }

    pub fn failed(msg: impl Into<String>) -> Outcome {
        Outcome::new(Status::Failed).with("msg", msg.into())
    }

    pub fn changed(changed: bool) -> Outcome {
        Outcome::new(if changed { Status::Changed } else { Status::Ok })
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Outcome {
        self.result.insert(key.into(), value.into());
        self
    }

    pub fn msg(&self) -> Option<&str> {
        self.result.get("msg").and_then(Value::as_str)
    }
}

/// Settings of a task run that every module honours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode {
    /// `--check`: change nothing, report what would change.
    pub check: bool,
    /// `--diff`: report the content before and after.
    pub diff: bool,
}

/// Reads a script's output into an outcome.
pub type Finish = Box<dyn FnOnce(ExecOutput) -> Outcome + Send>;

/// One round trip to a host.
pub struct Remote {
    pub script: String,
    pub stdin: Vec<u8>,
    pub finish: Finish,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("script", &self.script)
            .finish_non_exhaustive()
    }
}

/// What running a module on a host takes: one script, or nothing (decided already).
#[derive(Debug)]
pub enum Step {
    Remote(Remote),
    Done(Outcome),
}

/// A module's arguments are wrong: reported as a failed task, as Ansible does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

/// Runs a planned step on a host.
pub async fn execute<T: crate::transport::Transport>(
    host: &T,
    step: Step,
) -> Result<Outcome, crate::transport::TransportError> {
    match step {
        Step::Done(outcome) => Ok(outcome),
        Step::Remote(remote) => {
            let out = host.exec(&remote.script, &remote.stdin).await?;
            Ok((remote.finish)(out))
        }
    }
}
