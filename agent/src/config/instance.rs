//! `vrrp_instance NAME { }`, keyword by keyword. Defaults and cross-field rules are applied
//! afterwards, in `complete`, as keepalived does.

use std::net::IpAddr;
use std::time::Duration;

use super::complete::complete;
use super::keywords;
use super::model::{AuthType, Config, InitialState, Instance, Notify, UnicastPeer, VrrpVersion};
use super::parse::{Ctx, notify, track_refs};
use super::tree::Stmt;
use super::values::{decimal, garp_extra_if, number, read_unsigned, true_false, unsigned};
use super::vip::vip;

/// keepalived's buffer for `auth_pass`.
const AUTH_PASS_MAX: usize = 8;
/// Linux interface names are shorter than IFNAMSIZ (16).
const IFNAMSIZ: usize = 16;

/// What the keywords set, before defaults are applied.
#[derive(Default)]
pub(crate) struct Raw {
    pub state: Option<InitialState>,
    pub interface: Option<String>,
    pub vrid: Option<u8>,
    pub priority: Option<u8>,
    pub advert_int: Option<Duration>,
    pub version: Option<VrrpVersion>,
    pub nopreempt: bool,
    pub preempt_delay: Duration,
    pub auth_type: Option<AuthType>,
    pub auth_pass: Option<String>,
    pub unicast_keyword: bool,
    /// `check_unicast_src`, or a peer with `min_ttl`/`max_ttl`.
    pub check_unicast_src: bool,
    /// `unicast_ttl` and its line.
    pub unicast_ttl: Option<(u8, super::error::Location)>,
    /// `accept` (true) or `no_accept` (false), the last one given.
    pub accept: Option<bool>,
    /// The line of the last `accept`/`no_accept`.
    pub accept_loc: Option<super::error::Location>,
    /// `strict_mode`, if given with a valid value.
    pub strict: Option<bool>,
    /// Instance values that strict mode resets with a warning when set explicitly to a
    /// non-strict value (inherited global values are reset silently, as in keepalived).
    pub lower_prio_repeat_set: bool,
    pub lower_prio_delay_set: bool,
    pub lower_prio_no_advert: Option<bool>,
    pub higher_prio_send_advert: Option<bool>,
    /// The instance's address family once an address (or `native_ipv6`) decided it: `true`
    /// for IPv6. keepalived takes the first one and skips addresses of the other family.
    pub ipv6: Option<bool>,
    /// `use_vmac` given, with the name it gave (if valid), and `vmac_xmit_base`.
    pub vmac: bool,
    pub vmac_name: Option<(String, super::error::Location)>,
    pub xmit_base: bool,
    /// `garp_extra_if` (old name `vmac_garp_intvl`): its delay if one was read, and `all`.
    pub garp_extra_if: Option<u32>,
    pub garp_extra_if_all: bool,
}

impl Raw {
    /// Whether `addr` may join the instance: it sets the family if none is set yet.
    fn family_admits(&mut self, addr: IpAddr) -> bool {
        match self.ipv6 {
            None => {
                self.ipv6 = Some(addr.is_ipv6());
                true
            }
            Some(v6) => v6 == addr.is_ipv6(),
        }
    }
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
        excluded_vips: Vec::new(),
        src_ip: None,
        mcast_dst: None,
        unicast_peers: Vec::new(),
        check_unicast_src: false,
        unicast_ttl: None,
        track_scripts: Vec::new(),
        track_interfaces: Vec::new(),
        track_files: Vec::new(),
        track_processes: Vec::new(),
        notify: Notify::default(),
        garp: config.global.garp,
        lower_prio_no_advert: config.global.lower_prio_no_advert,
        higher_prio_send_advert: config.global.higher_prio_send_advert,
        promote_secondaries: false,
        dont_track_primary: false,
        skip_check_adv_addr: false,
        strict: false,
        accept: true,
        routes: Vec::new(),
        rules: Vec::new(),
        vmac: None,
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
                ctx.warn(
                    loc,
                    format!("({name}) state previously set as MASTER - ignoring BACKUP"),
                );
            }
            Some("BACKUP") => raw.state = Some(InitialState::Backup),
            Some(v) => {
                ctx.warn(
                    loc,
                    format!("({name}) unknown state '{v}', defaulting to BACKUP"),
                );
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
                    None => ctx.error(
                        loc,
                        format!("({name}): VRID '{v}' not valid - must be between 1 & 255"),
                    ),
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
                    Some(d) if d >= Duration::from_millis(10) && d <= Duration::from_secs(255) => {
                        raw.advert_int = Some(d)
                    }
                    _ => ctx.warn(
                        loc,
                        format!("({name}) Advert interval ({v}) not valid! Must be > 0 - ignoring"),
                    ),
                }
            }
        }
        "version" => match ctx.value(s) {
            // keepalived ignores a version 2 once the instance is IPv6.
            Some("2") if raw.ipv6 == Some(true) => ctx.warn(
                loc,
                format!(
                    "({name}) vrrp_version 2 conflicts with configured or deduced version {}; ignoring.",
                    match raw.version {
                        Some(VrrpVersion::V3) => 3,
                        Some(VrrpVersion::V2) => 2,
                        None => 0,
                    }
                ),
            ),
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
                        ctx.warn(
                            loc,
                            format!("({name}) Preempt_delay not valid! must be between 0-1000"),
                        );
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
                        Some(v) => ctx.warn(
                            &a.loc,
                            format!("({name}) unknown authentication type '{v}'"),
                        ),
                        None => {}
                    },
                    "auth_pass" => {
                        if let Some(v) = ctx.value(a) {
                            let mut pass = v.to_string();
                            if pass.len() > AUTH_PASS_MAX {
                                ctx.warn(
                                    &a.loc,
                                    format!("Truncating auth_pass to {AUTH_PASS_MAX} characters"),
                                );
                                let mut cut = AUTH_PASS_MAX;
                                while !pass.is_char_boundary(cut) {
                                    cut -= 1;
                                }
                                pass.truncate(cut);
                            }
                            raw.auth_pass = Some(pass);
                        }
                    }
                    _ => ctx.other(a, &keywords::NONE),
                }
            }
        }
        "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
            for v in ctx.block(s).unwrap_or_default() {
                ctx.no_block(v);
                if let Some(vip) = vip(ctx, v) {
                    if kw == "virtual_ipaddress" {
                        if !raw.family_admits(vip.addr) {
                            ctx.warn(
                                &v.loc,
                                format!(
                                    "({name}): address family must match VRRP instance [{}] - ignoring",
                                    v.keyword()
                                ),
                            );
                            continue;
                        }
                        inst.vips.push(vip);
                    } else {
                        inst.excluded_vips.push(vip);
                    }
                }
            }
        }
        "virtual_routes" => {
            for e in ctx.block(s).unwrap_or_default() {
                ctx.no_block(e);
                if let Some(r) = super::route::route(ctx, e) {
                    inst.routes.push(r);
                }
            }
        }
        "virtual_rules" => {
            for e in ctx.block(s).unwrap_or_default() {
                ctx.no_block(e);
                let mut next = ctx.next_rule_priority;
                if let Some(r) = super::route::rule(ctx, e, &mut next) {
                    inst.rules.push(r);
                }
                ctx.next_rule_priority = next;
            }
        }
        "mcast_src_ip" | "unicast_src_ip" => {
            raw.unicast_keyword |= kw == "unicast_src_ip";
            if let Some(v) = ctx.value(s) {
                match v.parse::<IpAddr>() {
                    Ok(a) if raw.family_admits(a) => inst.src_ip = Some(a),
                    Ok(_) => ctx.warn(loc, format!("Configuration error: VRRP instance[{name}] and src address[{v}] MUST be of the same family !!! Skipping...")),
                    Err(_) => ctx.warn(loc, format!("Configuration error: VRRP instance[{name}] malformed src address[{v}]. Skipping...")),
                }
            }
        }
        "mcast_dst_ip" => {
            if let Some(v) = ctx.value(s) {
                match v.parse::<IpAddr>() {
                    Ok(a) if !raw.family_admits(a) => ctx.warn(
                        loc,
                        format!("({name}) mcast dest address {v} MUST match VRRP instance family. Skipping..."),
                    ),
                    Ok(IpAddr::V4(a)) if a.is_multicast() => inst.mcast_dst = Some(IpAddr::V4(a)),
                    Ok(IpAddr::V4(_)) => ctx.warn(
                        loc,
                        format!("({name}) mcast_dst_ip {v} not multicast. Skipping..."),
                    ),
                    // keepalived: IN6_IS_ADDR_MC_LINKLOCAL, ff02::/16.
                    Ok(IpAddr::V6(a)) if a.segments()[0] & 0xff0f == 0xff02 => {
                        inst.mcast_dst = Some(IpAddr::V6(a))
                    }
                    Ok(IpAddr::V6(_)) => ctx.warn(
                        loc,
                        format!("({name}) mcast_dst_ip {v} not link-local multicast. Skipping..."),
                    ),
                    Err(_) => ctx.warn(
                        loc,
                        format!("({name}) malformed mcast dest address {v}. Skipping..."),
                    ),
                }
            }
        }
        "unicast_peer" => {
            raw.unicast_keyword = true;
            for p in ctx.block(s).unwrap_or_default() {
                ctx.no_block(p);
                let addr = p.keyword();
                match addr.parse::<IpAddr>() {
                    Ok(a) if raw.family_admits(a) => {
                        let peer = unicast_peer(ctx, p, name, a, raw);
                        inst.unicast_peers.push(peer);
                    }
                    Ok(_) => ctx.warn(&p.loc, format!("Configuration error: VRRP instance[{name}] and unicast peer address[{addr}] MUST be of the same family !!! Skipping...")),
                    Err(_) => ctx.warn(&p.loc, format!("({name}) unicast peer {addr} is not a valid address - ignoring")),
                }
            }
        }
        "native_ipv6" => {
            ctx.no_block(s);
            if raw.ipv6 == Some(false) {
                ctx.warn(
                    loc,
                    format!("({name}) Cannot specify native_ipv6 with IPv4 addresses"),
                );
            } else {
                raw.ipv6 = Some(true);
                raw.version = Some(VrrpVersion::V3);
            }
        }
        "check_unicast_src" => {
            ctx.no_block(s);
            raw.unicast_keyword = true;
            raw.check_unicast_src = true;
        }
        "accept" | "no_accept" => {
            ctx.no_block(s);
            raw.accept = Some(kw == "accept");
            raw.accept_loc = Some(loc.clone());
        }
        "use_vmac" => {
            ctx.no_block(s);
            raw.vmac = true;
            use_vmac(ctx, s, raw);
        }
        "vmac_xmit_base" => {
            ctx.no_block(s);
            raw.xmit_base = true;
        }
        "promote_secondaries" => {
            ctx.no_block(s);
            inst.promote_secondaries = true;
        }
        "dont_track_primary" => {
            ctx.no_block(s);
            inst.dont_track_primary = true;
        }
        "skip_check_adv_addr" => match s.arg(0) {
            None => inst.skip_check_adv_addr = true,
            Some(v) => match true_false(v) {
                Some(on) => inst.skip_check_adv_addr = on,
                None => ctx.warn(
                    loc,
                    format!("({name}) invalid skip_check_adv_addr {v} specified"),
                ),
            },
        },
        "strict_mode" => match s.arg(0) {
            None => raw.strict = Some(true),
            Some(v) => match true_false(v) {
                Some(on) => raw.strict = Some(on),
                None => ctx.warn(loc, format!("({name}) invalid strict_mode {v} specified")),
            },
        },
        "unicast_ttl" => {
            if let Some(v) = ctx.value(s) {
                match unsigned(v, 0, 255).and_then(|n| u8::try_from(n).ok()) {
                    Some(ttl) => raw.unicast_ttl = Some((ttl, loc.clone())),
                    None => ctx.warn(
                        loc,
                        format!("({name}): TTL '{v}' not valid - must be between 0 & 255"),
                    ),
                }
            }
        }
        "track_script" => inst.track_scripts = track_refs(ctx, s, name, 254),
        "track_interface" => inst.track_interfaces = track_refs(ctx, s, name, 254),
        "track_file" => inst.track_files = track_refs(ctx, s, name, 254),
        "track_process" => inst.track_processes = track_refs(ctx, s, name, 254),
        "garp_master_delay" => {
            if let Some(v) = ctx
                .value(s)
                .and_then(|v| number(ctx, loc, kw, v, 0, u32::MAX / 1_000_000))
            {
                inst.garp.delay = Duration::from_secs(v.into());
            }
        }
        "garp_master_repeat" => {
            if let Some(v) = ctx
                .value(s)
                .and_then(|v| number(ctx, loc, kw, v, 0, u32::MAX))
            {
                inst.garp.repeat = if v == 0 {
                    ctx.warn(
                        loc,
                        format!(
                            "({name}): garp_master_repeat must be greater than 0, setting to 1"
                        ),
                    );
                    1
                } else {
                    v
                };
            }
        }
        "garp_extra_if" | "vmac_garp_intvl" => {
            if kw == "vmac_garp_intvl" {
                ctx.warn(
                    loc,
                    "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"",
                );
            }
            // keepalived's vrrp_garp_extra_if_handler.
            let prefix = format!("({name}): ");
            let (delay, all) = garp_extra_if(ctx, loc, kw, &s.words[1..], 0, &prefix);
            raw.garp_extra_if_all |= all;
            if delay.is_some() {
                raw.garp_extra_if = delay;
            }
        }
        "garp_master_refresh" => {
            if let Some(v) = ctx.value(s) {
                let v = number(ctx, loc, kw, v, 0, u32::MAX).unwrap_or(0);
                inst.garp.refresh = (v > 0).then(|| Duration::from_secs(v.into()));
            }
        }
        "garp_master_refresh_repeat" => {
            if let Some(v) = ctx
                .value(s)
                .and_then(|v| number(ctx, loc, kw, v, 0, u32::MAX))
            {
                inst.garp.refresh_repeat = v.max(1);
            }
        }
        "garp_lower_prio_delay" => {
            if let Some(v) = ctx
                .value(s)
                .and_then(|v| read_unsigned(ctx, loc, v, 0, u32::MAX / 1_000_000))
            {
                inst.garp.lower_prio_delay = Duration::from_secs(v.into());
                raw.lower_prio_delay_set = v > 0;
            } else if let Some(v) = s.arg(0) {
                ctx.warn(
                    loc,
                    format!("({name}): garp_lower_prio_delay '{v}' invalid - ignoring"),
                );
            }
        }
        "garp_lower_prio_repeat" => {
            if let Some(v) = ctx
                .value(s)
                .and_then(|v| read_unsigned(ctx, loc, v, 0, i32::MAX.unsigned_abs()))
            {
                inst.garp.lower_prio_repeat = v;
                raw.lower_prio_repeat_set = v > 0;
            } else if let Some(v) = s.arg(0) {
                ctx.warn(
                    loc,
                    format!("({name}): Invalid garp_lower_prio_repeat '{v}'"),
                );
            }
        }
        "lower_prio_no_advert" | "higher_prio_send_advert" => {
            let value = match s.arg(0) {
                None => Some(true),
                Some(v) => true_false(v),
            };
            match value {
                Some(on) if kw == "lower_prio_no_advert" => {
                    inst.lower_prio_no_advert = on;
                    raw.lower_prio_no_advert = Some(on);
                }
                Some(on) => {
                    inst.higher_prio_send_advert = on;
                    raw.higher_prio_send_advert = Some(on);
                }
                None => ctx.warn(
                    loc,
                    format!(
                        "({name}) invalid {kw} {} specified",
                        s.arg(0).unwrap_or_default()
                    ),
                ),
            }
        }
        _ if notify(ctx, s, kw, &mut inst.notify) => {}
        _ => ctx.other(s, &keywords::INSTANCE),
    }
}

/// `ADDR [min_ttl N] [max_ttl N]`, read as keepalived reads it: options in pairs, a bad
/// number is reported and skipped, an unknown option ends the line. Any valid TTL option
/// turns source checking on for the instance.
fn unicast_peer(ctx: &mut Ctx, p: &Stmt, name: &str, addr: IpAddr, raw: &mut Raw) -> UnicastPeer {
    let mut peer = UnicastPeer::new(addr);
    let options = &p.words[1..];
    for pair in options.chunks(2) {
        let [option, value] = pair else {
            ctx.warn(&p.loc, format!("({name}) {} is missing a value", pair[0]));
            break;
        };
        let Some(ttl) = unsigned(value, 0, 255).and_then(|n| u8::try_from(n).ok()) else {
            let why = if unsigned(value, 0, u32::MAX).is_some() {
                format!("number '{value}' outside range [0, 255]")
            } else {
                format!("invalid number '{value}'")
            };
            ctx.warn(&p.loc, why);
            continue;
        };
        match option.as_str() {
            "min_ttl" => peer.min_ttl = ttl,
            "max_ttl" => peer.max_ttl = ttl,
            _ => {
                ctx.warn(
                    &p.loc,
                    format!("({name}) unknown unicast_peer option {option}"),
                );
                break;
            }
        }
        raw.check_unicast_src = true;
    }
    if peer.min_ttl > peer.max_ttl {
        ctx.warn(
            &p.loc,
            format!(
                "({name}) min_ttl {} > max_ttl {} - all packets will be discarded",
                peer.min_ttl, peer.max_ttl
            ),
        );
    }
    peer
}

/// `use_vmac [NAME] [MAC]`: keepalived reads up to two words, a MAC address (it has a `:`)
/// or an interface name, and skips a bad one with a warning.
fn use_vmac(ctx: &mut Ctx, s: &Stmt, raw: &mut Raw) {
    for word in s.words.iter().skip(1).take(2) {
        if word.contains(':') {
            ctx.error(
                &s.loc,
                format!(
                    "keepalived would give the VMAC the MAC address {word} instead of the VRRP \
                     virtual MAC; hactl-agent does not support a MAC address on 'use_vmac'; \
                     remove it or run keepalived on this host"
                ),
            );
        } else if raw.vmac_name.is_some() {
            ctx.warn(&s.loc, "VMAC interface name already specified");
        } else if !dev_name_valid(word) {
            ctx.warn(
                &s.loc,
                format!("VMAC interface name '{word}' too long or invalid characters - ignoring"),
            );
        } else {
            raw.vmac_name = Some((word.clone(), s.loc.clone()));
        }
    }
}

/// The kernel's rule for interface names (`dev_valid_name`), as keepalived copies it.
pub(crate) fn dev_name_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() < IFNAMSIZ
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace())
}
