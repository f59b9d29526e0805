//! The VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) packet codec for IPv4.
