//! Receive-side validation: should a local instance act on this raw IPv4 packet?
//!
//! Follows RFC 3768/5798 section 7.1 in the order keepalived 2.2.7's `vrrp_check_packet`
//! applies it, so that one bad packet is counted under the same reason keepalived would log.
//! Differences from keepalived: the VRID is checked here (keepalived's dispatcher routes by
//! VRID before checking), and AH-authenticated adverts are always dropped (no AH support).
//!
//! TTL, as keepalived 2.2.7 applies it: a multicast instance requires TTL 255 (RFC 3768 7.1);
//! a unicast instance does not, since a routed peer's adverts arrive with a lower TTL. A
//! unicast instance with source checking on (`check_unicast_src`, `vrrp_check_unicast_src`, or
//! a peer with `min_ttl`/`max_ttl`) drops adverts whose source is not one of its peers, and
//! those whose TTL is outside that peer's `min_ttl..=max_ttl` (default 0..=255). Without
//! source checking any host on the link may send a unicast instance adverts, as in keepalived.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use thiserror::Error;

use super::advert::{Advertisement, AuthType, DecodeError, Family, HEADER_LEN, VersionFields};
use super::checksum::{ChecksumMode, verify};
use super::ipv4::{AH_PROTOCOL, Ipv4Header};
use super::{ADVERTISEMENT, AuthConfig, VRRP_PROTOCOL, VRRP_TTL, Version};

/// Why a received packet was dropped. Each variant is one counter in the agent's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Error)]
pub enum DropReason {
    /// Shorter than an IPv4 header or a VRRP header.
    #[error("packet truncated")]
    Truncated,
    /// The IP version nibble is not 4.
    #[error("not an IPv4 packet")]
    NotIpv4,
    /// Bad IHL, or the IP total length disagrees with the bytes received.
    #[error("IP header length or total length does not match the packet")]
    IpLength,
    /// IP protocol neither VRRP (112) nor AH (51).
    #[error("IP protocol is not VRRP")]
    Protocol,
    /// A multicast instance got TTL other than 255: the sender is not on this link (RFC 3768
    /// section 7.1). Unicast instances do not require 255 (see [`DropReason::PeerTtl`]).
    #[error("TTL is not 255")]
    Ttl,
    /// The VRRP version differs from the local instance's.
    #[error("VRRP version differs from ours")]
    Version,
    /// The VRRP length does not match the address count (plus v2 auth data).
    #[error("VRRP length does not match the address count")]
    Length,
    /// Another virtual router's advert.
    #[error("VRID is not ours")]
    Vrid,
    /// v2 auth type not 0, 1 or 2.
    #[error("invalid authentication type")]
    InvalidAuthType,
    /// v2 auth type (or AH wrapping) differs from the configured one.
    #[error("authentication type differs from ours")]
    AuthTypeMismatch,
    /// v2 password differs.
    #[error("authentication failed (wrong password)")]
    AuthFailure,
    /// Both sides use AH, which the agent does not implement.
    #[error("IPsec AH authentication is not supported")]
    AhUnsupported,
    /// v2 advert interval differs from ours (RFC 3768: MUST drop; prevents two masters
    /// running different intervals).
    #[error("advert interval differs from ours")]
    Interval,
    /// VRRP type is not ADVERTISEMENT (1).
    #[error("VRRP packet type is not ADVERTISEMENT")]
    PacketType,
    /// The address count differs from our number of virtual addresses.
    #[error("address count differs from ours")]
    AddressCount,
    /// The VRRP checksum is wrong.
    #[error("bad VRRP checksum")]
    Checksum,
    /// A unicast packet where we expect multicast.
    #[error("unicast packet for a multicast instance")]
    NotMulticast,
    /// A multicast packet where we use unicast peers.
    #[error("multicast packet for a unicast instance")]
    NotUnicast,
    /// One of our virtual addresses is missing from the advert.
    #[error("advert's address list differs from ours")]
    AddressList,
    /// Unicast with source checking: the sender is not one of our `unicast_peer`s
    /// (keepalived logs "unicast source address ... not a unicast peer").
    #[error("source address is not a unicast peer")]
    NotUnicastPeer,
    /// Unicast with source checking: the TTL is outside the peer's `min_ttl`..`max_ttl`
    /// (keepalived counts it with the TTL errors; it is its own reason here).
    #[error("TTL outside the unicast peer's min_ttl..max_ttl")]
    PeerTtl,
}

impl DropReason {
    /// Every reason, in check order: for counters that list zeros too.
    pub const ALL: [DropReason; 21] = [
        DropReason::Truncated,
        DropReason::NotIpv4,
        DropReason::IpLength,
        DropReason::Protocol,
        DropReason::Ttl,
        DropReason::Version,
        DropReason::Length,
        DropReason::Vrid,
        DropReason::InvalidAuthType,
        DropReason::AuthTypeMismatch,
        DropReason::AuthFailure,
        DropReason::AhUnsupported,
        DropReason::Interval,
        DropReason::PacketType,
        DropReason::AddressCount,
        DropReason::Checksum,
        DropReason::NotMulticast,
        DropReason::NotUnicast,
        DropReason::AddressList,
        DropReason::NotUnicastPeer,
        DropReason::PeerTtl,
    ];

    /// Stable snake_case name for status output and metrics.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::NotIpv4 => "not_ipv4",
            DropReason::IpLength => "ip_length",
            DropReason::Protocol => "protocol",
            DropReason::Ttl => "ttl",
            DropReason::Version => "version",
            DropReason::Length => "length",
            DropReason::Vrid => "vrid",
            DropReason::InvalidAuthType => "invalid_auth_type",
            DropReason::AuthTypeMismatch => "auth_type_mismatch",
            DropReason::AuthFailure => "auth_failure",
            DropReason::AhUnsupported => "ah_unsupported",
            DropReason::Interval => "interval",
            DropReason::PacketType => "packet_type",
            DropReason::AddressCount => "address_count",
            DropReason::Checksum => "checksum",
            DropReason::NotMulticast => "not_multicast",
            DropReason::NotUnicast => "not_unicast",
            DropReason::AddressList => "address_list",
            DropReason::NotUnicastPeer => "not_unicast_peer",
            DropReason::PeerTtl => "peer_ttl",
        }
    }
}

impl From<DecodeError> for DropReason {
    fn from(error: DecodeError) -> Self {
        match error {
            DecodeError::Truncated { .. } => DropReason::Truncated,
            DecodeError::UnknownVersion(_) | DecodeError::V2OverIpv6 => DropReason::Version,
            DecodeError::Length { .. } => DropReason::Length,
        }
    }
}

/// How a local VRRPv3-over-IPv4 instance checksums adverts (IPv6 always uses the
/// pseudo-header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum V3Checksum {
    /// RFC 5798: with the IPv4 pseudo-header (keepalived's only mode).
    #[default]
    PseudoHeader,
    /// Over the VRRP message only, as VRRPv2 does ("v3 checksum as v2"; some vendors' default).
    AsV2,
}

/// One `unicast_peer` entry as the receive checks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnicastPeer {
    pub address: IpAddr,
    /// Lowest TTL (hop limit) accepted from this peer; keepalived's default 0.
    pub min_ttl: u8,
    /// Highest TTL accepted from this peer; keepalived's default 255.
    pub max_ttl: u8,
}

impl UnicastPeer {
    /// A peer with keepalived's default TTL range, 0..=255 (any TTL).
    pub fn any_ttl(address: IpAddr) -> Self {
        UnicastPeer {
            address,
            min_ttl: 0,
            max_ttl: u8::MAX,
        }
    }
}

/// What a received advert is checked against: one local instance.
#[derive(Debug, Clone, Copy)]
pub struct LocalInstance<'a> {
    /// Our VRRP version.
    pub version: Version,
    /// Our virtual router ID.
    pub vrid: u8,
    /// Our v2 authentication (ignored for v3, which has none).
    pub auth: AuthConfig,
    /// Our configured advert interval; v2 adverts must carry the same whole seconds.
    pub advert_interval: Duration,
    /// Our virtual addresses.
    pub addresses: &'a [IpAddr],
    /// Whether to drop adverts whose address list differs from ours. keepalived does, except
    /// with `skip_check_adv_addr` for further adverts from the same master.
    pub check_addresses: bool,
    /// v3 checksum mode.
    pub v3_checksum: V3Checksum,
    /// Whether the instance uses unicast peers (then multicast adverts are dropped, and the
    /// other way round, and TTL 255 is not required).
    pub unicast: bool,
    /// Unicast only: drop adverts whose source is not in [`Self::unicast_peers`] or whose TTL
    /// is outside that peer's range (keepalived's `check_unicast_src`).
    pub check_unicast_src: bool,
    /// Our unicast peers (empty for a multicast instance).
    pub unicast_peers: &'a [UnicastPeer],
}

/// An advert that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The sender's address (IP source): its primary address, used in the tie-break.
    pub source: IpAddr,
    /// Where it was sent: the multicast group or our unicast address.
    pub destination: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub hop_limit: u8,
    /// The advert.
    pub advert: Advertisement,
    /// Whether the advert's address set equals ours. Always true when
    /// [`LocalInstance::check_addresses`] is on (a mismatch is then a drop); otherwise the
    /// runtime may count or log it.
    pub addresses_match: bool,
}

/// Checks a raw IPv4 packet (IP header included, as a raw `IPPROTO_VRRP` socket delivers it)
/// against a local instance. Never panics, whatever the bytes.
pub fn check(packet: &[u8], local: &LocalInstance<'_>) -> Result<Received, DropReason> {
    let (ip, payload) = Ipv4Header::parse(packet)?;

    // AH-wrapped adverts carry protocol 51. keepalived counts "AH where not configured" and
    // "no AH where configured" alike as an auth type mismatch.
    let wants_ah = local.version == Version::V2 && local.auth == AuthConfig::Ah;
    match ip.protocol {
        VRRP_PROTOCOL if wants_ah => return Err(DropReason::AuthTypeMismatch),
        AH_PROTOCOL if !wants_ah => return Err(DropReason::AuthTypeMismatch),
        AH_PROTOCOL => return Err(DropReason::AhUnsupported),
        VRRP_PROTOCOL => {}
        _ => return Err(DropReason::Protocol),
    }
    let envelope = Envelope {
        source: IpAddr::V4(ip.source),
        destination: IpAddr::V4(ip.destination),
        hop_limit: ip.ttl,
        family: Family::Ipv4,
    };
    check_payload(payload, envelope, local)
}

/// Checks a VRRPv3 payload received on a raw IPv6 socket, which delivers no IPv6 header:
/// the addresses come from `recvmsg`'s source and `IPV6_PKTINFO`, the hop limit from
/// `IPV6_HOPLIMIT`. The checksum is always the IPv6 pseudo-header one (RFC 5798 5.2.8).
pub fn check_ipv6(
    payload: &[u8],
    source: Ipv6Addr,
    destination: Ipv6Addr,
    hop_limit: u8,
    local: &LocalInstance<'_>,
) -> Result<Received, DropReason> {
    let envelope = Envelope {
        source: IpAddr::V6(source),
        destination: IpAddr::V6(destination),
        hop_limit,
        family: Family::Ipv6,
    };
    check_payload(payload, envelope, local)
}

/// What the IP layer says about a VRRP payload.
#[derive(Debug, Clone, Copy)]
struct Envelope {
    source: IpAddr,
    destination: IpAddr,
    hop_limit: u8,
    family: Family,
}

fn check_payload(
    payload: &[u8],
    ip: Envelope,
    local: &LocalInstance<'_>,
) -> Result<Received, DropReason> {
    let Some(header) = payload.first_chunk::<HEADER_LEN>() else {
        return Err(DropReason::Truncated);
    };
    if header[1] != local.vrid {
        return Err(DropReason::Vrid);
    }
    let advert = Advertisement::decode(payload, ip.family)?;
    if ip.hop_limit != VRRP_TTL && !local.unicast {
        return Err(DropReason::Ttl);
    }
    if advert.version() != local.version {
        return Err(DropReason::Version);
    }
    if let VersionFields::V2 {
        auth_type,
        advert_int_secs,
        auth_data,
    } = &advert.fields
    {
        if let AuthType::Other(_) = auth_type {
            return Err(DropReason::InvalidAuthType);
        }
        let (our_type, our_data) = local.auth.wire();
        if *auth_type != our_type {
            return Err(DropReason::AuthTypeMismatch);
        }
        if our_type == AuthType::Password && !constant_time_eq(auth_data, &our_data) {
            return Err(DropReason::AuthFailure);
        }
        if Duration::from_secs(u64::from(*advert_int_secs)) != local.advert_interval {
            return Err(DropReason::Interval);
        }
    }
    if advert.packet_type != ADVERTISEMENT {
        return Err(DropReason::PacketType);
    }
    if local.check_addresses && advert.addresses.len() != local.addresses.len() {
        return Err(DropReason::AddressCount);
    }
    let pseudo = ChecksumMode::PseudoHeader {
        source: ip.source,
        destination: ip.destination,
    };
    let mode = match (advert.version(), ip.family, local.v3_checksum) {
        (Version::V2, _, _) | (Version::V3, Family::Ipv4, V3Checksum::AsV2) => ChecksumMode::Plain,
        (Version::V3, _, _) => pseudo,
    };
    if !verify(payload, mode) {
        return Err(DropReason::Checksum);
    }
    match (ip.destination.is_multicast(), local.unicast) {
        (false, false) => return Err(DropReason::NotMulticast),
        (true, true) => return Err(DropReason::NotUnicast),
        _ => {}
    }
    // keepalived requires each of our addresses in the advert (with equal counts: the same set).
    let addresses_match = advert.addresses.len() == local.addresses.len()
        && local
            .addresses
            .iter()
            .all(|ours| advert.addresses.contains(ours));
    if local.check_addresses && !addresses_match {
        return Err(DropReason::AddressList);
    }
    // keepalived checks the source only where it checks the address list: with
    // `skip_check_adv_addr`, further adverts of the master it already accepted skip both.
    if local.unicast && local.check_unicast_src && local.check_addresses {
        let Some(peer) = local.unicast_peers.iter().find(|p| p.address == ip.source) else {
            return Err(DropReason::NotUnicastPeer);
        };
        if !(peer.min_ttl..=peer.max_ttl).contains(&ip.hop_limit) {
            return Err(DropReason::PeerTtl);
        }
    }
    Ok(Received {
        source: ip.source,
        destination: ip.destination,
        hop_limit: ip.hop_limit,
        advert,
        addresses_match,
    })
}

/// Compares passwords without an early exit, as keepalived does, so timing leaks nothing.
fn constant_time_eq(a: &[u8; 8], b: &[u8; 8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::packet::ipv4::Ipv4Header;

    const VIP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 100);
    const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
    const STRANGER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
    const US: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

    /// A v2 advert (priority 200, no auth) from `source` to `destination` with `ttl`.
    fn advert(source: Ipv4Addr, destination: Ipv4Addr, ttl: u8) -> Vec<u8> {
        let payload = Advertisement::v2(7, 200, 1, &AuthConfig::None, vec![IpAddr::V4(VIP)])
            .encode(ChecksumMode::Plain)
            .expect("encodes");
        let mut ip = Ipv4Header::for_advert(source, destination, 1, payload.len());
        ip.ttl = ttl;
        let mut packet = ip.encode().to_vec();
        packet.extend_from_slice(&payload);
        packet
    }

    fn local<'a>(
        addresses: &'a [IpAddr],
        peers: &'a [UnicastPeer],
        check_unicast_src: bool,
    ) -> LocalInstance<'a> {
        LocalInstance {
            version: Version::V2,
            vrid: 7,
            auth: AuthConfig::None,
            advert_interval: Duration::from_secs(1),
            addresses,
            check_addresses: true,
            v3_checksum: V3Checksum::PseudoHeader,
            unicast: !peers.is_empty(),
            check_unicast_src,
            unicast_peers: peers,
        }
    }

    #[test]
    fn multicast_requires_ttl_255() {
        let ours = [IpAddr::V4(VIP)];
        let multicast = local(&ours, &[], false);
        let group = Ipv4Addr::new(224, 0, 0, 18);
        assert!(check(&advert(PEER, group, 255), &multicast).is_ok());
        for ttl in [0, 1, 64, 254] {
            assert_eq!(
                check(&advert(PEER, group, ttl), &multicast),
                Err(DropReason::Ttl),
                "ttl {ttl}"
            );
        }
    }

    #[test]
    fn unicast_without_source_check_accepts_any_host_and_ttl_as_keepalived_does() {
        let ours = [IpAddr::V4(VIP)];
        let peers = [UnicastPeer::any_ttl(IpAddr::V4(PEER))];
        let unicast = local(&ours, &peers, false);
        let got = check(&advert(STRANGER, US, 64), &unicast).expect("keepalived accepts it");
        assert_eq!((got.source, got.hop_limit), (IpAddr::V4(STRANGER), 64));
    }

    #[test]
    fn check_unicast_src_drops_non_peers_whatever_their_ttl() {
        let ours = [IpAddr::V4(VIP)];
        let peers = [UnicastPeer::any_ttl(IpAddr::V4(PEER))];
        let unicast = local(&ours, &peers, true);
        for ttl in [1, 64, 255] {
            assert_eq!(
                check(&advert(STRANGER, US, ttl), &unicast),
                Err(DropReason::NotUnicastPeer),
                "ttl {ttl}"
            );
            // A listed peer passes with any TTL under the default range 0..=255.
            assert!(check(&advert(PEER, US, ttl), &unicast).is_ok(), "ttl {ttl}");
        }
    }

    #[test]
    fn peer_ttl_range_is_inclusive() {
        let ours = [IpAddr::V4(VIP)];
        let peers = [UnicastPeer {
            address: IpAddr::V4(PEER),
            min_ttl: 250,
            max_ttl: 254,
        }];
        let unicast = local(&ours, &peers, true);
        for (ttl, ok) in [(249, false), (250, true), (254, true), (255, false)] {
            let got = check(&advert(PEER, US, ttl), &unicast);
            if ok {
                assert!(got.is_ok(), "ttl {ttl}: {got:?}");
            } else {
                assert_eq!(got, Err(DropReason::PeerTtl), "ttl {ttl}");
            }
        }
    }

    #[test]
    fn earlier_checks_win_over_the_source_check() {
        // keepalived checks the destination kind and the address list before the source: a
        // non-peer's multicast advert counts as not_unicast, its wrong address list as such.
        let ours = [IpAddr::V4(VIP)];
        let peers = [UnicastPeer::any_ttl(IpAddr::V4(PEER))];
        let unicast = local(&ours, &peers, true);
        let group = Ipv4Addr::new(224, 0, 0, 18);
        assert_eq!(
            check(&advert(STRANGER, group, 255), &unicast),
            Err(DropReason::NotUnicast)
        );
        let other = [IpAddr::V4(Ipv4Addr::new(198, 51, 100, 101))];
        let wrong_vips = local(&other, &peers, true);
        assert_eq!(
            check(&advert(STRANGER, US, 255), &wrong_vips),
            Err(DropReason::AddressList)
        );
    }

    #[test]
    fn source_check_is_skipped_where_the_address_check_is() {
        // keepalived's `skip_check_adv_addr` path skips both checks.
        let ours = [IpAddr::V4(VIP)];
        let peers = [UnicastPeer::any_ttl(IpAddr::V4(PEER))];
        let mut unicast = local(&ours, &peers, true);
        unicast.check_addresses = false;
        assert!(check(&advert(STRANGER, US, 64), &unicast).is_ok());
    }

    #[test]
    fn every_reason_has_a_distinct_name() {
        let mut names: Vec<&str> = DropReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropReason::ALL.len());
    }
}
