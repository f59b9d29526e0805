//! The network edges against a real kernel, as root, in throw-away network namespaces:
//! VIPs over rtnetlink, the start-up cleanup rule, VRRP packets over a veth pair, gratuitous
//! ARP, and link notifications. Not root: every test is reported as ignored, not passed.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::netns::{NetNs, is_root, veth};
use hactl_agent::network::addr::{self, AddressIo, AddressManager, Netlink, Scope, Vip};
use hactl_agent::network::garp::{GarpSender, garp_frame};
use hactl_agent::network::link;
use hactl_agent::network::{NetError, VrrpIo, VrrpSocket, VrrpSocketConfig};
use libtest_mimic::{Arguments, Failed, Trial};
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType};
use nix::sys::time::TimeVal;

const TEST_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 100, 19);

// The harness lists each test as "ignored" when not root; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    if !root {
        eprintln!("network_netns: not root, so the network-namespace tests are SKIPPED (ignored)");
    }
    let tests: Vec<(&str, fn())> = vec![
        (
            "vip_added_appears_in_ip_addr_and_is_removed",
            vip_add_remove,
        ),
        ("remove_refuses_a_foreign_address", remove_refuses_foreign),
        ("cleanup_stale_removes_only_configured_vips", cleanup_stale),
        ("vrrp_multicast_crosses_veth_with_ttl_255", vrrp_multicast),
        ("vrrp_unicast_and_pinned_source", vrrp_unicast_with_source),
        ("vrrp_unicast_ttl_applies_to_unicast_only", vrrp_unicast_ttl),
        (
            "vrrp_ipv6_multicast_hop_limit_255_unicast_hops_and_nodad_vip",
            vrrp_ipv6,
        ),
        ("gratuitous_arp_reaches_the_peer", garp_seen_by_peer),
        ("gratuitous_arp_seen_by_tcpdump", garp_seen_by_tcpdump),
        ("link_up_down_notifications", link_events),
        (
            "keepalived_hears_us_and_we_hear_keepalived",
            keepalived_interop,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| {
            Trial::test(name, move || {
                f();
                Ok::<(), Failed>(())
            })
            .with_ignored_flag(!root)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A namespace with an interface `d0` up, holding 198.51.100.1/24. It is one end of a veth
/// pair inside the namespace (this kernel may lack the dummy driver).
fn ns_with_dummy(tag: &str) -> NetNs {
    let ns = NetNs::create(tag);
    ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d0p"]);
    ns.ip(&["link", "set", "d0p", "up"]);
    ns.ip(&["link", "set", "d0", "up"]);
    ns.ip(&["addr", "add", "198.51.100.1/24", "dev", "d0"]);
    ns
}

fn addrs(ns: &NetNs) -> String {
    ns.ip(&["-4", "addr", "show", "dev", "d0"])
}

fn vip_add_remove() {
    let ns = ns_with_dummy("vip");
    let ifindex = ns.ifindex("d0");
    runtime().block_on(async {
        let nl = ns.enter(Netlink::connect).expect("netlink");
        let vip = Vip {
            label: Some("d0:vip".into()),
            broadcast: Some(Ipv4Addr::new(198, 51, 100, 255)),
            scope: Scope::Global,
            ..Vip::new(ifindex, Ipv4Addr::new(198, 51, 100, 10), 24)
        };
        let mut mgr = AddressManager::new(nl, vec![vip.clone()]);
        mgr.add(&vip).await.expect("add VIP");
        let shown = addrs(&ns);
        assert!(
            shown
                .contains("inet 198.51.100.10/24 brd 198.51.100.255 scope global secondary d0:vip"),
            "ip addr shows:\n{shown}"
        );
        let listed = mgr.io().list(ifindex).await.expect("list");
        assert!(listed.iter().any(|a| a.matches(&vip)), "{listed:?}");
        // Adding again is idempotent (after a restart the VIP may already be there).
        mgr.add(&vip).await.expect("add twice");

        mgr.remove(&vip).await.expect("remove VIP");
        let shown = addrs(&ns);
        assert!(!shown.contains("198.51.100.10"), "still there:\n{shown}");
        assert!(shown.contains("198.51.100.1/24"), "primary gone:\n{shown}");
    });
}

fn remove_refuses_foreign() {
    let ns = ns_with_dummy("own");
    let ifindex = ns.ifindex("d0");
    ns.ip(&["addr", "add", "198.51.100.20/32", "dev", "d0"]);
    runtime().block_on(async {
        let nl = ns.enter(Netlink::connect).expect("netlink");
        let configured = Vip::new(ifindex, Ipv4Addr::new(198, 51, 100, 10), 32);
        let mut mgr = AddressManager::new(nl, vec![configured]);
        let foreign = Vip::new(ifindex, Ipv4Addr::new(198, 51, 100, 20), 32);
        let err = mgr.remove(&foreign).await.expect_err("must refuse");
        assert!(matches!(err, NetError::NotOwned { .. }), "{err}");
    });
    assert!(addrs(&ns).contains("198.51.100.20/32"));
}

fn cleanup_stale() {
    let ns = ns_with_dummy("stale");
    let ifindex = ns.ifindex("d0");
    // Left over from a crashed agent: two configured VIPs. Foreign: .20/32, and .21/32 which
    // is configured as .21/24, so it is not an exact match and must stay.
    for a in [
        "198.51.100.10/32",
        "198.51.100.11/24",
        "198.51.100.20/32",
        "198.51.100.21/32",
    ] {
        ns.ip(&["addr", "add", a, "dev", "d0"]);
    }
    let configured = [
        Vip::new(ifindex, Ipv4Addr::new(198, 51, 100, 10), 32),
        Vip::new(ifindex, Ipv4Addr::new(198, 51, 100, 11), 24),
        Vip::new(ifindex, Ipv4Addr::new(198, 51, 100, 12), 32),
        Vip::new(ifindex, Ipv4Addr::new(198, 51, 100, 21), 24),
    ];
    let removed = runtime().block_on(async {
        let nl = ns.enter(Netlink::connect).expect("netlink");
        addr::cleanup_stale(&nl, ifindex, &configured)
            .await
            .expect("cleanup")
    });
    let mut removed: Vec<String> = removed
        .iter()
        .map(|a| format!("{}/{}", a.addr, a.prefix_len))
        .collect();
    removed.sort();
    assert_eq!(removed, ["198.51.100.10/32", "198.51.100.11/24"]);
    let shown = addrs(&ns);
    for kept in ["198.51.100.1/24", "198.51.100.20/32", "198.51.100.21/32"] {
        assert!(shown.contains(kept), "{kept} removed:\n{shown}");
    }
    for gone in ["198.51.100.10/", "198.51.100.11/"] {
        assert!(!shown.contains(gone), "{gone} kept:\n{shown}");
    }
}

/// Two namespaces joined by veth `va` (198.51.100.1) — `vb` (198.51.100.2).
fn veth_pair(tag: &str) -> (NetNs, NetNs) {
    let a = NetNs::create(&format!("{tag}a"));
    let b = NetNs::create(&format!("{tag}b"));
    veth(&a, "va", &b, "vb");
    a.ip(&["addr", "add", "198.51.100.1/24", "dev", "va"]);
    b.ip(&["addr", "add", "198.51.100.2/24", "dev", "vb"]);
    (a, b)
}

fn socket_in(ns: &NetNs, ifname: &str, group: Option<Ipv4Addr>) -> VrrpSocket {
    socket_with_ttl(ns, ifname, group, 255)
}

fn socket_with_ttl(ns: &NetNs, ifname: &str, group: Option<Ipv4Addr>, ttl: u8) -> VrrpSocket {
    let cfg = VrrpSocketConfig {
        ifname: ifname.into(),
        group: group.map(IpAddr::V4),
        unicast_ttl: ttl,
        ipv6: false,
    };
    ns.enter(|| VrrpSocket::open(&cfg))
        .expect("open VRRP socket")
}

async fn recv_within(sock: &VrrpSocket) -> hactl_agent::network::ReceivedPacket {
    tokio::time::timeout(Duration::from_secs(5), sock.recv())
        .await
        .expect("a packet within 5 s")
        .expect("recv")
}

/// Checks the IPv4 header of a received VRRP datagram and returns its payload.
fn check_ip_header(bytes: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> &[u8] {
    assert_eq!(bytes[0] >> 4, 4, "IPv4");
    let ihl = usize::from(bytes[0] & 0x0f) * 4;
    assert_eq!(bytes[8], 255, "TTL");
    assert_eq!(bytes[9], 112, "protocol");
    assert_eq!(
        Ipv4Addr::from(<[u8; 4]>::try_from(&bytes[12..16]).expect("4")),
        src
    );
    assert_eq!(
        Ipv4Addr::from(<[u8; 4]>::try_from(&bytes[16..20]).expect("4")),
        dst
    );
    &bytes[ihl..]
}

fn vrrp_multicast() {
    let (a, b) = veth_pair("mc");
    let vb_index = b.ifindex("vb");
    runtime().block_on(async {
        let tx = socket_in(&a, "va", Some(TEST_GROUP));
        let rx = socket_in(&b, "vb", Some(TEST_GROUP));
        // Joined to the default group only: must not see 224.0.100.19 traffic.
        let other = socket_in(&b, "vb", Some(Ipv4Addr::new(224, 0, 0, 18)));
        let payload = [0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0xaa, 0xbb];
        tx.send(&payload, TEST_GROUP.into(), None)
            .await
            .expect("send");
        let got = recv_within(&rx).await;
        assert_eq!(got.ifindex, vb_index);
        assert_eq!(got.src, IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));
        assert_eq!(got.dst, IpAddr::V4(TEST_GROUP));
        assert_eq!(
            check_ip_header(&got.bytes, Ipv4Addr::new(198, 51, 100, 1), TEST_GROUP),
            payload
        );
        let none = tokio::time::timeout(Duration::from_millis(300), other.recv()).await;
        assert!(
            none.is_err(),
            "socket on 224.0.0.18 heard 224.0.100.19: {none:?}"
        );
        // Loopback is off: the sender does not hear itself.
        let echo = tokio::time::timeout(Duration::from_millis(300), tx.recv()).await;
        assert!(echo.is_err(), "sender heard its own packet: {echo:?}");
    });
}

fn vrrp_unicast_with_source() {
    let (a, b) = veth_pair("uc");
    a.ip(&["addr", "add", "198.51.100.5/24", "dev", "va"]);
    runtime().block_on(async {
        let tx = socket_in(&a, "va", None);
        let rx = socket_in(&b, "vb", None);
        let peer = Ipv4Addr::new(198, 51, 100, 2);
        tx.send(b"unicast", peer.into(), None).await.expect("send");
        let got = recv_within(&rx).await;
        assert_eq!(got.dst, IpAddr::V4(peer));
        assert_eq!(
            check_ip_header(&got.bytes, Ipv4Addr::new(198, 51, 100, 1), peer),
            b"unicast"
        );

        let pinned = Ipv4Addr::new(198, 51, 100, 5);
        tx.send(b"pinned", peer.into(), Some(pinned.into()))
            .await
            .expect("send");
        let got = recv_within(&rx).await;
        assert_eq!(got.src, IpAddr::V4(pinned));
        assert_eq!(check_ip_header(&got.bytes, pinned, peer), b"pinned");
    });
}

/// `unicast_ttl 64`: unicast adverts leave with TTL 64 (as keepalived sends them), multicast
/// ones from the same socket still with 255.
fn vrrp_unicast_ttl() {
    let (a, b) = veth_pair("ut");
    runtime().block_on(async {
        let tx = socket_with_ttl(&a, "va", Some(TEST_GROUP), 64);
        let rx_uni = socket_in(&b, "vb", None);
        let peer = Ipv4Addr::new(198, 51, 100, 2);
        tx.send(b"unicast", peer.into(), None).await.expect("send");
        let got = recv_within(&rx_uni).await;
        assert_eq!(got.dst, IpAddr::V4(peer));
        assert_eq!(got.bytes[8], 64, "unicast TTL");
        let rx_multi = socket_in(&b, "vb", Some(TEST_GROUP));
        tx.send(b"multicast", TEST_GROUP.into(), None)
            .await
            .expect("send");
        let got = recv_within(&rx_multi).await;
        assert_eq!(got.dst, IpAddr::V4(TEST_GROUP));
        assert_eq!(got.bytes[8], 255, "multicast TTL");
    });
}

/// VRRPv3 over IPv6 on a veth pair: multicast to ff02::12 arrives with hop limit 255 (read
/// from IPV6_HOPLIMIT), from the pinned link-local source, payload only; unicast leaves with
/// `unicast_ttl` as hop limit; an IPv6 VIP is added with `nodad` and removed.
fn vrrp_ipv6() {
    let a = NetNs::create("6a");
    let b = NetNs::create("6b");
    for ns in [&a, &b] {
        common::netns::run(&[
            "ip",
            "netns",
            "exec",
            &ns.name,
            "sysctl",
            "-qw",
            "net.ipv6.conf.default.accept_dad=0",
        ]);
    }
    veth(&a, "va", &b, "vb");
    a.ip(&["addr", "add", "2001:db8:80::1/64", "dev", "va", "nodad"]);
    b.ip(&["addr", "add", "2001:db8:80::2/64", "dev", "vb", "nodad"]);
    let link_local = |ns: &NetNs, ifname: &str| -> Ipv6Addr {
        let text = ns.ip(&["-6", "-o", "addr", "show", "dev", ifname, "scope", "link"]);
        let word = text
            .split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)
            .expect("a link-local address");
        word.split('/')
            .next()
            .and_then(|w| w.parse().ok())
            .expect("an IPv6 address")
    };
    let a_ll = link_local(&a, "va");
    let group = IpAddr::V6(hactl_agent::network::vrrp_socket::VRRP_GROUP_V6);
    let open = |ns: &NetNs, ifname: &str, ttl: u8| {
        let cfg = VrrpSocketConfig {
            unicast_ttl: ttl,
            ..VrrpSocketConfig::multicast_v6(ifname)
        };
        ns.enter(|| VrrpSocket::open(&cfg))
            .expect("open IPv6 VRRP socket")
    };
    let vb_index = b.ifindex("vb");
    runtime().block_on(async {
        let tx = open(&a, "va", 64);
        let rx = open(&b, "vb", 255);
        let payload = [0x31, 0x50, 0x64, 0x01, 0x00, 0x64, 0xaa, 0xbb];
        tx.send(&payload, group, Some(IpAddr::V6(a_ll)))
            .await
            .expect("send multicast");
        let got = recv_within(&rx).await;
        assert_eq!(got.bytes, payload, "payload only, no IPv6 header");
        assert_eq!(got.src, IpAddr::V6(a_ll));
        assert_eq!(got.dst, group);
        assert_eq!(got.ifindex, vb_index);
        assert_eq!(got.hop_limit, Some(255), "multicast hop limit");

        let peer: IpAddr = "2001:db8:80::2".parse().expect("address");
        let own: IpAddr = "2001:db8:80::1".parse().expect("address");
        tx.send(b"unicast", peer, Some(own))
            .await
            .expect("send unicast");
        let got = recv_within(&rx).await;
        assert_eq!(got.bytes, b"unicast");
        assert_eq!((got.src, got.dst), (own, peer));
        assert_eq!(got.hop_limit, Some(64), "unicast_ttl as hop limit");
        // An IPv4 destination on an IPv6 socket is refused, not sent.
        assert!(
            tx.send(b"x", IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)), None)
                .await
                .is_err()
        );

        // An IPv6 VIP goes on with nodad, as keepalived adds it, and comes off again.
        let ifindex = a.ifindex("va");
        let nl = a.enter(Netlink::connect).expect("netlink");
        let vip = Vip::new(
            ifindex,
            "2001:db8:80::100".parse::<Ipv6Addr>().expect("addr"),
            64,
        );
        let mut mgr = AddressManager::new(nl, vec![vip.clone()]);
        mgr.add(&vip).await.expect("add IPv6 VIP");
        let shown = a.ip(&["-6", "addr", "show", "dev", "va"]);
        assert!(
            shown.contains("inet6 2001:db8:80::100/64 scope global nodad"),
            "{shown}"
        );
        assert!(
            mgr.io()
                .list(ifindex)
                .await
                .expect("list")
                .iter()
                .any(|x| x.matches(&vip)),
            "listed"
        );
        mgr.remove(&vip).await.expect("remove IPv6 VIP");
        assert!(
            !a.ip(&["-6", "addr", "show", "dev", "va"])
                .contains("2001:db8:80::100")
        );
    });
}

const VIP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);

fn mac_of(ns: &NetNs, ifname: &str) -> [u8; 6] {
    let out = ns.ip(&["-o", "link", "show", "dev", ifname]);
    let text = out
        .split("link/ether ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("link/ether in ip link output");
    let mut mac = [0u8; 6];
    for (m, h) in mac.iter_mut().zip(text.split(':')) {
        *m = u8::from_str_radix(h, 16).expect("hex");
    }
    mac
}

fn garp_seen_by_peer() {
    let (a, b) = veth_pair("garp");
    let mac = mac_of(&a, "va");
    // A packet socket on the peer that sees every frame on vb.
    let listener = b.enter(|| {
        let fd = socket::socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )
        .expect("packet socket");
        socket::setsockopt(
            &fd,
            socket::sockopt::ReceiveTimeout,
            &TimeVal::new(0, 200_000),
        )
        .expect("SO_RCVTIMEO");
        fd
    });
    let sender = a
        .enter(|| GarpSender::open("va"))
        .expect("open GARP sender");
    assert_eq!(sender.mac(), mac);
    sender.send_now(VIP).expect("send");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 1600];
    loop {
        assert!(
            Instant::now() < deadline,
            "no gratuitous ARP on vb within 5 s"
        );
        let Ok(n) = socket::recv(listener.as_raw_fd(), &mut buf, MsgFlags::empty()) else {
            continue;
        };
        if n >= 42 && buf[12..14] == [0x08, 0x06] {
            assert_eq!(buf[..42], garp_frame(mac, VIP));
            break;
        }
    }
}

fn garp_seen_by_tcpdump() {
    let (a, b) = veth_pair("tcpd");
    let mut tcpdump = std::process::Command::new("ip")
        .args([
            "netns", "exec", &b.name, "tcpdump", "-l", "-n", "-e", "-c", "1", "-i", "vb", "arp",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn tcpdump");
    let sender = a
        .enter(|| GarpSender::open("va"))
        .expect("open GARP sender");
    // tcpdump needs a moment to attach; keep announcing until it has captured one.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        sender.send_now(VIP).expect("send");
        std::thread::sleep(Duration::from_millis(200));
        if let Some(status) = tcpdump.try_wait().expect("wait tcpdump") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = tcpdump.kill();
            panic!("tcpdump saw no ARP within 10 s");
        }
    };
    let out = tcpdump.wait_with_output().expect("tcpdump output");
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(status.success(), "tcpdump failed: {line}");
    assert!(
        line.contains("> ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806)")
            && line
                .contains("Request who-has 198.51.100.10 (ff:ff:ff:ff:ff:ff) tell 198.51.100.10"),
        "tcpdump printed: {line}"
    );
}

fn link_events() {
    let ns = NetNs::create("link");
    ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d0p"]);
    ns.ip(&["link", "set", "d0p", "up"]);
    let ifindex = ns.ifindex("d0");
    runtime().block_on(async {
        let nl = ns.enter(Netlink::connect).expect("netlink");
        let state = nl.link_state(ifindex).await.expect("link state");
        assert!(!state.up, "{state:?}");
        assert_eq!(state.ifname, "d0");
        let mut events = ns.enter(link::monitor_links).expect("monitor");
        ns.ip(&["link", "set", "d0", "up"]);
        let up = next_for(&mut events, ifindex, true).await;
        assert!(up.up && !up.removed);
        assert!(nl.link_state(ifindex).await.expect("state").up);
        ns.ip(&["link", "set", "d0", "down"]);
        let down = next_for(&mut events, ifindex, false).await;
        assert!(!down.up);
    });
}

/// Waits for an event on `ifindex` with the wanted up/down state.
async fn next_for(
    events: &mut tokio::sync::mpsc::Receiver<link::LinkEvent>,
    ifindex: u32,
    up: bool,
) -> link::LinkEvent {
    let wait = async {
        while let Some(e) = events.recv().await {
            if e.ifindex == ifindex && e.up == up {
                return e;
            }
        }
        panic!("link monitor closed");
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("link event within 5 s")
}

/// Kills (SIGTERM, then SIGKILL) a process started by a test when dropped.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A VRRPv2 advertisement (RFC 3768 section 5.1) for one VIP, no authentication.
fn vrrp2_advert(vrid: u8, priority: u8, vip: Ipv4Addr) -> Vec<u8> {
    let mut p = vec![0x21, vrid, priority, 1, 0, 1, 0, 0];
    p.extend_from_slice(&vip.octets());
    p.extend_from_slice(&[0; 8]);
    let mut sum: u32 = p
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let checksum = !u16::try_from(sum).expect("folded");
    p[6..8].copy_from_slice(&checksum.to_be_bytes());
    p
}

/// Real keepalived in one namespace, our socket in the other, VRRP group 224.0.100.19:
/// we receive keepalived's adverts with TTL 255, and keepalived accepts ours (TTL, group,
/// interface all right) so much that a higher priority makes it give up the VIP.
fn keepalived_interop() {
    let (a, b) = veth_pair("ka");
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("keepalived.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {
    state MASTER
    interface va
    virtual_router_id 51
    priority 100
    advert_int 1
    mcast_dst_ip 224.0.100.19
    virtual_ipaddress {
        198.51.100.10/32
    }
}
",
    )
    .expect("write config");
    let d = dir.path().display();
    let log = std::fs::File::create(dir.path().join("log")).expect("log");
    let _keepalived = ChildGuard(
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &a.name,
                "keepalived",
                "-P",
                "-n",
                "-l",
                "-D",
            ])
            .arg("-f")
            .arg(&conf)
            .args(["-p", &format!("{d}/k.pid"), "-r", &format!("{d}/v.pid")])
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn keepalived"),
    );
    let keepalived_log = || std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
    runtime().block_on(async {
        let sock = socket_in(&b, "vb", Some(TEST_GROUP));
        let advert = tokio::time::timeout(Duration::from_secs(10), sock.recv())
            .await
            .unwrap_or_else(|_| panic!("no advert from keepalived in 10 s:\n{}", keepalived_log()))
            .expect("recv");
        let vrrp = check_ip_header(&advert.bytes, Ipv4Addr::new(198, 51, 100, 1), TEST_GROUP);
        assert_eq!(
            vrrp[..4],
            [0x21, 51, 100, 1],
            "VRRPv2 advert, VRID 51, prio 100, 1 VIP"
        );
        assert!(
            a.ip(&["-4", "addr", "show", "dev", "va"])
                .contains("198.51.100.10/32")
        );

        // Out-prioritise it: keepalived must go BACKUP and remove the VIP.
        let ours = vrrp2_advert(51, 200, VIP);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            sock.send(&ours, TEST_GROUP.into(), None)
                .await
                .expect("send");
            tokio::time::sleep(Duration::from_millis(200)).await;
            if !a
                .ip(&["-4", "addr", "show", "dev", "va"])
                .contains("198.51.100.10")
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "keepalived kept the VIP:\n{}",
                keepalived_log()
            );
        }
    });
    assert!(
        keepalived_log().contains("Entering BACKUP STATE"),
        "{}",
        keepalived_log()
    );
}
