//! The Internet checksum (RFC 1071) and the pseudo-headers VRRP feeds into it.
//!
//! VRRPv2 sums the VRRP message alone; VRRPv3 (RFC 5798 section 5.2.8) prepends the IPv4 or
//! IPv6 pseudo-header, as TCP and UDP do. Some routers send VRRPv3 over IPv4 with the v2-style
//! sum (FRR's `no vrrp N checksum-with-ipv4-pseudoheader`), so the mode is the caller's choice.

use std::net::{IpAddr, Ipv6Addr};

use super::VRRP_PROTOCOL;

/// What the checksum of one VRRP message covers besides the message itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumMode {
    /// The VRRP message only: VRRPv2, and VRRPv3 "checksum as v2" peers.
    Plain,
    /// The IP pseudo-header (source, destination, protocol 112, VRRP length) and the message:
    /// RFC 5798's rule for VRRPv3 and what keepalived sends.
    PseudoHeader {
        /// Source address of the enclosing IP packet.
        source: IpAddr,
        /// Destination address of the enclosing IP packet (the multicast group or unicast peer).
        destination: IpAddr,
    },
}

/// One's-complement sum of `data` read as big-endian 16-bit words, added to `acc`.
/// An odd final byte is padded with zero, so only the last chunk of a message may be odd.
fn add(acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    let mut sum = acc;
    for pair in &mut chunks {
        sum += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(u16::from_be_bytes([*last, 0]));
    }
    sum
}

/// Folds the carries back in and complements: the value that goes on the wire.
fn finish(mut sum: u64) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    // The loop leaves at most 16 bits, so the cast keeps every bit.
    !(sum as u16)
}

/// The pseudo-header bytes for a VRRP message of `len` bytes.
fn pseudo_header(source: IpAddr, destination: IpAddr, len: usize) -> Vec<u8> {
    pseudo_header_for(source, destination, len, VRRP_PROTOCOL)
}

/// The pseudo-header bytes for a message of `len` bytes of IP protocol `protocol`.
fn pseudo_header_for(source: IpAddr, destination: IpAddr, len: usize, protocol: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    match (source, destination) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // RFC 791/793 layout: src, dst, zero, protocol, 16-bit length.
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
            out.extend_from_slice(&[0, protocol]);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (s, d) => {
            // RFC 8200 section 8.1 layout: src, dst, 32-bit length, 3 zero bytes, next header.
            out.extend_from_slice(&ipv6_octets(s));
            out.extend_from_slice(&ipv6_octets(d));
            out.extend_from_slice(&(len as u32).to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, protocol]);
        }
    }
    out
}

fn ipv6_octets(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The checksum of `message` (a VRRP message whose checksum field holds zero, or the value
/// received: then a correct message sums to zero) under `mode`.
pub fn checksum(message: &[u8], mode: ChecksumMode) -> u16 {
    let acc = match mode {
        ChecksumMode::Plain => 0,
        ChecksumMode::PseudoHeader {
            source,
            destination,
        } => add(0, &pseudo_header(source, destination, message.len())),
    };
    finish(add(acc, message))
}

/// Whether `message`, checksum field included, carries a correct checksum under `mode`.
pub fn verify(message: &[u8], mode: ChecksumMode) -> bool {
    checksum(message, mode) == 0
}

/// IP protocol number of ICMPv6 (the unsolicited Neighbour Advertisements of IPv6 VIPs).
pub const ICMPV6_PROTOCOL: u8 = 58;

/// The ICMPv6 checksum of `message` (checksum field zero) sent from `source` to
/// `destination` (RFC 4443 section 2.3: over the IPv6 pseudo-header and the message).
pub fn icmpv6_checksum(source: Ipv6Addr, destination: Ipv6Addr, message: &[u8]) -> u16 {
    let header = pseudo_header_for(
        IpAddr::V6(source),
        IpAddr::V6(destination),
        message.len(),
        ICMPV6_PROTOCOL,
    );
    finish(add(add(0, &header), message))
}

/// The IPv4 header checksum: the plain Internet checksum over the header.
pub fn ipv4_header_checksum(header: &[u8]) -> u16 {
    finish(add(0, header))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data, ChecksumMode::Plain), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(checksum(&[0x12], ChecksumMode::Plain), !0x1200);
    }
}
