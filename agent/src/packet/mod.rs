//! The VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) packet codec.
//!
//! Sans-IO: bytes in, typed values out, and back. It owns
//! - [`advert`]: the VRRP message ([`Advertisement`]), encode and decode, IPv4 and IPv6;
//! - [`checksum`]: the Internet checksum, with or without the IP pseudo-header;
//! - [`ipv4`]: the enclosing IPv4 header as a raw socket delivers it;
//! - [`check()`] / [`check_ipv6()`]: the receive-side rules of RFC 3768/5798 section 7.1 as keepalived 2.2.7 applies
//!   them, each failure a distinct [`DropReason`] the runtime can count.
//!
//! It does not own sockets, multicast membership or the state machine (see [`crate::fsm`]).

pub mod advert;
pub mod check;
pub mod checksum;
pub mod ipv4;

pub use advert::{
    ADVERTISEMENT, AUTH_DATA_LEN, Advertisement, AuthType, DecodeError, EncodeError, Family,
    HEADER_LEN, Version, VersionFields,
};
pub use check::{DropReason, LocalInstance, Received, UnicastPeer, V3Checksum, check, check_ipv6};
pub use checksum::ChecksumMode;
pub use ipv4::Ipv4Header;

/// IP protocol number of VRRP.
pub const VRRP_PROTOCOL: u8 = 112;
/// TTL (IPv4) or hop limit (IPv6) of adverts, required by multicast receivers; a unicast
/// instance sends its `unicast_ttl` instead and checks TTLs only per peer (`min_ttl`/`max_ttl`).
pub const VRRP_TTL: u8 = 255;
/// The IPv4 multicast group adverts go to unless configured otherwise.
pub const VRRP_GROUP_V4: std::net::Ipv4Addr = std::net::Ipv4Addr::new(224, 0, 0, 18);

/// The authentication a local VRRPv2 instance is configured with (`authentication { }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthConfig {
    /// No authentication (type 0); the 8 data bytes are sent as zeros.
    #[default]
    None,
    /// `auth_type PASS`: the password's first 8 bytes, zero padded (type 1).
    Password([u8; AUTH_DATA_LEN]),
    /// `auth_type AH` (type 2). Recognised so such adverts are dropped with a clear reason;
    /// the agent does not implement AH.
    Ah,
}

impl AuthConfig {
    /// `auth_type PASS` with `auth_pass text`. keepalived keeps only the first 8 bytes of a
    /// longer password (and warns), so two routers whose passwords differ after byte 8 agree.
    pub fn password(text: &str) -> Self {
        let mut data = [0u8; AUTH_DATA_LEN];
        let bytes = text.as_bytes();
        let len = bytes.len().min(AUTH_DATA_LEN);
        data[..len].copy_from_slice(&bytes[..len]);
        AuthConfig::Password(data)
    }

    /// The auth type byte and data bytes this configuration puts in a VRRPv2 advert.
    pub fn wire(&self) -> (AuthType, [u8; AUTH_DATA_LEN]) {
        match self {
            AuthConfig::None => (AuthType::None, [0; AUTH_DATA_LEN]),
            AuthConfig::Password(data) => (AuthType::Password, *data),
            AuthConfig::Ah => (AuthType::Ah, [0; AUTH_DATA_LEN]),
        }
    }
}
