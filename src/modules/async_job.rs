//! `async` and `poll`, and the `async_status` module. A module's host script runs in the
//! background (`async_launch.sh`: its own session, output and exit code in
//! `~/.ansible_async/JID/`, a watchdog ending it after `async` seconds); with `poll` > 0 the
//! controller asks every `poll` seconds until it is done and reads the result as the module
//! would have; with `poll: 0` the task reports the job and `async_status` asks later,
//! reading the finished job's output through the same module (replayed).

use std::sync::Mutex;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::protocol::{self, field, field_b64};
use super::registry::{Cx, Module, Runs, Spec, Unreachable, Where};
use super::{Outcome, Remote};
use crate::transport::ExecOutput;

const LAUNCH: &str = include_str!("async_launch.sh");
const STATUS: &str = include_str!("async_status.sh");

/// A task's `async` and `poll`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncJob {
    pub timeout: u64,
    pub poll: u64,
}

/// What happened to a job while the controller polled it, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// `ASYNC POLL on HOST: jid=J started=True finished=False`.
    Poll(String),
    /// `ASYNC OK on HOST: jid=J`.
    Ok(String),
    /// `ASYNC FAILED on HOST: jid=J`.
    Failed(String),
}

/// Where a job's progress goes (the engine's report).
#[derive(Clone, Copy)]
pub struct OnProgress<'a>(pub &'a (dyn Fn(Progress) + Send + Sync));

impl std::fmt::Debug for OnProgress<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnProgress")
    }
}

/// The line of the end marker of the heredoc that carries the script to the host.
const END: &str = "HACTL_ASYNC_SCRIPT_END";

/// A new job id, `j` then digits and the controller's pid, as Ansible's look.
fn new_jid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!("j{nanos}.{}", std::process::id())
}

impl Cx<'_> {
    /// Runs a planned script as an `async` job (see the module doc).
    pub(crate) async fn step_async(
        &self,
        job: AsyncJob,
        remote: Remote,
    ) -> Result<Outcome, Unreachable> {
        if remote.script.lines().any(|l| l == END) {
            return Ok(Outcome::failed(format!(
                "hactl cannot run this script as an async job (it holds the line {END})"
            )));
        }
        let jid = new_jid();
        let module = serde_json::json!({"module": self.module, "args": self.args});
        let launch = format!(
            "HACTL_ASYNC_SCRIPT=$(mktemp) || exit 2\ncat > \"$HACTL_ASYNC_SCRIPT\" <<'{END}'\n{}\n{END}\n{}",
            remote.script,
            protocol::with_vars(
                LAUNCH,
                &[
                    ("JID", &jid),
                    ("TIMEOUT", &job.timeout.max(1).to_string()),
                    ("MODULE_JSON", &module.to_string()),
                ],
            )
        );
        let Some(out) = self.exec(&launch, &remote.stdin).await? else {
            return Ok(Outcome::offline(self.module));
        };
        if !out.success() {
            return Ok(protocol::failed_from(&out, "could not start the async job"));
        }
        let fields = protocol::fields(&out.stdout);
        let results_file = field(&fields, "results_file")
            .unwrap_or_default()
            .to_string();
        let with_job = |o: Outcome, finished: bool| {
            o.with("ansible_job_id", jid.clone())
                .with("started", true)
                .with("finished", finished)
                .with("results_file", results_file.clone())
        };
        if job.poll == 0 {
            return Ok(with_job(Outcome::changed(true), false));
        }
        let status = protocol::with_vars(STATUS, &[("JID", &jid)]);
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(job.poll)).await;
            let Some(out) = self.exec(&status, b"").await? else {
                return Ok(Outcome::offline(self.module));
            };
            let fields = protocol::fields(&out.stdout);
            if field(&fields, "finished") != Some("1") {
                self.note(Progress::Poll(jid.clone()));
                continue;
            }
            if field(&fields, "timed_out") == Some("1") {
                self.note(Progress::Failed(jid.clone()));
                return Ok(with_job(
                    Outcome::failed(format!(
                        "async task did not complete within the requested time - {}s",
                        job.timeout
                    )),
                    true,
                ));
            }
            let done = finished_output(&fields);
            let outcome = (remote.finish)(done);
            self.note(match outcome.status {
                super::Status::Failed => Progress::Failed(jid.clone()),
                _ => Progress::Ok(jid.clone()),
            });
            return Ok(with_job(outcome, true));
        }
    }

    fn note(&self, p: Progress) {
        if let Some(f) = self.on_async {
            (f.0)(p);
        }
    }
}

/// The exit code and output of a finished job, as a script's output.
fn finished_output(fields: &[(String, String)]) -> ExecOutput {
    ExecOutput {
        code: field(fields, "rc").and_then(|rc| rc.trim().parse().ok()),
        stdout: field_b64(fields, "stdout_b64")
            .unwrap_or_default()
            .into_bytes(),
        stderr: field_b64(fields, "stderr_b64")
            .unwrap_or_default()
            .into_bytes(),
    }
}

/// `async_status`: whether a `poll: 0` job has finished, and then its result.
#[derive(Debug)]
pub struct AsyncStatus;

static SPEC: Spec = Spec {
    name: "async_status",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: Some(&["jid", "mode"]),
    check_mode: true,
    about: "check on a job started with async and poll: 0",
};

impl Module for AsyncStatus {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(status(cx))
    }
}

async fn status(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let Some(jid) = cx.args.get("jid").and_then(Value::as_str).map(String::from) else {
        return Ok(Outcome::failed("missing required arguments: jid"));
    };
    let valid = jid
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-');
    if !valid {
        return Ok(Outcome::failed(format!("invalid jid '{jid}'")));
    }
    let mode = cx
        .args
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("status");
    if mode == "cleanup" {
        let script = format!("rm -rf -- \"${{HOME:-/tmp}}/.ansible_async/{jid}\"\n");
        let Some(_) = cx.exec(&script, b"").await? else {
            return Ok(Outcome::offline(cx.module));
        };
        return Ok(Outcome::changed(false)
            .with("ansible_job_id", jid.clone())
            .with("erased", true));
    }
    let status = protocol::with_vars(STATUS, &[("JID", &jid)]);
    let Some(out) = cx.exec(&status, b"").await? else {
        return Ok(Outcome::offline(cx.module));
    };
    let fields = protocol::fields(&out.stdout);
    if field(&fields, "missing") == Some("1") {
        return Ok(Outcome::failed(format!("could not find job {jid}"))
            .with("ansible_job_id", jid)
            .with("started", true)
            .with("finished", true));
    }
    let results_file = field(&fields, "results_file")
        .unwrap_or_default()
        .to_string();
    let with_job = |o: Outcome, finished: bool| {
        o.with("ansible_job_id", jid.clone())
            .with("started", true)
            .with("finished", finished)
            .with("results_file", results_file.clone())
    };
    if field(&fields, "finished") != Some("1") {
        return Ok(with_job(Outcome::changed(false), false));
    }
    if field(&fields, "timed_out") == Some("1") {
        return Ok(with_job(
            Outcome::failed("async task did not complete within the requested time"),
            true,
        ));
    }
    // The job's own module reads its output, as if it had just run.
    let stored: Value = field_b64(&fields, "module_b64")
        .and_then(|m| serde_json::from_str(&m).ok())
        .unwrap_or(Value::Null);
    let name = stored["module"].as_str().unwrap_or_default().to_string();
    let args: Map<String, Value> = stored["args"].as_object().cloned().unwrap_or_default();
    let Some(module) = super::registry::find(&name) else {
        return Ok(with_job(
            Outcome::failed(format!("the job's module '{name}' is unknown")),
            true,
        ));
    };
    let mut replay = Cx {
        module: &name,
        args,
        mode: cx.mode,
        host: cx.host,
        facts: cx.facts,
        vars: cx.vars,
        templar: cx.templar,
        task: cx.task,
        role_path: cx.role_path,
        playbook_dir: cx.playbook_dir,
        at: Where::Replay(Mutex::new(Some(finished_output(&fields)))),
        async_job: None,
        on_async: None,
    };
    let outcome = module.run(&mut replay).await?;
    Ok(with_job(outcome, true))
}
