//! One VRRP instance as a tokio task: drives its [`Fsm`] with monotonic time and carries out
//! the actions on the real socket, netlink, gratuitous ARP and notify scripts.
//!
//! The loop waits on four things at once: a command from the daemon (stop), a packet, the
//! state machine's next timer, and a change in what the instance tracks. Nothing in it waits
//! on a script, so adverts go out on time whatever the checks do. It does not decide anything
//! about VRRP itself: that is the state machine's job.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::spec::InstanceSpec;
use super::tracking::Inputs;
use crate::fsm::{self, Action, AdvertInfo, Event, Fsm, Reason};
use crate::network::{
    self, AddressIo, AddressManager, GarpSender, NetError, Netlink, Vip, VrrpIo, VrrpSocket,
    VrrpSocketConfig, addr,
};
use crate::notify::{self, Kind, Notifier, NotifySink};
use crate::packet::{self, Advertisement, ChecksumMode, DropReason, LocalInstance, Version};
use crate::status::{self, Shared};

/// How long `notify_stop` scripts may run at shutdown (keepalived gives them a second too).
const NOTIFY_DRAIN: Duration = Duration::from_secs(1);

/// What the daemon can ask of a running instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Leave gracefully: priority 0 advert if master, remove VIPs, notify STOP.
    Stop,
}

/// How an instance starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartOptions {
    /// Remove addresses matching our VIPs first: a crashed run may have left them.
    pub cleanup_stale: bool,
}

/// Runs one instance until told to stop. Errors at start are recorded in the status and
/// returned; once running, I/O errors are logged and the instance carries on.
pub async fn run(
    spec: InstanceSpec,
    inputs: Inputs,
    status: Shared,
    netlink: Netlink,
    commands: mpsc::Receiver<Command>,
    options: StartOptions,
) -> Result<(), NetError> {
    let result = Instance::start(spec, inputs, status.clone(), netlink, options).await;
    match result {
        Ok(instance) => {
            instance.run(commands).await;
            Ok(())
        }
        Err(e) => {
            status::lock(&status).error = Some(e.to_string());
            Err(e)
        }
    }
}

struct Instance {
    spec: InstanceSpec,
    fsm: Fsm,
    epoch: Instant,
    socket: VrrpSocket,
    garp: Option<std::sync::Arc<GarpSender>>,
    garp_tasks: JoinSet<()>,
    addresses: AddressManager<Netlink>,
    vips: Vec<Vip>,
    vip_addrs: Vec<IpAddr>,
    /// `unicast_peer`s as the receive checks take them.
    peers: Vec<packet::UnicastPeer>,
    inputs: Inputs,
    /// Fault as last fed to the state machine, and whether Startup has been fed.
    faulted: bool,
    started: bool,
    status: Shared,
    notifier: Notifier,
}

impl Instance {
    async fn start(
        mut spec: InstanceSpec,
        inputs: Inputs,
        status: Shared,
        netlink: Netlink,
        options: StartOptions,
    ) -> Result<Self, NetError> {
        let ifindex = network::ifindex(&spec.ifname)?;
        let group = (!spec.unicast()).then_some(spec.group);
        let socket = VrrpSocket::open(&VrrpSocketConfig {
            ifname: spec.ifname.clone(),
            group,
            unicast_ttl: spec.unicast_ttl,
        })?;
        let garp = match GarpSender::open(&spec.ifname) {
            Ok(g) => Some(std::sync::Arc::new(g)),
            Err(e) => {
                tracing::warn!(instance = %spec.name, error = %e, "no gratuitous ARP");
                None
            }
        };
        let mut vips = Vec::new();
        for v in &spec.vips {
            let mut vip = Vip::new(network::ifindex(&v.dev)?, v.addr, v.prefix);
            vip.broadcast = v.brd;
            vip.label = v.label.clone();
            if let Some(scope) = v
                .scope
                .as_deref()
                .and_then(|s| s.parse::<addr::Scope>().ok())
            {
                vip.scope = scope;
            }
            vips.push(vip);
        }
        if options.cleanup_stale {
            let mut ifindexes: Vec<u32> = vips.iter().map(|v| v.ifindex).collect();
            ifindexes.dedup();
            for index in ifindexes {
                for gone in addr::cleanup_stale(&netlink, index, &vips).await? {
                    tracing::warn!(
                        instance = %spec.name, addr = %gone.addr, prefix = gone.prefix_len,
                        "removed a stale VIP left by an earlier run"
                    );
                }
            }
        }
        let primary = match spec.src_ip {
            Some(src) => src,
            None => primary_address(&netlink, ifindex, &vips).await?,
        };
        spec.params.primary_address = IpAddr::V4(primary);
        let fsm = Fsm::new(spec.params.clone());
        let vip_addrs = spec.vip_addrs();
        let peers = spec.packet_peers();
        tracing::info!(
            instance = %spec.name, interface = %spec.ifname, vrid = spec.vrid,
            priority = spec.params.priority, source = %primary, "instance starting"
        );
        Ok(Instance {
            addresses: AddressManager::new(netlink, vips.clone()),
            spec,
            fsm,
            epoch: Instant::now(),
            socket,
            garp,
            garp_tasks: JoinSet::new(),
            vips,
            vip_addrs,
            peers,
            inputs,
            faulted: false,
            started: false,
            status,
            notifier: Notifier::new(),
        })
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        self.track_changed().await;
        loop {
            let deadline = self.fsm.next_timer().map(|(t, at)| (t, self.epoch + at));
            let timer = async move {
                match deadline {
                    Some((t, at)) => {
                        tokio::time::sleep_until(at).await;
                        t
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                cmd = commands.recv() => match cmd {
                    Some(Command::Stop) | None => break,
                },
                t = timer => {
                    self.feed(Event::TimerExpired(t)).await;
                }
                packet = self.socket.recv() => match packet {
                    Ok(p) => self.received(&p.bytes).await,
                    Err(e) => {
                        tracing::warn!(instance = %self.spec.name, error = %e, "receive failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                () = self.inputs.changed() => self.track_changed().await,
            }
        }
        self.feed(Event::Shutdown).await;
        // A stopped member no longer faults its group.
        self.inputs.publish_fault(false);
        self.garp_tasks.abort_all();
        self.notifier.drain(NOTIFY_DRAIN).await;
        tracing::info!(instance = %self.spec.name, "instance stopped");
    }

    async fn received(&mut self, bytes: &[u8]) {
        let local = LocalInstance {
            version: self.spec.params.version,
            vrid: self.spec.vrid,
            auth: self.spec.auth,
            advert_interval: self.spec.params.advert_interval,
            addresses: &self.vip_addrs,
            check_addresses: true,
            v3_checksum: packet::V3Checksum::PseudoHeader,
            unicast: self.spec.unicast(),
            check_unicast_src: self.spec.check_unicast_src,
            unicast_peers: &self.peers,
        };
        match packet::check(bytes, &local) {
            Ok(r) => {
                status::lock(&self.status).counters.adverts_received += 1;
                let info = AdvertInfo {
                    priority: r.advert.priority,
                    source: r.source,
                    advert_interval: r.advert.advert_interval(),
                };
                self.feed(Event::Advert(info)).await;
            }
            // Other routers' VRIDs share the group and the socket: not ours to count.
            Err(DropReason::Vrid) => {}
            Err(reason) => {
                tracing::debug!(instance = %self.spec.name, %reason, "advert dropped");
                status::lock(&self.status).counters.drop(reason);
            }
        }
    }

    /// Recomputes the effective priority and fault state and feeds what changed.
    async fn track_changed(&mut self) {
        let effective = self.inputs.effective(self.spec.params.priority);
        let total = i32::from(effective.priority) - i32::from(self.spec.params.priority);
        self.feed(Event::TrackWeight { total }).await;
        self.inputs.publish_fault(effective.fault);
        let by_group = self.inputs.group_fault();
        let fault = effective.fault || by_group.is_some();
        if fault != self.faulted {
            self.faulted = fault;
            if let Some(member) = by_group.filter(|_| !effective.fault) {
                tracing::info!(instance = %self.spec.name, %member, "sync group member is in FAULT");
            }
            let event = if fault {
                Event::Fault
            } else {
                Event::FaultCleared
            };
            self.feed(event).await;
        }
        // A weight-0 script with no result yet holds the instance in INIT, as in keepalived.
        if !self.started && !effective.waiting {
            self.started = true;
            self.feed(Event::Startup).await;
        }
        self.publish();
    }

    async fn feed(&mut self, event: Event) {
        let actions = self.fsm.handle(self.now(), event);
        for action in actions {
            self.act(action).await;
        }
        self.publish();
    }

    fn publish(&self) {
        let mut s = status::lock(&self.status);
        s.effective_priority = self.fsm.effective_priority();
        s.master = self.fsm.master().map(|(a, _)| a.to_string());
    }

    async fn act(&mut self, action: Action) {
        match action {
            Action::SendAdvert { priority } => self.send_advert(priority).await,
            Action::AddVips => {
                for vip in self.vips.clone() {
                    if let Err(e) = self.addresses.add(&vip).await {
                        tracing::error!(instance = %self.spec.name, error = %e, "adding VIP");
                    }
                }
            }
            Action::RemoveVips => {
                self.garp_tasks.abort_all();
                for vip in self.vips.clone() {
                    if let Err(e) = self.addresses.remove(&vip).await {
                        tracing::error!(instance = %self.spec.name, error = %e, "removing VIP");
                    }
                }
            }
            Action::SendGratuitousArp { repeat } => self.send_garp(repeat),
            Action::SetTimer { .. } | Action::CancelTimer(_) => {}
            Action::Notify { state, reason } => self.notify(state, reason),
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
        let targets: Vec<Ipv4Addr> = if spec.unicast() {
            spec.unicast_peers.iter().map(|p| p.addr).collect()
        } else {
            vec![spec.group]
        };
        for dst in targets {
            let mode = match spec.params.version {
                Version::V2 => ChecksumMode::Plain,
                Version::V3 => ChecksumMode::PseudoHeader {
                    source: spec.params.primary_address,
                    destination: IpAddr::V4(dst),
                },
            };
            let payload = match advert.encode(mode) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(instance = %spec.name, error = %e, "cannot encode advert");
                    return;
                }
            };
            match self.socket.send(&payload, dst, spec.src_ip).await {
                Ok(()) => status::lock(&self.status).counters.adverts_sent += 1,
                Err(e) => tracing::warn!(instance = %spec.name, error = %e, "sending advert"),
            }
        }
    }

    /// Sends `repeat` rounds in the background, `vrrp_garp_interval` apart; leaving MASTER
    /// aborts them.
    fn send_garp(&mut self, repeat: u32) {
        let Some(sender) = self.garp.clone() else {
            return;
        };
        let vips: Vec<Ipv4Addr> = self.vips.iter().map(|v| v.addr).collect();
        let interval = self.spec.garp_interval;
        let name = self.spec.name.clone();
        self.garp_tasks.spawn(async move {
            for round in 0..repeat {
                if round > 0 && !interval.is_zero() {
                    tokio::time::sleep(interval).await;
                }
                for vip in &vips {
                    if let Err(e) = sender.send_now(*vip) {
                        tracing::debug!(instance = %name, error = %e, "gratuitous ARP");
                    }
                }
            }
        });
        while self.garp_tasks.try_join_next().is_some() {}
    }

    fn notify(&mut self, state: fsm::NotifyState, reason: Reason) {
        let (name, notify_state) = match state {
            fsm::NotifyState::Master => ("MASTER", notify::NotifyState::Master),
            fsm::NotifyState::Backup => ("BACKUP", notify::NotifyState::Backup),
            fsm::NotifyState::Fault => ("FAULT", notify::NotifyState::Fault),
            fsm::NotifyState::Stop => ("INIT", notify::NotifyState::Stop),
        };
        let priority = self.fsm.effective_priority();
        tracing::info!(
            instance = %self.spec.name, reason = reason_name(reason), priority,
            "Entering {name} STATE"
        );
        {
            let mut s = status::lock(&self.status);
            s.transition(name, reason_name(reason));
            if state == fsm::NotifyState::Master {
                s.counters.became_master += 1;
            }
        }
        self.notifier.notify(
            &self.spec.notify,
            Kind::Instance,
            &self.spec.name,
            notify_state,
            priority,
        );
    }
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
    }
}

/// The interface's first IPv4 address that is not one of our VIPs: the advert source and
/// tie-breaker, as keepalived picks it.
async fn primary_address(
    netlink: &Netlink,
    ifindex: u32,
    vips: &[Vip],
) -> Result<Ipv4Addr, NetError> {
    let addrs = netlink.list(ifindex).await?;
    Ok(addrs
        .iter()
        .find(|a| !vips.iter().any(|v| a.matches(v)))
        .map_or(Ipv4Addr::UNSPECIFIED, |a| a.addr))
}
