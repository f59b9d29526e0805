//! `hactl-agent run` on the wire, as root, in throw-away namespaces on a bridge: against
//! itself and against real keepalived 2.2.7, with the seed's dual-master config (VRID 14 and
//! 24, priorities 100/90 swapped, PASS auth, group 224.0.100.19, advert_int 1).
//!
//! Who holds a VIP is read from `ip -n HOST addr`; after convergence exactly one host holds
//! each. Timing bounds are the RFC's (Master_Down_Interval = 3 * advert + skew, skew =
//! (256 - priority) / 256 s) plus slack for a loaded CI box. Not root (or no keepalived for
//! the keepalived tests): the tests are reported as ignored, not passed.

#[allow(dead_code)] // helpers shared with other test binaries
mod common;

use std::process::Command;
use std::time::Duration;

use common::lan::{AGENT, Daemon, Host, Lan, seed_config, wait_for};
use common::netns::is_root;
use hactl_agent::status::{self, AgentStatus, InstanceStatus};
use libtest_mimic::{Arguments, Failed, Trial};
use nix::sys::signal::Signal;

const VIP14: &str = "198.51.100.100";
const VIP24: &str = "198.51.100.200";
/// Time to converge from a cold start: Master_Down_Interval at priority 90 is 3.65 s.
const CONVERGE: Duration = Duration::from_secs(10);
/// Slack on top of an RFC bound.
const SLACK: Duration = Duration::from_millis(1500);

// The harness lists each test as "ignored" when it cannot run; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    let keepalived = Command::new("keepalived").arg("--version").output().is_ok();
    if !root {
        eprintln!("interop_vrrp: not root, so the namespace tests are SKIPPED (ignored)");
    } else if !keepalived {
        eprintln!("interop_vrrp: keepalived not installed, so its interop tests are SKIPPED");
    }
    let tests: Vec<(&str, fn(), bool)> = vec![
        (
            "agent_vs_agent_dual_master_status_and_reload",
            agent_vs_agent,
            false,
        ),
        (
            "agent_master_keepalived_backup_and_takeover",
            keepalived_backs_up_agent,
            true,
        ),
        (
            "keepalived_master_agent_backup_and_takeover",
            agent_backs_up_keepalived,
            true,
        ),
        (
            "kill9_failover_within_rfc_bound_and_restart_cleans_stale_vip",
            crash_failover,
            false,
        ),
        ("sigterm_hands_over_after_skew_time", graceful_stop, false),
        (
            "failing_track_script_moves_vip_and_back",
            track_script_moves_vip,
            false,
        ),
        ("link_down_on_master_faults_and_moves_vip", link_down, false),
        ("tcpdump_decodes_agent_adverts_as_vrrpv2", capture, false),
        (
            "hung_track_script_does_not_stall_adverts",
            hung_script,
            false,
        ),
        (
            "wrong_password_from_keepalived_is_counted_as_auth_failure",
            auth_failure_counted,
            true,
        ),
        (
            "sync_group_member_fault_faults_the_group",
            sync_group_fault,
            false,
        ),
        (
            "unicast_non_peer_with_ttl_64_is_dropped_with_check_unicast_src_like_keepalived",
            unicast_non_peer,
            true,
        ),
        (
            "drain_hands_over_to_keepalived_like_its_graceful_stop_and_undrain_preempts",
            drain_and_undrain,
            true,
        ),
        (
            "metrics_scrape_follows_state_priority_and_scripts",
            metrics_scrape,
            false,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f, needs_keepalived)| {
            Trial::test(name, move || {
                f();
                Ok::<(), Failed>(())
            })
            .with_ignored_flag(!root || (needs_keepalived && !keepalived))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Two hosts with the seed's dual-master configs: host a prefers VRID 14, host b VRID 24.
fn dual_master_lan(tag: &str) -> Lan {
    let lan = Lan::new(tag, 2);
    lan.hosts[0].write_config(&seed_config("lba", 100, 90));
    lan.hosts[1].write_config(&seed_config("lbb", 90, 100));
    lan
}

/// Adds to VI_1 a `notify_master` that touches /etc/keepalived/VI_1.master and a `notify`
/// that appends its arguments to /etc/keepalived/notify.log.
fn with_notify(config: &str) -> String {
    config.replacen(
        "    virtual_router_id 14\n",
        "    virtual_router_id 14\n    notify_master \"/bin/touch /etc/keepalived/VI_1.master\"\n    notify \"/bin/sh -c 'echo $* >> /etc/keepalived/notify.log' notify\"\n",
        1,
    )
}

/// Waits until `owner14` alone holds VIP .100 and `owner24` alone holds .200.
fn converged(hosts: &[Host], owner14: usize, owner24: usize, limit: Duration, logs: &[&Daemon]) {
    let ok = || {
        hosts
            .iter()
            .enumerate()
            .all(|(i, h)| h.holds(VIP14) == (i == owner14) && h.holds(VIP24) == (i == owner24))
    };
    if wait_for(limit, ok).is_none() {
        let state: Vec<String> = hosts
            .iter()
            .map(|h| {
                format!(
                    "{}: .100 {} .200 {}",
                    h.name,
                    h.holds(VIP14),
                    h.holds(VIP24)
                )
            })
            .collect();
        let logs: Vec<String> = logs.iter().map(|d| d.log()).collect();
        panic!(
            "not converged in {limit:?} (want .100 on host {owner14}, .200 on host {owner24}): {state:?}\n{}",
            logs.join("\n----\n")
        );
    }
}

fn agent_status(host: &Host) -> AgentStatus {
    status::query(&host.socket()).expect("status socket answers")
}

fn instance<'a>(s: &'a AgentStatus, name: &str) -> &'a InstanceStatus {
    s.instances
        .iter()
        .find(|i| i.name == name)
        .expect("instance in status")
}

fn no_drops(i: &InstanceStatus) {
    assert!(
        i.counters.drops.values().all(|n| *n == 0),
        "{}: drops {:?}",
        i.name,
        i.counters.drops
    );
}

/// Agent against agent: each host masters one VRID; status reports it; SIGHUP with an
/// unchanged instance keeps its mastership untouched, a changed one is restarted.
fn agent_vs_agent() {
    let lan = dual_master_lan("aa");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    // Notify scripts run without a shell, with the generic `notify` getting four arguments.
    a.write_config(&with_notify(&seed_config("lba", 100, 90)));
    let da = a.start_agent();
    let db = b.start_agent();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &db]);
    let notified = wait_for(Duration::from_secs(2), || {
        let log = std::fs::read_to_string(a.etc().join("notify.log")).unwrap_or_default();
        a.etc().join("VI_1.master").exists() && log.contains("INSTANCE VI_1 MASTER 100")
    });
    assert!(
        notified.is_some(),
        "notify scripts did not run:\n{}",
        da.log()
    );

    let s = agent_status(a);
    let vi1 = instance(&s, "VI_1");
    assert_eq!(
        (vi1.state.name(), vi1.vrid, vi1.base_priority),
        ("MASTER", 14, 100)
    );
    assert_eq!(vi1.master.as_deref(), Some("198.51.100.1"));
    assert!(vi1.counters.adverts_sent > 0);
    let t = vi1.last_transition.as_ref().expect("transition");
    // Started together, b may win the first election for a moment; a then preempts it.
    assert_eq!((t.from.name(), t.to.name()), ("BACKUP", "MASTER"));
    assert!(
        ["master_down", "preempted"].contains(&t.reason.as_str()),
        "{t:?}"
    );
    let vr2 = instance(&s, "VI_r2");
    assert_eq!((vr2.state.name(), vr2.effective_priority), ("BACKUP", 90));
    assert_eq!(vr2.master.as_deref(), Some("198.51.100.2"));
    assert!(vr2.counters.adverts_received > 0);
    no_drops(vi1);
    no_drops(vr2);

    // The CLI prints the same.
    let out = Command::new(AGENT)
        .args(["status", "--socket"])
        .arg(a.socket())
        .output()
        .expect("status runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("VI_1 (vrid 14, eth0): MASTER priority 100 (base 100) master 198.51.100.1"),
        "{text}"
    );

    let out = Command::new(AGENT)
        .args(["status", "--json", "--socket"])
        .arg(a.socket())
        .output()
        .expect("status --json runs");
    let json: AgentStatus = serde_json::from_slice(&out.stdout).expect("status --json is JSON");
    assert_eq!(
        instance(&json, "VI_1").state,
        hactl_agent::status::State::Master
    );

    // Reload: VI_r2 changes priority, VI_1 does not and must not blink.
    a.write_config(&with_notify(&seed_config("lba", 100, 80)));
    da.signal(Signal::SIGHUP);
    let reloaded = wait_for(Duration::from_secs(3), || {
        instance(&agent_status(a), "VI_r2").base_priority == 80
    });
    assert!(
        reloaded.is_some(),
        "VI_r2 not restarted with priority 80:\n{}",
        da.log()
    );
    let s = agent_status(a);
    let vi1 = instance(&s, "VI_1");
    assert_eq!(vi1.counters.became_master, 1, "VI_1 kept its mastership");
    assert_eq!(
        vi1.last_transition.as_ref(),
        Some(t),
        "VI_1 had no transition"
    );
    assert!(a.holds(VIP14) && !b.holds(VIP14));
    assert!(
        da.log()
            .contains("configuration reloaded kept=1 stopped=1 started=1"),
        "{}",
        da.log()
    );

    // A config that does not parse is refused; everything keeps running.
    a.write_config("vrrp_instance VI_1 {\n");
    da.signal(Signal::SIGHUP);
    let refused = wait_for(Duration::from_secs(3), || {
        da.log()
            .contains("reload failed; keeping the running configuration")
    });
    assert!(refused.is_some(), "{}", da.log());
    let s = agent_status(a);
    assert_eq!(
        instance(&s, "VI_1").state,
        hactl_agent::status::State::Master
    );
    assert_eq!(instance(&s, "VI_r2").base_priority, 80);
}

/// Agent master of VRID 14 with keepalived backing it up (and keepalived master of VRID 24
/// with the agent backing it up); keepalived's graceful stop hands VRID 24 to the agent.
fn keepalived_backs_up_agent() {
    let lan = dual_master_lan("ka");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let da = a.start_agent();
    let mut kb = b.start_keepalived();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &kb]);
    let s = agent_status(a);
    assert_eq!(
        instance(&s, "VI_1").state,
        hactl_agent::status::State::Master
    );
    assert_eq!(
        instance(&s, "VI_r2").state,
        hactl_agent::status::State::Backup
    );
    // keepalived's adverts (v2, PASS, group 224.0.100.19) pass every check.
    assert!(instance(&s, "VI_r2").counters.adverts_received > 0);
    no_drops(instance(&s, "VI_r2"));
    assert!(
        kb.log().contains("(VI_1) Entering BACKUP STATE"),
        "{}",
        kb.log()
    );

    kb.signal(Signal::SIGTERM);
    converged(&lan.hosts, 0, 0, Duration::from_millis(2500), &[&da, &kb]);
    kb.wait_exit(Duration::from_secs(5));
    assert_eq!(
        instance(&agent_status(a), "VI_r2")
            .last_transition
            .as_ref()
            .map(|t| t.reason.clone()),
        Some("master_stopped".to_owned())
    );
}

/// keepalived master of VRID 14 with the agent backing it up; the agent's graceful stop
/// (priority 0) hands its VRID 24 to keepalived after keepalived's skew time.
fn agent_backs_up_keepalived() {
    let lan = dual_master_lan("kb");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let ka = a.start_keepalived();
    let mut db = b.start_agent();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&ka, &db]);
    let s = agent_status(b);
    assert_eq!(
        instance(&s, "VI_1").state,
        hactl_agent::status::State::Backup
    );
    assert_eq!(instance(&s, "VI_1").master.as_deref(), Some("198.51.100.1"));
    assert_eq!(
        instance(&s, "VI_r2").state,
        hactl_agent::status::State::Master
    );
    no_drops(instance(&s, "VI_1"));
    assert!(
        ka.log().contains("(VI_r2) Entering BACKUP STATE"),
        "{}",
        ka.log()
    );

    db.signal(Signal::SIGTERM);
    assert_eq!(db.wait_exit(Duration::from_secs(5)), Some(0));
    converged(&lan.hosts, 0, 0, Duration::from_millis(2500), &[&ka, &db]);
    assert!(!b.holds(VIP24), "the agent removed its VIP on stop");
}

/// kill -9 of the master: the backup takes over within 3 * advert + skew (+ slack). The dead
/// master's VIP stays behind (nobody removed it); restarting the agent removes it before
/// anything else, and the pair converges back with one holder per VIP.
fn crash_failover() {
    let lan = dual_master_lan("cr");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let mut da = a.start_agent();
    let db = b.start_agent();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &db]);

    da.kill9();
    let bound = Duration::from_secs(3) + Duration::from_secs_f64(166.0 / 256.0) + SLACK;
    let took = wait_for(bound, || b.holds(VIP14))
        .unwrap_or_else(|| panic!("backup did not take over within {bound:?}:\n{}", db.log()));
    assert!(
        took > Duration::from_secs(2),
        "took over too early ({took:?}): missed adverts?"
    );
    assert!(a.holds(VIP14), "a crashed agent leaves its VIP behind");

    let da = a.start_agent();
    let cleaned = wait_for(Duration::from_secs(2), || !a.holds(VIP14));
    assert!(
        cleaned.is_some(),
        "restart did not remove the stale VIP:\n{}",
        da.log()
    );
    assert!(da.log().contains("removed a stale VIP"), "{}", da.log());
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &db]);
}

/// SIGTERM on the master: priority 0 advert, so the backup takes over after its skew time
/// ((256 - 90) / 256 = 0.65 s), not the full Master_Down_Interval.
fn graceful_stop() {
    let lan = dual_master_lan("gs");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let mut da = a.start_agent();
    let db = b.start_agent();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &db]);

    da.signal(Signal::SIGTERM);
    let took = wait_for(Duration::from_secs(3), || b.holds(VIP14))
        .unwrap_or_else(|| panic!("no takeover:\n{}\n----\n{}", da.log(), db.log()));
    assert!(took < Duration::from_millis(1500), "handover took {took:?}");
    assert_eq!(da.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(!a.holds(VIP14) && !a.holds(VIP24), "VIPs removed on stop");
    let s = agent_status(b);
    let t = instance(&s, "VI_1")
        .last_transition
        .clone()
        .expect("transition");
    assert_eq!(
        (t.to.name(), t.reason.as_str()),
        ("MASTER", "master_stopped")
    );
}

/// The seed's maintenance switch: /etc/keepalived/down makes chk_down fail (weight -15:
/// 100 -> 85 < 90), so VIP .100 moves to b; removing it moves the VIP back (preempt).
fn track_script_moves_vip() {
    let lan = dual_master_lan("ts");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let da = a.start_agent();
    let db = b.start_agent();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &db]);

    std::fs::write(a.etc().join("down"), "").expect("touch down");
    // One script interval, then b's master-down timer (3 s + skew) ignoring a's 85.
    converged(&lan.hosts, 1, 1, Duration::from_secs(7), &[&da, &db]);
    let s = agent_status(a);
    assert_eq!(instance(&s, "VI_1").effective_priority, 85);
    assert_eq!(
        instance(&s, "VI_1").state,
        hactl_agent::status::State::Backup
    );

    std::fs::remove_file(a.etc().join("down")).expect("rm down");
    converged(&lan.hosts, 0, 1, Duration::from_secs(7), &[&da, &db]);
    let t = instance(&agent_status(a), "VI_1")
        .last_transition
        .clone()
        .expect("transition");
    assert_eq!((t.to.name(), t.reason.as_str()), ("MASTER", "preempted"));
}

/// `ip link set eth0 down` on the master: its instances go to FAULT and drop their VIPs;
/// the other host takes over once its master-down timer runs out.
fn link_down() {
    let lan = dual_master_lan("ld");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let da = a.start_agent();
    let db = b.start_agent();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &db]);

    a.ns.ip(&["link", "set", "eth0", "down"]);
    let fault = wait_for(Duration::from_secs(2), || {
        agent_status(a)
            .instances
            .iter()
            .all(|i| i.state == hactl_agent::status::State::Fault)
    });
    assert!(fault.is_some(), "not FAULT:\n{}", da.log());
    assert!(!a.holds(VIP14), "FAULT removed the VIP");
    let took = wait_for(Duration::from_secs(5), || b.holds(VIP14));
    assert!(took.is_some(), "b did not take over:\n{}", db.log());
    converged(&lan.hosts, 1, 1, Duration::from_secs(2), &[&da, &db]);
}

/// tcpdump, in the master's namespace, decodes the agent's adverts as the seed article shows
/// keepalived's: "VRRPv2, Advertisement, vrid 14, prio 100, authtype simple, intvl 1s".
fn capture() {
    let lan = dual_master_lan("tc");
    let a = &lan.hosts[0];
    let da = a.start_agent();
    converged(&lan.hosts[..1], 0, 0, CONVERGE, &[&da]);

    let pcap = a.etc().join("adverts.pcap");
    let mut tcpdump = Command::new("ip")
        .args([
            "netns", "exec", &a.ns.name, "tcpdump", "-i", "eth0", "-U", "-c", "4", "-w",
        ])
        .arg(&pcap)
        .args(["ip", "proto", "112"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tcpdump runs");
    let done = wait_for(Duration::from_secs(6), || {
        matches!(tcpdump.try_wait(), Ok(Some(_)))
    });
    if done.is_none() {
        let _ = tcpdump.kill();
        let _ = tcpdump.wait();
        panic!("tcpdump saw fewer than 4 adverts in 6 s");
    }
    let out = Command::new("tcpdump")
        .args(["-r"])
        .arg(&pcap)
        .args(["-nn", "-v"])
        .output()
        .expect("tcpdump -r");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("198.51.100.1 > 224.0.100.19: VRRPv2, Advertisement, vrid 14, prio 100, authtype simple, intvl 1s, length 20, addrs: 198.51.100.100 auth \"571f87b2\""),
        "{text}"
    );
    assert!(text.contains("ttl 255"), "{text}");
    assert!(
        text.contains("vrid 24, prio 90"),
        "both instances advertise while a is alone: {text}"
    );
}

/// A track script that never finishes (killed at its 30 s timeout) must not hold up the
/// instance: it becomes master and advertises every second meanwhile.
fn hung_script() {
    let lan = Lan::new("hs", 1);
    let a = &lan.hosts[0];
    let config = seed_config("lba", 100, 90).replace(
        "script \"/bin/test ! -f /etc/keepalived/down\"\n    interval 1",
        "script \"/bin/sleep 60\"\n    interval 1\n    timeout 30",
    );
    assert!(config.contains("/bin/sleep 60"), "{config}");
    a.write_config(&config);
    let da = a.start_agent();
    converged(&lan.hosts, 0, 0, CONVERGE, &[&da]);
    let sent = |s: &AgentStatus| instance(s, "VI_1").counters.adverts_sent;
    let before = sent(&agent_status(a));
    std::thread::sleep(Duration::from_millis(2500));
    let after = sent(&agent_status(a));
    assert!(
        after >= before + 2,
        "adverts sent {before} then {after} 2.5 s later:\n{}",
        da.log()
    );
}

/// A vrrp_sync_group: VI_1's weightless check fails, so VI_1 goes to FAULT, and so does
/// VI_r2, which tracks nothing; both give up their VIPs, and both come back when it clears.
fn sync_group_fault() {
    let lan = Lan::new("sg", 1);
    let a = &lan.hosts[0];
    let config = seed_config("lba", 100, 90)
        .replace("    weight -15\n", "    weight 0\n")
        .replacen("    track_script {\n        chk_down\n    }\n", "", 2)
        .replacen(
            "    virtual_ipaddress {\n        198.51.100.100\n    }\n",
            "    virtual_ipaddress {\n        198.51.100.100\n    }\n    track_script {\n        chk_down\n    }\n",
            1,
        )
        + "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_r2\n    }\n}\n";
    a.write_config(&config);
    let da = a.start_agent();
    converged(&lan.hosts, 0, 0, CONVERGE, &[&da]);

    std::fs::write(a.etc().join("down"), "").expect("touch down");
    let all_fault = || {
        agent_status(a)
            .instances
            .iter()
            .all(|i| i.state == hactl_agent::status::State::Fault)
    };
    assert!(
        wait_for(Duration::from_secs(3), all_fault).is_some(),
        "{}",
        da.log()
    );
    assert!(
        !a.holds(VIP14) && !a.holds(VIP24),
        "FAULT removed both VIPs"
    );

    std::fs::remove_file(a.etc().join("down")).expect("rm down");
    converged(&lan.hosts, 0, 0, CONVERGE, &[&da]);
}

/// keepalived with a different password for VRID 24: the agent drops its adverts and counts
/// them under `auth_failure`, and (hearing no valid master) holds .200 itself, as keepalived
/// would.
fn auth_failure_counted() {
    let lan = dual_master_lan("af");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    b.write_config(&seed_config("lbb", 90, 100).replace("571f97b2", "wrongpw1"));
    let da = a.start_agent();
    let kb = b.start_keepalived();
    let counted = wait_for(CONVERGE, || {
        let s = agent_status(a);
        let d = &instance(&s, "VI_r2").counters.drops;
        d.get("auth_failure").is_some_and(|n| *n > 0)
    });
    assert!(
        counted.is_some(),
        "no auth_failure drop:\n{}\n----\n{}",
        da.log(),
        kb.log()
    );
    let s = agent_status(a);
    assert_eq!(instance(&s, "VI_r2").counters.adverts_received, 0);
    assert!(wait_for(Duration::from_secs(3), || a.holds(VIP24)).is_some());
}

/// VRID 51 on host a, unicast to its one peer b (.2), which is not running: a is master.
/// `extra` goes into the instance (`check_unicast_src` or nothing).
fn unicast_master_config(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    {extra}
    unicast_peer {{
        198.51.100.2
    }}
    virtual_ipaddress {{
        198.51.100.100
    }}
}}
"
    )
}

/// The stranger on host c (.3): not among a's peers, same VRID and VIP, priority 200, and
/// adverts sent by unicast to a with TTL 64 (as if routed from elsewhere).
const STRANGER: &str = "vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 1
    unicast_ttl 64
    unicast_peer {
        198.51.100.1
    }
    virtual_ipaddress {
        198.51.100.100
    }
}
";

/// Which program runs on host a.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    Agent,
    Keepalived,
}

/// Runs `program` on host a as unicast master, then real keepalived on c as the stranger.
/// Returns whether a still holds the VIP once the stranger has advertised for 3 s, the
/// agent's `not_unicast_peer` drop count (0 for keepalived) and a's log.
fn stranger_vs(program: Program, check_unicast_src: bool, tag: &str) -> (bool, u64, String) {
    let lan = Lan::new(tag, 3);
    let (a, c) = (&lan.hosts[0], &lan.hosts[2]);
    let extra = if check_unicast_src {
        "check_unicast_src"
    } else {
        ""
    };
    a.write_config(&unicast_master_config(extra));
    let da = match program {
        Program::Agent => a.start_agent(),
        Program::Keepalived => a.start_keepalived(),
    };
    let up = wait_for(CONVERGE, || a.holds(VIP14));
    assert!(
        up.is_some(),
        "{program:?} never became master:\n{}",
        da.log()
    );

    c.write_config(STRANGER);
    let kc = c.start_keepalived();
    // The stranger hears nobody (a sends to .2 only), so it becomes master and advertises.
    let stranger_master = wait_for(CONVERGE, || c.holds(VIP14));
    assert!(
        stranger_master.is_some(),
        "stranger never advertised:\n{}",
        kc.log()
    );
    let lost = wait_for(Duration::from_secs(3), || !a.holds(VIP14));
    let drops = match program {
        Program::Agent => instance(&agent_status(a), "VI_1")
            .counters
            .drops
            .get("not_unicast_peer")
            .copied()
            .unwrap_or(0),
        Program::Keepalived => 0,
    };
    (lost.is_none(), drops, da.log())
}

/// A host that is not a unicast peer sends higher-priority adverts with TTL 64. With
/// `check_unicast_src`, keepalived 2.2.7 drops them ("not a unicast peer") and keeps the VIP;
/// the agent must too, counting each under `not_unicast_peer`. Without it keepalived accepts
/// any source and TTL on a unicast instance and hands over the VIP; so does the agent.
fn unicast_non_peer() {
    let (kept, _, log) = stranger_vs(Program::Keepalived, true, "uk");
    assert!(kept, "keepalived gave the VIP to a non-peer:\n{log}");
    assert!(
        log.contains("(VI_1) unicast source address 198.51.100.3 not a unicast peer"),
        "{log}"
    );
    let (kept, drops, log) = stranger_vs(Program::Agent, true, "ua");
    assert!(kept, "the agent gave the VIP to a non-peer:\n{log}");
    assert!(drops >= 2, "not_unicast_peer drops: {drops}\n{log}");

    let (kept, _, log) = stranger_vs(Program::Keepalived, false, "vk");
    assert!(
        !kept,
        "keepalived without check_unicast_src kept the VIP:\n{log}"
    );
    let (kept, drops, log) = stranger_vs(Program::Agent, false, "va");
    assert!(
        !kept,
        "the agent without check_unicast_src kept the VIP:\n{log}"
    );
    assert_eq!(drops, 0);
}

/// How a handover of VIP .100 from `from` to `to` went, polled every few milliseconds.
#[derive(Debug)]
struct Handover {
    /// From the trigger until `to` held the VIP.
    took: Duration,
    /// How long neither host held it (zero if `to` had it before `from` let go).
    gap: Duration,
}

/// Runs `trigger`, then polls until `to` holds VIP .100 (at most 3 s).
fn handover(from: &Host, to: &Host, trigger: impl FnOnce()) -> Handover {
    let start = std::time::Instant::now();
    trigger();
    let mut released = None;
    loop {
        let now = start.elapsed();
        // `to` first: if it holds the VIP now, any release seen after is no gap.
        if to.holds(VIP14) {
            let gap = released.map_or(Duration::ZERO, |r| now.saturating_sub(r));
            return Handover { took: now, gap };
        }
        if released.is_none() && !from.holds(VIP14) {
            released = Some(start.elapsed());
        }
        assert!(now < Duration::from_secs(3), "no handover in 3 s");
    }
}

fn agent_cli(host: &Host, args: &[&str]) -> std::process::Output {
    Command::new(AGENT)
        .args(args)
        .arg("--socket")
        .arg(host.socket())
        .output()
        .expect("hactl-agent runs")
}

/// Drain against real keepalived as the peer. First the reference: keepalived master of
/// VRID 14 on a, stopped with SIGTERM, hands over to keepalived on b. Then the agent on a
/// (priority 100, preempting b's 90), drained: keepalived takes over within one advert
/// interval (its skew time, 0.65 s), with no longer a gap than keepalived's own stop. The
/// agent stays BACKUP and silent for VRID 14 (also across a reload that restarts VI_1),
/// VI_r2 is untouched; undrain lets it preempt keepalived after its Master_Down_Interval.
fn drain_and_undrain() {
    let lan = dual_master_lan("dr");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let mut ka = a.start_keepalived();
    let kb = b.start_keepalived();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&ka, &kb]);
    let reference = handover(a, b, || ka.signal(Signal::SIGTERM));
    ka.wait_exit(Duration::from_secs(5));

    let da = a.start_agent();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &kb]);
    let before = agent_status(a);
    let mut drained_out = None;
    let drain = handover(a, b, || {
        drained_out = Some(agent_cli(a, &["drain", "VI_1"]))
    });
    let out = drained_out.expect("drain ran");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "drained: VI_1\n");
    // One advert interval (1 s), plus slack for polling on a loaded box.
    assert!(
        drain.took < Duration::from_millis(1250),
        "drain handover took {drain:?} (keepalived's stop: {reference:?})"
    );
    assert!(
        drain.gap <= reference.gap + Duration::from_millis(250),
        "drain left the VIP unheld for {drain:?}; keepalived's own stop: {reference:?}"
    );
    assert!(
        kb.log().contains("(VI_1) Entering MASTER STATE"),
        "{}",
        kb.log()
    );

    let s = agent_status(a);
    let vi1 = instance(&s, "VI_1");
    assert_eq!((vi1.state.name(), vi1.drained), ("BACKUP", true));
    let t = vi1.last_transition.as_ref().expect("transition");
    assert_eq!((t.from.name(), t.reason.as_str()), ("MASTER", "drained"));
    let vr2 = instance(&s, "VI_r2");
    assert_eq!((vr2.state.name(), vr2.drained), ("BACKUP", false));
    assert_eq!(
        vr2.last_transition,
        instance(&before, "VI_r2").last_transition
    );
    let text = String::from_utf8_lossy(&agent_cli(a, &["status"]).stdout).into_owned();
    assert!(
        text.contains("VI_1 (vrid 14, eth0): BACKUP [drained]"),
        "{text}"
    );

    // Drained: keepalived's lower-priority adverts do not make it preempt; it sends nothing.
    let sent = vi1.counters.adverts_sent;
    std::thread::sleep(Duration::from_secs(5));
    let s = agent_status(a);
    assert_eq!(instance(&s, "VI_1").counters.adverts_sent, sent);
    assert!(instance(&s, "VI_1").counters.adverts_received >= 4);
    assert!(b.holds(VIP14) && !a.holds(VIP14));

    // A reload that restarts VI_1 (priority 110) keeps it drained.
    a.write_config(&seed_config("lba", 110, 90));
    da.signal(Signal::SIGHUP);
    // The status shows the new priority as soon as the instance is replaced, a moment before
    // its task starts (and logs): wait for both.
    let restarted = wait_for(Duration::from_secs(3), || {
        instance(&agent_status(a), "VI_1").base_priority == 110
            && da.log().contains("starting drained")
    });
    assert!(restarted.is_some(), "{}", da.log());
    std::thread::sleep(Duration::from_secs(5));
    let vi1 = instance(&agent_status(a), "VI_1").clone();
    assert_eq!((vi1.state.name(), vi1.drained), ("BACKUP", true));
    assert!(b.holds(VIP14) && !a.holds(VIP14), "{}", da.log());

    // An unknown name is refused and changes nothing.
    let out = agent_cli(a, &["undrain", "VI_9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "no vrrp_instance 'VI_9' in the running configuration (instances: VI_1, VI_r2)"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Undrain: 110 preempts keepalived's 90 after 3 s + (256 - 110) / 256 s.
    let start = std::time::Instant::now();
    let out = agent_cli(a, &["undrain", "all"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "undrained: VI_1, VI_r2\n"
    );
    let cli = start.elapsed();
    let back = wait_for(Duration::from_secs(6), || a.holds(VIP14))
        .unwrap_or_else(|| panic!("no preemption after undrain:\n{}", da.log()));
    let took = cli + back;
    let bound = Duration::from_secs(3) + Duration::from_secs_f64(146.0 / 256.0);
    assert!(
        took > Duration::from_millis(2800) && took < bound + SLACK,
        "undrain took {took:?}"
    );
    converged(&lan.hosts, 0, 1, Duration::from_secs(2), &[&da, &kb]);
    let vi1 = instance(&agent_status(a), "VI_1").clone();
    assert!(!vi1.drained);
    assert_eq!(
        vi1.last_transition.map(|t| t.reason),
        Some("preempted".to_owned())
    );
}

/// `GET /metrics` from inside `host`'s namespace (curl, as Prometheus would scrape it): the
/// status line and headers, and the body.
fn scrape(host: &Host, url: &str) -> (String, String) {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &host.ns.name,
            "curl",
            "-s",
            "-i",
            "-m",
            "5",
            url,
        ])
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_owned(), body.to_owned())
}

/// The value of the sample line `series` (name and labels exactly), if present.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Two agents; host a serves metrics on its own address. A scrape shows a MASTER of VRID 14
/// and BACKUP of 24 under the keepalived exporter's names, priorities, the track script's
/// result and advert counts; failing the script shows up at the next scrape (script BAD,
/// priority 85, one more transition, MASTER released).
fn metrics_scrape() {
    let lan = dual_master_lan("ms");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let da = a.start_agent_with(&["--metrics-listen", "198.51.100.1:9650"]);
    let db = b.start_agent();
    converged(&lan.hosts, 0, 1, CONVERGE, &[&da, &db]);
    let url = "http://198.51.100.1:9650/metrics";
    let l14 = "iname=\"VI_1\",intf=\"eth0\",vrid=\"14\"";
    let l24 = "iname=\"VI_r2\",intf=\"eth0\",vrid=\"24\"";
    // The script's first result may come a moment after convergence.
    let good = wait_for(Duration::from_secs(3), || {
        sample(
            &scrape(a, url).1,
            "keepalived_script_status{name=\"chk_down\"}",
        ) == Some(1.0)
    });
    assert!(good.is_some(), "{}", scrape(a, url).1);
    let (head, body) = scrape(a, url);
    assert!(head.starts_with("HTTP/1.0 200 OK"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    let v =
        |series: &str| sample(&body, series).unwrap_or_else(|| panic!("no `{series}` in:\n{body}"));
    assert_eq!(v("keepalived_up"), 1.0);
    assert_eq!(
        v(&format!(
            "keepalived_vrrp_state{{{l14},ip_address=\"198.51.100.100\"}}"
        )),
        2.0
    );
    assert_eq!(
        v(&format!(
            "keepalived_vrrp_state{{{l24},ip_address=\"198.51.100.200\"}}"
        )),
        1.0
    );
    assert!(
        v(&format!(
            "keepalived_advertisements_sent_total{{{l14},state=\"MASTER\"}}"
        )) >= 1.0
    );
    assert!(
        v(&format!(
            "keepalived_advertisements_received_total{{{l24},state=\"BACKUP\"}}"
        )) >= 1.0
    );
    assert_eq!(v(&format!("hactl_agent_vrrp_priority{{{l14}}}")), 100.0);
    assert_eq!(
        v(&format!("hactl_agent_vrrp_effective_priority{{{l14}}}")),
        100.0
    );
    assert_eq!(
        v(&format!(
            "hactl_agent_adverts_dropped_total{{{l24},reason=\"auth_failure\"}}"
        )),
        0.0
    );
    let transitions = v(&format!("hactl_agent_vrrp_transitions_total{{{l14}}}"));
    let at = v(&format!(
        "hactl_agent_vrrp_last_transition_timestamp_seconds{{{l14}}}"
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!(
        at <= now && at > now - 30.0,
        "last transition at {at}, now {now}"
    );

    std::fs::write(a.etc().join("down"), "").expect("touch down");
    converged(&lan.hosts, 1, 1, Duration::from_secs(7), &[&da, &db]);
    let body = scrape(a, url).1;
    let v =
        |series: &str| sample(&body, series).unwrap_or_else(|| panic!("no `{series}` in:\n{body}"));
    assert_eq!(v("keepalived_script_status{name=\"chk_down\"}"), 0.0);
    assert_eq!(
        v(&format!("hactl_agent_vrrp_effective_priority{{{l14}}}")),
        85.0
    );
    assert_eq!(
        v(&format!(
            "keepalived_vrrp_state{{{l14},ip_address=\"198.51.100.100\"}}"
        )),
        1.0
    );
    assert_eq!(
        v(&format!("hactl_agent_vrrp_transitions_total{{{l14}}}")),
        transitions + 1.0
    );
    assert_eq!(
        v(&format!(
            "keepalived_release_master_total{{{l14},state=\"BACKUP\"}}"
        )),
        1.0
    );
    // Not found, wrong method: HTTP errors, not metrics.
    assert!(
        scrape(a, "http://198.51.100.1:9650/nope")
            .0
            .starts_with("HTTP/1.0 404")
    );
}
