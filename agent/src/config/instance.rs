//! `vrrp_instance NAME { }`: keyword by keyword, then the defaults and consistency rules
//! keepalived 2.2.7 applies when it completes an instance (`vrrp_complete_instance`).

use std::net::Ipv4Addr;
use std::time::Duration;

use super::keywords;
use super::model::{
    Auth, AuthType, Config, InitialState, Instance, Notify, Secret, VirtualIp, VrrpVersion,
};
use super::parse::{Ctx, decimal, notify, number, track_refs, unsigned};
use super::tree::Stmt;

/// keepalived's buffer for `auth_pass`.
const AUTH_PASS_MAX: usize = 8;
/// Linux interface names are shorter than IFNAMSIZ (16).
const IFNAMSIZ: usize = 16;

/// What the keywords set, before defaults are applied.
#[derive(Default)]
struct Raw {
    state: Option<InitialState>,
    interface: Option<String>,
    vrid: Option<u8>,
    priority: Option<u8>,
    advert_int: Option<Duration>,
    version: Option<VrrpVersion>,
    nopreempt: bool,
    preempt_delay: Duration,
    auth_type: Option<AuthType>,
    auth_pass: Option<String>,
    unicast_keyword: bool,
}

pub(crate) fn instance(ctx: &mut Ctx, st: &Stmt, config: &Config) -> Option<Instance> {
    let block = ctx.block(st)?;
    let (Some(name), None) = (st.arg(0), st.arg(1)) else {
        ctx.error(&st.loc, "vrrp_instance must have a name");
        return None;
    };
    let mut raw = Raw::default();
    let mut inst = Instance {
        name: name.to_string(),
        location: st.loc.clone(),
        initial_state: InitialState::Backup,
        interface: None,
        vrid: 0,
        priority: 0,
        advert_int: Duration::from_secs(1),
        version: config.global.vrrp_version,
        nopreempt: false,
        preempt_delay: Duration::ZERO,
        auth: None,
        vips: Vec::new(),
        src_ip: None,
        unicast_peers: Vec::new(),
        track_scripts: Vec::new(),
        track_interfaces: Vec::new(),
        track_files: Vec::new(),
        notify: Notify::default(),
        garp: config.global.garp,
    };
    for s in block {
        keyword(ctx, s, name, &mut raw, &mut inst);
    }
    complete(ctx, st, raw, inst, config)
}

fn keyword(ctx: &mut Ctx, s: &Stmt, name: &str, raw: &mut Raw, inst: &mut Instance) {
    let loc = &s.loc;
    let kw = s.keyword();
    match kw {
        "state" => match ctx.value(s) {
            Some("MASTER") => raw.state = Some(InitialState::Master),
            Some("BACKUP") if raw.state == Some(InitialState::Master) => {
                ctx.warn(loc, format!("({name}) state previously set as MASTER - ignoring BACKUP"));
            }
            Some("BACKUP") => raw.state = Some(InitialState::Backup),
            Some(v) => {
                ctx.warn(loc, format!("({name}) unknown state '{v}', defaulting to BACKUP"));
                raw.state = Some(InitialState::Backup);
            }
            None => {}
        },
        "interface" => {
            if let Some(v) = ctx.value(s) {
                if v.len() >= IFNAMSIZ {
                    ctx.warn(loc, format!("Interface name '{v}' too long - ignoring"));
                } else {
                    raw.interface = Some(v.to_string());
                }
            }
        }
        "virtual_router_id" => {
            if let Some(v) = ctx.value(s) {
                match unsigned(v, 1, 255) {
                    Some(n) => raw.vrid = u8::try_from(n).ok(),
                    None => ctx.error(loc, format!("({name}): VRID '{v}' not valid - must be between 1 & 255")),
                }
            }
        }
        "priority" => {
            if let Some(v) = ctx.value(s) {
                match unsigned(v, 1, 255) {
                    Some(n) => raw.priority = u8::try_from(n).ok(),
                    None => {
                        ctx.warn(loc, format!("({name}) Priority not valid! must be between 1 & 255. Using default 100"));
                        raw.priority = Some(100);
                    }
                }
            }
        }
        "advert_int" => {
            if let Some(v) = ctx.value(s) {
                match decimal(v, Duration::from_secs(1)) {
                    Some(d) if d >= Duration::from_millis(10) && d <= Duration::from_secs(255) => raw.advert_int = Some(d),
                    _ => ctx.warn(loc, format!("({name}) Advert interval ({v}) not valid! Must be > 0 - ignoring")),
                }
            }
        }
        "version" => match ctx.value(s) {
            Some("2") => raw.version = Some(VrrpVersion::V2),
            Some("3") => raw.version = Some(VrrpVersion::V3),
            Some(_) => ctx.warn(loc, format!("({name}): Version must be either 2 or 3")),
            None => {}
        },
        "nopreempt" => {
            ctx.no_block(s);
            raw.nopreempt = true;
        }
        "preempt" => {
            ctx.no_block(s);
            raw.nopreempt = false;
        }
        "preempt_delay" => {
            if let Some(v) = ctx.value(s) {
                match decimal(v, Duration::from_secs(1)) {
                    Some(d) if d <= Duration::from_secs(1000) => raw.preempt_delay = d,
                    _ => {
                        ctx.warn(loc, format!("({name}) Preempt_delay not valid! must be between 0-1000"));
                        raw.preempt_delay = Duration::ZERO;
                    }
                }
            }
        }
        "authentication" => {
            for a in ctx.block(s).unwrap_or_default() {
                match a.keyword() {
                    "auth_type" => match ctx.value(a) {
                        Some("PASS") => raw.auth_type = Some(AuthType::Pass),
                        Some("AH") => raw.auth_type = Some(AuthType::Ah),
                        Some(v) => ctx.warn(&a.loc, format!("({name}) unknown authentication type '{v}'")),
                        None => {}
                    },
                    "auth_pass" => {
                        if let Some(v) = ctx.value(a) {
                            let mut pass = v.to_string();
                            if pass.len() > AUTH_PASS_MAX {
                                ctx.warn(&a.loc, format!("Truncating auth_pass to {AUTH_PASS_MAX} characters"));
                                let mut cut = AUTH_PASS_MAX;
                                while !pass.is_char_boundary(cut) {
                                    cut -= 1;
                                }
                                pass.truncate(cut);
                            }
                            raw.auth_pass = Some(pass);
                        }
                    }
                    _ => ctx.other(a, &[]),
                }
            }
        }
        "virtual_ipaddress" => {
            for v in ctx.block(s).unwrap_or_default() {
                ctx.no_block(v);
                if let Some(vip) = vip(ctx, v) {
                    inst.vips.push(vip);
                }
            }
        }
        "mcast_src_ip" | "unicast_src_ip" => {
            raw.unicast_keyword |= kw == "unicast_src_ip";
            if let Some(v) = ctx.value(s) {
                match v.parse::<Ipv4Addr>() {
                    Ok(a) => inst.src_ip = Some(a),
                    Err(_) if v.contains(':') => ctx.error(loc, format!("({name}) IPv6 source address {v}: hactl-agent speaks VRRP over IPv4 only")),
                    Err(_) => ctx.warn(loc, format!("Configuration error: VRRP instance[{name}] malformed src address[{v}]. Skipping...")),
                }
            }
        }
        "unicast_peer" => {
            raw.unicast_keyword = true;
            for p in ctx.block(s).unwrap_or_default() {
                ctx.no_block(p);
                let addr = p.keyword();
                match addr.parse::<Ipv4Addr>() {
                    Ok(a) if p.words.len() == 1 => inst.unicast_peers.push(a),
                    Ok(_) => ctx.report(super::error::Severity::Note, &p.loc, "unicast_peer options (min_ttl, max_ttl) are not supported by hactl-agent; ignored"),
                    Err(_) if addr.contains(':') => ctx.error(&p.loc, format!("({name}) IPv6 unicast peer {addr}: hactl-agent speaks VRRP over IPv4 only")),
                    Err(_) => ctx.warn(&p.loc, format!("({name}) unicast peer {addr} is not a valid address - ignoring")),
                }
            }
        }
        "track_script" => inst.track_scripts = track_refs(ctx, s, name, 254),
        "track_interface" => inst.track_interfaces = track_refs(ctx, s, name, 254),
        "track_file" => inst.track_files = track_refs(ctx, s, name, 254),
        "garp_master_delay" => {
            if let Some(v) = ctx.value(s).and_then(|v| number(ctx, loc, kw, v, 0, u32::MAX / 1_000_000)) {
                inst.garp.delay = Duration::from_secs(v.into());
            }
        }
        "garp_master_repeat" => {
            if let Some(v) = ctx.value(s).and_then(|v| number(ctx, loc, kw, v, 0, u32::MAX)) {
                inst.garp.repeat = if v == 0 {
                    ctx.warn(loc, format!("({name}): garp_master_repeat must be greater than 0, setting to 1"));
                    1
                } else {
                    v
                };
            }
        }
        "garp_master_refresh" => {
            if let Some(v) = ctx.value(s) {
                let v = number(ctx, loc, kw, v, 0, u32::MAX).unwrap_or(0);
                inst.garp.refresh = (v > 0).then(|| Duration::from_secs(v.into()));
            }
        }
        "garp_master_refresh_repeat" => {
            if let Some(v) = ctx.value(s).and_then(|v| number(ctx, loc, kw, v, 0, u32::MAX)) {
                inst.garp.refresh_repeat = v.max(1);
            }
        }
        _ if notify(ctx, s, kw, &mut inst.notify) => {}
        _ => ctx.other(s, keywords::INSTANCE),
    }
}

/// One `virtual_ipaddress` entry. keepalived skips an entry it cannot read, with a warning.
fn vip(ctx: &mut Ctx, s: &Stmt) -> Option<VirtualIp> {
    let text = s.keyword();
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    if addr.contains(':') {
        ctx.error(&s.loc, format!("IPv6 virtual address {text}: hactl-agent speaks VRRP over IPv4 only"));
        return None;
    }
    let Ok(addr) = addr.parse::<Ipv4Addr>() else {
        ctx.warn(&s.loc, format!("VRRP parsed invalid IP {text}. skipping IP..."));
        return None;
    };
    let prefix = match prefix {
        None => 32,
        Some(p) => match unsigned(p, 0, 32).and_then(|p| u8::try_from(p).ok()) {
            Some(p) => p,
            None => {
                ctx.warn(&s.loc, format!("Invalid address prefix len {p} for address {text} - using 32"));
                32
            }
        },
    };
    let mut vip = VirtualIp { addr, prefix, dev: None, brd: None, label: None, scope: None };
    let mut words = s.words[1..].iter();
    while let Some(option) = words.next() {
        let Some(value) = words.next() else {
            ctx.warn(&s.loc, format!("virtual address {text}: '{option}' needs a value - ignoring it"));
            break;
        };
        match option.as_str() {
            "dev" => vip.dev = Some(value.clone()),
            "label" => vip.label = Some(value.clone()),
            "scope" => match value.as_str() {
                "global" | "site" | "link" | "host" | "nowhere" => vip.scope = Some(value.clone()),
                _ => ctx.warn(&s.loc, format!("Invalid scope '{value}' specified for {text} - ignoring")),
            },
            "brd" => match value.parse::<Ipv4Addr>() {
                Ok(b) => vip.brd = Some(b),
                Err(_) => ctx.warn(&s.loc, format!("Invalid broadcast address '{value}' for {text} - ignoring")),
            },
            _ => {
                ctx.warn(&s.loc, format!("Unknown configuration entry '{option}' for ip address - ignoring"));
                break;
            }
        }
    }
    Some(vip)
}

/// Defaults and cross-field rules, in the order keepalived applies them.
fn complete(ctx: &mut Ctx, st: &Stmt, raw: Raw, mut inst: Instance, config: &Config) -> Option<Instance> {
    let loc = &st.loc;
    let name = inst.name.clone();
    if let Some(v) = raw.version {
        inst.version = v;
    }
    let Some(vrid) = raw.vrid else {
        ctx.error(loc, format!("({name}) the virtual router id must be set"));
        return None;
    };
    inst.vrid = vrid;
    if inst.vips.is_empty() {
        if inst.version == VrrpVersion::V3 {
            ctx.error(loc, format!("({name}) No VIP specified; at least one is required"));
            return None;
        }
        ctx.warn(loc, format!("({name}) No VIP specified; at least one is sensible"));
    }
    // No priority: owner if the state says MASTER. No state: MASTER only for the owner.
    inst.priority = raw.priority.unwrap_or(if raw.state == Some(InitialState::Master) { 255 } else { 100 });
    inst.initial_state = raw.state.unwrap_or(if inst.priority == 255 { InitialState::Master } else { InitialState::Backup });

    if let Some(kind) = raw.auth_type {
        if inst.version == VrrpVersion::V3 {
            ctx.warn(loc, format!("({name}) VRRP version 3 does not support authentication. Ignoring"));
        } else if raw.auth_pass.as_deref().is_none_or(str::is_empty) {
            ctx.warn(loc, format!("({name}) Authentication specified but no password given. Ignoring"));
        } else {
            if kind == AuthType::Ah && inst.initial_state == InitialState::Master && inst.priority != 255 {
                ctx.warn(loc, format!("({name}) Initial state master is incompatible with AH authentication - clearing"));
                inst.initial_state = InitialState::Backup;
            }
            inst.auth = Some(Auth { kind, pass: Secret::new(raw.auth_pass.unwrap_or_default()) });
        }
    }
    inst.interface = raw.interface;
    if inst.interface.is_none() && (inst.src_ip.is_none() || inst.unicast_peers.is_empty()) {
        ctx.error(loc, format!("({name}) an interface is needed (or unicast_src_ip and unicast_peer)"));
        return None;
    }
    if raw.unicast_keyword && inst.unicast_peers.is_empty() {
        ctx.warn(loc, format!("({name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration."));
    }
    inst.nopreempt = raw.nopreempt;
    inst.preempt_delay = raw.preempt_delay;
    if inst.priority == 255 && inst.nopreempt {
        ctx.warn(loc, format!("({name}) nopreempt is incompatible with priority 255. resetting nopreempt"));
        inst.nopreempt = false;
    }
    if inst.initial_state == InitialState::Master {
        if inst.nopreempt {
            ctx.warn(loc, format!("({name}) Warning - nopreempt will not work with initial state MASTER - clearing"));
            inst.nopreempt = false;
        }
        if !inst.preempt_delay.is_zero() {
            ctx.warn(loc, format!("({name}) Warning - preempt delay will not work with initial state MASTER - clearing"));
            inst.preempt_delay = Duration::ZERO;
        }
    }
    if !inst.preempt_delay.is_zero() && inst.nopreempt {
        ctx.warn(loc, format!("({name}) preempt_delay is incompatible with nopreempt mode - resetting"));
        inst.preempt_delay = Duration::ZERO;
    }
    if let Some(d) = raw.advert_int {
        inst.advert_int = advert_int(ctx, loc, &name, d, inst.version);
    }
    inst.track_scripts.retain(|t| {
        let known = config.scripts.iter().any(|s| s.name == t.name);
        if !known {
            ctx.warn(loc, format!("({name}) track script {} not found, ignoring...", t.name));
        }
        known
    });
    inst.track_files.retain(|t| {
        let known = config.track_files.iter().any(|f| f.name == t.name);
        if !known {
            ctx.warn(loc, format!("({name}) track file {} not found, ignoring...", t.name));
        }
        known
    });
    Some(inst)
}

/// VRRPv2 counts whole seconds (max 255), VRRPv3 centiseconds (max 40.95 s); keepalived rounds.
fn advert_int(ctx: &mut Ctx, loc: &super::error::Location, name: &str, d: Duration, version: VrrpVersion) -> Duration {
    let (unit, max) = match version {
        VrrpVersion::V2 => (Duration::from_secs(1), Duration::from_secs(255)),
        VrrpVersion::V3 => (Duration::from_millis(10), Duration::from_millis(40_950)),
    };
    if d > max {
        ctx.warn(loc, format!("({name}) advertisement interval {:.2}s is out of range. Setting to {:.2}s", d.as_secs_f64(), max.as_secs_f64()));
        return max;
    }
    let unit_us = unit.as_micros();
    let us = d.as_micros();
    if us % unit_us == 0 {
        return d;
    }
    let rule = match version {
        VrrpVersion::V2 => "VRRPv2 advertisement interval {}s must be an integer. rounding",
        VrrpVersion::V3 => "VRRPv3 advertisement interval {}s must be in units of 10ms - rounding",
    };
    ctx.warn(loc, format!("({name}) {}", rule.replace("{}", &d.as_secs_f64().to_string())));
    let rounded = (us + unit_us / 2) / unit_us * unit_us;
    let rounded = u64::try_from(rounded.max(unit_us)).unwrap_or(u64::MAX);
    Duration::from_micros(rounded)
}
