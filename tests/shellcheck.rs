//! Every script hactl sends to hosts passes `shellcheck -s sh` (tests/shellcheck.sh, which CI
//! also calls). Scripts live in `.sh` files loaded with `include_str!`, so the glob there
//! covers a new one without listing it.

use std::path::Path;
use std::process::Command;

#[test]
fn every_host_script_passes_shellcheck() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("sh")
        .arg(root.join("tests/shellcheck.sh"))
        .output()
        .expect("run tests/shellcheck.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "shellcheck findings:\n{text}");
    // The glob found the scripts (an empty or wrong glob would pass vacuously).
    let count: usize = text
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(count >= 30, "{text}");
}

/// The settings used catch what they should: an unquoted expansion is a finding.
#[test]
fn shellcheck_reports_a_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.sh");
    std::fs::write(&bad, "# shellcheck shell=sh\nx=$1\nrm $x\n").expect("write");
    let out = Command::new("shellcheck")
        .args(["-s", "sh", "-S", "style", "-f", "gcc"])
        .arg(&bad)
        .output()
        .expect("shellcheck is installed");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("SC2086"));
}
