//! The corpus roles whose templates need what only the hosts can tell (a registered `haproxy
//! -v`, a registered `stat`), which `hactl render` refuses offline (tests/corpus_render.rs),
//! compared the way their goldens were made: tests/corpus/regen.sh runs `ansible-playbook
//! --check --diff` against a real two-host fleet; this runs `hactl apply --check --diff` against
//! a fresh fleet set up the same way (the packages of tests/corpus/<role>/packages installed),
//! rebuilds each file a task would write from the host's current file and the diff, and
//! compares it byte for byte with the golden.
//!
//! One difference in the inputs: regen.sh hands ansible the facts of tests/corpus/facts/ from a
//! fact cache with `gather_facts: false`; hactl has no fact cache, so its copy of the play
//! gathers facts from the hosts (same names, addresses and system, as those facts were
//! gathered from such a fleet).
//!
//! Needs root and the fleet tools (tests/fleet); takes about a minute.

#![allow(clippy::print_stderr)] // the per-role report is the output

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::corpus::{
    cache_dir, corpus_dir, download_debs, extra_roles, files, play_dir, provide_extra,
};
use common::fleet::Fleet;

/// The roles compared here: those tests/corpus_render.rs lists as needing a host's result.
const ROLES: &[&str] = &["geerlingguy.haproxy", "hifis-net.keepalived"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `old` with the unified diff `diff` applied (hunks in order, as `diff -u` writes them).
fn apply_diff(old: &str, diff: &str) -> Result<String, String> {
    let old: Vec<&str> = old.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut at = 0; // next line of `old` to copy
    let mut last_added = false;
    for line in diff.lines() {
        if line.starts_with("--- ") || line.starts_with("+++ ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("@@ -") {
            let old_range = rest.split(' ').next().unwrap_or_default();
            let (start, count) = old_range.split_once(',').unwrap_or((old_range, "1"));
            let (Ok(start), Ok(count)) = (start.parse::<usize>(), count.parse::<usize>()) else {
                return Err(format!("bad hunk header {line:?}"));
            };
            // `-N,M`: from line N (1-based); `-N,0`: nothing removed, lines go after line N.
            let from = if count == 0 { start } else { start - 1 }.max(at);
            out.extend(old.get(at..from).unwrap_or_default().iter().copied());
            at = from;
            continue;
        }
        if line == r"\ No newline at end of file" {
            if last_added && out.ends_with('\n') {
                out.pop();
            }
            continue;
        }
        let (tag, text) = line.split_at(line.len().min(1));
        match tag {
            " " | "-" => {
                let have = old
                    .get(at)
                    .ok_or(format!("diff goes past the file: {line:?}"))?;
                if have.trim_end_matches('\n') != text {
                    return Err(format!("diff context {text:?} is {have:?} on the host"));
                }
                if tag == " " {
                    out.push_str(have);
                }
                at += 1;
                last_added = false;
            }
            "+" => {
                out.push_str(text);
                out.push('\n');
                last_added = true;
            }
            _ => return Err(format!("unexpected diff line {line:?}")),
        }
    }
    out.extend(old.get(at..).unwrap_or_default().iter().copied());
    Ok(out)
}

/// Runs the role's play with `hactl apply --check --diff` on `fleet` and compares the files
/// it would write with the goldens: `Ok(n)` files identical, else what differs.
fn check_role(fleet: &Fleet, role: &str, roles_path: &str) -> Result<usize, String> {
    let play = play_dir(role, &[]);
    let run = fleet
        .ctl("timeout")
        .arg("300")
        .arg(env!("CARGO_BIN_EXE_hactl"))
        .current_dir(play.path())
        .args(["apply", "inventory.ini", "site.yml", "-u", "root"])
        .args(["--check", "--diff", "--show-secrets", "--json"])
        .arg("--ssh-common-args")
        .arg(format!("-F {}", fleet.ssh_config().display()))
        .env("HACTL_ROLES_PATH", roles_path)
        .env("ANSIBLE_COLLECTIONS_PATH", cache_dir().join("collections"))
        .output()
        .expect("run hactl");
    let stdout = String::from_utf8_lossy(&run.stdout);
    if !run.status.success() {
        return Err(format!(
            "hactl apply --check exit {:?}: {}",
            run.status.code(),
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    // The diff of every file each host would get, by (host, path).
    let mut diffs: BTreeMap<(String, String), String> = BTreeMap::new();
    for line in stdout.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(host), Some(diff)) = (event["host"].as_str(), event["diff"].as_str()) else {
            continue;
        };
        let Some(path) = diff
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("--- before: "))
        else {
            continue;
        };
        diffs.insert((host.to_string(), path.to_string()), diff.to_string());
    }
    let golden = root().join("tests/golden/corpus").join(role);
    let mut compared = 0;
    for host in ["node1", "node2"] {
        for file in files(&golden.join(host)) {
            let path = format!("/{}", file.display());
            let diff = diffs
                .get(&(host.to_string(), path.clone()))
                .ok_or(format!("{host}: hactl shows no change for {path}"))?;
            let current = fleet.ssh(host, &format!("cat {path} 2>/dev/null || true"));
            let current = String::from_utf8_lossy(&current.stdout);
            let ours = apply_diff(&current, diff).map_err(|e| format!("{host}:{path}: {e}"))?;
            let theirs =
                std::fs::read_to_string(golden.join(host).join(&file)).expect("read golden");
            if ours != theirs {
                let line = ours
                    .lines()
                    .zip(theirs.lines())
                    .position(|(a, b)| a != b)
                    .map_or("the end".to_string(), |n| format!("line {}", n + 1));
                return Err(format!("{host}:{path} differs from ansible's at {line}"));
            }
            compared += 1;
        }
    }
    Ok(compared)
}

#[test]
fn diffs_apply_as_patch_does() {
    let old = "a\nb\nc\nd\n";
    let diff = "--- before: /f\n+++ after: /f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n";
    assert_eq!(apply_diff(old, diff).expect("applies"), "a\nB\nc\nd\n");
    let new = "--- before: /f\n+++ after: /f\n@@ -0,0 +1,2 @@\n+x\n+y\n";
    assert_eq!(apply_diff("", new).expect("applies"), "x\ny\n");
    let no_eol = "@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n";
    assert_eq!(apply_diff("", no_eol).expect("applies"), "x");
    let far = "@@ -3,2 +3,2 @@\n c\n-d\n+D\n";
    assert_eq!(apply_diff(old, far).expect("applies"), "a\nb\nc\nD\n");
    assert!(apply_diff(old, "@@ -1,1 +1,1 @@\n-z\n+y\n").is_err());
}

#[test]
fn roles_needing_host_results_check_as_ansible_does() {
    let Some(corpus) = corpus_dir() else {
        eprintln!("SKIPPED: the role corpus (shared/corpus) is not here; set HACTL_CORPUS");
        return;
    };
    common::fleet::require();
    let extras = tempfile::tempdir().expect("tmp");
    // An extra role that cannot be found here (no fetch mirror, no HACTL_EXTRA_ROLES) is
    // skipped with a message, as corpus_render does; the others still run.
    let mut roles: Vec<&str> = ROLES.to_vec();
    for e in extra_roles() {
        if ROLES.contains(&e.name.as_str()) {
            if let Err(why) = provide_extra(&e, extras.path()) {
                eprintln!("SKIPPED: {}: {why}", e.name);
                roles.retain(|r| *r != e.name);
            }
        }
    }
    if roles.is_empty() {
        return;
    }
    let roles_path = std::env::join_paths([corpus.as_path(), extras.path()])
        .expect("roles path")
        .to_string_lossy()
        .into_owned();
    let fleet = Fleet::up(&["node1", "node2"]);
    // The roles' packages, as regen.sh installs them: downloaded here (nothing is installed on
    // this machine), installed on the hosts from the apt cache their overlay shares.
    for role in &roles {
        let Ok(list) =
            std::fs::read_to_string(root().join("tests/corpus").join(role).join("packages"))
        else {
            continue;
        };
        let pkgs: Vec<&str> = list.split_whitespace().collect();
        download_debs(&pkgs).unwrap_or_else(|e| panic!("{e}"));
        for host in ["node1", "node2"] {
            let cmd = format!(
                "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download {}",
                pkgs.join(" ")
            );
            let out = fleet.ssh(host, &cmd);
            assert!(out.status.success(), "{host}: {cmd} failed");
        }
    }
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for role in &roles {
        match check_role(&fleet, role, &roles_path) {
            Ok(n) => report.push(format!("{role}: identical ({n} files)")),
            Err(e) => {
                report.push(format!("{role}: {e}"));
                wrong.push(format!("{role}: {e}"));
            }
        }
    }
    eprintln!("corpus check report:\n  {}", report.join("\n  "));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
