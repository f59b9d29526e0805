//! The state machine's own parameters: what one VRRP instance is configured to do.
//!
//! Deliberately independent of the keepalived.conf types in `crate::config`; the runtime maps
//! one onto the other. Defaults are keepalived 2.2.7's.

use std::net::IpAddr;
use std::time::Duration;

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

/// Gratuitous ARP (IPv4) / unsolicited NA (IPv6) timing, keepalived's `vrrp_garp_*` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GarpParams {
    /// `garp_master_delay`: a second burst this long after becoming master (0: none). 5 s.
    pub delay: Duration,
    /// `garp_master_repeat`: messages per burst. 5.
    pub repeat: u32,
    /// `garp_master_refresh`: while master, a burst at most this often (None: never). None.
    pub refresh: Option<Duration>,
    /// `garp_master_refresh_repeat`: messages per refresh burst. 1.
    pub refresh_repeat: u32,
    /// `garp_lower_prio_delay`: a second burst this long after hearing a lower-priority
    /// advert while master (0: none). Defaults to `delay`.
    pub lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat`: messages per burst on a lower-priority advert (0: none).
    /// Defaults to `repeat`.
    pub lower_prio_repeat: u32,
}

impl Default for GarpParams {
    fn default() -> Self {
        GarpParams {
            delay: Duration::from_secs(5),
            repeat: 5,
            refresh: None,
            refresh_repeat: 1,
            lower_prio_delay: Duration::from_secs(5),
            lower_prio_repeat: 5,
        }
    }
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
    pub garp: GarpParams,
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
            garp: GarpParams::default(),
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
