//! Property tests: encode/decode round trips for both versions and families, and the decoder
//! and receive checks never panic on arbitrary bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hactl_agent::packet::{
    Advertisement, AuthType, ChecksumMode, Family, LocalInstance, V3Checksum, Version,
    VersionFields, check, checksum,
};
use proptest::prelude::*;

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)))
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o)))
}

fn v2_advert() -> impl Strategy<Value = Advertisement> {
    (
        0u8..16,
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<[u8; 8]>(),
        prop::collection::vec(v4(), 0..20),
    )
        .prop_map(
            |(packet_type, vrid, priority, auth, secs, data, addresses)| Advertisement {
                packet_type,
                vrid,
                priority,
                fields: VersionFields::V2 {
                    auth_type: AuthType::from(auth),
                    advert_int_secs: secs,
                    auth_data: data,
                },
                addresses,
            },
        )
}

fn v3_advert(address: BoxedStrategy<IpAddr>) -> impl Strategy<Value = Advertisement> {
    (
        0u8..16,
        any::<u8>(),
        any::<u8>(),
        0u16..0x1000,
        prop::collection::vec(address, 0..20),
    )
        .prop_map(
            |(packet_type, vrid, priority, cs, addresses)| Advertisement {
                packet_type,
                vrid,
                priority,
                fields: VersionFields::V3 { advert_int_cs: cs },
                addresses,
            },
        )
}

proptest! {
    #[test]
    fn v2_round_trips(advert in v2_advert()) {
        let bytes = advert.encode(ChecksumMode::Plain).expect("encode");
        prop_assert_eq!(bytes.len(), advert.encoded_len());
        prop_assert!(checksum::verify(&bytes, ChecksumMode::Plain));
        prop_assert_eq!(Advertisement::decode(&bytes, Family::Ipv4).expect("decode"), advert);
    }

    #[test]
    fn v3_ipv4_round_trips(advert in v3_advert(v4().boxed()), src in v4(), dst in v4()) {
        let mode = ChecksumMode::PseudoHeader { source: src, destination: dst };
        let bytes = advert.encode(mode).expect("encode");
        prop_assert!(checksum::verify(&bytes, mode));
        prop_assert_eq!(
            advert.advert_interval(),
            Duration::from_millis(10 * u64::from(u16::from_be_bytes([bytes[4], bytes[5]])))
        );
        prop_assert_eq!(Advertisement::decode(&bytes, Family::Ipv4).expect("decode"), advert);
    }

    #[test]
    fn v3_ipv6_round_trips(advert in v3_advert(v6().boxed()), src in v6(), dst in v6()) {
        let mode = ChecksumMode::PseudoHeader { source: src, destination: dst };
        let bytes = advert.encode(mode).expect("encode");
        prop_assert!(checksum::verify(&bytes, mode));
        prop_assert_eq!(Advertisement::decode(&bytes, Family::Ipv6).expect("decode"), advert);
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Advertisement::decode(&bytes, Family::Ipv4);
        let _ = Advertisement::decode(&bytes, Family::Ipv6);
    }

    /// Arbitrary bytes behind a plausible IPv4 header reach the deeper checks.
    #[test]
    fn check_never_panics(
        body in prop::collection::vec(any::<u8>(), 0..120),
        ttl in prop_oneof![Just(255u8), any::<u8>()],
        proto in prop_oneof![Just(112u8), Just(51u8), any::<u8>()],
        version in prop_oneof![Just(Version::V2), Just(Version::V3)],
        check_addresses in any::<bool>(),
    ) {
        let mut packet = vec![0x45, 0xC0, 0, 0, 0, 0, 0, 0, ttl, proto, 0, 0,
                              198, 51, 100, 2, 224, 0, 0, 18];
        packet.extend_from_slice(&body);
        let len = (packet.len() as u16).to_be_bytes();
        packet[2..4].copy_from_slice(&len);
        let ours = [IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1))];
        let local = LocalInstance {
            version,
            vrid: body.get(1).copied().unwrap_or(1),
            auth: Default::default(),
            advert_interval: Duration::from_secs(1),
            addresses: &ours,
            check_addresses,
            v3_checksum: V3Checksum::PseudoHeader,
            unicast: false,
            check_unicast_src: false,
            unicast_peers: &[],
        };
        let _ = check(&packet, &local);
        let _ = check(&body, &local);
    }

    /// Flipping any single bit of a valid v2 advert is detected (by the checksum or earlier).
    #[test]
    fn single_bit_flips_are_caught(advert in v2_advert(), bit in 0usize..64) {
        let bytes = advert.encode(ChecksumMode::Plain).expect("encode");
        let mut damaged = bytes.clone();
        let at = bit / 8 % damaged.len();
        damaged[at] ^= 1 << (bit % 8);
        prop_assert!(!checksum::verify(&damaged, ChecksumMode::Plain));
    }
}

#[test]
fn encode_rejects_what_the_wire_cannot_carry() {
    let too_many = vec![IpAddr::V4(Ipv4Addr::LOCALHOST); 256];
    assert!(
        Advertisement::v3(1, 100, 100, too_many)
            .encode(ChecksumMode::Plain)
            .is_err()
    );
    assert!(
        Advertisement::v3(1, 100, 0x1000, vec![])
            .encode(ChecksumMode::Plain)
            .is_err()
    );
    let mixed = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    assert!(
        Advertisement::v3(1, 100, 100, mixed)
            .encode(ChecksumMode::Plain)
            .is_err()
    );
    let auth = hactl_agent::packet::AuthConfig::None;
    let v6 = vec![IpAddr::V6(Ipv6Addr::LOCALHOST)];
    assert!(
        Advertisement::v2(1, 100, 1, &auth, v6)
            .encode(ChecksumMode::Plain)
            .is_err()
    );
}
