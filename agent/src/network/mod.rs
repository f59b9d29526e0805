//! The agent's network edges: the VRRP raw socket, VIP addresses and link state over rtnetlink,
//! and gratuitous ARP.
//!
//! Each edge sits behind a small trait ([`VrrpIo`], [`AddressIo`], [`GarpIo`]) so the sans-IO
//! state machine in `fsm` can be driven by the real kernel or by fakes in tests. This module owns
//! only I/O: it does not decode VRRP packets (that is `packet`) nor decide when to send them
//! (that is `fsm`).

pub mod addr;
pub mod fake;
pub mod firewall;
pub mod garp;
pub mod link;
pub mod promote;
pub mod route;
pub mod vmac;
pub mod vrrp_socket;

use std::future::Future;
use std::io;
use std::net::IpAddr;

pub use addr::{AddressIo, AddressManager, InterfaceAddress, Netlink, Scope, Vip};
pub use garp::{GarpIo, GarpSender};
pub use link::{LinkEvent, OperState};
pub use vmac::{VmacLink, VmacRequest};
pub use vrrp_socket::{ReceivedPacket, VrrpSocket, VrrpSocketConfig};

/// Errors from the network edges. Each carries the interface (or address) it concerns, since
/// that is what an operator needs to find the cause.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A socket call failed.
    #[error("{op} on interface {ifname}: {source}")]
    Io {
        op: &'static str,
        ifname: String,
        #[source]
        source: io::Error,
    },
    /// A netlink request failed.
    #[error("netlink {op} on ifindex {ifindex}: {source}")]
    Netlink {
        op: &'static str,
        ifindex: u32,
        #[source]
        source: rtnetlink::Error,
    },
    /// The named interface does not exist (in this network namespace).
    #[error("interface {0} not found")]
    NoSuchInterface(String),
    /// The interface has no hardware address, so it cannot carry ARP.
    #[error("interface {0} has no Ethernet hardware address")]
    NoHardwareAddress(String),
    /// The ownership rule refused to remove an address the agent neither added nor configured.
    #[error(
        "refusing to remove {addr}/{prefix_len} on ifindex {ifindex}: not added by the agent and not a configured VIP"
    )]
    NotOwned {
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
    },
}

impl NetError {
    pub(crate) fn io(op: &'static str, ifname: &str, source: impl Into<io::Error>) -> Self {
        NetError::Io {
            op,
            ifname: ifname.to_owned(),
            source: source.into(),
        }
    }
}

/// Sending and receiving VRRP advertisements on one interface.
///
/// The real implementation is [`VrrpSocket`]; tests of the state machine driver use a fake.
pub trait VrrpIo {
    /// Sends one VRRP payload (no IP header: the kernel adds it with TTL/hop limit 255) to
    /// `dst`, the multicast group or a unicast peer, of the socket's family. `src` pins the IP
    /// source address when the configuration asks for one (`mcast_src_ip`/`unicast_src_ip`),
    /// and for IPv6 always (the link-local address the checksum was computed with).
    fn send(
        &self,
        payload: &[u8],
        dst: IpAddr,
        src: Option<IpAddr>,
    ) -> impl Future<Output = Result<(), NetError>> + Send;

    /// Waits for the next packet: for IPv4 the whole IP datagram, header included; for IPv6
    /// the VRRP payload, with the header fields in [`ReceivedPacket`].
    fn recv(&self) -> impl Future<Output = Result<ReceivedPacket, NetError>> + Send;
}

/// Everything an instance task needs of the host's network, opened per instance: the kernel
/// ([`Kernel`]) in the daemon, the in-memory fakes of [`fake`] in tests. The instance code is
/// the same for both.
pub trait Stack: Clone + Send + Sync + 'static {
    type Vrrp: VrrpIo + Send + Sync + 'static;
    type Garp: GarpIo + Send + Sync + 'static;
    /// Addresses, routes and rules.
    type Net: AddressIo + route::RouteIo + Clone + Send + Sync + 'static;

    /// The index of the interface called `ifname`.
    fn ifindex(&self, ifname: &str) -> Result<u32, NetError>;
    /// The VRRP socket of one instance.
    fn open_vrrp(&self, config: &VrrpSocketConfig) -> Result<Self::Vrrp, NetError>;
    /// The gratuitous ARP sender on `ifname`.
    fn open_garp(&self, ifname: &str) -> Result<Self::Garp, NetError>;
    fn net(&self) -> Self::Net;
    /// Creates (or takes over) the VMAC of a `use_vmac` instance.
    fn setup_vmac(
        &self,
        req: &VmacRequest,
    ) -> impl Future<Output = Result<VmacLink, NetError>> + Send;
    /// Deletes it at stop.
    fn remove_vmac(&self, link: &VmacLink) -> impl Future<Output = Result<(), NetError>> + Send;
}

/// The real network: raw sockets and rtnetlink in the current network namespace.
#[derive(Debug, Clone)]
pub struct Kernel {
    pub netlink: Netlink,
    /// The daemon's nftables table, where a VMAC's IGMP map entry goes.
    pub firewall: std::sync::Arc<firewall::Firewall>,
}

impl Stack for Kernel {
    type Vrrp = VrrpSocket;
    type Garp = GarpSender;
    type Net = Netlink;

    fn ifindex(&self, ifname: &str) -> Result<u32, NetError> {
        ifindex(ifname)
    }

    fn open_vrrp(&self, config: &VrrpSocketConfig) -> Result<VrrpSocket, NetError> {
        VrrpSocket::open(config)
    }

    fn open_garp(&self, ifname: &str) -> Result<GarpSender, NetError> {
        GarpSender::open(ifname)
    }

    fn net(&self) -> Netlink {
        self.netlink.clone()
    }

    async fn setup_vmac(&self, req: &VmacRequest) -> Result<VmacLink, NetError> {
        let link = self.netlink.setup_vmac(req).await?;
        if let Err(e) = self.firewall.add_vmac(&link.name, &link.base).await {
            tracing::error!(instance = %req.instance, error = %e, "adding the VMAC's IGMP rule");
        }
        Ok(link)
    }

    async fn remove_vmac(&self, link: &VmacLink) -> Result<(), NetError> {
        if let Err(e) = self.firewall.remove_vmac(&link.name, &link.base).await {
            tracing::error!(vmac = %link.name, error = %e, "removing the VMAC's IGMP rule");
        }
        self.netlink.remove_vmac(link).await
    }
}

/// Resolves an interface name to its index in the current network namespace.
pub fn ifindex(ifname: &str) -> Result<u32, NetError> {
    nix::net::if_::if_nametoindex(ifname).map_err(|_| NetError::NoSuchInterface(ifname.to_owned()))
}
