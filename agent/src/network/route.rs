//! Routes and policy routing rules over rtnetlink, as keepalived 2.2.7 installs them
//! (`netlink_route` in vrrp_iproute.c, `netlink_rule` in vrrp_iprule.c), and the rule for which
//! ones the agent may remove.
//!
//! The ownership rule: the agent removes only a route or rule it added itself in this run.
//! One that was already there (the kernel answers EEXIST) is left alone, on add and on remove,
//! as keepalived leaves it (its `set` flag stays false).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};

use futures::StreamExt;
use rtnetlink::packet_core::{
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkMessage,
    NetlinkPayload,
};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteProtocol, RouteScope,
    RouteType,
};
use rtnetlink::packet_route::rule::{
    RuleAction, RuleAttribute, RuleFlags, RuleHeader, RuleMessage,
};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};

use super::{NetError, Netlink};

const EEXIST: i32 = 17;
const ENOENT: i32 = 2;
const ESRCH: i32 = 3;

/// How a route joins others to its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteMode {
    /// keepalived's default (no NLM_F_EXCL, no NLM_F_APPEND).
    Prepend,
    Add,
    Append,
}

/// An IPv4 route ready for the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KernelRoute {
    pub dst: Ipv4Addr,
    pub dst_len: u8,
    pub via: Option<Ipv4Addr>,
    pub pref_src: Option<Ipv4Addr>,
    pub oif: Option<u32>,
    pub table: u32,
    pub metric: Option<u32>,
    /// Raw RT_SCOPE_*; keepalived sends universe (0) unless configured.
    pub scope: u8,
    pub protocol: u8,
    /// Raw RTN_*: unicast 1, blackhole 6, unreachable 7, prohibit 8, throw 9.
    pub kind: u8,
    pub onlink: bool,
    pub mode: RouteMode,
}

/// An IPv4 policy routing rule ready for the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KernelRule {
    pub from: Option<(Ipv4Addr, u8)>,
    pub to: Option<(Ipv4Addr, u8)>,
    /// Raw FR_ACT_*: to table 1, blackhole 6, unreachable 7, prohibit 8.
    pub action: u8,
    /// For the to-table action.
    pub table: u32,
    pub priority: u32,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub invert: bool,
    /// FRA_PROTOCOL: 18 for tracked rules, none otherwise.
    pub protocol: Option<u8>,
}

fn route_message(r: &KernelRoute, delete: bool) -> RouteMessage {
    let mut header = RouteHeader {
        address_family: AddressFamily::Inet,
        destination_prefix_length: r.dst_len,
        ..RouteHeader::default()
    };
    let mut attributes = Vec::new();
    // Tables above 255 go in RTA_TABLE with the header's table unspecified.
    match u8::try_from(r.table) {
        Ok(t) => header.table = t,
        Err(_) => {
            header.table = RouteHeader::RT_TABLE_UNSPEC;
            attributes.push(RouteAttribute::Table(r.table));
        }
    }
    header.protocol = RouteProtocol::from(r.protocol);
    if delete {
        header.scope = RouteScope::NoWhere;
        header.kind = RouteType::from(r.kind);
    } else {
        header.scope = RouteScope::from(r.scope);
        header.kind = RouteType::from(r.kind);
    }
    if r.onlink {
        header.flags |= RouteFlags::Onlink;
    }
    attributes.push(RouteAttribute::Destination(RouteAddress::Inet(r.dst)));
    if let Some(src) = r.pref_src {
        attributes.push(RouteAttribute::PrefSource(RouteAddress::Inet(src)));
    }
    if let Some(gw) = r.via {
        attributes.push(RouteAttribute::Gateway(RouteAddress::Inet(gw)));
    }
    if let Some(oif) = r.oif {
        attributes.push(RouteAttribute::Oif(oif));
    }
    if let Some(m) = r.metric {
        attributes.push(RouteAttribute::Priority(m));
    }
    let mut msg = RouteMessage::default();
    msg.header = header;
    msg.attributes = attributes;
    msg
}

fn rule_message(r: &KernelRule) -> RuleMessage {
    let mut header = RuleHeader {
        family: AddressFamily::Inet,
        action: RuleAction::from(r.action),
        ..RuleHeader::default()
    };
    let mut attributes = Vec::new();
    if r.action == 1 {
        match u8::try_from(r.table) {
            Ok(t) => header.table = t,
            Err(_) => attributes.push(RuleAttribute::Table(r.table)),
        }
    }
    if r.invert {
        header.flags |= RuleFlags::Invert;
    }
    if let Some((addr, len)) = r.from {
        header.src_len = len;
        attributes.push(RuleAttribute::Source(IpAddr::V4(addr)));
    }
    if let Some((addr, len)) = r.to {
        header.dst_len = len;
        attributes.push(RuleAttribute::Destination(IpAddr::V4(addr)));
    }
    attributes.push(RuleAttribute::Priority(r.priority));
    if let Some(i) = &r.iif {
        attributes.push(RuleAttribute::Iifname(i.clone()));
    }
    if let Some(o) = &r.oif {
        attributes.push(RuleAttribute::Oifname(o.clone()));
    }
    if let Some(p) = r.protocol {
        attributes.push(RuleAttribute::Protocol(RouteProtocol::from(p)));
    }
    let mut msg = RuleMessage::default();
    msg.header = header;
    msg.attributes = attributes;
    msg
}

/// Sends one request; the kernel's errno on failure.
/// Sending one route or rule request to the kernel; the answer is Ok or the kernel's errno.
/// [`Netlink`] is the real one; the fakes record the requests.
pub trait RouteIo {
    fn request(
        &self,
        payload: RouteNetlinkMessage,
        flags: u16,
    ) -> impl Future<Output = Result<Result<(), i32>, NetError>> + Send;
}

impl RouteIo for Netlink {
    async fn request(
        &self,
        payload: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Result<(), i32>, NetError> {
        let mut req = NetlinkMessage::from(payload);
        req.header.flags = flags;
        let mut handle = self.handle.clone();
        let mut response = handle.request(req).map_err(|source| NetError::Netlink {
            op: "route request",
            ifindex: 0,
            source,
        })?;
        while let Some(msg) = response.next().await {
            if let NetlinkPayload::Error(e) = msg.payload {
                if let Some(code) = e.code {
                    return Ok(Err(-code.get()));
                }
            }
        }
        Ok(Ok(()))
    }
}

async fn request<R: RouteIo>(
    netlink: &R,
    payload: RouteNetlinkMessage,
    flags: u16,
) -> Result<Result<(), i32>, NetError> {
    netlink.request(payload, flags).await
}

fn kernel_error(op: &'static str, errno: i32) -> NetError {
    NetError::Io {
        op,
        ifname: String::new(),
        source: std::io::Error::from_raw_os_error(errno),
    }
}

/// Adds and removes routes and rules, remembering which ones this run added.
#[derive(Debug)]
pub struct RouteManager<R = Netlink> {
    netlink: R,
    routes: Vec<KernelRoute>,
    rules: Vec<KernelRule>,
}

impl<R: RouteIo> RouteManager<R> {
    pub fn new(netlink: R) -> Self {
        RouteManager {
            netlink,
            routes: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// Adds a route; one already there is left to its owner (Ok(false)).
    pub async fn add_route(&mut self, r: &KernelRoute) -> Result<bool, NetError> {
        let mut flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
        match r.mode {
            RouteMode::Prepend => {}
            RouteMode::Add => flags |= NLM_F_EXCL,
            RouteMode::Append => flags |= NLM_F_APPEND,
        }
        let msg = RouteNetlinkMessage::NewRoute(route_message(r, false));
        match request(&self.netlink, msg, flags).await? {
            Ok(()) => {
                if !self.routes.contains(r) {
                    self.routes.push(r.clone());
                }
                Ok(true)
            }
            Err(EEXIST) => Ok(false),
            Err(errno) => Err(kernel_error("add route", errno)),
        }
    }

    /// Removes a route this run added; others are never touched (Ok(false)).
    pub async fn remove_route(&mut self, r: &KernelRoute) -> Result<bool, NetError> {
        let Some(i) = self.routes.iter().position(|x| x == r) else {
            return Ok(false);
        };
        self.routes.swap_remove(i);
        let msg = RouteNetlinkMessage::DelRoute(route_message(r, true));
        match request(&self.netlink, msg, NLM_F_REQUEST | NLM_F_ACK).await? {
            Ok(()) => Ok(true),
            // Gone already (its interface went down, or someone removed it).
            Err(ENOENT | ESRCH) => Ok(false),
            Err(errno) => Err(kernel_error("delete route", errno)),
        }
    }

    /// Adds a rule; one already there is left to its owner (Ok(false)).
    pub async fn add_rule(&mut self, r: &KernelRule) -> Result<bool, NetError> {
        let msg = RouteNetlinkMessage::NewRule(rule_message(r));
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        match request(&self.netlink, msg, flags).await? {
            Ok(()) => {
                if !self.rules.contains(r) {
                    self.rules.push(r.clone());
                }
                Ok(true)
            }
            Err(EEXIST) => Ok(false),
            Err(errno) => Err(kernel_error("add rule", errno)),
        }
    }

    /// Removes a rule this run added; others are never touched (Ok(false)).
    pub async fn remove_rule(&mut self, r: &KernelRule) -> Result<bool, NetError> {
        let Some(i) = self.rules.iter().position(|x| x == r) else {
            return Ok(false);
        };
        self.rules.swap_remove(i);
        let mut msg = rule_message(r);
        msg.header.action = RuleAction::Unspec;
        let msg = RouteNetlinkMessage::DelRule(msg);
        match request(&self.netlink, msg, NLM_F_REQUEST | NLM_F_ACK).await? {
            Ok(()) => Ok(true),
            Err(ENOENT | ESRCH) => Ok(false),
            Err(errno) => Err(kernel_error("delete rule", errno)),
        }
    }

    /// Whether this run added `r`.
    pub fn owns_route(&self, r: &KernelRoute) -> bool {
        self.routes.contains(r)
    }

    /// Whether this run added `r`.
    pub fn owns_rule(&self, r: &KernelRule) -> bool {
        self.rules.contains(r)
    }
}

/// Something of ours the kernel reports deleted (RTM_DELADDR, RTM_DELROUTE, RTM_DELRULE),
/// with the fields keepalived matches on (`address_is_ours`, `route_is_ours`,
/// `compare_rule` in keepalived_netlink.c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    Address {
        ifindex: u32,
        addr: IpAddr,
    },
    Route {
        table: u32,
        dst: Ipv4Addr,
        dst_len: u8,
        /// RTA_PRIORITY, 0 when absent.
        metric: u32,
        oif: Option<u32>,
        protocol: u8,
    },
    Rule {
        priority: Option<u32>,
        action: u8,
        table: u32,
        from: Option<(Ipv4Addr, u8)>,
        to: Option<(Ipv4Addr, u8)>,
        invert: bool,
    },
}

impl Deleted {
    /// Whether this deletion is of `r` (as keepalived compares them).
    pub fn is_route(&self, r: &KernelRoute) -> bool {
        let Deleted::Route {
            table,
            dst,
            dst_len,
            metric,
            oif,
            protocol,
        } = self
        else {
            return false;
        };
        *protocol == r.protocol
            && *table == r.table
            && *dst_len == r.dst_len
            && *dst == r.dst
            && *metric == r.metric.unwrap_or(0)
            && r.oif.is_none_or(|o| *oif == Some(o))
    }

    /// Whether this deletion is of `r`.
    pub fn is_rule(&self, r: &KernelRule) -> bool {
        let Deleted::Rule {
            priority,
            action,
            table,
            from,
            to,
            invert,
        } = self
        else {
            return false;
        };
        let r_table = if r.action == 1 { r.table } else { 0 };
        *priority == Some(r.priority)
            && *action == r.action
            && *table == r_table
            && *invert == r.invert
            && *from == r.from
            && *to == r.to
    }
}

fn deleted_route(m: &RouteMessage) -> Option<Deleted> {
    if m.header.address_family != AddressFamily::Inet {
        return None;
    }
    let mut table = u32::from(m.header.table);
    let mut dst = Ipv4Addr::UNSPECIFIED;
    let mut metric = 0;
    let mut oif = None;
    for a in &m.attributes {
        match a {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(RouteAddress::Inet(d)) => dst = *d,
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::Oif(o) => oif = Some(*o),
            _ => {}
        }
    }
    Some(Deleted::Route {
        table,
        dst,
        dst_len: m.header.destination_prefix_length,
        metric,
        oif,
        protocol: u8::from(m.header.protocol),
    })
}

fn deleted_rule(m: &RuleMessage) -> Option<Deleted> {
    if m.header.family != AddressFamily::Inet {
        return None;
    }
    let mut table = u32::from(m.header.table);
    let mut priority = None;
    let mut from = None;
    let mut to = None;
    for a in &m.attributes {
        match a {
            RuleAttribute::Table(t) => table = *t,
            RuleAttribute::Priority(p) => priority = Some(*p),
            RuleAttribute::Source(IpAddr::V4(s)) => from = Some((*s, m.header.src_len)),
            RuleAttribute::Destination(IpAddr::V4(d)) => to = Some((*d, m.header.dst_len)),
            _ => {}
        }
    }
    Some(Deleted::Rule {
        priority,
        action: u8::from(m.header.action),
        table,
        from,
        to,
        invert: m.header.flags.contains(RuleFlags::Invert),
    })
}

/// What the kernel reports that instances react to: something deleted, or an address added
/// to an interface (it may give an instance without one its advert source, keepalived
/// `netlink_if_address_filter` on RTM_NEWADDR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Deleted(Deleted),
    AddressAdded { ifindex: u32 },
}

/// Subscribes to address, IPv4 route and rule notifications and forwards each deletion and
/// each added address until the receiver is dropped. Must run inside a tokio runtime, in the
/// agent's namespace.
pub fn monitor_changes() -> Result<tokio::sync::mpsc::Receiver<Change>, NetError> {
    use rtnetlink::MulticastGroup;
    use rtnetlink::packet_route::address::AddressAttribute;
    let groups = [
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
        MulticastGroup::Ipv4Route,
        MulticastGroup::Ipv4Rule,
    ];
    let (conn, _handle, mut messages) =
        rtnetlink::new_multicast_connection(&groups).map_err(|e| NetError::Io {
            op: "open netlink socket for address, route and rule changes",
            ifname: String::new(),
            source: e,
        })?;
    let conn_task = tokio::spawn(conn);
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(async move {
        while let Some((msg, _)) = messages.next().await {
            let change = match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(m)) => m
                    .attributes
                    .iter()
                    .find_map(|a| match a {
                        AddressAttribute::Local(v @ IpAddr::V4(_)) => Some(*v),
                        // IPv6 addresses carry IFA_ADDRESS only.
                        AddressAttribute::Address(v @ IpAddr::V6(_)) => Some(*v),
                        _ => None,
                    })
                    .map(|addr| {
                        Change::Deleted(Deleted::Address {
                            ifindex: m.header.index,
                            addr,
                        })
                    }),
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m)) => {
                    Some(Change::AddressAdded {
                        ifindex: m.header.index,
                    })
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelRoute(m)) => {
                    deleted_route(&m).map(Change::Deleted)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelRule(m)) => {
                    deleted_rule(&m).map(Change::Deleted)
                }
                _ => None,
            };
            let Some(c) = change else { continue };
            if tx.send(c).await.is_err() {
                break;
            }
        }
        conn_task.abort();
    });
    Ok(rx)
}
