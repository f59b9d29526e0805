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
//! The schedule helpers reproduce keepalived's `vrrp_garp_master_delay`,
//! `vrrp_garp_master_repeat`, `vrrp_garp_interval` and `vrrp_garp_master_refresh[_repeat]`.

use std::future::Future;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

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

/// keepalived's gratuitous ARP timing (global_defs or per instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GarpParams {
    /// `vrrp_garp_master_delay`: when the second burst follows the first after becoming
    /// MASTER; zero means no second burst. keepalived's default is 5 s.
    pub master_delay: Duration,
    /// `vrrp_garp_master_repeat`: packets per VIP in each burst. Default 5.
    pub master_repeat: u32,
    /// `vrrp_garp_interval`: gap between consecutive packets on an interface. Default 0.
    pub interval: Duration,
    /// `vrrp_garp_master_refresh`: period of refresh bursts while MASTER; zero means none
    /// (the default).
    pub master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat`: packets per VIP in a refresh burst. Default 1.
    pub master_refresh_repeat: u32,
}

impl Default for GarpParams {
    fn default() -> Self {
        GarpParams {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            interval: Duration::ZERO,
            master_refresh: Duration::ZERO,
            master_refresh_repeat: 1,
        }
    }
}

impl GarpParams {
    /// Offsets from the transition to MASTER at which a burst sends one round: each round is
    /// one packet for every VIP. The first burst starts at once, the second `master_delay`
    /// later; rounds within a burst are `interval` apart.
    pub fn master_schedule(&self) -> Vec<Duration> {
        let burst =
            |start: Duration| (0..self.master_repeat).map(move |i| start + self.interval * i);
        let mut out: Vec<Duration> = burst(Duration::ZERO).collect();
        if !self.master_delay.is_zero() {
            out.extend(burst(self.master_delay));
        }
        out
    }

    /// Offsets from the start of a refresh period at which rounds go out; empty when refresh
    /// is off.
    pub fn refresh_schedule(&self) -> Vec<Duration> {
        if self.master_refresh.is_zero() {
            return Vec::new();
        }
        (0..self.master_refresh_repeat)
            .map(|i| self.interval * i)
            .collect()
    }
}

/// Sends one gratuitous ARP per VIP at each offset of `schedule`, measured from the call.
/// Errors are returned per round to the caller's log; sending continues. Cancel by dropping
/// the future (e.g. on leaving MASTER).
pub async fn run_schedule<G: GarpIo>(
    sender: &G,
    vips: &[Ipv4Addr],
    schedule: &[Duration],
) -> Vec<NetError> {
    let start = tokio::time::Instant::now();
    let mut errors = Vec::new();
    for offset in schedule {
        tokio::time::sleep_until(start + *offset).await;
        for vip in vips {
            if let Err(e) = sender.send_garp(*vip).await {
                errors.push(e);
            }
        }
    }
    errors
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
    fn default_master_schedule_is_two_bursts_of_five() {
        let s = GarpParams::default().master_schedule();
        assert_eq!(s.len(), 10);
        assert!(s[..5].iter().all(|d| d.is_zero()));
        assert!(s[5..].iter().all(|d| *d == Duration::from_secs(5)));
    }

    #[test]
    fn interval_spaces_rounds_and_zero_delay_drops_second_burst() {
        let p = GarpParams {
            master_delay: Duration::ZERO,
            master_repeat: 3,
            interval: Duration::from_millis(100),
            ..GarpParams::default()
        };
        assert_eq!(
            p.master_schedule(),
            [0, 100, 200].map(Duration::from_millis).to_vec()
        );
        assert!(p.refresh_schedule().is_empty());
        let r = GarpParams {
            master_refresh: Duration::from_secs(60),
            master_refresh_repeat: 2,
            ..p
        };
        assert_eq!(
            r.refresh_schedule(),
            [0, 100].map(Duration::from_millis).to_vec()
        );
    }
}
