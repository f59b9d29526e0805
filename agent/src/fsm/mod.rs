//! The VRRP state machine: a pure function of events and time, with no I/O inside.
//!
//! [`Fsm::handle`] takes the current time (a [`Duration`] on any monotonic clock the runtime
//! chooses, e.g. since agent start) and one [`Event`], and returns the [`Action`]s to carry out
//! in order: send adverts, add/remove VIPs, gratuitous ARPs, arm/cancel timers, notify. Sockets,
//! netlink and clocks stay in the runtime, so the RFC timing rules are testable to the
//! microsecond.
//!
//! Behaviour follows RFC 3768 (v2) and RFC 5798 (v3) as keepalived 2.2.7 implements them
//! (`vrrp.c`, `vrrp_scheduler.c`, `vrrp_track.c`); where the two differ the wire behaviour is
//! keepalived's, and the difference is noted where it is implemented. It does not own packet
//! validation ([`crate::packet::check()`] runs first); sync groups are [`Group`]'s, which drives
//! the machines of its members.

pub mod group;
mod io;
mod params;
mod receive;
pub mod timing;
mod transitions;

use std::net::IpAddr;
use std::time::Duration;

pub use group::{Group, Target};
pub use io::{Action, AdvertInfo, Event, NotifyState, Reason, State, Timer};
pub use params::{Garp, InitialState, Params, Preempt};

/// Base priority of the address owner.
pub const PRIORITY_OWNER: u8 = 255;

/// One VRRP instance's state machine.
#[derive(Debug, Clone)]
pub struct Fsm {
    params: Params,
    state: State,
    /// A fault is in effect (may arrive before startup).
    faulted: bool,
    /// Base priority; only the owner-conflict rule changes it (255 to 254).
    base_priority: u8,
    effective_priority: u8,
    /// Master_Adver_Interval: ours, or in v3 the master's while backup.
    master_adver_int: Duration,
    /// keepalived's `ms_down_timer`: the interval last used to arm [`Timer::MasterDown`].
    down_timer: Duration,
    /// keepalived's `preempt_time`: until when a lower-priority master is still accepted.
    preempt_until: Option<Duration>,
    /// The reason the next MasterDown expiry will report.
    next_master_reason: Reason,
    /// Last master heard (address, priority).
    master: Option<(IpAddr, u8)>,
    /// When the next GARP refresh burst is due (checked at each advert, as keepalived does).
    garp_refresh_at: Option<Duration>,
    /// When the next `garp_extra_if` round is due (checked at each advert too).
    garp_extra_at: Option<Duration>,
    deadlines: [Option<Duration>; 4],
    /// keepalived's `wantstate`: the state this instance would be in without its sync group
    /// (a backup whose master-down timer ran out wants MASTER even while the group holds it).
    wantstate: State,
    /// Member of a `vrrp_sync_group`: becoming MASTER needs [`Fsm::may_master`].
    in_sync: bool,
    /// Set by the group before each event: keepalived's `vrrp_sync_can_goto_master`.
    may_master: bool,
    /// Drained by the operator: never MASTER, whatever the timers and adverts say.
    drained: bool,
}

impl Fsm {
    /// A machine in INIT. Parameters are normalised as keepalived does at config load.
    pub fn new(params: Params) -> Self {
        let params = params.normalized();
        Fsm {
            state: State::Init,
            faulted: false,
            base_priority: params.priority,
            effective_priority: params.priority,
            master_adver_int: params.advert_interval,
            down_timer: Duration::ZERO,
            preempt_until: None,
            next_master_reason: Reason::MasterDown,
            master: None,
            garp_refresh_at: None,
            garp_extra_at: None,
            deadlines: [None; 4],
            wantstate: State::Backup,
            in_sync: false,
            may_master: true,
            drained: false,
            params,
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The state the instance wants, its sync group aside (keepalived's `wantstate`).
    pub fn wantstate(&self) -> State {
        self.wantstate
    }

    /// The normalised parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Priority we advertise: base plus track weights, clamped to 1-254 unless owner.
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    /// Master_Adver_Interval (v3 backups: the master's advertised interval).
    pub fn master_adver_int(&self) -> Duration {
        self.master_adver_int
    }

    /// Whether the operator drained the instance ([`Event::Drain`]).
    pub fn drained(&self) -> bool {
        self.drained
    }

    /// The last master heard from, with its priority.
    pub fn master(&self) -> Option<(IpAddr, u8)> {
        self.master
    }

    /// The deadline of `timer`, if armed.
    pub fn deadline(&self, timer: Timer) -> Option<Duration> {
        self.deadlines[timer as usize]
    }

    /// The earliest armed timer: what the runtime sleeps until.
    pub fn next_timer(&self) -> Option<(Timer, Duration)> {
        [
            Timer::MasterDown,
            Timer::Advert,
            Timer::Garp,
            Timer::LowerPrioGarp,
        ]
        .into_iter()
        .filter_map(|t| self.deadline(t).map(|at| (t, at)))
        .min_by_key(|&(t, at)| (at, t))
    }

    /// Master_Down_Interval at the current priority and Master_Adver_Interval.
    pub fn master_down_interval(&self) -> Duration {
        timing::master_down_interval(
            self.params.version,
            self.effective_priority,
            self.master_adver_int,
            self.params.down_timer_adverts,
        )
    }

    fn skew_time(&self) -> Duration {
        timing::skew_time(
            self.params.version,
            self.effective_priority,
            self.master_adver_int,
        )
    }

    /// Feeds one event at time `now`; returns what to do, in order.
    pub fn handle(&mut self, now: Duration, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Startup => self.startup(now, &mut out),
            Event::Advert(advert) => match self.state {
                State::Backup => self.backup_rx(now, advert, &mut out),
                State::Master => self.master_rx(now, advert, &mut out),
                // keepalived ignores adverts in FAULT and INIT.
                State::Init | State::Fault => {}
            },
            Event::TimerExpired(timer) => self.timer_expired(now, timer, &mut out),
            Event::TrackWeight { total } => self.track_weight(now, total, &mut out),
            Event::Fault => self.fault(&mut out),
            Event::FaultCleared => self.fault_cleared(now, &mut out),
            Event::Shutdown => self.shutdown(&mut out),
            Event::VipsDeleted => self.vips_deleted(now, &mut out),
            Event::Drain => self.drain(&mut out),
            Event::Undrain => self.undrain(now, &mut out),
        }
        out
    }

    fn set_timer(&mut self, timer: Timer, at: Duration, out: &mut Vec<Action>) {
        self.deadlines[timer as usize] = Some(at);
        out.push(Action::SetTimer { timer, at });
    }

    fn cancel_timer(&mut self, timer: Timer, out: &mut Vec<Action>) {
        if self.deadlines[timer as usize].take().is_some() {
            out.push(Action::CancelTimer(timer));
        }
    }

    fn cancel_all_timers(&mut self, out: &mut Vec<Action>) {
        for timer in [
            Timer::MasterDown,
            Timer::Advert,
            Timer::Garp,
            Timer::LowerPrioGarp,
        ] {
            self.cancel_timer(timer, out);
        }
    }
}
