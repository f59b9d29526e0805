//! The shipped dual-master pair on a fleet: running hactl from the repository, which load
//! balancer holds a VIP, and what `hactl status` says. Shared by the end-to-end tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use super::fleet::Fleet;

pub const VIP1: &str = "198.51.100.100";
pub const VIP2: &str = "198.51.100.200";

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A hactl subcommand in the fleet's controller namespace, with the fleet's key and known_hosts.
/// The static agent is built first: it is what `hactl apply` finds and installs.
pub fn hactl(fleet: &Fleet, args: &[&str]) -> Output {
    super::agent::static_agent();
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    cmd.current_dir(root()).args(args).args(fleet.ssh_args());
    cmd.output().expect("run hactl")
}

pub fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The load balancers holding `vip` right now, from their addresses.
pub fn holders(fleet: &Fleet, vip: &str) -> Vec<&'static str> {
    ["lb1", "lb2"]
        .into_iter()
        .filter(|h| {
            let out = fleet.ssh(h, "ip -o -4 addr show dev eth0");
            String::from_utf8_lossy(&out.stdout).contains(&format!(" {vip}/"))
        })
        .collect()
}

/// Waits until exactly `host` holds `vip`; returns how long that took.
pub fn wait_holder(fleet: &Fleet, vip: &str, host: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if holders(fleet, vip) == [host] {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{vip} not on {host} alone after {limit:?}: held by {:?}",
            holders(fleet, vip)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `hactl status --json`: the master of each VRID, and the exit code.
pub fn status_masters(fleet: &Fleet) -> (Option<i32>, Vec<(u64, Vec<String>)>) {
    let out = hactl(
        fleet,
        &["status", "inventory/hosts.ini", "-l", "nginx", "--json"],
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let mut masters: Vec<(u64, Vec<String>)> = doc["vrids"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|r| {
                    let m = r["masters"].as_array().map_or(Vec::new(), |m| {
                        m.iter()
                            .filter_map(|h| h.as_str().map(String::from))
                            .collect()
                    });
                    (r["vrid"].as_u64().unwrap_or(0), m)
                })
                .collect()
        })
        .unwrap_or_default();
    masters.sort();
    (out.status.code(), masters)
}

pub fn assert_status(fleet: &Fleet, m14: &str, m24: &str) {
    let (code, masters) = status_masters(fleet);
    assert_eq!(
        masters,
        vec![(14, vec![m14.to_string()]), (24, vec![m24.to_string()])],
        "hactl status"
    );
    assert_eq!(code, Some(0), "hactl status exit code");
}
