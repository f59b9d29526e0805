//! Completing a `vrrp_instance`: the defaults and cross-field rules keepalived 2.2.7 applies
//! once the block is read (its `vrrp_complete_instance`), in the same order.

use std::time::Duration;

use super::error::Location;
use super::instance::Raw;
use super::model::{Auth, AuthType, Config, InitialState, Instance, Secret, Vmac, VrrpVersion};
use super::parse::Ctx;
use super::tree::Stmt;

/// Defaults and cross-field rules, in the order keepalived applies them.
pub(crate) fn complete(
    ctx: &mut Ctx,
    st: &Stmt,
    raw: Raw,
    mut inst: Instance,
    config: &Config,
) -> Option<Instance> {
    let loc = &st.loc;
    let name = inst.name.clone();
    if let Some(v) = raw.version {
        inst.version = v;
    }
    // keepalived runs IPv6 instances with VRRPv3 (RFC 5798); strict mode overrides an
    // explicit `version 2` with a complaint.
    let ipv6 = raw.ipv6 == Some(true);
    if ipv6 {
        match raw.version {
            Some(VrrpVersion::V2) if raw.strict.unwrap_or(config.global.vrrp_strict) => {
                ctx.warn(
                    loc,
                    format!("({name}) cannot use IPv6 with VRRP version 2; setting version 3"),
                );
                inst.version = VrrpVersion::V3;
            }
            Some(VrrpVersion::V2) => {
                ctx.error(
                    loc,
                    format!(
                        "({name}) keepalived would send VRRPv2 adverts over IPv6, which no RFC \
                         defines; hactl-agent does not support 'version 2' with IPv6 addresses \
                         (it speaks VRRPv3 over IPv6); remove it or run keepalived on this host"
                    ),
                );
                return None;
            }
            _ => inst.version = VrrpVersion::V3,
        }
    }
    let Some(vrid) = raw.vrid else {
        ctx.error(loc, format!("({name}) the virtual router id must be set"));
        return None;
    };
    inst.vrid = vrid;
    if inst.vips.is_empty() {
        if inst.version == VrrpVersion::V3 {
            ctx.error(
                loc,
                format!("({name}) No VIP specified; at least one is required"),
            );
            return None;
        }
        ctx.warn(
            loc,
            format!("({name}) No VIP specified; at least one is sensible"),
        );
    }
    // No priority: owner if the state says MASTER. No state: MASTER only for the owner.
    inst.priority = raw
        .priority
        .unwrap_or(if raw.state == Some(InitialState::Master) {
            255
        } else {
            100
        });
    inst.initial_state = raw.state.unwrap_or(if inst.priority == 255 {
        InitialState::Master
    } else {
        InitialState::Backup
    });

    inst.strict = raw.strict.unwrap_or(config.global.vrrp_strict);
    // keepalived 2.2.7 skips with the global keyword even where the instance says off.
    inst.skip_check_adv_addr |= config.global.skip_check_adv_addr;
    if let Some(kind) = raw.auth_type {
        if inst.strict {
            ctx.warn(
                loc,
                format!("({name}) Strict mode does not support authentication. Ignoring."),
            );
        } else if inst.version == VrrpVersion::V3 {
            ctx.warn(
                loc,
                format!("({name}) VRRP version 3 does not support authentication. Ignoring"),
            );
        } else if raw.auth_pass.as_deref().is_none_or(str::is_empty) {
            ctx.warn(
                loc,
                format!("({name}) Authentication specified but no password given. Ignoring"),
            );
        } else {
            if kind == AuthType::Ah
                && inst.initial_state == InitialState::Master
                && inst.priority != 255
            {
                ctx.warn(loc, format!("({name}) Initial state master is incompatible with AH authentication - clearing"));
                inst.initial_state = InitialState::Backup;
            }
            inst.auth = Some(Auth {
                kind,
                pass: Secret::new(raw.auth_pass.clone().unwrap_or_default()),
            });
        }
    }
    // RFC 3768/5798: the MASTER at start is the address owner and only it.
    if inst.strict && (inst.initial_state == InitialState::Master) != (inst.priority == 255) {
        ctx.warn(
            loc,
            format!("({name}) State MASTER must match being address owner"),
        );
        inst.initial_state = if inst.priority == 255 {
            InitialState::Master
        } else {
            InitialState::Backup
        };
    }
    inst.interface = raw.interface.clone();
    if inst.interface.is_none() && (inst.src_ip.is_none() || inst.unicast_peers.is_empty()) {
        ctx.error(
            loc,
            format!("({name}) an interface is needed (or unicast_src_ip and unicast_peer)"),
        );
        return None;
    }
    if raw.unicast_keyword && inst.unicast_peers.is_empty() {
        ctx.warn(loc, format!("({name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration."));
    }
    accept_mode(ctx, loc, &name, &raw, &mut inst);
    // keepalived 2.2.7: the first VIP of a multicast IPv6 instance should be link-local (RFC
    // 5798 section 5.2.9); only strict mode makes it a configuration error.
    if ipv6
        && inst.strict
        && inst.unicast_peers.is_empty()
        && inst.vips.first().is_some_and(
            |v| !matches!(v.addr, std::net::IpAddr::V6(a) if a.is_unicast_link_local()),
        )
    {
        ctx.warn(
            loc,
            format!("({name}) the first IPv6 VIP address must be link local"),
        );
    }
    inst.check_unicast_src = !inst.unicast_peers.is_empty()
        && (raw.check_unicast_src || config.global.check_unicast_src);
    match raw.unicast_ttl.clone() {
        // keepalived resets the TTL to 0 rather than to 255 here, so its multicast adverts
        // never leave the host (checked with tcpdump): the peers never hear it and take over.
        Some((_, ttl_loc)) if inst.unicast_peers.is_empty() => ctx.error(
            &ttl_loc,
            format!(
                "({name}) keepalived would warn 'Cannot use unicast_ttl without unicast peers' \
                 and send its multicast adverts with TTL 0, so they never leave this host; \
                 hactl-agent does not support 'unicast_ttl' without unicast_peer; remove it \
                 or run keepalived on this host"
            ),
        ),
        Some((0, ttl_loc)) => ctx.error(
            &ttl_loc,
            format!(
                "({name}) keepalived would send its unicast adverts with TTL 0; hactl-agent \
                 does not support 'unicast_ttl 0' (the kernel sets TTLs of 1 to 255); run \
                 keepalived on this host"
            ),
        ),
        Some((ttl, _)) => inst.unicast_ttl = Some(ttl),
        None => {}
    }
    inst.nopreempt = raw.nopreempt;
    inst.preempt_delay = raw.preempt_delay;
    if inst.strict && !inst.preempt_delay.is_zero() {
        ctx.warn(
            loc,
            format!("({name}) preempt_delay is incompatible with strict mode - resetting"),
        );
        inst.preempt_delay = Duration::ZERO;
    }
    if inst.priority == 255 && inst.nopreempt {
        ctx.warn(
            loc,
            format!("({name}) nopreempt is incompatible with priority 255. resetting nopreempt"),
        );
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
        ctx.warn(
            loc,
            format!("({name}) preempt_delay is incompatible with nopreempt mode - resetting"),
        );
        inst.preempt_delay = Duration::ZERO;
    }
    if inst.strict {
        strict_lower_prio(ctx, loc, &name, &raw, &mut inst);
    }
    if let Some(d) = raw.advert_int {
        inst.advert_int = advert_int(ctx, loc, &name, d, inst.version);
    }
    inst.track_scripts.retain(|t| {
        let known = config.scripts.iter().any(|s| s.name == t.name);
        if !known {
            ctx.warn(
                loc,
                format!("({name}) track script {} not found, ignoring...", t.name),
            );
        }
        known
    });
    inst.track_processes.retain(|t| {
        let known = config.track_processes.iter().any(|p| p.name == t.name);
        if !known {
            ctx.warn(
                loc,
                format!("({name}) track process {} not found, ignoring...", t.name),
            );
        }
        known
    });
    inst.track_files.retain(|t| {
        let known = config.track_files.iter().any(|f| f.name == t.name);
        if !known {
            ctx.warn(
                loc,
                format!("({name}) track file {} not found, ignoring...", t.name),
            );
        }
        known
    });
    vmac(ctx, loc, &name, &raw, &mut inst, config)?;
    garp_extra_if(&raw, &mut inst, config);
    Some(inst)
}

/// `garp_extra_if`, as keepalived 2.2.7's `vrrp_complete_instance` settles it: unset in the
/// instance, the global `vrrp_garp_extra_if` (and its `all`) applies; it is then kept only
/// if some address is on another interface than the instance's own (its VMAC with
/// `use_vmac`: addresses of the other family stay on the base interface) and `all` is given.
/// keepalived also keeps it for addresses on VMACs other than the instance's (per-address
/// `use_vmac`, refused by the agent), and without `all` sends only on those: with the
/// addresses the agent supports, that is nothing.
fn garp_extra_if(raw: &Raw, inst: &mut Instance, config: &Config) {
    let (delay, all) = match raw.garp_extra_if {
        Some(d) => (d, raw.garp_extra_if_all),
        None => (
            config.global.garp_extra_if,
            raw.garp_extra_if_all || config.global.garp_extra_if_all,
        ),
    };
    let own = inst.interface.as_deref();
    let ipv6 = inst.ipv6();
    let vmac = inst.vmac.is_some();
    let other_if = inst.vips.iter().chain(&inst.excluded_vips).any(|v| {
        let on_own = v.dev.is_none() || v.dev.as_deref() == own;
        !on_own || (vmac && v.addr.is_ipv6() != ipv6)
    });
    inst.garp.extra_if = (delay > 0 && all && other_if).then(|| Duration::from_secs(delay.into()));
}

/// `use_vmac` and `vmac_xmit_base`, with keepalived's corrections (`vrrp_end_handler`, then
/// `vrrp_complete_instance`). `None`: refused.
fn vmac(
    ctx: &mut Ctx,
    loc: &Location,
    name: &str,
    raw: &Raw,
    inst: &mut Instance,
    config: &Config,
) -> Option<()> {
    let mut xmit_base = raw.xmit_base;
    let mut on = raw.vmac;
    if on && raw.unicast_keyword {
        if inst.interface.is_none() {
            ctx.warn(
                loc,
                format!(
                    "({name}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac"
                ),
            );
            on = false;
        } else if !xmit_base {
            ctx.warn(
                loc,
                format!("({name}) unicast with use_vmac requires vmac_xmit_base - setting"),
            );
            xmit_base = true;
        }
    }
    if !on {
        if xmit_base {
            ctx.warn(
                loc,
                format!("({name}) vmac_xmit_base is only valid with a vmac"),
            );
        }
        return Some(());
    }
    if inst.ipv6() {
        ctx.error(
            loc,
            format!(
                "({name}) keepalived would create a macvlan interface with the IPv6 VRRP virtual \
                 MAC (00:00:5e:00:02:VRID), give it a link-local address and send the adverts \
                 from it; hactl-agent does not support 'use_vmac' on an IPv6 instance; run \
                 keepalived on this host"
            ),
        );
        return None;
    }
    let mut name_given = raw.vmac_name.clone().map(|(n, _)| n);
    if let Some(n) = &name_given {
        if let Some(other) = config
            .instances
            .iter()
            .find(|o| o.vmac.as_ref().and_then(|v| v.name.as_deref()) == Some(n.as_str()))
        {
            ctx.warn(
                loc,
                format!(
                    "({name}) VRRP instance {} is already using {n} - ignoring name",
                    other.name
                ),
            );
            name_given = None;
        }
    }
    if inst.strict && xmit_base {
        ctx.warn(
            loc,
            format!("({name}) xmit_base is incompatible with strict mode - resetting"),
        );
        xmit_base = false;
    }
    if inst.promote_secondaries {
        ctx.warn(
            loc,
            format!("({name}) promote_secondaries is automatically set for vmacs - ignoring"),
        );
        inst.promote_secondaries = false;
    }
    inst.vmac = Some(Vmac {
        name: name_given,
        xmit_base,
    });
    Some(())
}

/// Accept mode: on unless `no_accept`, off by default in strict mode, where VRRPv2 cannot
/// have it (RFC 3768 has no accept mode); always on for the address owner, for which
/// keepalived installs no drop rules.
fn accept_mode(ctx: &mut Ctx, loc: &Location, name: &str, raw: &Raw, inst: &mut Instance) {
    inst.accept = raw.accept.unwrap_or(!inst.strict);
    if inst.strict && inst.accept && inst.version == VrrpVersion::V2 {
        ctx.warn(
            loc,
            format!(
                "({name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"
            ),
        );
        inst.accept = false;
    }
    if inst.priority == 255 {
        inst.accept = true;
    }
}

/// Strict mode: no repeated lower-priority GARPs, no advert in answer to a lower priority
/// and none before yielding to a higher one. keepalived warns only about values set in the
/// instance itself; inherited global ones are reset silently (checked with `keepalived -d`).
fn strict_lower_prio(ctx: &mut Ctx, loc: &Location, name: &str, raw: &Raw, inst: &mut Instance) {
    if raw.lower_prio_repeat_set {
        ctx.warn(
            loc,
            format!("({name}) Strict mode requires no repeat garps. resetting"),
        );
    }
    inst.garp.lower_prio_repeat = 0;
    if raw.lower_prio_delay_set {
        ctx.warn(
            loc,
            format!("({name}) Strict mode requires no repeat garp delay. resetting"),
        );
    }
    inst.garp.lower_prio_delay = Duration::ZERO;
    if raw.lower_prio_no_advert == Some(false) {
        ctx.warn(
            loc,
            format!("({name}) Strict mode requires no lower priority advert. resetting"),
        );
    }
    inst.lower_prio_no_advert = true;
    if raw.higher_prio_send_advert == Some(true) {
        ctx.warn(
            loc,
            format!("({name}) strict mode requires higher_prio_send_advert to be clear. resetting"),
        );
    }
    inst.higher_prio_send_advert = false;
}

/// VRRPv2 counts whole seconds (max 255), VRRPv3 centiseconds (max 40.95 s); keepalived rounds.
fn advert_int(
    ctx: &mut Ctx,
    loc: &Location,
    name: &str,
    d: Duration,
    version: VrrpVersion,
) -> Duration {
    let (unit, max) = match version {
        VrrpVersion::V2 => (Duration::from_secs(1), Duration::from_secs(255)),
        VrrpVersion::V3 => (Duration::from_millis(10), Duration::from_millis(40_950)),
    };
    if d > max {
        ctx.warn(
            loc,
            format!(
                "({name}) advertisement interval {:.2}s is out of range. Setting to {:.2}s",
                d.as_secs_f64(),
                max.as_secs_f64()
            ),
        );
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
    ctx.warn(
        loc,
        format!(
            "({name}) {}",
            rule.replace("{}", &d.as_secs_f64().to_string())
        ),
    );
    let rounded = (us + unit_us / 2) / unit_us * unit_us;
    let rounded = u64::try_from(rounded.max(unit_us)).unwrap_or(u64::MAX);
    Duration::from_micros(rounded)
}
