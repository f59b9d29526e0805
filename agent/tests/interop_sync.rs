//! Sync groups, virtual/static addresses, routes and rules on the wire and in the kernel, as
//! root, in throw-away namespaces on a bridge: each scenario runs once with keepalived 2.2.7
//! where the agent will be and checks keepalived does what the test expects, then with the
//! agent there, checking it does the same (`ip addr`, `ip route`, `ip rule`, notify logs).
//!
//! Not root, or no keepalived: the tests are reported as ignored, not passed.

#[allow(dead_code)] // helpers shared with other test binaries
mod common;

use std::process::Command;
use std::time::Duration;

use common::lan::{Daemon, Host, Lan, start, wait_for};
use common::netns::is_root;
use libtest_mimic::{Arguments, Failed, Trial};

const VIP14: &str = "198.51.100.100";
const VIP24: &str = "198.51.100.200";
/// From a cold start: a sync group may wait one Master_Down_Interval more than an instance.
const CONVERGE: Duration = Duration::from_secs(12);
/// A priority 0 advert hands over after the backup's skew time; FAULT is seen within a
/// script interval.
const HANDOVER: Duration = Duration::from_secs(5);

// The harness lists each test as "ignored" when it cannot run; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    let keepalived = Command::new("keepalived").arg("--version").output().is_ok();
    if !root || !keepalived {
        eprintln!("interop_sync: needs root and keepalived, so the tests are SKIPPED (ignored)");
    }
    let tests: Vec<(&str, fn())> = vec![
        (
            "sync_group_track_fault_on_agent_master_moves_both_vips_to_keepalived",
            || group_fault_moves_both(Role::AgentMaster),
        ),
        (
            "sync_group_track_fault_on_keepalived_master_moves_both_vips_to_agent",
            || group_fault_moves_both(Role::AgentBackup),
        ),
        (
            "sync_group_track_fault_keepalived_vs_keepalived_reference",
            || group_fault_moves_both(Role::Reference),
        ),
        ("sync_group_holds_a_member_back_like_keepalived", || {
            group_holds_member(false)
        }),
        (
            "sync_group_holds_a_member_back_keepalived_reference",
            || group_holds_member(true),
        ),
        (
            "routes_rules_excluded_and_static_entries_match_keepalived_in_the_kernel",
            routes_rules_statics,
        ),
        (
            "address_owner_returns_from_fault_through_backup_like_keepalived",
            owner_after_fault,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| {
            Trial::test(name, move || {
                f();
                Ok::<(), Failed>(())
            })
            .with_ignored_flag(!root || !keepalived)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Who runs what in the two-host sync group scenario.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// The agent on the master (a), keepalived on the backup (b).
    AgentMaster,
    /// keepalived on a, the agent on b.
    AgentBackup,
    /// keepalived on both: what the test expects of keepalived itself.
    Reference,
}

/// A sync group G of VI_1 (VRID 14, .100) and VI_r2 (VRID 24, .200) at `priority`; VI_1
/// tracks `chk_down` (weight 0: FAULT while /etc/keepalived/down exists). The group's
/// generic `notify` appends its arguments to /etc/keepalived/group.log, VI_1's to
/// /etc/keepalived/vi1.log.
fn group_config(router_id: &str, priority: u8) -> String {
    format!(
        "global_defs {{
    router_id {router_id}
    vrrp_mcast_group4 224.0.100.19
    enable_script_security
    script_user root
}}

vrrp_script chk_down {{
    script \"/bin/test ! -f /etc/keepalived/down\"
    interval 1
}}

vrrp_sync_group G {{
    group {{
        VI_1
        VI_r2
    }}
    notify \"/bin/sh -c 'echo $* >> /etc/keepalived/group.log' notify\"
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 14
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP14}
    }}
    track_script {{
        chk_down
    }}
    notify \"/bin/sh -c 'echo $* >> /etc/keepalived/vi1.log' notify\"
}}

vrrp_instance VI_r2 {{
    interface eth0
    virtual_router_id 24
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP24}
    }}
}}
"
    )
}

/// Which of the two hosts hold each VIP.
fn holders(hosts: &[Host]) -> Vec<(bool, bool)> {
    hosts
        .iter()
        .map(|h| (h.holds(VIP14), h.holds(VIP24)))
        .collect()
}

/// Waits until host `owner` alone holds both VIPs (`None`: nobody holds either).
fn both_on(hosts: &[Host], owner: Option<usize>, limit: Duration, logs: &[&Daemon]) {
    let want: Vec<(bool, bool)> = (0..hosts.len())
        .map(|i| (Some(i) == owner, Some(i) == owner))
        .collect();
    if wait_for(limit, || holders(hosts) == want).is_none() {
        let logs: Vec<String> = logs.iter().map(|d| d.log()).collect();
        panic!(
            "want both VIPs on {owner:?} within {limit:?}, have {:?}\n{}",
            holders(hosts),
            logs.join("\n----\n")
        );
    }
}

fn read(host: &Host, file: &str) -> String {
    std::fs::read_to_string(host.etc().join(file)).unwrap_or_default()
}

/// Waits until `file` on `host` has the line `line`.
fn logged(host: &Host, file: &str, line: &str, logs: &[&Daemon]) {
    let ok = wait_for(Duration::from_secs(3), || {
        read(host, file).lines().any(|l| l == line)
    });
    assert!(
        ok.is_some(),
        "{file} on {} lacks {line:?}:\n{}\n----\n{}",
        host.name,
        read(host, file),
        logs.iter()
            .map(|d| d.log())
            .collect::<Vec<_>>()
            .join("\n----\n")
    );
}

/// Host a (priority 150) masters both instances of the group; b (100) backs up. VI_1's track
/// script fails on a: a's whole group goes FAULT (VI_r2 too, though nothing of its own
/// failed), b takes both VIPs; the script recovers and a takes both back. The group's and
/// VI_1's notify scripts report each step as keepalived's do.
fn group_fault_moves_both(role: Role) {
    let lan = Lan::new(
        match role {
            Role::AgentMaster => "sgm",
            Role::AgentBackup => "sgb",
            Role::Reference => "sgr",
        },
        2,
    );
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    a.write_config(&group_config("lba", 150));
    b.write_config(&group_config("lbb", 100));
    let mut da = start(a, role == Role::AgentMaster);
    let mut db = start(b, role == Role::AgentBackup);
    let logs = [&da, &db];
    both_on(&lan.hosts, Some(0), CONVERGE, &logs);
    logged(a, "group.log", "GROUP G MASTER 0", &logs);
    logged(a, "vi1.log", "INSTANCE VI_1 MASTER 150", &logs);
    logged(b, "group.log", "GROUP G BACKUP 0", &logs);

    std::fs::write(a.etc().join("down"), "").expect("touch down");
    both_on(&lan.hosts, Some(1), HANDOVER, &logs);
    logged(a, "group.log", "GROUP G FAULT 0", &logs);
    logged(a, "vi1.log", "INSTANCE VI_1 FAULT 150", &logs);
    logged(b, "group.log", "GROUP G MASTER 0", &logs);
    if role == Role::AgentMaster {
        let s = common_status(a);
        assert!(
            s.iter().all(|(_, state)| state == "FAULT"),
            "both members FAULT: {s:?}"
        );
    }

    std::fs::remove_file(a.etc().join("down")).expect("rm down");
    both_on(&lan.hosts, Some(0), CONVERGE, &logs);
    logged(a, "group.log", "GROUP G BACKUP 0", &logs);
    logged(b, "group.log", "GROUP G BACKUP 0", &logs);
    // b went MASTER once, a's group twice (start and after the fault).
    let masters = |h: &Host| {
        read(h, "group.log")
            .lines()
            .filter(|l| *l == "GROUP G MASTER 0")
            .count()
    };
    assert!(wait_for(Duration::from_secs(3), || masters(a) == 2).is_some());
    assert_eq!(masters(b), 1, "{}", read(b, "group.log"));

    // A graceful stop runs the generic notify of every instance, then of the group, with STOP.
    for (host, daemon, priority) in [(b, &mut db, 100), (a, &mut da, 150)] {
        daemon.signal(nix::sys::signal::Signal::SIGTERM);
        daemon.wait_exit(Duration::from_secs(10));
        let stop = format!("INSTANCE VI_1 STOP {priority}");
        for (file, line) in [("vi1.log", stop.as_str()), ("group.log", "GROUP G STOP 0")] {
            assert!(
                read(host, file).lines().any(|l| l == line),
                "{role:?} {}: {file} lacks {line:?}:\n{}\n{}",
                host.name,
                read(host, file),
                daemon.log()
            );
        }
    }
}

/// (name, state) of every instance the agent on `host` runs.
fn common_status(host: &Host) -> Vec<(String, String)> {
    hactl_agent::status::query(&host.socket())
        .expect("status socket answers")
        .instances
        .into_iter()
        .map(|i| (i.name, i.state.name().to_owned()))
        .collect()
}

/// Host a runs keepalived without a sync group: VI_1 at 100, VI_r2 at 200 (VI_r2 tracks
/// `chk_down`). Host b runs the sync group at 150 for both. b would win VI_1 on its own, but
/// its VI_r2 hears a better master, so the group holds VI_1 in BACKUP: a holds both. When
/// a's VI_r2 faults, b's VI_r2 takes over and the group takes VI_1 along, preempting a.
fn group_holds_member(reference: bool) {
    let lan = Lan::new(if reference { "shr" } else { "sha" }, 2);
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let plain = group_config("lba", 100)
        .replace(
            "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_r2\n    }\n    notify \"/bin/sh -c 'echo $* >> /etc/keepalived/group.log' notify\"\n}\n",
            "",
        )
        .replace(
            "    track_script {\n        chk_down\n    }\n",
            "",
        )
        .replace(
            "    priority 100\n    advert_int 1\n    virtual_ipaddress {\n        198.51.100.200\n    }\n",
            "    priority 200\n    advert_int 1\n    virtual_ipaddress {\n        198.51.100.200\n    }\n    track_script {\n        chk_down\n    }\n",
        );
    assert!(!plain.contains("vrrp_sync_group") && plain.contains("priority 200"));
    a.write_config(&plain);
    b.write_config(&group_config("lbb", 150));
    let da = a.start_keepalived();
    let db = start(b, !reference);
    let logs = [&da, &db];
    both_on(&lan.hosts, Some(0), CONVERGE, &logs);
    // Held, not converging late: b stays out for several more master-down intervals.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(holders(&lan.hosts), vec![(true, true), (false, false)]);
    if !reference {
        let s = common_status(b);
        assert!(s.iter().all(|(_, st)| st == "BACKUP"), "{s:?}");
    }

    std::fs::write(a.etc().join("down"), "").expect("touch down");
    both_on(&lan.hosts, Some(1), HANDOVER, &logs);
    logged(b, "group.log", "GROUP G MASTER 0", &logs);
}

/// One instance with excluded addresses, virtual routes and rules, and static entries; VI_1
/// faults on /etc/keepalived/down. 198.51.100.77 is on eth0 before the daemon starts: as a
/// static address it is not the daemon's, so it stays after the stop.
const ROUTES_CONFIG: &str = "global_defs {
    router_id lba
    vrrp_mcast_group4 224.0.100.19
    enable_script_security
    script_user root
}

static_ipaddress {
    198.51.100.77/32 dev eth0
    198.51.100.78/32 dev eth0
}

static_routes {
    203.0.113.200/32 via 198.51.100.254 dev eth0
    blackhole 203.0.113.240/28 table 200 no_track
}

static_rules {
    from 198.51.100.78 table 200 priority 200
}

vrrp_script chk_down {
    script \"/bin/test ! -f /etc/keepalived/down\"
    interval 1
}

vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 14
    priority 150
    advert_int 1
    virtual_ipaddress {
        198.51.100.100
    }
    virtual_ipaddress_excluded {
        198.51.100.150/24
        203.0.113.9/32 dev eth0
    }
    virtual_routes {
        203.0.113.0/25 via 198.51.100.254 dev eth0
        blackhole 203.0.113.128/26 no_track
        default via 198.51.100.254 dev eth0 table 100 metric 5
        203.0.113.192/27 dev eth0 src 198.51.100.100 table 100
    }
    virtual_rules {
        from 198.51.100.100 table 100 priority 100
        to 203.0.113.224/27 blackhole priority 101
        iif eth0 from 198.51.100.150 table 100 priority 102 no_track
    }
    track_script {
        chk_down
    }
}
";

/// The host's IPv4 addresses on eth0, routes in every table and rules, as `ip` prints them.
fn kernel_state(host: &Host) -> String {
    let addrs: Vec<String> = host
        .ns
        .ip(&["-4", "addr", "show", "dev", "eth0"])
        .lines()
        .filter(|l| l.trim_start().starts_with("inet "))
        .map(str::to_owned)
        .collect();
    format!(
        "{}\n--\n{}--\n{}",
        addrs.join("\n"),
        host.ns.ip(&["-4", "route", "show", "table", "all"]),
        host.ns.ip(&["-4", "rule", "show"])
    )
}

/// Runs the scenario with keepalived or the agent: the kernel's state as MASTER, after an
/// operator deleted a virtual and a static route, in FAULT, and after the stop.
fn routes_run(agent: bool) -> [String; 4] {
    let lan = Lan::new(if agent { "rta" } else { "rtk" }, 1);
    let a = &lan.hosts[0];
    a.ns.ip(&["addr", "add", "198.51.100.77/32", "dev", "eth0"]);
    a.write_config(ROUTES_CONFIG);
    let mut d = start(a, agent);
    let master = wait_for(CONVERGE, || {
        a.holds(VIP14)
            && a.ns
                .ip(&["-4", "rule", "show"])
                .contains("203.0.113.224/27")
    });
    assert!(master.is_some(), "no MASTER:\n{}", d.log());
    std::thread::sleep(Duration::from_millis(500));
    let as_master = kernel_state(a);

    // keepalived: a tracked virtual route deleted under a MASTER sends it to BACKUP and back
    // after its skew time (everything added again); a static route is put back.
    let backups = |d: &Daemon| d.log().matches("Entering BACKUP STATE").count();
    let before = backups(&d);
    a.ns.ip(&["route", "del", "203.0.113.0/25"]);
    a.ns.ip(&["route", "del", "203.0.113.200"]);
    let restored = wait_for(HANDOVER, || {
        let routes = a.ns.ip(&["-4", "route", "show"]);
        backups(&d) > before
            && a.holds(VIP14)
            && routes.contains("203.0.113.0/25")
            && routes.contains("203.0.113.200")
    });
    assert!(
        restored.is_some(),
        "deleted routes not handled like keepalived:\n{}",
        d.log()
    );
    std::thread::sleep(Duration::from_millis(1500));
    let after_delete = kernel_state(a);

    std::fs::write(a.etc().join("down"), "").expect("touch down");
    let fault = wait_for(HANDOVER, || !a.holds(VIP14));
    assert!(fault.is_some(), "no FAULT:\n{}", d.log());
    std::thread::sleep(Duration::from_millis(500));
    let in_fault = kernel_state(a);

    d.signal(nix::sys::signal::Signal::SIGTERM);
    d.wait_exit(Duration::from_secs(10));
    let stopped = kernel_state(a);
    [as_master, after_delete, in_fault, stopped]
}

/// keepalived and the agent leave the kernel in the same state at each step: excluded
/// addresses, routes (protocol keepalived, scope as keepalived sets it) and rules as MASTER,
/// gone in FAULT with the static ones still there, and gone after the stop, except that the
/// agent leaves 198.51.100.77, which it found there (keepalived removes it too).
fn routes_rules_statics() {
    let keepalived = routes_run(false);
    let agent = routes_run(true);
    // What keepalived does, so the comparison means something.
    let [m, r, f, s] = &keepalived;
    assert_eq!(r, m, "keepalived restores everything after the deletions");
    for want in [
        "inet 198.51.100.150/24",
        "inet 203.0.113.9/32",
        "203.0.113.0/25 via 198.51.100.254 dev eth0 proto keepalived",
        "blackhole 203.0.113.128/26 proto keepalived",
        "default via 198.51.100.254 dev eth0 table 100 proto keepalived metric 5",
        "from 198.51.100.100 lookup 100 proto keepalived",
        "203.0.113.200 via 198.51.100.254 dev eth0 proto keepalived",
        "inet 198.51.100.78/32",
    ] {
        assert!(
            m.contains(want),
            "keepalived as MASTER lacks {want:?}:\n{m}"
        );
    }
    assert!(
        !f.contains("203.0.113.0/25") && !f.contains("198.51.100.150"),
        "{f}"
    );
    assert!(
        f.contains("203.0.113.200") && f.contains("from 198.51.100.78"),
        "{f}"
    );
    // keepalived removes at stop even the static address that was there before it started;
    // the agent removes only what it added, so it leaves that one.
    assert!(
        !s.contains("198.51.100.77/32") && !s.contains("198.51.100.78"),
        "{s}"
    );
    let a_stopped = &agent[3];
    assert!(a_stopped.contains("inet 198.51.100.77/32"), "{a_stopped}");
    let without_77: String = a_stopped
        .lines()
        .filter(|l| !l.contains("198.51.100.77"))
        .map(|l| format!("{l}\n"))
        .collect();
    let agent = [
        agent[0].clone(),
        agent[1].clone(),
        agent[2].clone(),
        without_77,
    ];
    let keepalived_lines = [m.clone(), r.clone(), f.clone(), s.clone()];
    for (step, (k, a)) in ["MASTER", "after deletions", "FAULT", "stopped"]
        .iter()
        .zip(keepalived_lines.iter().zip(agent.iter()))
    {
        assert_eq!(
            a.trim_end(),
            k.trim_end(),
            "{step}: agent (left) and keepalived (right) differ"
        );
    }
}

/// The address owner (priority 255, `state MASTER`) faults on its track script and recovers;
/// how long until it holds its VIP again.
fn owner_back_after(agent: bool) -> Duration {
    let lan = Lan::new(if agent { "owa" } else { "owk" }, 1);
    let a = &lan.hosts[0];
    a.write_config(&format!(
        "vrrp_script chk_down {{
    script \"/bin/test ! -f /etc/keepalived/down\"
    interval 1
}}

vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 14
    priority 255
    advert_int 1
    virtual_ipaddress {{
        {VIP14}
    }}
    track_script {{
        chk_down
    }}
}}
"
    ));
    let d = start(a, agent);
    assert!(
        wait_for(CONVERGE, || a.holds(VIP14)).is_some(),
        "{}",
        d.log()
    );
    std::fs::write(a.etc().join("down"), "").expect("touch down");
    assert!(
        wait_for(HANDOVER, || !a.holds(VIP14)).is_some(),
        "{}",
        d.log()
    );
    std::fs::remove_file(a.etc().join("down")).expect("rm down");
    wait_for(Duration::from_secs(10), || a.holds(VIP14))
        .unwrap_or_else(|| panic!("VIP not back:\n{}", d.log()))
}

/// keepalived brings the owner back from FAULT as BACKUP: it masters only when its
/// master-down timer (3 s + 1/256 s) runs out, a script interval after the fault cleared.
fn owner_after_fault() {
    let keepalived = owner_back_after(false);
    let agent = owner_back_after(true);
    assert!(
        keepalived > Duration::from_secs(3),
        "keepalived: {keepalived:?}"
    );
    assert!(agent > Duration::from_secs(3), "agent: {agent:?}");
    let diff = agent.abs_diff(keepalived);
    assert!(
        diff < Duration::from_millis(1500),
        "agent {agent:?}, keepalived {keepalived:?}"
    );
}
