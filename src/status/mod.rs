//! `hactl status`: the VRRP state of a whole fleet, asked of every host at once over the same
//! SSH transport as a run, and checked against what really decides who serves a VIP: the
//! addresses each host holds.
//!
//! Per host, one script ([`probe`]) asks the VRRP engine it finds (hactl-agent over its
//! status socket, keepalived through its SIGUSR1 state dump, read by [`keepalived`]), reads
//! the config on disk for hosts whose engine is stopped, and lists the host's IPv4 and IPv6
//! addresses. [`fleet`] puts the answers together per VRID (IPv4 and IPv6 VRIDs apart) and
//! flags every VIP held by zero or by several hosts; [`table`] renders that view. An
//! unreachable host is data, not an error.
//!
//! It does not own host selection or connections (`commands::run`, `run::target`,
//! `transport`) or the terminal (`report`).

pub mod fleet;
pub mod keepalived;
pub mod probe;
pub mod table;

use std::net::IpAddr;

use serde::Serialize;

pub use fleet::{Fleet, Vrid};

/// Which VRRP engine answered on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    HactlAgent,
    Keepalived,
    /// Both run: they would fight over the same VRIDs.
    Both,
    /// Neither runs; instances (if any) come from the config on disk.
    None,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::HactlAgent => "hactl-agent",
            Engine::Keepalived => "keepalived",
            Engine::Both => "both",
            Engine::None => "none",
        }
    }
}

/// An instance's state: the VRRP state its engine reports (hactl-agent's typed JSON, the
/// same words in keepalived's dump), or STOPPED for an instance only found in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineState {
    Vrrp(hactl_agent::status::State),
    Stopped,
    /// A word keepalived's dump has that is not a VRRP state (shown as it is).
    Other(String),
}

impl EngineState {
    pub fn is_master(&self) -> bool {
        *self == EngineState::Vrrp(hactl_agent::status::State::Master)
    }
}

impl From<&str> for EngineState {
    /// keepalived's words (`State = MASTER` in its dump), or STOPPED.
    fn from(word: &str) -> Self {
        match word {
            "STOPPED" => EngineState::Stopped,
            w => w
                .parse()
                .map_or_else(|_| EngineState::Other(w.to_string()), EngineState::Vrrp),
        }
    }
}

impl std::fmt::Display for EngineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineState::Vrrp(s) => f.write_str(s.name()),
            EngineState::Stopped => f.write_str("STOPPED"),
            EngineState::Other(w) => f.write_str(w),
        }
    }
}

impl Serialize for EngineState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One VRRP instance on one host, as its engine reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub name: String,
    /// `hactl-agent`, `keepalived`, or `config` for an instance of a stopped engine.
    pub source: &'static str,
    pub interface: Option<String>,
    pub vrid: Option<u8>,
    /// MASTER, BACKUP, FAULT, INIT, or STOPPED (configured, no engine running).
    pub state: EngineState,
    /// The effective priority (base plus track weights), when the engine reports it.
    pub priority: Option<u8>,
    pub base_priority: Option<u8>,
    /// IPv4 or IPv6 (an instance's VIPs are all of one family, as keepalived requires).
    pub vips: Vec<IpAddr>,
}

impl Instance {
    pub fn named(name: &str, source: &'static str) -> Self {
        Instance {
            name: name.to_string(),
            source,
            interface: None,
            vrid: None,
            state: EngineState::Other(String::new()),
            priority: None,
            base_priority: None,
            vips: Vec::new(),
        }
    }
}

/// What one host said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostView {
    pub engine: Engine,
    pub instances: Vec<Instance>,
    /// Every IPv4 and IPv6 address on the host but those on `lo` and IPv6 ones still in
    /// duplicate address detection or failed by it: the ground truth for who holds a
    /// VIP. A VIP on `lo` draws no traffic (the shipped role's VIP guard keeps each VIP there
    /// on both load balancers, with arp_ignore so only the VRRP master answers ARP for it).
    pub addresses: Vec<IpAddr>,
    /// Things that went wrong on a host that answered (an agent that does not reply...).
    pub problems: Vec<String>,
}

/// One host's answer, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostStatus {
    pub host: String,
    #[serde(flatten)]
    pub answer: Answer,
}

/// A host that answered, or one that could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Reached(HostView),
    Unreachable(String),
}
