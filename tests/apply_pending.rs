//! Handlers are not forgotten when a run ends before them (hactl goes beyond Ansible here):
//! on a real fleet, a task fails on one host after its config changed, and the next run, which
//! changes nothing, still runs that host's handler, and only there. hactl killed with SIGKILL
//! after a change is the same story. Check mode shows the pending handler but keeps it.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::fleet::Fleet;

const LIST: &str = "/var/lib/hactl/pending-handlers";

fn playbook(dir: &Path, fleet: &Fleet) {
    std::fs::copy(fleet.inventory(), dir.join("hosts.ini")).expect("inventory");
    std::fs::write(
        dir.join("site.yml"),
        "- hosts: fleet
  gather_facts: false
  vars:
    later: {}
  tasks:
    - name: config
      copy: content={{ conf }} dest=/etc/pending-test.conf
      notify: restart thing
    - name: later task
      shell: \"{{ later[inventory_hostname] | default('true') }}\"
  handlers:
    - name: restart thing
      shell: echo {{ conf }} >> /tmp/handler-runs
",
    )
    .expect("playbook");
}

fn hactl(fleet: &Fleet, dir: &Path, extra: &[&str]) -> std::process::Command {
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    cmd.arg("apply")
        .arg(dir.join("hosts.ini"))
        .arg(dir.join("site.yml"))
        .args(extra)
        .args(fleet.ssh_args());
    cmd
}

fn apply(fleet: &Fleet, dir: &Path, extra: &[&str]) -> (Output, String) {
    let out = hactl(fleet, dir, extra).output().expect("run hactl apply");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// What the handler wrote on `host`, one line per run of it.
fn runs(fleet: &Fleet, host: &str) -> Vec<String> {
    let out = fleet.ssh(host, "cat /tmp/handler-runs 2>/dev/null; true");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn pending(fleet: &Fleet, host: &str) -> String {
    let out = fleet.ssh(host, &format!("cat {LIST} 2>/dev/null; true"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_handler_left_by_a_failed_or_killed_run_runs_on_the_next() {
    let fleet = Fleet::up(&["lb1", "lb2"]);
    let dir = tempfile::tempdir().expect("tempdir");
    playbook(dir.path(), &fleet);

    // 1. The config changes on both hosts; a later task fails on lb1, so lb1's handler does
    // not run (as in Ansible), while lb2's does.
    let (out, text) = apply(
        &fleet,
        dir.path(),
        &["-e", "conf=v1", "-e", r#"{"later": {"lb1": "false"}}"#],
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_eq!(runs(&fleet, "lb1"), Vec::<String>::new(), "{text}");
    assert_eq!(runs(&fleet, "lb2"), vec!["v1"], "{text}");
    assert_eq!(pending(&fleet, "lb1"), "restart thing\n", "{text}");
    assert_eq!(pending(&fleet, "lb2"), "", "settled once the handler ran");

    // 2. Check mode shows what is pending, runs nothing, keeps the list.
    let (out, text) = apply(&fleet, dir.path(), &["-e", "conf=v1", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("pending: [lb1] => restart thing"), "{text}");
    assert!(!text.contains("pending: [lb2]"), "{text}");
    assert_eq!(runs(&fleet, "lb1"), Vec::<String>::new(), "{text}");
    assert_eq!(pending(&fleet, "lb1"), "restart thing\n");

    // 3. The next run changes no file, yet lb1's handler runs, and only on lb1.
    let (out, text) = apply(&fleet, dir.path(), &["-e", "conf=v1"]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("pending: [lb1] => restart thing"), "{text}");
    assert!(
        text.contains("ok: [lb1]"),
        "the config did not change: {text}"
    );
    assert_eq!(runs(&fleet, "lb1"), vec!["v1"], "{text}");
    assert_eq!(runs(&fleet, "lb2"), vec!["v1"], "{text}");
    assert_eq!(pending(&fleet, "lb1"), "", "{text}");

    // 4. Nothing pending: a run changes nothing and runs no handler.
    let (out, text) = apply(&fleet, dir.path(), &["-e", "conf=v1"]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("RUNNING HANDLER"), "{text}");
    assert!(!text.contains("pending:"), "{text}");

    // 5. hactl killed (SIGKILL) after the change, while a later task runs: the next run
    // still runs both hosts' handlers.
    let mut child = hactl(
        &fleet,
        dir.path(),
        &[
            "-e",
            "conf=v2",
            "-e",
            r#"{"later": {"lb1": "sleep 20", "lb2": "sleep 20"}}"#,
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("start hactl");
    let start = Instant::now();
    while !(pending(&fleet, "lb1").contains("restart thing")
        && pending(&fleet, "lb2").contains("restart thing"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the notification was never recorded"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().expect("kill hactl");
    let _ = child.wait();
    let content = fleet.ssh("lb1", "cat /etc/pending-test.conf");
    assert_eq!(String::from_utf8_lossy(&content.stdout), "v2");
    assert_eq!(runs(&fleet, "lb1"), vec!["v1"], "the handler had not run");

    let (out, text) = apply(&fleet, dir.path(), &["-e", "conf=v2"]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for host in ["lb1", "lb2"] {
        assert!(
            text.contains(&format!("pending: [{host}] => restart thing")),
            "{text}"
        );
        assert_eq!(runs(&fleet, host), vec!["v1", "v2"], "{host}: {text}");
        assert_eq!(pending(&fleet, host), "", "{host}: {text}");
    }
}
