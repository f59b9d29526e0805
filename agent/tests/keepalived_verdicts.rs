//! `hactl-agent check` agrees with real keepalived 2.2.7 on every config in `configs/`, except
//! where it refuses on purpose.
//!
//! `configs/verdicts.json` holds keepalived's own verdicts (`keepalived -t -f FILE`, run by
//! `configs/regen.sh` in a network namespace that has the configs' interfaces). keepalived exits
//! 0 for a clean config and non-zero for anything it reports; `check` must do the same for
//! `valid/` and `invalid/`.
//!
//! `refused/` holds configs keepalived accepts (exit 0) that use a keyword changing failover or
//! the host which hactl-agent does not implement: `check` exits 1 on them, naming the keyword.
//! [`REFUSED_ON_PURPOSE`] lists each file with its keyword, so every such difference from
//! keepalived is written down here, one by one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs")
}

fn verdicts() -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(configs_dir().join("verdicts.json"))
        .expect("verdicts.json is committed beside regen.sh");
    let json: serde_json::Value = serde_json::from_str(&text).expect("verdicts.json is JSON");
    json["files"]
        .as_object()
        .expect("verdicts.json has a files map")
        .clone()
}

/// Configs keepalived 2.2.7 runs (exit 0) and hactl-agent refuses on purpose: the file in
/// `refused/` and the keyword the error must name. keepalived would act on each keyword
/// (routes, addresses, VMACs of other interfaces, firewall rules, FIFOs, LVS, BFD, other
/// timers...); the agent does not implement it, and ignoring it would leave the host silently
/// doing less.
const REFUSED_ON_PURPOSE: &[(&str, &str)] = &[
    ("bfd-instance.conf", "bfd_instance"),
    ("use-vmac-addr.conf", "use_vmac_addr"),
    ("virtual-server-group.conf", "virtual_server_group"),
    ("virtual-server.conf", "virtual_server"),
];

/// Every top-level `*.conf` in `valid/`, `invalid/` and `refused/` (included fragments live in
/// subfolders).
fn corpus() -> Vec<String> {
    let mut files = Vec::new();
    for kind in ["valid", "invalid", "refused"] {
        let dir = configs_dir().join(kind);
        for entry in std::fs::read_dir(&dir).expect("corpus folder exists") {
            let path = entry.expect("readable folder").path();
            if path.extension().is_some_and(|e| e == "conf") && path.is_file() {
                let name = path
                    .file_name()
                    .expect("a file name")
                    .to_string_lossy()
                    .into_owned();
                files.push(format!("{kind}/{name}"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_config_has_a_keepalived_verdict_matching_its_folder() {
    let verdicts = verdicts();
    let corpus = corpus();
    assert!(corpus.len() >= 25, "corpus has {} files", corpus.len());
    for file in &corpus {
        let verdict = verdicts
            .get(file)
            .unwrap_or_else(|| panic!("{file} has no verdict: run configs/regen.sh"));
        let code = verdict["exit_code"]
            .as_i64()
            .expect("exit_code is a number");
        assert_eq!(
            code == 0,
            !file.starts_with("invalid/"),
            "{file}: keepalived exited {code}; the file is in the wrong folder"
        );
    }
    assert_eq!(
        verdicts.len(),
        corpus.len(),
        "verdicts.json lists files that are gone"
    );
}

fn check(file: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hactl-agent"))
        .current_dir(configs_dir())
        .args(["check", "-f", file])
        .output()
        .expect("hactl-agent runs");
    let code = output.status.code().expect("hactl-agent exits normally");
    (code, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn refused_on_purpose_is_exactly_the_refused_folder() {
    let listed: Vec<String> = REFUSED_ON_PURPOSE
        .iter()
        .map(|(file, _)| format!("refused/{file}"))
        .collect();
    let folder: Vec<String> = corpus()
        .into_iter()
        .filter(|f| f.starts_with("refused/"))
        .collect();
    assert_eq!(listed, folder);
}

/// keepalived runs each of these; `check` refuses it, naming the keyword, the line and what
/// keepalived would have done.
#[test]
fn check_refuses_on_purpose_what_keepalived_would_act_on() {
    let mut mismatches = Vec::new();
    for (file, keyword) in REFUSED_ON_PURPOSE {
        let file = format!("refused/{file}");
        let (code, stderr) = check(&file);
        let line = std::fs::read_to_string(configs_dir().join(&file))
            .expect("readable")
            .lines()
            .position(|l| l.split_whitespace().next() == Some(keyword))
            .map(|i| i + 1)
            .expect("the keyword is in the file");
        let want = format!("{file}:{line}: error: keepalived would ");
        let names =
            format!("; hactl-agent does not support '{keyword}'; run keepalived on this host");
        if code != 1
            || !stderr
                .lines()
                .any(|l| l.starts_with(&want) && l.ends_with(&names))
        {
            mismatches.push(format!(
                "{file}: exit {code}, want 1 and `{want}...{names}`\n{stderr}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn check_exit_code_matches_keepalived() {
    let verdicts = verdicts();
    let mut mismatches = Vec::new();
    for file in corpus().into_iter().filter(|f| !f.starts_with("refused/")) {
        let keepalived = verdicts[&file]["exit_code"]
            .as_i64()
            .expect("exit_code is a number");
        let (ours, stderr) = check(&file);
        // keepalived's exit code 6 is its script security verdict; ours must name it too.
        if keepalived == 6 && !stderr.contains("SECURITY VIOLATION") {
            mismatches.push(format!(
                "{file}: keepalived found a script security violation\n{stderr}"
            ));
        }
        // Clean means clean for both; otherwise both complain (1 or 3 for the agent).
        if (ours == 0) != (keepalived == 0) {
            mismatches.push(format!(
                "{file}: keepalived exited {keepalived}, hactl-agent check exited {ours}\n{stderr}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn check_reports_file_and_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_hactl-agent"))
        .current_dir(configs_dir())
        .args(["check", "-f", "invalid/vrid-256.conf"])
        .output()
        .expect("hactl-agent runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid/vrid-256.conf:4: error: (VI_1): VRID '256' not valid"),
        "{stderr}"
    );
}

#[test]
fn check_of_a_missing_file_fails() {
    let output = Command::new(env!("CARGO_BIN_EXE_hactl-agent"))
        .args(["check", "-f", "/nonexistent/keepalived.conf"])
        .output()
        .expect("hactl-agent runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
}

/// `run` refuses the same configs before it touches the network.
#[test]
fn run_refuses_them_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("agent.sock");
    let output = Command::new(env!("CARGO_BIN_EXE_hactl-agent"))
        .current_dir(configs_dir())
        .args(["run", "-f", "refused/use-vmac-addr.conf", "--socket"])
        .arg(&socket)
        .output()
        .expect("hactl-agent runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "refused/use-vmac-addr.conf:6: error: keepalived would also create VMACs for the \
             VIPs on other interfaces and move those VIPs onto them; hactl-agent does not \
             support 'use_vmac_addr'; run keepalived on this host"
        ),
        "{stderr}"
    );
    assert!(!socket.exists(), "no status socket for a refused config");
}
