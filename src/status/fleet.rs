//! The fleet-wide view: every host's answer regrouped per VRID (an IPv4 and an IPv6 VRID of
//! the same number are different virtual routers, RFC 5798 section 5.2.3), each VIP with the
//! hosts that really hold it (from their addresses, not from what the engines claim), the
//! problems worth shouting about, and the exit code.
//!
//! Exit codes: 0 when every host answered and every VIP is held by exactly one host; 4 when a
//! host could not be reached (as `hactl run` and `ansible`); 2 for any other problem: a VIP
//! held by no host or by several, a VRID with several masters, an engine that does not answer
//! or two engines on one host.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::{Answer, HostStatus};

/// The whole fleet, as `hactl status` prints it (also its `--json` document).
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub vrids: Vec<Vrid>,
    pub hosts: Vec<HostStatus>,
    /// What `!!` lines say, in order.
    pub problems: Vec<String>,
    pub exit_code: u8,
}

/// One VRID across the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct Vrid {
    pub vrid: u8,
    /// VRRP over IPv6 (the instances' VIPs are IPv6 addresses).
    pub ipv6: bool,
    pub vips: Vec<Vip>,
    /// Hosts whose instance is MASTER: normally exactly one.
    pub masters: Vec<String>,
    pub members: Vec<Member>,
}

impl Vrid {
    /// `14`, or `61 (IPv6)`: as the table and the problem lines name it.
    pub fn label(&self) -> String {
        if self.ipv6 {
            format!("{} (IPv6)", self.vrid)
        } else {
            self.vrid.to_string()
        }
    }
}

/// A virtual address and the hosts that hold it.
#[derive(Debug, Clone, Serialize)]
pub struct Vip {
    pub address: IpAddr,
    pub holders: Vec<String>,
}

/// One host's instance of a VRID.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub host: String,
    pub source: &'static str,
    pub instance: String,
    pub state: super::EngineState,
    pub priority: Option<u8>,
    pub base_priority: Option<u8>,
    /// Whether the host holds any of the VRID's VIPs.
    pub holds_vip: bool,
}

impl Fleet {
    /// Regroups the hosts' answers (in host order) per VRID and finds the problems.
    pub fn build(hosts: Vec<HostStatus>) -> Fleet {
        let mut vrids: BTreeMap<(bool, u8), Vrid> = BTreeMap::new();
        for h in &hosts {
            let Answer::Reached(view) = &h.answer else {
                continue;
            };
            for i in &view.instances {
                let Some(id) = i.vrid else { continue };
                let ipv6 = i.vips.first().is_some_and(IpAddr::is_ipv6);
                let entry = vrids.entry((ipv6, id)).or_insert_with(|| Vrid {
                    vrid: id,
                    ipv6,
                    vips: Vec::new(),
                    masters: Vec::new(),
                    members: Vec::new(),
                });
                for vip in &i.vips {
                    if !entry.vips.iter().any(|v| v.address == *vip) {
                        entry.vips.push(Vip {
                            address: *vip,
                            holders: Vec::new(),
                        });
                    }
                }
                if i.state.is_master() {
                    entry.masters.push(h.host.clone());
                }
                entry.members.push(Member {
                    host: h.host.clone(),
                    source: i.source,
                    instance: i.name.clone(),
                    state: i.state.clone(),
                    priority: i.priority,
                    base_priority: i.base_priority,
                    holds_vip: false,
                });
            }
        }
        // Who holds each VIP: every host that answered, whatever it runs.
        for vrid in vrids.values_mut() {
            for vip in &mut vrid.vips {
                vip.holders = hosts
                    .iter()
                    .filter(|h| matches!(&h.answer, Answer::Reached(v) if v.addresses.contains(&vip.address)))
                    .map(|h| h.host.clone())
                    .collect();
            }
            for m in &mut vrid.members {
                m.holds_vip = vrid.vips.iter().any(|v| v.holders.contains(&m.host));
            }
        }
        let vrids: Vec<Vrid> = vrids.into_values().collect();
        let (problems, exit_code) = problems(&vrids, &hosts);
        Fleet {
            vrids,
            hosts,
            problems,
            exit_code,
        }
    }
}

fn problems(vrids: &[Vrid], hosts: &[HostStatus]) -> (Vec<String>, u8) {
    let mut out = Vec::new();
    for v in vrids {
        for vip in &v.vips {
            let n = vip.holders.len();
            if n != 1 {
                let noun = if n == 1 { "host" } else { "hosts" };
                let who = if n == 0 {
                    String::new()
                } else {
                    format!(": {}", vip.holders.join(", "))
                };
                // The address says the family: the VRID's number is enough.
                out.push(format!(
                    "VIP {} (VRID {}) held by {n} {noun}{who}",
                    vip.address, v.vrid
                ));
            }
        }
        if v.masters.len() > 1 {
            out.push(format!(
                "VRID {} has {} masters: {}",
                v.label(),
                v.masters.len(),
                v.masters.join(", ")
            ));
        }
    }
    let mut unreachable = false;
    for h in hosts {
        match &h.answer {
            Answer::Unreachable(msg) => {
                unreachable = true;
                out.push(format!("{} is unreachable: {msg}", h.host));
            }
            Answer::Reached(view) => {
                out.extend(view.problems.iter().map(|p| format!("{}: {p}", h.host)));
            }
        }
    }
    let code = if unreachable {
        4
    } else if out.is_empty() {
        0
    } else {
        2
    };
    (out, code)
}

#[cfg(test)]
mod tests {
    use super::super::{Engine, HostView, Instance};
    use super::*;

    pub(crate) fn host(
        name: &str,
        own: u8,
        states: &[(u8, &str, u8)],
        holds: &[IpAddr],
    ) -> HostStatus {
        let instances = states
            .iter()
            .map(|(vrid, state, prio)| Instance {
                vrid: Some(*vrid),
                state: (*state).into(),
                priority: Some(*prio),
                base_priority: Some(*prio),
                interface: Some("eth0".into()),
                vips: vec![vip(*vrid)],
                ..Instance::named(&format!("VI_{vrid}"), "hactl-agent")
            })
            .collect();
        let mut addresses = vec![IpAddr::from([198, 51, 100, own])];
        addresses.extend_from_slice(holds);
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

    pub(crate) fn vip(vrid: u8) -> IpAddr {
        IpAddr::from([198, 51, 100, if vrid == 14 { 100 } else { 200 }])
    }

    #[test]
    fn a_healthy_pair_exits_0() {
        let f = Fleet::build(vec![
            host(
                "lb1",
                11,
                &[(14, "MASTER", 100), (24, "BACKUP", 90)],
                &[vip(14)],
            ),
            host(
                "lb2",
                12,
                &[(14, "BACKUP", 90), (24, "MASTER", 100)],
                &[vip(24)],
            ),
        ]);
        assert_eq!(f.exit_code, 0, "{:?}", f.problems);
        assert_eq!(f.vrids[0].masters, ["lb1"]);
        assert_eq!(f.vrids[1].masters, ["lb2"]);
        assert_eq!(f.vrids[0].vips[0].holders, ["lb1"]);
    }

    #[test]
    fn a_vip_on_two_hosts_or_none_is_flagged() {
        let f = Fleet::build(vec![
            host(
                "lb1",
                11,
                &[(14, "MASTER", 100), (24, "BACKUP", 90)],
                &[vip(14)],
            ),
            host(
                "lb2",
                12,
                &[(14, "BACKUP", 90), (24, "BACKUP", 100)],
                &[vip(14)],
            ),
        ]);
        assert_eq!(f.exit_code, 2);
        assert_eq!(
            f.problems,
            [
                "VIP 198.51.100.100 (VRID 14) held by 2 hosts: lb1, lb2",
                "VIP 198.51.100.200 (VRID 24) held by 0 hosts",
            ]
        );
    }

    #[test]
    fn unreachable_wins() {
        let f = Fleet::build(vec![
            host("lb1", 11, &[(14, "MASTER", 100)], &[vip(14)]),
            HostStatus {
                host: "lb2".into(),
                answer: Answer::Unreachable("cannot connect: timeout".into()),
            },
        ]);
        assert_eq!(f.exit_code, 4);
        assert_eq!(f.problems, ["lb2 is unreachable: cannot connect: timeout"]);
    }

    /// An IPv6 VIP is followed as an IPv4 one: held by one host is fine, by two or none is
    /// flagged; an IPv6 VRID is apart from the IPv4 VRID of the same number.
    #[test]
    fn ipv6_vips_held_by_two_or_none_are_flagged_and_vrids_keep_their_family() {
        let v6: IpAddr = "2001:db8:61::100".parse().unwrap_or(vip(14));
        let with_v6 = |mut h: HostStatus, state: &str, holds: bool| {
            if let Answer::Reached(view) = &mut h.answer {
                view.instances.push(Instance {
                    vrid: Some(14),
                    state: state.into(),
                    vips: vec![v6],
                    ..Instance::named("VI_6", "keepalived")
                });
                if holds {
                    view.addresses.push(v6);
                }
            }
            h
        };
        let lb1 = host("lb1", 11, &[(14, "MASTER", 100)], &[vip(14)]);
        let lb2 = host("lb2", 12, &[(14, "BACKUP", 90)], &[]);
        let f = Fleet::build(vec![
            with_v6(lb1.clone(), "MASTER", true),
            with_v6(lb2.clone(), "BACKUP", false),
        ]);
        assert_eq!(f.exit_code, 0, "{:?}", f.problems);
        assert_eq!(f.vrids.len(), 2, "VRID 14 over IPv4 and over IPv6");
        assert_eq!(
            (f.vrids[1].ipv6, f.vrids[1].label()),
            (true, "14 (IPv6)".into())
        );
        assert_eq!(f.vrids[1].vips[0].holders, ["lb1"]);
        assert_eq!(f.vrids[1].masters, ["lb1"]);

        let f = Fleet::build(vec![
            with_v6(lb1.clone(), "MASTER", true),
            with_v6(lb2.clone(), "MASTER", true),
        ]);
        assert_eq!(f.exit_code, 2);
        assert_eq!(
            f.problems,
            [
                "VIP 2001:db8:61::100 (VRID 14) held by 2 hosts: lb1, lb2",
                "VRID 14 (IPv6) has 2 masters: lb1, lb2",
            ]
        );
        let f = Fleet::build(vec![
            with_v6(lb1, "BACKUP", false),
            with_v6(lb2, "BACKUP", false),
        ]);
        assert_eq!(
            f.problems,
            ["VIP 2001:db8:61::100 (VRID 14) held by 0 hosts"]
        );
    }
}
