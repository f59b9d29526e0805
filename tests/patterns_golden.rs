//! `hactl run PATTERN --list-hosts` against the real `ansible PATTERN --list-hosts`.
//!
//! Cases and inventories live in tests/golden/patterns/; expected.json holds what ansible-core 2.19
//! printed for each (regen.sh makes it). Runs end to end: the INI parser (`inventory::load`),
//! then `inventory::pattern`, then `commands::run`.
//!
//! Compared: exit code, stdout byte for byte (any of the host orders Ansible printed, see
//! regen.sh), and stderr line by line, where Ansible's `[ERROR]: ` prefix is read as hactl's
//! `ERROR: ` and the loader's "Found both group and host" warning is left out.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

#[derive(Debug)]
struct Case {
    inventory: String,
    pattern: String,
    limit: Option<String>,
    strict: bool,
    exit_code: i32,
    stdout: Vec<String>,
    stderr: String,
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn cases(dir: &Path) -> Vec<Case> {
    let json = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let all: Vec<Value> = serde_json::from_str(&json).expect("expected.json is a JSON list");
    all.iter()
        .map(|v| Case {
            inventory: text(v, "inventory"),
            pattern: text(v, "pattern"),
            limit: v["limit"].as_str().map(str::to_string),
            strict: v["strict"].as_bool().unwrap_or(false),
            exit_code: v["exit_code"]
                .as_i64()
                .and_then(|c| i32::try_from(c).ok())
                .unwrap_or(-1),
            stdout: v["stdout"]
                .as_array()
                .map(|outs| {
                    outs.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            stderr: text(v, "stderr"),
        })
        .collect()
}

/// A warning that comes from reading the inventory, not from patterns: the inventory loader's
/// own golden tests own it (hactl's loader does not print it yet), so it is left out on both sides.
const LOADER_WARNING: &str = "[WARNING]: Found both group and host with same name: ";

/// Stderr lines to compare: without loader warnings, `[ERROR]: ` spelled as hactl spells it.
fn stderr_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| !l.starts_with(LOADER_WARNING))
        .map(|l| {
            l.strip_prefix("[ERROR]: ")
                .map_or(l.to_string(), |m| format!("ERROR: {m}"))
        })
        .collect()
}

#[test]
fn list_hosts_matches_ansible() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/patterns");
    let cases = cases(&dir);
    assert!(cases.len() >= 40, "expected.json has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let mut cmd = Command::cargo_bin("hactl").expect("hactl binary");
        cmd.current_dir(&dir).env_remove("HACTL_INVENTORY");
        cmd.args(["run", "--list-hosts", "-i", &case.inventory]);
        if let Some(limit) = &case.limit {
            cmd.arg(format!("--limit={limit}"));
        }
        if case.strict {
            cmd.arg("--strict");
        }
        // After `--`, a pattern such as `!prod` or `-x` is never read as an option.
        cmd.arg("--").arg(&case.pattern);
        let out = cmd.output().expect("run hactl");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(str::to_string)
            .collect();
        let code = out.status.code().unwrap_or(-1);
        let want_stderr = stderr_lines(&case.stderr);
        if code != case.exit_code || !case.stdout.contains(&stdout) || stderr != want_stderr {
            failures.push(format!(
                "{} {:?} limit={:?} strict={}:\n  exit {code} (ansible {})\n  stdout {stdout:?}\n  \
                 ansible {:?}\n  stderr {stderr:?}\n  ansible {want_stderr:?}",
                case.inventory, case.pattern, case.limit, case.strict, case.exit_code, case.stdout,
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        { failures.join("\n") }
    );
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

/// `pattern::select` against Ansible's InventoryManager on 600 random patterns and limits: the
/// same hosts in the same order and the same warnings, or the same error.
#[test]
fn select_matches_inventory_manager() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/patterns");
    let json = std::fs::read_to_string(dir.join("evaluated.json")).expect("evaluated.json");
    let cases: Vec<Value> = serde_json::from_str(&json).expect("evaluated.json is a JSON list");
    assert!(
        cases.len() >= 500,
        "evaluated.json has {} cases",
        cases.len()
    );
    let mut inventories = std::collections::HashMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let file = text(case, "inventory");
        let inv = inventories.entry(file.clone()).or_insert_with(|| {
            hactl::inventory::load(&[dir.join(&file)])
                .expect("golden inventory loads")
                .inventory
        });
        let (pattern, limit) = (text(case, "pattern"), case["limit"].as_str());
        let want = match case["error"].as_str() {
            Some(err) => Err(err.to_string()),
            None => Ok((
                strings(&case["hosts"]).unwrap_or_default(),
                strings(&case["warnings"]).unwrap_or_default(),
            )),
        };
        let got = hactl::inventory::pattern::select(inv, &pattern, limit)
            .map(|s| (s.hosts, s.warnings))
            .map_err(|e| e.to_string());
        if got != want {
            failures.push(format!(
                "{file} {pattern:?} limit={limit:?}\n  got  {got:?}\n  want {want:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        { failures.join("\n") }
    );
}

/// Term splitting and glob matching against Python's answers (split_host_pattern, fnmatch).
#[test]
fn syntax_matches_python() {
    use hactl::inventory::pattern::{Glob, split_host_pattern};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/patterns");
    let json = std::fs::read_to_string(dir.join("syntax.json")).expect("syntax.json");
    let syntax: Value = serde_json::from_str(&json).expect("syntax.json is JSON");
    let pairs = |key: &str| -> Vec<(String, Vec<String>)> {
        let items = syntax[key].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .map(|pair| {
                let first = pair[0].as_str().unwrap_or_default().to_string();
                (first, strings(&pair[1]).unwrap_or_default())
            })
            .collect()
    };
    let names = strings(&syntax["names"]).unwrap_or_default();
    let mut failures = Vec::new();
    let splits = pairs("split");
    for (pattern, want) in &splits {
        let got = split_host_pattern(pattern);
        if &got != want {
            failures.push(format!("split {pattern:?}: got {got:?}, want {want:?}"));
        }
    }
    let globs = pairs("glob");
    for (glob, want) in &globs {
        let compiled = Glob::new(glob);
        let got: Vec<String> = names
            .iter()
            .filter(|n| compiled.matches(n))
            .cloned()
            .collect();
        if &got != want {
            failures.push(format!("glob {glob:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(
        splits.len() > 1000 && globs.len() > 1000,
        "syntax.json is short"
    );
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
