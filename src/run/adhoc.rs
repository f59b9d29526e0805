//! Ad hoc runs (`hactl run PATTERN 'command'`, `-m MODULE -a ARGS`): one task on every
//! selected host at once (up to `--forks`), run by the playbook engine as a one-task play, so
//! every module of the registry works and arguments are templated with each host's variables
//! as in `ansible`. Each host's result is handed over as it arrives (command output line by
//! line before that), then identical results are grouped with the hosts that gave them.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::cli::ConnectionArgs;
use crate::engine::{Event, Sink};
use crate::inventory::Inventory;
use crate::modules::{Mode, Outcome, Status};
use crate::playbook::Playbook;

/// What to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub module: String,
    pub args: Map<String, Value>,
    pub mode: Mode,
}

/// One host's result: what the module reported, or why the host could not be reached.
#[derive(Debug, Clone)]
pub struct HostResult {
    pub host: String,
    pub outcome: Result<Outcome, String>,
}

/// Hands each host's result to the caller as it arrives.
struct Results<F> {
    on_result: Mutex<F>,
    all: Mutex<Vec<HostResult>>,
}

impl<F: FnMut(&HostResult) + Send> Sink for Results<F> {
    fn event(&self, event: Event) {
        let r = match event {
            Event::HostDone { host, result } => HostResult {
                host,
                outcome: match result.unreachable {
                    Some(msg) => Err(msg),
                    None => Ok(result
                        .items
                        .into_iter()
                        .next()
                        .map(|mut i| {
                            // Ansible's internal keys are never shown.
                            i.outcome.result.retain(|k, _| !k.starts_with("_ansible"));
                            i.outcome
                        })
                        .unwrap_or_else(|| Outcome::changed(false))),
                },
            },
            Event::Unreachable { host, msg } => HostResult {
                host,
                outcome: Err(msg),
            },
            Event::Warning(w) => {
                crate::report::warning(&w);
                return;
            }
            _ => return,
        };
        if let Ok(mut f) = self.on_result.lock() {
            (*f)(&r);
        }
        if let Ok(mut all) = self.all.lock() {
            all.push(r);
        }
    }
}

/// Runs `job` on `hosts`; `on_line` sees a `command`/`shell`/`raw` job's stdout lines (host,
/// line) as the hosts print them, `on_result` each host's result as soon as it is in.
/// Results come back in the hosts' order.
pub async fn run_streaming(
    inv: &Inventory,
    hosts: &[String],
    job: Job,
    conn: &ConnectionArgs,
    on_line: Option<impl Fn(&str, &str) + Send + Sync + 'static>,
    on_result: impl FnMut(&HostResult) + Send,
) -> anyhow::Result<Vec<HostResult>> {
    let args = job.args.into_iter().collect();
    let pb = Playbook::adhoc(&hosts.join(","), &job.module, args);
    let opts = crate::engine::Options {
        check: job.mode.check,
        diff: job.mode.diff,
        conn: conn.clone(),
        skip_lint: true,
        hosts: Some(hosts.to_vec()),
        stream: on_line.map(|f| crate::engine::exec::Stream(Arc::new(f))),
        ..Default::default()
    };
    let sink = Results {
        on_result: Mutex::new(on_result),
        all: Mutex::new(Vec::new()),
    };
    crate::engine::run(inv, &pb, &opts, &crate::engine::Mode::Live, &sink).await?;
    let mut results = sink.all.into_inner().unwrap_or_default();
    results.sort_by_key(|r| hosts.iter().position(|h| *h == r.host));
    Ok(results)
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
