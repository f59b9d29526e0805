//! The state machine's own parameters: what one VRRP instance is configured to do.
//!
//! Independent of the keepalived.conf types in `crate::config` (the runtime maps one onto the
//! other), except for the GARP timing, [`Garp`], which is the same on both sides. Defaults are keepalived 2.2.7's.

use std::net::IpAddr;
use std::time::Duration;

pub use crate::config::Garp;
use crate::packet::Version;

/// The `state` keyword: where an instance would like to start.
///
/// Without the keyword keepalived picks `Master` for priority 255 and `Backup` otherwise (and
/// without `priority`, 255 for `state MASTER`, 100 otherwise); the config mapping must too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InitialState {
    /// `state BACKUP`.
    #[default]
    Backup,
    /// `state MASTER`. keepalived 2.x only honours it for the address owner (priority 255):
    /// any other instance still starts in BACKUP and waits a full Master_Down_Interval.
    /// It also switches off `nopreempt` and `preempt_delay`.
    Master,
}

/// Whether and when a higher-priority backup takes over from a lower-priority master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preempt {
    /// RFC default: take over once the master-down timer runs out.
    #[default]
    Yes,
    /// `nopreempt`: accept any master's adverts.
    No,
    /// `preempt_delay N`: accept a lower-priority master's adverts for N after the first one.
    Delay(Duration),
}

/// Everything the state machine needs to know about its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// VRRP version: decides interval units and whether backups adopt the master's interval.
    pub version: Version,
    /// Base priority 1-255 (255: address owner). Track weights move it within 1-254.
    pub priority: u8,
    /// The `state` keyword.
    pub initial_state: InitialState,
    /// Our advert interval (`advert_int`): whole seconds for v2, centiseconds for v3.
    pub advert_interval: Duration,
    /// Preemption mode.
    pub preempt: Preempt,
    /// Our source address in adverts (interface primary or `mcast_src_ip`): the tie-break
    /// between equal priorities, higher address wins.
    pub primary_address: IpAddr,
    /// `down_timer_adverts`: adverts missed before the master is declared down. 3.
    pub down_timer_adverts: u32,
    /// Gratuitous ARP timing.
    pub garp: Garp,
    /// `lower_prio_no_advert`: as master, don't answer a lower-priority advert with ours.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: as master, answer a higher-priority advert before yielding.
    pub higher_prio_send_advert: bool,
    /// Send an advert at once when the effective priority changes while master. keepalived
    /// 2.2.7 does not (the next scheduled advert carries it), so the default is false.
    pub advert_on_priority_change: bool,
}

impl Params {
    /// An instance with keepalived's defaults for everything not given.
    pub fn new(
        version: Version,
        priority: u8,
        advert_interval: Duration,
        primary_address: IpAddr,
    ) -> Self {
        Params {
            version,
            priority,
            initial_state: InitialState::Backup,
            advert_interval,
            preempt: Preempt::Yes,
            primary_address,
            down_timer_adverts: 3,
            garp: Garp::default(),
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            advert_on_priority_change: false,
        }
    }

    /// Whether this instance is the address owner that starts as master at once.
    pub(crate) fn starts_as_owner(&self) -> bool {
        self.initial_state == InitialState::Master && self.priority == 255
    }

    /// Applies keepalived's consistency rules (vrrp_complete_instance): an owner or an
    /// initial MASTER cannot be `nopreempt` or delay preemption; priority 0 is not a base
    /// priority (keepalived rejects it; here it becomes 1).
    pub(crate) fn normalized(mut self) -> Self {
        if self.priority == 0 {
            self.priority = 1;
        }
        if self.priority == 255 || self.initial_state == InitialState::Master {
            self.preempt = Preempt::Yes;
        }
        if self.down_timer_adverts == 0 {
            self.down_timer_adverts = 1;
        }
        self
    }
}
