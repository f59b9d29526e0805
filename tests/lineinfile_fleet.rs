//! `lineinfile` through `hactl apply` on real hosts, side by side with ansible-playbook: the
//! same play runs with hactl on one host and with ansible-core on another, from the same
//! starting files. Both leave the same files (content, mode, backups) and report the same
//! counts, on a first run (create with a missing folder, add, replace, insert at the top,
//! remove, a refused `validate`, a missing file) and on a second run (nothing changes). Check
//! mode with a changed variable reports the change, shows the diff and writes nothing.

mod common;

use std::path::Path;
use std::process::Output;

use common::fleet::Fleet;

const PLAY: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - name: create with a missing folder
      lineinfile: path=/etc/li-test/sub/app.conf line="a = 1" create=yes mode=0640
    - name: add or replace
      lineinfile:
        path: /etc/li-test/sub/app.conf
        regexp: '^b ='
        line: "b = {{ b | default(2) }}"
    - name: insert at the top
      lineinfile: path=/etc/li-test/sub/app.conf line="[main]" insertbefore=BOF
    - name: replace with a backup
      lineinfile:
        path: /etc/li-test/sysctl.conf
        regexp: '^net\.ipv4\.ip_nonlocal_bind'
        line: net.ipv4.ip_nonlocal_bind = 1
        backup: yes
    - name: remove comments
      lineinfile: path=/etc/li-test/sysctl.conf regexp='^#' state=absent
    - name: validate refuses
      lineinfile:
        path: /etc/li-test/sub/app.conf
        line: bad
        validate: "sh -c '! grep -q bad %s'"
      ignore_errors: true
    - name: missing file
      lineinfile: path=/etc/li-test/none line=x
      ignore_errors: true
"#;

/// The starting point on a host: a sysctl-style file with a comment; no app.conf, no folder.
fn prepare(fleet: &Fleet, host: &str) {
    let out = fleet.ssh(
        host,
        "rm -rf /etc/li-test && mkdir /etc/li-test && \
         printf 'net.ipv4.ip_nonlocal_bind = 0\\n# tuned by hand\\nvm.swappiness = 10\\n' > /etc/li-test/sysctl.conf",
    );
    assert!(out.status.success());
}

/// What the play left: every file with its mode and content hash (backups by their shape).
fn leaves(fleet: &Fleet, host: &str) -> String {
    let out = fleet.ssh(
        host,
        "cd /etc/li-test && find . -type f | sort | while read -r f; do \
           case $f in *~) echo \"backup $(stat -c %a \"$f\") $(sha256sum < \"$f\")\" ;; \
           *) echo \"$f $(stat -c %a \"$f\") $(sha256sum < \"$f\")\" ;; esac; done",
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn recap(text: &str, host: &str) -> String {
    text.lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.starts_with(&format!("{host} ")))
        .and_then(|l| l.split_once(':'))
        .map(|(_, r)| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| panic!("no recap for {host} in:\n{text}"))
}

fn hactl(fleet: &Fleet, dir: &Path, extra: &[&str]) -> (Output, String) {
    let out = fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .arg("apply")
        .arg(fleet.inventory())
        .arg(dir.join("site.yml"))
        .args(["--limit", "l1"])
        .args(extra)
        .args(fleet.ssh_args())
        .output()
        .expect("run hactl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

fn ansible(fleet: &Fleet, dir: &Path, extra: &[&str]) -> (Output, String) {
    let out = fleet
        .ctl("/opt/ansible-venv/bin/ansible-playbook")
        .args(["-i"])
        .arg(fleet.inventory())
        .arg(dir.join("site.yml"))
        .args(["--limit", "l2"])
        .args(extra)
        .env("ANSIBLE_CONFIG", fleet.state.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("run ansible-playbook");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

#[test]
fn lineinfile_leaves_what_ansible_leaves() {
    let fleet = Fleet::up(&["l1", "l2"]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("site.yml"), PLAY).expect("playbook");
    prepare(&fleet, "l1");
    prepare(&fleet, "l2");

    for round in ["first", "second"] {
        let (ours, ours_text) = hactl(&fleet, dir.path(), &[]);
        let (theirs, theirs_text) = ansible(&fleet, dir.path(), &[]);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{ours_text}\n{theirs_text}"
        );
        assert_eq!(
            recap(&ours_text, "l1"),
            recap(&theirs_text, "l2"),
            "{round} run:\n{ours_text}\n{theirs_text}"
        );
        assert_eq!(leaves(&fleet, "l1"), leaves(&fleet, "l2"), "{round} run");
    }
    let (_, text) = hactl(&fleet, dir.path(), &[]);
    assert!(recap(&text, "l1").starts_with("ok=7 changed=0 "), "{text}");
    let files = leaves(&fleet, "l1");
    assert!(
        files.contains("./sub/app.conf 640 ") && files.contains("backup "),
        "{files}"
    );
    let app = fleet.ssh("l1", "cat /etc/li-test/sub/app.conf");
    assert_eq!(
        String::from_utf8_lossy(&app.stdout),
        "[main]\na = 1\nb = 2\n"
    );

    // Check mode with another value: reported as Ansible reports it, shown, not written.
    let (out, text) = hactl(&fleet, dir.path(), &["--check", "--diff", "-e", "b=3"]);
    let (_, theirs) = ansible(&fleet, dir.path(), &["--check", "--diff", "-e", "b=3"]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("-b = 2") && text.contains("+b = 3"), "{text}");
    assert_eq!(recap(&text, "l1"), recap(&theirs, "l2"), "{text}\n{theirs}");
    assert_eq!(leaves(&fleet, "l1"), files, "check mode wrote");
}
