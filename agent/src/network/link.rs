//! Link state for `track_interface`: the oper state of an interface now, and a stream of
//! up/down changes from the kernel's RTNLGRP_LINK notifications.
//!
//! keepalived treats an interface as up when it is administratively up and running
//! (`IFF_UP|IFF_RUNNING`); we read the same flags, and report the RFC 2863 oper state beside
//! them for logs.

use futures::{StreamExt, TryStreamExt};
use rtnetlink::MulticastGroup;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage, State};
use tokio::sync::mpsc;

use super::{NetError, Netlink};

/// RFC 2863 operational state, as the kernel reports it in IFLA_OPERSTATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperState {
    Up,
    Down,
    LowerLayerDown,
    Dormant,
    Unknown,
    Other,
}

/// The state of one link, from a query or a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    pub ifindex: u32,
    pub ifname: String,
    pub oper: OperState,
    /// `IFF_UP` and `IFF_RUNNING` both set: keepalived's test for a usable interface.
    pub up: bool,
    /// The link was deleted (RTM_DELLINK).
    pub removed: bool,
}

fn from_message(msg: &LinkMessage, removed: bool) -> LinkEvent {
    let mut ifname = String::new();
    let mut oper = OperState::Unknown;
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => ifname = n.clone(),
            LinkAttribute::OperState(s) => {
                oper = match s {
                    State::Up => OperState::Up,
                    State::Down => OperState::Down,
                    State::LowerLayerDown => OperState::LowerLayerDown,
                    State::Dormant => OperState::Dormant,
                    State::Unknown => OperState::Unknown,
                    _ => OperState::Other,
                }
            }
            _ => {}
        }
    }
    let flags = msg.header.flags;
    LinkEvent {
        ifindex: msg.header.index,
        ifname,
        oper,
        up: !removed && flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::Running),
        removed,
    }
}

impl Netlink {
    /// The current state of one link.
    pub async fn link_state(&self, ifindex: u32) -> Result<LinkEvent, NetError> {
        let err = |source| NetError::Netlink {
            op: "get link",
            ifindex,
            source,
        };
        let mut stream = self.handle.link().get().match_index(ifindex).execute();
        match stream.try_next().await.map_err(err)? {
            Some(msg) => Ok(from_message(&msg, false)),
            None => Err(NetError::NoSuchInterface(format!("ifindex {ifindex}"))),
        }
    }
}

/// Subscribes to link notifications and forwards each as a [`LinkEvent`] on the returned
/// channel until the receiver is dropped. Must run inside a tokio runtime; the netlink socket
/// belongs to the network namespace current at the call.
pub fn monitor_links() -> Result<mpsc::Receiver<LinkEvent>, NetError> {
    let (conn, _handle, mut messages) =
        rtnetlink::new_multicast_connection(&[MulticastGroup::Link]).map_err(|e| NetError::Io {
            op: "open netlink socket for RTNLGRP_LINK",
            ifname: String::new(),
            source: e,
        })?;
    let conn_task = tokio::spawn(conn);
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        while let Some((msg, _)) = messages.next().await {
            let event = match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => {
                    from_message(&m, false)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                    from_message(&m, true)
                }
                _ => continue,
            };
            if tx.send(event).await.is_err() {
                break;
            }
        }
        conn_task.abort();
    });
    Ok(rx)
}
