//! The playbook engine against ansible-core 2.19, in-process hosts (the local connection, no
//! root, no fleet): each playbook of `tests/engine/` runs with `hactl apply` and with
//! `ansible-playbook` on the same three local hosts, and both give the same banners in the
//! same order, the same per-host results under each (`ok`/`changed`/`skipping`/`fatal`, the
//! `included:` and `FAILED - RETRYING` lines), the same recap and the same exit code.
//!
//! Each run gets a fresh copy of `tests/engine/` (playbooks may write files beside
//! themselves). Without ansible-core (`/opt/ansible-venv`) the test says so and is skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::local::Sandbox;

const ANSIBLE: &str = "/opt/ansible-venv/bin/ansible-playbook";

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// The run as ansible-playbook's default callback shows its shape: each banner, then the
/// sorted per-host lines under it (hosts finish in any order), then the recap lines.
fn shape(stdout: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Vec<String> = Vec::new();
    let flush = |out: &mut Vec<String>, block: &mut Vec<String>| {
        block.sort();
        out.append(block);
    };
    let mut in_recap = false;
    for line in stdout.lines() {
        if in_recap {
            if !line.trim().is_empty() {
                out.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        } else if let Some(banner) = line
            .strip_suffix('*')
            .map(|l| l.trim_end_matches('*').trim())
        {
            flush(&mut out, &mut block);
            in_recap = banner == "PLAY RECAP";
            out.push(banner.to_string());
        } else if let Some(rest) = line.strip_prefix("included: ") {
            // The hosts of an include are listed as they finish: compare them sorted.
            let (file, rest) = rest.split_once(" for ").unwrap_or((rest, ""));
            let (hosts, item) = rest.split_once(" => ").unwrap_or((rest, ""));
            let mut hosts: Vec<&str> = hosts.split(", ").collect();
            hosts.sort_unstable();
            block.push(format!("included: {file} for {} {item}", hosts.join(", ")));
        } else if line.starts_with("FAILED - RETRYING: ") {
            block.push(line.to_string());
        } else if let Some((status, rest)) = line.split_once(": [") {
            if ["ok", "changed", "skipping", "fatal", "failed"].contains(&status) {
                let host = rest.split(']').next().unwrap_or_default();
                // The item, as the line names it (`=> (item=x)`).
                let item = rest
                    .split_once("(item=")
                    .map(|(_, i)| format!(" (item={}", i.split(')').next().unwrap_or_default()))
                    .unwrap_or_default();
                block.push(format!("{status}: [{host}]{item}"));
            }
        } else if line == "...ignoring" {
            block.push(line.to_string());
        }
    }
    flush(&mut out, &mut block);
    out
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The run's shape with the copy's folder written as `PLAY`.
fn shape_in(out: &Output, dir: &Path) -> Vec<String> {
    let text = String::from_utf8_lossy(&out.stdout).replace(&dir.display().to_string(), "PLAY");
    shape(&text)
}

/// Runs `name.yml` with both tools, each in a fresh copy of `tests/engine/`.
fn compare(name: &str) -> Result<(), String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine");
    let run = |program: &str, ansible: bool| -> (Output, PathBuf) {
        let sb = Sandbox::new();
        let dir = sb.path("play");
        copy_tree(&src, &dir);
        sb.write(
            "play/hosts.ini",
            "[all]\nh1\nh2\nh3\n\n[all:vars]\nansible_connection=local\n\
             ansible_python_interpreter=/usr/bin/python3\n",
        );
        let playbook = format!("{name}.yml");
        let mut cmd = if ansible {
            // ansible-core runs as the test's own user: its Python (a virtualenv under a home
            // `nobody` cannot read) must run for the implicit localhost too.
            sb.hand_over();
            let mut c = std::process::Command::new(program);
            c.args(["-i", "hosts.ini", &playbook])
                .env("HOME", sb.path("home"));
            c
        } else {
            sb.program(program, &["apply", "hosts.ini", &playbook])
        };
        // Ansible's local connection puts its temp files under the user's home from passwd
        // (nobody's does not exist): keep them in the sandbox.
        let tmp = sb.path("home/.ansible/tmp");
        cmd.current_dir(&dir);
        if ansible {
            cmd.env("ANSIBLE_REMOTE_TMP", &tmp)
                .env("ANSIBLE_LOCAL_TEMP", &tmp)
                .env("ANSIBLE_ASYNC_DIR", sb.path("home/.ansible_async"))
                .env("ANSIBLE_NOCOLOR", "1")
                .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
                .env("ANSIBLE_LOCALHOST_WARNING", "0")
                .env("ANSIBLE_DEPRECATION_WARNINGS", "0");
        }
        let out = cmd.output().expect("run");
        // Keep the sandbox alive until the output is read.
        let kept = sb.path("play");
        std::mem::forget(sb);
        (out, kept)
    };
    let (ours, dir1) = run(env!("CARGO_BIN_EXE_hactl"), false);
    let (theirs, dir2) = run(ANSIBLE, true);
    let (a, b) = (shape_in(&ours, &dir1), shape_in(&theirs, &dir2));
    for d in [dir1, dir2] {
        if let Some(parent) = d.parent() {
            let _ = std::fs::remove_dir_all(parent);
        }
    }
    if a != b || ours.status.code() != theirs.status.code() {
        return Err(format!(
            "{name}: hactl and ansible-playbook differ\n--- hactl shape\n{}\n--- ansible shape\n{}\n--- hactl\n{}\n--- ansible-playbook\n{}",
            a.join("\n"),
            b.join("\n"),
            show(&ours),
            show(&theirs)
        ));
    }
    Ok(())
}

#[test]
#[allow(clippy::print_stderr)] // says why it is skipped
fn every_engine_playbook_runs_as_ansible_runs_it() {
    if !Path::new(ANSIBLE).exists() {
        eprintln!("skipped: {ANSIBLE} is not installed (.ci/run installs it)");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/engine")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (p.extension()? == "yml").then_some(stem)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    let failures: Vec<String> = names.iter().filter_map(|n| compare(n).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
