//! No accept mode on the wire and on the host, against keepalived 2.2.7: `vrrp_strict`,
//! `strict_mode`, `no_accept` and `accept`, as root, in throw-away namespaces on a bridge.
//!
//! Host a runs the daemon under test (priority 200), host b a real keepalived (priority 100,
//! same instance), host c probes the VIP. Each scenario runs once with keepalived on a (the
//! reference: it shows what the test expects is what keepalived does) and once with the
//! agent. Checked: a becomes MASTER and b, keepalived, accepts its adverts (stays BACKUP);
//! a's nftables ruleset drops the VIPs (or not); c's ICMP echo and TCP connect to the VIP are
//! dropped (time out) or answered (echo reply, connection refused: nothing listens); after a
//! SIGTERM, a's table is gone.
//!
//! The IPv6 scenarios do the same with an IPv6 instance (a link-local VIP, a global VIP and
//! an excluded global address): the `ip6` table has keepalived's rules, c's ping and TCP to
//! the global addresses and its ping to the link-local VIP go unanswered, while neighbour
//! discovery for them still works (c resolves the VIP's MAC).
//!
//! Not root, or no keepalived or nft: the tests are reported as ignored, not passed.

#[allow(dead_code)] // helpers shared with other test binaries
mod common;

use std::process::Command;
use std::time::Duration;

use common::lan::{Host, Lan, agent_and_keepalived, logs, start, wait_for};
use common::netns::is_root;
use libtest_mimic::{Arguments, Failed, Trial};
use nix::sys::signal::Signal;

const VIP: &str = "198.51.100.100";
const EXCLUDED: &str = "198.51.100.101";
/// A cold start: within Master_Down_Interval (3.6 s) plus one advert.
const CONVERGE: Duration = Duration::from_secs(10);

/// One scenario: what goes in global_defs and the instance, and whether a MASTER drops.
struct Case {
    name: &'static str,
    global: &'static str,
    instance: &'static str,
    /// Host a's priority (b has 100).
    priority: u8,
    drops: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "vrrp_strict",
        global: "vrrp_strict",
        instance: "",
        priority: 200,
        drops: true,
    },
    Case {
        name: "strict_mode_v3_accept",
        global: "",
        instance: "version 3\n    strict_mode\n    accept",
        priority: 200,
        drops: false,
    },
    Case {
        name: "no_accept",
        global: "",
        instance: "no_accept",
        priority: 200,
        drops: true,
    },
    Case {
        name: "no_accept_then_accept",
        global: "",
        instance: "no_accept\n    accept",
        priority: 200,
        drops: false,
    },
    Case {
        name: "vrrp_strict_owner",
        global: "vrrp_strict",
        instance: "",
        priority: 255,
        drops: false,
    },
];

// The harness lists each test as "ignored" when it cannot run; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    let keepalived = Command::new("keepalived").arg("--version").output().is_ok();
    let nft = Command::new("nft").arg("--version").output().is_ok();
    let runnable = root && keepalived && nft;
    if !runnable {
        eprintln!(
            "interop_strict: needs root, keepalived and nft, so the tests are SKIPPED (ignored)"
        );
    }
    let mut trials = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        trials.extend(agent_and_keepalived(case.name, !runnable, move |agent| {
            scenario(i, &CASES[i], agent)
        }));
    }
    for (i, case) in CASES6.iter().enumerate() {
        trials.extend(agent_and_keepalived(
            &format!("ipv6_{}", case.name),
            !runnable,
            move |agent| scenario6(i, &CASES6[i], agent),
        ));
    }
    trials.push(
        Trial::test(
            "agent_backup_drops_nothing_and_removes_only_its_table",
            || {
                backup_and_cleanup();
                Ok::<(), Failed>(())
            },
        )
        .with_ignored_flag(!runnable),
    );
    libtest_mimic::run(&args, trials).exit();
}

fn config(case: &Case, priority: u8) -> String {
    format!(
        "global_defs {{
    router_id strict
    {global}
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
    {instance}
    virtual_ipaddress {{
        {VIP}
    }}
    virtual_ipaddress_excluded {{
        {EXCLUDED}
    }}
}}
",
        global = case.global,
        instance = case.instance,
    )
}

/// `nft list ruleset` in `host`.
fn ruleset(host: &Host) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &host.ns.name, "nft", "list", "ruleset"])
        .output()
        .expect("nft runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `from` gets an ICMP echo reply from `to` within a second.
fn pings(from: &Host, to: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", &from.ns.name, "ping", "-c1", "-W1", to])
        .output()
        .expect("ping runs")
        .status
        .success()
}

/// A TCP connect from `from` to port 80 of `to`, where nothing listens: `Some(false)` for a
/// refused connection (the host answered with a reset), `None` if nothing came back in 2 s.
fn tcp_answered(from: &Host, to: &str) -> Option<bool> {
    let script = format!("exec 3<>/dev/tcp/{to}/80");
    let status = Command::new("ip")
        .args(["netns", "exec", &from.ns.name, "timeout", "2", "bash", "-c"])
        .arg(&script)
        .output()
        .expect("bash runs")
        .status;
    match status.code() {
        Some(124) => None,
        Some(0) => Some(true),
        _ => Some(false),
    }
}

/// The table the daemon under test uses.
fn table(agent: bool) -> &'static str {
    if agent {
        "table ip hactl_agent"
    } else {
        "table ip keepalived"
    }
}

fn scenario(index: usize, case: &Case, agent: bool) {
    let lan = Lan::new(&format!("st{index}{}", u8::from(agent)), 3);
    let (a, b, c) = (&lan.hosts[0], &lan.hosts[1], &lan.hosts[2]);
    a.write_config(&config(case, case.priority));
    b.write_config(&config(case, 100));
    let mut da = start(a, agent);
    let db = b.start_keepalived();
    let converged = wait_for(CONVERGE, || a.holds(VIP) && !b.holds(VIP));
    assert!(
        converged.is_some(),
        "{}: a should be MASTER and b BACKUP\n{}",
        case.name,
        logs(&[&da, &db])
    );
    // Give b a few adverts to disagree with, if it would.
    std::thread::sleep(Duration::from_secs(2));
    assert!(!b.holds(VIP), "b took over\n{}", logs(&[&da, &db]));

    let rules = ruleset(a);
    let vip_dropped = rules.contains(table(agent))
        && rules.contains("ip daddr @vips drop")
        && rules.contains(&format!("elements = {{ {VIP}, {EXCLUDED} }}"));
    assert_eq!(
        vip_dropped,
        case.drops,
        "{}: a's ruleset\n{rules}\n{}",
        case.name,
        logs(&[&da])
    );
    // The probes: a's own address always answers, the VIPs only in accept mode.
    assert!(pings(c, &a.addr), "c cannot reach a at all");
    assert_eq!(tcp_answered(c, &a.addr), Some(false), "a's own address");
    for addr in [VIP, EXCLUDED] {
        assert_eq!(pings(c, addr), !case.drops, "{}: ping {addr}", case.name);
        let tcp = tcp_answered(c, addr);
        assert_eq!(
            tcp.is_none(),
            case.drops,
            "{}: TCP to {addr}: {tcp:?}",
            case.name
        );
    }

    // A graceful stop takes the VIPs, the rules and the table away; b takes over.
    da.signal(Signal::SIGTERM);
    assert!(da.wait_exit(Duration::from_secs(5)).is_some() || !agent);
    let gone = wait_for(CONVERGE, || {
        !a.holds(VIP) && b.holds(VIP) && !ruleset(a).contains(table(agent))
    });
    assert!(
        gone.is_some(),
        "{}: after SIGTERM a's ruleset\n{}\n{}",
        case.name,
        ruleset(a),
        logs(&[&da, &db])
    );
}

/// The agent as BACKUP (priority 50) under keepalived's MASTER: its table is there (made at
/// start, so a missing nft shows at once) but drops nothing; a table of another owner stays
/// untouched when it goes, and a stale table of its own from a killed run is replaced.
fn backup_and_cleanup() {
    let case = &CASES[0];
    let lan = Lan::new("stbk", 3);
    let (a, b, c) = (&lan.hosts[0], &lan.hosts[1], &lan.hosts[2]);
    a.write_config(&config(case, 50));
    b.write_config(&config(case, 100));
    // Someone else's table, and a stale one of ours holding the VIP.
    let nft = |host: &Host, script: &str| {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &host.ns.name, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("nft runs");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("write");
        assert!(child.wait().expect("nft exits").success(), "{script}");
    };
    nft(
        a,
        "add table ip other\n\
         add chain ip other in { type filter hook input priority 0; policy accept; }\n\
         add table ip hactl_agent\n\
         add set ip hactl_agent vips { type ipv4_addr; }\n\
         add element ip hactl_agent vips { 198.51.100.100 }\n\
         add chain ip hactl_agent in { type filter hook input priority -1; policy accept; }\n\
         add rule ip hactl_agent in ip daddr @vips drop\n",
    );
    let db = b.start_keepalived();
    assert!(
        wait_for(CONVERGE, || b.holds(VIP)).is_some(),
        "{}",
        db.log()
    );
    let mut da = a.start_agent();
    std::thread::sleep(Duration::from_secs(5));
    assert!(!a.holds(VIP) && b.holds(VIP), "{}", logs(&[&da, &db]));
    let rules = ruleset(a);
    assert!(
        rules.contains("table ip hactl_agent") && !rules.contains("elements"),
        "the stale set should be replaced by an empty one:\n{rules}"
    );
    // a's own address stays reachable: its rules drop nothing else.
    assert!(pings(c, &a.addr));
    da.signal(Signal::SIGTERM);
    da.wait_exit(Duration::from_secs(5));
    let rules = ruleset(a);
    assert!(!rules.contains("hactl_agent"), "{rules}");
    assert!(
        rules.contains("table ip other"),
        "not ours to remove:\n{rules}"
    );
}

const VIP6: &str = "2001:db8:62::100";
const VIP6_LL: &str = "fe80::62";
const EXCLUDED6: &str = "2001:db8:62::101";

/// An IPv6 scenario: what goes in global_defs and the instance, and the rule the link-local
/// VIP goes by (by interface index, or by name with `dont_track_primary`).
struct Case6 {
    name: &'static str,
    global: &'static str,
    instance: &'static str,
    link_local_rule: &'static str,
}

const CASES6: &[Case6] = &[
    Case6 {
        name: "no_accept",
        global: "",
        instance: "no_accept",
        link_local_rule: "ip6 daddr . iif @vips_link_local drop",
    },
    Case6 {
        name: "vrrp_strict_dont_track_primary",
        global: "vrrp_strict",
        instance: "dont_track_primary",
        link_local_rule: "ip6 daddr . iifname @vips_link_local_name drop",
    },
];

fn config6(case: &Case6, priority: u8) -> String {
    format!(
        "global_defs {{
    router_id strict6
    {global}
}}

vrrp_instance VI_6 {{
    interface eth0
    virtual_router_id 62
    priority {priority}
    advert_int 1
    {instance}
    virtual_ipaddress {{
        {VIP6_LL}/64
        {VIP6}/64
    }}
    virtual_ipaddress_excluded {{
        {EXCLUDED6}/64
    }}
}}
",
        global = case.global,
        instance = case.instance,
    )
}

fn holds6(host: &Host) -> bool {
    host.ns
        .ip(&["-6", "addr", "show", "dev", "eth0"])
        .contains(&format!("inet6 {VIP6}/64"))
}

/// The `ip6` table of the daemon under test in `rules`, whitespace collapsed.
fn table6(rules: &str, agent: bool) -> Option<String> {
    let name = if agent { "hactl_agent" } else { "keepalived" };
    let start = rules.find(&format!("table ip6 {name} {{"))?;
    let text = &rules[start..];
    let end = text.find("\n}").map_or(text.len(), |e| e + 2);
    Some(text[..end].split_whitespace().collect::<Vec<_>>().join(" "))
}

fn scenario6(index: usize, case: &Case6, agent: bool) {
    let lan = Lan::new(&format!("s6{index}{}", u8::from(agent)), 3);
    let (a, b, c) = (&lan.hosts[0], &lan.hosts[1], &lan.hosts[2]);
    // c gets an address in the VIPs' prefix (so it reaches them on the link) and every host
    // a usable link-local address (VRRP over IPv6 is sent from it).
    c.ns.ip(&[
        "-6",
        "addr",
        "add",
        "2001:db8:62::3/64",
        "dev",
        "eth0",
        "nodad",
    ]);
    lan.wait_for_link_local();
    // a's own link-local address, before the VIPs come (one of them is link-local too).
    let a_ll =
        a.ns.ip(&["-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"])
            .split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)
            .and_then(|w| w.split('/').next())
            .expect("a's link-local address")
            .to_string();
    a.write_config(&config6(case, 200));
    b.write_config(&config6(case, 100));
    let mut da = start(a, agent);
    let db = b.start_keepalived();
    let converged = wait_for(CONVERGE, || holds6(a) && !holds6(b));
    assert!(
        converged.is_some(),
        "{}: a should be MASTER and b BACKUP\n{}",
        case.name,
        logs(&[&da, &db])
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(!holds6(b), "b took over\n{}", logs(&[&da, &db]));

    let rules = ruleset(a);
    let table = table6(&rules, agent)
        .unwrap_or_else(|| panic!("{}: no ip6 table in a's ruleset\n{rules}", case.name));
    for rule in [
        "type filter hook input priority filter - 1; policy accept; \
         icmpv6 type @neighbor-discovery accept \
         ip6 daddr fe80::/10 goto in_link_local ip6 daddr @vips drop }",
        "type filter hook output priority filter - 1; policy accept; \
         icmpv6 type @neighbor-discovery accept \
         ip6 saddr fe80::/10 goto out_link_local ip6 saddr @vips drop }",
        "elements = { nd-neighbor-solicit, nd-neighbor-advert }",
        case.link_local_rule,
        &format!("{VIP6_LL} . \"eth0\""),
        VIP6,
        EXCLUDED6,
    ] {
        assert!(
            table.contains(rule),
            "{}: {rule:?} not in a's ip6 table\n{rules}",
            case.name
        );
    }

    // The probes: a's own link-local address answers, the VIPs do not; neighbour discovery
    // for them still works.
    assert!(pings(c, &format!("{a_ll}%eth0")), "c cannot reach a at all");
    assert!(
        !pings(c, &format!("{VIP6_LL}%eth0")),
        "{}: ping {VIP6_LL}",
        case.name
    );
    for addr in [VIP6, EXCLUDED6] {
        assert!(!pings(c, addr), "{}: ping {addr}", case.name);
        let tcp = tcp_answered(c, addr);
        assert!(tcp.is_none(), "{}: TCP to {addr}: {tcp:?}", case.name);
        let neigh = c.ns.ip(&["-6", "neigh", "show", addr, "dev", "eth0"]);
        assert!(
            neigh.contains("lladdr") && !neigh.contains("FAILED"),
            "{}: c did not resolve {addr}: {neigh:?}\n{rules}",
            case.name
        );
    }

    // A graceful stop takes the VIPs and the ip6 table away; b takes over.
    da.signal(Signal::SIGTERM);
    assert!(da.wait_exit(Duration::from_secs(5)).is_some() || !agent);
    let gone = wait_for(CONVERGE, || {
        !holds6(a) && holds6(b) && table6(&ruleset(a), agent).is_none()
    });
    assert!(
        gone.is_some(),
        "{}: after SIGTERM a's ruleset\n{}\n{}",
        case.name,
        ruleset(a),
        logs(&[&da, &db])
    );
    let rules = ruleset(a);
    assert!(!rules.contains("hactl_agent"), "{rules}");
}
