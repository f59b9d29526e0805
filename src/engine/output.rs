//! What `hactl apply` prints, as ansible-playbook's default callback prints it: banners padded
//! with `*` to 80 columns, `ok: [host]` lines, `fatal: [host]: FAILED! => {...}` with the
//! result as Python's `json.dumps` writes it (sorted keys), diffs, and the `PLAY RECAP`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::Value;

use super::events::{Banner, Event, Sink};
use super::schedule::Stats;
use super::task::{ItemResult, TaskResult};
use crate::modules::{FileDiff, Status};
use crate::report;

/// Prints events as ansible-playbook's default callback does (or as `--json` events).
#[derive(Debug, Default)]
pub struct Printer {
    /// Show secrets in diffs.
    pub show_secrets: bool,
    /// Print the `--json` event stream instead of ansible-playbook's text.
    pub json: bool,
}

impl Sink for Printer {
    fn event(&self, event: Event) {
        match event {
            Event::Play { name } => banner(&format!("PLAY [{name}]"), self.json),
            Event::NoHosts => report::out("skipping: no hosts matched"),
            Event::Banner { kind, name } => banner(
                &match kind {
                    Banner::Task => format!("TASK [{name}]"),
                    Banner::Handler => format!("RUNNING HANDLER [{name}]"),
                },
                self.json,
            ),
            Event::Results { no_log, results } => {
                group_diffs(self, results.iter().map(|(h, r)| (h.as_str(), r)), no_log);
                for (host, r) in &results {
                    task_result(self, host, r, no_log);
                }
            }
            Event::HostDone { .. } => {}
            Event::Unreachable { host, msg } => unreachable(&host, &msg, self.json),
            Event::Included { file, hosts, item } => {
                included(&file, &hosts, item.as_ref(), self.json)
            }
            Event::Pending { host, name } => pending(&host, &name, self.json),
            Event::Retrying { host, task, left } => retrying(&host, &task, left, self.json),
            Event::Async { host, progress } if !self.json => {
                use crate::modules::async_job::Progress;
                report::out(&match progress {
                    Progress::Poll(jid) => {
                        format!("ASYNC POLL on {host}: jid={jid} started=True finished=False")
                    }
                    Progress::Ok(jid) => format!("ASYNC OK on {host}: jid={jid}"),
                    Progress::Failed(jid) => format!("ASYNC FAILED on {host}: jid={jid}"),
                });
            }
            Event::Async { .. } => {}
            Event::NoMoreHosts => banner("NO MORE HOSTS LEFT", self.json),
            Event::Warning(w) => report::warning(&w),
        }
    }
}

fn included(file: &str, hosts: &[String], item: Option<&Value>, json: bool) {
    if json {
        let mut ev = serde_json::json!({"event": "included", "file": file, "hosts": hosts});
        if let Some(i) = item {
            ev["item"] = i.clone();
        }
        report::event(&ev);
        return;
    }
    let item = item
        .map(|i| format!(" => (item={})", item_label(i)))
        .unwrap_or_default();
    report::out(&format!("included: {file} for {}{item}", hosts.join(", ")));
}

fn pending(host: &str, name: &str, json: bool) {
    if json {
        report::event(&serde_json::json!({
            "event": "pending_handler", "host": host, "name": name,
        }));
    } else {
        report::out(&format!(
            "pending: [{host}] => {name} (notified by an earlier run that ended before its handlers)"
        ));
    }
}

fn retrying(host: &str, task: &str, left: u32, json: bool) {
    if json {
        report::event(&serde_json::json!({
            "event": "retrying", "host": host, "task": task, "retries_left": left,
        }));
    } else {
        report::out(&format!(
            "FAILED - RETRYING: [{host}]: {task} ({left} retries left)."
        ));
    }
}

/// Whether a diff is worth printing.
pub fn has_diff(d: &Option<FileDiff>) -> bool {
    d.as_ref()
        .is_some_and(|d| d.before.as_deref() != Some(d.after.as_str()))
}

/// The task or handler in flight, named in `--json` `host_result` events.
static CURRENT: Mutex<String> = Mutex::new(String::new());

fn current_task() -> String {
    CURRENT.lock().map(|c| c.clone()).unwrap_or_default()
}

/// `TASK [name] ****...` to 80 columns, after a blank line. In `--json` mode, the `play`,
/// `task` or `handler` event instead.
pub fn banner(msg: &str, json: bool) {
    // Grouped diffs belong to the task before this banner.
    if let Ok(mut g) = GROUPED.lock() {
        g.clear();
    }
    if json {
        json_banner(msg);
        return;
    }
    let stars = 79usize.saturating_sub(msg.chars().count()).max(3);
    report::out("");
    report::out(&format!("{msg} {}", "*".repeat(stars)));
}

/// The `--json` event for a banner; `PLAY RECAP` has its own event (see [`recap`]).
fn json_banner(msg: &str) {
    let inner = |prefix: &str| {
        msg.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(']'))
            .map(str::to_string)
    };
    let (event, name) = if let Some(n) = inner("PLAY [") {
        ("play", n)
    } else if let Some(n) = inner("TASK [") {
        ("task", n)
    } else if let Some(n) = inner("RUNNING HANDLER [") {
        ("handler", n)
    } else {
        return;
    };
    if event != "play" {
        if let Ok(mut c) = CURRENT.lock() {
            c.clone_from(&name);
        }
    }
    report::event(&serde_json::json!({"event": event, "name": name}));
}

/// One `host_result` event of the `--json` stream.
fn json_result(
    host: &str,
    status: &str,
    item: Option<&Value>,
    diff: Option<String>,
    result: Option<&serde_json::Map<String, Value>>,
) {
    let mut ev = serde_json::json!({
        "event": "host_result",
        "host": host,
        "task": current_task(),
        "status": status,
    });
    if let Some(i) = item {
        ev["item"] = i.clone();
    }
    if let Some(d) = diff {
        ev["diff"] = Value::String(d);
    }
    if let Some(r) = result {
        ev["result"] = Value::Object(r.clone());
    }
    report::event(&ev);
}

pub fn result_line(
    status: &str,
    host: &str,
    item: Option<&Value>,
    extra: Option<&str>,
    json: bool,
) {
    if json {
        json_result(host, status, item, None, None);
        return;
    }
    let item = item
        .map(|i| format!(" => (item={})", item_label(i)))
        .unwrap_or_default();
    match extra {
        Some(e) => report::out(&format!("{status}: [{host}]{item} => {e}")),
        None => report::out(&format!("{status}: [{host}]{item}")),
    }
}

pub fn unreachable(host: &str, msg: &str, json: bool) {
    if json {
        let r = serde_json::json!({"msg": msg});
        json_result(host, "unreachable", None, None, r.as_object());
        return;
    }
    let json = py_json(&serde_json::json!({"changed": false, "msg": msg, "unreachable": true}));
    report::out(&format!("fatal: [{host}]: UNREACHABLE! => {json}"));
}

/// A loop item as Ansible labels it: strings bare, other values as Python prints them.
fn item_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => crate::template::py_str(&crate::template::to_value(other)),
    }
}

/// Diffs already printed once for several hosts by [`group_diffs`]: (host, diff text).
static GROUPED: Mutex<BTreeSet<(String, String)>> = Mutex::new(BTreeSet::new());

/// Groups identical diffs: each distinct diff text with the hosts that have it, in order of
/// first appearance.
pub fn group<'a>(diffs: &[(&'a str, String)]) -> Vec<(Vec<&'a str>, String)> {
    let mut groups: Vec<(Vec<&'a str>, String)> = Vec::new();
    for (host, text) in diffs {
        match groups.iter_mut().find(|(_, t)| t == text) {
            Some((hosts, _)) => hosts.push(host),
            None => groups.push((vec![host], text.clone())),
        }
    }
    groups
}

/// Prints once, before the per-host lines, each diff that several hosts share for this task,
/// headed by the hosts (`--- lb1, lb2 (2 hosts) /etc/nginx/nginx.conf`); [`task_result`] then
/// leaves those out. Diffs only one host has are printed with its lines as before.
pub fn group_diffs<'a>(
    p: &Printer,
    results: impl Iterator<Item = (&'a str, &'a TaskResult)>,
    no_log: bool,
) {
    if p.json {
        return;
    }
    let show_secrets = p.show_secrets;
    let mut diffs: Vec<(&str, String)> = Vec::new();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    for (host, r) in results {
        for d in r.items.iter().filter_map(|i| {
            i.outcome
                .diff
                .as_ref()
                .filter(|_| has_diff(&i.outcome.diff))
        }) {
            let text = report::diff_text(
                &d.path,
                d.before.as_deref().unwrap_or_default(),
                &d.after,
                no_log,
                show_secrets,
            );
            paths.insert(text.clone(), d.path.clone());
            diffs.push((host, text));
        }
    }
    let Ok(mut grouped) = GROUPED.lock() else {
        return;
    };
    grouped.clear();
    for (hosts, text) in group(&diffs).into_iter().filter(|(h, _)| h.len() > 1) {
        let path = paths.get(&text).cloned().unwrap_or_default();
        report::out(&format!(
            "--- {} ({} hosts) {path}",
            hosts.join(", "),
            hosts.len()
        ));
        report::diff_out(&text);
        for h in hosts {
            grouped.insert((h.to_string(), text.clone()));
        }
    }
}

/// Prints one host's lines for a task: diffs first, then the status line(s).
pub fn task_result(p: &Printer, host: &str, r: &TaskResult, no_log: bool) {
    let (json, show_secrets) = (p.json, p.show_secrets);
    // A delegated task shows where it ran: `ok: [h1 -> h2]`.
    let label;
    let host = match &r.delegated {
        Some(to) if !json => {
            label = format!("{host} -> {to}");
            label.as_str()
        }
        _ => host,
    };
    let looped = r.items.iter().any(|i| i.item.is_some());
    if json {
        json_task_result(host, r, no_log, show_secrets);
        return;
    }
    for i in &r.items {
        if has_diff(&i.outcome.diff) {
            if let Some(d) = &i.outcome.diff {
                let text = report::diff_text(
                    &d.path,
                    d.before.as_deref().unwrap_or_default(),
                    &d.after,
                    no_log,
                    show_secrets,
                );
                let shown = GROUPED
                    .lock()
                    .map(|g| g.contains(&(host.to_string(), text.clone())))
                    .unwrap_or(false);
                if !shown {
                    report::diff_out(&text);
                }
            }
        }
        let status = match i.outcome.status {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Skipped => "skipping",
            Status::Failed => "failed",
        };
        let (item, mut result) = shown(i, no_log);
        match i.outcome.status {
            Status::Failed => {
                let item = item
                    .as_ref()
                    .map(|it| format!(" (item={})", item_label(it)))
                    .unwrap_or_default();
                report::out(
                    &format!(
                        "failed: [{host}]{item} => {}",
                        py_json(&Value::Object(result))
                    )
                    .replacen("failed:", if looped { "failed:" } else { "fatal:" }, 1)
                    .replacen(
                        &format!("[{host}] => "),
                        &format!("[{host}]: FAILED! => "),
                        1,
                    ),
                );
            }
            // `debug` asks for its result to be shown (as Ansible's `_ansible_verbose_always`).
            _ if !no_log
                && i.outcome.status != Status::Skipped
                && i.outcome.result.get("_ansible_verbose_always") == Some(&Value::Bool(true)) =>
            {
                result.remove("changed");
                let item = item
                    .as_ref()
                    .map(|it| format!(" => (item={})", item_label(it)))
                    .unwrap_or_default();
                report::out(&format!(
                    "{status}: [{host}]{item} => {}",
                    pretty(&Value::Object(result))
                ));
            }
            // -v shows every result as ansible-playbook's -v does: on one line, or indented
            // from -vvv on.
            _ if report::verbosity() >= 1 && !result.is_empty() => {
                let v = Value::Object(result);
                let text = if report::verbosity() >= 3 {
                    pretty(&v)
                } else {
                    py_json(&v)
                };
                result_line(status, host, item.as_ref(), Some(&text), json);
            }
            _ => result_line(status, host, item.as_ref(), None, json),
        }
    }
    if looped && r.status == Some(Status::Failed) {
        report::out(&format!(
            "fatal: [{host}]: FAILED! => {{\"msg\": \"One or more items failed\"}}"
        ));
    }
    if r.ignored {
        report::out("...ignoring");
    }
    // Warnings a module returned, as Ansible shows them after the result.
    for i in &r.items {
        if let Some(Value::Array(warnings)) = i.outcome.result.get("warnings") {
            for w in warnings.iter().filter_map(Value::as_str) {
                report::warning(w);
            }
        }
    }
}

/// The `host_result` events of one host's task: one per loop item, diffs masked as in the
/// human output, `no_log` results censored.
fn json_task_result(host: &str, r: &TaskResult, no_log: bool, show_secrets: bool) {
    for i in &r.items {
        let diff = i
            .outcome
            .diff
            .as_ref()
            .filter(|_| has_diff(&i.outcome.diff))
            .map(|d| {
                report::diff_text(
                    &d.path,
                    d.before.as_deref().unwrap_or_default(),
                    &d.after,
                    no_log,
                    show_secrets,
                )
            });
        let status = match i.outcome.status {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        };
        let (item, mut result) = shown(i, no_log);
        if r.ignored && i.outcome.status == Status::Failed {
            result.insert("_ignored".into(), true.into());
        }
        json_result(host, status, item.as_ref(), diff, Some(&result));
    }
}

/// What Ansible prints in place of a `no_log` task's loop item.
pub const CENSORED_ITEM: &str = "(censored due to no_log)";
/// What Ansible prints in place of a `no_log` task's result.
pub const CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// The loop item and result of one item as they may be shown: under `no_log`, the item is
/// `(censored due to no_log)` and the result only says it is hidden (and whether it changed),
/// as ansible-core prints them, in text and in `--json` alike.
fn shown(i: &ItemResult, no_log: bool) -> (Option<Value>, serde_json::Map<String, Value>) {
    if !no_log {
        let item = match &i.label {
            Some(l) => Some(Value::String(l.clone())),
            None => i.item.clone(),
        };
        // Ansible's internal keys (`_ansible_verbose_always`) are never shown.
        let result = i
            .outcome
            .result
            .iter()
            .filter(|(k, _)| !k.starts_with("_ansible"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        return (item, result);
    }
    let mut result = serde_json::Map::new();
    result.insert("censored".into(), CENSORED.into());
    if let Some(changed) = i.outcome.result.get("changed") {
        result.insert("changed".into(), changed.clone());
    }
    let item = i.item.as_ref().map(|_| Value::String(CENSORED_ITEM.into()));
    (item, result)
}

/// The recap, one line per host.
/// Hosts are sorted by name, as ansible-playbook sorts them (hosts `add_host` made too).
pub fn recap(stats: &BTreeMap<String, Stats>, json: bool) {
    if json {
        let hosts: serde_json::Map<String, Value> = stats
            .iter()
            .map(|(h, s)| {
                let counts = serde_json::json!({
                    "ok": s.ok, "changed": s.changed, "unreachable": s.unreachable,
                    "failed": s.failed, "skipped": s.skipped, "rescued": s.rescued,
                    "ignored": s.ignored,
                });
                (h.clone(), counts)
            })
            .collect();
        report::event(&serde_json::json!({"event": "recap", "hosts": hosts}));
        return;
    }
    banner("PLAY RECAP", json);
    for (host, s) in stats {
        report::out(&format!(
            "{host:<26} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={:<4}",
            s.ok, s.changed, s.unreachable, s.failed, s.skipped, s.rescued, s.ignored
        ));
    }
    report::out("");
}

/// JSON as Python's `json.dumps(sort_keys=True)` writes it: `{"a": 1, "b": [1, 2]}`.
pub fn py_json(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}: {}", Value::String(k.clone()), py_json(&map[k])))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_json).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// JSON indented by four spaces with sorted keys, as Ansible prints `debug` results.
fn pretty(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    match serde::Serialize::serialize(&sorted(v), &mut ser) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_log_censors_items_and_results() {
        let mut outcome = crate::modules::Outcome::changed(true).with("stdout", "hunter2");
        outcome.result.insert("cmd".into(), "echo hunter2".into());
        let i = ItemResult {
            item: Some(serde_json::json!({"user": "bob", "password": "hunter2"})),
            label: None,
            outcome,
        };
        let (item, result) = shown(&i, true);
        let text = format!("{item:?} {result:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(item, Some(Value::String(CENSORED_ITEM.into())));
        assert_eq!(
            py_json(&Value::Object(result)),
            format!(r#"{{"censored": "{CENSORED}", "changed": true}}"#)
        );
        let (item, result) = shown(&i, false);
        assert!(item.is_some_and(|v| v["password"] == "hunter2"));
        assert_eq!(result["stdout"], "hunter2");
    }

    #[test]
    fn python_json() {
        let v = serde_json::json!({"msg": "x", "changed": false, "list": [1, "a"]});
        assert_eq!(
            py_json(&v),
            r#"{"changed": false, "list": [1, "a"], "msg": "x"}"#
        );
    }

    #[test]
    fn identical_diffs_group_by_host() {
        let diffs = [
            ("lb1", "d1".to_string()),
            ("web1", "d2".to_string()),
            ("lb2", "d1".to_string()),
            ("lb3", "d1".to_string()),
        ];
        assert_eq!(
            group(&diffs),
            vec![
                (vec!["lb1", "lb2", "lb3"], "d1".to_string()),
                (vec!["web1"], "d2".to_string())
            ]
        );
    }
}
