//! VRRPv3 over IPv6 on the wire, as root, in throw-away namespaces on a bridge: hactl-agent
//! against real keepalived 2.2.7 with an IPv6 VIP (2001:db8:61::100/64, VRID 61).
//!
//! Who holds the VIP is read from `ip -6 addr` in each host's namespace. The adverts go from
//! each host's link-local address to ff02::12 with hop limit 255, and the new MASTER announces
//! the VIP with unsolicited Neighbour Advertisements; both are checked with tcpdump. Not root,
//! or no keepalived: the tests are reported as ignored, not passed.

#[allow(dead_code)] // helpers shared with other test binaries
mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::lan::{Daemon, Host, Lan, wait_for};
use common::netns::{is_root, run};
use hactl_agent::fsm::State;
use hactl_agent::status::{self, AgentStatus, InstanceStatus};
use libtest_mimic::{Arguments, Failed, Trial};
use nix::sys::signal::Signal;

const VIP: &str = "2001:db8:61::100";
/// Time to converge from a cold start: Master_Down_Interval at priority 100 is 3.61 s, plus
/// the wait for the link-local addresses.
const CONVERGE: Duration = Duration::from_secs(10);

// The harness lists each test as "ignored" when it cannot run; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    let keepalived = Command::new("keepalived").arg("--version").output().is_ok();
    let tcpdump = Command::new("tcpdump").arg("--version").output().is_ok();
    if !root {
        eprintln!("interop_ipv6: not root, so the namespace tests are SKIPPED (ignored)");
    } else if !keepalived || !tcpdump {
        eprintln!("interop_ipv6: keepalived or tcpdump not installed, so the tests are SKIPPED");
    }
    let tests: Vec<(&str, fn())> = vec![
        (
            "ipv6_keepalived_master_agent_backup_failover_sends_na_and_preempt",
            keepalived_master_agent_backup,
        ),
        (
            "ipv6_agent_master_keepalived_backup_adverts_accepted_and_graceful_handover",
            agent_master_keepalived_backup,
        ),
        (
            "ipv6_unicast_agent_master_keepalived_backup_and_back",
            unicast_agent_master_keepalived_backup,
        ),
        (
            "ipv6_no_link_local_address_is_fault_until_one_appears_agent",
            || no_link_local(true),
        ),
        (
            "ipv6_no_link_local_address_is_fault_until_one_appears_keepalived_reference",
            || no_link_local(false),
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| {
            Trial::test(name, move || {
                f();
                Ok::<(), Failed>(())
            })
            .with_ignored_flag(!root || !keepalived || !tcpdump)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// keepalived.conf for one host: one IPv6 instance (VRRPv3 by deduction, as keepalived does).
fn config(router_id: &str, priority: u8) -> String {
    format!(
        "global_defs {{
    router_id {router_id}
}}

vrrp_instance VI_6 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP}/64
    }}
}}
"
    )
}

/// An IPv6 unicast instance (VRID 71): adverts from `2001:db8:70::N` to the peer only.
fn unicast_config(router_id: &str, priority: u8, own: u8, peer: u8) -> String {
    format!(
        "global_defs {{
    router_id {router_id}
}}

vrrp_instance VI_6 {{
    state BACKUP
    interface eth0
    virtual_router_id 71
    priority {priority}
    advert_int 1
    unicast_src_ip 2001:db8:70::{own}
    unicast_peer {{
        2001:db8:70::{peer}
    }}
    virtual_ipaddress {{
        {VIP}/64
    }}
}}
"
    )
}

/// Two hosts whose eth0 has a usable (non-tentative) link-local address.
fn ipv6_lan(tag: &str) -> Lan {
    let lan = Lan::new(tag, 2);
    for h in &lan.hosts {
        run(&[
            "ip",
            "netns",
            "exec",
            &h.ns.name,
            "sysctl",
            "-qw",
            "net.ipv6.conf.eth0.forwarding=0",
        ]);
    }
    lan.wait_for_link_local();
    lan
}

/// The host's link-local address on eth0.
fn link_local(host: &Host) -> String {
    let text = host
        .ns
        .ip(&["-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]);
    let word = text
        .split_whitespace()
        .skip_while(|w| *w != "inet6")
        .nth(1)
        .expect("an inet6 address");
    word.split('/').next().expect("address").to_string()
}

fn holds(host: &Host) -> bool {
    host.ns
        .ip(&["-6", "addr", "show", "dev", "eth0"])
        .contains(&format!("inet6 {VIP}/64"))
}

/// Waits until host `owner` alone holds the VIP.
fn converged(hosts: &[Host], owner: usize, limit: Duration, logs: &[&Daemon]) -> Duration {
    let ok = || {
        hosts
            .iter()
            .enumerate()
            .all(|(i, h)| holds(h) == (i == owner))
    };
    match wait_for(limit, ok) {
        Some(took) => took,
        None => {
            let state: Vec<String> = hosts
                .iter()
                .map(|h| format!("{}: {}", h.name, holds(h)))
                .collect();
            let logs: Vec<String> = logs.iter().map(|d| d.log()).collect();
            panic!(
                "not converged in {limit:?} (want the VIP on host {owner}): {state:?}\n{}",
                logs.join("\n----\n")
            );
        }
    }
}

fn agent_instance(host: &Host) -> InstanceStatus {
    let s: AgentStatus = status::query(&host.socket()).expect("status socket answers");
    s.instances
        .into_iter()
        .find(|i| i.name == "VI_6")
        .expect("instance in status")
}

/// tcpdump writing a pcap in a host's namespace; killed on drop, so it never outlives a
/// failing test.
struct Capture {
    child: Child,
}

impl Capture {
    fn start(host: &Host, pcap: &Path, filter: &[&str]) -> Capture {
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &host.ns.name,
                "tcpdump",
                "-i",
                "eth0",
                "-U",
            ])
            // Without it packets wait in the capture ring for up to a second.
            .arg("--immediate-mode")
            .arg("-w")
            .arg(pcap)
            .args(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tcpdump runs");
        // Let it open the interface before anything worth seeing happens.
        std::thread::sleep(Duration::from_millis(800));
        Capture { child }
    }

    /// Stops the capture and decodes it (`tcpdump -r -nn -v`).
    fn stop(mut self, pcap: &Path) -> String {
        // SIGINT flushes the file.
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        let _ = nix::sys::signal::kill(pid, Signal::SIGINT);
        let _ = self.child.wait();
        let out = Command::new("tcpdump")
            .arg("-r")
            .arg(pcap)
            .args(["-nn", "-v"])
            .output()
            .expect("tcpdump -r");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// keepalived (priority 150) is MASTER and the agent (100) follows it; keepalived stops
/// gracefully and the agent takes the VIP within its skew time, announcing it with unsolicited
/// NAs; keepalived comes back and preempts.
fn keepalived_master_agent_backup() {
    let lan = ipv6_lan("6k");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    a.write_config(&config("lba", 150));
    b.write_config(&config("lbb", 100));
    let mut ka = a.start_keepalived();
    let db = b.start_agent();
    converged(&lan.hosts, 0, CONVERGE, &[&ka, &db]);
    // The agent follows keepalived's adverts and drops none of them.
    let a_ll = link_local(a);
    let heard = wait_for(Duration::from_secs(3), || {
        agent_instance(b).counters.adverts_received >= 2
    });
    assert!(heard.is_some(), "agent hears no adverts:\n{}", db.log());
    let vi = agent_instance(b);
    assert_eq!(vi.state, State::Backup, "{vi:?}");
    assert_eq!(vi.master.as_deref(), Some(a_ll.as_str()), "{vi:?}");
    assert!(
        vi.counters.drops.values().all(|n| *n == 0),
        "drops {:?}",
        vi.counters.drops
    );

    // Graceful stop: priority 0, then the agent is MASTER after its skew time (0.61 s).
    let pcap = b.etc().join("na.pcap");
    let capture = Capture::start(b, &pcap, &["icmp6", "and", "ip6[40]", "==", "136"]);
    ka.signal(Signal::SIGTERM);
    let took = converged(&lan.hosts, 1, Duration::from_secs(5), &[&ka, &db]);
    assert!(took < Duration::from_secs(3), "takeover took {took:?}");
    std::thread::sleep(Duration::from_millis(500));
    let text = capture.stop(&pcap);
    assert!(
        text.contains(&format!(
            "{VIP} > ff02::1: [icmp6 sum ok] ICMP6, neighbor advertisement"
        )) && text.contains(&format!("tgt is {VIP}, Flags [override]"))
            && text.contains("hlim 255"),
        "no unsolicited NA for the VIP from the agent:\n{text}\n{}",
        db.log()
    );
    let _ = ka.wait_exit(Duration::from_secs(5));
    assert_eq!(agent_instance(b).state, State::Master);

    // keepalived is back with the higher priority: it preempts, the agent yields the VIP.
    let ka2 = a.start_keepalived();
    converged(&lan.hosts, 0, CONVERGE, &[&ka2, &db]);
    assert_eq!(agent_instance(b).state, State::Backup);
}

/// The agent (priority 150) is MASTER; keepalived (100) stays BACKUP for longer than its
/// Master_Down_Interval, so it accepts the agent's adverts (checksum over the IPv6
/// pseudo-header, hop limit 255, address list); tcpdump decodes them as VRRPv3. A deleted VIP
/// is noticed and put back. At SIGTERM the agent sends priority 0 and keepalived takes the VIP
/// at once.
fn agent_master_keepalived_backup() {
    let lan = ipv6_lan("6a");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    a.write_config(&config("lba", 150));
    b.write_config(&config("lbb", 100));
    let pcap = b.etc().join("adverts.pcap");
    let capture = Capture::start(b, &pcap, &["ip6", "proto", "112"]);
    let mut da = a.start_agent();
    let kb = b.start_keepalived();
    converged(&lan.hosts, 0, CONVERGE, &[&da, &kb]);
    // keepalived's Master_Down_Interval at priority 100 is 3.61 s: stay converged past it.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        holds(a) && !holds(b),
        "keepalived took the VIP:\n{}",
        kb.log()
    );
    assert!(
        !kb.log().contains("Entering MASTER STATE"),
        "keepalived became MASTER:\n{}",
        kb.log()
    );
    let text = capture.stop(&pcap);
    let a_ll = link_local(a);
    assert!(
        text.contains(&format!(
            "{a_ll} > ff02::12: ip-proto-112 24\n\tVRRPv3, Advertisement, vrid 61, prio 150, intvl 100cs, length 24, addrs: {VIP}"
        )) || text.contains(&format!(
            "{a_ll} > ff02::12: VRRPv3, Advertisement, vrid 61, prio 150, intvl 100cs, length 24, addrs: {VIP}"
        )),
        "no VRRPv3 advert from the agent's link-local address:\n{text}"
    );
    assert!(text.contains("hlim 255"), "{text}");
    assert!(
        !text.contains("bad vrrp cksum"),
        "tcpdump finds a bad checksum:\n{text}"
    );

    // Someone deletes the IPv6 VIP on the MASTER: the agent notices (IPv6 address events),
    // hands over with priority 0 as keepalived does, and preempts back.
    a.ns.ip(&["-6", "addr", "del", &format!("{VIP}/64"), "dev", "eth0"]);
    let noticed = wait_for(Duration::from_secs(5), || {
        da.log()
            .contains("someone else deleted an address, route or rule of this MASTER")
    });
    assert!(
        noticed.is_some(),
        "agent missed the deletion:\n{}",
        da.log()
    );
    converged(&lan.hosts, 0, CONVERGE, &[&da, &kb]);

    // Graceful stop: priority 0, keepalived takes over after its skew time (0.61 s).
    da.signal(Signal::SIGTERM);
    let took = converged(&lan.hosts, 1, Duration::from_secs(5), &[&da, &kb]);
    assert!(took < Duration::from_secs(3), "handover took {took:?}");
    assert_eq!(da.wait_exit(Duration::from_secs(5)), Some(0));
}

/// Unicast over IPv6: the agent (priority 150, source 2001:db8:70::2) is MASTER and keepalived
/// (100, source ::1) stays BACKUP past its Master_Down_Interval, so it accepts the agent's
/// unicast adverts (checksum over the pseudo-header with the peer as destination). At SIGTERM
/// keepalived takes over; the agent, started again, hears keepalived's adverts without a drop
/// and preempts it.
fn unicast_agent_master_keepalived_backup() {
    let lan = ipv6_lan("6u");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    a.ns.ip(&["addr", "add", "2001:db8:70::1/64", "dev", "eth0", "nodad"]);
    b.ns.ip(&["addr", "add", "2001:db8:70::2/64", "dev", "eth0", "nodad"]);
    a.write_config(&unicast_config("lba", 100, 1, 2));
    b.write_config(&unicast_config("lbb", 150, 2, 1));
    let pcap = a.etc().join("unicast.pcap");
    let capture = Capture::start(a, &pcap, &["ip6", "proto", "112"]);
    let ka = a.start_keepalived();
    let mut db = b.start_agent();
    converged(&lan.hosts, 1, CONVERGE, &[&ka, &db]);
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        holds(b) && !holds(a),
        "keepalived took the VIP:\n{}",
        ka.log()
    );
    assert!(
        !ka.log().contains("Entering MASTER STATE"),
        "keepalived became MASTER:\n{}",
        ka.log()
    );
    let text = capture.stop(&pcap);
    assert!(
        text.contains("2001:db8:70::2 > 2001:db8:70::1: ")
            // keepalived's default for IPv6 unicast: the kernel's hop limit, 64.
            && text.contains("hlim 64")
            && text.contains("VRRPv3, Advertisement, (ttl 64), vrid 71, prio 150"),
        "no unicast VRRPv3 advert from the agent:\n{text}"
    );
    assert!(
        !text.contains("bad vrrp cksum"),
        "tcpdump finds a bad checksum:\n{text}"
    );

    db.signal(Signal::SIGTERM);
    converged(&lan.hosts, 0, Duration::from_secs(5), &[&ka, &db]);
    assert_eq!(db.wait_exit(Duration::from_secs(5)), Some(0));
    let db2 = b.start_agent();
    converged(&lan.hosts, 1, CONVERGE, &[&ka, &db2]);
    let vi = agent_instance(b);
    assert_eq!(vi.state, State::Master, "{vi:?}");
    assert!(vi.counters.adverts_received >= 1, "{vi:?}");
    assert!(
        vi.counters.drops.values().all(|n| *n == 0),
        "drops {:?}",
        vi.counters.drops
    );
}

/// Host a (priority 150) has no link-local address on eth0, only a global one: its instance
/// is in FAULT and b (keepalived, 100) is MASTER. A link-local address appears: a leaves
/// FAULT, preempts and advertises from it. It goes again: FAULT, b takes over. The same with
/// keepalived on a, the reference.
fn no_link_local(agent: bool) {
    let lan = ipv6_lan(if agent { "6la" } else { "6lk" });
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    a.write_config(&config("lba", 150));
    b.write_config(&config("lbb", 100));
    a.ns.ip(&["-6", "addr", "flush", "dev", "eth0", "scope", "link"]);
    a.ns.ip(&["addr", "add", "2001:db8:61::1/64", "dev", "eth0", "nodad"]);
    let da = if agent {
        a.start_agent()
    } else {
        a.start_keepalived()
    };
    let db = b.start_keepalived();
    converged(&lan.hosts, 1, CONVERGE, &[&da, &db]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(!holds(a), "a is in FAULT\n{}", da.log());
    assert!(
        da.log()
            .contains("entering FAULT state (no IPv6 address for interface)"),
        "{}",
        da.log()
    );
    if agent {
        assert_eq!(agent_instance(a).state, State::Fault);
    }
    a.ns.ip(&["addr", "add", "fe80::a/64", "dev", "eth0", "nodad"]);
    converged(&lan.hosts, 0, CONVERGE, &[&da, &db]);
    let pcap = b.etc().join("src.pcap");
    let capture = Capture::start(b, &pcap, &["ip6", "proto", "112"]);
    std::thread::sleep(Duration::from_millis(2500));
    let text = capture.stop(&pcap);
    assert!(
        text.contains("fe80::a > ff02::12"),
        "no adverts from the new link-local address:\n{text}"
    );
    a.ns.ip(&["addr", "del", "fe80::a/64", "dev", "eth0"]);
    converged(&lan.hosts, 1, CONVERGE, &[&da, &db]);
}
