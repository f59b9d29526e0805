//! Gratuitous ARP: announcing a VIP's new owner on the LAN, and when to repeat it.
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
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{
    self, AddressFamily, MsgFlags, SockFlag, SockType, SockaddrLike, SockaddrStorage,
};

use super::NetError;

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

/// Sending gratuitous ARP for a VIP; [`GarpSender`] is the real one.
pub trait GarpIo {
    fn send_garp(&self, vip: Ipv4Addr) -> impl Future<Output = Result<(), NetError>> + Send;
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
}

fn bind_link(fd: &OwnedFd, link: &SockaddrStorage) -> nix::Result<()> {
    socket::bind(fd.as_raw_fd(), link)
}

impl GarpIo for GarpSender {
    async fn send_garp(&self, vip: Ipv4Addr) -> Result<(), NetError> {
        self.send_now(vip)
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
}
