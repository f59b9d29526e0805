//! Hosts need only a POSIX shell and coreutils: on two load balancers whose SSH sessions see
//! no Python at all (every `/usr/bin/python*` covered by `/dev/null` in the session's mount
//! namespace), the shipped site.yml builds the dual-master pair with hactl-agent and a second
//! run changes nothing, while Ansible cannot even ping them.

mod common;

use common::fleet::Fleet;
use common::pair::{VIP1, VIP2, hactl, text, wait_holder};

const HIDE_PYTHON: &str =
    "for f in /usr/bin/python*; do [ -L \"$f\" ] || mount --bind /dev/null \"$f\"; done";

#[test]
fn the_shipped_role_needs_no_python_on_the_hosts() {
    let fleet = Fleet::up(&["lb1", "lb2"]);
    for host in ["lb1", "lb2"] {
        fleet.wrap_sessions(
            host,
            HIDE_PYTHON,
            "python3 -c 'print(1)' 2>/dev/null || echo none",
            "none",
        );
    }

    let first = hactl(&fleet, &["apply", "inventory/hosts.ini"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let second = hactl(&fleet, &["apply", "inventory/hosts.ini"]);
    let recap = text(&second);
    assert_eq!(second.status.code(), Some(0), "{recap}");
    assert_eq!(recap.matches(" changed=0 ").count(), 2, "{recap}");
    wait_holder(&fleet, VIP1, "lb1", std::time::Duration::from_secs(10));
    wait_holder(&fleet, VIP2, "lb2", std::time::Duration::from_secs(10));

    // The same hosts are out of Ansible's reach: its modules are Python.
    let ping = fleet
        .ctl("/opt/ansible-venv/bin/ansible")
        .args(["-i", "inventory/hosts.ini", "lb1", "-m", "ping"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ANSIBLE_CONFIG", fleet.state.join("ansible.cfg"))
        .output()
        .expect("run ansible");
    assert!(
        !ping.status.success(),
        "{}",
        String::from_utf8_lossy(&ping.stdout)
    );
}
