//! keepalived's state dump: the file `/tmp/keepalived.data` that keepalived 2.2.7 writes when
//! it gets SIGUSR1. Only the `VRRP Topology` section is read, and of each instance only its
//! name, state, interface, VRID, priorities and VIPs. The dump also holds the instance's
//! password (`Password = ...`); that line is never read.
//!
//! The format, as keepalived 2.2.7 writes it (`vrrp_print_data`; captured samples in
//! `tests/fixtures/status/`):
//!
//! ```text
//! ------< VRRP Topology >------
//!  VRRP Instance = VI_1
//!    State = MASTER
//!    Interface = eth0
//!    Virtual Router ID = 14
//!    Priority = 100
//!    Effective priority = 100
//!    Virtual IP (1):
//!      198.51.100.100/24 dev eth0 scope global set
//! ```

use std::net::IpAddr;

use super::Instance;

const TOPOLOGY: &str = "------< VRRP Topology >------";

/// The instances of a keepalived state dump, in the order keepalived lists them. Lines it
/// does not know are skipped, so a newer keepalived with more fields still parses.
pub fn parse(data: &str) -> Vec<Instance> {
    let mut out: Vec<Instance> = Vec::new();
    let mut in_topology = false;
    let mut in_vips = false;
    for line in data.lines() {
        if line.starts_with("------<") {
            in_topology = line.trim() == TOPOLOGY;
            in_vips = false;
            continue;
        }
        if !in_topology {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if let Some(name) = text.strip_prefix("VRRP Instance = ") {
            in_vips = false;
            out.push(Instance::named(name, "keepalived"));
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        // VIP lines are indented deeper than the instance's fields (5 spaces against 3).
        if in_vips && indent > 3 {
            if let Some(vip) = text
                .split_whitespace()
                .next()
                .and_then(|w| w.split('/').next())
                .and_then(|a| a.parse::<IpAddr>().ok())
            {
                current.vips.push(vip);
            }
            continue;
        }
        in_vips = false;
        let Some((key, value)) = text.split_once(" = ") else {
            in_vips = text.starts_with("Virtual IP (");
            continue;
        };
        match key {
            "State" => current.state = value.into(),
            "Interface" => current.interface = Some(value.to_string()),
            "Virtual Router ID" => current.vrid = value.parse().ok(),
            "Priority" => current.base_priority = value.parse().ok(),
            "Effective priority" => current.priority = value.parse().ok(),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(host: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/status/keepalived.data.{host}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn reads_the_captured_dump_of_the_dual_master_pair() {
        let lb1 = parse(&fixture("lb1"));
        let summary: Vec<String> = lb1
            .iter()
            .map(|i| {
                format!(
                    "{} {:?} {:?} {} {:?}/{:?} {:?}",
                    i.name, i.interface, i.vrid, i.state, i.priority, i.base_priority, i.vips
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "VI_1 Some(\"eth0\") Some(14) MASTER Some(100)/Some(100) [198.51.100.100]",
                "VI_2 Some(\"eth0\") Some(24) BACKUP Some(90)/Some(90) [198.51.100.200]",
            ]
        );
        let lb2 = parse(&fixture("lb2"));
        assert_eq!(lb2[0].state, "BACKUP".into());
        assert_eq!(lb2[1].state, "MASTER".into());
        assert_eq!(lb2[1].vrid, Some(24));
    }

    #[test]
    fn the_password_in_the_dump_goes_nowhere() {
        let data = fixture("lb1");
        assert!(data.contains("Password = 571f87b2"), "the sample has one");
        let parsed = format!("{:?}", parse(&data));
        assert!(!parsed.contains("571f87b2"), "{parsed}");
    }

    #[test]
    fn effective_priority_and_several_vips() {
        let data = "------< VRRP Topology >------
 VRRP Instance = web
   State = FAULT
   Interface = ens3
   Virtual Router ID = 51
   Priority = 150
   Effective priority = 135
   Virtual IP (2):
     203.0.113.5/32 dev ens3 scope global
     203.0.113.6 dev ens3 scope global
   fd_in 13, fd_out 14
------< VRRP Scripts >------
 VRRP Script = chk
   State = idle
";
        let got = parse(data);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].state, "FAULT".into());
        assert_eq!(
            (got[0].priority, got[0].base_priority),
            (Some(135), Some(150))
        );
        assert_eq!(
            got[0].vips,
            [
                "203.0.113.5"
                    .parse::<IpAddr>()
                    .unwrap_or(IpAddr::from([0, 0, 0, 0])),
                "203.0.113.6".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
            ]
        );
    }

    #[test]
    fn reads_the_captured_dump_of_an_ipv6_instance() {
        let got = parse(&fixture("ipv6"));
        assert_eq!(got.len(), 1);
        let i = &got[0];
        assert_eq!(
            (i.name.as_str(), i.vrid, i.state.to_string().as_str()),
            ("VI_6", Some(61), "MASTER")
        );
        assert_eq!(
            i.vips,
            ["2001:db8:61::100"
                .parse::<IpAddr>()
                .unwrap_or(IpAddr::from([0, 0, 0, 0]))]
        );
    }
}
