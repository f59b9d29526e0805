//! `virtual_routes`/`static_routes` and `virtual_rules`/`static_rules` entries, read as
//! keepalived 2.2.7 reads them (`alloc_route` in vrrp_iproute.c, `alloc_rule` in
//! vrrp_iprule.c): the same keywords, the same warnings for entries it skips, the same
//! defaults (table main, protocol `keepalived`, scope universe; a rule without a preference
//! gets one counting down from 16384).
//!
//! IPv4 only. The common options are implemented; the rest (MPLS, encap, nexthop groups,
//! metrics such as mtu, rule fwmarks and port ranges...) are refused with an error naming
//! the option, since ignoring them would install something else than keepalived would.

use std::net::Ipv4Addr;

use super::error::Location;
use super::model::{Route, RouteKind, RouteMode, Rule, RuleAction};
use super::parse::Ctx;
use super::tree::Stmt;
use super::values::unsigned;

/// keepalived's `RTPROT_KEEPALIVED`: the protocol of the routes and rules it installs.
pub const RTPROT_KEEPALIVED: u8 = 18;
/// The preference of the first rule without one (keepalived `RULE_START_PRIORITY`).
pub const RULE_START_PRIORITY: u32 = 16384;

/// Route options keepalived accepts that hactl-agent does not implement.
const ROUTE_UNSUPPORTED: &[&str] = &[
    "tos",
    "dsfield",
    "mtu",
    "hoplimit",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "window",
    "cwnd",
    "ssthresh",
    "realms",
    "rto_min",
    "initcwnd",
    "initrwnd",
    "features",
    "quickack",
    "congctl",
    "pref",
    "ttl-propagate",
    "fastopen_no_cookie",
    "encap",
    "expires",
    "as",
    "or",
    "nexthop",
    "vrf",
    "track_group",
];

/// Rule options keepalived accepts that hactl-agent does not implement.
const RULE_UNSUPPORTED: &[&str] = &[
    "tos",
    "dsfield",
    "fwmark",
    "realms",
    "suppress_prefixlength",
    "sup_pl",
    "suppress_ifgroup",
    "sup_group",
    "tunnel-id",
    "uidrange",
    "l3mdev",
    "protocol",
    "ipproto",
    "sport",
    "dport",
    "track_group",
    "goto",
    "nop",
];

/// `ADDR[/LEN]` or `default`/`any`/`all` (0.0.0.0/0), as keepalived's `parse_route`.
/// `Err(true)` for an IPv6 address.
fn prefix(text: &str) -> Result<(Ipv4Addr, u8), bool> {
    if matches!(text, "default" | "any" | "all") {
        return Ok((Ipv4Addr::UNSPECIFIED, 0));
    }
    if text.contains(':') {
        return Err(true);
    }
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr: Ipv4Addr = addr.parse().map_err(|_| false)?;
    let len = match len {
        None => 32,
        Some(l) => unsigned(l, 0, 32)
            .and_then(|l| u8::try_from(l).ok())
            .ok_or(false)?,
    };
    Ok((addr, len))
}

/// A table number or a name: main, local, default, or one listed in /etc/iproute2/rt_tables.
fn table(text: &str) -> Option<u32> {
    if let Some(n) = unsigned(text, 0, u32::MAX) {
        return Some(n);
    }
    match text {
        "main" => return Some(254),
        "local" => return Some(255),
        "default" => return Some(253),
        "unspec" => return Some(0),
        _ => {}
    }
    let file = std::fs::read_to_string("/etc/iproute2/rt_tables").ok()?;
    file.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let n = words.next()?;
        (words.next() == Some(text) && !n.starts_with('#'))
            .then(|| unsigned(n, 0, u32::MAX))
            .flatten()
    })
}

fn scope(text: &str) -> Option<u8> {
    match text {
        "global" | "universe" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        n => unsigned(n, 0, 255).and_then(|n| u8::try_from(n).ok()),
    }
}

fn protocol(text: &str) -> Option<u8> {
    match text {
        "redirect" => Some(1),
        "kernel" => Some(2),
        "boot" => Some(3),
        "static" => Some(4),
        "keepalived" => Some(RTPROT_KEEPALIVED),
        n => unsigned(n, 0, 255).and_then(|n| u8::try_from(n).ok()),
    }
}

/// Route types by name (`find_rttables_rtntype`): those the agent installs, or `Err` with
/// the name for the others.
fn route_type(text: &str) -> Option<Result<RouteKind, ()>> {
    Some(match text {
        "unicast" => Ok(RouteKind::Unicast),
        "blackhole" => Ok(RouteKind::Blackhole),
        "unreachable" => Ok(RouteKind::Unreachable),
        "prohibit" => Ok(RouteKind::Prohibit),
        "throw" => Ok(RouteKind::Throw),
        "local" | "broadcast" | "anycast" | "multicast" | "nat" | "xresolve" => Err(()),
        _ => return None,
    })
}

/// The word after `words[*i]`, advancing `i`; an error when the line ends there.
fn next<'a>(ctx: &mut Ctx, loc: &Location, words: &'a [String], i: &mut usize) -> Option<&'a str> {
    let option = words[*i].clone();
    *i += 1;
    let v = words.get(*i).map(String::as_str);
    if v.is_none() {
        ctx.error(loc, format!("'{option}' needs a value"));
    }
    v
}

fn ipv6(ctx: &mut Ctx, loc: &Location, what: &str) {
    ctx.error(
        loc,
        format!("IPv6 {what}: hactl-agent installs IPv4 routes and rules only"),
    );
}

fn unsupported(ctx: &mut Ctx, loc: &Location, what: &str, option: &str) {
    ctx.error(
        loc,
        format!(
            "keepalived would install this {what} with '{option}'; hactl-agent does not support \
             the '{option}' {what} option; remove it or run keepalived on this host"
        ),
    );
}

/// One route entry; `None` when keepalived skips it (reported) or the agent refuses it.
pub(crate) fn route(ctx: &mut Ctx, s: &Stmt) -> Option<Route> {
    let loc = &s.loc;
    let w = &s.words;
    let mut r = Route {
        text: w.join(" "),
        location: loc.clone(),
        kind: RouteKind::Unicast,
        dst: Ipv4Addr::UNSPECIFIED,
        dst_len: 0,
        via: None,
        src: None,
        dev: None,
        table: 254,
        metric: None,
        scope: None,
        protocol: RTPROT_KEEPALIVED,
        onlink: false,
        tracked: true,
        mode: RouteMode::Prepend,
    };
    let mut have_dst = false;
    let mut given_protocol = None;
    let mut dest = String::new();
    let mut i = 0;
    while i < w.len() {
        let word = w[i].as_str();
        match word {
            "inet" => {}
            "inet6" => {
                ipv6(ctx, loc, "route");
                return None;
            }
            "src" => {
                let v = next(ctx, loc, w, &mut i)?;
                match prefix(v) {
                    Err(true) => {
                        ipv6(ctx, loc, "route src");
                        return None;
                    }
                    Ok((a, 32)) if !v.contains('/') => r.src = Some(a),
                    _ => {
                        ctx.warn(loc, format!("invalid route src address {v}"));
                        return None;
                    }
                }
            }
            "via" | "gw" => {
                if word == "gw" {
                    ctx.warn(loc, "\"gw\" for routes is deprecated. Please use \"via\"");
                }
                let mut v = next(ctx, loc, w, &mut i)?;
                if v == "inet" {
                    v = next(ctx, loc, w, &mut i)?;
                } else if v == "inet6" {
                    ipv6(ctx, loc, "route via");
                    return None;
                }
                match v.parse::<Ipv4Addr>() {
                    Ok(a) => r.via = Some(a),
                    Err(_) if v.contains(':') => {
                        ipv6(ctx, loc, "route via");
                        return None;
                    }
                    Err(_) => {
                        ctx.warn(loc, format!("invalid route via address {v}"));
                        return None;
                    }
                }
            }
            "from" => {
                let v = next(ctx, loc, w, &mut i)?;
                match prefix(v) {
                    Err(true) => ipv6(ctx, loc, "route from"),
                    Ok(_) => ctx.warn(
                        loc,
                        format!("route from address only supported with IPv6 ({v})"),
                    ),
                    Err(false) => ctx.warn(loc, format!("invalid route from address {v}")),
                }
                return None;
            }
            "table" => {
                let v = next(ctx, loc, w, &mut i)?;
                match table(v) {
                    Some(t) => r.table = t,
                    None => {
                        ctx.warn(loc, format!("Routing table {v} not found for route"));
                        return None;
                    }
                }
            }
            "protocol" => {
                let v = next(ctx, loc, w, &mut i)?;
                match protocol(v) {
                    Some(p) => given_protocol = Some(p),
                    None => {
                        ctx.warn(loc, format!("Protocol {v} not found or invalid for route"));
                        return None;
                    }
                }
            }
            "scope" => {
                let v = next(ctx, loc, w, &mut i)?;
                match scope(v) {
                    Some(sc) => r.scope = Some(sc),
                    None => {
                        ctx.warn(loc, format!("Scope {v} not found or invalid for route"));
                        return None;
                    }
                }
            }
            "metric" | "priority" | "preference" => {
                let v = next(ctx, loc, w, &mut i)?;
                match unsigned(v, 0, u32::MAX) {
                    Some(m) => r.metric = Some(m),
                    None => {
                        ctx.warn(loc, format!("Invalid metric {v} specified for route"));
                        return None;
                    }
                }
            }
            "dev" | "oif" => r.dev = Some(next(ctx, loc, w, &mut i)?.to_string()),
            "onlink" => r.onlink = true,
            "no_track" => r.tracked = false,
            "add" => r.mode = RouteMode::Add,
            "prepend" => r.mode = RouteMode::Prepend,
            "append" => r.mode = RouteMode::Append,
            _ if ROUTE_UNSUPPORTED.contains(&word) => {
                unsupported(ctx, loc, "route", word);
                return None;
            }
            _ => {
                // keepalived steps over `to` but keeps testing the word before it for a
                // route type, so `to blackhole X` is not a blackhole route.
                if word == "to" {
                    i += 1;
                }
                match route_type(word) {
                    Some(Ok(kind)) => {
                        r.kind = kind;
                        i += 1;
                    }
                    Some(Err(())) => {
                        unsupported(ctx, loc, "route", word);
                        return None;
                    }
                    None => {}
                }
                let Some(d) = w.get(i) else {
                    ctx.warn(loc, "Route must have a destination");
                    return None;
                };
                match prefix(d) {
                    Ok((a, l)) => {
                        (r.dst, r.dst_len) = (a, l);
                        have_dst = true;
                        dest = d.clone();
                    }
                    Err(true) => {
                        ipv6(ctx, loc, "route");
                        return None;
                    }
                    Err(false) => {
                        ctx.warn(loc, format!("unknown route keyword {d}"));
                        return None;
                    }
                }
            }
        }
        i += 1;
    }
    if !have_dst {
        ctx.warn(loc, "Route must have a destination");
        return None;
    }
    if let Some(p) = given_protocol {
        r.protocol = p;
    }
    if r.tracked {
        if given_protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
            ctx.warn(loc, format!("Route cannot be tracked if protocol is not RTPROT_KEEPALIVED({RTPROT_KEEPALIVED}), resetting protocol"));
        }
        r.protocol = RTPROT_KEEPALIVED;
        if r.dev.is_none() {
            ctx.warn(
                loc,
                format!(
                    "Warning - cannot track route {dest} with no interface specified, not tracking"
                ),
            );
            r.tracked = false;
        }
    }
    Some(r)
}

/// One rule entry; `None` when keepalived skips it (reported) or the agent refuses it.
/// `next_priority` is keepalived's counter for rules without a preference.
pub(crate) fn rule(ctx: &mut Ctx, s: &Stmt, next_priority: &mut u32) -> Option<Rule> {
    let loc = &s.loc;
    let w = &s.words;
    let mut r = Rule {
        text: w.join(" "),
        location: loc.clone(),
        from: None,
        to: None,
        action: RuleAction::Blackhole,
        priority: 0,
        iif: None,
        oif: None,
        invert: false,
        tracked: true,
    };
    let mut priority = None;
    let mut action = None;
    let mut i = 0;
    while i < w.len() {
        let mut word = w[i].as_str();
        match word {
            "inet" => {}
            "inet6" => {
                ipv6(ctx, loc, "rule");
                return None;
            }
            "from" | "to" => {
                let v = next(ctx, loc, w, &mut i)?;
                match prefix(v) {
                    Ok(p) => {
                        let p = (p.1 > 0 || !matches!(v, "default" | "any" | "all")).then_some(p);
                        if word == "from" {
                            r.from = p;
                        } else {
                            r.to = p;
                        }
                    }
                    Err(true) => {
                        ipv6(ctx, loc, "rule");
                        return None;
                    }
                    Err(false) => {
                        // keepalived's parse_ipaddress complains first when the address
                        // itself (not its prefix length) does not parse.
                        let addr = v.split_once('/').map_or(v, |(a, _)| a);
                        if addr.parse::<Ipv4Addr>().is_err() {
                            ctx.warn(loc, format!("VRRP parsed invalid IP {v}. skipping IP..."));
                        }
                        ctx.warn(loc, format!("Invalid rule {word} address {v}"));
                        return None;
                    }
                }
            }
            "table" | "lookup" => {
                let v = next(ctx, loc, w, &mut i)?;
                let Some(t) = table(v) else {
                    ctx.warn(loc, format!("Routing table {v} not found for rule"));
                    return None;
                };
                if t == 0 {
                    ctx.warn(loc, "Table 0 is not valid");
                    return None;
                }
                if action.is_some() {
                    ctx.warn(loc, "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule");
                    return None;
                }
                action = Some(RuleAction::Table(t));
            }
            "not" => r.invert = true,
            "preference" | "order" | "priority" => {
                let v = next(ctx, loc, w, &mut i)?;
                match parse_u32_base0(v) {
                    Some(p) => priority = Some(p),
                    None => {
                        ctx.warn(loc, format!("Invalid rule preference {word} specified"));
                        return None;
                    }
                }
            }
            "dev" | "iif" => r.iif = Some(next(ctx, loc, w, &mut i)?.to_string()),
            "oif" => r.oif = Some(next(ctx, loc, w, &mut i)?.to_string()),
            "no_track" => r.tracked = false,
            _ => {
                if word == "type" {
                    word = next(ctx, loc, w, &mut i)?;
                }
                if RULE_UNSUPPORTED.contains(&word) {
                    unsupported(ctx, loc, "rule", word);
                    return None;
                }
                let this = match word {
                    "blackhole" => RuleAction::Blackhole,
                    "unreachable" => RuleAction::Unreachable,
                    "prohibit" => RuleAction::Prohibit,
                    _ if route_type(word).is_some() => {
                        ctx.warn(loc, format!("Invalid rule action {word}"));
                        return None;
                    }
                    _ => {
                        ctx.warn(loc, format!("Unknown rule option {word}"));
                        return None;
                    }
                };
                if action.is_some() {
                    ctx.warn(loc, "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule");
                    return None;
                }
                action = Some(this);
            }
        }
        i += 1;
    }
    let Some(action) = action else {
        ctx.warn(loc, "No action specified for rule - ignoring");
        return None;
    };
    r.action = action;
    r.priority = match priority {
        Some(p) => p,
        None => {
            let p = *next_priority;
            *next_priority = next_priority.saturating_sub(1);
            ctx.warn(
                loc,
                format!(
                    "Rule has no preference specified - setting to {p}. This is probably not \
                     what you want."
                ),
            );
            p
        }
    };
    Some(r)
}

/// An unsigned number in C's base-0 notation (decimal, 0x hex, 0 octal).
fn parse_u32_base0(v: &str) -> Option<u32> {
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if v.len() > 1 && v.starts_with('0') {
        return u32::from_str_radix(&v[1..], 8).ok();
    }
    unsigned(v, 0, u32::MAX)
}
