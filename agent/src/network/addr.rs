//! Virtual IP addresses on interfaces, over rtnetlink, and the rule for which ones the agent
//! may remove.
//!
//! The ownership rule: the agent only ever removes an address it added itself in this run, or
//! one that exactly matches (interface, address, prefix) a VIP in its configuration. An
//! operator's own addresses on the same interface are never touched, even if they sit in the
//! same subnet. [`cleanup_stale`] applies the rule at start-up after a crash, when the agent
//! has no memory of what it added and may remove configured VIPs only.

use std::collections::HashSet;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};

use std::str::FromStr;

use futures::TryStreamExt;
use rtnetlink::Handle;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope,
};

use super::NetError;

/// Address scope, as `ip addr add ... scope` and keepalived's `virtual_ipaddress` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    #[default]
    Global,
    Site,
    Link,
    Host,
    Nowhere,
    /// A numeric scope from /etc/iproute2/rt_scopes.
    Other(u8),
}

/// An address scope that is neither a known name nor a number 0-255.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown address scope {0:?}")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    /// Parses the names iproute2 knows (`global`/`universe`, `site`, `link`, `host`,
    /// `nowhere`) or a number 0-255.
    fn from_str(s: &str) -> Result<Self, UnknownScope> {
        Ok(match s {
            "global" | "universe" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            n => Scope::from_raw(n.parse().map_err(|_| UnknownScope(n.to_owned()))?),
        })
    }
}

impl Scope {
    /// The kernel's `RT_SCOPE_*` number.
    pub fn to_raw(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(n) => n,
        }
    }

    /// The inverse of [`Scope::to_raw`].
    pub fn from_raw(n: u8) -> Self {
        match n {
            0 => Scope::Global,
            200 => Scope::Site,
            253 => Scope::Link,
            254 => Scope::Host,
            255 => Scope::Nowhere,
            n => Scope::Other(n),
        }
    }
}

/// One virtual IP as keepalived's `virtual_ipaddress` block describes it:
/// `198.51.100.10/24 brd 198.51.100.255 dev eth0 scope global label eth0:vip`, or an IPv6
/// one (`2001:db8::10/64`), which is added with `nodad` as keepalived adds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vip {
    pub ifindex: u32,
    pub addr: IpAddr,
    /// keepalived's default when no `/len` is given is 32 (128 for IPv6).
    pub prefix_len: u8,
    /// Broadcast address; none unless configured (keepalived sets IFA_BROADCAST only on `brd`).
    pub broadcast: Option<Ipv4Addr>,
    pub scope: Scope,
    pub label: Option<String>,
}

impl Vip {
    /// A global VIP with no label or broadcast.
    pub fn new(ifindex: u32, addr: impl Into<IpAddr>, prefix_len: u8) -> Self {
        Vip {
            ifindex,
            addr: addr.into(),
            prefix_len,
            broadcast: None,
            scope: Scope::Global,
            label: None,
        }
    }

    fn key(&self) -> (u32, IpAddr, u8) {
        (self.ifindex, self.addr, self.prefix_len)
    }
}

/// An IPv4 or IPv6 address as the kernel reports it on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InterfaceAddress {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub label: Option<String>,
}

impl InterfaceAddress {
    fn key(&self) -> (u32, IpAddr, u8) {
        (self.ifindex, self.addr, self.prefix_len)
    }

    /// Whether this is exactly `vip` (same interface, address and prefix length).
    pub fn matches(&self, vip: &Vip) -> bool {
        self.key() == vip.key()
    }
}

/// Adding, removing and listing addresses (both families); [`Netlink`] is the real one.
pub trait AddressIo {
    fn add(&self, vip: &Vip) -> impl Future<Output = Result<(), NetError>> + Send;
    fn del(&self, addr: &InterfaceAddress) -> impl Future<Output = Result<(), NetError>> + Send;
    fn list(
        &self,
        ifindex: u32,
    ) -> impl Future<Output = Result<Vec<InterfaceAddress>, NetError>> + Send;
}

/// The rtnetlink implementation of [`AddressIo`] (and of link queries, see `link`).
#[derive(Debug, Clone)]
pub struct Netlink {
    pub(crate) handle: Handle,
}

impl Netlink {
    /// Opens a netlink connection in the current network namespace and drives it on a tokio
    /// task. Must run inside a tokio runtime.
    pub fn connect() -> Result<Self, NetError> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(|e| NetError::Io {
            op: "open netlink socket",
            ifname: String::new(),
            source: e,
        })?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }
}

impl AddressIo for Netlink {
    async fn add(&self, vip: &Vip) -> Result<(), NetError> {
        let mut req = self
            .handle
            .address()
            .add(vip.ifindex, vip.addr, vip.prefix_len);
        let msg = req.message_mut();
        if vip.addr.is_ipv6() {
            // keepalived adds IPv6 VIPs with IFA_F_NODAD: a VIP moving between routers must
            // be usable at once, not after duplicate address detection.
            msg.header.flags |= AddressHeaderFlags::Nodad;
        }
        // rtnetlink's builder derives a broadcast address by itself; keepalived (and `ip addr
        // add`) set one only when configured, so drop it and add ours.
        msg.attributes
            .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
        if let (Some(brd), true) = (vip.broadcast, vip.addr.is_ipv4()) {
            msg.attributes.push(AddressAttribute::Broadcast(brd));
        }
        if let Some(label) = &vip.label {
            msg.attributes.push(AddressAttribute::Label(label.clone()));
        }
        msg.header.scope = AddressScope::from(vip.scope.to_raw());
        req.execute().await.map_err(|source| NetError::Netlink {
            op: "add address",
            ifindex: vip.ifindex,
            source,
        })
    }

    async fn del(&self, addr: &InterfaceAddress) -> Result<(), NetError> {
        let mut msg = AddressMessage::default();
        msg.header.family = if addr.addr.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        };
        msg.header.index = addr.ifindex;
        msg.header.prefix_len = addr.prefix_len;
        // An IPv6 address has no IFA_LOCAL, only IFA_ADDRESS.
        msg.attributes.push(match addr.addr {
            IpAddr::V4(_) => AddressAttribute::Local(addr.addr),
            IpAddr::V6(_) => AddressAttribute::Address(addr.addr),
        });
        self.handle
            .address()
            .del(msg)
            .execute()
            .await
            .map_err(|source| NetError::Netlink {
                op: "delete address",
                ifindex: addr.ifindex,
                source,
            })
    }

    async fn list(&self, ifindex: u32) -> Result<Vec<InterfaceAddress>, NetError> {
        let err = |source| NetError::Netlink {
            op: "list addresses",
            ifindex,
            source,
        };
        let mut stream = self
            .handle
            .address()
            .get()
            .set_link_index_filter(ifindex)
            .execute();
        let mut out = Vec::new();
        while let Some(msg) = stream.try_next().await.map_err(err)? {
            if let Some(a) = from_message(&msg) {
                out.push(a);
            }
        }
        Ok(out)
    }
}

/// Reads an IPv4 or IPv6 address out of a netlink message; `None` for other families and for
/// IPv6 addresses in (or failed) duplicate address detection.
fn from_message(msg: &AddressMessage) -> Option<InterfaceAddress> {
    let mut local = None;
    let mut address = None;
    let mut label = None;
    // An IPv6 address still in duplicate address detection (or that failed it) cannot be a
    // source yet: leave it out, so an IPv6 instance waits for its link-local address.
    let unusable = AddressHeaderFlags::Tentative | AddressHeaderFlags::Dadfailed;
    let mut in_dad = msg.header.flags.intersects(unusable);
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::Label(l) => label = Some(l.clone()),
            AddressAttribute::Flags(f) => {
                in_dad |= f.intersects(AddressFlags::Tentative | AddressFlags::Dadfailed);
            }
            _ => {}
        }
    }
    if in_dad {
        return None;
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS differs from it only on
    // point-to-point links, where it is the peer.
    Some(InterfaceAddress {
        ifindex: msg.header.index,
        addr: local.or(address)?,
        prefix_len: msg.header.prefix_len,
        label,
    })
}

/// The addresses on the interface that exactly match a configured VIP: the only ones a
/// start-up cleanup may remove. Pure, so the rule is unit-tested without a kernel.
pub fn stale_vips<'a>(
    current: &'a [InterfaceAddress],
    configured: &[Vip],
) -> Vec<&'a InterfaceAddress> {
    current
        .iter()
        .filter(|a| configured.iter().any(|v| a.matches(v)))
        .collect()
}

/// Start-up after a crash: removes from `ifindex` every address that exactly matches a
/// configured VIP, and nothing else. Returns what it removed.
pub async fn cleanup_stale<A: AddressIo>(
    io: &A,
    ifindex: u32,
    configured: &[Vip],
) -> Result<Vec<InterfaceAddress>, NetError> {
    let current = io.list(ifindex).await?;
    let mut removed = Vec::new();
    for addr in stale_vips(&current, configured) {
        io.del(addr).await?;
        removed.push(addr.clone());
    }
    Ok(removed)
}

/// Adds and removes VIPs under the ownership rule, remembering what this run added.
#[derive(Debug)]
pub struct AddressManager<A> {
    io: A,
    configured: Vec<Vip>,
    added: HashSet<(u32, IpAddr, u8)>,
}

impl<A: AddressIo> AddressManager<A> {
    pub fn new(io: A, configured: Vec<Vip>) -> Self {
        AddressManager {
            io,
            configured,
            added: HashSet::new(),
        }
    }

    /// The I/O backend, e.g. to list addresses.
    pub fn io(&self) -> &A {
        &self.io
    }

    /// Adds a VIP and records it as ours. An address that is already there (EEXIST) counts as
    /// added: after a restart the VIP may still be on the interface.
    pub async fn add(&mut self, vip: &Vip) -> Result<(), NetError> {
        let present = self
            .io
            .list(vip.ifindex)
            .await?
            .iter()
            .any(|a| a.matches(vip));
        if !present {
            self.io.add(vip).await?;
        }
        self.added.insert(vip.key());
        Ok(())
    }

    /// Whether the ownership rule lets the agent remove `addr`.
    pub fn owns(&self, addr: &InterfaceAddress) -> bool {
        self.added.contains(&addr.key()) || self.configured.iter().any(|v| addr.matches(v))
    }

    /// Removes a VIP if the ownership rule allows it; a VIP that is already gone is fine.
    pub async fn remove(&mut self, vip: &Vip) -> Result<(), NetError> {
        let target = InterfaceAddress {
            ifindex: vip.ifindex,
            addr: vip.addr,
            prefix_len: vip.prefix_len,
            label: vip.label.clone(),
        };
        if !self.owns(&target) {
            return Err(NetError::NotOwned {
                ifindex: vip.ifindex,
                addr: vip.addr,
                prefix_len: vip.prefix_len,
            });
        }
        let present = self
            .io
            .list(vip.ifindex)
            .await?
            .iter()
            .any(|a| a.matches(vip));
        if present {
            self.io.del(&target).await?;
        }
        self.added.remove(&vip.key());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_like_iproute2() {
        for (text, scope, raw) in [
            ("global", Scope::Global, 0),
            ("universe", Scope::Global, 0),
            ("site", Scope::Site, 200),
            ("link", Scope::Link, 253),
            ("host", Scope::Host, 254),
            ("nowhere", Scope::Nowhere, 255),
            ("254", Scope::Host, 254),
            ("17", Scope::Other(17), 17),
        ] {
            let parsed: Scope = text.parse().expect("scope");
            assert_eq!(parsed, scope, "{text}");
            assert_eq!(parsed.to_raw(), raw, "{text}");
        }
        assert_eq!(
            "galaxy".parse::<Scope>(),
            Err(UnknownScope("galaxy".into()))
        );
        assert!("256".parse::<Scope>().is_err());
    }
}
