//! Keyword-by-keyword tests of the parser: defaults, fallbacks and errors as keepalived 2.2.7
//! has them. The end-to-end comparison with real keepalived is in `tests/keepalived_verdicts.rs`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::*;

fn parse(src: &str) -> Parsed {
    match parse_str(src, "test.conf") {
        Ok(p) => p,
        Err(e) => panic!("expected a config, got:\n{e}"),
    }
}

fn errors(src: &str) -> Vec<String> {
    match parse_str(src, "test.conf") {
        Ok(p) => panic!("expected errors, got {:?}", p.warnings),
        Err(e) => e
            .diagnostics()
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(ToString::to_string)
            .collect(),
    }
}

fn messages(parsed: &Parsed, severity: Severity) -> Vec<String> {
    parsed
        .warnings
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d| d.message.clone())
        .collect()
}

/// One instance on eth0 with VRID 1 and a VIP, plus `body`.
fn instance(body: &str) -> (Instance, Parsed) {
    let src = format!(
        "vrrp_instance VI {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n  198.51.100.1\n }}\n{body}\n}}\n"
    );
    let parsed = parse(&src);
    let inst = parsed
        .config
        .instances
        .first()
        .cloned()
        .expect("one instance");
    (inst, parsed)
}

#[test]
fn instance_defaults_are_keepalived_defaults() {
    let (i, parsed) = instance("");
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(i.initial_state, InitialState::Backup);
    assert_eq!(i.priority, 100);
    assert_eq!(i.advert_int, Duration::from_secs(1));
    assert_eq!(i.version, VrrpVersion::V2);
    assert!(!i.nopreempt);
    assert_eq!(i.preempt_delay, Duration::ZERO);
    assert_eq!(i.auth, None);
    assert_eq!(
        i.garp,
        Garp {
            delay: Duration::from_secs(5),
            repeat: 5,
            refresh: None,
            refresh_repeat: 1,
            ..Garp::default()
        }
    );
    assert_eq!(
        parsed.config.global.mcast_group4,
        Ipv4Addr::new(224, 0, 0, 18)
    );
}

#[test]
fn state_and_priority_default_from_each_other() {
    let (i, _) = instance("state MASTER");
    assert_eq!((i.initial_state, i.priority), (InitialState::Master, 255));
    let (i, _) = instance("priority 255");
    assert_eq!((i.initial_state, i.priority), (InitialState::Master, 255));
    let (i, _) = instance("state MASTER\npriority 100");
    assert_eq!((i.initial_state, i.priority), (InitialState::Master, 100));
    let (i, p) = instance("state MASTER\nstate BACKUP");
    assert_eq!(i.initial_state, InitialState::Master);
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) state previously set as MASTER - ignoring BACKUP"]
    );
    let (i, p) = instance("state master");
    assert_eq!(i.initial_state, InitialState::Backup);
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) unknown state 'master', defaulting to BACKUP"]
    );
}

#[test]
fn priority_range() {
    for (value, expected, warned) in [
        ("1", 1, false),
        ("254", 254, false),
        ("0", 100, true),
        ("256", 100, true),
        ("-5", 100, true),
        ("x", 100, true),
    ] {
        let (i, p) = instance(&format!("priority {value}"));
        assert_eq!(i.priority, expected, "priority {value}");
        assert_eq!(p.has_warnings(), warned, "priority {value}");
    }
}

#[test]
fn virtual_router_id_range() {
    for vrid in ["1", "255"] {
        let src = format!(
            "vrrp_instance VI {{\n interface eth0\n virtual_router_id {vrid}\n virtual_ipaddress {{\n 198.51.100.1\n }}\n}}"
        );
        assert_eq!(parse(&src).config.instances[0].vrid.to_string(), vrid);
    }
    for vrid in ["0", "256", "1x", "-1"] {
        let src = format!(
            "vrrp_instance VI {{\n interface eth0\n virtual_router_id {vrid}\n virtual_ipaddress {{\n 198.51.100.1\n }}\n}}"
        );
        let errs = errors(&src);
        assert_eq!(
            errs[0],
            format!("test.conf:3: error: (VI): VRID '{vrid}' not valid - must be between 1 & 255")
        );
    }
    let errs = errors("vrrp_instance VI {\n interface eth0\n}");
    assert_eq!(
        errs,
        ["test.conf:1: error: (VI) the virtual router id must be set"]
    );
}

#[test]
fn advert_int_v2_whole_seconds_v3_centiseconds() {
    let (i, p) = instance("advert_int 3");
    assert_eq!(i.advert_int, Duration::from_secs(3));
    assert!(!p.has_warnings());
    let (i, p) = instance("advert_int 1.4");
    assert_eq!(i.advert_int, Duration::from_secs(1));
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) VRRPv2 advertisement interval 1.4s must be an integer. rounding"]
    );
    let (i, p) = instance("version 3\nadvert_int 0.05");
    assert_eq!(
        (i.version, i.advert_int),
        (VrrpVersion::V3, Duration::from_millis(50))
    );
    assert!(!p.has_warnings());
    let (i, p) = instance("version 3\nadvert_int 0.055");
    assert_eq!(i.advert_int, Duration::from_millis(60));
    assert!(p.has_warnings());
    let (i, p) = instance("advert_int 0");
    assert_eq!(i.advert_int, Duration::from_secs(1));
    assert!(p.has_warnings());
    let (i, p) = instance("version 3\nadvert_int 50");
    assert_eq!(i.advert_int, Duration::from_millis(40_950));
    assert!(p.has_warnings());
}

#[test]
fn version_comes_from_global_defs_unless_the_instance_sets_it() {
    let p = parse(
        "global_defs {\n vrrp_version 3\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n }\n}\nvrrp_instance B {\n interface eth0\n version 2\n virtual_router_id 2\n virtual_ipaddress {\n 198.51.100.2\n }\n}",
    );
    let versions: Vec<_> = p.config.instances.iter().map(|i| i.version).collect();
    assert_eq!(versions, [VrrpVersion::V3, VrrpVersion::V2]);
    let (_, p) = instance("version 4");
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI): Version must be either 2 or 3"]
    );
}

#[test]
fn preemption() {
    let (i, _) = instance("nopreempt");
    assert!(i.nopreempt);
    let (i, _) = instance("nopreempt\npreempt");
    assert!(!i.nopreempt);
    let (i, _) = instance("preempt_delay 30");
    assert_eq!(i.preempt_delay, Duration::from_secs(30));
    let (i, p) = instance("preempt_delay 30\nnopreempt");
    assert_eq!(i.preempt_delay, Duration::ZERO);
    assert!(p.has_warnings());
    let (i, p) = instance("state MASTER\npriority 100\nnopreempt");
    assert!(!i.nopreempt);
    assert!(p.has_warnings());
}

#[test]
fn authentication_and_the_secret() {
    let (i, p) = instance("authentication {\n auth_type PASS\n auth_pass 0123456789\n}");
    let auth = i.auth.clone().expect("auth");
    assert_eq!(auth.kind, AuthType::Pass);
    assert_eq!(auth.pass.expose(), "01234567");
    assert_eq!(
        messages(&p, Severity::Warning),
        ["Truncating auth_pass to 8 characters"]
    );
    let debug = format!("{:?}", p.config);
    assert!(debug.contains("pass: ****"), "{debug}");
    assert!(
        !debug.contains("01234567"),
        "the password leaked into Debug output"
    );

    let (i, _) = instance("authentication {\n auth_type AH\n auth_pass abc\n}");
    assert_eq!(i.auth.map(|a| a.kind), Some(AuthType::Ah));
    let (i, p) = instance("authentication {\n auth_type MD5\n auth_pass abc\n}");
    assert_eq!(i.auth, None);
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) unknown authentication type 'MD5'"]
    );
    let (i, p) = instance("authentication {\n auth_type PASS\n}");
    assert_eq!(i.auth, None);
    assert!(p.has_warnings());
    let (i, p) = instance("version 3\nauthentication {\n auth_type PASS\n auth_pass x\n}");
    assert_eq!(i.auth, None);
    assert!(p.has_warnings());
}

#[test]
fn virtual_addresses() {
    let p = parse(
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  198.51.100.1/24 dev eth1 label eth1:1 brd 198.51.100.255 scope link\n  203.0.113.7\n  bogus\n  198.51.100.9/40\n }\n}",
    );
    let vips = &p.config.instances[0].vips;
    assert_eq!(
        vips[0],
        VirtualIp {
            addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
            prefix: 24,
            dev: Some("eth1".into()),
            brd: Some(Ipv4Addr::new(198, 51, 100, 255)),
            label: Some("eth1:1".into()),
            scope: Some("link".into()),
            no_track: false,
        }
    );
    assert_eq!(
        (vips[1].addr, vips[1].prefix),
        (IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)), 32)
    );
    assert_eq!(
        (vips[2].addr, vips[2].prefix),
        (IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)), 32)
    );
    assert_eq!(vips.len(), 3);
    assert_eq!(
        messages(&p, Severity::Warning),
        [
            "VRRP parsed invalid IP bogus. skipping IP...",
            "Invalid address prefix len 40 for address 198.51.100.9/40 - using 32",
        ]
    );
}

/// keepalived 2.2.7 runs an instance whose VIPs are IPv6 over IPv6, with VRRPv3.
#[test]
fn ipv6_vips_make_an_ipv6_vrrpv3_instance() {
    let p = parse(
        "global_defs {\n vrrp_version 2\n}\n\
         vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  \
         2001:db8::1/64\n  2001:db8::2\n }\n virtual_ipaddress_excluded {\n  198.51.100.9\n }\n}",
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let i = &p.config.instances[0];
    assert!(i.ipv6());
    assert_eq!(i.version, VrrpVersion::V3, "IPv6 forces VRRPv3");
    let v6 = |s: &str| IpAddr::V6(s.parse::<Ipv6Addr>().expect("an IPv6 address"));
    assert_eq!(
        i.vips
            .iter()
            .map(|v| (v.addr, v.prefix))
            .collect::<Vec<_>>(),
        [(v6("2001:db8::1"), 64), (v6("2001:db8::2"), 128)]
    );
    // Excluded addresses may be of either family, as in keepalived.
    assert_eq!(i.excluded_vips.len(), 1);

    // Mixing families: keepalived skips the address with an error.
    let p = parse(
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  \
         2001:db8::1\n  198.51.100.1\n }\n}",
    );
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI): address family must match VRRP instance [198.51.100.1] - ignoring"]
    );
    assert_eq!(p.config.instances[0].vips.len(), 1);

    // native_ipv6: IPv6 and VRRPv3 before any address; IPv4 VIPs are then skipped.
    let p = parse(
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n native_ipv6\n \
         virtual_ipaddress {\n  2001:db8::1\n }\n version 2\n}",
    );
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) vrrp_version 2 conflicts with configured or deduced version 3; ignoring."]
    );
    assert_eq!(p.config.instances[0].version, VrrpVersion::V3);
    let p = parse(
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  \
         198.51.100.1\n }\n native_ipv6\n}",
    );
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) Cannot specify native_ipv6 with IPv4 addresses"]
    );

    // An explicit `version 2` before IPv6 addresses: keepalived would run VRRPv2 over IPv6,
    // which the agent refuses; strict mode makes keepalived switch to version 3.
    let errs = errors(
        "vrrp_instance VI {\n interface eth0\n version 2\n virtual_router_id 1\n \
         virtual_ipaddress {\n  2001:db8::1\n }\n}",
    );
    assert!(errs[0].contains("'version 2' with IPv6"), "{errs:?}");

    // IPv6 unicast peers and source.
    let p = parse(
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n unicast_src_ip 2001:db8::a\n \
         unicast_peer {\n  2001:db8::b\n  198.51.100.2\n }\n virtual_ipaddress {\n  2001:db8::1\n }\n}",
    );
    assert_eq!(
        messages(&p, Severity::Warning),
        [
            "Configuration error: VRRP instance[VI] and unicast peer address[198.51.100.2] MUST be of the same family !!! Skipping..."
        ]
    );
    let i = &p.config.instances[0];
    assert_eq!(i.src_ip, Some(v6("2001:db8::a")));
    assert_eq!(i.unicast_peers, [UnicastPeer::new(v6("2001:db8::b"))]);

    // No accept mode with IPv6 addresses: run with ip6 drop rules, as keepalived does; strict
    // mode turns accept mode off for IPv6 too.
    let p = parse(
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n no_accept\n \
         virtual_ipaddress {\n  2001:db8::1\n }\n}",
    );
    assert!(messages(&p, Severity::Error).is_empty());
    assert!(!p.config.instances[0].accept);
    let p = parse(
        "global_defs {\n vrrp_strict\n}\nvrrp_instance VI {\n interface eth0\n \
         virtual_router_id 1\n virtual_ipaddress {\n  fe80::1\n  2001:db8::1\n }\n}",
    );
    assert!(messages(&p, Severity::Error).is_empty());
    assert!(!p.config.instances[0].accept);
}

#[test]
fn no_vip_is_a_warning_on_v2_and_an_error_on_v3() {
    let p = parse("vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n}");
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) No VIP specified; at least one is sensible"]
    );
    let errs = errors("vrrp_instance VI {\n interface eth0\n version 3\n virtual_router_id 1\n}");
    assert_eq!(
        errs,
        ["test.conf:1: error: (VI) No VIP specified; at least one is required"]
    );
}

#[test]
fn unicast_and_source_addresses() {
    let (i, p) =
        instance("unicast_src_ip 198.51.100.2\nunicast_peer {\n 198.51.100.3\n 198.51.100.4\n}");
    assert_eq!(i.src_ip, Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2))));
    assert_eq!(
        i.unicast_peers,
        [
            UnicastPeer::new(Ipv4Addr::new(198, 51, 100, 3)),
            UnicastPeer::new(Ipv4Addr::new(198, 51, 100, 4))
        ]
    );
    assert!(
        !i.check_unicast_src,
        "keepalived checks no source by default"
    );
    assert_eq!(i.unicast_ttl, None);
    assert!(p.warnings.is_empty());
    let (i, p) = instance("mcast_src_ip 198.51.100.2");
    assert_eq!(
        (i.src_ip, i.unicast_peers.len()),
        (Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2))), 0)
    );
    assert!(p.warnings.is_empty());
    let (_, p) = instance("unicast_src_ip 198.51.100.2");
    assert!(messages(&p, Severity::Warning)[0].contains("without any unicast peers"));
    // Without an interface, unicast needs both a source and peers.
    let p = parse(
        "vrrp_instance VI {\n virtual_router_id 1\n unicast_src_ip 198.51.100.2\n unicast_peer {\n 198.51.100.3\n }\n virtual_ipaddress {\n 198.51.100.1\n }\n}",
    );
    assert_eq!(p.config.instances[0].interface, None);
    assert!(
        errors(
            "vrrp_instance VI {\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n }\n}"
        )[0]
        .contains("an interface is needed")
    );
}

#[test]
fn tracking() {
    let src = "global_defs {\n enable_script_security\n script_user root\n}\nvrrp_script chk {\n script /bin/true\n weight 10\n}\ntrack_file f1 {\n file /tmp/f1\n}\nvrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n }\n track_script {\n chk weight -20 reverse\n nope\n }\n track_interface {\n eth1\n eth2 weight 5\n }\n track_file {\n f1 weight 3\n }\n}";
    let p = parse(src);
    let i = &p.config.instances[0];
    assert_eq!(
        i.track_scripts,
        [TrackRef {
            name: "chk".into(),
            weight: Some(-20),
            reverse: true
        }]
    );
    assert_eq!(
        i.track_interfaces,
        [
            TrackRef {
                name: "eth1".into(),
                weight: None,
                reverse: false
            },
            TrackRef {
                name: "eth2".into(),
                weight: Some(5),
                reverse: false
            },
        ]
    );
    assert_eq!(
        i.track_files,
        [TrackRef {
            name: "f1".into(),
            weight: Some(3),
            reverse: false
        }]
    );
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) track script nope not found, ignoring..."]
    );
    let (_, p) = instance("track_interface {\n eth1 weight 300\n}");
    assert!(p.has_warnings());
    let (_, p) = instance("track_interface {\n eth1 wait 3\n}");
    assert!(p.has_warnings());
}

#[test]
fn vrrp_script_fields_and_defaults() {
    let p = parse(
        "vrrp_script s {\n script \"/usr/bin/test -f '/a b'\"\n}\nvrrp_script t {\n script /bin/true\n interval 5\n timeout 2\n weight -10 reverse\n rise 3\n fall 4\n user nobody nogroup\n init_fail\n}",
    );
    let [s, t] = p.config.scripts.as_slice() else {
        panic!("two scripts")
    };
    assert_eq!(s.argv, ["/usr/bin/test", "-f", "/a b"]);
    assert_eq!(
        (s.interval, s.timeout, s.weight, s.rise, s.fall),
        (Duration::from_secs(1), Duration::from_secs(1), 0, 1, 1)
    );
    assert_eq!(
        (t.interval, t.timeout, t.weight, t.weight_reverse),
        (Duration::from_secs(5), Duration::from_secs(2), -10, true)
    );
    assert_eq!((t.rise, t.fall, t.init_fail), (3, 4, true));
    assert_eq!(
        t.user,
        Some(ScriptUser {
            user: "nobody".into(),
            group: Some("nogroup".into())
        })
    );

    let p = parse("vrrp_script s {\n script /bin/true\n interval 0\n weight 300\n rise 0\n}");
    assert_eq!(p.config.scripts[0].interval, Duration::from_secs(1));
    assert_eq!(p.config.scripts[0].rise, 1);
    assert_eq!(messages(&p, Severity::Warning).len(), 3);
    let p = parse("vrrp_script s {\n interval 2\n}");
    assert!(p.config.scripts.is_empty());
    assert_eq!(
        messages(&p, Severity::Warning),
        ["No script set for vrrp_script s - removing"]
    );
}

#[test]
fn track_file_blocks() {
    let p = parse(
        "track_file a {\n file /run/a\n init_file 5 overwrite\n}\nvrrp_track_file b {\n file /run/b\n weight -3 reverse\n}\ntrack_file c {\n weight 2\n}",
    );
    let files = &p.config.track_files;
    assert_eq!(files[0].weight, 1);
    assert_eq!(
        files[0].init,
        Some(TrackFileInit {
            value: 5,
            overwrite: true
        })
    );
    assert_eq!((files[1].weight, files[1].weight_reverse), (-3, true));
    assert_eq!(files.len(), 2);
    assert_eq!(
        messages(&p, Severity::Warning),
        ["No file set for track_file c - ignoring"]
    );
}

#[test]
fn notify_commands_are_split_without_a_shell() {
    let (i, _) = instance(
        "notify_master \"/n.sh master\"\nnotify_backup /n.sh\nnotify_fault '/n.sh fault'\nnotify_stop \"/n.sh stop\"\nnotify /all.sh",
    );
    assert_eq!(
        i.notify.master,
        Some(vec!["/n.sh".to_string(), "master".into()])
    );
    assert_eq!(i.notify.backup, Some(vec!["/n.sh".to_string()]));
    assert_eq!(
        i.notify.fault,
        Some(vec!["/n.sh".to_string(), "fault".into()])
    );
    assert_eq!(
        i.notify.stop,
        Some(vec!["/n.sh".to_string(), "stop".into()])
    );
    assert_eq!(i.notify.any, Some(vec!["/all.sh".to_string()]));
}

#[test]
fn garp_settings() {
    let (i, _) = instance(
        "garp_master_delay 2\ngarp_master_repeat 3\ngarp_master_refresh 60\ngarp_master_refresh_repeat 2",
    );
    assert_eq!(
        i.garp,
        Garp {
            delay: Duration::from_secs(2),
            repeat: 3,
            refresh: Some(Duration::from_secs(60)),
            refresh_repeat: 2,
            ..Garp::default()
        }
    );
    let (i, p) = instance("garp_master_repeat 0");
    assert_eq!(i.garp.repeat, 1);
    assert!(p.has_warnings());
    let p = parse(
        "global_defs {\n vrrp_garp_master_delay 7\n vrrp_garp_master_repeat 2\n vrrp_garp_interval 0.25\n}\nvrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n }\n}",
    );
    assert_eq!(p.config.global.garp_interval, Duration::from_millis(250));
    // A decimal with a multi-byte character past six places is an invalid number, not a
    // panic (found by fuzzing).
    let bad = parse("global_defs {\n vrrp_garp_interval 0.00000\u{e9}\n}");
    assert!(
        messages(&bad, Severity::Warning)
            .iter()
            .any(|m| m.contains("invalid number")),
        "{:?}",
        bad.warnings
    );
    assert_eq!(
        (
            p.config.instances[0].garp.delay,
            p.config.instances[0].garp.repeat
        ),
        (Duration::from_secs(7), 2)
    );
    // vrrp_min_garp only changes what is still at its default.
    let p = parse("global_defs {\n vrrp_min_garp\n vrrp_garp_master_delay 3\n}");
    assert_eq!(
        (p.config.global.garp.repeat, p.config.global.garp.delay),
        (1, Duration::from_secs(3))
    );
    // Values already changed when vrrp_min_garp is read stay as they are.
    let p = parse("global_defs {\n vrrp_garp_master_repeat 3\n vrrp_min_garp\n}");
    let min = Garp {
        delay: Duration::ZERO,
        repeat: 3,
        refresh: None,
        refresh_repeat: 0,
        extra_if: None,
        // Unset, the lower-priority GARPs follow the global master ones.
        lower_prio_delay: Duration::ZERO,
        lower_prio_repeat: 3,
    };
    assert_eq!(p.config.global.garp, min);
}

#[test]
fn global_defs_keywords() {
    let p = parse(
        "global_defs {\n router_id lb1\n vrrp_mcast_group4 224.0.100.19\n enable_script_security\n script_user ka ka\n notification_email {\n  root@localhost\n }\n notification_email_from a@b\n smtp_server 127.0.0.1\n smtp_connect_timeout 30\n}",
    );
    let g = &p.config.global;
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(g.router_id.as_deref(), Some("lb1"));
    assert_eq!(g.mcast_group4, Ipv4Addr::new(224, 0, 100, 19));
    assert!(g.enable_script_security);
    assert_eq!(
        g.script_user,
        Some(ScriptUser {
            user: "ka".into(),
            group: Some("ka".into())
        })
    );
    let p = parse("global_defs {\n vrrp_mcast_group4 198.51.100.1\n}");
    assert_eq!(p.config.global.mcast_group4, Ipv4Addr::new(224, 0, 0, 18));
    assert!(p.has_warnings());
}

#[test]
fn sync_groups() {
    let p = parse(
        "vrrp_sync_group G {\n group {\n  A B\n }\n notify_master /m.sh\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n 198.51.100.2\n }\n}",
    );
    let g = &p.config.sync_groups[0];
    assert_eq!(g.members, ["A", "B"]);
    assert_eq!(g.notify.master, Some(vec!["/m.sh".to_string()]));
}

#[test]
fn duplicate_vrids() {
    let two = |a: &str, b: &str| {
        format!(
            "vrrp_instance A {{\n virtual_router_id 1\n {a}\n virtual_ipaddress {{\n 198.51.100.1\n }}\n}}\nvrrp_instance B {{\n virtual_router_id 1\n {b}\n virtual_ipaddress {{\n 198.51.100.2\n }}\n}}"
        )
    };
    assert_eq!(
        errors(&two("interface eth0", "interface eth0")),
        ["test.conf:8: error: (A) duplicate VRID conflict with B VRID 1"]
    );
    parse(&two("interface eth0", "interface eth1"));
    let uni = "interface eth0\n unicast_src_ip 198.51.100.9\n unicast_peer {\n 198.51.100.3\n }";
    assert_eq!(errors(&two(uni, uni)).len(), 1);
    parse(&two(uni, "interface eth0"));
    // VRID 1 over IPv6 beside VRID 1 over IPv4: two virtual routers, as keepalived allows.
    let v6 = two("interface eth0", "interface eth0").replace("198.51.100.2", "2001:db8::2");
    parse(&v6);
}

#[test]
fn unknown_and_unsupported_keywords() {
    let (_, p) = instance("priorty 100\nkernel_rx_buf_size 65536");
    assert_eq!(
        p.warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "test.conf:7: warning: Unknown keyword 'priorty'",
            "test.conf:8: note: 'kernel_rx_buf_size' is not supported by hactl-agent; ignored",
        ]
    );
    assert!(p.has_warnings());
    let p = parse("global_defs {\n vrrp_process_name ka\n enable_snmp_vrrp\n}");
    assert!(!p.has_warnings());
    assert_eq!(messages(&p, Severity::Note).len(), 2);
}

/// Keywords that change failover or the host are refused with what keepalived would do.
#[test]
fn behaviour_changing_keywords_are_refused() {
    let in_instance = |body: &str| {
        errors(&format!(
            "vrrp_instance VI {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n  198.51.100.1\n }}\n{body}\n}}\n"
        ))
    };
    assert_eq!(
        in_instance("use_vmac_addr"),
        [
            "test.conf:7: error: keepalived would also create VMACs for the VIPs on other \
          interfaces and move those VIPs onto them; hactl-agent does not support \
          'use_vmac_addr'; run keepalived on this host"
        ]
    );
    for kw in ["track_bfd {\n b1\n}", "use_vmac_addr"] {
        let errs = in_instance(kw);
        let keyword = kw.split_whitespace().next().expect("a keyword");
        assert_eq!(errs.len(), 1, "{kw}: {errs:?}");
        assert!(
            errs[0].starts_with("test.conf:7: error: keepalived would ")
                && errs[0].ends_with(&format!(
                    "; hactl-agent does not support '{keyword}'; run keepalived on this host"
                )),
            "{errs:?}"
        );
    }
    let global = |body: &str| errors(&format!("global_defs {{\n{body}\n}}\n"));
    let errs = global("lvs_flush");
    assert_eq!(errs.len(), 1, "lvs_flush: {errs:?}");
    assert!(
        errs[0].starts_with("test.conf:2: error: keepalived would "),
        "{errs:?}"
    );
    for top in [
        "virtual_server 198.51.100.1 80 {\n delay_loop 6\n}",
        "virtual_server_group g {\n 198.51.100.1 80\n}",
        "bfd_instance b1 {\n neighbor_ip 198.51.100.2\n}",
    ] {
        let errs = errors(top);
        assert_eq!(errs.len(), 1, "{top}: {errs:?}");
        assert!(
            errs[0].starts_with("test.conf:1: error: keepalived would "),
            "{errs:?}"
        );
    }
}

#[test]
fn accept_mode_is_the_default_and_a_later_accept_cancels_no_accept() {
    let (i, p) = instance("");
    assert!(i.accept && !i.strict);
    let (i, p2) = instance("no_accept");
    assert!(!i.accept);
    let (i, p3) = instance("no_accept\naccept");
    assert!(i.accept);
    let (i, p4) = instance("accept\nno_accept");
    assert!(!i.accept);
    // The address owner gets no firewall rules from keepalived either.
    let (i, p5) = instance("priority 255\nno_accept");
    assert!(i.accept);
    for p in [p, p2, p3, p4, p5] {
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }
}

/// A strict-mode instance with `body`, and the warnings, with `vrrp_strict` in global_defs.
fn strict(body: &str) -> (Instance, Vec<String>) {
    let parsed = parse(&format!(
        "global_defs {{\n vrrp_strict\n}}\nvrrp_instance VI {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n  198.51.100.1\n }}\n{body}\n}}\n"
    ));
    let inst = parsed
        .config
        .instances
        .first()
        .cloned()
        .expect("one instance");
    let warnings = messages(&parsed, Severity::Warning);
    (inst, warnings)
}

#[test]
fn strict_mode_defaults_to_no_accept_and_quiet_lower_priority_handling() {
    let (i, w) = strict("");
    assert!(w.is_empty(), "{w:?}");
    assert!(i.strict && !i.accept);
    assert_eq!(i.garp.lower_prio_repeat, 0);
    assert_eq!(i.garp.lower_prio_delay, Duration::ZERO);
    assert!(i.lower_prio_no_advert && !i.higher_prio_send_advert);
    // The master GARPs are not strict mode's business.
    assert_eq!(i.garp.repeat, 5);
    // VRRPv3 may keep accept mode; the owner always has it.
    let (i, w) = strict("version 3\naccept");
    assert!(w.is_empty() && i.accept, "{w:?}");
    let (i, w) = strict("priority 255");
    assert!(w.is_empty() && i.accept, "{w:?}");
    // Unicast stays allowed, as keepalived 2.2.7 runs it.
    let (i, w) = strict("unicast_peer {\n 198.51.100.2\n}");
    assert!(w.is_empty() && !i.unicast_peers.is_empty(), "{w:?}");
}

#[test]
fn strict_mode_resets_what_keepalived_resets_with_its_warnings() {
    let (i, w) = strict("accept");
    assert!(!i.accept);
    assert_eq!(
        w,
        ["(VI) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"]
    );
    let (i, w) = strict("authentication {\n auth_type PASS\n auth_pass x\n}");
    assert_eq!(i.auth, None);
    assert_eq!(
        w,
        ["(VI) Strict mode does not support authentication. Ignoring."]
    );
    let (i, w) = strict("state MASTER\npriority 100");
    assert_eq!(i.initial_state, InitialState::Backup);
    assert_eq!(w, ["(VI) State MASTER must match being address owner"]);
    let (i, w) = strict("state BACKUP\npriority 255");
    assert_eq!(i.initial_state, InitialState::Master);
    assert_eq!(w.len(), 1, "{w:?}");
    let (i, w) = strict("preempt_delay 4");
    assert_eq!(i.preempt_delay, Duration::ZERO);
    assert_eq!(
        w,
        ["(VI) preempt_delay is incompatible with strict mode - resetting"]
    );
    let (i, w) = strict(
        "garp_lower_prio_repeat 3\ngarp_lower_prio_delay 2\nlower_prio_no_advert false\nhigher_prio_send_advert",
    );
    assert_eq!(
        (i.garp.lower_prio_repeat, i.garp.lower_prio_delay),
        (0, Duration::ZERO)
    );
    assert!(i.lower_prio_no_advert && !i.higher_prio_send_advert);
    assert_eq!(w.len(), 4, "{w:?}");
    // Explicit strict values need no reset.
    let (_, w) =
        strict("garp_lower_prio_repeat 0\nlower_prio_no_advert\nhigher_prio_send_advert off");
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn dont_track_primary_and_promote_secondaries_are_read() {
    let (i, p) = instance("");
    assert!(!i.dont_track_primary && !i.promote_secondaries);
    let (i, p2) = instance("dont_track_primary\npromote_secondaries");
    assert!(i.dont_track_primary && i.promote_secondaries);
    assert!(p.warnings.is_empty() && p2.warnings.is_empty());
}

#[test]
fn skip_check_adv_addr_as_keepalived_reads_it() {
    let (i, p) = instance("");
    assert!(!i.skip_check_adv_addr && p.warnings.is_empty());
    let (i, p) = instance("skip_check_adv_addr");
    assert!(i.skip_check_adv_addr && p.warnings.is_empty());
    let (i, _) = instance("skip_check_adv_addr on\nskip_check_adv_addr off");
    assert!(!i.skip_check_adv_addr);
    let (i, p) = instance("skip_check_adv_addr maybe");
    assert!(!i.skip_check_adv_addr);
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) invalid skip_check_adv_addr maybe specified"]
    );
    // The global keyword ignores its argument and wins over the instance's off.
    let parsed = parse(
        "global_defs {\n vrrp_skip_check_adv_addr false\n}\nvrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  198.51.100.1\n }\n skip_check_adv_addr off\n}\n",
    );
    assert!(parsed.config.instances[0].skip_check_adv_addr);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn strict_mode_per_instance() {
    let (i, w) = strict("strict_mode off\nauthentication {\n auth_type PASS\n auth_pass x\n}");
    assert!(w.is_empty(), "{w:?}");
    assert!(!i.strict && i.accept && i.auth.is_some());
    let (i, p) = instance("strict_mode");
    assert!(p.warnings.is_empty() && i.strict && !i.accept);
    let (i, p) = instance("strict_mode yes\nstrict_mode no");
    assert!(p.warnings.is_empty() && !i.strict);
    let (i, p) = instance("strict_mode maybe");
    assert!(!i.strict);
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) invalid strict_mode maybe specified"]
    );
}

#[test]
fn block_shape_errors() {
    assert_eq!(
        errors("global_defs {\n router_id a\n"),
        ["test.conf:1: error: Missing '}' for the block opened here"]
    );
    assert_eq!(errors("}\n"), ["test.conf:1: error: Extra '}' found"]);
    assert_eq!(
        errors("global_defs\n"),
        ["test.conf:1: error: Missing '{' after 'global_defs'"]
    );
    assert_eq!(
        errors("global_defs {\n router_id a {\n }\n}"),
        ["test.conf:2: error: Unexpected '{' after 'router_id'"]
    );
    assert_eq!(
        errors("{\n}"),
        ["test.conf:1: error: Unexpected '{' (no keyword before it)"]
    );
    assert_eq!(
        errors("global_defs {\n router_id\n}"),
        ["test.conf:2: error: 'router_id' needs a value"]
    );
    assert_eq!(
        errors("$IF=eth0\n"),
        ["test.conf:1: error: parameter definitions ('$NAME=') are not supported by hactl-agent"]
    );
}

#[test]
fn error_display_names_file_and_line() {
    let err = parse_str(
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 0\n}\n",
        "/etc/keepalived/keepalived.conf",
    )
    .expect_err("invalid");
    let text = err.to_string();
    assert!(
        text.starts_with("/etc/keepalived/keepalived.conf:3: error: (VI): VRID '0' not valid"),
        "{text}"
    );
}

#[test]
fn includes_are_relative_to_the_including_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("conf.d/sub")).expect("mkdir");
    std::fs::write(root.join("keepalived.conf"), "include conf.d/*.conf\n").expect("write");
    std::fs::write(
        root.join("conf.d/b.conf"),
        "vrrp_instance B {\n interface eth0\n virtual_router_id 2\n include sub/vip\n}\n",
    )
    .expect("write");
    std::fs::write(
        root.join("conf.d/a.conf"),
        "global_defs {\n router_id from-a\n}\n",
    )
    .expect("write");
    std::fs::write(
        root.join("conf.d/sub/vip"),
        "virtual_ipaddress {\n 198.51.100.2\n}\n",
    )
    .expect("write");
    let p = parse_file(root.join("keepalived.conf")).expect("parses");
    assert_eq!(p.config.global.router_id.as_deref(), Some("from-a"));
    assert_eq!(
        p.config.instances[0].vips[0].addr,
        Ipv4Addr::new(198, 51, 100, 2)
    );
    assert!(
        p.config.instances[0]
            .location
            .file
            .ends_with("conf.d/b.conf")
    );
}

#[test]
fn include_loops_and_executables() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(root.join("loop.conf"), "include loop.conf\n").expect("write");
    let err = parse_file(root.join("loop.conf")).expect_err("a loop");
    assert!(
        err.to_string().contains("nested more than 16 deep"),
        "{err}"
    );

    std::fs::write(root.join("main.conf"), "include exec.conf\n").expect("write");
    std::fs::write(root.join("exec.conf"), "garbage_keyword\n").expect("write");
    std::fs::set_permissions(
        root.join("exec.conf"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let p = parse_file(root.join("main.conf")).expect("parses");
    assert!(
        !p.has_warnings(),
        "the executable file was read: {:?}",
        p.warnings
    );
    assert!(messages(&p, Severity::Note)[0].contains("not a regular non-executable file"));
}

#[test]
fn script_security() {
    let base = "vrrp_script s {\n script /bin/true\n}\nvrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n }\n track_script {\n s\n }\n}";
    let p = parse(base);
    assert!(messages(&p, Severity::Warning)[0].starts_with("SECURITY VIOLATION"));
    let p = parse(&format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\n{base}"
    ));
    assert!(!p.has_warnings(), "{:?}", p.warnings);
    let p = parse(&format!(
        "global_defs {{\n enable_script_security\n}}\n{base}"
    ));
    assert!(messages(&p, Severity::Warning)[0].contains("keepalived_script"));
}

#[test]
fn check_unicast_src_from_instance_global_or_peer_ttl_options() {
    let peers = "unicast_peer {\n 198.51.100.3\n}";
    let (i, p) = instance(&format!("check_unicast_src\n{peers}"));
    assert!(i.check_unicast_src);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let src = format!(
        "global_defs {{\n vrrp_check_unicast_src\n}}\nvrrp_instance VI {{\n interface eth0\n virtual_router_id 1\n {peers}\n virtual_ipaddress {{\n  198.51.100.1\n }}\n}}\n"
    );
    let p = parse(&src);
    assert!(p.config.global.check_unicast_src);
    assert!(p.config.instances[0].check_unicast_src);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    // A TTL option on any peer turns the check on for the whole instance.
    let (i, p) =
        instance("unicast_peer {\n 198.51.100.3 min_ttl 250 max_ttl 254\n 198.51.100.4\n}");
    assert!(i.check_unicast_src);
    assert_eq!(
        i.unicast_peers,
        [
            UnicastPeer {
                addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 3)),
                min_ttl: 250,
                max_ttl: 254
            },
            UnicastPeer::new(Ipv4Addr::new(198, 51, 100, 4))
        ]
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn unicast_peer_options_are_read_as_keepalived_reads_them() {
    let (i, p) = instance("unicast_peer {\n 198.51.100.3 min_ttl 200 max_ttl 100\n}");
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) min_ttl 200 > max_ttl 100 - all packets will be discarded"]
    );
    assert!(i.check_unicast_src);

    let (i, p) = instance("unicast_peer {\n 198.51.100.3 hops 2\n}");
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) unknown unicast_peer option hops"]
    );
    assert!(!i.check_unicast_src, "an unknown option sets nothing");

    let (i, p) = instance("unicast_peer {\n 198.51.100.3 max_ttl\n}");
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI) max_ttl is missing a value"]
    );
    assert!(!i.check_unicast_src);

    let (i, p) = instance("unicast_peer {\n 198.51.100.3 max_ttl 300\n}");
    assert_eq!(
        messages(&p, Severity::Warning),
        ["number '300' outside range [0, 255]"]
    );
    assert_eq!(i.unicast_peers[0].max_ttl, 255);
}

#[test]
fn check_unicast_src_without_peers_is_keepalived_s_unicast_keyword_warning() {
    let (i, p) = instance("check_unicast_src");
    assert!(!i.check_unicast_src);
    assert!(messages(&p, Severity::Warning)[0].contains("without any unicast peers"));
}

#[test]
fn unicast_ttl() {
    let (i, p) = instance("unicast_ttl 64\nunicast_peer {\n 198.51.100.3\n}");
    assert_eq!(i.unicast_ttl, Some(64));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let (i, p) = instance("unicast_ttl 256\nunicast_peer {\n 198.51.100.3\n}");
    assert_eq!(i.unicast_ttl, None);
    assert_eq!(
        messages(&p, Severity::Warning),
        ["(VI): TTL '256' not valid - must be between 0 & 255"]
    );

    // keepalived would send multicast adverts with TTL 0 (they never leave the host).
    let src = "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n unicast_ttl 64\n virtual_ipaddress {\n  198.51.100.1\n }\n}\n";
    let errs = errors(src);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("test.conf:4: error: (VI) keepalived would"),
        "{errs:?}"
    );
    assert!(
        errs[0].contains("does not support 'unicast_ttl'"),
        "{errs:?}"
    );

    let src = "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n unicast_ttl 0\n unicast_peer {\n 198.51.100.3\n }\n virtual_ipaddress {\n  198.51.100.1\n }\n}\n";
    let errs = errors(src);
    assert!(errs[0].contains("'unicast_ttl 0'"), "{errs:?}");
}

/// Parses as `hactl-agent check` does on a host where `probe` answers for script programs.
fn parse_on_host(src: &str, probe: validate::Probe) -> Parsed {
    let mut reader = source::Reader::new();
    reader.read_text(src, "test.conf", None, 0);
    match finish(reader, Some(probe)) {
        Ok(p) => p,
        Err(e) => panic!("expected a config, got:\n{e}"),
    }
}

fn host(program: &str) -> validate::Found {
    match program {
        "/usr/local/bin/notify.sh" | "/bin/true" => validate::Found::Executable,
        "/etc/keepalived/notify.txt" => validate::Found::NotExecutable,
        _ => validate::Found::Missing,
    }
}

const NOTIFY_ONLY: &str = "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  198.51.100.1\n }\n notify_master \"PROGRAM master\"\n}\n";

#[test]
fn a_missing_notify_script_is_no_security_violation_and_is_not_run() {
    let p = parse_on_host(
        &NOTIFY_ONLY.replace("PROGRAM", "/etc/keepalived/notify.sh"),
        host,
    );
    assert!(!p.has_warnings(), "{:?}", p.warnings);
    assert_eq!(p.config.instances[0].notify.master, None);
    assert_eq!(
        messages(&p, Severity::Note),
        [
            "notify script '/etc/keepalived/notify.sh' is not an executable file on this host; \
          keepalived never runs it, and neither does hactl-agent"
        ]
    );
    // Away from the host (parse_str) it counts, as before.
    let p = parse(&NOTIFY_ONLY.replace("PROGRAM", "/etc/keepalived/notify.sh"));
    assert!(messages(&p, Severity::Warning)[0].starts_with("SECURITY VIOLATION"));
}

#[test]
fn existing_scripts_count_for_security_even_when_not_executable_as_in_keepalived() {
    let p = parse_on_host(
        &NOTIFY_ONLY.replace("PROGRAM", "/usr/local/bin/notify.sh"),
        host,
    );
    assert!(messages(&p, Severity::Warning)[0].starts_with("SECURITY VIOLATION"));
    assert!(p.config.instances[0].notify.master.is_some());
    let p = parse_on_host(
        &NOTIFY_ONLY.replace("PROGRAM", "/etc/keepalived/notify.txt"),
        host,
    );
    assert!(messages(&p, Severity::Warning)[0].starts_with("SECURITY VIOLATION"));
    assert_eq!(p.config.instances[0].notify.master, None, "never run");
}

#[test]
fn a_missing_track_script_is_disabled_with_keepalived_s_warning() {
    let src = "vrrp_script gone {\n script \"/opt/check.sh\"\n weight -20\n}\nvrrp_script ok {\n script /bin/true\n}\nvrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  198.51.100.1\n }\n track_script {\n gone\n ok\n }\n}\nvrrp_sync_group G {\n group {\n VI\n }\n track_script {\n gone\n }\n}\n";
    let p = parse_on_host(src, host);
    let warnings = messages(&p, Severity::Warning);
    assert!(
        warnings.contains(&"Disabling track script gone since not found/accessible".to_owned()),
        "{warnings:?}"
    );
    let names: Vec<&str> = p.config.scripts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ok"]);
    let tracked: Vec<&str> = p.config.instances[0]
        .track_scripts
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(tracked, ["ok"]);
    assert!(p.config.sync_groups[0].track_scripts.is_empty());
}

#[test]
fn local_probe_finds_programs_as_keepalived_does() {
    use std::os::unix::fs::PermissionsExt as _;
    use validate::{Found, local_probe};
    assert_eq!(local_probe("/bin/sh"), Found::Executable);
    assert_eq!(local_probe("/nonexistent/notify.sh"), Found::Missing);
    assert_eq!(local_probe("sh"), Found::Executable, "PATH search");
    assert_eq!(local_probe("no-such-program-hactl"), Found::Missing);
    assert_eq!(local_probe("</etc/hostname"), Found::FileTest);
    assert_eq!(local_probe("< /etc/hostname"), Found::FileTest);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("notify.sh");
    std::fs::write(&file, "#!/bin/sh\n").expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let path = file.to_str().expect("utf-8");
    assert_eq!(local_probe(path), Found::NotExecutable);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(local_probe(path), Found::Executable);
}

/// `virtual_ipaddress_excluded` reads like `virtual_ipaddress` and stays out of the VIPs.
#[test]
fn excluded_addresses_are_read_apart_from_the_vips() {
    let p = parse_str(
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  198.51.100.1\n }\n virtual_ipaddress_excluded {\n  203.0.113.9/24 dev eth1 label eth1:x\n  bogus\n }\n}\n",
        "test.conf",
    )
    .expect("parses");
    let inst = &p.config.instances[0];
    assert_eq!(inst.vips.len(), 1);
    assert_eq!(inst.excluded_vips.len(), 1);
    let x = &inst.excluded_vips[0];
    assert_eq!(x.addr, std::net::Ipv4Addr::new(203, 0, 113, 9));
    assert_eq!(
        (x.prefix, x.dev.as_deref(), x.label.as_deref()),
        (24, Some("eth1"), Some("eth1:x"))
    );
    assert!(
        p.has_warnings(),
        "the bogus entry is reported as keepalived does"
    );
}

fn in_instance(body: &str) -> String {
    format!(
        "vrrp_instance VI {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n  198.51.100.1\n }}\n{body}\n}}\n"
    )
}

/// The common route forms, read as keepalived reads them.
#[test]
fn virtual_routes_common_forms() {
    let p = parse(&in_instance(
        " virtual_routes {\n  203.0.113.0/24 via 198.51.100.254 dev eth0\n  blackhole 203.0.113.64/26 no_track\n  to 203.0.113.32/27 dev eth1 src 198.51.100.1 metric 7 table 100 scope link\n  default via 198.51.100.254 dev eth0 table main\n }",
    ));
    assert!(!p.has_warnings(), "{:?}", p.warnings);
    let r = &p.config.instances[0].routes;
    assert_eq!(r.len(), 4);
    assert_eq!(
        (r[0].dst, r[0].dst_len, r[0].via, r[0].dev.as_deref()),
        (
            Ipv4Addr::new(203, 0, 113, 0),
            24,
            Some(Ipv4Addr::new(198, 51, 100, 254)),
            Some("eth0")
        )
    );
    assert!(r[0].tracked);
    assert_eq!((r[0].table, r[0].protocol, r[0].scope), (254, 18, None));
    assert_eq!(r[1].kind, RouteKind::Blackhole);
    assert!(!r[1].tracked);
    assert_eq!(
        (r[2].src, r[2].metric, r[2].table, r[2].scope),
        (
            Some(Ipv4Addr::new(198, 51, 100, 1)),
            Some(7),
            100,
            Some(253)
        )
    );
    assert_eq!((r[3].dst, r[3].dst_len), (Ipv4Addr::UNSPECIFIED, 0));
}

/// keepalived's verdicts on bad routes: skipped with its message, or kept with a warning.
#[test]
fn bad_routes_get_keepalived_messages() {
    for (entry, message, kept) in [
        (
            "203.0.113.0/24 via 198.51.100.254",
            "Warning - cannot track route 203.0.113.0/24 with no interface specified, not tracking",
            true,
        ),
        (
            "203.0.113.0/24 via bogus dev eth0",
            "invalid route via address bogus",
            false,
        ),
        (
            "203.0.113.0/24 dev eth0 bogus",
            "unknown route keyword bogus",
            false,
        ),
        (
            "via 198.51.100.254 dev eth0",
            "Route must have a destination",
            false,
        ),
        (
            "203.0.113.0/24 gw 198.51.100.254 dev eth0",
            "\"gw\" for routes is deprecated. Please use \"via\"",
            true,
        ),
        (
            "203.0.113.0/24 dev eth0 table nosuchtable",
            "Routing table nosuchtable not found for route",
            false,
        ),
        (
            "203.0.113.0/24 dev eth0 metric x",
            "Invalid metric x specified for route",
            false,
        ),
        (
            "203.0.113.0/24 dev eth0 protocol static",
            "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol",
            true,
        ),
        (
            "to blackhole 203.0.113.0/24",
            "unknown route keyword blackhole",
            false,
        ),
    ] {
        let p = parse(&in_instance(&format!(" virtual_routes {{\n  {entry}\n }}")));
        let warnings = messages(&p, Severity::Warning);
        assert!(
            warnings.iter().any(|w| w.ends_with(message)),
            "{entry}: {warnings:?}"
        );
        assert_eq!(
            p.config.instances[0].routes.len(),
            usize::from(kept),
            "{entry}"
        );
    }
    // Options keepalived would act on that the agent does not implement are refused.
    let errs = errors(&in_instance(
        " virtual_routes {\n  203.0.113.0/24 dev eth0 mtu 1400\n }",
    ));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("does not support the 'mtu' route option"),
        "{errs:?}"
    );
    let errs = errors(&in_instance(
        " virtual_routes {\n  2001:db8::/64 dev eth0\n }",
    ));
    assert!(errs[0].contains("IPv4"), "{errs:?}");
}

/// Rules: the common forms, keepalived's warnings, and its preference counter in file order.
#[test]
fn virtual_and_static_rules() {
    let text = format!(
        "static_rules {{\n from 198.51.100.9 table 100\n}}\n{}",
        in_instance(
            " virtual_rules {\n  to 203.0.113.0/24 lookup 101 preference 50\n  not from 198.51.100.1 blackhole priority 51\n  iif eth0 table 102\n  from 198.51.100.1 priority 5\n  from 198.51.100.1 table 0 priority 6\n }"
        )
    );
    let p = parse(&text);
    let warnings = messages(&p, Severity::Warning);
    assert!(warnings.iter().any(|w| w.ends_with("Rule has no preference specified - setting to 16384. This is probably not what you want.")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.ends_with("Rule has no preference specified - setting to 16383. This is probably not what you want.")), "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.ends_with("No action specified for rule - ignoring"))
    );
    assert!(warnings.iter().any(|w| w.ends_with("Table 0 is not valid")));
    assert_eq!(p.config.static_rules[0].priority, 16384);
    let rules = &p.config.instances[0].rules;
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].action, RuleAction::Table(101));
    assert_eq!(rules[0].to, Some((Ipv4Addr::new(203, 0, 113, 0), 24)));
    assert_eq!(
        (rules[1].action, rules[1].invert),
        (RuleAction::Blackhole, true)
    );
    assert_eq!(
        (rules[2].iif.as_deref(), rules[2].priority),
        (Some("eth0"), 16383)
    );
    let errs = errors(&in_instance(
        " virtual_rules {\n  fwmark 1 table 100 priority 1\n }",
    ));
    assert!(errs[0].contains("'fwmark' rule option"), "{errs:?}");
}

/// A static address needs `dev` (keepalived would use its default interface).
#[test]
fn static_addresses_need_a_device() {
    let p = parse("static_ipaddress {\n 198.51.100.9/24 dev eth0\n}\n");
    assert_eq!(p.config.static_addresses.len(), 1);
    let errs = errors("static_ipaddress {\n 198.51.100.9/24\n}\n");
    assert!(errs[0].contains("needs 'dev'"), "{errs:?}");
}

/// `no_track` on an address, and `sync_group_tracking_weight` keeping members' weights.
#[test]
fn no_track_addresses_and_group_tracking_weight() {
    let p = parse(&in_instance(
        " virtual_ipaddress_excluded {\n  203.0.113.9 dev eth0 no_track\n }",
    ));
    assert!(!p.has_warnings(), "{:?}", p.warnings);
    assert!(p.config.instances[0].excluded_vips[0].no_track);
    let group = |extra: &str| {
        format!(
            "vrrp_script chk {{\n script /bin/true\n weight -20\n}}\n{}vrrp_instance VJ {{\n interface eth1\n virtual_router_id 2\n virtual_ipaddress {{\n  198.51.100.2\n }}\n}}\nvrrp_sync_group G {{\n group {{\n  VI\n  VJ\n }}\n{extra}}}\n",
            in_instance(" track_script {\n  chk\n }")
        )
    };
    let p = parse(&group(""));
    assert!(p.config.instances[0].track_scripts.is_empty());
    let p = parse(&group(" sync_group_tracking_weight\n"));
    assert_eq!(p.config.instances[0].track_scripts.len(), 1);
    let p = parse(&group(" global_tracking\n"));
    assert_eq!(p.config.instances[0].track_scripts.len(), 1);
    assert!(messages(&p, Severity::Warning).iter().any(|m| m.ends_with(
        "(G) global_tracking is deprecated. Use track_interface/script/file on the sync group"
    )));
}

#[test]
fn track_process_blocks_and_references() {
    let p = parse(
        "vrrp_track_process web {\n process /usr/sbin/nginx -g\n param_match partial\n \
         weight -30 reverse\n quorum 2\n quorum_max 4\n delay 0.5\n fork_delay 2\n}\n\
         vrrp_track_process one {\n process sleep\n quorum_max 0\n}\n\
         vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n \
         track_process {\n  web weight 10\n  one\n  nosuch\n }\n \
         virtual_ipaddress {\n  198.51.100.1\n }\n}\n",
    );
    let web = &p.config.track_processes[0];
    assert_eq!(
        (web.process.as_str(), web.params.clone(), web.param_match),
        (
            "/usr/sbin/nginx",
            vec!["-g".to_owned()],
            ParamMatch::Partial
        )
    );
    assert!(web.full_command && web.weight_reverse);
    assert_eq!((web.weight, web.quorum, web.quorum_max), (-30, 2, 4));
    assert_eq!(
        (web.terminate_delay, web.fork_delay),
        (Duration::from_millis(500), Duration::from_secs(2))
    );
    let one = &p.config.track_processes[1];
    assert_eq!(
        (one.quorum, one.quorum_max, one.full_command),
        (0, 0, false)
    );
    let refs: Vec<(&str, Option<i32>)> = p.config.instances[0]
        .track_processes
        .iter()
        .map(|t| (t.name.as_str(), t.weight))
        .collect();
    assert_eq!(refs, [("web", Some(10)), ("one", None)]);
    let messages: Vec<&str> = p.warnings.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        ["(VI) track process nosuch not found, ignoring..."]
    );
}

#[test]
fn mcast_dst_ip_overrides_the_global_group() {
    let p = parse(
        "global_defs {\n vrrp_mcast_group4 224.0.100.19\n}\n\
         vrrp_instance A {\n interface eth0\n virtual_router_id 1\n mcast_dst_ip 224.0.100.21\n \
         virtual_ipaddress {\n  198.51.100.1\n }\n}\n\
         vrrp_instance B {\n interface eth0\n virtual_router_id 2\n mcast_dst_ip 198.51.100.9\n \
         virtual_ipaddress {\n  198.51.100.2\n }\n}\n",
    );
    let dst: Vec<Option<IpAddr>> = p.config.instances.iter().map(|i| i.mcast_dst).collect();
    assert_eq!(
        dst,
        [Some(IpAddr::V4(Ipv4Addr::new(224, 0, 100, 21))), None]
    );
    let messages: Vec<&str> = p.warnings.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        ["(B) mcast_dst_ip 198.51.100.9 not multicast. Skipping..."]
    );
    // An IPv6 group makes the instance IPv6; its IPv4 VIP is then skipped, as in keepalived.
    let p = parse(
        "vrrp_instance C {\n interface eth0\n virtual_router_id 3\n mcast_dst_ip ff02::12\n \
         virtual_ipaddress {\n  2001:db8::3\n  198.51.100.3\n }\n}\n",
    );
    let messages: Vec<&str> = p.warnings.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        ["(C): address family must match VRRP instance [198.51.100.3] - ignoring"]
    );
    assert_eq!(
        p.config.instances[0].mcast_dst,
        Some(IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)))
    );
}

#[test]
fn notify_fifos_and_their_scripts() {
    let p = parse(
        "global_defs {\n notify_fifo /run/all.fifo\n notify_fifo_script \"/bin/r x\" nobody\n \
         vrrp_notify_fifo /run/vrrp.fifo root root\n vrrp_notify_fifo_script /bin/v\n}\n",
    );
    let g = &p.config.global;
    assert_eq!(
        g.notify_fifo.path.as_deref(),
        Some(std::path::Path::new("/run/all.fifo"))
    );
    assert_eq!(
        g.notify_fifo.script,
        Some(vec!["/bin/r".to_owned(), "x".to_owned()])
    );
    assert_eq!(
        g.notify_fifo.script_user.as_ref().map(|u| u.user.as_str()),
        Some("nobody")
    );
    assert_eq!(
        g.vrrp_notify_fifo.owner,
        Some(ScriptUser {
            user: "root".into(),
            group: Some("root".into())
        })
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let p = parse("global_defs {\n vrrp_notify_fifo_script /bin/v\n}\n");
    assert_eq!(p.warnings[0].severity, Severity::Note);
}

fn vmac_instance(body: &str) -> String {
    format!(
        "vrrp_instance VI {{\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {{\n  198.51.100.1\n }}\n{body}\n}}\n"
    )
}

/// `use_vmac [NAME]` and `vmac_xmit_base` are read as keepalived reads them.
#[test]
fn use_vmac_and_vmac_xmit_base_are_read() {
    let p = parse(&vmac_instance("use_vmac"));
    assert!(!p.has_warnings(), "{:?}", p.warnings);
    assert_eq!(
        p.config.instances[0].vmac,
        Some(Vmac {
            name: None,
            xmit_base: false
        })
    );
    let p = parse(&vmac_instance("use_vmac vmac51\n vmac_xmit_base"));
    assert!(!p.has_warnings(), "{:?}", p.warnings);
    assert_eq!(
        p.config.instances[0].vmac,
        Some(Vmac {
            name: Some("vmac51".into()),
            xmit_base: true
        })
    );
    let p = parse(&format!(
        "global_defs {{\n vmac_prefix vm\n}}\n{}",
        vmac_instance("use_vmac")
    ));
    assert!(!p.has_warnings(), "{:?}", p.warnings);
    assert_eq!(p.config.global.vmac_prefix.as_deref(), Some("vm"));
    assert_eq!(parse(&vmac_instance("")).config.instances[0].vmac, None);
}

/// keepalived's corrections, each with its warning (so `check` fails as `keepalived -t` does).
#[test]
fn use_vmac_corrections_warn_as_keepalived_does() {
    let case = |body: &str| {
        let p = parse(&vmac_instance(body));
        let warnings = messages(&p, Severity::Warning);
        (
            p.config.instances.first().and_then(|i| i.vmac.clone()),
            warnings,
        )
    };
    // Unicast needs vmac_xmit_base: keepalived sets it.
    let (vmac, w) = case("use_vmac\n unicast_peer {\n  198.51.100.2\n }");
    assert_eq!(vmac.map(|v| v.xmit_base), Some(true));
    assert_eq!(
        w,
        ["(VI) unicast with use_vmac requires vmac_xmit_base - setting"]
    );
    // Strict mode clears vmac_xmit_base.
    let (vmac, w) = case("use_vmac\n vmac_xmit_base\n strict_mode");
    assert_eq!(vmac.map(|v| v.xmit_base), Some(false));
    assert!(
        w.iter()
            .any(|m| m.ends_with("(VI) xmit_base is incompatible with strict mode - resetting")),
        "{w:?}"
    );
    // vmac_xmit_base alone does nothing.
    let (vmac, w) = case("vmac_xmit_base");
    assert_eq!(vmac, None);
    assert_eq!(w, ["(VI) vmac_xmit_base is only valid with a vmac"]);
    // promote_secondaries is implied by the VMAC's sysctls.
    let p = parse(&vmac_instance("use_vmac\n promote_secondaries"));
    assert!(!p.config.instances[0].promote_secondaries);
    assert!(p.has_warnings());
    // A bad name is ignored: the default is used.
    let (vmac, w) = case("use_vmac a/b");
    assert_eq!(vmac.and_then(|v| v.name), None);
    assert_eq!(
        w,
        ["VMAC interface name 'a/b' too long or invalid characters - ignoring"]
    );
    let (_, w) = case("use_vmac averyveryverylongname");
    assert_eq!(w.len(), 1, "{w:?}");
    // Two instances cannot share a name.
    let p = parse(&format!(
        "{}{}",
        vmac_instance("use_vmac vm1"),
        vmac_instance("use_vmac vm1")
            .replace("VI ", "VI2 ")
            .replace("id 51", "id 52")
    ));
    assert_eq!(
        p.config.instances[1]
            .vmac
            .as_ref()
            .and_then(|v| v.name.clone()),
        None
    );
    assert!(
        messages(&p, Severity::Warning)
            .iter()
            .any(|m| m.ends_with("(VI2) VRRP instance VI is already using vm1 - ignoring name")),
        "{:?}",
        p.warnings
    );
}

/// What the agent does not implement of use_vmac is refused, never ignored.
#[test]
fn use_vmac_with_a_mac_or_on_ipv6_is_refused() {
    let errs = errors(&vmac_instance("use_vmac vm1 02:00:00:00:00:01"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("does not support a MAC address on 'use_vmac'"),
        "{errs:?}"
    );
    let v6 = "vrrp_instance VI {\n interface eth0\n virtual_router_id 51\n use_vmac\n virtual_ipaddress {\n  2001:db8::1\n }\n}\n";
    let errs = errors(v6);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("does not support 'use_vmac' on an IPv6 instance"),
        "{errs:?}"
    );
}

/// `garp_extra_if`/`vrrp_garp_extra_if` as keepalived 2.2.7 settles them (its config dump,
/// `keepalived -d`, shows the same delays: 10 for VI_1, 30 for VI_2, none for VI_3/VI_4).
#[test]
fn garp_extra_if_is_kept_only_with_all_and_another_interface() {
    let p = parse(
        "global_defs {\n vrrp_garp_extra_if 30 all\n}\n\
         vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n garp_extra_if 10 all\n \
         virtual_ipaddress {\n  198.51.100.1\n  203.0.113.1/24 dev eth1\n }\n}\n\
         vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 2\n use_vmac\n \
         virtual_ipaddress {\n  198.51.100.2\n }\n virtual_ipaddress_excluded {\n  2001:db8::2/64\n }\n}\n\
         vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 3\n \
         virtual_ipaddress {\n  198.51.100.3\n  198.51.100.4 dev eth0\n }\n}\n\
         vrrp_instance VI_4 {\n interface eth0\n virtual_router_id 4\n garp_extra_if 10\n \
         virtual_ipaddress {\n  198.51.100.5\n  203.0.113.5/24 dev eth1\n }\n}\n",
    );
    let extra: Vec<Option<u64>> = p
        .config
        .instances
        .iter()
        .map(|i| i.garp.extra_if.map(|d| d.as_secs()))
        .collect();
    // VI_2: with use_vmac, the IPv6 address stays on eth0, not the VMAC. VI_4: an explicit
    // delay without `all` drops the global `all`.
    assert_eq!(extra, [Some(10), Some(30), None, None]);
    // `all` alone is ignored for lack of a time, but still counts with the global delay.
    let p = parse(
        "global_defs {\n vrrp_vmac_garp_intvl 7\n}\n\
         vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n garp_extra_if all\n \
         virtual_ipaddress {\n  198.51.100.1\n  203.0.113.1/24 dev eth1\n }\n}\n",
    );
    assert_eq!(
        p.config.instances[0].garp.extra_if,
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        messages(&p, Severity::Warning),
        [
            "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"",
            "(VI_1): garp_extra_if specified without time - ignoring"
        ]
    );
}
