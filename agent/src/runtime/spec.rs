//! From the typed keepalived.conf to what one running instance needs: the state machine's
//! [`Params`], the wire settings, VIPs, tracked objects with resolved weights, and notify
//! scripts.
//!
//! Pure: no sockets, no clock. A spec compares equal to another exactly when a reload can keep
//! the running instance (and its mastership) untouched, so everything the instance task uses
//! is in here, including the definitions of the scripts and files it tracks.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{self, Config, Instance, TrackFileInit, VrrpVersion};
use crate::fsm::{InitialState, Params, Preempt};
use crate::network::route::{KernelRoute, KernelRule, RouteMode};
use crate::notify::NotifyScripts;
use crate::packet::{AuthConfig, Version};
use crate::track::{RunAs, ScriptCommand, ScriptConfig, TrackError};

/// The hop limit Linux gives unicast IPv6 packets by default (`net.ipv6.conf.*.hop_limit`):
/// keepalived sets none for IPv6 unicast adverts unless `unicast_ttl` is given.
const IPV6_DEFAULT_HOP_LIMIT: u8 = 64;

/// A config the runtime cannot run, naming the instance and the config line.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error(
        "{location}: vrrp_instance {name}: no interface (unicast without interface is not supported)"
    )]
    NoInterface {
        name: String,
        location: config::Location,
    },
    #[error("{location}: vrrp_instance {name}: auth_type AH is not supported")]
    AhUnsupported {
        name: String,
        location: config::Location,
    },
    #[error("{location}: vrrp_instance {name}: tracks unknown {what} {object}")]
    UnknownTrack {
        name: String,
        location: config::Location,
        what: &'static str,
        object: String,
    },
    #[error("{location}: vrrp_instance {name}: script {script}: {source}")]
    Script {
        name: String,
        location: config::Location,
        script: String,
        #[source]
        source: TrackError,
    },
}

/// One VIP as configured, its interface still by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipSpec {
    pub addr: IpAddr,
    pub prefix: u8,
    pub dev: String,
    pub brd: Option<Ipv4Addr>,
    pub label: Option<String>,
    pub scope: Option<String>,
    /// Its deletion by someone else counts (see [`crate::network::route::Deleted`]).
    pub tracked: bool,
    /// `use_vmac`: it goes on the instance's VMAC (its `dev` was the instance's interface or
    /// none, and it is of the instance's family), whose name is known at start.
    pub on_vmac: bool,
}

/// One object an instance tracks, with the weight that applies in this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackSpec {
    Script {
        script: ScriptConfig,
        weight: i32,
        reverse: bool,
    },
    File {
        name: String,
        path: PathBuf,
        init: Option<TrackFileInit>,
        weight: i32,
        reverse: bool,
    },
    Interface {
        name: String,
        weight: i32,
        reverse: bool,
    },
    Process {
        process: config::TrackProcess,
        weight: i32,
        reverse: bool,
    },
}

/// Everything one instance task runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSpec {
    pub name: String,
    pub ifname: String,
    pub vrid: u8,
    /// The state machine's parameters; `primary_address` is filled in at start from the
    /// interface (or `mcast_src_ip`).
    pub params: Params,
    pub auth: AuthConfig,
    pub vips: Vec<VipSpec>,
    /// `virtual_ipaddress_excluded`: added and removed with the VIPs, not in adverts.
    pub excluded_vips: Vec<VipSpec>,
    /// Multicast group adverts go to and the socket joins (unused with unicast peers):
    /// `mcast_dst_ip`, else `vrrp_mcast_group4` (`vrrp_mcast_group6` for IPv6).
    pub group: IpAddr,
    /// VRRPv3 over IPv6: an IPv6 socket, the link-local address as source, unsolicited NAs.
    pub ipv6: bool,
    pub unicast_peers: Vec<config::UnicastPeer>,
    /// Drop unicast adverts from non-peers and outside a peer's TTL range.
    pub check_unicast_src: bool,
    /// TTL of unicast adverts (`unicast_ttl`, default 255; for IPv6 the kernel's default
    /// hop limit, 64, as keepalived leaves it); multicast always uses 255.
    pub unicast_ttl: u8,
    pub src_ip: Option<IpAddr>,
    pub track: Vec<TrackSpec>,
    pub notify: NotifyScripts,
    /// `vrrp_garp_interval` (`vrrp_gna_interval` for IPv6): pause between gratuitous ARP
    /// (unsolicited NA) rounds.
    pub garp_interval: Duration,
    /// The `vrrp_sync_group` this instance belongs to.
    pub sync_group: Option<String>,
    /// `virtual_routes`, installed as MASTER after the addresses.
    pub routes: Vec<RouteSpec>,
    /// `virtual_rules`, installed as MASTER after the routes.
    pub rules: Vec<RuleSpec>,
    /// No accept mode (`no_accept`, strict mode): as MASTER, drop packets to the VIPs.
    pub no_accept: bool,
    /// `skip_check_adv_addr`: the current master's adverts skip the address check.
    pub skip_check_adv_addr: bool,
    /// `dont_track_primary`: `ifname` going down is no FAULT.
    pub dont_track_primary: bool,
    /// `promote_secondaries` on `ifname` (set by the daemon, not the instance task).
    pub promote_secondaries: bool,
    /// `use_vmac`: the VMAC to make at start on `ifname`.
    pub vmac: Option<VmacSpec>,
}

/// `use_vmac`, with the global `vmac_prefix` and the names other instances give their VMACs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacSpec {
    pub name: Option<String>,
    pub prefix: String,
    pub xmit_base: bool,
    pub taken: Vec<String>,
}

/// A route as configured, its interface still by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// The config entry, for logs.
    pub text: String,
    /// `oif` is filled in from `dev` at start.
    pub route: KernelRoute,
    pub dev: Option<String>,
    /// Its deletion by someone else sends a MASTER to BACKUP (a static one is put back).
    pub tracked: bool,
}

/// A policy routing rule as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub text: String,
    pub rule: KernelRule,
}

/// `static_ipaddress`, `static_routes`, `static_rules`: set at start whatever the VRRP
/// state, removed at stop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticSpec {
    pub addresses: Vec<VipSpec>,
    pub routes: Vec<RouteSpec>,
    pub rules: Vec<RuleSpec>,
}

fn route_spec(r: &config::Route) -> RouteSpec {
    RouteSpec {
        text: r.text.clone(),
        route: KernelRoute {
            dst: r.dst,
            dst_len: r.dst_len,
            via: r.via,
            pref_src: r.src,
            oif: None,
            table: r.table,
            metric: r.metric,
            scope: r.scope.unwrap_or(0),
            protocol: r.protocol,
            kind: match r.kind {
                config::RouteKind::Unicast => 1,
                config::RouteKind::Blackhole => 6,
                config::RouteKind::Unreachable => 7,
                config::RouteKind::Prohibit => 8,
                config::RouteKind::Throw => 9,
            },
            onlink: r.onlink,
            mode: match r.mode {
                config::RouteMode::Prepend => RouteMode::Prepend,
                config::RouteMode::Add => RouteMode::Add,
                config::RouteMode::Append => RouteMode::Append,
            },
        },
        dev: r.dev.clone(),
        tracked: r.tracked,
    }
}

fn rule_spec(r: &config::Rule) -> RuleSpec {
    let (action, table) = match r.action {
        config::RuleAction::Table(t) => (1, t),
        config::RuleAction::Blackhole => (6, 0),
        config::RuleAction::Unreachable => (7, 0),
        config::RuleAction::Prohibit => (8, 0),
    };
    RuleSpec {
        text: r.text.clone(),
        rule: KernelRule {
            from: r.from,
            to: r.to,
            action,
            table,
            priority: r.priority,
            iif: r.iif.clone(),
            oif: r.oif.clone(),
            invert: r.invert,
            protocol: r.tracked.then_some(crate::config::RTPROT_KEEPALIVED),
        },
    }
}

/// The static addresses, routes and rules of `config`.
pub fn statics(config: &Config) -> StaticSpec {
    StaticSpec {
        addresses: config
            .static_addresses
            .iter()
            .map(|v| VipSpec {
                addr: v.addr,
                prefix: v.prefix,
                dev: v.dev.clone().unwrap_or_default(),
                brd: v.brd,
                label: v.label.clone(),
                scope: v.scope.clone(),
                tracked: !v.no_track,
                on_vmac: false,
            })
            .collect(),
        routes: config.static_routes.iter().map(route_spec).collect(),
        rules: config.static_rules.iter().map(rule_spec).collect(),
    }
}

/// A `vrrp_sync_group`'s own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    pub name: String,
    /// The group's `notify_*` scripts (`notify` gets `GROUP name STATE 0`).
    pub notify: NotifyScripts,
}

/// What one runtime task runs: an instance, or the members of a sync group together. Equal
/// units mean a reload keeps the task (and its mastership) untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSpec {
    pub group: Option<GroupSpec>,
    /// In the group's member order.
    pub members: Vec<InstanceSpec>,
}

/// Groups the instances of `config` into units: one per sync group (members in the group's
/// order), one per instance outside any group (in config order).
pub fn units(config: &Config) -> Result<Vec<UnitSpec>, SpecError> {
    let specs = build(config)?;
    let mut out: Vec<UnitSpec> = Vec::new();
    for spec in &specs {
        let Some(gname) = &spec.sync_group else {
            out.push(UnitSpec {
                group: None,
                members: vec![spec.clone()],
            });
            continue;
        };
        if out
            .iter()
            .any(|u| u.group.as_ref().is_some_and(|g| &g.name == gname))
        {
            continue;
        }
        let Some(g) = config.sync_groups.iter().find(|g| &g.name == gname) else {
            continue;
        };
        let members = g
            .members
            .iter()
            .filter_map(|m| specs.iter().find(|s| &s.name == m).cloned())
            .collect();
        out.push(UnitSpec {
            group: Some(GroupSpec {
                name: g.name.clone(),
                notify: notify_scripts(&g.notify),
            }),
            members,
        });
    }
    Ok(out)
}

impl InstanceSpec {
    /// The VIPs as the advert lists them.
    pub fn vip_addrs(&self) -> Vec<IpAddr> {
        self.vips.iter().map(|v| v.addr).collect()
    }

    /// Whether adverts go to unicast peers rather than the multicast group.
    pub fn unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }

    /// The peers as the receive checks take them.
    pub fn packet_peers(&self) -> Vec<crate::packet::UnicastPeer> {
        self.unicast_peers
            .iter()
            .map(|p| crate::packet::UnicastPeer {
                address: p.addr,
                min_ttl: p.min_ttl,
                max_ttl: p.max_ttl,
            })
            .collect()
    }
}

/// Builds the spec of every instance in `config`, in config order.
pub fn build(config: &Config) -> Result<Vec<InstanceSpec>, SpecError> {
    config
        .instances
        .iter()
        .map(|i| instance(config, i))
        .collect()
}

fn instance(config: &Config, inst: &Instance) -> Result<InstanceSpec, SpecError> {
    let err_ctx = || (inst.name.clone(), inst.location.clone());
    let Some(ifname) = inst.interface.clone() else {
        let (name, location) = err_ctx();
        return Err(SpecError::NoInterface { name, location });
    };
    let version = match inst.version {
        VrrpVersion::V2 => Version::V2,
        VrrpVersion::V3 => Version::V3,
    };
    let auth = match (&inst.auth, version) {
        (Some(a), Version::V2) if a.kind == config::AuthType::Pass => {
            AuthConfig::password(a.pass.expose())
        }
        (Some(_), Version::V2) => {
            let (name, location) = err_ctx();
            return Err(SpecError::AhUnsupported { name, location });
        }
        _ => AuthConfig::None,
    };
    let mut params = Params::new(
        version,
        inst.priority,
        inst.advert_int,
        if inst.ipv6() {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        },
    );
    params.initial_state = match inst.initial_state {
        config::InitialState::Master => InitialState::Master,
        config::InitialState::Backup => InitialState::Backup,
    };
    params.preempt = if inst.nopreempt {
        Preempt::No
    } else if !inst.preempt_delay.is_zero() {
        Preempt::Delay(inst.preempt_delay)
    } else {
        Preempt::Yes
    };
    params.garp = inst.garp;
    params.lower_prio_no_advert = inst.lower_prio_no_advert;
    params.higher_prio_send_advert = inst.higher_prio_send_advert;
    let ipv6 = inst.ipv6();
    let vip_spec = |v: &config::VirtualIp| VipSpec {
        addr: v.addr,
        prefix: v.prefix,
        dev: v.dev.clone().unwrap_or_else(|| ifname.clone()),
        brd: v.brd,
        label: v.label.clone(),
        scope: v.scope.clone(),
        tracked: !v.no_track,
        // keepalived: an address with no `dev` or the instance's own goes on the VMAC if it
        // is of the instance's family (`vrrp_complete_instance`).
        on_vmac: inst.vmac.is_some()
            && v.dev.as_ref().is_none_or(|d| *d == ifname)
            && v.addr.is_ipv6() == ipv6,
    };
    let vips = inst.vips.iter().map(vip_spec).collect();
    let excluded_vips = inst.excluded_vips.iter().map(vip_spec).collect();
    Ok(InstanceSpec {
        name: inst.name.clone(),
        ifname,
        vrid: inst.vrid,
        params,
        auth,
        vips,
        excluded_vips,
        group: inst.mcast_dst.unwrap_or(if ipv6 {
            IpAddr::V6(config.global.mcast_group6)
        } else {
            IpAddr::V4(config.global.mcast_group4)
        }),
        ipv6,
        unicast_peers: inst.unicast_peers.clone(),
        check_unicast_src: inst.check_unicast_src,
        unicast_ttl: inst.unicast_ttl.unwrap_or(if ipv6 {
            IPV6_DEFAULT_HOP_LIMIT
        } else {
            crate::packet::VRRP_TTL
        }),
        src_ip: inst.src_ip,
        track: tracks(config, inst)?,
        notify: notify_scripts(&inst.notify),
        garp_interval: if ipv6 {
            config.global.gna_interval
        } else {
            config.global.garp_interval
        },
        sync_group: config
            .sync_groups
            .iter()
            .find(|g| g.members.contains(&inst.name))
            .map(|g| g.name.clone()),
        routes: inst.routes.iter().map(route_spec).collect(),
        rules: inst.rules.iter().map(rule_spec).collect(),
        no_accept: !inst.accept,
        skip_check_adv_addr: inst.skip_check_adv_addr,
        dont_track_primary: inst.dont_track_primary,
        promote_secondaries: inst.promote_secondaries,
        vmac: inst.vmac.as_ref().map(|v| VmacSpec {
            name: v.name.clone(),
            prefix: config
                .global
                .vmac_prefix
                .clone()
                .unwrap_or_else(|| "vrrp".into()),
            xmit_base: v.xmit_base,
            taken: config
                .instances
                .iter()
                .filter(|o| o.name != inst.name)
                .filter_map(|o| o.vmac.as_ref()?.name.clone())
                .collect(),
        }),
    })
}

fn tracks(config: &Config, inst: &Instance) -> Result<Vec<TrackSpec>, SpecError> {
    let mut out = own_tracks(config, inst)?;
    // A sync group's own track_* entries apply to every member with their weights
    // (keepalived `sync_group_tracking_init`; validation cleared them where a member is an
    // address owner).
    if let Some(g) = config
        .sync_groups
        .iter()
        .find(|g| g.members.contains(&inst.name))
    {
        let group_view = Instance {
            track_scripts: g.track_scripts.clone(),
            track_files: g.track_files.clone(),
            track_interfaces: g.track_interfaces.clone(),
            ..inst.clone()
        };
        out.extend(own_tracks(config, &group_view)?);
    }
    // keepalived tracks the interface of every tracked route and rule: down means FAULT.
    let devs = inst
        .routes
        .iter()
        .filter(|r| r.tracked)
        .filter_map(|r| r.dev.clone())
        .chain(
            inst.rules
                .iter()
                .filter(|r| r.tracked)
                .flat_map(|r| r.iif.iter().chain(&r.oif).cloned()),
        );
    for name in devs {
        let t = TrackSpec::Interface {
            name,
            weight: 0,
            reverse: false,
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

fn own_tracks(config: &Config, inst: &Instance) -> Result<Vec<TrackSpec>, SpecError> {
    let unknown = |what: &'static str, object: &str| SpecError::UnknownTrack {
        name: inst.name.clone(),
        location: inst.location.clone(),
        what,
        object: object.to_owned(),
    };
    let mut out = Vec::new();
    for r in &inst.track_scripts {
        let s = config
            .scripts
            .iter()
            .find(|s| s.name == r.name)
            .ok_or_else(|| unknown("vrrp_script", &r.name))?;
        let script = script_config(config, s).map_err(|source| SpecError::Script {
            name: inst.name.clone(),
            location: inst.location.clone(),
            script: s.name.clone(),
            source,
        })?;
        // An entry's own `weight` replaces the script's weight and its `reverse`.
        let (weight, reverse) = match r.weight {
            Some(w) => (w, r.reverse),
            None => (s.weight, s.weight_reverse || r.reverse),
        };
        out.push(TrackSpec::Script {
            script,
            weight,
            reverse,
        });
    }
    for r in &inst.track_files {
        let f = config
            .track_files
            .iter()
            .find(|f| f.name == r.name)
            .ok_or_else(|| unknown("track_file", &r.name))?;
        let (weight, reverse) = match r.weight {
            Some(w) => (w, r.reverse),
            None => (f.weight, f.weight_reverse || r.reverse),
        };
        out.push(TrackSpec::File {
            name: f.name.clone(),
            path: f.path.clone(),
            init: f.init,
            weight,
            reverse,
        });
    }
    for r in &inst.track_processes {
        let p = config
            .track_processes
            .iter()
            .find(|p| p.name == r.name)
            .ok_or_else(|| unknown("vrrp_track_process", &r.name))?;
        let (weight, reverse) = match r.weight {
            Some(w) => (w, r.reverse),
            None => (p.weight, p.weight_reverse || r.reverse),
        };
        out.push(TrackSpec::Process {
            process: p.clone(),
            weight,
            reverse,
        });
    }
    for r in &inst.track_interfaces {
        out.push(TrackSpec::Interface {
            name: r.name.clone(),
            weight: r.weight.unwrap_or(0),
            reverse: r.reverse,
        });
    }
    Ok(out)
}

/// A `vrrp_script` block as the runner takes it; `user`, else `script_user`, runs it.
pub fn script_config(config: &Config, s: &config::VrrpScript) -> Result<ScriptConfig, TrackError> {
    let argv: Vec<OsString> = s.argv.iter().map(OsString::from).collect();
    let mut command = ScriptCommand::from_argv(argv).ok_or(crate::track::SplitError::Empty)?;
    if let Some(user) = s.user.as_ref().or(config.global.script_user.as_ref()) {
        command = command.with_run_as(RunAs::lookup(&user.user, user.group.as_deref())?);
    }
    let mut sc = ScriptConfig::new(s.name.clone(), command);
    sc.interval = s.interval;
    sc.timeout = s.timeout;
    sc.rise = s.rise;
    sc.fall = s.fall;
    sc.init_fail = s.init_fail;
    Ok(sc)
}

/// The notify FIFOs of `config` (`notify_fifo`, then `vrrp_notify_fifo`), users resolved.
pub fn fifos(config: &Config) -> Result<Vec<crate::notify::fifo::FifoSpec>, TrackError> {
    let mut out = Vec::new();
    for f in [&config.global.notify_fifo, &config.global.vrrp_notify_fifo] {
        let Some(path) = &f.path else { continue };
        let run_as = |u: &Option<config::ScriptUser>| {
            u.as_ref()
                .map(|u| RunAs::lookup(&u.user, u.group.as_deref()))
                .transpose()
        };
        let script = match &f.script {
            Some(argv) => {
                let cmd = ScriptCommand::from_argv(argv.iter().map(OsString::from).collect())
                    .ok_or(crate::track::SplitError::Empty)?;
                Some(match run_as(&f.script_user)? {
                    Some(r) => cmd.with_run_as(r),
                    None => cmd,
                })
            }
            None => None,
        };
        out.push(crate::notify::fifo::FifoSpec {
            path: path.clone(),
            owner: run_as(&f.owner)?,
            script,
        });
    }
    Ok(out)
}

fn notify_scripts(n: &config::Notify) -> NotifyScripts {
    let cmd = |argv: &Option<Vec<String>>| {
        argv.as_ref()
            .and_then(|a| ScriptCommand::from_argv(a.iter().map(OsString::from).collect()))
    };
    NotifyScripts {
        master: cmd(&n.master),
        backup: cmd(&n.backup),
        fault: cmd(&n.fault),
        stop: cmd(&n.stop),
        deleted: None,
        generic: cmd(&n.any),
        notify_deleted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "global_defs { vrrp_mcast_group4 224.0.100.19 }
vrrp_script chk_down {
    script \"/bin/test ! -f /tmp/down\"
    interval 1
    weight -15
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 14
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 571f87b2
    }
    virtual_ipaddress {
        198.51.100.100
    }
    track_script {
        chk_down
    }
    track_interface {
        eth1 weight -20
    }
    notify_master \"/etc/keepalived/notify.sh master\"
}
vrrp_instance VI_r2 {
    state BACKUP
    interface eth0
    virtual_router_id 24
    priority 90
    advert_int 1
    nopreempt
    virtual_ipaddress {
        198.51.100.200/24 dev eth1
    }
    track_script {
        chk_down weight 5 reverse
    }
}
";

    fn seed() -> Vec<InstanceSpec> {
        let parsed = config::parse_str(SEED, "seed.conf").expect("seed parses");
        build(&parsed.config).expect("seed builds")
    }

    #[test]
    fn seed_instance_maps_to_params_wire_and_tracking() {
        let specs = seed();
        let vi1 = &specs[0];
        assert_eq!(vi1.name, "VI_1");
        assert_eq!(vi1.ifname, "eth0");
        assert_eq!(vi1.vrid, 14);
        assert_eq!(vi1.params.version, Version::V2);
        assert_eq!(vi1.params.priority, 100);
        assert_eq!(vi1.params.initial_state, InitialState::Master);
        assert_eq!(vi1.params.advert_interval, Duration::from_secs(1));
        assert_eq!(vi1.params.preempt, Preempt::Yes);
        assert_eq!(vi1.auth, AuthConfig::password("571f87b2"));
        assert_eq!(vi1.group, IpAddr::V4(Ipv4Addr::new(224, 0, 100, 19)));
        assert_eq!(
            vi1.vip_addrs(),
            vec![IpAddr::V4(Ipv4Addr::new(198, 51, 100, 100))]
        );
        assert_eq!(vi1.vips[0].prefix, 32);
        assert_eq!(vi1.vips[0].dev, "eth0");
        let TrackSpec::Script {
            script,
            weight,
            reverse,
        } = &vi1.track[0]
        else {
            panic!("first track is the script: {:?}", vi1.track);
        };
        assert_eq!(
            (script.name.as_str(), *weight, *reverse),
            ("chk_down", -15, false)
        );
        assert_eq!(script.command.display(), "/bin/test ! -f /tmp/down");
        assert_eq!(
            vi1.track[1],
            TrackSpec::Interface {
                name: "eth1".into(),
                weight: -20,
                reverse: false
            }
        );
        let master = vi1.notify.master.as_ref().expect("notify_master");
        assert_eq!(master.display(), "/etc/keepalived/notify.sh master");
    }

    #[test]
    fn entry_weight_overrides_script_weight_and_nopreempt_maps() {
        let specs = seed();
        let vi2 = &specs[1];
        assert_eq!(vi2.params.preempt, Preempt::No);
        assert_eq!(vi2.auth, AuthConfig::None);
        assert_eq!(vi2.vips[0].dev, "eth1");
        assert_eq!(vi2.vips[0].prefix, 24);
        let TrackSpec::Script {
            weight, reverse, ..
        } = &vi2.track[0]
        else {
            panic!("script track: {:?}", vi2.track);
        };
        assert_eq!((*weight, *reverse), (5, true));
    }

    /// keepalived 2.2.7: an instance without `garp_lower_prio_*` takes the global
    /// `vrrp_garp_lower_prio_*`, else the global `vrrp_garp_master_*`, never its own
    /// `garp_master_*`; the advert switches default to the global ones.
    #[test]
    fn lower_priority_garps_and_advert_switches_follow_the_globals() {
        let text = "global_defs {\n vrrp_garp_master_repeat 4\n vrrp_garp_master_delay 7\n \
                    vrrp_lower_prio_no_advert\n}\n\
                    vrrp_instance A {\n interface eth0\n virtual_router_id 1\n \
                    garp_master_repeat 2\n garp_master_delay 1\n \
                    virtual_ipaddress {\n  198.51.100.1\n }\n}\n\
                    vrrp_instance B {\n interface eth0\n virtual_router_id 2\n \
                    garp_lower_prio_repeat 0\n garp_lower_prio_delay 3\n \
                    lower_prio_no_advert off\n higher_prio_send_advert\n \
                    virtual_ipaddress {\n  198.51.100.2\n }\n}\n";
        let parsed = config::parse_str(text, "g.conf").expect("parses");
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let specs = build(&parsed.config).expect("builds");
        let (a, b) = (&specs[0].params, &specs[1].params);
        assert_eq!((a.garp.repeat, a.garp.delay), (2, Duration::from_secs(1)));
        assert_eq!(
            (a.garp.lower_prio_repeat, a.garp.lower_prio_delay),
            (4, Duration::from_secs(7))
        );
        assert!(a.lower_prio_no_advert && !a.higher_prio_send_advert);
        assert_eq!(
            (b.garp.lower_prio_repeat, b.garp.lower_prio_delay),
            (0, Duration::from_secs(3))
        );
        assert!(!b.lower_prio_no_advert && b.higher_prio_send_advert);
    }

    #[test]
    fn sync_group_members_lose_weighted_own_tracking_and_keep_group_weights() {
        let text = format!(
            "{SEED}vrrp_sync_group G {{\n group {{\n  VI_r2\n  VI_1\n }}\n track_interface {{\n  eth9 weight -30\n }}\n}}\n"
        );
        let parsed = config::parse_str(&text, "g.conf").expect("parses");
        let messages: Vec<String> = parsed.warnings.iter().map(|d| d.message.clone()).collect();
        for want in [
            "(VI_1) ignoring eth1 tracked interface weight due to SYNC group",
            "(VI_1) ignoring tracked script chk_down with weights due to SYNC group",
            "(VI_r2) ignoring tracked script chk_down with weights due to SYNC group",
        ] {
            assert!(messages.iter().any(|m| m == want), "{want}: {messages:?}");
        }
        let specs = build(&parsed.config).expect("builds");
        assert_eq!(specs[1].sync_group.as_deref(), Some("G"));
        // VI_1: the script is gone, eth1 is a FAULT trigger, the group's eth9 keeps -30.
        assert_eq!(
            specs[0].track,
            vec![
                TrackSpec::Interface {
                    name: "eth1".into(),
                    weight: 0,
                    reverse: false
                },
                TrackSpec::Interface {
                    name: "eth9".into(),
                    weight: -30,
                    reverse: false
                }
            ]
        );
        assert_eq!(seed()[0].sync_group, None);
        let units = units(&parsed.config).expect("units");
        assert_eq!(units.len(), 1);
        let names: Vec<&str> = units[0].members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["VI_r2", "VI_1"], "the group's order");
        assert_eq!(units[0].group.as_ref().map(|g| g.name.as_str()), Some("G"));
    }

    #[test]
    fn equal_specs_mean_a_reload_keeps_the_instance() {
        let a = seed();
        let b = seed();
        assert_eq!(a, b);
        let changed = config::parse_str(&SEED.replace("priority 90", "priority 80"), "seed.conf")
            .expect("parses");
        let c = build(&changed.config).expect("builds");
        assert_eq!(a[0], c[0], "VI_1 untouched");
        assert_ne!(a[1], c[1], "VI_r2 changed");
        // Changing a tracked script's definition changes every instance that tracks it.
        let script = config::parse_str(&SEED.replace("interval 1\n", "interval 2\n"), "s.conf")
            .expect("parses");
        let d = build(&script.config).expect("builds");
        assert_ne!(a[0], d[0]);
    }
}
