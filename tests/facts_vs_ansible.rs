//! Facts gathered by hactl's one-round-trip script match what Ansible's `setup` module reports
//! on the same real host, key by key.

mod common;

use common::fleet::{self, Fleet};
use hactl::transport::{self, Transport};
use serde_json::Value;

/// The facts compared. `ansible_interfaces` is left out: on nspawn hosts Ansible reads
/// /sys/class/net, which shows the machine's own devices rather than the container's.
const KEYS: &[&str] = &[
    "ansible_hostname",
    "ansible_fqdn",
    "ansible_nodename",
    "ansible_domain",
    "ansible_all_ipv4_addresses",
    "ansible_distribution",
    "ansible_distribution_version",
    "ansible_distribution_major_version",
    "ansible_distribution_release",
    "ansible_os_family",
    "ansible_processor_vcpus",
    "ansible_memtotal_mb",
    "ansible_service_mgr",
    "ansible_pkg_mgr",
    "ansible_system",
    "ansible_kernel",
    "ansible_machine",
    "ansible_architecture",
    "ansible_user_id",
];

const DEFAULT_IPV4_KEYS: &[&str] = &[
    "address",
    "interface",
    "gateway",
    "netmask",
    "network",
    "prefix",
    "broadcast",
    "type",
];

fn ansible_bin(tool: &str) -> std::path::PathBuf {
    let venv = std::env::var("HACTL_ANSIBLE_VENV").unwrap_or_else(|_| "/opt/ansible-venv".into());
    let bin = std::path::Path::new(&venv).join("bin").join(tool);
    assert!(
        bin.exists(),
        "{} missing: .ci/run installs ansible-core there",
        bin.display()
    );
    bin
}

#[test]
fn facts_match_ansible_setup() {
    let Some(state) = fleet::inside() else {
        ansible_bin("ansible");
        let fleet = Fleet::up(&["f1"]);
        fleet.rerun_inside("facts_match_ansible_setup");
        return;
    };
    let out = std::process::Command::new(ansible_bin("ansible"))
        .args(["-i", "inventory.ini", "f1", "-m", "setup"])
        .current_dir(&state)
        .env("ANSIBLE_CONFIG", state.join("ansible.cfg"))
        .output()
        .expect("run ansible");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ansible setup failed: {text}");
    let json: Value = serde_json::from_str(&text[text.find('{').expect("json")..]).expect("json");
    let theirs = &json["ansible_facts"];

    let target = fleet::target(&state, "f1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let ours = rt.block_on(async {
        let conn = transport::connect(&target).await.expect("connect");
        let out = conn.exec(hactl::facts::SCRIPT, b"").await.expect("gather");
        conn.close().await.expect("close");
        hactl::facts::parse(&String::from_utf8_lossy(&out.stdout))
    });
    for key in KEYS {
        assert!(theirs.get(*key).is_some(), "ansible reported no {key}");
        assert_eq!(ours.get(*key), theirs.get(*key), "fact {key}");
    }
    for key in DEFAULT_IPV4_KEYS {
        assert_eq!(
            ours["ansible_default_ipv4"].get(*key),
            theirs["ansible_default_ipv4"].get(*key),
            "ansible_default_ipv4.{key}"
        );
    }
}
