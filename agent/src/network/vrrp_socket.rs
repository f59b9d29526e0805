//! The VRRP raw socket: IPv4 or IPv6 protocol 112 on one interface, joined to the VRRP
//! multicast group (224.0.0.18 or ff02::12 by default).
//!
//! IPv6 (RFC 5798 VRRPv3, as keepalived runs it): the kernel delivers the VRRP payload without
//! the IPv6 header, so the source comes from `recvmsg`, the destination from IPV6_PKTINFO and
//! the hop limit from IPV6_HOPLIMIT (IPV6_RECVHOPLIMIT on); the receive checks drop a
//! multicast advert whose hop limit is not 255. Multicast goes out with IPV6_MULTICAST_HOPS
//! 255, unicast with IPV6_UNICAST_HOPS `unicast_ttl`. The checksum is computed by the caller
//! over the IPv6 pseudo-header, so the source is always pinned with IPV6_PKTINFO.
//!
//! One socket both sends and receives. It is bound to its interface (SO_BINDTODEVICE), so it
//! only sees packets that came in there and its multicast leaves there; IP_PKTINFO still reports
//! the ingress interface and destination, so the caller can tell multicast from unicast. Sent
//! multicast packets get TTL 255 from the kernel (IP_MULTICAST_TTL), as RFC 5798 §5.1.1.3
//! requires and receivers check; unicast ones get `unicast_ttl` (IP_TTL, default 255), as
//! keepalived sends them. Multicast loopback is off: we never hear ourselves.
//! Decoding the packet is `packet`'s job, not this module's.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use nix::libc;
use nix::sys::socket::{
    self, ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, SockaddrLike,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::{NetError, VrrpIo};

/// IANA protocol number of VRRP.
pub const IPPROTO_VRRP: i32 = 112;
/// The IANA VRRP group, keepalived's default.
pub const VRRP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IANA VRRP group for IPv6 (RFC 5798 section 5.1.2.2), keepalived's default.
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// Large enough for any IPv4 datagram on an Ethernet link and then some.
const RECV_BUF: usize = 2048;

/// Where a VRRP socket lives and which group it listens to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpSocketConfig {
    /// Interface name, e.g. `eth0`.
    pub ifname: String,
    /// Multicast group to join (keepalived's `mcast_dst_ip`, default 224.0.0.18); `None` for a
    /// unicast-only instance (`unicast_peer`), which joins no group.
    pub group: Option<IpAddr>,
    /// TTL of unicast sends (keepalived's `unicast_ttl`, default 255); 1..=255, since the
    /// kernel refuses IP_TTL 0.
    pub unicast_ttl: u8,
    /// An IPv6 socket (VRRPv3 over IPv6) rather than an IPv4 one.
    pub ipv6: bool,
}

impl VrrpSocketConfig {
    /// A multicast socket on `ifname` joined to the default group 224.0.0.18.
    pub fn multicast(ifname: impl Into<String>) -> Self {
        VrrpSocketConfig {
            ifname: ifname.into(),
            group: Some(IpAddr::V4(VRRP_GROUP)),
            unicast_ttl: 255,
            ipv6: false,
        }
    }

    /// An IPv6 multicast socket on `ifname` joined to ff02::12.
    pub fn multicast_v6(ifname: impl Into<String>) -> Self {
        VrrpSocketConfig {
            ifname: ifname.into(),
            group: Some(IpAddr::V6(VRRP_GROUP_V6)),
            unicast_ttl: 255,
            ipv6: true,
        }
    }
}

/// One received IP datagram carrying VRRP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPacket {
    /// IPv4: the whole datagram, header included (raw sockets deliver it so). IPv6: the VRRP
    /// payload only (the kernel strips the header).
    pub bytes: Vec<u8>,
    /// Interface the packet came in on, from IP_PKTINFO / IPV6_PKTINFO.
    pub ifindex: u32,
    /// Source address of the sender.
    pub src: IpAddr,
    /// Destination address in the IP header (the group, or our unicast address).
    pub dst: IpAddr,
    /// IPv6 only: the hop limit, from IPV6_HOPLIMIT (`None` for IPv4, whose TTL is in
    /// `bytes`, or if the kernel did not report it).
    pub hop_limit: Option<u8>,
}

/// A raw IPv4 protocol-112 socket bound to one interface, async through tokio.
///
/// The raw socket is registered with tokio's reactor as a `UdpSocket`: tokio only polls the
/// descriptor and every call on it goes through our own `sendmsg`/`recvmsg` inside
/// [`UdpSocket::async_io`]. This keeps the crate free of `unsafe` (tokio's `AsyncFd::register`
/// is `unsafe` since 1.5x; `UdpSocket::from_std` takes an owned descriptor safely).
#[derive(Debug)]
pub struct VrrpSocket {
    fd: UdpSocket,
    ifname: String,
    ifindex: u32,
    ipv6: bool,
}

impl VrrpSocket {
    /// Opens the socket, binds it to the interface and joins the group. Must run inside a tokio
    /// runtime (the socket registers with its reactor).
    pub fn open(config: &VrrpSocketConfig) -> Result<Self, NetError> {
        let ifname = config.ifname.as_str();
        let ifindex = super::ifindex(ifname)?;
        let err = |op: &'static str| move |e: io::Error| NetError::io(op, ifname, e);
        if config.ipv6 {
            return Self::open_v6(config, ifindex);
        }
        let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_VRRP)))
            .map_err(err("socket(AF_INET, SOCK_RAW, 112)"))?;
        sock.bind_device(Some(ifname.as_bytes()))
            .map_err(err("SO_BINDTODEVICE"))?;
        sock.set_ttl_v4(u32::from(config.unicast_ttl))
            .map_err(err("IP_TTL"))?;
        sock.set_multicast_ttl_v4(255)
            .map_err(err("IP_MULTICAST_TTL"))?;
        sock.set_multicast_loop_v4(false)
            .map_err(err("IP_MULTICAST_LOOP"))?;
        // Linux delivers every joined group to every raw socket unless told otherwise; with
        // this off a socket sees only its own group, so two instances on different groups
        // (224.0.0.18 and 224.0.100.19, say) do not hear each other.
        sock.set_multicast_all_v4(false)
            .map_err(err("IP_MULTICAST_ALL"))?;
        socket::setsockopt(&sock, socket::sockopt::Ipv4PacketInfo, &true)
            .map_err(|e| NetError::io("IP_PKTINFO", ifname, e))?;
        // The source the adverts carry may be an address the host does not have (any more):
        // a configured `mcast_src_ip`/`unicast_src_ip` deleted from the interface. keepalived
        // writes its own IP header (IP_HDRINCL), so its adverts still leave from it; with
        // IP_TRANSPARENT the kernel takes that source from IP_PKTINFO too, instead of
        // failing the send with ENETUNREACH (agent/tests/interop_iface.rs, track_src_ip).
        socket::setsockopt(&sock, socket::sockopt::IpTransparent, &true)
            .map_err(|e| NetError::io("IP_TRANSPARENT", ifname, e))?;
        if let Some(IpAddr::V4(group)) = config.group {
            sock.join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(ifindex))
                .map_err(err("IP_ADD_MEMBERSHIP"))?;
        }
        Self::finish(sock, ifname, ifindex, false)
    }

    fn open_v6(config: &VrrpSocketConfig, ifindex: u32) -> Result<Self, NetError> {
        let ifname = config.ifname.as_str();
        let err = |op: &'static str| move |e: io::Error| NetError::io(op, ifname, e);
        let sock = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(IPPROTO_VRRP)))
            .map_err(err("socket(AF_INET6, SOCK_RAW, 112)"))?;
        sock.bind_device(Some(ifname.as_bytes()))
            .map_err(err("SO_BINDTODEVICE"))?;
        sock.set_unicast_hops_v6(u32::from(config.unicast_ttl))
            .map_err(err("IPV6_UNICAST_HOPS"))?;
        sock.set_multicast_hops_v6(255)
            .map_err(err("IPV6_MULTICAST_HOPS"))?;
        // Traffic class "internetwork control", as keepalived sets it (IPv4's TOS 0xC0).
        sock.set_tclass_v6(0xc0).map_err(err("IPV6_TCLASS"))?;
        sock.set_multicast_if_v6(ifindex)
            .map_err(err("IPV6_MULTICAST_IF"))?;
        sock.set_multicast_loop_v6(false)
            .map_err(err("IPV6_MULTICAST_LOOP"))?;
        sock.set_multicast_all_v6(false)
            .map_err(err("IPV6_MULTICAST_ALL"))?;
        sock.set_recv_hoplimit_v6(true)
            .map_err(err("IPV6_RECVHOPLIMIT"))?;
        socket::setsockopt(&sock, socket::sockopt::Ipv6RecvPacketInfo, &true)
            .map_err(|e| NetError::io("IPV6_RECVPKTINFO", ifname, e))?;
        if let Some(IpAddr::V6(group)) = config.group {
            sock.join_multicast_v6(&group, ifindex)
                .map_err(err("IPV6_ADD_MEMBERSHIP"))?;
        }
        Self::finish(sock, ifname, ifindex, true)
    }

    fn finish(sock: Socket, ifname: &str, ifindex: u32, ipv6: bool) -> Result<Self, NetError> {
        sock.set_nonblocking(true)
            .map_err(|e| NetError::io("O_NONBLOCK", ifname, e))?;
        let fd = UdpSocket::from_std(std::net::UdpSocket::from(std::os::fd::OwnedFd::from(sock)))
            .map_err(|e| NetError::io("register with tokio", ifname, e))?;
        Ok(VrrpSocket {
            fd,
            ifname: ifname.to_owned(),
            ifindex,
            ipv6,
        })
    }

    /// The interface this socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The interface name this socket is bound to.
    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    fn try_send(&self, payload: &[u8], dst: IpAddr, src: Option<IpAddr>) -> io::Result<()> {
        match dst {
            IpAddr::V4(dst) if !self.ipv6 => {
                let src = src.and_then(|s| match s {
                    IpAddr::V4(s) => Some(s),
                    IpAddr::V6(_) => None,
                });
                self.try_send_v4(payload, dst, src)
            }
            IpAddr::V6(dst) if self.ipv6 => {
                let src = src.and_then(|s| match s {
                    IpAddr::V6(s) => Some(s),
                    IpAddr::V4(_) => None,
                });
                self.try_send_v6(payload, dst, src)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("destination {dst} is not of the socket's address family"),
            )),
        }
    }

    fn try_send_v6(&self, payload: &[u8], dst: Ipv6Addr, src: Option<Ipv6Addr>) -> io::Result<()> {
        // A link-local destination needs its interface as scope.
        let scope = if dst.is_unicast_link_local() || dst.is_multicast() {
            self.ifindex
        } else {
            0
        };
        let addr = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, scope));
        let info = src.map(|src| pktinfo6(self.ifindex, src));
        self.send_to(
            payload,
            info.as_ref().map(ControlMessage::Ipv6PacketInfo),
            &addr,
        )
    }

    fn try_send_v4(&self, payload: &[u8], dst: Ipv4Addr, src: Option<Ipv4Addr>) -> io::Result<()> {
        let addr = SockaddrIn::from(SocketAddrV4::new(dst, 0));
        let info = src.map(|src| pktinfo(self.ifindex, src));
        self.send_to(
            payload,
            info.as_ref().map(ControlMessage::Ipv4PacketInfo),
            &addr,
        )
    }

    /// One datagram to `addr`, with the source chosen by `pktinfo` when there is one.
    fn send_to(
        &self,
        payload: &[u8],
        pktinfo: Option<ControlMessage<'_>>,
        addr: &impl SockaddrLike,
    ) -> io::Result<()> {
        let iov = [IoSlice::new(payload)];
        let cmsgs = pktinfo.as_slice();
        socket::sendmsg(
            self.fd.as_raw_fd(),
            &iov,
            cmsgs,
            MsgFlags::empty(),
            Some(addr),
        )?;
        Ok(())
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<ReceivedPacket> {
        if self.ipv6 {
            self.try_recv_v6(buf)
        } else {
            self.try_recv_v4(buf)
        }
    }

    fn try_recv_v6(&self, buf: &mut [u8]) -> io::Result<ReceivedPacket> {
        let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int);
        let mut iov = [IoSliceMut::new(buf)];
        let msg = socket::recvmsg::<SockaddrIn6>(
            self.fd.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )?;
        let len = msg.bytes;
        let src = msg.address.map_or(Ipv6Addr::UNSPECIFIED, |a| a.ip());
        let mut ifindex = self.ifindex;
        let mut dst = Ipv6Addr::UNSPECIFIED;
        let mut hop_limit = None;
        for c in msg.cmsgs()? {
            match c {
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    ifindex = info.ipi6_ifindex;
                    dst = Ipv6Addr::from(info.ipi6_addr.s6_addr);
                }
                ControlMessageOwned::Ipv6HopLimit(h) => hop_limit = u8::try_from(h).ok(),
                _ => {}
            }
        }
        Ok(ReceivedPacket {
            bytes: iov[0][..len].to_vec(),
            ifindex,
            src: IpAddr::V6(src),
            dst: IpAddr::V6(dst),
            hop_limit,
        })
    }

    fn try_recv_v4(&self, buf: &mut [u8]) -> io::Result<ReceivedPacket> {
        let mut cmsg = nix::cmsg_space!(libc::in_pktinfo);
        let mut iov = [IoSliceMut::new(buf)];
        let msg = socket::recvmsg::<SockaddrIn>(
            self.fd.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )?;
        let len = msg.bytes;
        let src = msg.address.map_or(Ipv4Addr::UNSPECIFIED, |a| a.ip());
        // With SO_BINDTODEVICE the ingress interface is ours; PKTINFO confirms it and gives
        // the header's destination without parsing.
        let mut ifindex = self.ifindex;
        let mut dst = Ipv4Addr::UNSPECIFIED;
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::Ipv4PacketInfo(info) = c {
                ifindex = u32::try_from(info.ipi_ifindex).unwrap_or(self.ifindex);
                dst = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
            }
        }
        Ok(ReceivedPacket {
            bytes: iov[0][..len].to_vec(),
            ifindex,
            src: IpAddr::V4(src),
            dst: IpAddr::V4(dst),
            hop_limit: None,
        })
    }
}

/// Builds the `in_pktinfo` that pins the outgoing interface and source address.
fn pktinfo(ifindex: u32, src: Ipv4Addr) -> libc::in_pktinfo {
    libc::in_pktinfo {
        ipi_ifindex: i32::try_from(ifindex).unwrap_or(0),
        ipi_spec_dst: libc::in_addr {
            s_addr: u32::from(src).to_be(),
        },
        ipi_addr: libc::in_addr { s_addr: 0 },
    }
}

/// Builds the `in6_pktinfo` that pins the outgoing interface and source address.
fn pktinfo6(ifindex: u32, src: Ipv6Addr) -> libc::in6_pktinfo {
    libc::in6_pktinfo {
        ipi6_addr: libc::in6_addr {
            s6_addr: src.octets(),
        },
        ipi6_ifindex: ifindex,
    }
}

impl VrrpIo for VrrpSocket {
    async fn send(&self, payload: &[u8], dst: IpAddr, src: Option<IpAddr>) -> Result<(), NetError> {
        self.fd
            .async_io(Interest::WRITABLE, || self.try_send(payload, dst, src))
            .await
            .map_err(|e| NetError::io("sendmsg", &self.ifname, e))
    }

    async fn recv(&self) -> Result<ReceivedPacket, NetError> {
        let mut buf = vec![0u8; RECV_BUF];
        self.fd
            .async_io(Interest::READABLE, || self.try_recv(&mut buf))
            .await
            .map_err(|e| NetError::io("recvmsg", &self.ifname, e))
    }
}
