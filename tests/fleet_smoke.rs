//! The test fleet itself: hosts boot, answer ssh with their own host keys and names, sit on one
//! segment, and leave nothing behind when torn down.

mod common;

use std::process::Command;

use common::fleet::Fleet;

#[test]
fn fleet_boots_real_hosts_and_cleans_up() {
    let prefix;
    {
        let fleet = Fleet::up(&["lb1", "lb2"]);
        prefix = fleet.prefix.clone();
        for host in ["lb1", "lb2"] {
            let out = fleet.ssh(host, "hostname; systemctl is-active ssh");
            assert!(
                out.status.success(),
                "ssh to {host}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("{host}\nactive\n")
            );
        }
        // Hosts reach each other across the bridge.
        let out = fleet.ssh("lb1", &format!("ping -c1 -W2 {}", fleet.addr("lb2")));
        assert!(out.status.success(), "lb1 cannot reach lb2");
        // Each host has its own host key: the known_hosts lines differ per address.
        let known = std::fs::read_to_string(fleet.state.join("known_hosts")).expect("known_hosts");
        let keys: std::collections::HashSet<_> =
            known.lines().filter_map(|l| l.split(' ').nth(2)).collect();
        assert_eq!(keys.len(), 6, "3 key types x 2 hosts, all distinct");
    }
    let netns = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns");
    let netns = String::from_utf8_lossy(&netns.stdout);
    assert!(!netns.contains(&prefix), "namespaces left behind: {netns}");
    let mounts = std::fs::read_to_string("/proc/mounts").expect("mounts");
    assert!(!mounts.contains(&prefix), "mounts left behind");
}
