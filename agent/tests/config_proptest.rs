//! The parser never panics, whatever it is given, and what it accepts obeys the model's rules.

use hactl_agent::config::{self, Severity};
use proptest::prelude::*;

/// Words that steer the parser into every block and keyword handler.
const VOCABULARY: &[&str] = &[
    "{",
    "}",
    "{",
    "}",
    "\"",
    "'",
    "!",
    "#",
    "\\",
    "include",
    "includer",
    "*.conf",
    "$X=1",
    "@id",
    "~SEQ(i,1,2)",
    "global_defs",
    "router_id",
    "vrrp_mcast_group4",
    "224.0.0.18",
    "vrrp_version",
    "vrrp_garp_master_delay",
    "vrrp_min_garp",
    "vrrp_iptables",
    "enable_script_security",
    "script_user",
    "root",
    "notification_email",
    "vrrp_script",
    "script",
    "/bin/true",
    "interval",
    "timeout",
    "weight",
    "reverse",
    "rise",
    "fall",
    "user",
    "init_fail",
    "track_file",
    "vrrp_track_file",
    "file",
    "init_file",
    "overwrite",
    "vrrp_instance",
    "VI_1",
    "VI_2",
    "state",
    "MASTER",
    "BACKUP",
    "interface",
    "eth0",
    "virtual_router_id",
    "priority",
    "advert_int",
    "version",
    "nopreempt",
    "preempt",
    "preempt_delay",
    "authentication",
    "auth_type",
    "PASS",
    "AH",
    "auth_pass",
    "virtual_ipaddress",
    "198.51.100.1",
    "198.51.100.2/24",
    "dev",
    "label",
    "brd",
    "scope",
    "global",
    "2001:db8::1",
    "unicast_src_ip",
    "unicast_peer",
    "mcast_src_ip",
    "track_script",
    "track_interface",
    "notify_master",
    "notify",
    "garp_master_delay",
    "garp_master_repeat",
    "garp_master_refresh",
    "vrrp_sync_group",
    "group",
    "G1",
    "virtual_server",
    "0",
    "1",
    "2",
    "3",
    "100",
    "255",
    "256",
    "-1",
    "0.05",
    "1.5",
    "x",
    "",
];

fn config_text() -> impl Strategy<Value = String> {
    let word = prop::sample::select(VOCABULARY);
    let sep = prop::sample::select(&[" ", " ", "\n", "\n", "\t", "\r\n"][..]);
    prop::collection::vec((word, sep), 0..200).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(w, s)| [w, s])
            .collect::<String>()
    })
}

fn check(src: &str) {
    match config::parse_str(src, "/nonexistent-dir/fuzz.conf") {
        Ok(parsed) => {
            assert!(
                parsed
                    .warnings
                    .iter()
                    .all(|d| d.severity != Severity::Error)
            );
            for i in &parsed.config.instances {
                assert!(i.vrid >= 1, "VRID 0 accepted");
                assert!(i.priority >= 1, "priority 0 accepted");
                assert!(i.interface.is_some() || !i.unicast_peers.is_empty());
                if let Some(auth) = &i.auth {
                    assert!(auth.pass.expose().len() <= 8);
                }
            }
        }
        Err(e) => {
            assert!(
                e.diagnostics()
                    .iter()
                    .any(|d| d.severity == Severity::Error)
            );
            assert!(!e.to_string().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_keyword_soup(src in config_text()) {
        check(&src);
    }

    #[test]
    fn never_panics_on_arbitrary_text(src in any::<String>()) {
        check(&src);
    }

    #[test]
    fn lexer_never_panics(line in any::<String>()) {
        let _ = config::lexer::lex_line(&line);
        let _ = config::lexer::command_words(&line);
    }
}
