//! "Real-world roles run unchanged", measured: for each public role of the corpus
//! (/work/shared/corpus, read in place) and a few more public roles kept outside the repository
//! (tests/corpus/extra-roles.txt), `hactl render` runs the play of tests/corpus/<role>/ with its
//! inventory and the Debian 12 facts of tests/corpus/facts/, and what it writes is compared
//! byte for byte with what ansible-core 2.19 renders from the same inputs
//! (tests/golden/corpus/<role>/, made by tests/corpus/regen.sh).
//!
//! Per role the outcome is `identical`, the first file that differs (with the line), the files
//! one side has and the other lacks, or the error hactl gave. [`EXPECTED`] says which outcome
//! each role has today: the test fails when a role does worse than the table says (a
//! regression) and also when it does better (the table, and COMPATIBILITY.md, must then be
//! updated), so the table is always the true list of what real roles still miss.
//!
//! Roles whose templates need what only a host tells (a registered result) are refused offline,
//! as they must be; tests/corpus_check.rs compares them through `hactl apply --check --diff` on
//! a fleet, as their goldens were made.
//!
//! Run with `cargo test --test corpus_render -- --nocapture` to see the per-role report.

#![allow(clippy::print_stderr)] // the per-role report (and why a role is skipped) is the output

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a role is expected to give today.
enum Expect {
    /// Every rendered file is byte-identical to ansible's, and hactl reports no error.
    Identical,
    /// A known gap. The text must occur in the observed outcome (so a role failing for a new
    /// reason is noticed too); the second part says what is missing, for COMPATIBILITY.md.
    Fails(&'static str, &'static str),
}

use Expect::{Fails, Identical};
use common::corpus::{corpus_dir, extra_roles, files, provide_extra};

/// The expectations table: one row per folder of tests/corpus/ that has a site.yml.
const EXPECTED: &[(&str, Expect)] = &[
    ("geerlingguy.firewall", Identical),
    (
        "geerlingguy.haproxy",
        Fails(
            "haproxy.cfg.j2:22: invalid operation",
            "`haproxy_version` is set_fact from a registered `haproxy -v` (unknown offline; \
             refused, naming -e): identical through `hactl apply --check --diff` on a fleet \
             (tests/corpus_check.rs)",
        ),
    ),
    ("geerlingguy.nginx", Identical),
    ("geerlingguy.ntp", Identical),
    ("geerlingguy.security", Identical),
    (
        "hifis-net.keepalived",
        Fails(
            "conditional \"not keepalived_installed.stat.exists",
            "the role branches on a registered `stat` (tasks/main.yml:83), unknown offline \
             (refused): identical through `hactl apply --check --diff` on a fleet \
             (tests/corpus_check.rs)",
        ),
    ),
    ("mrlesmithjr.keepalived", Identical),
    ("nginxinc.nginx", Identical),
    ("nginxinc.nginx_config", Identical),
    ("oefenweb.haproxy", Identical),
    ("oefenweb.sysctl", Identical),
    ("robertdebock.keepalived", Identical),
    ("singleplatform-eng.users", Identical),
    ("willshersystems.sshd", Identical),
];

/// Roles with a task whose module only an installed collection has (skipped on Debian):
/// without the collections, Ansible refuses them too.
const NEED_COLLECTIONS: &[&str] = &["nginxinc.nginx"];

/// The collections tests/corpus/collections.sh unpacks for ansible.
fn collections() -> PathBuf {
    common::corpus::cache_dir().join("collections")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The first line where two texts differ, shown side by side.
fn first_difference(ours: &[u8], theirs: &[u8]) -> String {
    let a: Vec<&[u8]> = ours.split_inclusive(|b| *b == b'\n').collect();
    let b: Vec<&[u8]> = theirs.split_inclusive(|b| *b == b'\n').collect();
    let line = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let show = |l: Option<&&[u8]>| match l {
        Some(l) => format!("{:?}", String::from_utf8_lossy(l)),
        None => "end of file".to_string(),
    };
    format!(
        "line {}: hactl {} / ansible {}",
        line + 1,
        show(a.get(line)),
        show(b.get(line))
    )
}

/// `text` with the role folders of `roles_path` written as `<roles>`, so the report reads the
/// same wherever the corpus is.
fn shorten(text: &str, roles_path: &str) -> String {
    let mut out = text.to_string();
    for dir in std::env::split_paths(roles_path) {
        let dir = dir.to_string_lossy().into_owned();
        out = out.replace(&format!("{dir}/"), "<roles>/");
        if let Ok(real) = std::fs::canonicalize(&dir) {
            out = out.replace(&format!("{}/", real.display()), "<roles>/");
        }
    }
    out
}

/// Renders one role with hactl and compares it with the goldens: `Ok(())` when identical,
/// else what differs or what hactl said.
fn measure(role: &str, roles_path: &str) -> Result<(), String> {
    let dir = root().join("tests/corpus").join(role);
    let golden = root().join("tests/golden/corpus").join(role);
    assert!(
        golden.is_dir(),
        "{role}: no goldens in {}: run tests/corpus/regen.sh {role}",
        golden.display()
    );
    let out = tempfile::tempdir().expect("tmp");
    let run = Command::new(assert_cmd::cargo::cargo_bin("hactl"))
        .current_dir(&dir)
        .env("HACTL_ROLES_PATH", roles_path)
        // The collections ansible had (regen.sh), so hactl knows the same module names.
        .env("ANSIBLE_COLLECTIONS_PATH", collections())
        .args([
            "render",
            "-i",
            "inventory.ini",
            "site.yml",
            "--facts",
            "../facts",
            "--out",
        ])
        .arg(out.path())
        .output()
        .expect("run hactl");
    let stderr = String::from_utf8_lossy(&run.stderr);
    if !run.status.success() {
        // The first error says it (the second host's is the same); the list of hactl's
        // modules that follows an unknown one is left out of the report.
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(no message)");
        let first = first.split(" (hactl's modules:").next().unwrap_or(first);
        return Err(format!("hactl error: {}", shorten(first, roles_path)));
    }
    let theirs: BTreeSet<PathBuf> = files(&golden)
        .into_iter()
        .filter(|p| p != Path::new("ANSIBLE.txt"))
        .collect();
    let ours = files(out.path());
    let missing: Vec<_> = theirs.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&theirs).collect();
    if !missing.is_empty() {
        return Err(format!("hactl did not render {missing:?}"));
    }
    if !extra.is_empty() {
        return Err(format!("hactl rendered files ansible did not: {extra:?}"));
    }
    for rel in &theirs {
        let a = std::fs::read(out.path().join(rel)).expect("read ours");
        let b = std::fs::read(golden.join(rel)).expect("read golden");
        if a != b {
            return Err(format!(
                "{} differs at {}",
                rel.display(),
                first_difference(&a, &b)
            ));
        }
    }
    Ok(())
}

#[test]
fn corpus_roles_render_as_ansible_does() {
    let Some(corpus) = corpus_dir() else {
        eprintln!("SKIPPED: the role corpus (shared/corpus) is not here; set HACTL_CORPUS");
        return;
    };
    let extras_dir = tempfile::tempdir().expect("tmp");
    let mut unavailable = std::collections::BTreeMap::new();
    for e in extra_roles() {
        if let Err(why) = provide_extra(&e, extras_dir.path()) {
            unavailable.insert(e.name.clone(), why);
        }
    }
    let roles_path = std::env::join_paths([corpus.as_path(), extras_dir.path()])
        .expect("roles path")
        .to_string_lossy()
        .into_owned();

    // Every role folder has a row, and every row a folder.
    let mut folders: Vec<String> = std::fs::read_dir(root().join("tests/corpus"))
        .expect("tests/corpus")
        .flatten()
        .filter(|e| e.path().join("site.yml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let rows: Vec<&str> = EXPECTED.iter().map(|(r, _)| *r).collect();
    assert_eq!(
        folders, rows,
        "EXPECTED must list exactly the folders of tests/corpus/"
    );

    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for (role, expect) in EXPECTED {
        if let Some(why) = unavailable.get(*role) {
            report.push(format!("{role}: SKIPPED ({why})"));
            continue;
        }
        let general = "ansible_collections/community/general/MANIFEST.json";
        if NEED_COLLECTIONS.contains(role) && !collections().join(general).is_file() {
            report.push(format!(
                "{role}: SKIPPED (no collections in {}: run tests/corpus/collections.sh)",
                collections().display()
            ));
            continue;
        }
        let outcome = measure(role, &roles_path);
        let line = match &outcome {
            Ok(()) => format!("{role}: identical"),
            Err(e) => format!("{role}: {e}"),
        };
        report.push(line.clone());
        if let Fails(_, missing) = expect {
            report.push(format!("    known missing: {missing}"));
        }
        match (expect, &outcome) {
            (Identical, Ok(())) => {}
            (Identical, Err(_)) => wrong.push(format!("REGRESSION {line}")),
            (Fails(sig, _), Ok(())) => wrong.push(format!(
                "{role} is now identical (was expected to fail with {sig:?}): update EXPECTED \
                 and COMPATIBILITY.md"
            )),
            (Fails(sig, _), Err(e)) if e.contains(sig) => {}
            (Fails(sig, _), Err(_)) => wrong.push(format!(
                "{role} fails differently than EXPECTED says ({sig:?}): {line}"
            )),
        }
    }
    eprintln!("corpus render report:\n  {}", report.join("\n  "));
    assert!(wrong.is_empty(), "\n{}\n", wrong.join("\n"));
}
