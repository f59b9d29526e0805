//! `sysctl` (ansible.posix): a kernel parameter's entry in `sysctl_file` (default
//! `/etc/sysctl.conf`), set in the running kernel with `sysctl -w` (`sysctl_set`) and the file
//! reloaded with `sysctl -p FILE` (`reload`, the default), as ansible.posix's module decides:
//! the file's current value and the kernel's (`sysctl -e -n NAME`, compared word by word) are
//! read in one round trip; the file is rewritten (every line stripped, a key's later
//! duplicates dropped) only when the entry changes, through `file_put`. Only `changed` is
//! returned, as in Ansible.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::ArgError;
use super::args::Args;
use super::blockinfile::put_options;
use super::edit::{self, assign, flag};
use super::file_put::{self, PutOptions};
use super::protocol::{self, field_b64};
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{Outcome, Status, Step};

const PARAMS: &[&str] = &[
    "name",
    "key",
    "value",
    "val",
    "state",
    "reload",
    "sysctl_set",
    "ignoreerrors",
    "sysctl_file",
    "owner",
    "group",
    "mode",
    "unsafe_writes",
    "attributes",
    "attr",
    "selevel",
    "serole",
    "setype",
    "seuser",
];

/// Reads the kernel's value (`proc_b64`, absent when `sysctl` fails) and the file (after a
/// `hactl:file` line, when it is a regular file).
const READ_SH: &str = include_str!("sysctl_read.sh");

/// `sysctl -w NAME=VALUE` (`what=set`) or `sysctl -p FILE` (`what=reload`), failing on
/// the errors ansible.posix looks for on stderr even when sysctl exits 0.
const APPLY_SH: &str = include_str!("sysctl_apply.sh");

#[derive(Debug, Clone, Default)]
pub struct Params {
    pub name: String,
    pub value: String,
    pub present: bool,
    pub reload: bool,
    pub sysctl_set: bool,
    pub ignoreerrors: bool,
    pub file: String,
    pub put: PutOptions,
}

/// ansible.posix's `_parse_value`: booleans are `1`/`0`, other strings stripped.
fn parse_value(v: &Value) -> String {
    match v {
        Value::Bool(true) => "1".into(),
        Value::Bool(false) => "0".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => match s.to_lowercase().as_str() {
            "y" | "yes" | "on" | "1" | "true" | "t" | "1.0" => "1".into(),
            "n" | "no" | "off" | "0" | "false" | "f" | "0.0" => "0".into(),
            _ => s.trim().to_string(),
        },
        _ => String::new(),
    }
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("sysctl", args, PARAMS)?;
    let name = a.required(&["name", "key"])?.trim().to_string();
    let state = a
        .choice("state", &["present", "absent"])?
        .unwrap_or_else(|| "present".into());
    let raw = ["value", "val"]
        .iter()
        .find_map(|k| args.get(*k).filter(|v| !v.is_null()));
    if state == "present" && raw.is_none() {
        return Err(ArgError(
            "state is present but all of the following are missing: value".into(),
        ));
    }
    if name.is_empty() {
        return Err(ArgError("name cannot be blank".into()));
    }
    if name.starts_with('-') || name.contains(['=', ' ', '\n']) {
        return Err(ArgError(format!("name is not a sysctl key: {name}")));
    }
    let value = raw.map(parse_value).unwrap_or_default();
    if state == "present" && value.is_empty() {
        return Err(ArgError("value cannot be blank".into()));
    }
    let file = a
        .str(&["sysctl_file"])?
        .unwrap_or_else(|| "/etc/sysctl.conf".into());
    Ok(Params {
        value,
        present: state == "present",
        reload: a.bool(&["reload"])?.unwrap_or(true),
        sysctl_set: a.bool(&["sysctl_set"])?.unwrap_or(false),
        ignoreerrors: a.bool(&["ignoreerrors"])?.unwrap_or(false),
        put: put_options(&a, &file)?,
        file,
        name,
    })
}

/// What to do, from the kernel's value and the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub changed: bool,
    pub set_proc: bool,
    pub write_file: bool,
    /// The file as ansible.posix rewrites it.
    pub fixed: String,
}

fn same_words(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.split_whitespace().eq(b.split_whitespace()))
}

pub fn decide(p: &Params, proc_value: Option<&str>, file: Option<&str>) -> Plan {
    let lines: Vec<&str> = file
        .map(|f| f.split_inclusive('\n').map(str::trim).collect())
        .unwrap_or_default();
    let entry = |l: &str| -> Option<(String, String)> {
        if l.is_empty() || l.starts_with(['#', ';']) || !l.contains('=') {
            return None;
        }
        let (k, v) = l.split_once('=')?;
        Some((k.trim().to_string(), v.trim().to_string()))
    };
    // The last occurrence wins when reading (a dict), the first when rewriting.
    let file_value = lines
        .iter()
        .filter_map(|l| entry(l))
        .filter(|(k, _)| *k == p.name)
        .map(|(_, v)| v)
        .next_back();
    let mut fixed = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for l in &lines {
        let Some((k, v)) = entry(l) else {
            fixed.push(l.to_string());
            continue;
        };
        if seen.contains(&k) {
            continue;
        }
        seen.push(k.clone());
        if k == p.name {
            if p.present {
                fixed.push(format!("{k}={}", p.value));
            }
        } else {
            fixed.push(format!("{k}={v}"));
        }
    }
    if !seen.contains(&p.name) && p.present {
        fixed.push(format!("{}={}", p.name, p.value));
    }
    let (mut changed, mut set_proc, mut write_file) = (false, false, false);
    match (&file_value, p.present) {
        (None, true) => (changed, write_file) = (true, true),
        (None, false) => {}
        // An empty value is falsy in Python: `file_values[name] and state == absent`.
        (Some(v), false) if !v.is_empty() => (changed, write_file) = (true, true),
        (Some(v), _) if *v != p.value => (changed, write_file) = (true, true),
        _ if p.reload => changed = !same_words(proc_value, &p.value),
        _ => {}
    }
    if p.sysctl_set && p.present {
        if proc_value.is_none() {
            changed = true;
        } else if !same_words(proc_value, &p.value) {
            changed = true;
            set_proc = true;
        }
    }
    let fixed = fixed.iter().map(|l| format!("{}\n", l.trim())).collect();
    Plan {
        changed,
        set_proc,
        write_file,
        fixed,
    }
}

#[derive(Debug)]
pub struct Sysctl;

static SPEC: Spec = Spec {
    name: "sysctl",
    aliases: &["ansible.posix.sysctl"],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "a kernel parameter in sysctl.conf and the running kernel",
};

impl Module for Sysctl {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

async fn apply(cx: &Cx<'_>, p: &Params, what: &str) -> Result<Option<Outcome>, Unreachable> {
    let script = assign(
        &[
            ("what", what),
            ("name", &p.name),
            ("value", &p.value),
            ("file", &p.file),
            ("ignore", flag(p.ignoreerrors)),
        ],
        APPLY_SH,
    );
    match cx.exec(&script, b"").await? {
        Some(out) if !out.success() => Ok(Some(protocol::failed_from(&out, "sysctl failed"))),
        _ => Ok(None),
    }
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let mut p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let script = assign(&[("name", &p.name), ("file", &p.file)], READ_SH);
    let Some(out) = cx.exec(&script, b"").await? else {
        return Ok(Outcome::offline(cx.module));
    };
    if !out.success() {
        return Ok(protocol::failed_from(
            &out,
            &format!("Failed to open {}", p.file),
        ));
    }
    let fields = protocol::fields(&out.stdout);
    let proc_value = field_b64(&fields, "proc_b64");
    let marker = b"hactl:file\n";
    let file = out
        .stdout
        .windows(marker.len())
        .position(|w| w == marker)
        .map(|at| String::from_utf8_lossy(&out.stdout[at + marker.len()..]).into_owned());
    if let Some(real) = field_b64(&fields, "real_b64") {
        let real = real.trim_end_matches('\n');
        if !real.is_empty() {
            p.put.dest = real.to_string();
        }
    }
    let plan = decide(&p, proc_value.as_deref(), file.as_deref());
    let mut changed = plan.changed;
    // Owner, group and mode of the file, compared (and in check mode only reported).
    let attrs = p.put.mode.is_some() || p.put.owner.is_some() || p.put.group.is_some();
    if attrs && file.is_some() && !plan.write_file {
        let current = file.clone().unwrap_or_default().into_bytes();
        if let Step::Remote(r) = file_put::plan(current, &p.put, cx.mode) {
            let o = cx.step(Step::Remote(r)).await?;
            if o.status == Status::Failed {
                return Ok(o);
            }
            changed |= o.status == Status::Changed;
        }
    }
    if !cx.mode.check {
        if plan.set_proc {
            if let Some(failed) = apply(cx, &p, "set").await? {
                return Ok(failed);
            }
        }
        if plan.write_file {
            let o = edit::write(cx, &p.put, file.is_some(), plan.fixed.into_bytes(), true).await?;
            if o.status == Status::Failed {
                return Ok(o);
            }
        }
        if changed && p.reload {
            if let Some(failed) = apply(cx, &p, "reload").await? {
                return Ok(failed);
            }
        }
    }
    Ok(Outcome::changed(changed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Params {
        params(v.as_object().expect("map")).expect("params")
    }

    #[test]
    fn adds_an_entry_and_rewrites_the_file_as_ansible() {
        let file = "# comment\n  net.a = 1 \nnet.b=2\nnet.a=3\n";
        let plan = decide(
            &p(json!({"name": "net.b", "value": "5"})),
            Some("2\n"),
            Some(file),
        );
        assert!(plan.changed && plan.write_file && !plan.set_proc);
        assert_eq!(plan.fixed, "# comment\nnet.a=1\nnet.b=5\n");
        let plan = decide(
            &p(json!({"name": "net.c", "value": true})),
            None,
            Some(file),
        );
        assert_eq!(plan.fixed, "# comment\nnet.a=1\nnet.b=2\nnet.c=1\n");
    }

    #[test]
    fn the_kernel_value_decides_with_reload_and_sysctl_set() {
        let file = "net.b=2\n";
        // File right, kernel right: nothing.
        let plan = decide(
            &p(json!({"name": "net.b", "value": "2"})),
            Some("2\n"),
            Some(file),
        );
        assert!(!plan.changed);
        // File right, kernel wrong, reload: changed (sysctl -p).
        let plan = decide(
            &p(json!({"name": "net.b", "value": "2"})),
            Some("0\n"),
            Some(file),
        );
        assert!(plan.changed && !plan.write_file);
        // Word by word: tabs and spaces do not matter.
        let plan = decide(
            &p(json!({"name": "net.r", "value": "4096 87380  6291456"})),
            Some("4096\t87380\t6291456\n"),
            Some("net.r=4096 87380  6291456\n"),
        );
        assert!(!plan.changed);
        let plan = decide(
            &p(json!({"name": "net.b", "value": "2", "reload": false, "sysctl_set": true})),
            Some("0\n"),
            Some(file),
        );
        assert!(plan.changed && plan.set_proc && !plan.write_file);
    }

    #[test]
    fn absent_removes_the_entry() {
        let plan = decide(
            &p(json!({"name": "net.b", "state": "absent"})),
            Some("2\n"),
            Some("net.a=1\nnet.b=2\n"),
        );
        assert!(plan.changed && plan.write_file);
        assert_eq!(plan.fixed, "net.a=1\n");
        let plan = decide(
            &p(json!({"name": "net.x", "state": "absent"})),
            None,
            Some("net.a=1\n"),
        );
        assert!(!plan.changed);
    }

    #[test]
    fn arguments_as_ansible_checks_them() {
        let err = params(json!({"name": "net.b"}).as_object().expect("map")).expect_err("value");
        assert!(err.0.contains("value"), "{err}");
        assert_eq!(p(json!({"key": " net.b ", "val": "no"})).value, "0");
        assert_eq!(p(json!({"name": "net.b", "value": 1})).name, "net.b");
    }

    use crate::modules::testutil::Host;

    #[test]
    fn scripts_read_the_kernel_and_fail_on_sysctls_stderr() {
        let host = Host::new();
        host.recording(
            "sysctl",
            r#"case "$*" in
  *-n*) echo 4096; exit 0 ;;
  *-w*) echo 'sysctl: setting key "net.x": Invalid argument' >&2; exit 0 ;;
  *-p*) exit 0 ;;
esac"#,
        );
        std::fs::write(host.path("s.conf"), "net.x=1\n").expect("write");
        let read = assign(&[("name", "net.x"), ("file", "s.conf")], READ_SH);
        let out = host.exec(&read, b"");
        let fields = protocol::fields(&out.stdout);
        assert_eq!(field_b64(&fields, "proc_b64").as_deref(), Some("4096\n"));
        assert!(String::from_utf8_lossy(&out.stdout).ends_with("hactl:file\nnet.x=1\n"));
        let p = p(json!({"name": "net.x", "value": "2", "sysctl_file": "s.conf"}));
        let set = assign(
            &[
                ("what", "set"),
                ("name", &p.name),
                ("value", &p.value),
                ("file", &p.file),
                ("ignore", "1"),
            ],
            APPLY_SH,
        );
        let out = host.exec(&set, b"");
        assert_eq!(out.code, Some(3), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .starts_with("setting net.x failed: sysctl: setting key")
        );
        assert_eq!(host.calls("sysctl")[1], vec!["-e", "-w", "net.x=2"]);
        let reload = assign(
            &[
                ("what", "reload"),
                ("name", "net.x"),
                ("value", "2"),
                ("file", "s.conf"),
                ("ignore", "0"),
            ],
            APPLY_SH,
        );
        assert!(host.exec(&reload, b"").success());
        assert_eq!(host.calls("sysctl")[2], vec!["-p", "s.conf"]);
    }
}
