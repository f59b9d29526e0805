//! IPv6 frames from real keepalived 2.2.7 (`data/keepalived-ipv6.txt`, made by
//! `data/capture-keepalived-ipv6.sh` in a network namespace): its VRRPv3 adverts to ff02::12
//! pass the agent's receive checks and re-encode to the same bytes, and the agent's unsolicited
//! Neighbour Advertisements are byte for byte keepalived's.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use hactl_agent::network::garp::{NA_FRAME_LEN, na_frame};
use hactl_agent::packet::{
    Advertisement, AuthConfig, ChecksumMode, Family, LocalInstance, V3Checksum, Version, check_ipv6,
};

/// The frames of one kind ("vrrp" or "na") in the capture.
fn frames(kind: &str) -> Vec<Vec<u8>> {
    let text = include_str!("data/keepalived-ipv6.txt");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(k, _)| *k == kind)
        .map(|(_, hex)| {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect()
        })
        .collect()
}

fn v6(bytes: &[u8]) -> Ipv6Addr {
    Ipv6Addr::from(<[u8; 16]>::try_from(bytes).expect("16 bytes"))
}

const VIPS: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0x36, 0, 0, 0, 0, 0x100),
    Ipv6Addr::new(0x2001, 0xdb8, 0x36, 0, 0, 0, 0, 0x101),
];

#[test]
fn keepalived_ipv6_adverts_pass_our_checks_and_reencode_identically() {
    let adverts = frames("vrrp");
    assert!(adverts.len() >= 3, "the capture holds adverts");
    let addresses: Vec<IpAddr> = VIPS.iter().copied().map(IpAddr::V6).collect();
    let local = LocalInstance {
        version: Version::V3,
        vrid: 36,
        auth: AuthConfig::None,
        advert_interval: Duration::from_secs(1),
        addresses: &addresses,
        check_addresses: true,
        v3_checksum: V3Checksum::PseudoHeader,
        unicast: false,
        check_unicast_src: false,
        unicast_peers: &[],
    };
    for frame in adverts {
        // Ethernet to the ff02::12 group MAC, IPv6, next header 112, hop limit 255.
        assert_eq!(&frame[0..6], &[0x33, 0x33, 0, 0, 0, 0x12]);
        assert_eq!(&frame[12..14], &[0x86, 0xdd]);
        let ip = &frame[14..54];
        assert_eq!(ip[6], 112, "next header VRRP");
        assert_eq!(ip[7], 255, "hop limit");
        let (source, destination) = (v6(&ip[8..24]), v6(&ip[24..40]));
        assert!(
            source.is_unicast_link_local(),
            "sent from the link-local address"
        );
        assert_eq!(destination, "ff02::12".parse::<Ipv6Addr>().expect("addr"));
        let payload = &frame[54..];
        let received = check_ipv6(payload, source, destination, ip[7], &local)
            .expect("keepalived's advert passes our checks");
        assert_eq!(received.advert.version(), Version::V3);
        assert_eq!(received.advert.addresses, addresses);
        // Re-encoded with the IPv6 pseudo-header: keepalived's (the kernel's) bytes.
        let ours = received
            .advert
            .encode(ChecksumMode::PseudoHeader {
                source: IpAddr::V6(source),
                destination: IpAddr::V6(destination),
            })
            .expect("encodes");
        assert_eq!(ours, payload);
        assert_eq!(
            Advertisement::decode(payload, Family::Ipv6).expect("decodes"),
            received.advert
        );
        // One bit off anywhere in the addresses: the checksum catches it.
        let mut bad = payload.to_vec();
        bad[20] ^= 1;
        assert!(check_ipv6(&bad, source, destination, 255, &local).is_err());
        // Off-link (hop limit below 255): dropped.
        assert!(check_ipv6(payload, source, destination, 254, &local).is_err());
    }
}

#[test]
fn our_unsolicited_neighbour_adverts_are_keepalived_s() {
    let nas = frames("na");
    assert!(nas.len() >= 2, "the capture holds NAs");
    for frame in nas {
        assert_eq!(frame.len(), NA_FRAME_LEN);
        let mac: [u8; 6] = frame[6..12].try_into().expect("6 bytes");
        let vip = v6(&frame[22..38]);
        assert!(VIPS.contains(&vip), "{vip}");
        assert_eq!(na_frame(mac, vip, false).as_slice(), frame.as_slice());
    }
}
