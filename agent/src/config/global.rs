//! `global_defs { }`: the settings that change VRRP behaviour; mail settings are accepted and
//! ignored, other keepalived settings are ignored with a note.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::keywords;
use super::model::{Garp, GlobalDefs, ScriptUser, VrrpVersion};
use super::parse::Ctx;
use super::tree::Stmt;
use super::values::{decimal_micros, garp_extra_if, number, read_unsigned, true_false};

pub(crate) fn global_defs(ctx: &mut Ctx, block: &[Stmt], g: &mut GlobalDefs) {
    for st in block {
        let loc = &st.loc;
        match st.keyword() {
            "router_id" => g.router_id = ctx.value(st).map(str::to_string),
            "vrrp_mcast_group4" => {
                if let Some(v) = ctx.value(st) {
                    match v.parse::<Ipv4Addr>() {
                        Ok(a) if a.is_multicast() => g.mcast_group4 = a,
                        _ => ctx.warn(loc, format!("vrrp_mcast_group4 '{v}' is not an IPv4 multicast address - ignoring")),
                    }
                }
            }
            "vrrp_mcast_group6" => {
                if let Some(v) = ctx.value(st) {
                    match v.parse::<std::net::IpAddr>() {
                        Err(_) => ctx.warn(
                            loc,
                            format!("Can't parse vrrp_mcast_group6 [{v}]. Skipping"),
                        ),
                        Ok(std::net::IpAddr::V4(_)) => ctx.warn(
                            loc,
                            format!("vrrp_mcast_group6 [{v}] is not IPv6. Skipping"),
                        ),
                        Ok(std::net::IpAddr::V6(a)) if !a.is_multicast() => ctx.warn(
                            loc,
                            format!("vrrp_mcast_group6 [{v}] is not multicast. Skipping"),
                        ),
                        Ok(std::net::IpAddr::V6(a)) => {
                            if a.segments()[0] & 0xff0f != 0xff02 {
                                ctx.warn(
                                    loc,
                                    format!(
                                        "vrrp_mcast_group6 [{v}] should be link-local multicast."
                                    ),
                                );
                            }
                            g.mcast_group6 = a;
                        }
                    }
                }
            }
            "enable_script_security" => {
                ctx.no_block(st);
                g.enable_script_security = true;
            }
            "script_user" => {
                if let Some(user) = ctx.value(st) {
                    let group = st.arg(1);
                    if ctx.host && !super::script::user_exists(user, group) {
                        ctx.warn(loc, "Error setting global script uid/gid");
                        ctx.default_user_failed = true;
                    }
                    g.script_user = Some(ScriptUser {
                        user: user.to_string(),
                        group: group.map(str::to_string),
                    });
                }
            }
            "vrrp_version" => {
                if let Some(v) = ctx.value(st) {
                    match v {
                        "2" => g.vrrp_version = VrrpVersion::V2,
                        "3" => g.vrrp_version = VrrpVersion::V3,
                        _ => ctx.warn(loc, format!("Unknown VRRP version '{v}' - ignoring")),
                    }
                }
            }
            "vrrp_garp_master_delay" => {
                if let Some(v) = ctx
                    .value(st)
                    .and_then(|v| number(ctx, loc, st.keyword(), v, 0, u32::MAX / 1_000_000))
                {
                    g.garp.delay = Duration::from_secs(v.into());
                }
            }
            "vrrp_garp_master_repeat" => {
                if let Some(v) = ctx
                    .value(st)
                    .and_then(|v| number(ctx, loc, st.keyword(), v, 0, u32::MAX))
                {
                    g.garp.repeat = v;
                }
            }
            "vrrp_garp_master_refresh" => {
                if let Some(v) = ctx
                    .value(st)
                    .and_then(|v| number(ctx, loc, st.keyword(), v, 0, u32::MAX))
                {
                    g.garp.refresh = (v > 0).then(|| Duration::from_secs(v.into()));
                }
            }
            "vrrp_garp_master_refresh_repeat" => {
                if let Some(v) = ctx
                    .value(st)
                    .and_then(|v| number(ctx, loc, st.keyword(), v, 0, u32::MAX))
                {
                    g.garp.refresh_repeat = v;
                }
            }
            "vrrp_garp_interval" | "vrrp_gna_interval" => {
                // keepalived reads both in microseconds, 1 us to UINT_MAX us; the gratuitous NA
                // interval spaces the unsolicited NAs of IPv6 instances.
                if let Some(v) = ctx.value(st) {
                    match decimal_micros(ctx, loc, v, 1, u64::from(u32::MAX)) {
                        Some(us) if st.keyword() == "vrrp_garp_interval" => {
                            g.garp_interval = Duration::from_micros(us);
                        }
                        Some(us) => g.gna_interval = Duration::from_micros(us),
                        None => ctx.warn(loc, format!("{} '{v}' is invalid", st.keyword())),
                    }
                }
            }
            "vrrp_garp_lower_prio_delay" => {
                if let Some(v) = ctx.value(st) {
                    match read_unsigned(ctx, loc, v, 0, u32::MAX / 1_000_000) {
                        Some(n) => {
                            g.garp.lower_prio_delay = Duration::from_secs(n.into());
                            ctx.global_lower_prio_delay_set = true;
                        }
                        None => ctx.warn(
                            loc,
                            format!("vrrp_garp_lower_prio_delay '{v}' invalid - ignoring"),
                        ),
                    }
                }
            }
            "vrrp_garp_lower_prio_repeat" => {
                if let Some(v) = ctx.value(st) {
                    match read_unsigned(ctx, loc, v, 0, i32::MAX.unsigned_abs()) {
                        Some(n) => {
                            g.garp.lower_prio_repeat = n;
                            ctx.global_lower_prio_repeat_set = true;
                        }
                        None => ctx.warn(loc, format!("Invalid vrrp_garp_lower_prio_repeat '{v}'")),
                    }
                }
            }
            "vrrp_lower_prio_no_advert" | "vrrp_higher_prio_send_advert" => {
                let value = match st.arg(0) {
                    None => Some(true),
                    Some(v) => true_false(v),
                };
                match value {
                    Some(on) if st.keyword() == "vrrp_lower_prio_no_advert" => {
                        g.lower_prio_no_advert = on;
                    }
                    Some(on) => g.higher_prio_send_advert = on,
                    None => ctx.warn(loc, format!("Invalid value for {} specified", st.keyword())),
                }
            }
            "vrrp_min_garp" => match st.arg(0) {
                None | Some("true" | "on" | "yes") => min_garp(&mut g.garp),
                Some("false" | "off" | "no") => {}
                Some(_) => ctx.warn(loc, "Invalid value for vrrp_min_garp specified"),
            },
            "vrrp_iptables" => ctx.warn(
                loc,
                "iptables not supported, using nftables instead (keepalived 2.2.7 on Debian says \
                 so; hactl-agent manages no firewall rules)",
            ),
            kw @ ("notify_fifo" | "vrrp_notify_fifo") => {
                let fifo = if kw == "notify_fifo" {
                    &mut g.notify_fifo
                } else {
                    &mut g.vrrp_notify_fifo
                };
                if let Some(v) = ctx.value(st) {
                    fifo.path = Some(std::path::PathBuf::from(v));
                    fifo.owner = st.arg(1).map(|user| ScriptUser {
                        user: user.to_string(),
                        group: st.arg(2).map(str::to_string),
                    });
                }
            }
            kw @ ("notify_fifo_script" | "vrrp_notify_fifo_script") => {
                let fifo = if kw == "notify_fifo_script" {
                    &mut g.notify_fifo
                } else {
                    &mut g.vrrp_notify_fifo
                };
                if let Some(v) = ctx.value(st) {
                    match crate::track::split_words(v) {
                        Ok(words) => {
                            fifo.script = Some(
                                words
                                    .iter()
                                    .map(|w| w.to_string_lossy().into_owned())
                                    .collect(),
                            );
                            fifo.script_user = st.arg(1).map(|user| ScriptUser {
                                user: user.to_string(),
                                group: st.arg(2).map(str::to_string),
                            });
                        }
                        Err(e) => ctx.warn(loc, format!("Unable to parse {kw}: {e}")),
                    }
                }
            }
            "vrrp_strict" => g.vrrp_strict = true,
            "vrrp_skip_check_adv_addr" => g.skip_check_adv_addr = true,
            "nftables_counters" => {
                ctx.no_block(st);
                g.nftables_counters = true;
            }
            "vrrp_garp_extra_if" | "vrrp_vmac_garp_intvl" => {
                let kw = st.keyword();
                if kw == "vrrp_vmac_garp_intvl" {
                    ctx.warn(
                        loc,
                        "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"",
                    );
                }
                // keepalived's vrrp_vmac_garp_extra_if_handler.
                let (delay, all) = garp_extra_if(ctx, loc, kw, &st.words[1..], 1, "");
                g.garp_extra_if_all |= all;
                if let Some(d) = delay {
                    g.garp_extra_if = d;
                }
            }
            "nftables_ifindex" => {
                ctx.no_block(st);
                g.nftables_ifindex = true;
            }
            "nftables_priority" => {
                if let Some(v) = ctx.value(st) {
                    match v.parse::<i32>() {
                        Ok(n) => g.nftables_priority = n,
                        Err(_) => {
                            ctx.warn(loc, format!("invalid nftables_priority '{v}' - ignoring"))
                        }
                    }
                }
            }
            "vrrp_check_unicast_src" => {
                ctx.no_block(st);
                g.check_unicast_src = true;
            }
            "vmac_prefix" => {
                if let Some(v) = ctx.value(st) {
                    if g.vmac_prefix.is_some() {
                        ctx.warn(
                            loc,
                            format!("vmac prefix has already been specified - ignoring {v}"),
                        );
                    } else {
                        g.vmac_prefix = Some(v.to_string());
                    }
                }
            }
            kw if keywords::GLOBAL_MAIL.contains(&kw) => {}
            _ => ctx.other(st, &keywords::GLOBAL),
        }
    }
    for (fifo, kw) in [
        (&g.notify_fifo, "notify_fifo"),
        (&g.vrrp_notify_fifo, "vrrp_notify_fifo"),
    ] {
        let script_kw = format!("{kw}_script");
        let script_loc = block.iter().rev().find(|s| s.keyword() == script_kw);
        if let (None, Some(st)) = (&fifo.path, script_loc) {
            ctx.report(
                super::Severity::Note,
                &st.loc,
                format!("{script_kw} without {kw}: not started (keepalived starts it only with its FIFO)"),
            );
        }
    }
    // Unset, the lower-priority GARPs follow the global master ones (keepalived 2.2.7).
    if !ctx.global_lower_prio_delay_set {
        g.garp.lower_prio_delay = g.garp.delay;
    }
    if !ctx.global_lower_prio_repeat_set {
        g.garp.lower_prio_repeat = g.garp.repeat;
    }
}

/// `vrrp_min_garp`: one gratuitous ARP, no repeats, no delay, no refresh. Like keepalived, it
/// changes only what is still at its default when the keyword is read; later keywords win.
fn min_garp(garp: &mut Garp) {
    let default = Garp::default();
    if garp.repeat == default.repeat {
        garp.repeat = 1;
    }
    if garp.refresh == default.refresh {
        garp.refresh = None;
    }
    if garp.refresh_repeat == default.refresh_repeat {
        garp.refresh_repeat = 0;
    }
    if garp.delay == default.delay {
        garp.delay = Duration::ZERO;
    }
}
