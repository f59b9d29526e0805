//! `hactl apply` lints the keepalived configs it is about to push, with the facts it just
//! gathered, and stops before the first task on an error: on a real fleet, nothing reaches
//! the hosts (the config and a marker file written by a later task stay absent). With
//! `--skip-lint`, or once the config is fixed, the same playbook runs.

mod common;

use std::path::Path;
use std::process::Output;

use common::fleet::Fleet;

const BAD: &str = r#"script "/bin/bash -c '[[ -f /etc/keepalived/down ]]' && exit 1 || exit 0""#;
const GOOD: &str = r#"script "/bin/bash -c '[[ ! -f /etc/keepalived/down ]]'""#;

/// A playbook folder: the template (with `script`), a play that makes a folder, writes the
/// config there, then a marker.
fn playbook(dir: &Path, fleet: &Fleet, script: &str) {
    let mut inv = std::fs::read_to_string(fleet.inventory()).expect("inventory");
    inv.push_str("\n[fleet:vars]\nvip=198.51.100.100\n");
    std::fs::write(dir.join("hosts.ini"), inv).expect("inventory");
    std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
    std::fs::write(
        dir.join("templates/keepalived.conf.j2"),
        format!(
            "! lint-apply-test for {{{{ ansible_hostname }}}}
global_defs {{
    enable_script_security
    script_user root
}}
vrrp_script chk_down {{
    {script}
    weight -20
}}
vrrp_instance VI_1 {{
    state {{{{ 'MASTER' if ansible_hostname == 'lb1' else 'BACKUP' }}}}
    interface eth0
    virtual_router_id 14
    priority {{{{ 100 if ansible_hostname == 'lb1' else 90 }}}}
    virtual_ipaddress {{
        {{{{ vip }}}}/24
    }}
    track_script {{
        chk_down
    }}
}}
"
        ),
    )
    .expect("template");
    std::fs::write(
        dir.join("site.yml"),
        "- hosts: fleet
  tasks:
    - name: config folder
      file: path=/etc/lint-apply-test state=directory
    - name: config keepalived
      template: src=keepalived.conf.j2 dest=/etc/lint-apply-test/keepalived.conf
    - name: marker
      copy: content=pushed dest=/tmp/lint-apply-marker
",
    )
    .expect("playbook");
}

fn apply(fleet: &Fleet, dir: &Path, extra: &[&str]) -> Output {
    fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .arg("apply")
        .arg(dir.join("hosts.ini"))
        .arg(dir.join("site.yml"))
        .args(extra)
        .args(fleet.ssh_args())
        .output()
        .expect("run hactl apply")
}

fn pushed(fleet: &Fleet, host: &str) -> bool {
    fleet
        .ssh(
            host,
            "test -e /etc/lint-apply-test || test -e /tmp/lint-apply-marker",
        )
        .status
        .success()
}

#[test]
fn a_lint_error_stops_apply_before_anything_is_pushed() {
    let fleet = Fleet::up(&["lb1", "lb2"]);
    let dir = tempfile::tempdir().expect("tmp");

    playbook(dir.path(), &fleet, BAD);
    let out = apply(&fleet, dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("TASK [Gathering Facts]"), "{stdout}");
    assert!(
        stdout.contains(
            "/etc/lint-apply-test/keepalived.conf:7: host lb1: error [script-needs-shell]"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("TASK [config"), "{stdout}");
    assert!(stderr.contains("nothing was pushed"), "{stderr}");
    for host in ["lb1", "lb2"] {
        assert!(!pushed(&fleet, host), "{host} got a file");
    }

    // Fixed: lint passes with the gathered facts (the template needs ansible_hostname) and the
    // run goes on.
    playbook(dir.path(), &fleet, GOOD);
    let out = apply(&fleet, dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("lint"), "{stdout}");
    let conf = fleet.ssh("lb2", "cat /etc/lint-apply-test/keepalived.conf");
    assert!(String::from_utf8_lossy(&conf.stdout).contains("lint-apply-test for lb2"));

    // --skip-lint pushes even the bad one.
    let clean = fleet.ssh("lb1", "rm -rf /etc/lint-apply-test /tmp/lint-apply-marker");
    assert!(clean.status.success());
    playbook(dir.path(), &fleet, BAD);
    let out = apply(&fleet, dir.path(), &["--skip-lint"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(pushed(&fleet, "lb1"));
}
