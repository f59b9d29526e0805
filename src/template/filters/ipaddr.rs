//! The `ansible.utils.ipaddr`/`ipv4`/`ipv6` filters (netaddr-based in Python) for the queries
//! roles use: the address, network, prefix, netmask, host and network forms, size, broadcast,
//! the n-th address of a network and "is it inside this network". Any other query is an error
//! naming it, never a guess.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use super::invalid;
use crate::template::pyrepr::py_str;

/// netaddr's `IPNetwork`: an address with a prefix (the host bits kept).
#[derive(Debug, Clone, Copy)]
struct Net {
    ip: u128,
    prefix: u32,
    v6: bool,
}

impl Net {
    fn width(&self) -> u32 {
        if self.v6 { 128 } else { 32 }
    }

    fn hostmask(&self) -> u128 {
        let host_bits = self.width() - self.prefix;
        if host_bits == 0 {
            0
        } else if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        }
    }

    fn netmask(&self) -> u128 {
        let all = if self.v6 {
            u128::MAX
        } else {
            u128::from(u32::MAX)
        };
        all ^ self.hostmask()
    }

    fn network(&self) -> u128 {
        self.ip & self.netmask()
    }

    fn size(&self) -> u128 {
        self.hostmask().wrapping_add(1)
    }

    fn broadcast(&self) -> Option<u128> {
        (self.width() - self.prefix > 1).then(|| self.ip | self.hostmask())
    }

    fn addr(&self, v: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(v).to_string()
        } else {
            Ipv4Addr::from(v as u32).to_string()
        }
    }

    fn contains(&self, other: &Net) -> bool {
        self.v6 == other.v6
            && other.prefix >= self.prefix
            && other.network() & self.netmask() == self.network()
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr(self.ip), self.prefix)
    }
}

/// Parses `addr`, `addr/prefix` or `addr/netmask` as netaddr's `IPNetwork` does.
fn parse(s: &str) -> Option<Net> {
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip: IpAddr = a.parse().ok()?;
    let (ip, v6) = match ip {
        IpAddr::V4(v) => (u128::from(u32::from(v)), false),
        IpAddr::V6(v) => (u128::from(v), true),
    };
    let width = if v6 { 128 } else { 32 };
    let prefix = match p {
        None => width,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u32 = p.parse().ok()?;
            (n <= width).then_some(n)?
        }
        Some(p) if !v6 => {
            // A netmask (255.255.255.0); netaddr also reads host masks (0.0.0.255).
            let m = u32::from(p.parse::<Ipv4Addr>().ok()?);
            if m.leading_ones() + m.trailing_zeros() == 32 {
                m.leading_ones()
            } else if m.leading_zeros() + m.trailing_ones() == 32 {
                m.leading_zeros()
            } else {
                return None;
            }
        }
        Some(_) => return None,
    };
    Some(Net { ip, prefix, v6 })
}

/// `ipaddr(query='', version=False)` for one value; `Ok(None)` is Python's `None`.
fn one(value: &Value, query: &str, version: Option<u8>) -> Result<Value, Error> {
    let no = || Ok(Value::from(false));
    if !value.is_true() || value.kind() == ValueKind::Bool {
        return no();
    }
    let text = py_str(value);
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "hactl does not support ipaddr on an integer address ({text})"
        )));
    }
    let Some(v) = parse(&text) else {
        return no();
    };
    let vtype_network = text.contains('/');
    if let Some(want) = version {
        if (want == 6) != v.v6 {
            return no();
        }
    }
    let none = Value::from(());
    let s = |x: String| Value::from(x);
    let size = v.size();
    let is_net_addr = v.ip == v.network();
    let host_ok = v.ip != v.network() || v.broadcast().is_none();
    Ok(match query {
        "" => {
            if vtype_network {
                s(v.to_string())
            } else {
                s(v.addr(v.ip))
            }
        }
        "address" | "ip" => {
            if size == 1 || host_ok || (v.v6 && is_net_addr) {
                s(v.addr(v.ip))
            } else {
                none
            }
        }
        "address/prefix" | "gateway" | "gw" | "host/prefix" | "hostnet" | "router" => {
            if size > 2 && (is_net_addr || Some(v.ip) == v.broadcast()) {
                Value::from(false)
            } else {
                s(v.to_string())
            }
        }
        "bool" => Value::from(true),
        "broadcast" => match v.broadcast().filter(|_| size > 2) {
            Some(b) => s(v.addr(b)),
            None => none,
        },
        "cidr" => s(v.to_string()),
        "host" => {
            if size == 1 || host_ok {
                s(v.to_string())
            } else {
                none
            }
        }
        "hostmask" | "wildcard" => s(v.addr(v.hostmask())),
        "int" => {
            if vtype_network {
                s(format!("{}/{}", v.ip, v.prefix))
            } else {
                Value::from(v.ip as i128)
            }
        }
        "ip/prefix" => {
            if size == 2 || (size > 1 && !is_net_addr) {
                s(v.to_string())
            } else {
                none
            }
        }
        "ip_netmask" => {
            if size == 2 || (size > 1 && !is_net_addr) {
                s(format!("{} {}", v.addr(v.ip), v.addr(v.netmask())))
            } else {
                none
            }
        }
        "net" => {
            if size > 1 && is_net_addr {
                s(format!("{}/{}", v.addr(v.network()), v.prefix))
            } else {
                none
            }
        }
        "netmask" => s(v.addr(v.netmask())),
        "network" | "network_id" => s(v.addr(v.network())),
        "network/prefix" | "subnet" => s(format!("{}/{}", v.addr(v.network()), v.prefix)),
        "network_netmask" => s(format!("{} {}", v.addr(v.network()), v.addr(v.netmask()))),
        "network_wildcard" => s(format!("{} {}", v.addr(v.network()), v.addr(v.hostmask()))),
        "prefix" => Value::from(v.prefix),
        "size" => Value::from(size as i128),
        "size_usable" => Value::from(match size {
            1 => 0,
            2 => 2,
            n => n as i128 - 2,
        }),
        "type" => Value::from(if size == 1 || !is_net_addr {
            "address"
        } else {
            "network"
        }),
        "version" => Value::from(if v.v6 { 6 } else { 4 }),
        q if q.parse::<i128>().is_ok() && !q.contains('.') => {
            let n: i128 = q.parse().unwrap_or(0);
            if size == 1 {
                if vtype_network {
                    s(v.to_string())
                } else {
                    s(v.addr(v.ip))
                }
            } else {
                // netaddr's v[n]: from the network's first address, negative from its last.
                let first = v.network() as i128;
                let last = first + size as i128 - 1;
                let at = if n >= 0 { first + n } else { last + 1 + n };
                if at < first || at > last {
                    Value::from(false)
                } else {
                    s(format!("{}/{}", v.addr(at as u128), v.prefix))
                }
            }
        }
        q => match parse(q).filter(|_| q.contains('/') || q.contains(':') || q.contains('.')) {
            // A network as the query: the value when it lies inside.
            Some(net) => {
                if net.contains(&v) {
                    value.clone()
                } else {
                    none
                }
            }
            None => {
                return Err(invalid(format!(
                    "hactl does not support the ipaddr query '{q}'"
                )));
            }
        },
    })
}

/// `ipaddr`/`ipv4`/`ipv6` on a value or a list (the list keeps the truthy results).
pub(super) fn ipaddr(
    value: &Value,
    query: Option<Value>,
    version: Option<u8>,
) -> Result<Value, Error> {
    super::defined(value)?;
    let query = query.map(|q| py_str(&q)).unwrap_or_default();
    if value.kind() == ValueKind::Seq {
        let mut out = Vec::new();
        for item in value.try_iter()? {
            let r = one(&item, &query, version)?;
            if r.is_true() {
                out.push(r);
            }
        }
        return Ok(Value::from(out));
    }
    one(value, &query, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_netaddr() {
        let n = parse("198.51.100.7/255.255.255.0").expect("netmask form");
        assert_eq!(n.prefix, 24);
        assert_eq!(n.to_string(), "198.51.100.7/24");
        assert!(parse("300.1.1.1").is_none());
        let v6 = parse("2001:DB8:0:0::1/64").expect("v6");
        assert_eq!(v6.to_string(), "2001:db8::1/64");
        assert_eq!(v6.addr(v6.network()), "2001:db8::");
    }
}
