//! Gratuitous ARP: announcing a VIP's new owner on the LAN, and when to repeat it. For an IPv6
//! VIP the announcement is an unsolicited Neighbour Advertisement instead (RFC 4861 section
//! 7.2.6), built as keepalived 2.2.7's `ndisc_send_unsolicited_na_immediate` builds it: from
//! the VIP to ff02::1 (Ethernet 33:33:00:00:00:01), hop limit 255, target the VIP, override
//! flag set, router flag set when the interface forwards IPv6, and the interface's MAC as
//! target link-layer address option. It goes out on the same `AF_PACKET` socket.
//!
//! The frame is what keepalived sends: an Ethernet broadcast ARP *request* whose sender and
//! target protocol address are both the VIP, sender hardware address the interface's MAC and
//! target hardware address broadcast. It goes out on an `AF_PACKET` socket bound to the
//! interface. The socket is opened with protocol 0, so it receives nothing.
//!
//! The link-layer address to bind to comes from `getifaddrs()`, whose `AF_PACKET` entry is a
//! ready `sockaddr_ll` for the interface (index and MAC): that spares us building one by hand,
//! which nix and socket2 only allow in `unsafe` code.
//!
//! When to send them is the state machine's decision ([`crate::config::Garp`]); the runtime
//! spaces the rounds of a burst by `vrrp_garp_interval`.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{
    self, AddressFamily, MsgFlags, SockFlag, SockType, SockaddrLike, SockaddrStorage,
};

use super::NetError;
use crate::packet::checksum::{ICMPV6_PROTOCOL, icmpv6_checksum};

/// Ethernet broadcast.
const BROADCAST: [u8; 6] = [0xff; 6];
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ARPHRD_ETHER: u16 = 1;
const ARPOP_REQUEST: u16 = 1;
/// Ethernet header (14) + ARP for Ethernet/IPv4 (28).
pub const GARP_FRAME_LEN: usize = 42;

/// Builds the gratuitous ARP frame for `vip` from `mac`.
pub fn garp_frame(mac: [u8; 6], vip: Ipv4Addr) -> [u8; GARP_FRAME_LEN] {
    let mut f = [0u8; GARP_FRAME_LEN];
    f[0..6].copy_from_slice(&BROADCAST);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    f[14..16].copy_from_slice(&ARPHRD_ETHER.to_be_bytes());
    f[16..18].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    f[18] = 6; // hardware address length
    f[19] = 4; // protocol address length
    f[20..22].copy_from_slice(&ARPOP_REQUEST.to_be_bytes());
    f[22..28].copy_from_slice(&mac); // sender hardware address
    f[28..32].copy_from_slice(&vip.octets()); // sender protocol address
    f[32..38].copy_from_slice(&BROADCAST); // target hardware address
    f[38..42].copy_from_slice(&vip.octets()); // target protocol address
    f
}

const ETHERTYPE_IPV6: u16 = 0x86dd;
/// ICMPv6 type of a Neighbour Advertisement.
const ND_NEIGHBOR_ADVERT: u8 = 136;
/// NA flags (first byte of the flags word): router, override.
const ND_NA_FLAG_ROUTER: u8 = 0x80;
const ND_NA_FLAG_OVERRIDE: u8 = 0x20;
/// NDP option "target link-layer address".
const ND_OPT_TARGET_LINKADDR: u8 = 2;
/// Ethernet (14) + IPv6 header (40) + NA (24) + target link-layer address option (8).
pub const NA_FRAME_LEN: usize = 86;
/// All-nodes multicast, where unsolicited NAs go.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// Builds the unsolicited Neighbour Advertisement for `vip` from `mac`; `router` sets the
/// router flag (keepalived sets it when the interface forwards IPv6).
pub fn na_frame(mac: [u8; 6], vip: Ipv6Addr, router: bool) -> [u8; NA_FRAME_LEN] {
    let mut f = [0u8; NA_FRAME_LEN];
    // Ethernet: RFC 2464 section 7 maps ff02::1 to 33:33:00:00:00:01.
    f[0..6].copy_from_slice(&[0x33, 0x33, 0, 0, 0, 1]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
    // IPv6 header.
    let ip = &mut f[14..54];
    ip[0] = 0x60;
    ip[4..6].copy_from_slice(&32u16.to_be_bytes()); // payload length: NA + option
    ip[6] = ICMPV6_PROTOCOL;
    ip[7] = 255; // hop limit: receivers drop NDP with any other
    ip[8..24].copy_from_slice(&vip.octets());
    ip[24..40].copy_from_slice(&ALL_NODES.octets());
    // ICMPv6 Neighbour Advertisement and its option.
    let icmp = &mut f[54..86];
    icmp[0] = ND_NEIGHBOR_ADVERT;
    icmp[4] = ND_NA_FLAG_OVERRIDE | if router { ND_NA_FLAG_ROUTER } else { 0 };
    icmp[8..24].copy_from_slice(&vip.octets());
    icmp[24] = ND_OPT_TARGET_LINKADDR;
    icmp[25] = 1; // length in units of 8 bytes
    icmp[26..32].copy_from_slice(&mac);
    let sum = icmpv6_checksum(vip, ALL_NODES, icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    f
}

/// Whether `ifname` forwards IPv6 (`net.ipv6.conf.IF.forwarding`), which keepalived reads to
/// set the NA's router flag.
fn ipv6_forwarding(ifname: &str) -> bool {
    std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{ifname}/forwarding"))
        .is_ok_and(|v| v.trim() != "0")
}

/// Sending gratuitous ARP (IPv4) or an unsolicited NA (IPv6) for a VIP; [`GarpSender`] is the
/// real one.
pub trait GarpIo {
    fn send_garp(&self, vip: IpAddr) -> impl Future<Output = Result<(), NetError>> + Send;
}

/// An `AF_PACKET` socket bound to one Ethernet interface.
#[derive(Debug)]
pub struct GarpSender {
    fd: OwnedFd,
    ifname: String,
    mac: [u8; 6],
}

impl GarpSender {
    /// Opens the socket on `ifname` (in the current network namespace).
    pub fn open(ifname: &str) -> Result<Self, NetError> {
        let link = nix::ifaddrs::getifaddrs()
            .map_err(|e| NetError::io("getifaddrs", ifname, e))?
            .filter(|ifa| ifa.interface_name == ifname)
            .find_map(|ifa| {
                ifa.address
                    .filter(|a| a.family() == Some(AddressFamily::Packet))
            })
            .ok_or_else(|| NetError::NoSuchInterface(ifname.to_owned()))?;
        let mac = link
            .as_link_addr()
            .and_then(|l| l.addr())
            .filter(|m| *m != [0; 6])
            .ok_or_else(|| NetError::NoHardwareAddress(ifname.to_owned()))?;
        let fd = socket::socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )
        .map_err(|e| NetError::io("socket(AF_PACKET)", ifname, e))?;
        bind_link(&fd, &link).map_err(|e| NetError::io("bind(AF_PACKET)", ifname, e))?;
        Ok(GarpSender {
            fd,
            ifname: ifname.to_owned(),
            mac,
        })
    }

    /// The interface's hardware address, the ARP sender address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Sends one gratuitous ARP for `vip` now. A full transmit queue (EAGAIN) is an error the
    /// caller may log and ignore: the next repeat will go out.
    pub fn send_now(&self, vip: Ipv4Addr) -> Result<(), NetError> {
        let frame = garp_frame(self.mac, vip);
        socket::send(self.fd.as_raw_fd(), &frame, MsgFlags::empty())
            .map_err(|e| NetError::io("send gratuitous ARP", &self.ifname, e))?;
        Ok(())
    }

    /// Sends one unsolicited Neighbour Advertisement for `vip` now.
    pub fn send_na_now(&self, vip: Ipv6Addr) -> Result<(), NetError> {
        let frame = na_frame(self.mac, vip, ipv6_forwarding(&self.ifname));
        socket::send(self.fd.as_raw_fd(), &frame, MsgFlags::empty())
            .map_err(|e| NetError::io("send unsolicited neighbour advert", &self.ifname, e))?;
        Ok(())
    }
}

fn bind_link(fd: &OwnedFd, link: &SockaddrStorage) -> nix::Result<()> {
    socket::bind(fd.as_raw_fd(), link)
}

impl GarpIo for GarpSender {
    async fn send_garp(&self, vip: IpAddr) -> Result<(), NetError> {
        match vip {
            IpAddr::V4(v4) => self.send_now(v4),
            IpAddr::V6(v6) => self.send_na_now(v6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_layout_matches_keepalived() {
        let mac = [0x02, 0, 0, 0, 0, 0x01];
        let f = garp_frame(mac, Ipv4Addr::new(198, 51, 100, 10));
        let expected: [u8; GARP_FRAME_LEN] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08,
            0x06, // Ethernet
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // htype, ptype, hlen, plen, op=request
            0x02, 0, 0, 0, 0, 0x01, 198, 51, 100, 10, // sender MAC, sender IP
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 198, 51, 100, 10, // target MAC, target IP
        ];
        assert_eq!(f, expected);
    }

    #[test]
    fn neighbour_advert_layout_matches_keepalived() {
        let mac = [0x02, 0, 0, 0, 0, 0x01];
        let vip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
        let f = na_frame(mac, vip, false);
        assert_eq!(
            &f[0..14],
            &[0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x86, 0xdd]
        );
        assert_eq!(&f[14..22], &[0x60, 0, 0, 0, 0, 32, 58, 255]);
        assert_eq!(&f[22..38], &vip.octets());
        assert_eq!(&f[38..54], &ALL_NODES.octets());
        assert_eq!(f[54], 136);
        assert_eq!(f[55], 0);
        assert_eq!(&f[58..62], &[0x20, 0, 0, 0], "override flag only");
        assert_eq!(&f[62..78], &vip.octets());
        assert_eq!(&f[78..86], &[2, 1, 2, 0, 0, 0, 0, 1]);
        // A correct ICMPv6 checksum sums to zero with the pseudo-header.
        assert_eq!(icmpv6_checksum(vip, ALL_NODES, &f[54..]), 0);
        let router = na_frame(mac, vip, true);
        assert_eq!(router[58], 0xa0, "router and override");
        assert_eq!(icmpv6_checksum(vip, ALL_NODES, &router[54..]), 0);
    }
}
