//! The file modules against ansible-core 2.19 on the local connection (no root, no fleet):
//! `tests/modules/files.yml` (stat, slurp, fetch, blockinfile, replace, cron with a fake
//! `crontab`, wait_for, pause, find, tempfile; idempotence runs included) runs with `hactl apply` and with
//! `ansible-playbook`, each in its own sandbox; both must leave the same files, give the same
//! recap, and register the same results (every key ansible-core returns, minus times, inode
//! numbers and what differs between two sandboxes).
//!
//! Without ansible-core (`/opt/ansible-venv`) the test says so and is skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::local::Sandbox;
use serde_json::Value;

const ANSIBLE: &str = "/opt/ansible-venv/bin/ansible-playbook";

/// A `crontab` keeping the table in `$CRONTAB_STORE` (the machine has no cron).
const FAKE_CRONTAB: &str = r#"#!/bin/sh
store="$CRONTAB_STORE"
for a in "$@"; do last=$a; done
if [ "$last" = -l ]; then [ -f "$store" ] || { echo "no crontab" >&2; exit 1; }; cat "$store"; exit 0; fi
if [ "$last" = - ]; then cat >"$store"; else cp "$last" "$store"; fi
"#;

/// Keys that differ between two runs or two sandboxes whatever the tool.
const VOLATILE: &[&str] = &[
    "invocation",
    "diff",
    "warnings",
    "start",
    "stop",
    "delta",
    "elapsed",
    "atime",
    "ctime",
    "mtime",
    "inode",
    "dev",
    "version",
    // ansible-core adds `failed: false` to every registered result and `exception` to a
    // failed one; hactl's engine does neither (not a module's doing).
    "failed",
    "exception",
    // pause's `Paused for 1.01 seconds`: checked on its own below.
    "stdout",
];

fn run(ansible: bool) -> (Output, PathBuf, tempfile::TempDir) {
    let sb = Sandbox::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/modules/files.yml");
    sb.write(
        "play/files.yml",
        &std::fs::read_to_string(src).expect("playbook"),
    );
    sb.write(
        "play/hosts.ini",
        "[all]\nh1\n\n[all:vars]\nansible_connection=local\n\
         ansible_python_interpreter=/usr/bin/python3\n",
    );
    sb.write("bin/crontab", FAKE_CRONTAB);
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            sb.path("bin/crontab"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }
    let out = sb.out();
    let extra = format!("out={}", out.display());
    let mut cmd = if ansible {
        sb.program(ANSIBLE, &["-i", "hosts.ini", "files.yml", "-e", &extra])
    } else {
        sb.program(
            env!("CARGO_BIN_EXE_hactl"),
            &["apply", "hosts.ini", "files.yml", "-e", &extra],
        )
    };
    let tmp = sb.path("home/.ansible/tmp");
    let path = format!(
        "{}:{}",
        sb.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.current_dir(sb.path("play"))
        .env("PATH", path)
        .env("CRONTAB_STORE", out.join("crontab"))
        .env("ANSIBLE_REMOTE_TMP", &tmp)
        .env("ANSIBLE_LOCAL_TEMP", &tmp)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_LOCALHOST_WARNING", "0")
        .env("ANSIBLE_DEPRECATION_WARNINGS", "0");
    let output = cmd.output().expect("run");
    // The sandbox's TempDir keeps the files until the comparison is done.
    let dir = tempfile::tempdir().expect("tmp");
    let keep = dir.path().join("out");
    copy_tree(&out, &keep);
    (output, keep, dir)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        let meta = std::fs::symlink_metadata(e.path()).expect("stat");
        if meta.is_dir() {
            copy_tree(&e.path(), &dest);
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(e.path()).expect("readlink");
            std::os::unix::fs::symlink(target, dest).expect("symlink");
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// Every file under `dir` (relative path with the sandbox's own path taken out, content).
fn files(dir: &Path, sandbox_out: &str) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("entry").path();
            let meta = std::fs::symlink_metadata(&p).expect("stat");
            if meta.is_dir() {
                walk(&p, base, out);
            } else if meta.file_type().is_symlink() {
                let t = std::fs::read_link(&p).expect("readlink");
                out.push((
                    p.strip_prefix(base).expect("rel").into(),
                    t.to_string_lossy().into_owned().into_bytes(),
                ));
            } else if p.file_name().is_some_and(|n| n != "results.json") {
                out.push((
                    p.strip_prefix(base).expect("rel").into(),
                    std::fs::read(&p).expect("read"),
                ));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    let mut v: Vec<(String, Vec<u8>)> = v
        .into_iter()
        .map(|(p, b)| {
            (
                p.to_string_lossy()
                    .replace(sandbox_out.trim_start_matches('/'), "OUT"),
                b,
            )
        })
        .collect();
    v.sort();
    v
}

fn strip(v: &Value, sandbox_out: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace(sandbox_out, "OUT")),
        Value::Array(a) => Value::Array(a.iter().map(|x| strip(x, sandbox_out)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
                .map(|(k, x)| (k.replace(sandbox_out, "OUT"), strip(x, sandbox_out)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn recap(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sandbox `out` path a run wrote into its results (to take it out of values).
fn sandbox_out(results: &Value) -> String {
    results["st1"]["stat"]["path"]
        .as_str()
        .and_then(|p| p.strip_suffix("/conf"))
        .unwrap_or("/nonexistent")
        .to_string()
}

#[test]
#[allow(clippy::print_stderr)] // says why it is skipped
fn file_modules_do_what_ansible_core_does() {
    if !Path::new(ANSIBLE).exists() {
        eprintln!("skipped: {ANSIBLE} is not installed (.ci/run installs it)");
        return;
    }
    let (theirs, a_dir, _a) = run(true);
    let (ours, h_dir, _h) = run(false);
    let show = |o: &Output| {
        format!(
            "exit {:?}\n{}\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert_eq!(
        theirs.status.code(),
        Some(0),
        "ansible-playbook:\n{}",
        show(&theirs)
    );
    assert_eq!(ours.status.code(), Some(0), "hactl:\n{}", show(&ours));
    assert_eq!(
        recap(&ours),
        recap(&theirs),
        "recaps\n{}\n{}",
        show(&ours),
        show(&theirs)
    );

    let read = |d: &Path| -> Value {
        serde_json::from_slice(&std::fs::read(d.join("results.json")).expect("results.json"))
            .expect("json")
    };
    let (a, h) = (read(&a_dir), read(&h_dir));
    let (a_out, h_out) = (sandbox_out(&a), sandbox_out(&h));
    assert_eq!(
        files(&h_dir, &h_out),
        files(&a_dir, &a_out),
        "the files left behind differ"
    );
    for r in [&a, &h] {
        let paused = r["pa1"]["stdout"].as_str().unwrap_or_default();
        assert!(
            paused.starts_with("Paused for 1.") && paused.ends_with(" seconds"),
            "{paused}"
        );
    }
    // find found something to compare (an empty list on both sides would prove little).
    for key in ["fi1", "fi2", "fi3", "fi4", "fi5"] {
        assert!(a[key]["matched"].as_u64() > Some(0), "{key}: {}", a[key]);
    }
    let (a, h) = (strip(&a, &a_out), strip(&h, &h_out));
    let mut diffs = Vec::new();
    for (task, want) in a.as_object().expect("results") {
        let got = &h[task];
        for (key, w) in want.as_object().expect("result") {
            if got.get(key) != Some(w) {
                diffs.push(format!(
                    "{task}.{key}: ansible {w} hactl {}",
                    got.get(key).unwrap_or(&Value::Null)
                ));
            }
        }
        for key in got.as_object().expect("result").keys() {
            if want.get(key).is_none() {
                diffs.push(format!("{task}.{key}: only hactl has it"));
            }
        }
    }
    assert!(diffs.is_empty(), "results differ:\n{}", diffs.join("\n"));
}
