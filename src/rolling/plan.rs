//! The rollout plan, without I/O: which hosts form a group (they share a VRID on one
//! segment, in the configs they run now or will get), the batches (one host of each group at
//! a time), who must hold a VIP once a host is back (the preempting master), and how far a
//! tracked file must lower a keepalived host's priority to drain it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use hactl_agent::config::{Config, InitialState, Instance};
use hactl_agent::track::{Tracked, effective_priority};

/// One VRRP instance of one host, as a config says it (rendered or on disk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inst {
    pub host: String,
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    /// The priority with every tracked object healthy.
    pub priority: u8,
    pub master: bool,
    pub preempt: bool,
    pub vips: Vec<IpAddr>,
}

impl Inst {
    pub fn key(&self) -> (String, u8) {
        (self.interface.clone(), self.vrid)
    }
}

/// The tracked objects of an instance in their healthy state, with weights resolved as the
/// agent resolves them; `skip` leaves one tracked file out.
fn healthy_tracks(config: &Config, inst: &Instance, skip: Option<&str>) -> Vec<Tracked> {
    let mut out = Vec::new();
    for r in &inst.track_scripts {
        if let Some(s) = config.scripts.iter().find(|s| s.name == r.name) {
            let (weight, reverse) = match r.weight {
                Some(w) => (w, r.reverse),
                None => (s.weight, s.weight_reverse || r.reverse),
            };
            out.push(Tracked::Script {
                ok: Some(true),
                weight,
                reverse,
            });
        }
    }
    for r in &inst.track_files {
        if Some(r.name.as_str()) == skip {
            continue;
        }
        if let Some(f) = config.track_files.iter().find(|f| f.name == r.name) {
            let (weight, reverse) = match r.weight {
                Some(w) => (w, r.reverse),
                None => (f.weight, f.weight_reverse || r.reverse),
            };
            out.push(Tracked::File {
                value: 0,
                weight,
                reverse,
            });
        }
    }
    out
}

/// The instances of a host's config.
pub fn instances(host: &str, config: &Config) -> Vec<Inst> {
    config
        .instances
        .iter()
        .map(|i| Inst {
            host: host.to_string(),
            name: i.name.clone(),
            interface: i.interface.clone().unwrap_or_default(),
            vrid: i.vrid,
            priority: effective_priority(i.priority, &healthy_tracks(config, i, None)).priority,
            master: i.initial_state == InitialState::Master,
            preempt: !i.nopreempt,
            vips: i.vips.iter().map(|v| v.addr).collect(),
        })
        .collect()
}

/// The IPv6 VIPs of a config, one `instance VI_1: 2001:db8::1` line each: a rollout of a
/// pair with IPv6 VIPs is not verified end to end yet, so the pre-flight names them.
pub fn ipv6_vips(config: &Config) -> Vec<String> {
    config
        .instances
        .iter()
        .flat_map(|i| {
            i.vips
                .iter()
                .filter(|v| v.addr.is_ipv6())
                .map(move |v| format!("instance {}: {}", i.name, v.addr))
        })
        .collect()
}

/// Hosts that share a VRID on one segment, directly or through others, in `order` (the
/// play's host order, then hosts outside the play as first seen). A host with no instance is
/// a group of its own.
pub fn groups(order: &[String], insts: &[Inst]) -> Vec<Vec<String>> {
    let mut hosts: Vec<String> = order.to_vec();
    for i in insts {
        if !hosts.contains(&i.host) {
            hosts.push(i.host.clone());
        }
    }
    // Union-find over host indexes.
    let mut parent: Vec<usize> = (0..hosts.len()).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let index = |h: &str| hosts.iter().position(|x| x == h);
    let mut first: BTreeMap<(String, u8), usize> = BTreeMap::new();
    for i in insts {
        let Some(h) = index(&i.host) else { continue };
        match first.get(&i.key()) {
            Some(&other) => {
                let (a, b) = (find(&mut parent, h), find(&mut parent, other));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
            None => {
                first.insert(i.key(), h);
            }
        }
    }
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut root_of: BTreeMap<usize, usize> = BTreeMap::new();
    for (k, h) in hosts.iter().enumerate() {
        let r = find(&mut parent, k);
        match root_of.get(&r) {
            Some(&g) => out[g].push(h.clone()),
            None => {
                root_of.insert(r, out.len());
                out.push(vec![h.clone()]);
            }
        }
    }
    out
}

/// The batches: the first play host of every group together, then the second, and so on,
/// at most `forks` hosts at once. Hosts outside the play (`in_play` false) are never in a
/// batch.
pub fn batches(groups: &[Vec<String>], in_play: &[String], forks: usize) -> Vec<Vec<String>> {
    let per_group: Vec<Vec<&String>> = groups
        .iter()
        .map(|g| g.iter().filter(|h| in_play.contains(h)).collect())
        .collect();
    let rounds = per_group.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for k in 0..rounds {
        let round: Vec<String> = per_group
            .iter()
            .filter_map(|g| g.get(k).map(|h| (*h).clone()))
            .collect();
        for chunk in round.chunks(forks.max(1)) {
            out.push(chunk.to_vec());
        }
    }
    out
}

/// The VIPs `host` must hold once it is back: those of its instances that have the highest
/// priority of their VRID (no tie) and preempt, in the configs it will get.
pub fn preempts(host: &str, insts: &[Inst]) -> BTreeSet<IpAddr> {
    let mut out = BTreeSet::new();
    for mine in insts.iter().filter(|i| i.host == host && i.preempt) {
        let beaten = insts
            .iter()
            .any(|o| o.host != host && o.key() == mine.key() && o.priority >= mine.priority);
        if !beaten
            && insts
                .iter()
                .any(|o| o.host != host && o.key() == mine.key())
        {
            out.extend(mine.vips.iter().copied());
        }
    }
    out
}

/// How a keepalived host is drained through a tracked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDrain {
    pub name: String,
    pub path: String,
    /// What to write into the file.
    pub value: i64,
}

/// A tracked file that every instance of `host` (in `config`) tracks, and the smallest value
/// that puts each of them below the best other host of its VRID (in `peers`) without
/// reaching FAULT. `None` when there is none: the host is then drained by stopping
/// keepalived.
pub fn file_drain(config: &Config, host: &str, peers: &[Inst]) -> Option<FileDrain> {
    let candidates: Vec<&hactl_agent::config::TrackFile> = config.track_files.iter().collect();
    'files: for f in candidates {
        let mut need: Vec<(u8, Vec<Tracked>, i32, bool, u8)> = Vec::new();
        for inst in &config.instances {
            let Some(r) = inst.track_files.iter().find(|r| r.name == f.name) else {
                continue 'files;
            };
            let (weight, reverse) = match r.weight {
                Some(w) => (w, r.reverse),
                None => (f.weight, f.weight_reverse || r.reverse),
            };
            // Priority 255 (the address owner) ignores tracking; weight 0 means FAULT.
            if weight == 0 || inst.priority == 255 {
                continue 'files;
            }
            let key = (inst.interface.clone().unwrap_or_default(), inst.vrid);
            let best_peer = peers
                .iter()
                .filter(|p| p.host != host && p.key() == key)
                .map(|p| p.priority)
                .max();
            let Some(best_peer) = best_peer else {
                // Nobody to hand over to: draining this instance cannot keep its VIP up.
                continue 'files;
            };
            need.push((
                inst.priority,
                healthy_tracks(config, inst, Some(&f.name)),
                weight,
                reverse,
                best_peer,
            ));
        }
        if need.is_empty() {
            continue;
        }
        for magnitude in 1..=253i64 {
            let works = |value: i64| {
                need.iter().all(|(base, others, weight, reverse, peer)| {
                    let mut t = others.clone();
                    t.push(Tracked::File {
                        value,
                        weight: *weight,
                        reverse: *reverse,
                    });
                    let e = effective_priority(*base, &t);
                    !e.fault && e.priority < *peer
                })
            };
            for value in [magnitude, -magnitude] {
                if works(value) {
                    return Some(FileDrain {
                        name: f.name.clone(),
                        path: f.path.display().to_string(),
                        value,
                    });
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(host: &str, vrid: u8, priority: u8, vip: u8) -> Inst {
        Inst {
            host: host.into(),
            name: format!("VI_{vrid}"),
            interface: "eth0".into(),
            vrid,
            priority,
            master: priority == 100,
            preempt: true,
            vips: vec![IpAddr::from([198, 51, 100, vip])],
        }
    }

    fn dual(a: &str, b: &str, v1: u8, v2: u8) -> Vec<Inst> {
        vec![
            inst(a, v1, 100, v1),
            inst(a, v2, 90, v2),
            inst(b, v1, 90, v1),
            inst(b, v2, 100, v2),
        ]
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pairs_form_groups_and_batches_take_one_host_of_each() {
        let mut insts = dual("lb1", "lb2", 14, 24);
        insts.extend(dual("lb3", "lb4", 15, 25));
        let order = names(&["lb1", "lb2", "lb3", "lb4", "web1"]);
        let g = groups(&order, &insts);
        assert_eq!(
            g,
            vec![
                names(&["lb1", "lb2"]),
                names(&["lb3", "lb4"]),
                names(&["web1"])
            ]
        );
        assert_eq!(
            batches(&g, &order, 10),
            vec![names(&["lb1", "lb3", "web1"]), names(&["lb2", "lb4"])]
        );
        // -f 2 cuts a round; a host outside the play (lb2 under --limit) is never a batch.
        assert_eq!(
            batches(&g, &names(&["lb1", "lb3", "lb4", "web1"]), 2),
            vec![names(&["lb1", "lb3"]), names(&["web1"]), names(&["lb4"])]
        );
    }

    #[test]
    fn a_shared_vrid_joins_groups_transitively() {
        // lb1-lb2 share 14, lb2-lb3 share 24: one group of three.
        let insts = vec![
            inst("lb1", 14, 100, 1),
            inst("lb2", 14, 90, 1),
            inst("lb2", 24, 100, 2),
            inst("lb3", 24, 90, 2),
        ];
        let g = groups(&names(&["lb3", "lb1", "lb2"]), &insts);
        assert_eq!(g, vec![names(&["lb3", "lb1", "lb2"])]);
        // The same VRID on another interface is another segment.
        let mut other = inst("lb4", 14, 90, 1);
        other.interface = "eth1".into();
        let g = groups(
            &names(&["lb1", "lb2", "lb3", "lb4"]),
            &[insts, vec![other]].concat(),
        );
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn the_highest_priority_preempts() {
        let insts = dual("lb1", "lb2", 14, 24);
        assert_eq!(
            preempts("lb1", &insts).into_iter().collect::<Vec<_>>(),
            vec![IpAddr::from([198, 51, 100, 14])]
        );
        let mut tie = insts.clone();
        tie[2].priority = 100;
        assert!(preempts("lb1", &tie).is_empty(), "a tie has no sure winner");
        let mut nopreempt = insts;
        nopreempt[0].preempt = false;
        assert!(preempts("lb1", &nopreempt).is_empty());
    }

    fn parse(text: &str) -> Config {
        match hactl_agent::config::parse_standalone(text, "k.conf").parsed {
            Ok(p) => p.config,
            Err(e) => panic!("{:?}", e.diagnostics()),
        }
    }

    const TRACKED: &str = "vrrp_track_file drain {\n file /etc/keepalived/drain\n weight -10\n}\n\
        vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 14\n priority 100\n \
        virtual_ipaddress {\n 198.51.100.100/24\n }\n track_file {\n drain\n }\n}\n\
        vrrp_instance VI_2 {\n state BACKUP\n interface eth0\n virtual_router_id 24\n priority 90\n \
        virtual_ipaddress {\n 198.51.100.200/24\n }\n track_file {\n drain\n }\n}\n";

    #[test]
    fn a_tracked_file_drains_with_the_smallest_value_that_crosses_the_gap() {
        let config = parse(TRACKED);
        let peers = dual("lb1", "lb2", 14, 24);
        // 100 - 10 v < 90 for VI_1 and 90 - 10 v < 100 for VI_2: v = 2.
        let d = file_drain(&config, "lb1", &peers).map(|d| (d.path, d.value));
        assert_eq!(d, Some(("/etc/keepalived/drain".to_string(), 2)));
        // A positive weight drains with a negative value.
        let config = parse(&TRACKED.replace("weight -10", "weight 10"));
        assert_eq!(
            file_drain(&config, "lb1", &peers).map(|d| d.value),
            Some(-2)
        );
    }

    #[test]
    fn no_usable_tracked_file_means_stop() {
        let peers = dual("lb1", "lb2", 14, 24);
        // Not tracked by VI_2.
        let config = parse(&TRACKED.replacen(" track_file {\n drain\n }\n}\n", " }\n", 2));
        assert!(config.instances[1].track_files.is_empty());
        assert_eq!(file_drain(&config, "lb1", &peers), None);
        // Weight 0 means FAULT, not a lower priority.
        let config = parse(&TRACKED.replace("weight -10", "weight 0"));
        assert_eq!(file_drain(&config, "lb1", &peers), None);
        // No peer for the VRID: nobody would take the VIP.
        let config = parse(TRACKED);
        assert_eq!(file_drain(&config, "lb1", &peers[..2]), None);
    }
}

/// What a pair's hosts must share to hear each other, per VRID: the multicast group (or
/// unicast), VRRP version, advert interval and authentication. A change to any of them,
/// rolled one host at a time, leaves the two hosts deaf to each other in between: each takes
/// every VIP (tests/apply_fleet.rs saw it with a new `vrrp_mcast_group4`).
pub fn wire_changes(before: &Config, after: &Config) -> Vec<String> {
    /// Per VRID: the instance's name and each shared setting (name, value).
    type Wire = BTreeMap<u8, (String, Vec<(&'static str, String)>)>;
    fn wire(c: &Config) -> Wire {
        c.instances
            .iter()
            .map(|i| {
                let path = if i.unicast_peers.is_empty() {
                    format!(
                        "multicast group {}",
                        i.mcast_dst.unwrap_or(if i.ipv6() {
                            std::net::IpAddr::V6(c.global.mcast_group6)
                        } else {
                            std::net::IpAddr::V4(c.global.mcast_group4)
                        })
                    )
                } else {
                    "unicast".to_string()
                };
                let auth = match &i.auth {
                    None => "none".to_string(),
                    // Compared, never shown: the message says only that it changes.
                    Some(a) => format!("{:?}:{}", a.kind, a.pass.expose()),
                };
                let fields = vec![
                    ("path", path),
                    ("version", format!("{:?}", i.version)),
                    ("advert_int", format!("{:?}", i.advert_int)),
                    ("authentication", auth),
                ];
                (i.vrid, (i.name.clone(), fields))
            })
            .collect()
    }
    let (old, new) = (wire(before), wire(after));
    let mut out = Vec::new();
    for (vrid, (name, fields)) in &new {
        let Some((_, was)) = old.get(vrid) else {
            continue;
        };
        for ((what, now), (_, then)) in fields.iter().zip(was) {
            if now == then {
                continue;
            }
            out.push(match *what {
                "authentication" => format!("{name} (VRID {vrid}): its authentication"),
                "path" => format!("{name} (VRID {vrid}): {then} -> {now}"),
                _ => format!("{name} (VRID {vrid}): {what} {then} -> {now}"),
            });
        }
    }
    out
}

#[cfg(test)]
mod wire_tests {
    use super::{ipv6_vips, wire_changes};

    fn conf(extra_global: &str, extra_instance: &str) -> hactl_agent::config::Config {
        let text = format!(
            "global_defs {{\n{extra_global}}}\nvrrp_instance VI_1 {{\n interface eth0\n \
             virtual_router_id 14\n priority 100\n advert_int 1\n{extra_instance} \
             virtual_ipaddress {{\n  198.51.100.100/24\n }}\n}}\n"
        );
        hactl_agent::config::parse_standalone(&text, "k.conf")
            .parsed
            .expect("parses")
            .config
    }

    #[test]
    fn ipv6_vips_are_named_for_the_pre_flight() {
        assert!(ipv6_vips(&conf("", "")).is_empty());
        let v6 = hactl_agent::config::parse_standalone(
            "vrrp_instance VI_6 {\n interface eth0\n virtual_router_id 16\n priority 100\n \
             virtual_ipaddress {\n  2001:db8::100/64\n }\n}\n",
            "k.conf",
        )
        .parsed
        .expect("parses")
        .config;
        assert_eq!(ipv6_vips(&v6), ["instance VI_6: 2001:db8::100"]);
    }

    #[test]
    fn what_the_pair_must_share() {
        let base = conf("", "");
        // Priority or VIP changes roll; the group, the interval and the password do not.
        assert!(wire_changes(&base, &conf("", " priority 90\n")).is_empty());
        assert_eq!(
            wire_changes(&base, &conf(" vrrp_mcast_group4 224.0.100.20\n", "")),
            ["VI_1 (VRID 14): multicast group 224.0.0.18 -> multicast group 224.0.100.20"]
        );
        let auth = " authentication {\n  auth_type PASS\n  auth_pass s3cret\n }\n";
        let changed = wire_changes(&base, &conf("", auth));
        assert_eq!(changed, ["VI_1 (VRID 14): its authentication"]);
        assert!(
            !changed[0].contains("s3cret"),
            "the password is never shown"
        );
        assert_eq!(wire_changes(&base, &conf("", " advert_int 2\n")).len(), 1);
    }
}
