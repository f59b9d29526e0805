//! A VRRP instance, or a sync group of them, as one tokio task: drives the [`Group`] of state
//! machines with monotonic time and carries out their actions on the network [`Stack`] (the
//! kernel's sockets, netlink and gratuitous ARP in the daemon, fakes in tests) and notify
//! scripts.
//!
//! The loop waits on four things at once: a command from the daemon (stop), a packet on any
//! member's socket, the machines' next timer, and a change in what the members track. Nothing
//! in it waits on a script, so adverts go out on time whatever the checks do. It does not
//! decide anything about VRRP itself: that is the state machines' job. The members of a sync
//! group share one task so that one member's transition moves the others at once, as in
//! keepalived's single-threaded scheduler.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::spec::{InstanceSpec, UnitSpec, VipSpec};
use super::tracking::Inputs;
use crate::fsm::{self, Action, AdvertInfo, Event, Group, Reason, Target};
use crate::network::firewall::{Dropped, Firewall, FirewallSettings};
use crate::network::route::{Deleted, KernelRoute, KernelRule, RouteManager};
use crate::network::{
    self, AddressIo, AddressManager, GarpIo, InterfaceAddress, NetError, Stack, Vip, VrrpIo,
    VrrpSocketConfig, addr,
};
use crate::notify::fifo::NotifyFifos;
use crate::notify::{Kind, Notifier, NotifySink};
use crate::packet::{self, Advertisement, ChecksumMode, DropReason, LocalInstance, Version};
use crate::status::{self, Shared};

/// How long `notify_stop` scripts may run at shutdown (keepalived gives them a second too).
const NOTIFY_DRAIN: Duration = Duration::from_secs(1);

/// What the daemon can ask of a running instance.
#[derive(Debug)]
pub enum Command {
    /// Leave gracefully: priority 0 advert if master, remove VIPs, notify STOP.
    Stop,
    /// Drain (true) or undrain (false) every member; `done` is answered once the priority 0
    /// advert is out and the VIPs are gone (or the timers are armed again).
    Drain {
        drain: bool,
        done: tokio::sync::oneshot::Sender<()>,
    },
}

/// What instance tasks share on this host: its network and the daemon's notify FIFOs.
#[derive(Debug, Clone)]
pub struct Host<S> {
    pub stack: S,
    pub fifos: NotifyFifos,
    /// The no_accept drop rules, shared by every instance of the daemon.
    pub firewall: std::sync::Arc<Firewall>,
}

/// How an instance starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartOptions {
    /// Remove addresses matching our VIPs first: a crashed run may have left them.
    pub cleanup_stale: bool,
    /// Start drained (the instance was drained before a reload restarted it).
    pub drained: bool,
}

/// Runs one unit (an instance, or the members of a sync group) until told to stop. Errors at
/// start are recorded in every member's status and returned; once running, I/O errors are
/// logged and the unit carries on.
pub async fn run<S: Stack>(
    unit: UnitSpec,
    inputs: Vec<Inputs>,
    deletions: broadcast::Receiver<Deleted>,
    statuses: Vec<Shared>,
    host: Host<S>,
    commands: mpsc::Receiver<Command>,
    options: StartOptions,
) -> Result<(), NetError> {
    match Unit::start(unit, inputs, deletions, statuses.clone(), host, options).await {
        Ok(unit) => {
            unit.run(commands).await;
            Ok(())
        }
        Err(e) => {
            for s in &statuses {
                status::lock(s).error = Some(e.to_string());
            }
            Err(e)
        }
    }
}

/// The I/O of one instance.
struct Member<S: Stack> {
    spec: InstanceSpec,
    ifindex: u32,
    net: S::Net,
    /// The address adverts go out from, `None` while the interface has none (FAULT, as in
    /// keepalived); fixed when `unicast_src_ip` configures it.
    source: Option<IpAddr>,
    /// The interface's address change count when `source` was last picked; `None` when the
    /// source comes from the configuration and is never picked again.
    source_picked_at: Option<u64>,
    socket: S::Vrrp,
    garp: Option<std::sync::Arc<S::Garp>>,
    garp_tasks: JoinSet<()>,
    /// `garp_extra_if`: the sender and address of each extra round's gratuitous ARPs.
    extra_garp: Vec<(std::sync::Arc<S::Garp>, IpAddr)>,
    addresses: AddressManager<S::Net>,
    /// The VIPs, listed in adverts.
    vips: Vec<Vip>,
    /// `virtual_ipaddress_excluded`: added and removed with the VIPs, never advertised.
    excluded: Vec<Vip>,
    /// The VIPs and excluded addresses without `no_track`.
    tracked_addrs: Vec<Vip>,
    vip_addrs: Vec<IpAddr>,
    /// `unicast_peer`s as the receive checks take them.
    peers: Vec<packet::UnicastPeer>,
    /// `virtual_routes` and `virtual_rules` (interfaces resolved), with what this run added.
    routes: Vec<(String, KernelRoute)>,
    rules: Vec<(String, KernelRule)>,
    /// The routes whose deletion by someone else sends this instance to BACKUP.
    tracked_routes: Vec<KernelRoute>,
    route_manager: RouteManager<S::Net>,
    /// No accept mode: the drop rules the VIPs go into while MASTER.
    firewall: Option<std::sync::Arc<Firewall>>,
    /// The VIPs and excluded addresses as the drop rules file them.
    drops: Vec<Dropped>,
    /// `use_vmac`: the VMAC made at start, deleted at stop.
    vmac: Option<network::VmacLink>,
    stack: S,
    /// Fault as last fed to the state machine, and whether a script result is awaited.
    faulted: bool,
    waiting: bool,
    status: Shared,
}

/// The running task: its members, their machines and the group's notify scripts.
struct Unit<S: Stack> {
    members: Vec<Member<S>>,
    /// Kept apart from `members` so that waiting on them and on the sockets can overlap.
    inputs: Vec<Inputs>,
    deletions: broadcast::Receiver<Deleted>,
    group: Group,
    spec: UnitSpec,
    epoch: Instant,
    started: bool,
    notifier: Notifier,
    start_drained: bool,
}

/// Where keepalived 2.2.7's `vrrp_send_vmac_update` sends a `garp_extra_if` round: the first
/// address (VIPs, then excluded addresses) on each interface other than the instance's own
/// (`own`: its VMAC with `use_vmac`), and on the VMAC too with `vmac_xmit_base` (its
/// adverts then leave by the base interface and do not refresh the virtual MAC). `dev` is
/// the interface each address goes on. The agent keeps `garp_extra_if` only with `all`
/// (see `config::complete`), so every interface counts, not only VMACs.
pub(crate) fn extra_garp_targets(
    spec: &InstanceSpec,
    own: &str,
    xmit_base: bool,
) -> Vec<(String, IpAddr)> {
    let mut out: Vec<(String, IpAddr)> = Vec::new();
    for v in spec.vips.iter().chain(&spec.excluded_vips) {
        if v.dev == own && !xmit_base {
            continue;
        }
        if out.iter().any(|(ifname, _)| *ifname == v.dev) {
            continue;
        }
        out.push((v.dev.clone(), v.addr));
    }
    out
}

pub(crate) fn vip_of(
    v: &VipSpec,
    ifindex: impl Fn(&str) -> Result<u32, NetError>,
) -> Result<Vip, NetError> {
    let mut vip = Vip::new(ifindex(&v.dev)?, v.addr, v.prefix);
    vip.broadcast = v.brd;
    vip.label = v.label.clone();
    if let Some(scope) = v
        .scope
        .as_deref()
        .and_then(|s| s.parse::<addr::Scope>().ok())
    {
        vip.scope = scope;
    }
    Ok(vip)
}

impl<S: Stack> Member<S> {
    /// Makes the VMAC (if any) and the rest; the VMAC goes again if the rest fails.
    async fn start(
        spec: InstanceSpec,
        status: Shared,
        stack: &S,
        options: StartOptions,
    ) -> Result<Self, NetError> {
        stack.ifindex(&spec.ifname)?;
        let vmac = match &spec.vmac {
            Some(v) => Some(
                stack
                    .setup_vmac(&network::VmacRequest {
                        instance: spec.name.clone(),
                        base: spec.ifname.clone(),
                        vrid: spec.vrid,
                        name: v.name.clone(),
                        prefix: v.prefix.clone(),
                        taken: v.taken.clone(),
                        ipv6: spec
                            .excluded_vips
                            .iter()
                            .any(|e| e.addr.is_ipv6() != spec.ipv6),
                    })
                    .await?,
            ),
            None => None,
        };
        let made = vmac.clone();
        let started = Self::start_on(spec, status, stack, options, vmac).await;
        if let (Err(_), Some(link)) = (&started, made) {
            if let Err(e) = stack.remove_vmac(&link).await {
                tracing::error!(vmac = %link.name, error = %e, "removing the VMAC interface");
            }
        }
        started
    }

    async fn start_on(
        mut spec: InstanceSpec,
        status: Shared,
        stack: &S,
        options: StartOptions,
        vmac: Option<network::VmacLink>,
    ) -> Result<Self, NetError> {
        let ifindex = stack.ifindex(&spec.ifname)?;
        // keepalived: the VIPs of the instance's interface live on the VMAC, adverts go out
        // (and are heard) there unless `vmac_xmit_base`, gratuitous ARPs always go out there
        // (with the virtual MAC as sender).
        let mut io_ifname = spec.ifname.clone();
        let mut garp_ifname = spec.ifname.clone();
        if let (Some(link), Some(v)) = (&vmac, &spec.vmac) {
            for vip in spec.vips.iter_mut().chain(spec.excluded_vips.iter_mut()) {
                if vip.on_vmac {
                    vip.dev = link.name.clone();
                }
            }
            if !v.xmit_base {
                io_ifname = link.name.clone();
            }
            garp_ifname = link.name.clone();
        }
        let group = (!spec.unicast()).then_some(spec.group);
        let socket = stack.open_vrrp(&VrrpSocketConfig {
            ifname: io_ifname,
            group,
            unicast_ttl: spec.unicast_ttl,
            ipv6: spec.ipv6,
        })?;
        let netlink = &stack.net();
        let resolve = |name: &str| stack.ifindex(name);
        let garp = match stack.open_garp(&garp_ifname) {
            Ok(g) => Some(std::sync::Arc::new(g)),
            Err(e) => {
                tracing::warn!(instance = %spec.name, error = %e, "no gratuitous ARP");
                None
            }
        };
        let vips = spec
            .vips
            .iter()
            .map(|v| vip_of(v, resolve))
            .collect::<Result<Vec<_>, _>>()?;
        let excluded = spec
            .excluded_vips
            .iter()
            .map(|v| vip_of(v, resolve))
            .collect::<Result<Vec<_>, _>>()?;
        let all: Vec<Vip> = vips.iter().chain(&excluded).cloned().collect();
        let extra_garp = if spec.params.garp.extra_if.is_some() {
            let xmit_base = spec.vmac.as_ref().is_some_and(|v| v.xmit_base);
            extra_garp_targets(&spec, &garp_ifname, xmit_base)
                .into_iter()
                .filter_map(|(ifname, addr)| {
                    let sender = if ifname == garp_ifname {
                        garp.clone()
                    } else {
                        match stack.open_garp(&ifname) {
                            Ok(g) => Some(std::sync::Arc::new(g)),
                            Err(e) => {
                                tracing::warn!(instance = %spec.name, interface = %ifname,
                                    error = %e, "no garp_extra_if gratuitous ARP");
                                None
                            }
                        }
                    };
                    sender.map(|s| (s, addr))
                })
                .collect()
        } else {
            Vec::new()
        };
        let tracked_addrs = all
            .iter()
            .zip(spec.vips.iter().chain(&spec.excluded_vips))
            .filter(|(_, s)| s.tracked)
            .map(|(v, _)| v.clone())
            .collect();
        if options.cleanup_stale {
            let mut ifindexes: Vec<u32> = all.iter().map(|v| v.ifindex).collect();
            ifindexes.sort_unstable();
            ifindexes.dedup();
            for index in ifindexes {
                for gone in addr::cleanup_stale(netlink, index, &all).await? {
                    tracing::warn!(
                        instance = %spec.name, addr = %gone.addr, prefix = gone.prefix_len,
                        "removed a stale VIP left by an earlier run"
                    );
                }
            }
        }
        let source = match spec.src_ip {
            Some(src) => Some(src),
            None => pick_source(None, &netlink.list(ifindex).await?, spec.ipv6, &all),
        };
        let primary = source.unwrap_or_else(|| unspecified(spec.ipv6));
        spec.params.primary_address = primary;
        if source.is_none() {
            // keepalived `initialise_vrrp_tracking_priorities`.
            tracing::info!(instance = %spec.name, interface = %spec.ifname,
                "entering FAULT state (no IPv{} address for interface)", family(spec.ipv6));
        }
        let vip_addrs = spec.vip_addrs();
        let peers = spec.packet_peers();
        let routes = resolve_routes(&spec.routes, resolve)?;
        let tracked_routes = routes
            .iter()
            .zip(&spec.routes)
            .filter(|(_, s)| s.tracked)
            .map(|((_, r), _)| r.clone())
            .collect();
        let rules = spec
            .rules
            .iter()
            .map(|r| (r.text.clone(), r.rule.clone()))
            .collect();
        tracing::info!(
            instance = %spec.name, interface = %spec.ifname, vrid = spec.vrid,
            priority = spec.params.priority, source = %primary, "instance starting"
        );
        Ok(Member {
            addresses: AddressManager::new(netlink.clone(), all),
            source_picked_at: spec.src_ip.is_none().then_some(0),
            spec,
            ifindex,
            net: netlink.clone(),
            source,
            socket,
            garp,
            garp_tasks: JoinSet::new(),
            extra_garp,
            vips,
            excluded,
            tracked_addrs,
            vip_addrs,
            peers,
            routes,
            rules,
            tracked_routes,
            route_manager: RouteManager::new(netlink.clone()),
            firewall: None,
            drops: Vec::new(),
            vmac,
            stack: stack.clone(),
            faulted: false,
            waiting: true,
            status,
        })
    }

    /// Whether `d` deleted one of this instance's addresses, or a tracked route or rule it
    /// added (keepalived `address_is_ours`, `route_is_ours`, `rule_is_ours`).
    fn lost(&self, d: &Deleted) -> bool {
        match d {
            Deleted::Address { ifindex, addr } => self
                .tracked_addrs
                .iter()
                .any(|v| v.ifindex == *ifindex && v.addr == *addr),
            Deleted::Route { .. } => self
                .tracked_routes
                .iter()
                .any(|r| self.route_manager.owns_route(r) && d.is_route(r)),
            Deleted::Rule { .. } => self.rules.iter().any(|(_, r)| {
                r.protocol.is_some() && self.route_manager.owns_rule(r) && d.is_rule(r)
            }),
        }
    }

    /// Checks a packet; the advert it carries, if it is one for this instance. `master`: the
    /// master this instance follows (its own address while MASTER).
    fn check(&self, p: &network::ReceivedPacket, master: Option<IpAddr>) -> Option<AdvertInfo> {
        let bytes = &p.bytes;
        // keepalived `skip_check_adv_addr`: adverts from the master it already accepted skip
        // the address checks (count and list; the unicast source check goes with them).
        let from_master = self.spec.skip_check_adv_addr
            && master.is_some_and(|m| {
                if self.spec.ipv6 {
                    p.src == m
                } else {
                    packet::Ipv4Header::parse(bytes).is_ok_and(|(ip, _)| IpAddr::V4(ip.source) == m)
                }
            });
        let local = LocalInstance {
            version: self.spec.params.version,
            vrid: self.spec.vrid,
            auth: self.spec.auth,
            advert_interval: self.spec.params.advert_interval,
            addresses: &self.vip_addrs,
            check_addresses: !from_master,
            v3_checksum: packet::V3Checksum::PseudoHeader,
            unicast: self.spec.unicast(),
            check_unicast_src: self.spec.check_unicast_src,
            unicast_peers: &self.peers,
        };
        let checked = match (self.spec.ipv6, p.src, p.dst) {
            (true, IpAddr::V6(src), IpAddr::V6(dst)) => {
                // Without IPV6_HOPLIMIT the packet cannot be vetted: treat it as off-link.
                packet::check_ipv6(bytes, src, dst, p.hop_limit.unwrap_or(0), &local)
            }
            (true, _, _) => Err(DropReason::NotIpv4),
            (false, _, _) => packet::check(bytes, &local),
        };
        match checked {
            Ok(r) => {
                let mut s = status::lock(&self.status);
                s.counters.adverts_received += 1;
                if r.advert.priority == 0 {
                    s.counters.priority_zero_received += 1;
                }
                drop(s);
                Some(AdvertInfo {
                    priority: r.advert.priority,
                    source: r.source,
                    advert_interval: r.advert.advert_interval(),
                })
            }
            // Other routers' VRIDs share the group and the socket: not ours to count.
            Err(DropReason::Vrid) => None,
            Err(reason) => {
                tracing::debug!(instance = %self.spec.name, %reason, "advert dropped");
                status::lock(&self.status).counters.drop(reason);
                None
            }
        }
    }

    /// The VIPs and excluded addresses as keepalived files them in its drop rules; the
    /// instance's interface is its VMAC if it has one (keepalived's `vrrp->ifp`).
    fn drop_list(&self, settings: FirewallSettings) -> Vec<Dropped> {
        let instance_if = self.vmac.as_ref().map_or(&self.spec.ifname, |l| &l.name);
        self.vips
            .iter()
            .chain(&self.excluded)
            .zip(self.spec.vips.iter().chain(&self.spec.excluded_vips))
            .map(|(v, s)| {
                Dropped::of(
                    settings,
                    v.addr,
                    v.ifindex,
                    &s.dev,
                    s.tracked,
                    instance_if,
                    self.spec.dont_track_primary,
                )
            })
            .collect()
    }

    /// keepalived adds the VIPs, then the excluded addresses, the routes and the rules
    /// (`vrrp_state_become_master`).
    async fn add_vips(&mut self) {
        let all: Vec<Vip> = self.vips.iter().chain(&self.excluded).cloned().collect();
        // keepalived sets its drop rule before the addresses, so that nothing reaches them
        // in between.
        if let Some(fw) = &self.firewall {
            match fw.drop_addresses(&self.drops).await {
                Ok(()) => {
                    tracing::info!(instance = %self.spec.name, "no accept mode: dropping packets to the VIPs")
                }
                Err(e) => {
                    tracing::error!(instance = %self.spec.name, error = %e, "setting the no_accept drop rule")
                }
            }
        }
        for vip in all {
            if let Err(e) = self.addresses.add(&vip).await {
                tracing::error!(instance = %self.spec.name, error = %e, "adding VIP");
            }
        }
        for (text, route) in &self.routes {
            match self.route_manager.add_route(route).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(instance = %self.spec.name, route = %text,
                    "route already present: left to its owner, never removed"),
                Err(e) => {
                    tracing::error!(instance = %self.spec.name, route = %text, error = %e, "adding route")
                }
            }
        }
        for (text, rule) in &self.rules {
            match self.route_manager.add_rule(rule).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(instance = %self.spec.name, rule = %text,
                    "rule already present: left to its owner, never removed"),
                Err(e) => {
                    tracing::error!(instance = %self.spec.name, rule = %text, error = %e, "adding rule")
                }
            }
        }
    }

    /// The rules, the routes, then the addresses (keepalived `vrrp_restore_interface`); only
    /// what this run added.
    async fn remove_vips(&mut self) {
        self.garp_tasks.abort_all();
        for (text, rule) in &self.rules {
            if let Err(e) = self.route_manager.remove_rule(rule).await {
                tracing::error!(instance = %self.spec.name, rule = %text, error = %e, "removing rule");
            }
        }
        for (text, route) in &self.routes {
            if let Err(e) = self.route_manager.remove_route(route).await {
                tracing::error!(instance = %self.spec.name, route = %text, error = %e, "removing route");
            }
        }
        let all: Vec<Vip> = self.vips.iter().chain(&self.excluded).cloned().collect();
        for vip in &all {
            if let Err(e) = self.addresses.remove(vip).await {
                tracing::error!(instance = %self.spec.name, error = %e, "removing VIP");
            }
        }
        if let Some(fw) = &self.firewall {
            if let Err(e) = fw.allow_addresses(&self.drops).await {
                tracing::error!(instance = %self.spec.name, error = %e, "removing the no_accept drop rule");
            }
        }
    }

    async fn send_advert(&mut self, priority: u8) {
        let spec = &self.spec;
        let advert = match spec.params.version {
            Version::V2 => {
                let secs = u8::try_from(spec.params.advert_interval.as_secs()).unwrap_or(u8::MAX);
                Advertisement::v2(
                    spec.vrid,
                    priority,
                    secs,
                    &spec.auth,
                    self.vip_addrs.clone(),
                )
            }
            Version::V3 => {
                let cs =
                    u16::try_from(spec.params.advert_interval.as_millis() / 10).unwrap_or(u16::MAX);
                Advertisement::v3(spec.vrid, priority, cs, self.vip_addrs.clone())
            }
        };
        let targets: Vec<IpAddr> = if spec.unicast() {
            spec.unicast_peers.iter().map(|p| p.addr).collect()
        } else {
            vec![spec.group]
        };
        // The checksum of VRRPv3 covers the source address, so the socket sends from the one
        // it was computed with; keepalived writes it into the IP header (`vrrp->saddr`: the
        // interface's address it follows, or `unicast_src_ip`). With a VMAC too, whose only
        // addresses are the VIPs: keepalived sends from the base interface's address.
        let src = Some(spec.params.primary_address).filter(|a| !a.is_unspecified());
        for dst in targets {
            let mode = match spec.params.version {
                Version::V2 => ChecksumMode::Plain,
                Version::V3 => ChecksumMode::PseudoHeader {
                    source: spec.params.primary_address,
                    destination: dst,
                },
            };
            let payload = match advert.encode(mode) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(instance = %spec.name, error = %e, "cannot encode advert");
                    return;
                }
            };
            match self.socket.send(&payload, dst, src).await {
                Ok(()) => {
                    let mut s = status::lock(&self.status);
                    s.counters.adverts_sent += 1;
                    if priority == 0 {
                        s.counters.priority_zero_sent += 1;
                    }
                }
                Err(e) => tracing::warn!(instance = %spec.name, error = %e, "sending advert"),
            }
        }
    }

    /// Deletes the VMAC, if the instance has one (keepalived does at stop).
    async fn remove_vmac(&self) {
        let Some(link) = &self.vmac else {
            return;
        };
        match self.stack.remove_vmac(link).await {
            Ok(()) => {
                tracing::info!(instance = %self.spec.name, vmac = %link.name, "removed the VMAC interface")
            }
            Err(e) => {
                tracing::error!(instance = %self.spec.name, error = %e, "removing the VMAC interface")
            }
        }
    }

    /// `garp_extra_if`: one gratuitous ARP per extra interface, in the background.
    fn send_extra_garp(&mut self) {
        let targets = self.extra_garp.clone();
        if targets.is_empty() {
            return;
        }
        let name = self.spec.name.clone();
        self.garp_tasks.spawn(async move {
            for (sender, addr) in targets {
                if let Err(e) = sender.send_garp(addr).await {
                    tracing::debug!(instance = %name, error = %e, "garp_extra_if gratuitous ARP");
                }
            }
        });
        while self.garp_tasks.try_join_next().is_some() {}
    }

    /// Sends `repeat` rounds in the background, `vrrp_garp_interval` apart; leaving MASTER
    /// aborts them. keepalived announces the excluded addresses too.
    fn send_garp(&mut self, repeat: u32) {
        let Some(sender) = self.garp.clone() else {
            return;
        };
        let vips: Vec<IpAddr> = self
            .vips
            .iter()
            .chain(&self.excluded)
            .map(|v| v.addr)
            .collect();
        let interval = self.spec.garp_interval;
        let name = self.spec.name.clone();
        self.garp_tasks.spawn(async move {
            for round in 0..repeat {
                if round > 0 && !interval.is_zero() {
                    tokio::time::sleep(interval).await;
                }
                for vip in &vips {
                    if let Err(e) = sender.send_garp(*vip).await {
                        tracing::debug!(instance = %name, error = %e, "gratuitous ARP");
                    }
                }
            }
        });
        while self.garp_tasks.try_join_next().is_some() {}
    }
}

impl<S: Stack> Unit<S> {
    async fn start(
        spec: UnitSpec,
        mut inputs: Vec<Inputs>,
        deletions: broadcast::Receiver<Deleted>,
        statuses: Vec<Shared>,
        host: Host<S>,
        options: StartOptions,
    ) -> Result<Self, NetError> {
        let Host {
            stack,
            fifos,
            firewall,
        } = host;
        let mut members: Vec<Member<S>> = Vec::new();
        for (s, status) in spec.members.iter().zip(statuses) {
            let mut m = match Member::start(s.clone(), status, &stack, options).await {
                Ok(m) => m,
                Err(e) => {
                    // The members made so far do not run: their VMACs go.
                    for m in &members {
                        m.remove_vmac().await;
                    }
                    return Err(e);
                }
            };
            if m.spec.no_accept {
                m.drops = m.drop_list(firewall.settings());
                m.firewall = Some(firewall.clone());
            }
            members.push(m);
        }
        // keepalived tracks a VMAC as it tracks the instance's own interface.
        for (m, input) in members.iter().zip(inputs.iter_mut()) {
            if let (Some(link), false) = (&m.vmac, m.spec.dont_track_primary) {
                input.track_vmac(link).await;
            }
        }
        let params: Vec<fsm::Params> = members.iter().map(|m| m.spec.params.clone()).collect();
        let group =
            match &spec.group {
                Some(g) => {
                    tracing::info!(group = %g.name, members = members.len(), "sync group starting");
                    Group::sync(params)
                }
                None => Group::solo(params.into_iter().next().ok_or_else(|| {
                    NetError::NoSuchInterface("(a unit without instances)".into())
                })?),
            };
        Ok(Unit {
            members,
            inputs,
            deletions,
            group,
            spec,
            epoch: Instant::now(),
            started: false,
            notifier: Notifier::with_fifos(fifos),
            start_drained: options.drained,
        })
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// The members' names, for logs.
    fn names(&self) -> String {
        self.members
            .iter()
            .map(|m| m.spec.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        if self.start_drained {
            tracing::info!(instances = %self.names(), "starting drained");
            self.feed(0, Event::Drain).await;
        }
        self.track_changed().await;
        loop {
            let deadline = self
                .group
                .next_timer()
                .map(|(i, t, at)| (i, t, self.epoch + at));
            let timer = async move {
                match deadline {
                    Some((i, t, at)) => {
                        tokio::time::sleep_until(at).await;
                        (i, t)
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                cmd = commands.recv() => match cmd {
                    Some(Command::Stop) | None => break,
                    Some(Command::Drain { drain, done }) => {
                        tracing::info!(instances = %self.names(),
                            "{}", if drain { "drained" } else { "undrained" });
                        // Member 0 stands for all: a sync group drains every member.
                        let event = if drain { Event::Drain } else { Event::Undrain };
                        self.feed(0, event).await;
                        let _ = done.send(());
                    }
                },
                (i, t) = timer => {
                    self.feed(i, Event::TimerExpired(t)).await;
                }
                (i, packet) = recv_any(&self.members) => match packet {
                    Ok(p) => {
                        let master = self.group.member(i).master().map(|(a, _)| a);
                        if let Some(advert) = self.members[i].check(&p, master) {
                            self.feed(i, Event::Advert(advert)).await;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(instance = %self.members[i].spec.name, error = %e, "receive failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                // Every member's inputs share one change counter: one wait covers them all.
                () = self.inputs[0].changed() => self.track_changed().await,
                d = next_deletion(&mut self.deletions) => self.deleted(&d).await,
            }
        }
        self.feed(0, Event::Shutdown).await;
        for m in &mut self.members {
            m.garp_tasks.abort_all();
        }
        self.notifier.drain(NOTIFY_DRAIN).await;
        for m in &self.members {
            m.remove_vmac().await;
            tracing::info!(instance = %m.spec.name, "instance stopped");
        }
    }

    /// Recomputes every member's effective priority and fault state and feeds what changed;
    /// starts the members once no script result is awaited.
    async fn track_changed(&mut self) {
        for i in 0..self.members.len() {
            self.follow_source(i).await;
            let base = self.members[i].spec.params.priority;
            let effective = self.inputs[i].effective(base);
            let total = i32::from(effective.priority) - i32::from(base);
            self.feed(i, Event::TrackWeight { total }).await;
            let fault = effective.fault || self.members[i].source.is_none();
            if fault != self.members[i].faulted {
                self.members[i].faulted = fault;
                let event = if fault {
                    Event::Fault
                } else {
                    Event::FaultCleared
                };
                self.feed(i, event).await;
            }
            self.members[i].waiting = effective.waiting;
        }
        // A weight-0 script with no result yet holds the instance (and its sync group) in
        // INIT, as in keepalived.
        if !self.started && !self.members.iter().any(|m| m.waiting) {
            self.started = true;
            self.feed(0, Event::Startup).await;
        }
        self.publish();
    }

    /// Picks member `i`'s advert source again if its interface's addresses changed, as
    /// keepalived follows RTM_NEWADDR and RTM_DELADDR (`netlink_if_address_filter`): the
    /// source moves to another address when its own goes, the instance goes to FAULT when
    /// none is left and leaves FAULT when one appears (the caller feeds the fault).
    async fn follow_source(&mut self, i: usize) {
        let m = &mut self.members[i];
        let changes = self.inputs[i].address_changes(m.ifindex);
        match m.source_picked_at {
            Some(at) if at != changes => m.source_picked_at = Some(changes),
            _ => return,
        }
        let listed = match m.net.list(m.ifindex).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(instance = %m.spec.name, error = %e, "listing the interface's addresses");
                return;
            }
        };
        let ours: Vec<Vip> = m.vips.iter().chain(&m.excluded).cloned().collect();
        let picked = pick_source(m.source, &listed, m.spec.ipv6, &ours);
        if picked == m.source {
            return;
        }
        let (name, ifname, v) = (&m.spec.name, &m.spec.ifname, family(m.spec.ipv6));
        match (m.source, picked) {
            (_, None) => tracing::info!(instance = %name, interface = %ifname,
                "entering FAULT state (no IPv{v} address for interface)"),
            (None, Some(new)) => tracing::info!(instance = %name, interface = %ifname,
                source = %new, "interface has an IPv{v} address again: leaving FAULT state"),
            (Some(old), Some(new)) => tracing::info!(instance = %name, interface = %ifname,
                from = %old, to = %new, "advert source address changed"),
        }
        m.source = picked;
        if let Some(new) = picked {
            m.spec.params.primary_address = new;
            self.group.set_primary_address(i, new);
        }
    }

    /// One of a MASTER member's addresses, routes or rules was deleted by someone else.
    async fn deleted(&mut self, d: &Deleted) {
        let lost = (0..self.members.len()).find(|&i| {
            self.group.member(i).state() == fsm::State::Master && self.members[i].lost(d)
        });
        if let Some(i) = lost {
            tracing::warn!(instance = %self.members[i].spec.name, deleted = ?d,
                "someone else deleted an address, route or rule of this MASTER");
            self.feed(i, Event::VipsDeleted).await;
        }
    }

    async fn feed(&mut self, i: usize, event: Event) {
        let actions = self.group.handle(self.now(), i, event);
        for (target, action) in actions {
            match target {
                Target::Member(j) => self.act(j, action).await,
                Target::Group => {
                    if let Action::Notify { state, .. } = action {
                        self.group_notify(state);
                    }
                }
            }
        }
        self.publish();
    }

    fn publish(&self) {
        for (i, m) in self.members.iter().enumerate() {
            let fsm = self.group.member(i);
            let mut s = status::lock(&m.status);
            s.effective_priority = fsm.effective_priority();
            s.master = fsm.master().map(|(a, _)| a.to_string());
            s.drained = fsm.drained();
        }
    }

    async fn act(&mut self, i: usize, action: Action) {
        let m = &mut self.members[i];
        match action {
            Action::SendAdvert { priority } => m.send_advert(priority).await,
            Action::AddVips => m.add_vips().await,
            Action::RemoveVips => m.remove_vips().await,
            Action::SendGratuitousArp { repeat } => m.send_garp(repeat),
            Action::SendExtraGarp => m.send_extra_garp(),
            Action::SetTimer { .. } | Action::CancelTimer(_) => {}
            Action::Notify { state, reason } => self.notify(i, state, reason),
        }
    }

    fn notify(&mut self, i: usize, state: fsm::NotifyState, reason: Reason) {
        let to = fsm::State::after(state);
        let priority = self.group.member(i).effective_priority();
        let m = &self.members[i];
        tracing::info!(
            instance = %m.spec.name, reason = reason_name(reason), priority,
            "Entering {to} STATE"
        );
        {
            let mut s = status::lock(&m.status);
            s.transition(to, reason_name(reason));
            if state == fsm::NotifyState::Master {
                s.counters.became_master += 1;
            }
        }
        self.notifier.notify(
            &m.spec.notify,
            Kind::Instance,
            &m.spec.name,
            state,
            priority,
        );
    }

    fn group_notify(&mut self, state: fsm::NotifyState) {
        let Some(group) = &self.spec.group else {
            return;
        };
        tracing::info!(group = %group.name, "group entering {} state", fsm::State::after(state));
        self.notifier
            .notify(&group.notify, Kind::Group, &group.name, state, 0);
    }
}

/// Routes with their interfaces resolved (a missing one stops the start, as for a VIP).
pub(crate) fn resolve_routes(
    routes: &[super::spec::RouteSpec],
    ifindex: impl Fn(&str) -> Result<u32, NetError>,
) -> Result<Vec<(String, KernelRoute)>, NetError> {
    routes
        .iter()
        .map(|r| {
            let mut route = r.route.clone();
            if let Some(dev) = &r.dev {
                route.oif = Some(ifindex(dev)?);
            }
            Ok((r.text.clone(), route))
        })
        .collect()
}

/// The next deletion; never, once the monitor is gone.
pub(crate) async fn next_deletion(rx: &mut broadcast::Receiver<Deleted>) -> Deleted {
    loop {
        match rx.recv().await {
            Ok(d) => return d,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "address/route/rule deletions missed");
            }
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// The next packet on any member's socket, with the member's index. Cancel-safe.
async fn recv_any<S: Stack>(
    members: &[Member<S>],
) -> (usize, Result<network::ReceivedPacket, NetError>) {
    let recvs = members
        .iter()
        .enumerate()
        .map(|(i, m)| Box::pin(async move { (i, m.socket.recv().await) }));
    futures::future::select_all(recvs).await.0
}

/// The snake_case name of a transition reason, for logs and status.
pub fn reason_name(reason: Reason) -> &'static str {
    match reason {
        Reason::Startup => "startup",
        Reason::AddressOwner => "address_owner",
        Reason::MasterDown => "master_down",
        Reason::MasterStopped => "master_stopped",
        Reason::Preempted => "preempted",
        Reason::HigherPriority => "higher_priority",
        Reason::Fault => "fault",
        Reason::FaultCleared => "fault_cleared",
        Reason::Shutdown => "shutdown",
        Reason::SyncGroup => "sync_group",
        Reason::VipsDeleted => "vips_deleted",
        Reason::Drained => "drained",
    }
}

/// The address an instance without `unicast_src_ip` advertises from, as keepalived picks
/// `vrrp->saddr`: for IPv4 the interface's first address, for IPv6 its first link-local
/// one, never one of our VIPs. `current` stays while the interface still has it; when it
/// goes, keepalived moves to the interface's last other address (`list_last_entry` of its
/// extra addresses). `None`: the interface has no usable address.
fn pick_source(
    current: Option<IpAddr>,
    listed: &[InterfaceAddress],
    ipv6: bool,
    ours: &[Vip],
) -> Option<IpAddr> {
    let mut usable = listed
        .iter()
        .filter(|a| !ours.iter().any(|v| a.matches(v)))
        .map(|a| a.addr)
        .filter(|a| match a {
            IpAddr::V4(_) => !ipv6,
            IpAddr::V6(v6) => ipv6 && v6.is_unicast_link_local(),
        });
    match current {
        Some(c) if listed.iter().any(|a| a.addr == c) => Some(c),
        Some(_) => usable.next_back(),
        None => usable.next(),
    }
}

fn unspecified(ipv6: bool) -> IpAddr {
    if ipv6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// 4 or 6, for log lines worded as keepalived's.
fn family(ipv6: bool) -> u8 {
    if ipv6 { 6 } else { 4 }
}

#[cfg(test)]
mod tests {
    //! The daemon's own instance code on [`FakeStack`]: elections, VIPs, adverts and GARPs
    //! without a kernel, on tokio's paused clock.

    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use tokio::sync::watch;

    use super::*;
    use crate::config;
    use crate::network::InterfaceAddress;
    use crate::network::fake::FakeStack;
    use crate::packet::{Family, Ipv4Header};
    use crate::runtime::spec;
    use crate::status::{InstanceStatus, State};

    const CONF: &str = "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 14
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        198.51.100.100
    }
}
";
    const OWN: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
    const VIP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 100);
    const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

    /// A peer's advert for VRID 14 as it arrives on the socket, IP header included.
    fn peer_advert(priority: u8) -> network::ReceivedPacket {
        let peer = Ipv4Addr::new(198, 51, 100, 2);
        let payload = Advertisement::v2(
            14,
            priority,
            1,
            &packet::AuthConfig::password("secret"),
            vec![IpAddr::V4(VIP)],
        )
        .encode(ChecksumMode::Plain)
        .expect("encodes");
        let mut bytes = Ipv4Header::for_advert(peer, GROUP, 1, payload.len())
            .encode()
            .to_vec();
        bytes.extend_from_slice(&payload);
        network::ReceivedPacket {
            bytes,
            ifindex: 2,
            src: IpAddr::V4(peer),
            dst: IpAddr::V4(GROUP),
            hop_limit: None,
        }
    }

    /// The priorities of the adverts sent so far.
    fn sent_priorities(stack: &FakeStack) -> Vec<u8> {
        stack
            .vrrp
            .sent()
            .iter()
            .map(|p| {
                assert_eq!(p.dst, IpAddr::V4(GROUP));
                Advertisement::decode(&p.payload, Family::Ipv4)
                    .expect("our advert decodes")
                    .priority
            })
            .collect()
    }

    fn holds_vip(stack: &FakeStack) -> bool {
        stack
            .net
            .snapshot()
            .iter()
            .any(|a| a.addr == IpAddr::V4(VIP))
    }

    /// The one unit of `conf`.
    fn one_unit(conf: &str) -> UnitSpec {
        let parsed = config::parse_str(conf, "fake.conf").expect("parses");
        spec::units(&parsed.config)
            .expect("builds")
            .pop()
            .expect("one unit")
    }

    /// An instance task started on fakes, with the senders of its inputs kept alive.
    struct OnFakes {
        status: Shared,
        commands: mpsc::Sender<Command>,
        task: tokio::task::JoinHandle<Result<(), NetError>>,
        _links: watch::Sender<BTreeMap<String, bool>>,
        /// Wakes the task to read `_links` again, as the daemon's link monitor does.
        bump: watch::Sender<u64>,
        _deleted: broadcast::Sender<Deleted>,
        addresses: watch::Sender<BTreeMap<u32, u64>>,
    }

    impl OnFakes {
        /// Tells the instance that the addresses of interface `ifindex` changed, as the
        /// daemon's netlink monitor does.
        fn addresses_changed(&self, ifindex: u32) {
            self.addresses
                .send_modify(|m| *m.entry(ifindex).or_default() += 1);
            self.bump.send_modify(|n| *n += 1);
        }
    }

    /// Runs `unit` on `stack` with its interface up, no deletions and nothing drained.
    fn start_on_fakes(unit: UnitSpec, stack: &FakeStack, status: InstanceStatus) -> OnFakes {
        let (links_tx, links) = watch::channel(BTreeMap::from([("eth0".to_owned(), true)]));
        let (addresses, addresses_rx) = watch::channel(BTreeMap::new());
        let (bump, bump_rx) = watch::channel(0);
        let inputs = vec![Inputs::interface_only(
            &unit.members[0],
            links,
            addresses_rx,
            bump_rx,
        )];
        let status = Arc::new(Mutex::new(status));
        let (deleted_tx, deletions) = broadcast::channel(4);
        let (commands, rx) = mpsc::channel(4);
        let task = tokio::spawn(run(
            unit,
            inputs,
            deletions,
            vec![status.clone()],
            Host {
                stack: stack.clone(),
                fifos: NotifyFifos::default(),
                firewall: std::sync::Arc::new(Firewall::new(Default::default())),
            },
            rx,
            StartOptions {
                cleanup_stale: true,
                drained: false,
            },
        ));
        OnFakes {
            status,
            commands,
            task,
            _links: links_tx,
            bump,
            _deleted: deleted_tx,
            addresses,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn instance_task_elects_itself_yields_and_leaves_on_fakes() {
        let unit = one_unit(CONF);
        let (stack, inbox) = FakeStack::new(&[("eth0", 2)], vec![v4(2, OWN)]);
        let OnFakes {
            status,
            commands,
            task,
            _links,
            _deleted,
            ..
        } = start_on_fakes(unit, &stack, InstanceStatus::new("VI_1", "eth0", 14, 100));
        let state = || status::lock(&status).state;

        // Master_Down_Interval at priority 100: 3 s + (256 - 100) / 256 s.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        assert_eq!(state(), State::Backup);
        assert!(stack.vrrp.sent().is_empty() && !holds_vip(&stack));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(state(), State::Master);
        assert!(holds_vip(&stack), "{:?}", stack.net.snapshot());
        assert_eq!(sent_priorities(&stack), [100]);
        assert_eq!(stack.opened()[0].group, Some(IpAddr::V4(GROUP)));
        // The first burst of keepalived's default 5 gratuitous ARPs, at once.
        tokio::task::yield_now().await;
        assert_eq!(stack.garp.sent(), [IpAddr::V4(VIP); 5]);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(sent_priorities(&stack), [100, 100, 100]);

        // A higher-priority master appears: back to BACKUP, the VIP goes.
        inbox.send(peer_advert(200)).await.expect("delivered");
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(state(), State::Backup);
        assert!(!holds_vip(&stack));
        assert_eq!(
            status::lock(&status).master.as_deref(),
            Some("198.51.100.2")
        );

        // Silence: master again after Master_Down_Interval; then a graceful stop sends
        // priority 0 and removes the VIP.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(state(), State::Master);
        commands.send(Command::Stop).await.expect("task listens");
        task.await.expect("no panic").expect("ran");
        assert_eq!(sent_priorities(&stack).last(), Some(&0));
        assert!(!holds_vip(&stack));
        assert_eq!(state(), State::Init);
    }

    /// `garp_extra_if 3 all` on fakes: the instance's own interface gets only the usual
    /// bursts; eth1 (first address there only) gets one gratuitous ARP per round, the first
    /// one delay after becoming MASTER, checked at the adverts.
    #[tokio::test(start_paused = true)]
    async fn garp_extra_if_sends_on_the_other_interfaces_on_fakes() {
        let conf = CONF
            .replace(
                "    advert_int 1\n",
                "    advert_int 1\n    garp_extra_if 3 all\n",
            )
            .replace(
                "        198.51.100.100\n",
                "        198.51.100.100\n        203.0.113.7/24 dev eth1\n        203.0.113.8/24 dev eth1\n",
            );
        let unit = one_unit(&conf);
        assert_eq!(
            unit.members[0].params.garp.extra_if,
            Some(Duration::from_secs(3))
        );
        let (stack, _inbox) = FakeStack::new(&[("eth0", 2), ("eth1", 3)], vec![v4(2, OWN)]);
        let OnFakes {
            status,
            commands,
            task,
            _links,
            _deleted,
            ..
        } = start_on_fakes(unit, &stack, InstanceStatus::new("VI_1", "eth0", 14, 100));
        let state = || status::lock(&status).state;
        // The bursts cover every address; the extra rounds only eth1's first one.
        let count = |a: [u8; 4]| {
            let a = IpAddr::V4(Ipv4Addr::from(a));
            stack.garp.sent().iter().filter(|s| **s == a).count()
        };
        let extras = || count([203, 0, 113, 7]) - count([203, 0, 113, 8]);
        // MASTER at 3.61 s, with its burst.
        tokio::time::sleep(Duration::from_millis(3700)).await;
        assert_eq!(stack.garp_opened(), ["eth0", "eth1"]);
        assert_eq!(state(), State::Master);
        tokio::task::yield_now().await;
        assert_eq!(count([203, 0, 113, 8]), 5);
        assert_eq!(extras(), 0);
        // The first extra round at the first advert strictly after 3 s (the one at 6.61 s
        // is not: on the paused clock it comes exactly then), at 7.61 s; the next one 3 s
        // later, at the next advert after that.
        tokio::time::sleep(Duration::from_millis(2800)).await;
        assert_eq!(extras(), 0, "not before the delay");
        tokio::time::sleep(Duration::from_millis(1400)).await;
        tokio::task::yield_now().await;
        assert_eq!(extras(), 1);
        tokio::time::sleep(Duration::from_secs(2)).await;
        tokio::task::yield_now().await;
        assert_eq!(extras(), 1);
        tokio::time::sleep(Duration::from_secs(2)).await;
        tokio::task::yield_now().await;
        assert_eq!(extras(), 2);
        // Nothing extra for eth0's VIP: the bursts only.
        assert_eq!(count([198, 51, 100, 100]), count([203, 0, 113, 8]));
        commands.send(Command::Stop).await.expect("task listens");
        task.await.expect("no panic").expect("ran");
    }

    /// `use_vmac` on fakes: the VMAC is made before the socket, which is opened on it (on
    /// eth0 with `vmac_xmit_base`); the VIPs of eth0 (the excluded one too) go on it, one with
    /// `dev eth1` stays there; adverts are sent from eth0's address; GARPs go out on the VMAC;
    /// the VMAC is gone after the stop.
    #[tokio::test(start_paused = true)]
    async fn use_vmac_instance_runs_on_its_vmac_on_fakes() {
        for xmit_base in [false, true] {
            let conf = CONF
                .replace(
                    "    advert_int 1\n",
                    &format!(
                        "    advert_int 1\n    use_vmac\n{}",
                        if xmit_base {
                            "    vmac_xmit_base\n"
                        } else {
                            ""
                        }
                    ),
                )
                .replace(
                    "        198.51.100.100\n    }\n",
                    "        198.51.100.100\n        203.0.113.7 dev eth1\n    }\n    \
                     virtual_ipaddress_excluded {\n        198.51.100.101\n    }\n",
                );
            let parsed = config::parse_str(&conf, "fake.conf").expect("parses");
            assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
            let unit = spec::units(&parsed.config)
                .expect("builds")
                .pop()
                .expect("one unit");
            let (stack, _inbox) = FakeStack::new(&[("eth0", 2), ("eth1", 3)], vec![v4(2, OWN)]);
            let OnFakes {
                status,
                commands,
                task,
                _links,
                _deleted,
                bump,
                ..
            } = start_on_fakes(unit, &stack, InstanceStatus::new("VI_1", "eth0", 14, 100));
            // The link monitor's report of the new VMAC.
            _links.send_modify(|m| {
                m.insert("vrrp.14".to_owned(), true);
            });
            tokio::time::sleep(Duration::from_millis(3700)).await;
            assert_eq!(status::lock(&status).state, State::Master);
            assert_eq!(stack.vmacs(), [("vrrp.14".to_owned(), 4)]);
            let socket_if = if xmit_base { "eth0" } else { "vrrp.14" };
            assert_eq!(stack.opened()[0].ifname, socket_if);
            assert_eq!(stack.garp_opened(), ["vrrp.14"]);
            let on = |ifindex: u32| {
                let mut v: Vec<IpAddr> = stack
                    .net
                    .snapshot()
                    .iter()
                    .filter(|a| a.ifindex == ifindex)
                    .map(|a| a.addr)
                    .collect();
                v.sort();
                v
            };
            assert_eq!(
                on(4),
                [
                    IpAddr::V4(VIP),
                    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 101))
                ]
            );
            assert_eq!(on(3), [IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))]);
            assert_eq!(on(2), [IpAddr::V4(OWN)]);
            assert!(
                stack
                    .vrrp
                    .sent()
                    .iter()
                    .all(|p| p.src == Some(IpAddr::V4(OWN))),
                "adverts from eth0's address"
            );
            // keepalived tracks the VMAC: down is FAULT (the VIPs go), up again is BACKUP.
            _links.send_modify(|m| {
                m.insert("vrrp.14".to_owned(), false);
            });
            bump.send_modify(|n| *n += 1);
            tokio::time::sleep(Duration::from_millis(10)).await;
            assert_eq!(status::lock(&status).state, State::Fault);
            assert!(on(4).is_empty(), "{:?}", stack.net.snapshot());
            _links.send_modify(|m| {
                m.insert("vrrp.14".to_owned(), true);
            });
            bump.send_modify(|n| *n += 1);
            tokio::time::sleep(Duration::from_millis(10)).await;
            assert_eq!(status::lock(&status).state, State::Backup);
            commands.send(Command::Stop).await.expect("task listens");
            task.await.expect("no panic").expect("ran");
            assert!(stack.vmacs().is_empty(), "the VMAC is deleted at stop");
        }
    }

    /// A start that fails once the VMAC is made (here a VIP on a missing interface) deletes
    /// it again.
    #[tokio::test(start_paused = true)]
    async fn a_failed_start_leaves_no_vmac_on_fakes() {
        let conf = CONF
            .replace("    advert_int 1\n", "    advert_int 1\n    use_vmac\n")
            .replace(
                "198.51.100.100\n",
                "198.51.100.100\n        203.0.113.7 dev eth9\n",
            );
        let unit = one_unit(&conf);
        let (stack, _inbox) = FakeStack::new(&[("eth0", 2)], Vec::new());
        let on = start_on_fakes(unit, &stack, InstanceStatus::new("VI_1", "eth0", 14, 100));
        let err = on
            .task
            .await
            .expect("no panic")
            .expect_err("eth9 is missing");
        assert!(err.to_string().contains("eth9"), "{err}");
        assert!(stack.vmacs().is_empty(), "{:?}", stack.vmacs());
    }

    /// An IPv6 instance on fakes: VRRPv3 adverts to ff02::12 from the link-local address
    /// with the IPv6 pseudo-header checksum, unsolicited NAs for the VIP, a peer advert with
    /// hop limit 254 dropped and one with 255 obeyed.
    #[tokio::test(start_paused = true)]
    async fn ipv6_instance_advertises_from_link_local_and_checks_hop_limit() {
        const CONF6: &str = "vrrp_instance VI_6 {
    interface eth0
    virtual_router_id 61
    priority 100
    advert_int 1
    virtual_ipaddress {
        2001:db8:61::100/64
    }
}
";
        let vip6: Ipv6Addr = "2001:db8:61::100".parse().expect("addr");
        let own6: Ipv6Addr = "fe80::1".parse().expect("addr");
        let peer6: Ipv6Addr = "fe80::2".parse().expect("addr");
        let group6: Ipv6Addr = "ff02::12".parse().expect("addr");
        let unit = one_unit(CONF6);
        let (stack, inbox) = FakeStack::new(
            &[("eth0", 2)],
            vec![
                InterfaceAddress {
                    ifindex: 2,
                    addr: IpAddr::V4(OWN),
                    prefix_len: 24,
                    label: None,
                },
                InterfaceAddress {
                    ifindex: 2,
                    addr: IpAddr::V6(own6),
                    prefix_len: 64,
                    label: None,
                },
            ],
        );
        let OnFakes {
            status,
            commands,
            task,
            _links,
            _deleted,
            ..
        } = start_on_fakes(unit, &stack, InstanceStatus::new("VI_6", "eth0", 61, 100));
        let state = || status::lock(&status).state;
        tokio::time::sleep(Duration::from_millis(3700)).await;
        assert_eq!(state(), State::Master);
        let opened = &stack.opened()[0];
        assert!(opened.ipv6);
        assert_eq!(opened.group, Some(IpAddr::V6(group6)));
        let sent = stack.vrrp.sent();
        let first = &sent[0];
        assert_eq!(first.dst, IpAddr::V6(group6));
        assert_eq!(
            first.src,
            Some(IpAddr::V6(own6)),
            "pinned link-local source"
        );
        let mode = ChecksumMode::PseudoHeader {
            source: IpAddr::V6(own6),
            destination: IpAddr::V6(group6),
        };
        assert!(
            packet::checksum::verify(&first.payload, mode),
            "pseudo-header checksum"
        );
        let advert = Advertisement::decode(&first.payload, Family::Ipv6).expect("decodes");
        assert_eq!(advert.version(), Version::V3);
        assert_eq!(advert.addresses, [IpAddr::V6(vip6)]);
        assert!(
            stack
                .net
                .snapshot()
                .iter()
                .any(|a| a.addr == IpAddr::V6(vip6) && a.prefix_len == 64)
        );
        tokio::task::yield_now().await;
        assert_eq!(stack.garp.sent(), [IpAddr::V6(vip6); 5], "unsolicited NAs");

        let peer_advert = |hop_limit: u8| {
            let payload = Advertisement::v3(61, 200, 100, vec![IpAddr::V6(vip6)])
                .encode(ChecksumMode::PseudoHeader {
                    source: IpAddr::V6(peer6),
                    destination: IpAddr::V6(group6),
                })
                .expect("encodes");
            network::ReceivedPacket {
                bytes: payload,
                ifindex: 2,
                src: IpAddr::V6(peer6),
                dst: IpAddr::V6(group6),
                hop_limit: Some(hop_limit),
            }
        };
        // Off-link (hop limit 254): dropped and counted, still MASTER.
        inbox.send(peer_advert(254)).await.expect("delivered");
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(state(), State::Master);
        assert_eq!(
            status::lock(&status).counters.drops.get("ttl").copied(),
            Some(1)
        );
        // On-link, higher priority: BACKUP, the VIP goes.
        inbox.send(peer_advert(255)).await.expect("delivered");
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(state(), State::Backup);
        assert!(
            !stack
                .net
                .snapshot()
                .iter()
                .any(|a| a.addr == IpAddr::V6(vip6))
        );
        assert_eq!(status::lock(&status).master.as_deref(), Some("fe80::2"));
        commands.send(Command::Stop).await.expect("task listens");
        task.await.expect("no panic").expect("ran");
    }

    fn v4(ifindex: u32, a: Ipv4Addr) -> InterfaceAddress {
        InterfaceAddress {
            ifindex,
            addr: IpAddr::V4(a),
            prefix_len: 24,
            label: None,
        }
    }

    fn v6(ifindex: u32, a: &str) -> InterfaceAddress {
        InterfaceAddress {
            ifindex,
            addr: IpAddr::V6(a.parse().expect("addr")),
            prefix_len: 64,
            label: None,
        }
    }

    /// keepalived's choice of `vrrp->saddr`: first usable at start, kept while present,
    /// the last other one when it goes, none without a usable address; VIPs never count.
    #[test]
    fn source_is_picked_and_followed_as_keepalived_does() {
        let own2 = Ipv4Addr::new(198, 51, 100, 3);
        let vip = Vip::new(2, IpAddr::V4(VIP), 32);
        let a = IpAddr::V4(OWN);
        let b = IpAddr::V4(own2);
        let both = [v4(2, VIP), v4(2, OWN), v4(2, own2)];
        let vip32 = InterfaceAddress {
            prefix_len: 32,
            ..v4(2, VIP)
        };
        assert_eq!(pick_source(None, &both[1..], false, &[]), Some(a));
        assert_eq!(
            pick_source(
                None,
                &[vip32.clone(), v4(2, own2)],
                false,
                std::slice::from_ref(&vip)
            ),
            Some(b),
            "our VIP is not a source"
        );
        assert_eq!(pick_source(Some(b), &both[1..], false, &[]), Some(b));
        assert_eq!(
            pick_source(Some(IpAddr::V4(VIP)), &both[1..], false, &[]),
            Some(b),
            "the last other address"
        );
        assert_eq!(pick_source(Some(a), &[vip32], false, &[vip]), None);
        assert_eq!(pick_source(None, &[], false, &[]), None);
        // IPv6: link-local only; an IPv4 address or a global IPv6 one does not do.
        let listed = [v4(2, OWN), v6(2, "2001:db8::1"), v6(2, "fe80::1")];
        assert_eq!(
            pick_source(None, &listed, true, &[]),
            Some("fe80::1".parse().expect("addr"))
        );
        assert_eq!(pick_source(None, &listed[..2], true, &[]), None);
        assert_eq!(pick_source(None, &listed[1..], false, &[]), None);
    }

    /// An IPv4 instance on an interface without an IPv4 address starts in FAULT and sends
    /// nothing; an address appears: BACKUP, then MASTER advertising from it. Its address
    /// moves: adverts follow. The last one goes: FAULT, the VIP goes.
    #[tokio::test(start_paused = true)]
    async fn no_ipv4_address_is_fault_until_one_appears_and_the_source_follows() {
        let unit = one_unit(CONF);
        let (stack, _inbox) = FakeStack::new(&[("eth0", 2)], vec![v6(2, "fe80::1")]);
        let fakes = start_on_fakes(unit, &stack, InstanceStatus::new("VI_1", "eth0", 14, 100));
        let state = || status::lock(&fakes.status).state;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(state(), State::Fault);
        assert!(stack.vrrp.sent().is_empty() && !holds_vip(&stack));

        stack
            .net
            .add(&Vip::new(2, IpAddr::V4(OWN), 24))
            .await
            .expect("fake");
        fakes.addresses_changed(2);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(state(), State::Backup);
        tokio::time::sleep(Duration::from_millis(3700)).await;
        assert_eq!(state(), State::Master);
        let sources =
            || -> Vec<Option<IpAddr>> { stack.vrrp.sent().iter().map(|p| p.src).collect() };
        assert_eq!(sources(), [Some(IpAddr::V4(OWN))]);

        // A second address, then the first goes: adverts come from the second.
        let own2 = Ipv4Addr::new(198, 51, 100, 3);
        stack
            .net
            .add(&Vip::new(2, IpAddr::V4(own2), 24))
            .await
            .expect("fake");
        fakes.addresses_changed(2);
        stack.net.del(&v4(2, OWN)).await.expect("fake");
        fakes.addresses_changed(2);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(state(), State::Master);
        assert_eq!(sources().last(), Some(&Some(IpAddr::V4(own2))));
        assert_eq!(
            status::lock(&fakes.status).master.as_deref(),
            Some("198.51.100.3"),
            "the tie-breaker follows too"
        );

        // The last IPv4 address goes: FAULT, priority 0 on the way out, no VIP.
        stack.net.del(&v4(2, own2)).await.expect("fake");
        fakes.addresses_changed(2);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(state(), State::Fault);
        assert!(!holds_vip(&stack));
        assert_eq!(sent_priorities(&stack).last(), Some(&0));
        let sent = stack.vrrp.sent().len();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(stack.vrrp.sent().len(), sent, "nothing sent in FAULT");
        fakes
            .commands
            .send(Command::Stop)
            .await
            .expect("task listens");
        fakes.task.await.expect("no panic").expect("ran");
    }

    /// An IPv6 instance whose interface has no link-local address (only a global one)
    /// starts in FAULT and leaves it when one appears, advertising from it.
    #[tokio::test(start_paused = true)]
    async fn no_link_local_address_is_fault_until_one_appears() {
        const CONF6: &str = "vrrp_instance VI_6 {
    interface eth0
    virtual_router_id 61
    priority 100
    advert_int 1
    virtual_ipaddress {
        2001:db8:61::100/64
    }
}
";
        let unit = one_unit(CONF6);
        let (stack, _inbox) =
            FakeStack::new(&[("eth0", 2)], vec![v4(2, OWN), v6(2, "2001:db8:61::1")]);
        let fakes = start_on_fakes(unit, &stack, InstanceStatus::new("VI_6", "eth0", 61, 100));
        let state = || status::lock(&fakes.status).state;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(state(), State::Fault);
        assert!(stack.vrrp.sent().is_empty());
        stack
            .net
            .add(&Vip::new(2, "fe80::1".parse::<IpAddr>().expect("addr"), 64))
            .await
            .expect("fake");
        fakes.addresses_changed(2);
        tokio::time::sleep(Duration::from_millis(3700)).await;
        assert_eq!(state(), State::Master);
        assert_eq!(
            stack.vrrp.sent()[0].src,
            Some("fe80::1".parse().expect("addr"))
        );
        fakes
            .commands
            .send(Command::Stop)
            .await
            .expect("task listens");
        fakes.task.await.expect("no panic").expect("ran");
    }
}
