//! `use_vmac` (and `vmac_xmit_base`) against keepalived 2.2.7, as root, in throw-away
//! namespaces on a bridge.
//!
//! Host a runs the daemon under test (priority 200), host b a real keepalived (priority 100),
//! both with `use_vmac`. Each case runs once with keepalived on a (the reference, so that
//! every expectation below is keepalived's own behaviour) and once with the agent:
//! - the VMAC `vrrp.63`: macvlan mode private, MAC 00:00:5e:00:01:3f, addrgenmode none, up
//!   (on b too, which is BACKUP), its sysctls and the base interface's, all.rp_filter cleared;
//! - the VIP on the VMAC of the MASTER only;
//! - on the wire (tcpdump -e on a's bridge port): adverts from the virtual MAC with a's own
//!   address as source (from eth0's MAC with `vmac_xmit_base`), gratuitous ARPs from the
//!   virtual MAC;
//! - a's VMAC set down: FAULT, b takes over; up again: a takes the VIP back;
//! - failover a -> b when a stops, b -> a when it comes back;
//! - at stop: the VMAC and the nftables table gone, all.rp_filter back, the base interface's
//!   arp_ignore/arp_filter left at 1 (as keepalived 2.2.7 leaves them);
//! - interfaces already there: a veth holding the default name makes it `vrrp1.VRID`, a
//!   matching private macvlan is taken over under its own name and deleted at stop.
//!
//! - `garp_extra_if 2 all` (with a second interface, eth1, holding two VIPs with `dev eth1`):
//!   while MASTER, a gratuitous ARP for the first address of eth1 every 2 s or so (at the
//!   advert after each delay), from eth1's MAC, none for the second; with `vmac_xmit_base`
//!   also one for the VMAC's first VIP, from the virtual MAC.
//!
//! Not root, or no keepalived: the tests are reported as ignored, not passed.

#[allow(dead_code)] // helpers shared with other test binaries
mod common;

use std::fs;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::lan::{Host, Lan, agent_and_keepalived, logs, start, wait_for};
use common::netns::is_root;
use libtest_mimic::Arguments;
use nix::sys::signal::Signal;

const VIP: &str = "198.51.100.100";
const VMAC: &str = "vrrp.63";
const VIRTUAL_MAC: &str = "00:00:5e:00:01:3f";
const CONVERGE: Duration = Duration::from_secs(10);

// The harness lists each test as "ignored" when it cannot run; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    let tools = ["keepalived", "tcpdump", "nft"]
        .iter()
        .all(|t| Command::new(t).arg("--version").output().is_ok());
    if !root || !tools {
        eprintln!(
            "interop_vmac: needs root, keepalived, tcpdump and nft, so the tests are SKIPPED \
             (ignored)"
        );
    }
    let ignored = !root || !tools;
    let mut trials = Vec::new();
    for xmit_base in [false, true] {
        let what = if xmit_base {
            "use_vmac_with_vmac_xmit_base"
        } else {
            "use_vmac"
        };
        trials.extend(agent_and_keepalived(what, ignored, move |agent| {
            vmac(agent, xmit_base)
        }));
    }
    trials.extend(agent_and_keepalived(
        "existing_interfaces",
        ignored,
        existing_interfaces,
    ));
    for xmit_base in [false, true] {
        let base = if xmit_base { "_vmac_xmit_base" } else { "" };
        trials.extend(agent_and_keepalived(
            &format!("garp_extra_if{base}"),
            ignored,
            move |agent| garp_extra_if(agent, xmit_base),
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn config(priority: u8, xmit_base: bool) -> String {
    let xmit = if xmit_base { "vmac_xmit_base" } else { "" };
    format!(
        "global_defs {{
    router_id vmac
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 63
    priority {priority}
    advert_int 1
    use_vmac
    {xmit}
    virtual_ipaddress {{
        {VIP}
    }}
}}
"
    )
}

fn sysctl(host: &Host, key: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &host.ns.name, "cat"])
        .arg(format!("/proc/sys/net/{key}"))
        .output()
        .expect("cat runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn set_sysctl(host: &Host, key: &str, value: &str) {
    common::netns::run(&[
        "ip",
        "netns",
        "exec",
        &host.ns.name,
        "sh",
        "-c",
        &format!("echo {value} > /proc/sys/net/{key}"),
    ]);
}

/// `ip -d link show vrrp.63`, or "" when it does not exist.
fn vmac_link(host: &Host) -> String {
    let out = Command::new("ip")
        .args(["-n", &host.ns.name, "-d", "link", "show", VMAC])
        .output()
        .expect("ip runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn vmac_holds(host: &Host) -> bool {
    vmac_link(host).contains(VMAC)
        && host
            .ns
            .ip(&["-4", "addr", "show", "dev", VMAC])
            .contains(&format!("inet {VIP}/32"))
}

fn nft_ruleset(host: &Host) -> String {
    common::netns::run(&[
        "ip",
        "netns",
        "exec",
        &host.ns.name,
        "nft",
        "list",
        "ruleset",
    ])
}

/// tcpdump on a's bridge port, line by line into a file, until killed.
struct Capture {
    child: Child,
    path: std::path::PathBuf,
}

impl Capture {
    fn start(lan: &Lan, dir: &std::path::Path) -> Capture {
        Capture::start_on(lan, dir, "va")
    }

    /// On the bridge-side end `port` of one of a's interfaces.
    fn start_on(lan: &Lan, dir: &std::path::Path, port: &str) -> Capture {
        let path = dir.join(format!("capture-{port}.txt"));
        let out = fs::File::create(&path).expect("capture file");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lan.bridge.name,
                "tcpdump",
                "-l",
                "-e",
                "-n",
            ])
            .args(["-i", port, "vrrp or arp"])
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .expect("tcpdump starts");
        // tcpdump needs a moment before it sees packets.
        std::thread::sleep(Duration::from_millis(500));
        Capture { child, path }
    }

    fn text(&self) -> String {
        fs::read_to_string(&self.path).unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vmac(agent: bool, xmit_base: bool) {
    let lan = Lan::new(&format!("vm{}{}", u8::from(xmit_base), u8::from(agent)), 2);
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let eth0_mac =
        a.ns.ip(&["-br", "link", "show", "eth0"])
            .split_whitespace()
            .nth(2)
            .expect("eth0's MAC")
            .to_owned();
    // all.rp_filter on: keepalived clears it while VMACs run, after raising the others.
    set_sysctl(a, "ipv4/conf/all/rp_filter", "1");
    a.write_config(&config(200, xmit_base));
    b.write_config(&config(100, xmit_base));
    let capture = Capture::start(&lan, a.etc());
    let db = b.start_keepalived();
    // b is BACKUP until it has heard no one for its master-down interval.
    let mut da = start(a, agent);
    assert!(
        wait_for(CONVERGE, || vmac_holds(a)
            && !vmac_holds(b)
            && vmac_link(b).contains(VMAC))
        .is_some(),
        "a should be MASTER on its VMAC, b BACKUP with one\n{}",
        logs(&[&da, &db])
    );
    for (host, who) in [(a, "a"), (b, "b (BACKUP)")] {
        let link = vmac_link(host);
        for want in [
            "macvlan mode private",
            &format!("link/ether {VIRTUAL_MAC} "),
            "addrgenmode none",
            ",UP,LOWER_UP>",
        ] {
            assert!(link.contains(want), "{who}'s VMAC lacks {want:?}:\n{link}");
        }
        assert!(link.contains(&format!("{VMAC}@eth0:")), "{who}: {link}");
    }
    assert!(
        !a.holds(VIP),
        "the VIP must be on the VMAC, not on eth0\n{}",
        da.log()
    );
    for (key, want) in [
        ("ipv4/conf/vrrp.63/arp_ignore", "1"),
        ("ipv4/conf/vrrp.63/accept_local", "1"),
        ("ipv4/conf/vrrp.63/rp_filter", "0"),
        ("ipv4/conf/vrrp.63/promote_secondaries", "1"),
        ("ipv6/conf/vrrp.63/disable_ipv6", "1"),
        ("ipv4/conf/eth0/arp_ignore", "1"),
        ("ipv4/conf/eth0/arp_filter", "1"),
        ("ipv4/conf/eth0/rp_filter", "1"),
        ("ipv4/conf/all/rp_filter", "0"),
    ] {
        assert_eq!(sysctl(a, key), want, "{key}\n{}", da.log());
    }
    let rules = nft_ruleset(a);
    assert!(
        rules.contains("elements = { \"vrrp.63\" : \"eth0\" }")
            && rules.contains(
                "ip protocol igmp meta oifkind \"macvlan\" dup to ip daddr device oif map @vmac_map drop"
            ),
        "the IGMP map rule:\n{rules}"
    );
    // Let a few adverts go by, then read the capture.
    std::thread::sleep(Duration::from_secs(2));
    let text = capture.text();
    let advert_mac = if xmit_base {
        eth0_mac.as_str()
    } else {
        VIRTUAL_MAC
    };
    let adverts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("VRRPv2, Advertisement, vrid 63, prio 200"))
        .collect();
    assert!(!adverts.is_empty(), "no advert from a:\n{text}");
    for l in &adverts {
        assert!(
            l.contains(&format!("{advert_mac} > 01:00:5e:00:00:12"))
                && l.contains(&format!("{} > 224.0.0.18", a.addr)),
            "advert not from {advert_mac} / {}: {l}\n{text}",
            a.addr
        );
    }
    let garps: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ARP") && l.contains(VIP))
        .collect();
    assert!(!garps.is_empty(), "no gratuitous ARP:\n{text}");
    for l in &garps {
        assert!(
            l.contains(&format!("{VIRTUAL_MAC} > ff:ff:ff:ff:ff:ff")),
            "gratuitous ARP not from the virtual MAC: {l}"
        );
    }
    drop(capture);

    // keepalived tracks the VMAC like the instance's own interface: down is FAULT (b takes
    // over), up again and a, with the higher priority, takes the VIP back.
    a.ns.ip(&["link", "set", VMAC, "down"]);
    assert!(
        wait_for(CONVERGE, || vmac_holds(b)).is_some(),
        "b should take over while a's VMAC is down\n{}",
        logs(&[&da, &db])
    );
    assert!(
        !a.ns
            .ip(&["-4", "addr", "show", "dev", VMAC])
            .contains(&format!("inet {VIP}/")),
        "a in FAULT keeps no VIP\n{}",
        da.log()
    );
    a.ns.ip(&["link", "set", VMAC, "up"]);
    assert!(
        wait_for(CONVERGE, || vmac_holds(a) && !vmac_holds(b)).is_some(),
        "a should be MASTER again once its VMAC is up\n{}",
        logs(&[&da, &db])
    );

    // a stops: b takes over; a's VMAC, rules and rp_filter change are gone.
    da.signal(Signal::SIGTERM);
    da.wait_exit(Duration::from_secs(5));
    assert!(
        wait_for(CONVERGE, || vmac_holds(b)).is_some(),
        "b should take over\n{}",
        logs(&[&da, &db])
    );
    assert_eq!(
        vmac_link(a),
        "",
        "a's VMAC outlived the daemon\n{}",
        da.log()
    );
    assert_eq!(nft_ruleset(a).trim(), "", "a's nftables table outlived it");
    assert_eq!(sysctl(a, "ipv4/conf/all/rp_filter"), "1", "{}", da.log());
    assert_eq!(sysctl(a, "ipv4/conf/eth0/arp_ignore"), "1");
    assert_eq!(sysctl(a, "ipv4/conf/eth0/arp_filter"), "1");

    // a comes back and, with the higher priority, takes the VIP back from b.
    let da = start(a, agent);
    assert!(
        wait_for(CONVERGE, || vmac_holds(a) && !vmac_holds(b)).is_some(),
        "a should be MASTER again\n{}",
        logs(&[&da, &db])
    );
    assert!(vmac_link(b).contains(VMAC), "b keeps its VMAC as BACKUP");
}

/// `host` holds `vip`/32 on `ifname`.
fn holds_on(host: &Host, ifname: &str, vip: &str) -> bool {
    let out = Command::new("ip")
        .args(["-n", &host.ns.name, "-4", "addr", "show", "dev", ifname])
        .output()
        .expect("ip runs");
    String::from_utf8_lossy(&out.stdout).contains(&format!("inet {vip}/32"))
}

fn link_exists(host: &Host, ifname: &str) -> bool {
    Command::new("ip")
        .args(["-n", &host.ns.name, "link", "show", ifname])
        .output()
        .expect("ip runs")
        .status
        .success()
}

/// Interfaces that are there before the daemon: a non-macvlan holding the default name
/// (`vrrp.63`, a veth here) makes the name `vrrp1.63` and is left alone; a private macvlan on
/// eth0 with the virtual MAC of VRID 64 is taken over under its own name (`mine64`, though the
/// config says `vm64`) and deleted at stop, as keepalived deletes it.
fn existing_interfaces(agent: bool) {
    let lan = Lan::new(&format!("vx{}", u8::from(agent)), 1);
    let a = &lan.hosts[0];
    a.ns.ip(&[
        "link", "add", VMAC, "type", "veth", "peer", "name", "peer63",
    ]);
    a.ns.ip(&[
        "link", "add", "mine64", "link", "eth0", "type", "macvlan", "mode", "private",
    ]);
    a.ns.ip(&[
        "link",
        "set",
        "mine64",
        "address",
        "00:00:5e:00:01:40",
        "up",
    ]);
    a.write_config(&format!(
        "{}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 64
    priority 200
    advert_int 1
    use_vmac vm64
    virtual_ipaddress {{
        198.51.100.101
    }}
}}
",
        config(200, false)
    ));
    let mut da = start(a, agent);
    assert!(
        wait_for(CONVERGE, || holds_on(a, "vrrp1.63", VIP)
            && holds_on(a, "mine64", "198.51.100.101"))
        .is_some(),
        "VI_1 on vrrp1.63, VI_2 on mine64\n{}",
        da.log()
    );
    assert!(!link_exists(a, "vm64"), "no vm64 beside mine64");
    assert!(
        vmac_link(a).contains("veth"),
        "the veth is left as it is:\n{}",
        vmac_link(a)
    );
    da.signal(Signal::SIGTERM);
    da.wait_exit(Duration::from_secs(5));
    assert!(!link_exists(a, "vrrp1.63"), "{}", da.log());
    assert!(
        !link_exists(a, "mine64"),
        "the taken-over VMAC is deleted too"
    );
    assert!(link_exists(a, VMAC), "the veth stays");
}

const EXTRA_VIP: &str = "198.51.100.101";
const ETH1_FIRST: &str = "203.0.113.63";
const ETH1_SECOND: &str = "203.0.113.64";

/// `garp_extra_if 2 all` with `use_vmac`: a alone (it becomes MASTER), with a second
/// interface eth1 whose peer `wa` sits unbridged in the bridge namespace.
fn garp_extra_if(agent: bool, xmit_base: bool) {
    let lan = Lan::new(&format!("ge{}{}", u8::from(xmit_base), u8::from(agent)), 1);
    let a = &lan.hosts[0];
    lan.bridge.ip(&[
        "link", "add", "wa", "type", "veth", "peer", "name", "eth1", "netns", &a.ns.name,
    ]);
    lan.bridge.ip(&["link", "set", "wa", "up"]);
    a.ns.ip(&["link", "set", "eth1", "up"]);
    a.ns.ip(&["addr", "add", "203.0.113.1/24", "dev", "eth1"]);
    let eth1_mac =
        a.ns.ip(&["-o", "link", "show", "eth1"])
            .split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .expect("eth1's MAC")
            .to_string();
    let xmit = if xmit_base { "vmac_xmit_base" } else { "" };
    a.write_config(&format!(
        "global_defs {{
    router_id garpextra
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 63
    priority 200
    advert_int 1
    use_vmac
    {xmit}
    garp_extra_if 2 all
    virtual_ipaddress {{
        {VIP}
        {EXTRA_VIP}
        {ETH1_FIRST}/24 dev eth1
        {ETH1_SECOND}/24 dev eth1
    }}
}}
"
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let on_eth0 = Capture::start_on(&lan, dir.path(), "va");
    let on_eth1 = Capture::start_on(&lan, dir.path(), "wa");
    let mut da = start(a, agent);
    let master = wait_for(CONVERGE, || vmac_holds(a));
    assert!(master.is_some(), "a should be MASTER\n{}", da.log());
    std::thread::sleep(Duration::from_secs(11));
    let (eth0_text, eth1_text) = (on_eth0.text(), on_eth1.text());
    let arps = |text: &str, addr: &str, mac: &str| {
        text.lines()
            .filter(|l| {
                l.contains("ARP")
                    && l.contains(&format!("Request who-has {addr} "))
                    && l.contains(&format!("tell {addr},"))
                    && l.contains(&format!(" {mac} > "))
            })
            .count()
    };
    // The bursts (5 at once, 5 more after garp_master_delay) announce both eth1 addresses
    // alike; only the first one gets the extra rounds. keepalived sends the bursts of a VIP
    // on another interface on that interface, the agent on the VMAC: count on both.
    let on_eth1 = |addr: &str| arps(&eth1_text, addr, &eth1_mac);
    let bursts = |addr: &str| on_eth1(addr) + arps(&eth0_text, addr, VIRTUAL_MAC);
    let extra_eth1 = bursts(ETH1_FIRST) - bursts(ETH1_SECOND);
    // 11 s of MASTER at one round per 2 s, checked at the 1 s adverts (keepalived: 5).
    assert!(
        (4..=6).contains(&extra_eth1),
        "{extra_eth1} extra rounds on eth1\neth1:\n{eth1_text}\neth0:\n{eth0_text}\n{}",
        da.log()
    );
    // They leave by eth1 with eth1's MAC.
    assert!(on_eth1(ETH1_FIRST) >= extra_eth1, "eth1:\n{eth1_text}");
    // The VMAC's addresses: extra rounds only with vmac_xmit_base, from the virtual MAC.
    let extra_vmac = arps(&eth0_text, VIP, VIRTUAL_MAC) - arps(&eth0_text, EXTRA_VIP, VIRTUAL_MAC);
    if xmit_base {
        assert!(
            (4..=6).contains(&extra_vmac),
            "{extra_vmac} extra rounds on the VMAC\n{eth0_text}"
        );
    } else {
        assert_eq!(extra_vmac, 0, "{eth0_text}");
    }
    da.signal(Signal::SIGTERM);
    da.wait_exit(Duration::from_secs(5));
}
