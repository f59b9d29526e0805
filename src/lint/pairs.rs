//! Rules across hosts: the instances of one VRID on one segment (same interface name, address
//! family and VRID, anywhere in the inventory: a VRID over IPv6 is another virtual router than
//! the same VRID over IPv4, RFC 5798 section 5.2.3) must agree on VIPs, timing and version,
//! must not both start as MASTER at one priority, and the master's track weights must be able
//! to hand the VIP over.
//!
//! Effective priorities come from the agent's own `effective_priority`, with each tracked
//! object's weight resolved as the agent resolves it (an entry's `weight` replaces the
//! object's weight and its `reverse`). "Healthy" means scripts succeeding, interfaces up and
//! tracked files holding 0; a tracked file "fails" by holding 1.

use std::collections::BTreeMap;

use hactl_agent::config::{Config, InitialState, Instance, VrrpVersion};
use hactl_agent::track::{Tracked, effective_priority};

use super::model::Parsed;
use super::{Finding, Severity};

pub const VRID_VIPS: &str = "vrid-vips-differ";
pub const DUAL_MASTER: &str = "dual-master";
pub const WEIGHT_GAP: &str = "weight-gap";
pub const MISMATCH: &str = "vrrp-mismatch";

/// One instance of a VRID, with where it lives.
struct Member<'p> {
    p: &'p Parsed<'p>,
    config: &'p Config,
    inst: &'p Instance,
}

impl Member<'_> {
    fn at(
        &self,
        rule: &'static str,
        severity: Severity,
        path: &[&str],
        message: String,
        hint: &str,
    ) -> Finding {
        self.finding(
            rule,
            severity,
            self.p.line(&self.inst.name, path),
            message,
            hint,
        )
    }

    fn finding(
        &self,
        rule: &'static str,
        severity: Severity,
        line: u32,
        message: String,
        hint: &str,
    ) -> Finding {
        Finding {
            rule,
            severity,
            host: self.p.host.to_string(),
            file: self.p.file.to_string(),
            line,
            message,
            hint: (!hint.is_empty()).then(|| hint.to_string()),
        }
    }

    fn who(&self) -> String {
        format!("{} ({})", self.p.host, self.inst.name)
    }
}

pub fn check<'p>(parsed: &'p [Parsed<'p>], out: &mut Vec<Finding>) {
    let mut groups: BTreeMap<(String, bool, u8), Vec<Member<'p>>> = BTreeMap::new();
    for p in parsed {
        let Some(config) = &p.config else { continue };
        for inst in &config.instances {
            let segment = inst.interface.clone().unwrap_or_default();
            groups
                .entry((segment, inst.ipv6(), inst.vrid))
                .or_default()
                .push(Member { p, config, inst });
        }
    }
    for ((segment, ipv6, vrid), members) in &groups {
        let family = if *ipv6 { " (IPv6)" } else { "" };
        let label = if segment.is_empty() {
            format!("VRID {vrid}{family}")
        } else {
            format!("VRID {vrid}{family} on {segment}")
        };
        vips(&label, members, out);
        masters(&label, members, out);
        mismatch(&label, members, out);
        weights(&label, members, out);
    }
}

fn vip_list(i: &Instance) -> String {
    let mut v: Vec<String> = i.vips.iter().map(|v| v.addr.to_string()).collect();
    v.sort();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// Rule: one VRID, one set of VIPs.
fn vips(label: &str, members: &[Member<'_>], out: &mut Vec<Finding>) {
    for m in members {
        let mine = vip_list(m.inst);
        let others: Vec<String> = members
            .iter()
            .filter(|o| vip_list(o.inst) != mine)
            .map(|o| format!("{} on {}", vip_list(o.inst), o.who()))
            .collect();
        if !others.is_empty() {
            out.push(m.at(
                VRID_VIPS,
                Severity::Error,
                &["virtual_router_id"],
                format!("{label} is used for VIPs {mine} here but {}: the hosts fight over one router id", others.join("; ")),
                "give each VIP set its own virtual_router_id, the same on every host that serves it",
            ));
        }
    }
}

/// Rule: at most one MASTER per priority.
fn masters(label: &str, members: &[Member<'_>], out: &mut Vec<Finding>) {
    for m in members
        .iter()
        .filter(|m| m.inst.initial_state == InitialState::Master)
    {
        let rivals: Vec<String> = members
            .iter()
            .filter(|o| {
                o.p.host != m.p.host
                    && o.inst.initial_state == InitialState::Master
                    && o.inst.priority == m.inst.priority
            })
            .map(Member::who)
            .collect();
        if !rivals.is_empty() {
            out.push(m.at(
                DUAL_MASTER,
                Severity::Error,
                &["state"],
                format!(
                    "{label}: {} and {} both start as MASTER at priority {}: both claim the VIP at start and the higher address wins",
                    m.who(),
                    rivals.join(", "),
                    m.inst.priority
                ),
                "make one of them state BACKUP with a lower priority",
            ));
        }
    }
}

/// Rule: the hosts of a VRID agree on advert_int and version (else they drop each other's
/// adverts and both become MASTER).
fn mismatch(label: &str, members: &[Member<'_>], out: &mut Vec<Finding>) {
    let version = |i: &Instance| match i.version {
        VrrpVersion::V2 => "2",
        VrrpVersion::V3 => "3",
    };
    for m in members {
        let advert = |i: &Instance| format!("{:?}", i.advert_int);
        let differ: Vec<String> = members
            .iter()
            .filter(|o| advert(o.inst) != advert(m.inst))
            .map(|o| format!("{} on {}", advert(o.inst), o.who()))
            .collect();
        if !differ.is_empty() {
            out.push(m.at(
                MISMATCH,
                Severity::Error,
                &["advert_int"],
                format!(
                    "{label}: advert_int is {} here but {}: each side drops the other's adverts",
                    advert(m.inst),
                    differ.join("; ")
                ),
                "set the same advert_int on every host of the VRID",
            ));
        }
        let differ: Vec<String> = members
            .iter()
            .filter(|o| version(o.inst) != version(m.inst))
            .map(|o| format!("{} on {}", version(o.inst), o.who()))
            .collect();
        if !differ.is_empty() {
            out.push(m.at(
                MISMATCH,
                Severity::Error,
                &["version"],
                format!(
                    "{label}: VRRP version {} here but {}: the hosts cannot hear each other",
                    version(m.inst),
                    differ.join("; ")
                ),
                "set the same version (or vrrp_version in global_defs) on every host of the VRID",
            ));
        }
    }
}

/// A tracked object of an instance: how it shows in messages, where its entry is, and its
/// state when healthy and when failed.
struct Track {
    label: String,
    block: &'static str,
    name: String,
    healthy: Tracked,
    failed: Tracked,
}

/// What an instance tracks, with weights resolved as the agent resolves them.
fn tracks(config: &Config, inst: &Instance) -> Vec<Track> {
    let mut out = Vec::new();
    for r in &inst.track_scripts {
        let Some(s) = config.scripts.iter().find(|s| s.name == r.name) else {
            continue;
        };
        let (weight, reverse) = match r.weight {
            Some(w) => (w, r.reverse),
            None => (s.weight, s.weight_reverse || r.reverse),
        };
        let state = |ok| Tracked::Script {
            ok: Some(ok),
            weight,
            reverse,
        };
        out.push(Track {
            label: format!("track script {} (weight {weight})", r.name),
            block: "track_script",
            name: r.name.clone(),
            healthy: state(true),
            failed: state(false),
        });
    }
    for r in &inst.track_files {
        let Some(f) = config.track_files.iter().find(|f| f.name == r.name) else {
            continue;
        };
        let (weight, reverse) = match r.weight {
            Some(w) => (w, r.reverse),
            None => (f.weight, f.weight_reverse || r.reverse),
        };
        let state = |value| Tracked::File {
            value,
            weight,
            reverse,
        };
        out.push(Track {
            label: format!("track file {} (weight {weight})", r.name),
            block: "track_file",
            name: r.name.clone(),
            healthy: state(0),
            failed: state(1),
        });
    }
    for r in &inst.track_interfaces {
        let (weight, reverse) = (r.weight.unwrap_or(0), r.reverse);
        let state = |up| Tracked::Interface {
            up,
            weight,
            reverse,
        };
        out.push(Track {
            label: format!("tracked interface {} (weight {weight})", r.name),
            block: "track_interface",
            name: r.name.clone(),
            healthy: state(true),
            failed: state(false),
        });
    }
    out
}

/// Rule: when one of the master's tracked objects fails, its priority must fall below the
/// best backup's, or the VIP never moves.
fn weights(label: &str, members: &[Member<'_>], out: &mut Vec<Finding>) {
    if members.len() < 2 {
        return;
    }
    let healthy = |m: &Member<'_>| {
        let t: Vec<Tracked> = tracks(m.config, m.inst).iter().map(|t| t.healthy).collect();
        effective_priority(m.inst.priority, &t).priority
    };
    // The master when all is well: the highest priority, MASTER state breaking a tie.
    let Some(master) = members
        .iter()
        .max_by_key(|m| (healthy(m), m.inst.initial_state == InitialState::Master))
    else {
        return;
    };
    let Some(backup) = members
        .iter()
        .filter(|m| m.p.host != master.p.host)
        .max_by_key(|m| healthy(m))
    else {
        return;
    };
    let (top, other) = (healthy(master), healthy(backup));
    let list = tracks(master.config, master.inst);
    for (n, t) in list.iter().enumerate() {
        let states: Vec<Tracked> = list
            .iter()
            .enumerate()
            .map(|(k, x)| if k == n { x.failed } else { x.healthy })
            .collect();
        let failed = effective_priority(master.inst.priority, &states);
        if failed.fault || failed.priority < other {
            continue;
        }
        let line = master
            .p
            .entry_line(&master.inst.name, t.block, &t.name)
            .unwrap_or_else(|| master.p.line(&master.inst.name, &["priority"]));
        let gap = i32::from(top) - i32::from(other);
        let (severity, outcome) = if failed.priority == other {
            (Severity::Warning, "equal to".to_string())
        } else {
            (Severity::Error, "still above".to_string())
        };
        out.push(master.finding(
            WEIGHT_GAP,
            severity,
            line,
            format!(
                "{label}: when {} fails on {}, its priority goes from {top} to {}, {outcome} {}'s {other}: the VIP {}",
                t.label,
                master.p.host,
                failed.priority,
                backup.p.host,
                if severity == Severity::Error { "never moves" } else { "moves only if the backup's address is higher" }
            ),
            &format!(
                "make the weight's size larger than the priority gap of {gap} (e.g. weight -{}), or bring the priorities closer",
                gap + 5
            ),
        ));
    }
}
