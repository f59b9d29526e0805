//! Fuzz target: the VRRP decoder and receive checks must never panic, and whatever decodes
//! must re-encode to the same bytes.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hactl_agent::packet::{
    Advertisement, AuthConfig, ChecksumMode, Family, LocalInstance, V3Checksum, Version, check,
    check_ipv6,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for family in [Family::Ipv4, Family::Ipv6] {
        if let Ok(advert) = Advertisement::decode(data, family) {
            // Bytes 6-7 are the checksum, which encode recomputes; the reserved v3 bits are
            // dropped on decode. Everything else must survive.
            if let Ok(again) = advert.encode(ChecksumMode::Plain) {
                assert_eq!(again.len(), data.len());
                assert_eq!(again[..4], data[..4]);
                assert_eq!(again[8..], data[8..]);
            }
        }
    }
    let ours = [IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1))];
    for version in [Version::V2, Version::V3] {
        let local = LocalInstance {
            version,
            vrid: data.get(21).copied().unwrap_or(1),
            auth: AuthConfig::password("fuzz"),
            advert_interval: Duration::from_secs(1),
            addresses: &ours,
            check_addresses: data.first().is_some_and(|b| b & 1 == 1),
            v3_checksum: V3Checksum::PseudoHeader,
            unicast: false,
            check_unicast_src: false,
            unicast_peers: &[],
        };
        let _ = check(data, &local);
        let group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
        let _ = check_ipv6(data, Ipv6Addr::LOCALHOST, group, 255, &local);
    }
});
