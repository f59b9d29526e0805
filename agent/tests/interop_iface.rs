//! The instance's interface, against keepalived 2.2.7, as root, in throw-away namespaces on a
//! bridge: `dont_track_primary` (a MASTER whose link goes down stays MASTER, where it would go
//! to FAULT and give its VIPs up), and `promote_secondaries` (the sysctl is 1 while the daemon
//! runs and back to its old value after it, and a VIP in the subnet of the host's primary
//! address survives the removal of that address).
//!
//! And the advert source: with no IPv4 address on its interface an instance is in FAULT,
//! leaves it when one appears, sends from another address when its own goes, and is in
//! FAULT again when the last one goes. `track_src_ip`: what keepalived 2.2.7 really does
//! with it (nothing, against its man page), and the agent the same.
//!
//! Host a runs the daemon under test (priority 200), host b a real keepalived (priority 100).
//! Each case runs once with keepalived on a (the reference) and once with the agent.
//!
//! Not root, or no keepalived: the tests are reported as ignored, not passed.

#[allow(dead_code)] // helpers shared with other test binaries
mod common;

use std::process::Command;
use std::time::Duration;

use common::lan::{Host, Lan, agent_and_keepalived, logs, start, wait_for};
use common::netns::is_root;
use libtest_mimic::Arguments;

const VIP: &str = "198.51.100.100";
const CONVERGE: Duration = Duration::from_secs(10);

// The harness lists each test as "ignored" when it cannot run; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    let keepalived = Command::new("keepalived").arg("--version").output().is_ok();
    if !root || !keepalived {
        eprintln!("interop_iface: needs root and keepalived, so the tests are SKIPPED (ignored)");
    }
    let ignored = !root || !keepalived;
    let mut trials = Vec::new();
    for (dont_track, what) in [
        (
            true,
            "dont_track_primary_master_stays_master_when_its_link_goes_down",
        ),
        (
            false,
            "tracked_primary_master_goes_to_fault_when_its_link_goes_down",
        ),
    ] {
        trials.extend(agent_and_keepalived(what, ignored, move |agent| {
            link_down(dont_track, agent)
        }));
    }
    for promote in [true, false] {
        let what = if promote {
            "promote_secondaries_set_while_running_and_restored"
        } else {
            "without_promote_secondaries_the_sysctl_is_left_alone"
        };
        trials.extend(agent_and_keepalived(what, ignored, move |agent| {
            promote_secondaries(promote, agent)
        }));
    }
    trials.extend(agent_and_keepalived(
        "no_ipv4_address_is_fault_and_the_source_follows_the_interface",
        ignored,
        no_source_address,
    ));
    trials.extend(agent_and_keepalived(
        "track_src_ip_changes_nothing_as_in_keepalived",
        ignored,
        track_src_ip,
    ));
    libtest_mimic::run(&args, trials).exit();
}

fn config(priority: u8, extra: &str) -> String {
    format!(
        "global_defs {{
    router_id iface
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 63
    priority {priority}
    advert_int 1
    {extra}
    virtual_ipaddress {{
        {VIP}
    }}
}}
"
    )
}

fn link_down(dont_track: bool, agent: bool) {
    let lan = Lan::new(&format!("if{}{}", u8::from(dont_track), u8::from(agent)), 2);
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let extra = if dont_track { "dont_track_primary" } else { "" };
    a.write_config(&config(200, extra));
    b.write_config(&config(100, ""));
    let da = start(a, agent);
    let db = b.start_keepalived();
    assert!(
        wait_for(CONVERGE, || a.holds(VIP) && !b.holds(VIP)).is_some(),
        "a should be MASTER\n{}",
        logs(&[&da, &db])
    );
    a.ns.ip(&["link", "set", "eth0", "down"]);
    // b no longer hears a and takes over; a keeps the VIP only if it ignores its link.
    assert!(
        wait_for(CONVERGE, || b.holds(VIP)).is_some(),
        "b should take over\n{}",
        logs(&[&da, &db])
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        a.holds(VIP),
        dont_track,
        "dont_track_primary {dont_track}: a holds the VIP\n{}",
        logs(&[&da, &db])
    );
    // Back up: a (priority 200) is master again, b backup.
    a.ns.ip(&["link", "set", "eth0", "up"]);
    assert!(
        wait_for(CONVERGE, || a.holds(VIP) && !b.holds(VIP)).is_some(),
        "a should be MASTER again\n{}",
        logs(&[&da, &db])
    );
}

/// `net.ipv4.conf.eth0.promote_secondaries` in `host`.
fn promote_sysctl(host: &Host) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &host.ns.name, "sysctl", "-n"])
        .arg("net.ipv4.conf.eth0.promote_secondaries")
        .output()
        .expect("sysctl runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn holds_24(host: &Host) -> bool {
    host.ns
        .ip(&["-4", "addr", "show", "dev", "eth0"])
        .contains(&format!("inet {VIP}/24"))
}

fn promote_secondaries(promote: bool, agent: bool) {
    let lan = Lan::new(&format!("ps{}{}", u8::from(promote), u8::from(agent)), 1);
    let a = &lan.hosts[0];
    let extra = if promote { "promote_secondaries" } else { "" };
    // The VIP in the subnet of a's own 198.51.100.1/24: a secondary address.
    a.write_config(&config(200, extra).replace(VIP, &format!("{VIP}/24")));
    assert_eq!(promote_sysctl(a), "0");
    let mut da = start(a, agent);
    assert!(
        wait_for(CONVERGE, || holds_24(a)).is_some(),
        "a should be MASTER\n{}",
        da.log()
    );
    assert_eq!(promote_sysctl(a), if promote { "1" } else { "0" });
    if promote {
        // Removing the primary promotes the other addresses of its subnet (a second own
        // address, so that keepalived, which needs one, stays out of FAULT) instead of
        // deleting them with it.
        a.ns.ip(&["addr", "add", "198.51.100.50/24", "dev", "eth0"]);
        a.ns.ip(&["addr", "del", &format!("{}/24", a.addr), "dev", "eth0"]);
        std::thread::sleep(Duration::from_secs(1));
        assert!(holds_24(a), "the VIP went with the primary\n{}", da.log());
    }
    da.signal(nix::sys::signal::Signal::SIGTERM);
    da.wait_exit(Duration::from_secs(5));
    assert!(
        wait_for(Duration::from_secs(3), || promote_sysctl(a) == "0").is_some(),
        "promote_secondaries not put back: {}\n{}",
        promote_sysctl(a),
        da.log()
    );
}

/// The source addresses of the next `n` adverts host `host` hears (tcpdump on its eth0).
fn advert_sources(host: &Host, n: usize) -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "exec", &host.ns.name, "timeout", "5", "tcpdump"])
        .args([
            "-l",
            "-n",
            "-c",
            &n.to_string(),
            "-i",
            "eth0",
            "ip",
            "proto",
            "112",
        ])
        .output()
        .expect("tcpdump runs");
    // "12:00:00.000000 IP 198.51.100.1 > 224.0.0.18: VRRPv2, ..."
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(" IP ").nth(1)?.split(' ').next().map(str::to_owned))
        .collect()
}

fn no_source_address(agent: bool) {
    let lan = Lan::new(&format!("ns{}", u8::from(agent)), 2);
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    a.write_config(&config(200, ""));
    b.write_config(&config(100, ""));
    a.ns.ip(&["-4", "addr", "flush", "dev", "eth0"]);
    let da = start(a, agent);
    let db = b.start_keepalived();
    // a (priority 200) has no IPv4 address: FAULT, so b is MASTER.
    assert!(
        wait_for(CONVERGE, || b.holds(VIP)).is_some(),
        "b should be MASTER\n{}",
        logs(&[&da, &db])
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(!a.holds(VIP), "a is in FAULT\n{}", logs(&[&da, &db]));
    assert!(
        da.log()
            .contains("entering FAULT state (no IPv4 address for interface)"),
        "{}",
        da.log()
    );
    // An address appears: a leaves FAULT and preempts.
    a.ns.ip(&["addr", "add", "198.51.100.1/24", "dev", "eth0"]);
    assert!(
        wait_for(CONVERGE, || a.holds(VIP) && !b.holds(VIP)).is_some(),
        "a should be MASTER\n{}",
        logs(&[&da, &db])
    );
    assert_eq!(advert_sources(b, 1), ["198.51.100.1"]);
    // Another address, then the first goes: the adverts come from the other one.
    a.ns.ip(&["addr", "add", "203.0.113.1/24", "dev", "eth0"]);
    a.ns.ip(&["addr", "del", "198.51.100.1/24", "dev", "eth0"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        advert_sources(b, 2),
        ["203.0.113.1", "203.0.113.1"],
        "{}",
        logs(&[&da, &db])
    );
    assert!(a.holds(VIP) && !b.holds(VIP), "{}", logs(&[&da, &db]));
    // The last one goes: FAULT again, b takes over.
    a.ns.ip(&["addr", "del", "203.0.113.1/24", "dev", "eth0"]);
    assert!(
        wait_for(CONVERGE, || b.holds(VIP) && !a.holds(VIP)).is_some(),
        "b should take over\n{}",
        logs(&[&da, &db])
    );
}

/// `track_src_ip` with `mcast_src_ip 198.51.100.1` on a, the interface's only address. The
/// man page says the instance goes to FAULT when that address is deleted; keepalived 2.2.7
/// does not (its check compares the address with the sockaddr holding it, which never
/// matches): a stays MASTER, sending from the address it no longer has. The agent does
/// the same (it takes the keyword with a note), and both are back to normal when the
/// address returns.
fn track_src_ip(agent: bool) {
    let lan = Lan::new(&format!("ts{}", u8::from(agent)), 2);
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    a.write_config(&config(200, "mcast_src_ip 198.51.100.1\n    track_src_ip"));
    b.write_config(&config(100, ""));
    let da = start(a, agent);
    let db = b.start_keepalived();
    assert!(
        wait_for(CONVERGE, || a.holds(VIP) && !b.holds(VIP)).is_some(),
        "a should be MASTER\n{}",
        logs(&[&da, &db])
    );
    a.ns.ip(&["addr", "del", "198.51.100.1/24", "dev", "eth0"]);
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        a.holds(VIP) && !b.holds(VIP),
        "a stays MASTER, as keepalived 2.2.7 does\n{}",
        logs(&[&da, &db])
    );
    assert!(!da.log().contains("FAULT"), "{}", da.log());
    assert_eq!(
        advert_sources(b, 2),
        ["198.51.100.1", "198.51.100.1"],
        "adverts still leave from the deleted address\n{}",
        logs(&[&da, &db])
    );
    a.ns.ip(&["addr", "add", "198.51.100.1/24", "dev", "eth0"]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        a.holds(VIP) && !b.holds(VIP),
        "a is still MASTER\n{}",
        logs(&[&da, &db])
    );
}
