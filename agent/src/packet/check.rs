//! Receive-side validation: should a local instance act on this raw IPv4 packet?
//!
//! Follows RFC 3768/5798 section 7.1 in the order keepalived 2.2.7's `vrrp_check_packet`
//! applies it, so that one bad packet is counted under the same reason keepalived would log.
//! Differences from keepalived: the VRID is checked here (keepalived's dispatcher routes by
//! VRID before checking), and AH-authenticated adverts are always dropped (no AH support).

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
    /// TTL is not 255: the sender is not on this link (RFC 3768 section 7.1).
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
}

impl DropReason {
    /// Every reason, in check order: for counters that list zeros too.
    pub const ALL: [DropReason; 19] = [
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
    /// other way round).
    pub unicast: bool,
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
