//! The text form of `hactl status`: one table for the whole fleet, a row per VRID and host
//! (the VRID, its VIPs and its master on the VRID's first row), then the hosts that have no
//! VRRP instance or did not answer, then one `!!` line per problem and a closing verdict.

use super::fleet::Fleet;
use super::{Answer, Engine};

const HEADER: [&str; 9] = [
    "VRID",
    "VIPS",
    "MASTER",
    "HOST",
    "ENGINE",
    "INSTANCE",
    "STATE",
    "PRIORITY",
    "HOLDS VIP",
];

/// The table and the lines under it.
pub fn render(fleet: &Fleet) -> String {
    let mut rows: Vec<[String; 9]> = vec![HEADER.map(String::from)];
    for v in &fleet.vrids {
        for (n, m) in v.members.iter().enumerate() {
            let first = n == 0;
            let vips: Vec<String> = v.vips.iter().map(|a| a.address.to_string()).collect();
            let masters = if v.masters.is_empty() {
                "-".to_string()
            } else {
                v.masters.join(",")
            };
            let priority = match (m.priority, m.base_priority) {
                (Some(p), Some(b)) if p != b => format!("{p} (base {b})"),
                (Some(p), _) => p.to_string(),
                (None, Some(b)) => format!("- (base {b})"),
                (None, None) => "-".into(),
            };
            rows.push([
                if first { v.label() } else { String::new() },
                if first {
                    or_dash(vips.join(","))
                } else {
                    String::new()
                },
                if first { masters } else { String::new() },
                m.host.clone(),
                m.source.to_string(),
                m.instance.clone(),
                m.state.to_string(),
                priority,
                if m.holds_vip {
                    "yes".into()
                } else {
                    "-".into()
                },
            ]);
        }
    }
    for h in &fleet.hosts {
        let listed = fleet
            .vrids
            .iter()
            .any(|v| v.members.iter().any(|m| m.host == h.host));
        if listed {
            continue;
        }
        let engine = match &h.answer {
            Answer::Unreachable(_) => "UNREACHABLE".to_string(),
            Answer::Reached(view) if view.engine == Engine::None => "no VRRP engine".into(),
            Answer::Reached(view) => view.engine.name().into(),
        };
        let mut row: [String; 9] = Default::default();
        row[0] = "-".into();
        row[3] = h.host.clone();
        row[4] = engine;
        rows.push(row);
    }
    let mut widths = [0usize; 9];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(&format!("{cell:<w$}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !fleet.problems.is_empty() {
        out.push('\n');
        for p in &fleet.problems {
            out.push_str(&format!("!! {p}\n"));
        }
    }
    let answered = fleet
        .hosts
        .iter()
        .filter(|h| matches!(h.answer, Answer::Reached(_)))
        .count();
    out.push_str(&format!(
        "\n{} VRIDs, {answered} of {} hosts answered: {}\n",
        fleet.vrids.len(),
        fleet.hosts.len(),
        match fleet.problems.len() {
            0 => "OK".to_string(),
            1 => "1 problem".to_string(),
            n => format!("{n} problems"),
        }
    ));
    out
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::super::{HostStatus, HostView, Instance};
    use super::*;

    fn lb(name: &str, own: u8, states: [(u8, &str, u8, u8); 2], holds: &[u8]) -> HostStatus {
        let instances = states
            .iter()
            .map(|(vrid, state, prio, base)| Instance {
                vrid: Some(*vrid),
                state: (*state).into(),
                priority: Some(*prio),
                base_priority: Some(*base),
                interface: Some("eth0".into()),
                vips: vec![IpAddr::from([
                    198,
                    51,
                    100,
                    if *vrid == 14 { 100 } else { 200 },
                ])],
                ..Instance::named(
                    &format!("VI_{}", if *vrid == 14 { 1 } else { 2 }),
                    if own == 11 {
                        "keepalived"
                    } else {
                        "hactl-agent"
                    },
                )
            })
            .collect();
        let mut addresses = vec![IpAddr::from([198, 51, 100, own])];
        addresses.extend(holds.iter().map(|h| IpAddr::from([198, 51, 100, *h])));
        HostStatus {
            host: name.into(),
            answer: Answer::Reached(HostView {
                engine: Engine::HactlAgent,
                instances,
                addresses,
                problems: Vec::new(),
            }),
        }
    }

    #[test]
    fn mixed_pair_with_a_doubled_vip_and_other_hosts() {
        let fleet = Fleet::build(vec![
            lb(
                "lb1",
                11,
                [(14, "MASTER", 100, 100), (24, "BACKUP", 90, 90)],
                &[100],
            ),
            lb(
                "lb2",
                12,
                [(14, "BACKUP", 75, 90), (24, "MASTER", 100, 100)],
                &[100, 200],
            ),
            HostStatus {
                host: "web1".into(),
                answer: Answer::Reached(HostView {
                    engine: Engine::None,
                    instances: Vec::new(),
                    addresses: vec![IpAddr::from([198, 51, 100, 13])],
                    problems: Vec::new(),
                }),
            },
            HostStatus {
                host: "ghost".into(),
                answer: Answer::Unreachable("cannot connect: No route to host".into()),
            },
        ]);
        insta::assert_snapshot!(render(&fleet));
    }
}
