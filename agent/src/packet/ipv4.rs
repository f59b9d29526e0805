//! The IPv4 header around a VRRP message, as a raw `IPPROTO_VRRP` socket delivers it (header
//! included) and as an `IP_HDRINCL` socket sends it.
//!
//! Owns parsing and building that header; the VRRP rules about it (TTL 255, protocol 112) are
//! applied by [`super::check()`], which reports each violation as its own [`super::DropReason`].

use std::net::Ipv4Addr;

use super::checksum::ipv4_header_checksum;
use super::{DropReason, VRRP_PROTOCOL, VRRP_TTL};

/// IP protocol number of IPsec AH, which wraps VRRPv2 "auth_type AH" adverts.
pub const AH_PROTOCOL: u8 = 51;
/// Length of an IPv4 header without options.
pub const MIN_HEADER_LEN: usize = 20;
/// Type of service keepalived sets on adverts: precedence "internetwork control".
pub const TOS_INTERNETWORK_CONTROL: u8 = 0xC0;

/// The parts of an IPv4 header that VRRP looks at.
///
/// RFC 791 section 3.1:
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |Type of Service|          Total Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Identification        |Flags|      Fragment Offset    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Destination Address                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options                    |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Header length in bytes (IHL * 4).
    pub header_len: usize,
    /// Type of service byte.
    pub tos: u8,
    /// Total length field: header plus payload.
    pub total_len: u16,
    /// Identification field.
    pub id: u16,
    /// Time to live; VRRP requires 255 so that only on-link routers are heard.
    pub ttl: u8,
    /// Protocol number: 112 for VRRP, 51 when wrapped in AH.
    pub protocol: u8,
    /// Source address: the sending router's primary address, used in the master tie-break.
    pub source: Ipv4Addr,
    /// Destination: 224.0.0.18, a configured group, or a unicast peer.
    pub destination: Ipv4Addr,
}

impl Ipv4Header {
    /// Splits a raw IPv4 packet into its header and payload. Checks the framing only (version,
    /// header length, total length against what was received), not the VRRP rules.
    pub fn parse(packet: &[u8]) -> Result<(Self, &[u8]), DropReason> {
        let Some(fixed) = packet.first_chunk::<MIN_HEADER_LEN>() else {
            return Err(DropReason::Truncated);
        };
        if fixed[0] >> 4 != 4 {
            return Err(DropReason::NotIpv4);
        }
        let header_len = usize::from(fixed[0] & 0x0F) * 4;
        let total_len = u16::from_be_bytes([fixed[2], fixed[3]]);
        if header_len < MIN_HEADER_LEN || header_len > packet.len() {
            return Err(DropReason::IpLength);
        }
        // keepalived drops a packet whose total length disagrees with the bytes received;
        // a raw socket hands over exactly one datagram, without link-layer padding.
        if usize::from(total_len) != packet.len() {
            return Err(DropReason::IpLength);
        }
        let header = Ipv4Header {
            header_len,
            tos: fixed[1],
            total_len,
            id: u16::from_be_bytes([fixed[4], fixed[5]]),
            ttl: fixed[8],
            protocol: fixed[9],
            source: Ipv4Addr::new(fixed[12], fixed[13], fixed[14], fixed[15]),
            destination: Ipv4Addr::new(fixed[16], fixed[17], fixed[18], fixed[19]),
        };
        Ok((header, &packet[header_len..]))
    }

    /// The header keepalived puts on an advert: no options, TOS 0xC0, no fragmentation,
    /// TTL 255, protocol 112, checksum filled in (the kernel refills it anyway).
    pub fn for_advert(
        source: Ipv4Addr,
        destination: Ipv4Addr,
        id: u16,
        payload_len: usize,
    ) -> Self {
        Ipv4Header {
            header_len: MIN_HEADER_LEN,
            tos: TOS_INTERNETWORK_CONTROL,
            // An advert is at most 8 + 255 * 4 + 8 bytes, far below 64 KiB.
            total_len: (MIN_HEADER_LEN + payload_len) as u16,
            id,
            ttl: VRRP_TTL,
            protocol: VRRP_PROTOCOL,
            source,
            destination,
        }
    }

    /// Writes the 20-byte header (options are never sent).
    pub fn encode(&self) -> [u8; MIN_HEADER_LEN] {
        let mut out = [0u8; MIN_HEADER_LEN];
        out[0] = 0x45;
        out[1] = self.tos;
        out[2..4].copy_from_slice(&self.total_len.to_be_bytes());
        out[4..6].copy_from_slice(&self.id.to_be_bytes());
        out[8] = self.ttl;
        out[9] = self.protocol;
        out[12..16].copy_from_slice(&self.source.octets());
        out[16..20].copy_from_slice(&self.destination.octets());
        let sum = ipv4_header_checksum(&out);
        out[10..12].copy_from_slice(&sum.to_be_bytes());
        out
    }
}
