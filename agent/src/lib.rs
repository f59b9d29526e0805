//! hactl-agent: a VRRP agent that is a drop-in for keepalived's VRRP side.
//!
//! The agent reads keepalived.conf, speaks VRRPv2/v3 with real keepalived and moves VIPs with
//! rtnetlink. This crate is a library first, so the controller can reuse the config parser.
//! Layout (holo's per-protocol skeleton): [`config`] (keepalived.conf), [`packet`] (codec),
//! [`fsm`] (sans-IO state machine).

pub mod config;
pub mod fsm;
pub mod metrics;
pub mod network;
pub mod notify;
pub mod packet;
pub mod runtime;
pub mod status;
pub mod track;
