//! The VRRP advertisement itself: the payload of an IP packet with protocol 112.
//!
//! Owns the byte layout of VRRPv2 (RFC 3768 section 5.1) and VRRPv3 (RFC 5798 section 5.1) and
//! nothing else: the enclosing IP header lives in [`super::ipv4`], and whether a well-formed
//! advert is acceptable to a local instance in [`super::check()`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use thiserror::Error;

use super::checksum::{ChecksumMode, checksum};

/// Length of the fixed VRRP header, before the addresses.
pub const HEADER_LEN: usize = 8;
/// Length of the VRRPv2 authentication data after the addresses.
pub const AUTH_DATA_LEN: usize = 8;
/// The only VRRP packet type either RFC defines.
pub const ADVERTISEMENT: u8 = 1;

/// VRRP protocol version, the high nibble of the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 3768: IPv4 only, interval in seconds, optional authentication.
    V2,
    /// RFC 5798: IPv4 or IPv6, interval in centiseconds, no authentication.
    V3,
}

impl Version {
    /// The number carried in the version nibble.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Address family of the addresses an advert carries; the IP layer decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// 4-byte addresses.
    Ipv4,
    /// 16-byte addresses (VRRPv3 only).
    Ipv6,
}

impl Family {
    fn address_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }
}

/// The VRRPv2 "Auth Type" byte (RFC 3768 section 5.3.6; RFC 2338 section 5.3.6 for AH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// 0: no authentication.
    None,
    /// 1: simple text password, 8 bytes, zero padded.
    Password,
    /// 2: IPsec AH (RFC 2338); the data is in an AH header, not in the VRRP message.
    Ah,
    /// Any other value: decodes, and [`super::check()`] drops it.
    Other(u8),
}

impl From<u8> for AuthType {
    fn from(byte: u8) -> Self {
        match byte {
            0 => AuthType::None,
            1 => AuthType::Password,
            2 => AuthType::Ah,
            other => AuthType::Other(other),
        }
    }
}

impl From<AuthType> for u8 {
    fn from(auth: AuthType) -> u8 {
        match auth {
            AuthType::None => 0,
            AuthType::Password => 1,
            AuthType::Ah => 2,
            AuthType::Other(other) => other,
        }
    }
}

/// The fields whose meaning depends on the version: bytes 4-5 and the v2 trailer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionFields {
    /// VRRPv2: authentication and an 8-bit interval in seconds.
    V2 {
        /// The "Auth Type" byte.
        auth_type: AuthType,
        /// "Adver Int": seconds between adverts.
        advert_int_secs: u8,
        /// "Authentication Data": the password for type 1, zeros otherwise.
        auth_data: [u8; AUTH_DATA_LEN],
    },
    /// VRRPv3: a 12-bit interval in centiseconds (the 4 reserved bits are dropped on decode
    /// and sent as zero, as RFC 5798 section 5.2.6 asks).
    V3 {
        /// "Max Adver Int": centiseconds between adverts, at most 4095.
        advert_int_cs: u16,
    },
}

/// One VRRP advertisement.
///
/// VRRPv2, RFC 3768 section 5.1:
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Auth Type   |   Adver Int   |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         IP Address (1)                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                            .                                  |
/// |                            .                                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         IP Address (n)                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Authentication Data (1)                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Authentication Data (2)                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// VRRPv3, RFC 5798 section 5.1 (IPvX addresses are 4 or 16 bytes):
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |(rsvd) |     Max Adver Int     |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                                                               +
/// |                       IPvX Address(es)                        |
/// +                                                               +
/// +                                                               +
/// +                                                               +
/// +                                                               +
/// |                                                               |
/// +                                                               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Advertisement {
    /// The "Type" nibble: [`ADVERTISEMENT`] in every valid packet; kept raw so a receiver
    /// can count the others.
    pub packet_type: u8,
    /// "Virtual Rtr ID", 1-255 in valid packets.
    pub vrid: u8,
    /// "Priority": 255 address owner, 0 master stopping, 1-254 backups.
    pub priority: u8,
    /// Version-specific fields; they also say which version this is.
    pub fields: VersionFields,
    /// The virtual addresses, all of one family (IPv4 for v2).
    pub addresses: Vec<IpAddr>,
}

/// Why bytes are not a VRRP advertisement at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Fewer bytes than the fixed header.
    #[error("VRRP message truncated: {len} bytes, the header alone takes {HEADER_LEN}")]
    Truncated {
        /// Bytes received.
        len: usize,
    },
    /// A version nibble other than 2 or 3.
    #[error("unknown VRRP version {0}")]
    UnknownVersion(u8),
    /// VRRPv2 carries IPv4 addresses only.
    #[error("VRRPv2 carries IPv4 addresses only")]
    V2OverIpv6,
    /// The length does not match the address count (RFC 3768/5798 section 7.1: "MUST verify
    /// that the received packet contains the complete VRRP packet").
    #[error("VRRP message is {actual} bytes but its {count} addresses need {expected}")]
    Length {
        /// Address count field.
        count: u8,
        /// Length the count implies.
        expected: usize,
        /// Length received.
        actual: usize,
    },
}

/// Why an advertisement cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The count field is 8 bits wide.
    #[error("{0} addresses do not fit the 8-bit count field")]
    TooManyAddresses(usize),
    /// VRRPv3 intervals are 12 bits of centiseconds.
    #[error("advert interval {0} cs does not fit 12 bits")]
    IntervalTooLarge(u16),
    /// A v2 advert with an IPv6 address, or a mix of families.
    #[error("address {0} does not match the advert's address family")]
    MixedFamilies(IpAddr),
    /// The type nibble is 4 bits wide.
    #[error("packet type {0} does not fit 4 bits")]
    TypeTooLarge(u8),
}

impl Advertisement {
    /// A VRRPv2 advert of type ADVERTISEMENT.
    pub fn v2(
        vrid: u8,
        priority: u8,
        advert_int_secs: u8,
        auth: &super::AuthConfig,
        addresses: Vec<IpAddr>,
    ) -> Self {
        let (auth_type, auth_data) = auth.wire();
        Advertisement {
            packet_type: ADVERTISEMENT,
            vrid,
            priority,
            fields: VersionFields::V2 {
                auth_type,
                advert_int_secs,
                auth_data,
            },
            addresses,
        }
    }

    /// A VRRPv3 advert of type ADVERTISEMENT.
    pub fn v3(vrid: u8, priority: u8, advert_int_cs: u16, addresses: Vec<IpAddr>) -> Self {
        Advertisement {
            packet_type: ADVERTISEMENT,
            vrid,
            priority,
            fields: VersionFields::V3 { advert_int_cs },
            addresses,
        }
    }

    /// Which VRRP version this advert is.
    pub fn version(&self) -> Version {
        match self.fields {
            VersionFields::V2 { .. } => Version::V2,
            VersionFields::V3 { .. } => Version::V3,
        }
    }

    /// The advert interval as a duration (v2 seconds or v3 centiseconds).
    pub fn advert_interval(&self) -> Duration {
        match self.fields {
            VersionFields::V2 {
                advert_int_secs, ..
            } => Duration::from_secs(u64::from(advert_int_secs)),
            VersionFields::V3 { advert_int_cs } => {
                Duration::from_millis(u64::from(advert_int_cs) * 10)
            }
        }
    }

    /// Length of the encoded message.
    pub fn encoded_len(&self) -> usize {
        let addresses: usize = self
            .addresses
            .iter()
            .map(|a| if a.is_ipv4() { 4 } else { 16 })
            .sum();
        let trailer = match self.fields {
            VersionFields::V2 { .. } => AUTH_DATA_LEN,
            VersionFields::V3 { .. } => 0,
        };
        HEADER_LEN + addresses + trailer
    }

    /// Reads an advert from the payload of an IP packet. `family` is the IP packet's family.
    /// Checks structure only (version, length); [`super::check()`] decides acceptance.
    pub fn decode(bytes: &[u8], family: Family) -> Result<Self, DecodeError> {
        let Some(header) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::Truncated { len: bytes.len() });
        };
        let version = match header[0] >> 4 {
            2 => Version::V2,
            3 => Version::V3,
            other => return Err(DecodeError::UnknownVersion(other)),
        };
        if version == Version::V2 && family == Family::Ipv6 {
            return Err(DecodeError::V2OverIpv6);
        }
        let count = header[3];
        let trailer = if version == Version::V2 {
            AUTH_DATA_LEN
        } else {
            0
        };
        let expected = HEADER_LEN + usize::from(count) * family.address_len() + trailer;
        if bytes.len() != expected {
            return Err(DecodeError::Length {
                count,
                expected,
                actual: bytes.len(),
            });
        }
        let body = &bytes[HEADER_LEN..expected - trailer];
        let addresses = match family {
            Family::Ipv4 => body
                .chunks_exact(4)
                .map(|c| IpAddr::V4(Ipv4Addr::new(c[0], c[1], c[2], c[3])))
                .collect(),
            Family::Ipv6 => body
                .chunks_exact(16)
                .map(|c| {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(c);
                    IpAddr::V6(Ipv6Addr::from(octets))
                })
                .collect(),
        };
        let fields = match version {
            Version::V2 => {
                let mut auth_data = [0u8; AUTH_DATA_LEN];
                auth_data.copy_from_slice(&bytes[expected - AUTH_DATA_LEN..]);
                VersionFields::V2 {
                    auth_type: AuthType::from(header[4]),
                    advert_int_secs: header[5],
                    auth_data,
                }
            }
            Version::V3 => VersionFields::V3 {
                advert_int_cs: u16::from_be_bytes([header[4], header[5]]) & 0x0FFF,
            },
        };
        Ok(Advertisement {
            packet_type: header[0] & 0x0F,
            vrid: header[1],
            priority: header[2],
            fields,
            addresses,
        })
    }

    /// Writes the advert with its checksum computed under `mode` (use [`ChecksumMode::Plain`]
    /// for v2; v3 over IPv4 normally takes [`ChecksumMode::PseudoHeader`]).
    pub fn encode(&self, mode: ChecksumMode) -> Result<Vec<u8>, EncodeError> {
        let count = u8::try_from(self.addresses.len())
            .map_err(|_| EncodeError::TooManyAddresses(self.addresses.len()))?;
        if self.packet_type > 0x0F {
            return Err(EncodeError::TypeTooLarge(self.packet_type));
        }
        let v4 = match self.fields {
            VersionFields::V2 { .. } => true,
            VersionFields::V3 { .. } => self.addresses.first().is_none_or(IpAddr::is_ipv4),
        };
        if let Some(odd) = self.addresses.iter().find(|a| a.is_ipv4() != v4) {
            return Err(EncodeError::MixedFamilies(*odd));
        }
        let mut out = Vec::with_capacity(self.encoded_len());
        out.push((self.version().number() << 4) | self.packet_type);
        out.extend_from_slice(&[self.vrid, self.priority, count]);
        match &self.fields {
            VersionFields::V2 {
                auth_type,
                advert_int_secs,
                ..
            } => {
                out.extend_from_slice(&[u8::from(*auth_type), *advert_int_secs]);
            }
            VersionFields::V3 { advert_int_cs } => {
                if *advert_int_cs > 0x0FFF {
                    return Err(EncodeError::IntervalTooLarge(*advert_int_cs));
                }
                out.extend_from_slice(&advert_int_cs.to_be_bytes());
            }
        }
        out.extend_from_slice(&[0, 0]); // checksum, filled below
        for address in &self.addresses {
            match address {
                IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
            }
        }
        if let VersionFields::V2 { auth_data, .. } = &self.fields {
            out.extend_from_slice(auth_data);
        }
        let sum = checksum(&out, mode);
        out[6..8].copy_from_slice(&sum.to_be_bytes());
        Ok(out)
    }
}
