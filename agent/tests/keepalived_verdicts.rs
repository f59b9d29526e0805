//! `hactl-agent check` agrees with real keepalived 2.2.7 on every config in `configs/`.
//!
//! `configs/verdicts.json` holds keepalived's own verdicts (`keepalived -t -f FILE`, run by
//! `configs/regen.sh` in a network namespace that has the configs' interfaces). keepalived exits
//! 0 for a clean config and non-zero for anything it reports; `check` must do the same.

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

/// Every top-level `*.conf` in `valid/` and `invalid/` (included fragments live in subfolders).
fn corpus() -> Vec<String> {
    let mut files = Vec::new();
    for kind in ["valid", "invalid"] {
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
            file.starts_with("valid/"),
            "{file}: keepalived exited {code}; the file is in the wrong folder"
        );
    }
    assert_eq!(
        verdicts.len(),
        corpus.len(),
        "verdicts.json lists files that are gone"
    );
}

#[test]
fn check_exit_code_matches_keepalived() {
    let verdicts = verdicts();
    let mut mismatches = Vec::new();
    for file in corpus() {
        let keepalived = verdicts[&file]["exit_code"]
            .as_i64()
            .expect("exit_code is a number");
        let output = Command::new(env!("CARGO_BIN_EXE_hactl-agent"))
            .current_dir(configs_dir())
            .args(["check", "-f", &file])
            .output()
            .expect("hactl-agent runs");
        let ours = output.status.code().expect("hactl-agent exits normally");
        let stderr = String::from_utf8_lossy(&output.stderr);
        // keepalived's exit code 6 is its script security verdict; ours must name it too.
        if keepalived == 6 && !stderr.contains("SECURITY VIOLATION") {
            mismatches.push(format!(
                "{file}: keepalived found a script security violation\n{stderr}"
            ));
        }
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
