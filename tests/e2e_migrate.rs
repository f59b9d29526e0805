//! Migrating a running pair from keepalived to hactl-agent one host at a time, with the
//! SHIPPED role (issue 6: "mixing the two engines in one pair must work"): on a real fleet,
//! the pair starts on keepalived; `hactl apply --limit lb2` moves lb2 to hactl-agent while lb1
//! keeps keepalived, each VIP stays on its master and is never held twice, and failover works
//! both ways between the two engines; then lb1 follows, and lb2 can go back.

mod common;

use std::time::{Duration, Instant};

use common::fleet::Fleet;
use common::pair::{VIP1, VIP2, assert_status, hactl, holders, text, wait_holder};

const SETTLE: Duration = Duration::from_secs(10);
/// A track script notices within its interval, then the RFC bound (3.65 s) and some slack.
const FAILOVER: Duration = Duration::from_secs(8);

fn apply(fleet: &Fleet, extra: &[&str]) {
    let mut args = vec!["apply", "inventory/hosts.ini"];
    args.extend_from_slice(extra);
    let out = hactl(fleet, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `(hactl-agent, keepalived)` as systemd reports them on `host`: "active/enabled" and so on.
fn engines(fleet: &Fleet, host: &str) -> (String, String) {
    let state = |unit: &str| {
        let out = fleet.ssh(
            host,
            &format!("echo $(systemctl is-active {unit})/$(systemctl is-enabled {unit} 2>/dev/null || true)"),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    (state("hactl-agent"), state("keepalived"))
}

/// For `span`, no VIP is ever on both load balancers.
fn never_twice(fleet: &Fleet, span: Duration) {
    let start = Instant::now();
    while start.elapsed() < span {
        for vip in [VIP1, VIP2] {
            let held = holders(fleet, vip);
            assert!(held.len() <= 1, "{vip} held by {held:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_pair_migrates_from_keepalived_to_hactl_agent_one_host_at_a_time() {
    let fleet = Fleet::up_with(&["lb1", "lb2"], true);

    // Both on keepalived.
    apply(&fleet, &["-e", "vrrp_engine=keepalived"]);
    wait_holder(&fleet, VIP1, "lb1", SETTLE);
    wait_holder(&fleet, VIP2, "lb2", SETTLE);
    assert_eq!(
        engines(&fleet, "lb2").1,
        "active/enabled",
        "keepalived runs on lb2"
    );

    // lb2 moves to hactl-agent (the role's default engine); lb1 is not touched.
    apply(&fleet, &["--limit", "lb2"]);
    assert_eq!(
        engines(&fleet, "lb2"),
        (
            "active/enabled".to_string(),
            "inactive/disabled".to_string()
        )
    );
    assert_eq!(engines(&fleet, "lb1").1, "active/enabled");
    wait_holder(&fleet, VIP1, "lb1", SETTLE);
    wait_holder(&fleet, VIP2, "lb2", SETTLE);
    never_twice(&fleet, Duration::from_secs(2));
    assert_status(&fleet, "lb1", "lb2");

    // Failover from keepalived to hactl-agent and back (the maintenance file on lb1)...
    fleet.ssh("lb1", "touch /etc/keepalived/down");
    wait_holder(&fleet, VIP1, "lb2", FAILOVER);
    fleet.ssh("lb1", "rm -f /etc/keepalived/down");
    wait_holder(&fleet, VIP1, "lb1", FAILOVER);
    // ... and from hactl-agent to keepalived and back (the agent stopped on lb2).
    fleet.ssh("lb2", "systemctl stop hactl-agent");
    wait_holder(&fleet, VIP2, "lb1", FAILOVER);
    fleet.ssh("lb2", "systemctl start hactl-agent");
    wait_holder(&fleet, VIP2, "lb2", FAILOVER);
    never_twice(&fleet, Duration::from_secs(2));
    assert_status(&fleet, "lb1", "lb2");

    // lb1 follows: both on hactl-agent.
    apply(&fleet, &["--limit", "lb1"]);
    for host in ["lb1", "lb2"] {
        assert_eq!(
            engines(&fleet, host),
            (
                "active/enabled".to_string(),
                "inactive/disabled".to_string()
            ),
            "{host}"
        );
    }
    wait_holder(&fleet, VIP1, "lb1", SETTLE);
    wait_holder(&fleet, VIP2, "lb2", SETTLE);
    assert_status(&fleet, "lb1", "lb2");

    // And back: lb2 returns to keepalived.
    apply(&fleet, &["--limit", "lb2", "-e", "vrrp_engine=keepalived"]);
    assert_eq!(
        engines(&fleet, "lb2"),
        (
            "inactive/disabled".to_string(),
            "active/enabled".to_string()
        )
    );
    wait_holder(&fleet, VIP2, "lb2", SETTLE);
    never_twice(&fleet, Duration::from_secs(2));
    assert_status(&fleet, "lb1", "lb2");
}
