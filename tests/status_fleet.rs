//! `hactl status` against a real fleet of two load balancers running real VRRP daemons with
//! the shipped dual-master config (rendered from `templates/keepalived.conf.j2`): both on
//! hactl-agent, then a mixed pair (keepalived on lb1, hactl-agent on lb2), a VIP added by
//! hand on the backup (held by 2), and both engines stopped (held by 0); and an IPv6 VRID
//! beside them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::fleet::Fleet;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The agent binary the hosts run; the overlay roots of the hosts see this same path.
fn agent_binary() -> PathBuf {
    let path = root().join("target/debug/hactl-agent");
    assert!(
        path.is_file(),
        "{} is missing: build it first (cargo build -p hactl-agent)",
        path.display()
    );
    path
}

/// Renders the shipped deployment and writes each load balancer's keepalived.conf (and
/// notify.sh) into the host's root.
fn install_configs(fleet: &Fleet) {
    let out = tempfile::tempdir().expect("tmp");
    let render = std::process::Command::new(env!("CARGO_BIN_EXE_hactl"))
        .current_dir(root())
        .args([
            "render",
            "-i",
            "inventory/hosts.ini",
            "site.yml",
            "--limit",
            "nginx",
        ])
        .args(["--facts", "tests/fixtures/facts", "--out"])
        .arg(out.path())
        .output()
        .expect("run hactl render");
    assert!(render.status.success(), "{render:?}");
    for host in ["lb1", "lb2"] {
        let host_root = fleet.state.join(host).join("root");
        for file in ["etc/keepalived/keepalived.conf", "etc/keepalived/notify.sh"] {
            let dest = host_root.join(file);
            std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            std::fs::copy(out.path().join(host).join(file), &dest).expect("install config");
        }
        let ok = fleet.ssh(host, "chmod 755 /etc/keepalived/notify.sh");
        assert!(ok.status.success(), "{ok:?}");
    }
}

fn start_agent(fleet: &Fleet, host: &str) {
    let cmd = format!(
        "cp {} /usr/local/bin/hactl-agent && cp {} /etc/systemd/system/ && \
         systemctl daemon-reload && systemctl restart hactl-agent && \
         systemctl is-active hactl-agent",
        agent_binary().display(),
        root()
            .join("roles/nginx/files/hactl-agent.service")
            .display()
    );
    let out = fleet.ssh(host, &cmd);
    assert!(out.status.success(), "start hactl-agent on {host}: {out:?}");
}

fn start_keepalived(fleet: &Fleet, host: &str) {
    let out = fleet.ssh(
        host,
        "systemctl restart keepalived && systemctl is-active keepalived",
    );
    assert!(out.status.success(), "start keepalived on {host}: {out:?}");
}

fn status(fleet: &Fleet, json: bool) -> Output {
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    cmd.arg("status")
        .arg(fleet.inventory())
        .args(fleet.ssh_args());
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("run hactl status")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The masters of VRID `id` in a `--json` document.
fn masters(doc: &Value, id: u64) -> Vec<String> {
    doc["vrids"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["vrid"] == id)
        .map(|v| {
            v["masters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Polls `hactl status --json` until the pair has converged (exit 0: each VIP on exactly one
/// host), then checks that lb1 masters VRID 14 and lb2 VRID 24.
fn converged(fleet: &Fleet) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = status(fleet, true);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if out.status.code() == Some(0)
            && masters(&doc, 14) == ["lb1"]
            && masters(&doc, 24) == ["lb2"]
        {
            return doc;
        }
        assert!(
            Instant::now() < deadline,
            "the pair did not converge; last status:\n{}",
            text(&out)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The engines the `--json` document names for `host`'s instances.
fn sources(doc: &Value, host: &str) -> Vec<String> {
    let mut out: Vec<String> = doc["vrids"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|v| v["members"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["host"] == host)
        .filter_map(|m| m["source"].as_str().map(String::from))
        .collect();
    out.dedup();
    out
}

#[test]
fn two_agents_then_a_doubled_vip_then_none() {
    let fleet = Fleet::up_with(&["lb1", "lb2"], true);
    install_configs(&fleet);
    start_agent(&fleet, "lb1");
    start_agent(&fleet, "lb2");
    let doc = converged(&fleet);
    assert_eq!(sources(&doc, "lb1"), ["hactl-agent"]);
    assert_eq!(sources(&doc, "lb2"), ["hactl-agent"]);

    // The table says the same, and never shows the password.
    let out = status(&fleet, false);
    let table = text(&out);
    assert_eq!(out.status.code(), Some(0), "{table}");
    let row = |host: &str, instance: &str| {
        table
            .lines()
            .find(|l| member_row(l, host, instance))
            .unwrap_or_else(|| panic!("no row for {host} {instance}:\n{table}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        row("lb1", "VI_1").starts_with("14 198.51.100.100 lb1 lb1 hactl-agent VI_1 MASTER 100 yes"),
        "{table}"
    );
    assert!(
        row("lb2", "VI_1").starts_with("lb2 hactl-agent VI_1 BACKUP 90 -"),
        "{table}"
    );
    assert!(
        row("lb2", "VI_2").contains("VI_2 MASTER 100 yes"),
        "{table}"
    );
    assert!(
        table.contains("2 VRIDs, 2 of 2 hosts answered: OK"),
        "{table:?}"
    );
    assert!(
        !table.contains("571f87b2") && !table.contains("571f97b2"),
        "{table}"
    );

    // The VIP of VRID 14 added by hand on its backup: two holders, flagged, non-zero exit.
    let add = fleet.ssh("lb2", "ip addr add 198.51.100.100/24 dev eth0");
    assert!(add.status.success(), "{add:?}");
    let out = status(&fleet, false);
    let table = text(&out);
    assert_eq!(out.status.code(), Some(2), "{table}");
    assert!(
        table.contains("!! VIP 198.51.100.100 (VRID 14) held by 2 hosts: lb1, lb2"),
        "{table}"
    );
    let out = status(&fleet, true);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["exit_code"], 2);
    assert!(
        doc["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("held by 2 hosts")),
        "{doc}"
    );

    // Both engines stopped: no host holds either VIP; the configs on disk still name them.
    let del = fleet.ssh("lb2", "ip addr del 198.51.100.100/24 dev eth0");
    assert!(del.status.success(), "{del:?}");
    for host in ["lb1", "lb2"] {
        let stop = fleet.ssh(host, "systemctl stop hactl-agent");
        assert!(stop.status.success(), "{stop:?}");
    }
    let out = status(&fleet, false);
    let table = text(&out);
    assert_eq!(out.status.code(), Some(2), "{table}");
    assert!(
        table.contains("!! VIP 198.51.100.100 (VRID 14) held by 0 hosts"),
        "{table}"
    );
    assert!(
        table.contains("!! VIP 198.51.100.200 (VRID 24) held by 0 hosts"),
        "{table}"
    );
    assert!(row_has(&table, "lb1", "STOPPED"), "{table}");
}

/// Whether a table line is `host`'s row for `instance` (HOST, ENGINE, INSTANCE in a row).
fn member_row(line: &str, host: &str, instance: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.windows(3).any(|w| w[0] == host && w[2] == instance)
}

/// Whether `host`'s row (the one starting at its HOST column) contains `what`.
fn row_has(table: &str, host: &str, what: &str) -> bool {
    table.lines().any(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        let start = words.windows(2).position(|w| {
            w[0] == host
                && (w[1].contains('-') || w[1].chars().all(char::is_alphabetic))
                && w[1] != host
        });
        start.is_some_and(|i| words[i..].join(" ").contains(what))
    })
}

#[test]
fn a_mixed_pair_keepalived_and_agent() {
    let fleet = Fleet::up_with(&["lb1", "lb2"], true);
    install_configs(&fleet);
    start_keepalived(&fleet, "lb1");
    start_agent(&fleet, "lb2");
    let doc = converged(&fleet);
    assert_eq!(sources(&doc, "lb1"), ["keepalived"]);
    assert_eq!(sources(&doc, "lb2"), ["hactl-agent"]);
    // keepalived's dump carries the effective priority; the agent's JSON too.
    let out = status(&fleet, false);
    let table = text(&out);
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(
        row_has(&table, "lb1", "keepalived VI_1 MASTER 100"),
        "{table}"
    );
    assert!(
        row_has(&table, "lb2", "hactl-agent VI_2 MASTER 100"),
        "{table}"
    );
    assert!(!table.contains("571f87b2"), "{table}");

    // An unreachable host is shown and flagged, and the others still answer.
    let dir = tempfile::tempdir().expect("tmp");
    let mut inv = std::fs::read_to_string(fleet.inventory()).expect("inventory");
    inv.push_str("ghost ansible_host=198.51.100.99\n");
    let inventory = dir.path().join("hosts.ini");
    std::fs::write(&inventory, inv).expect("inventory");
    let out = fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .arg("status")
        .arg(&inventory)
        .args(["-T", "2", "--private-key"])
        .arg(fleet.state.join("id_ed25519"))
        .arg("--ssh-common-args")
        .arg(format!(
            "-o UserKnownHostsFile={}",
            fleet.state.join("known_hosts").display()
        ))
        .output()
        .expect("run hactl status");
    let table = text(&out);
    assert_eq!(out.status.code(), Some(4), "{table}");
    assert!(table.contains("!! ghost is unreachable:"), "{table}");
    assert!(row_has(&table, "ghost", "UNREACHABLE"), "{table}");
    assert!(row_has(&table, "lb1", "MASTER"), "{table}");
}

/// An IPv6 instance beside the shipped IPv4 ones, with the same VRID 14 (another virtual
/// router over IPv6): keepalived on lb1 (priority 150) and the agent on lb2 (100). `hactl
/// status` shows it on rows of its own, `14 (IPv6)`, held by lb1 (from `ip -o addr`, the VIP
/// added `nodad`); the VIP added by hand on lb2 is flagged as held by 2 hosts.
#[test]
fn an_ipv6_vrid_beside_the_ipv4_ones() {
    const VIP6: &str = "2001:db8:61::100";
    let fleet = Fleet::up_with(&["lb1", "lb2"], true);
    install_configs(&fleet);
    for (host, priority) in [("lb1", 150), ("lb2", 100)] {
        let conf = fleet
            .state
            .join(host)
            .join("root/etc/keepalived/keepalived.conf");
        let mut text = std::fs::read_to_string(&conf).expect("config");
        text.push_str(&format!(
            "\nvrrp_instance VI_6 {{\n    state BACKUP\n    interface eth0\n    \
             virtual_router_id 14\n    priority {priority}\n    advert_int 1\n    \
             virtual_ipaddress {{\n        {VIP6}/64\n    }}\n}}\n"
        ));
        std::fs::write(&conf, text).expect("config");
    }
    start_keepalived(&fleet, "lb1");
    start_agent(&fleet, "lb2");
    converged(&fleet);
    let ipv6_vrid = |doc: &Value| -> Value {
        doc["vrids"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["ipv6"] == true)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let doc = loop {
        let out = status(&fleet, true);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let v6 = ipv6_vrid(&doc);
        if out.status.code() == Some(0) && v6["vips"][0]["holders"] == serde_json::json!(["lb1"]) {
            break doc;
        }
        assert!(
            Instant::now() < deadline,
            "the IPv6 VRID did not converge; last status:\n{}",
            text(&out)
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let v6 = ipv6_vrid(&doc);
    assert_eq!(v6["vrid"], 14, "{doc}");
    assert_eq!(v6["vips"][0]["address"], VIP6, "{doc}");
    assert_eq!(v6["masters"], serde_json::json!(["lb1"]), "{doc}");
    assert_eq!(masters(&doc, 14), ["lb1"], "the IPv4 VRID 14 is apart");
    let out = status(&fleet, false);
    let table = text(&out);
    assert_eq!(out.status.code(), Some(0), "{table}");
    let flat: Vec<String> = table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        flat.iter().any(|l| l.starts_with(&format!(
            "14 (IPv6) {VIP6} lb1 lb1 keepalived VI_6 MASTER 150 yes"
        ))),
        "{table}"
    );
    assert!(
        flat.iter()
            .any(|l| l.starts_with("lb2 hactl-agent VI_6 BACKUP 100 -")),
        "{table}"
    );
    assert!(
        table.contains("3 VRIDs, 2 of 2 hosts answered: OK"),
        "{table}"
    );

    let add = fleet.ssh("lb2", &format!("ip addr add {VIP6}/64 dev eth0 nodad"));
    assert!(add.status.success(), "{add:?}");
    let out = status(&fleet, false);
    let table = text(&out);
    assert_eq!(out.status.code(), Some(2), "{table}");
    assert!(
        table.contains(&format!(
            "!! VIP {VIP6} (VRID 14) held by 2 hosts: lb1, lb2"
        )),
        "{table}"
    );
}
