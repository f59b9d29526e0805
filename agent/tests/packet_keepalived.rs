//! Byte tables from real keepalived 2.2.7 adverts (IPv4 v2/v3, IPv6 v3) in
//! tests/data/keepalived-adverts.txt, made by tests/data/capture-keepalived.sh: decode them,
//! re-encode them byte for byte, accept them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hactl_agent::packet::{
    AuthConfig, AuthType, ChecksumMode, DropReason, Ipv4Header, LocalInstance, Received,
    V3Checksum, Version, VersionFields, check, check_ipv6,
};

const CAPTURE: &str = include_str!("data/keepalived-adverts.txt");
const SOURCE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

struct Captured {
    vrid: u8,
    bytes: Vec<u8>,
}

fn captured() -> Vec<Captured> {
    CAPTURE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let hex = fields[2];
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            Captured {
                vrid: fields[0].parse().expect("vrid"),
                bytes,
            }
        })
        .collect()
}

/// The instance each VRID was configured as in capture-keepalived.sh.
struct Config {
    version: Version,
    priority: u8,
    auth: AuthConfig,
    interval: Duration,
    addresses: Vec<IpAddr>,
}

fn config(vrid: u8) -> Config {
    let v4 = |d: u8| IpAddr::V4(Ipv4Addr::new(203, 0, 113, d));
    match vrid {
        14 => Config {
            version: Version::V2,
            priority: 100,
            auth: AuthConfig::password("secret-password"),
            interval: Duration::from_secs(1),
            addresses: vec![v4(100)],
        },
        15 => Config {
            version: Version::V2,
            priority: 90,
            auth: AuthConfig::None,
            interval: Duration::from_secs(1),
            addresses: vec![v4(150), v4(151)],
        },
        24 => Config {
            version: Version::V3,
            priority: 150,
            auth: AuthConfig::None,
            interval: Duration::from_secs(1),
            addresses: vec![v4(200), v4(201)],
        },
        25 => Config {
            version: Version::V3,
            priority: 255,
            auth: AuthConfig::None,
            interval: Duration::from_millis(250),
            addresses: vec![v4(250)],
        },
        26 => Config {
            version: Version::V3,
            priority: 255,
            auth: AuthConfig::None,
            interval: Duration::from_secs(1),
            addresses: vec![IpAddr::V6(Ipv6Addr::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x26,
            ))],
        },
        other => panic!("unexpected vrid {other} in capture"),
    }
}

fn local(vrid: u8, config: &Config) -> LocalInstance<'_> {
    LocalInstance {
        version: config.version,
        vrid,
        auth: config.auth,
        advert_interval: config.interval,
        addresses: &config.addresses,
        check_addresses: true,
        v3_checksum: V3Checksum::PseudoHeader,
        unicast: false,
        check_unicast_src: false,
        unicast_peers: &[],
    }
}

/// IPv6 header fields and payload of a captured IPv6 packet: what a raw IPv6 socket reports.
fn ipv6_parts(bytes: &[u8]) -> (Ipv6Addr, Ipv6Addr, u8, &[u8]) {
    let addr = |at: usize| {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&bytes[at..at + 16]);
        Ipv6Addr::from(octets)
    };
    (addr(8), addr(24), bytes[7], &bytes[40..])
}

/// Checks a captured packet the way the runtime would receive it.
fn check_captured(bytes: &[u8], local: &LocalInstance<'_>) -> Result<Received, DropReason> {
    if bytes[0] >> 4 == 6 {
        let (source, destination, hop_limit, payload) = ipv6_parts(bytes);
        check_ipv6(payload, source, destination, hop_limit, local)
    } else {
        check(bytes, local)
    }
}

#[test]
fn capture_covers_every_instance_and_shutdown() {
    let packets = captured();
    for vrid in [14, 15, 24, 25, 26] {
        let ours: Vec<_> = packets.iter().filter(|p| p.vrid == vrid).collect();
        assert!(ours.len() >= 2, "vrid {vrid}: {} packets", ours.len());
        // keepalived's last advert on SIGTERM has priority 0.
        let last = ours.last().expect("packets");
        let header_len = if last.bytes[0] >> 4 == 6 { 40 } else { 20 };
        assert_eq!(
            last.bytes[header_len + 2],
            0,
            "vrid {vrid} ends with a priority-0 advert"
        );
    }
}

#[test]
fn keepalived_adverts_decode_to_their_configuration() {
    for packet in captured() {
        let config = config(packet.vrid);
        let received = check_captured(&packet.bytes, &local(packet.vrid, &config))
            .unwrap_or_else(|e| panic!("vrid {}: dropped: {e}", packet.vrid));
        assert_eq!(received.hop_limit, 255);
        if packet.vrid == 26 {
            // keepalived sends from veth0's link-local address to ff02::12.
            let IpAddr::V6(source) = received.source else {
                panic!("v6 source")
            };
            assert!(source.is_unicast_link_local());
            assert_eq!(
                received.destination,
                "ff02::12".parse::<IpAddr>().expect("addr")
            );
        } else {
            assert_eq!(received.source, IpAddr::V4(SOURCE));
            assert_eq!(
                received.destination,
                IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18))
            );
            let (ip, _) = Ipv4Header::parse(&packet.bytes).expect("ip");
            assert_eq!(ip.tos, 0xC0);
        }
        let advert = &received.advert;
        assert_eq!(advert.vrid, packet.vrid);
        assert_eq!(advert.version(), config.version);
        assert!(advert.priority == config.priority || advert.priority == 0);
        assert_eq!(advert.advert_interval(), config.interval);
        assert_eq!(advert.addresses, config.addresses);
        assert!(received.addresses_match);
    }
}

#[test]
fn keepalived_truncates_pass_to_eight_bytes() {
    let packet = captured()
        .into_iter()
        .find(|p| p.vrid == 14)
        .expect("vrid 14");
    let received = check(&packet.bytes, &local(14, &config(14))).expect("accepted");
    match received.advert.fields {
        VersionFields::V2 {
            auth_type,
            auth_data,
            advert_int_secs,
        } => {
            assert_eq!(auth_type, AuthType::Password);
            assert_eq!(&auth_data, b"secret-p");
            assert_eq!(advert_int_secs, 1);
        }
        VersionFields::V3 { .. } => panic!("v2 expected"),
    }
}

#[test]
fn v3_interval_is_in_centiseconds() {
    let packet = captured()
        .into_iter()
        .find(|p| p.vrid == 25)
        .expect("vrid 25");
    let received = check(&packet.bytes, &local(25, &config(25))).expect("accepted");
    assert_eq!(
        received.advert.fields,
        VersionFields::V3 { advert_int_cs: 25 }
    );
}

#[test]
fn ipv6_checksum_matches_the_kernels() {
    // keepalived leaves the IPv6 checksum to the kernel (IPV6_CHECKSUM): re-encoding with our
    // IPv6 pseudo-header must give the kernel's bytes.
    for packet in captured().into_iter().filter(|p| p.vrid == 26) {
        let (source, destination, _, payload) = ipv6_parts(&packet.bytes);
        let advert = check_captured(&packet.bytes, &local(26, &config(26)))
            .expect("ok")
            .advert;
        let mode = ChecksumMode::PseudoHeader {
            source: IpAddr::V6(source),
            destination: IpAddr::V6(destination),
        };
        assert_eq!(advert.encode(mode).expect("encode"), payload);
    }
}

#[test]
fn reencoding_reproduces_keepalived_bytes_exactly() {
    for packet in captured().into_iter().filter(|p| p.bytes[0] >> 4 == 4) {
        let (ip, payload) = Ipv4Header::parse(&packet.bytes).expect("ip");
        let advert = check(&packet.bytes, &local(packet.vrid, &config(packet.vrid)))
            .expect("accepted")
            .advert;
        let mode = match advert.version() {
            Version::V2 => ChecksumMode::Plain,
            Version::V3 => ChecksumMode::PseudoHeader {
                source: IpAddr::V4(ip.source),
                destination: IpAddr::V4(ip.destination),
            },
        };
        let encoded = advert.encode(mode).expect("encode");
        assert_eq!(encoded, payload, "vrid {} payload", packet.vrid);
        let header = Ipv4Header::for_advert(ip.source, ip.destination, ip.id, encoded.len());
        let mut whole = header.encode().to_vec();
        whole.extend_from_slice(&encoded);
        assert_eq!(whole, packet.bytes, "vrid {} whole packet", packet.vrid);
    }
}

#[test]
fn v3_without_pseudo_header_fails_keepalived_checksum() {
    let packet = captured()
        .into_iter()
        .find(|p| p.vrid == 24)
        .expect("vrid 24");
    let config = config(24);
    let mut instance = local(24, &config);
    instance.v3_checksum = V3Checksum::AsV2;
    assert_eq!(check(&packet.bytes, &instance), Err(DropReason::Checksum));
}

/// Each drop reason, produced by damaging one real keepalived advert.
#[test]
fn each_damage_is_dropped_for_its_own_reason() {
    let v2 = captured()
        .into_iter()
        .find(|p| p.vrid == 14)
        .expect("vrid 14")
        .bytes;
    let v3 = captured()
        .into_iter()
        .find(|p| p.vrid == 24)
        .expect("vrid 24")
        .bytes;
    let c14 = config(14);
    let c24 = config(24);
    let l14 = local(14, &c14);
    let l24 = local(24, &c24);

    // Rewrites byte `at`. The IP header checksum is left stale: the kernel checks it, not us.
    let poke = |bytes: &[u8], at: usize, value: u8| {
        let mut out = bytes.to_vec();
        out[at] = value;
        out
    };
    let expect = |bytes: Vec<u8>, local: &LocalInstance<'_>, reason: DropReason| {
        assert_eq!(
            check(&bytes, local).map(|_| ()),
            Err(reason),
            "{}",
            reason.name()
        );
    };

    expect(v2[..10].to_vec(), &l14, DropReason::Truncated);
    expect(poke(&v2, 0, 0x65), &l14, DropReason::NotIpv4);
    expect(v2[..v2.len() - 1].to_vec(), &l14, DropReason::IpLength);
    expect(poke(&v2, 9, 17), &l14, DropReason::Protocol);
    expect(poke(&v2, 9, 51), &l14, DropReason::AuthTypeMismatch);
    expect(poke(&v2, 8, 254), &l14, DropReason::Ttl);
    expect(poke(&v2, 21, 15), &l14, DropReason::Vrid);
    expect(poke(&v2, 23, 2), &l14, DropReason::Length);
    // A v3 nibble changes the expected length first (no auth trailer), as in keepalived.
    expect(poke(&v2, 20, 0x31), &l14, DropReason::Length);
    expect(poke(&v2, 20, 0x41), &l14, DropReason::Version);
    expect(poke(&v2, 24, 7), &l14, DropReason::InvalidAuthType);
    expect(poke(&v2, 24, 0), &l14, DropReason::AuthTypeMismatch);
    let last = v2.len() - 1;
    expect(poke(&v2, last, b'x'), &l14, DropReason::AuthFailure);
    expect(poke(&v2, 25, 2), &l14, DropReason::Interval);
    expect(poke(&v2, 20, 0x22), &l14, DropReason::PacketType);
    expect(poke(&v2, 26, 0), &l14, DropReason::Checksum);
    expect(poke(&v3, 27, 0), &l24, DropReason::Checksum);
    expect(poke(&v2, 16, 198), &l14, DropReason::NotMulticast);

    let wrong_count = [IpAddr::V4(Ipv4Addr::new(203, 0, 113, 100)); 2];
    let mut l = l14;
    l.addresses = &wrong_count;
    expect(v2.clone(), &l, DropReason::AddressCount);
    let other = [IpAddr::V4(Ipv4Addr::new(203, 0, 113, 99))];
    l.addresses = &other;
    expect(v2.clone(), &l, DropReason::AddressList);
    // With address checks off (keepalived's skip_check_adv_addr), accepted but flagged.
    l.check_addresses = false;
    let received = check(&v2, &l).expect("accepted");
    assert!(!received.addresses_match);

    let mut unicast = l14;
    unicast.unicast = true;
    expect(v2.clone(), &unicast, DropReason::NotUnicast);

    let mut ah = l14;
    ah.auth = AuthConfig::Ah;
    expect(v2.clone(), &ah, DropReason::AuthTypeMismatch);
    expect(poke(&v2, 9, 51), &ah, DropReason::AhUnsupported);

    let mut wrong_password = l14;
    wrong_password.auth = AuthConfig::password("secret-q");
    expect(v2.clone(), &wrong_password, DropReason::AuthFailure);
    // Only the first 8 bytes count, as in keepalived.
    let mut long_password = l14;
    long_password.auth = AuthConfig::password("secret-p and then anything");
    assert!(check(&v2, &long_password).is_ok());
}

#[test]
fn drop_reason_names_are_distinct_snake_case() {
    let names: std::collections::BTreeSet<_> = DropReason::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(names.len(), DropReason::ALL.len());
    for name in names {
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{name}"
        );
    }
}
