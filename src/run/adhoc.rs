//! Ad hoc runs (`hactl run PATTERN 'command'`): one module on every selected host, all hosts
//! at once (up to `--forks`), each host's result printed as it arrives, then identical results
//! grouped with the hosts that gave them.

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::{Semaphore, mpsc};

use crate::modules::{self, Mode, Outcome, Status, Step};
use crate::transport::{self, Target, Transport};

/// What to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub module: String,
    pub args: Map<String, Value>,
    /// Run as this user through sudo.
    pub become_user: Option<String>,
    pub forks: usize,
    pub mode: Mode,
}

/// One host's result: what the module reported, or why the host could not be reached.
#[derive(Debug, Clone)]
pub struct HostResult {
    pub host: String,
    pub outcome: Result<Outcome, String>,
}

/// Runs `job` on every target; `on_result` sees each host's result as soon as it is in.
/// Results come back in the targets' order.
pub async fn run(
    targets: Vec<Target>,
    job: Job,
    on_result: impl FnMut(&HostResult),
) -> Vec<HostResult> {
    run_streaming(targets, job, None::<fn(&str, &str)>, on_result).await
}

/// What a host's task sends back: a line of output as it is printed, or the result.
enum Msg {
    Line(String, String),
    Done(HostResult),
}

/// Like [`run`]; with `on_line`, a `command`/`shell`/`raw` job's stdout lines reach it (host,
/// line) as the hosts print them, before that host's result.
pub async fn run_streaming(
    targets: Vec<Target>,
    job: Job,
    mut on_line: Option<impl FnMut(&str, &str)>,
    mut on_result: impl FnMut(&HostResult),
) -> Vec<HostResult> {
    let order: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let gate = Arc::new(Semaphore::new(job.forks.max(1)));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let stream = on_line.is_some() && matches!(job.module.as_str(), "command" | "shell" | "raw");
    let job = Arc::new(job);
    for target in targets {
        let (gate, tx, job) = (gate.clone(), tx.clone(), job.clone());
        tokio::spawn(async move {
            let _slot = gate.acquire().await;
            let host = target.name.clone();
            let lines = tx.clone();
            let send = move |line: &str| {
                // The module's own markers are not the command's output.
                if !line.starts_with("hactl:") {
                    let _ = lines.send(Msg::Line(host.clone(), line.to_string()));
                }
            };
            let on_line: Option<&(dyn Fn(&str) + Send + Sync)> =
                if stream { Some(&send) } else { None };
            let outcome = one_host(&target, &job, on_line).await;
            let _ = tx.send(Msg::Done(HostResult {
                host: target.name.clone(),
                outcome,
            }));
        });
    }
    drop(tx);
    let mut results = Vec::with_capacity(order.len());
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Line(host, line) => {
                if let Some(f) = on_line.as_mut() {
                    f(&host, &line);
                }
            }
            Msg::Done(result) => {
                on_result(&result);
                results.push(result);
            }
        }
    }
    results.sort_by_key(|r| order.iter().position(|h| *h == r.host));
    results
}

async fn one_host(
    target: &Target,
    job: &Job,
    on_line: Option<&(dyn Fn(&str) + Send + Sync)>,
) -> Result<Outcome, String> {
    let step = match modules::plan(&job.module, &job.args, job.mode, &Map::new()) {
        Ok(step) => step,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    // Errors name the host already; the report puts it first.
    let text = |e: transport::TransportError| {
        let full = e.to_string();
        full.strip_prefix(&format!("{}: ", target.name))
            .map(String::from)
            .unwrap_or(full)
    };
    let conn = transport::connect(target).await.map_err(text)?;
    let outcome = match step {
        Step::Done(outcome) => Ok(outcome),
        Step::Remote(remote) => {
            let (script, stdin) =
                super::target::wrap(&remote.script, &remote.stdin, job.become_user.as_deref());
            transport::trace_script(&target.name, &script);
            let out = match on_line {
                Some(f) => conn.exec_streaming(&script, &stdin, f).await,
                None => conn.exec(&script, &stdin).await,
            };
            out.map(remote.finish).map_err(text)
        }
    };
    let _ = conn.close().await;
    outcome
}

/// The exit code `ansible` gives: 4 if a host was unreachable, else 2 if one failed, else 0.
pub fn exit_code(results: &[HostResult]) -> u8 {
    if results.iter().any(|r| r.outcome.is_err()) {
        4
    } else if results
        .iter()
        .any(|r| matches!(&r.outcome, Ok(o) if o.status == Status::Failed))
    {
        2
    } else {
        0
    }
}

/// One host's result as `ansible` prints it.
pub fn format_result(r: &HostResult) -> String {
    let (head, body) = headline(r);
    format!("{} | {head}{body}", r.host)
}

/// A host's result once its output was streamed: the status line, then its stderr (which
/// is not streamed) with the host prefix.
pub fn format_streamed(r: &HostResult) -> String {
    let (head, body) = headline(r);
    let mut out = format!("{} | {}", r.host, head.trim_end_matches(" >>"));
    match &r.outcome {
        Ok(o) if o.result.contains_key("stdout") => {
            let stderr = o
                .result
                .get("stderr")
                .and_then(Value::as_str)
                .unwrap_or_default();
            for line in stderr.lines() {
                out.push_str(&format!("\n{} | {line}", r.host));
            }
        }
        _ => out.push_str(&body),
    }
    out
}

/// What a result says, without the host: `CHANGED | rc=0 >>\noutput`.
fn headline(r: &HostResult) -> (String, String) {
    match &r.outcome {
        Err(msg) => ("UNREACHABLE!".into(), format!(" => {msg}")),
        Ok(o) => {
            let status = match o.status {
                Status::Changed => "CHANGED",
                Status::Failed => "FAILED",
                Status::Skipped => "SKIPPED",
                Status::Ok => "SUCCESS",
            };
            match o.result.get("rc").and_then(Value::as_i64) {
                Some(rc) if o.result.contains_key("stdout") => {
                    let mut text = o
                        .result
                        .get("stdout")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let stderr = o
                        .result
                        .get("stderr")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if !stderr.is_empty() {
                        if !text.is_empty() {
                            text.push('\n');
                        }
                        text.push_str(stderr);
                    }
                    (format!("{status} | rc={rc} >>"), format!("\n{text}"))
                }
                _ => {
                    let json = pretty_json(&Value::Object(o.result.clone()));
                    (status.to_string(), format!(" => {json}"))
                }
            }
        }
    }
}

/// One host's result as a `--json` `host_result` event (the same schema as `hactl apply`'s,
/// with the module name as `task`).
pub fn json_event(r: &HostResult, module: &str) -> Value {
    let (status, result) = match &r.outcome {
        Err(msg) => ("unreachable", serde_json::json!({"msg": msg})),
        Ok(o) => {
            let status = match o.status {
                Status::Changed => "changed",
                Status::Failed => "failed",
                Status::Skipped => "skipped",
                Status::Ok => "ok",
            };
            (status, Value::Object(o.result.clone()))
        }
    };
    serde_json::json!({
        "event": "host_result",
        "host": r.host,
        "task": module,
        "status": status,
        "result": result,
    })
}

/// The closing `recap` event of `hactl run --json`: per host, 1 in the column of its status.
pub fn json_recap(results: &[HostResult]) -> Value {
    let hosts: Map<String, Value> = results
        .iter()
        .map(|r| {
            let status = json_event(r, "")["status"].clone();
            let mut counts = Map::new();
            for k in ["ok", "changed", "unreachable", "failed", "skipped"] {
                counts.insert(k.into(), u8::from(status == k).into());
            }
            (r.host.clone(), Value::Object(counts))
        })
        .collect();
    serde_json::json!({"event": "recap", "hosts": hosts})
}

/// JSON indented by four spaces, as Ansible prints module results.
fn pretty_json(v: &Value) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    match serde::Serialize::serialize(v, &mut ser) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => v.to_string(),
    }
}

/// Identical results grouped, in the order first seen: `2 hosts (a, b) | CHANGED | rc=0 >>`.
pub fn summary(results: &[HostResult]) -> Vec<String> {
    let mut groups: Vec<((String, String), Vec<&str>)> = Vec::new();
    for r in results {
        let key = headline(r);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, hosts)) => hosts.push(&r.host),
            None => groups.push((key, vec![&r.host])),
        }
    }
    let mut out = Vec::new();
    for ((head, body), hosts) in groups {
        let n = hosts.len();
        let noun = if n == 1 { "host" } else { "hosts" };
        out.push(format!("{n} {noun} ({}) | {head}{body}", hosts.join(", ")));
    }
    let count = |s: Status| {
        results
            .iter()
            .filter(|r| matches!(&r.outcome, Ok(o) if o.status == s))
            .count()
    };
    out.push(format!(
        "hosts={} ok={} changed={} failed={} unreachable={}",
        results.len(),
        count(Status::Ok),
        count(Status::Changed),
        count(Status::Failed),
        results.iter().filter(|r| r.outcome.is_err()).count()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(host: &str, stdout: &str, rc: i64) -> HostResult {
        let status = if rc == 0 {
            Status::Changed
        } else {
            Status::Failed
        };
        let outcome = Outcome::new(status)
            .with("rc", rc)
            .with("stdout", stdout)
            .with("stderr", "");
        HostResult {
            host: host.into(),
            outcome: Ok(outcome),
        }
    }

    #[test]
    fn identical_outputs_are_grouped() {
        let results = vec![
            done("a", "same", 0),
            done("b", "other", 0),
            done("c", "same", 0),
            HostResult {
                host: "d".into(),
                outcome: Err("cannot connect: timeout".into()),
            },
        ];
        let lines = summary(&results);
        assert_eq!(lines[0], "2 hosts (a, c) | CHANGED | rc=0 >>\nsame");
        assert_eq!(lines[1], "1 host (b) | CHANGED | rc=0 >>\nother");
        assert_eq!(
            lines[2],
            "1 host (d) | UNREACHABLE! => cannot connect: timeout"
        );
        assert_eq!(lines[3], "hosts=4 ok=0 changed=3 failed=0 unreachable=1");
        assert_eq!(exit_code(&results), 4);
        assert_eq!(exit_code(&results[..3]), 0);
        assert_eq!(exit_code(&[done("x", "", 3)]), 2);
    }

    #[test]
    fn streamed_result_lines() {
        let mut r = done("a", "out", 0);
        if let Ok(o) = &mut r.outcome {
            o.result.insert("stderr".into(), "e1\ne2".into());
        }
        assert_eq!(format_streamed(&r), "a | CHANGED | rc=0\na | e1\na | e2");
    }

    #[test]
    fn json_events() {
        let results = vec![
            done("a", "hi", 0),
            HostResult {
                host: "d".into(),
                outcome: Err("timeout".into()),
            },
        ];
        let ev = json_event(&results[0], "shell");
        assert_eq!(ev["status"], "changed");
        assert_eq!(ev["result"]["stdout"], "hi");
        assert_eq!(json_event(&results[1], "shell")["status"], "unreachable");
        let recap = json_recap(&results);
        assert_eq!(recap["hosts"]["a"]["changed"], 1);
        assert_eq!(recap["hosts"]["d"]["unreachable"], 1);
        assert_eq!(recap["hosts"]["d"]["ok"], 0);
    }
}
