//! `hactl render`, `hactl lint` and `hactl apply --check` read a playbook with the same loader
//! and walk it with the same engine, so no playbook is refused by one and accepted by
//! another. For every playbook under `tests/` (and the shipped `site.yml`) the three commands
//! run on local hosts (no root, no fleet), and either all three refuse it before running a
//! task, with the same first error, or none does.

mod common;

use std::path::{Path, PathBuf};

use common::local::Sandbox;

/// Every YAML file under `dir` whose top is a list of plays (mappings with `hosts` or
/// `import_playbook`), plus the known bad playbooks (which may not even parse).
fn playbooks(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            playbooks(&p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "yml") {
            continue;
        }
        if p.parent().is_some_and(|d| d.ends_with("bad-playbooks")) {
            out.push(p);
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let top_level_play = text.lines().any(|l| {
            l.starts_with("- hosts:")
                || l.starts_with("- import_playbook:")
                || l.starts_with("  hosts:")
        });
        if top_level_play && text.trim_start().starts_with(['-', '#']) {
            out.push(p);
        }
    }
}

/// The group and host names a playbook's plays target, found in its `hosts:` lines.
fn targets(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let Some(value) = line.trim_start_matches(['-', ' ']).strip_prefix("hosts:") else {
            continue;
        };
        for word in value.split(|c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c))) {
            if !word.is_empty() && word != "all" && !names.iter().any(|n| n == word) {
                names.push(word.to_string());
            }
        }
    }
    names
}

/// The command's first error line when it refused the playbook itself (before any task ran),
/// as opposed to a task that failed on a host (`h1: ...`, lint's `cannot render: h1: ...`).
fn refusal(sb: &Sandbox, args: &[&str]) -> Option<String> {
    let out = sb.hactl(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ran = stdout.contains("TASK [") || stdout.contains("PLAY [");
    let first = stderr.lines().find(|l| l.starts_with("ERROR: "))?;
    let about_a_host = [
        "ERROR: h1: ",
        "ERROR: localhost: ",
        "ERROR: cannot render: ",
    ]
    .iter()
    .any(|p| first.starts_with(p));
    (!out.status.success() && !ran && !about_a_host).then(|| first.to_string())
}

#[test]
fn render_lint_and_apply_check_agree_on_every_playbook() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    playbooks(&root.join("tests"), &mut found);
    found.push(root.join("site.yml"));
    found.sort();
    assert!(found.len() >= 20, "{found:?}");
    let mut disagree = Vec::new();
    let mut refused = 0;
    for pb in &found {
        let sb = Sandbox::new();
        let text = std::fs::read_to_string(pb).unwrap_or_default();
        let mut inv = String::from("h1 ansible_connection=local\n");
        for name in targets(&text) {
            if name == "localhost" {
                inv.push_str("localhost ansible_connection=local\n");
            } else {
                inv.push_str(&format!("[{name}]\nh1\n"));
            }
        }
        sb.write("hosts.ini", &inv);
        let path = pb.display().to_string();
        let render_out = sb.path("rendered").display().to_string();
        let verdicts = [
            refusal(
                &sb,
                &["render", "-i", "hosts.ini", &path, "--out", &render_out],
            ),
            refusal(&sb, &["lint", "hosts.ini", &path]),
            refusal(
                &sb,
                &["apply", "hosts.ini", &path, "--check", "--skip-lint"],
            ),
        ];
        if verdicts[0].is_some() {
            refused += 1;
        }
        if verdicts.iter().any(|v| *v != verdicts[0]) {
            disagree.push(format!(
                "{}:\n  render: {:?}\n  lint:   {:?}\n  apply:  {:?}",
                pb.strip_prefix(root).unwrap_or(pb).display(),
                verdicts[0],
                verdicts[1],
                verdicts[2]
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    // The known bad playbooks are refused by all three.
    assert!(refused >= 10, "only {refused} playbooks were refused");
}
