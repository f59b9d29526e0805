//! Runs `hactl inventory` on every case in tests/golden/inventory/ and compares with the
//! outputs the real `ansible-inventory` 2.19 produced (regenerate them with regen.sh there).
//! `--list` and `--host` are compared as parsed JSON, `--graph` as text.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/inventory")
}

struct Case {
    dir: PathBuf,
    sources: Vec<String>,
    hosts: Vec<String>,
    group: String,
    /// Folder to run in (ansible-inventory reads its group_vars/ too); default: an empty one.
    cwd: Option<PathBuf>,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("args").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let args = std::fs::read_to_string(dir.join("args")).expect("args");
        let lines: Vec<&str> = args.lines().collect();
        let words = |i: usize| -> Vec<String> {
            lines
                .get(i)
                .map(|l| l.split_whitespace().map(String::from).collect())
                .unwrap_or_default()
        };
        cases.push(Case {
            sources: words(0),
            hosts: words(1),
            group: words(2).first().cloned().unwrap_or_else(|| "all".into()),
            cwd: words(3).first().map(|d| dir.join(d)),
            dir,
        });
    }
    cases
}

fn hactl(case: &Case, extra: &[&str]) -> String {
    let mut cmd = Command::cargo_bin("hactl").expect("hactl binary");
    let empty = tempfile::tempdir().expect("tempdir");
    let cwd = case
        .cwd
        .clone()
        .unwrap_or_else(|| empty.path().to_path_buf());
    cmd.arg("inventory")
        .env_remove("HACTL_INVENTORY")
        .current_dir(cwd);
    for src in &case.sources {
        cmd.arg("-i").arg(case.dir.join(src));
    }
    let out = cmd.args(extra).output().expect("runs");
    assert!(
        out.status.success(),
        "{}: hactl inventory {extra:?} failed: {}",
        case.dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn json(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON: {e}\n{text}"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_golden_case_matches_ansible_inventory() {
    let cases = cases();
    assert!(
        cases.len() >= 15,
        "expected the whole corpus, found {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut checks = 0;
    for case in &cases {
        let name = case
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut check = |what: String, ok: bool, detail: String| {
            checks += 1;
            if !ok {
                failures.push(format!("{name} {what}:\n{detail}"));
            }
        };
        let want = json(&read(&case.dir.join("list.json")), "list.json");
        let got = json(&hactl(case, &["--list"]), "hactl --list");
        check(
            "--list".into(),
            want == got,
            format!("want {want:#}\ngot  {got:#}"),
        );
        for (file, args) in [
            ("graph.txt", vec!["--graph"]),
            ("graph_vars.txt", vec!["--graph", "--vars"]),
            ("graph_group.txt", vec!["--graph", case.group.as_str()]),
        ] {
            let want = read(&case.dir.join(file));
            let got = hactl(case, &args);
            check(
                format!("{args:?}"),
                want.trim_end() == got.trim_end(),
                format!("want\n{want}\ngot\n{got}"),
            );
        }
        for host in &case.hosts {
            let want = json(
                &read(&case.dir.join(format!("host_{host}.json"))),
                "host json",
            );
            let got = json(&hactl(case, &["--host", host]), "hactl --host");
            check(
                format!("--host {host}"),
                want == got,
                format!("want {want:#}\ngot  {got:#}"),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checks} checks differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// `-i` is optional: `HACTL_INVENTORY`, then `./inventory.ini`, then `./inventory/`.
#[test]
fn inventory_source_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |env: Option<&Path>| {
        let mut cmd = Command::cargo_bin("hactl").expect("bin");
        cmd.args(["inventory", "--graph"])
            .current_dir(dir.path())
            .env_remove("HACTL_INVENTORY");
        if let Some(p) = env {
            cmd.env("HACTL_INVENTORY", p);
        }
        let out = cmd.output().expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, _) = run(None);
    assert_eq!(code, Some(1), "no inventory anywhere is an error");
    std::fs::create_dir(dir.path().join("inventory")).expect("mkdir");
    std::fs::write(dir.path().join("inventory/hosts"), "[from_dir]\nd1\n").expect("write");
    assert!(run(None).1.contains("@from_dir:"));
    std::fs::write(dir.path().join("inventory.ini"), "[from_ini]\ni1\n").expect("write");
    assert!(run(None).1.contains("@from_ini:"));
    let env_inv = dir.path().join("env.ini");
    std::fs::write(&env_inv, "[from_env]\ne1\n").expect("write");
    assert!(run(Some(&env_inv)).1.contains("@from_env:"));
}
