//! One good and one bad config per rule, linted as a pair of hosts.

use super::*;

/// A host's config: `VI_1` on eth0 with the given body lines, plus `extra` at the top level.
fn host(name: &str, extra: &str, body: &str) -> HostConfig {
    HostConfig {
        host: name.into(),
        file: "/etc/keepalived/keepalived.conf".into(),
        src: None,
        task: None,
        mode: None,
        text: format!(
            "global_defs {{\n enable_script_security\n script_user root\n}}\n{extra}\n\
             vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 14\n{body}\n \
             virtual_ipaddress {{\n  198.51.100.100/24\n }}\n}}\n"
        ),
    }
}

const MASTER: &str = " state MASTER\n priority 100";
const BACKUP: &str = " state BACKUP\n priority 90";

fn rules(configs: &[HostConfig]) -> Vec<(&'static str, String, u32)> {
    check(configs)
        .into_iter()
        .map(|f| (f.rule, f.host, f.line))
        .collect()
}

fn pair(extra: &str, master: &str, backup: &str) -> Vec<(&'static str, String, u32)> {
    rules(&[host("lb1", extra, master), host("lb2", extra, backup)])
}

#[test]
fn a_plain_pair_is_clean() {
    assert_eq!(pair("", MASTER, BACKUP), []);
}

#[test]
fn track_script_needing_a_shell() {
    let bad = "vrrp_script chk_down {\n script \"/bin/bash -c '[[ -f /etc/keepalived/down ]]' && exit 1 || exit 0\"\n weight -20\n}";
    let track = "\n track_script {\n  chk_down\n }";
    let found = pair(bad, &format!("{MASTER}{track}"), BACKUP);
    assert_eq!(
        found,
        [
            ("script-needs-shell", "lb1".to_string(), 6),
            ("script-needs-shell", "lb2".to_string(), 6)
        ]
    );
    let good = "vrrp_script chk_down {\n script \"/bin/bash -c '[[ ! -f /etc/keepalived/down ]]'\"\n weight -20\n}\n\
                vrrp_script chk_nginx {\n script \"/usr/bin/killall -0 nginx\"\n weight -20\n}";
    assert_eq!(pair(good, &format!("{MASTER}{track}"), BACKUP), []);
}

#[test]
fn one_vrid_with_two_vip_sets() {
    let mut other = host("lb2", "", BACKUP);
    other.text = other.text.replace("198.51.100.100/24", "198.51.100.150/24");
    let found = rules(&[host("lb1", "", MASTER), other]);
    assert_eq!(
        found,
        [
            ("vrid-vips-differ", "lb1".to_string(), 8),
            ("vrid-vips-differ", "lb2".to_string(), 8)
        ]
    );
    // Another interface is another segment.
    let mut elsewhere = host("lb2", "", BACKUP);
    elsewhere.text = elsewhere
        .text
        .replace("198.51.100.100/24", "198.51.100.150/24")
        .replace("interface eth0", "interface eth1");
    assert_eq!(rules(&[host("lb1", "", MASTER), elsewhere]), []);
}

/// IPv6 VIPs are compared as IPv4 ones; an IPv6 instance and an IPv4 one with the same
/// VRID on one interface are two virtual routers (RFC 5798 5.2.3), not a conflict.
#[test]
fn ipv6_vip_sets_are_compared_and_kept_apart_from_ipv4() {
    let v6 = |name: &str, vip: &str, body: &str| {
        let mut h = host(name, "", body);
        h.text = h.text.replace("198.51.100.100/24", vip);
        h
    };
    let found = rules(&[
        v6("lb1", "2001:db8:61::100/64", MASTER),
        v6("lb2", "2001:db8:61::150/64", BACKUP),
    ]);
    assert_eq!(
        found,
        [
            ("vrid-vips-differ", "lb1".to_string(), 8),
            ("vrid-vips-differ", "lb2".to_string(), 8)
        ]
    );
    let msg = check(&[
        v6("lb1", "2001:db8:61::100/64", MASTER),
        v6("lb2", "2001:db8:61::150/64", BACKUP),
    ])[0]
        .message
        .clone();
    assert!(
        msg.starts_with("VRID 14 (IPv6) on eth0 is used for VIPs 2001:db8:61::100 here"),
        "{msg}"
    );
    assert_eq!(
        rules(&[
            v6("lb1", "2001:db8:61::100/64", MASTER),
            v6("lb2", "2001:db8:61::100/64", BACKUP),
        ]),
        []
    );
    // VRID 14 over IPv6 on lb2 beside VRID 14 over IPv4 on lb1: no VIP conflict, no
    // version mismatch (IPv6 is VRRPv3).
    let mut both = host("lb2", "", BACKUP);
    both.text = both
        .text
        .replace("198.51.100.100/24", "2001:db8:61::100/64");
    assert_eq!(rules(&[host("lb1", "", MASTER), both]), []);
}

#[test]
fn two_masters_at_one_priority() {
    let found = pair("", MASTER, MASTER);
    assert_eq!(
        found,
        [
            ("dual-master", "lb1".to_string(), 9),
            ("dual-master", "lb2".to_string(), 9)
        ]
    );
    assert_eq!(pair("", MASTER, " state MASTER\n priority 90"), []);
}

#[test]
fn weight_smaller_than_the_gap() {
    let script = |w: i32| {
        format!("vrrp_script chk {{\n script \"/usr/bin/killall -0 nginx\"\n weight {w}\n}}")
    };
    let track = "\n track_script {\n  chk\n }";
    let master = format!("{MASTER}{track}");
    let found = check(&[
        host("lb1", &script(-5), &master),
        host("lb2", &script(-5), BACKUP),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].rule, found[0].host.as_str(), found[0].severity),
        ("weight-gap", "lb1", Severity::Error)
    );
    assert!(
        found[0]
            .message
            .contains("from 100 to 95, still above lb2's 90"),
        "{}",
        found[0].message
    );
    assert_eq!(found[0].line, 15, "the track_script entry");
    // -10 ties (a warning), -15 crosses, weight 0 faults the master: all move the VIP.
    let tie = check(&[
        host("lb1", &script(-10), &master),
        host("lb2", &script(-10), BACKUP),
    ]);
    assert_eq!(
        tie.iter().map(|f| f.severity).collect::<Vec<_>>(),
        [Severity::Warning]
    );
    assert_eq!(pair(&script(-15), &master, BACKUP), []);
    assert_eq!(pair(&script(0), &master, BACKUP), []);
    // An entry's own weight replaces the script's.
    let entry = format!("{MASTER}\n track_script {{\n  chk weight -30\n }}");
    assert_eq!(pair(&script(-5), &entry, BACKUP), []);
    // Positive weights count: with +20 on lb2 (110 healthy), lb2 is the master, and its 90
    // when the script fails is below lb1's 100.
    let plus = format!("{BACKUP}\n track_script {{\n  chk weight 20\n }}");
    assert!(
        rules(&[
            host("lb1", &script(-5), &master),
            host("lb2", &script(-5), &plus)
        ])
        .iter()
        .all(|(r, _, _)| *r != "weight-gap")
    );
}

#[test]
fn auth_pass_longer_than_eight() {
    let auth =
        |p: &str| format!("{MASTER}\n authentication {{\n  auth_type PASS\n  auth_pass {p}\n }}");
    let found = check(&[
        host("lb1", "", &auth("0123456789ab")),
        host("lb2", "", BACKUP),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].rule, found[0].line, found[0].severity),
        ("auth-pass-length", 13, Severity::Warning)
    );
    let shown = format!("{found:?}");
    assert!(
        !shown.contains("0123456789ab") && !shown.contains("01234567"),
        "{shown}"
    );
    assert_eq!(pair("", &auth("01234567"), BACKUP), []);
}

#[test]
fn advert_int_and_version_mismatch() {
    let found = pair("", &format!("{MASTER}\n advert_int 2"), BACKUP);
    assert_eq!(
        found,
        [
            ("vrrp-mismatch", "lb1".to_string(), 11),
            ("vrrp-mismatch", "lb2".to_string(), 6)
        ]
    );
    let found = pair(
        "",
        &format!("{MASTER}\n version 3"),
        &format!("{BACKUP}\n version 2"),
    );
    assert_eq!(
        found.iter().filter(|f| f.0 == "vrrp-mismatch").count(),
        2,
        "{found:?}"
    );
    assert_eq!(pair("", &format!("{MASTER}\n advert_int 1"), BACKUP), []);
}

#[test]
fn parse_errors_name_host_and_line() {
    let found = check(&[host("lb1", "", " priority 100\n virtual_router_id 300")]);
    assert!(
        found
            .iter()
            .any(|f| f.rule == "parse-error" && f.host == "lb1" && f.line == 10),
        "{found:?}"
    );
    assert!(has_errors(&found));
}

#[test]
fn auth_pass_in_a_world_readable_file() {
    let auth = format!("{MASTER}\n authentication {{\n  auth_type PASS\n  auth_pass 01234567\n }}");
    let written = |mode: Option<&str>| {
        let mut c = host("lb1", "", &auth);
        c.task = Some("task 'config keepalived' at roles/nginx/tasks/main.yml:31:3".into());
        c.mode = mode.map(String::from);
        check(&[c, host("lb2", "", BACKUP)])
    };
    for mode in [
        None,
        Some("0644"),
        Some("0604"),
        Some("u=rw,g=r,o=r"),
        Some("o+r"),
    ] {
        let found = written(mode);
        assert_eq!(found.len(), 1, "{mode:?}: {found:?}");
        assert_eq!(
            (found[0].rule, found[0].line, found[0].severity),
            ("auth-pass-world-readable", 13, Severity::Warning),
            "{mode:?}"
        );
        assert!(
            found[0].message.contains("task 'config keepalived'"),
            "{}",
            found[0].message
        );
        assert!(
            !format!("{found:?}").contains("01234567"),
            "no password shown"
        );
    }
    for mode in ["0640", "0600", "640", "u=rw,g=r,o=", "go-rwx", "o-r"] {
        assert_eq!(written(Some(mode)), [], "{mode}");
    }
    // A file without auth_pass may be world-readable.
    let mut plain = host("lb1", "", MASTER);
    plain.task = Some("task 'x' at site.yml:3:7".into());
    assert_eq!(check(&[plain, host("lb2", "", BACKUP)]), []);
}
