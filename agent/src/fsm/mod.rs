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
//! validation ([`crate::packet::check()`] runs first) or sync groups.

mod io;
mod params;
pub mod timing;

use std::net::IpAddr;
use std::time::Duration;

pub use io::{Action, AdvertInfo, Event, NotifyState, Reason, State, Timer};
pub use params::{GarpParams, InitialState, Params, Preempt};

use crate::packet::Version;

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
    deadlines: [Option<Duration>; 4],
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
            deadlines: [None; 4],
            params,
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
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

    fn startup(&mut self, now: Duration, out: &mut Vec<Action>) {
        if self.state != State::Init {
            return;
        }
        self.master_adver_int = self.params.advert_interval;
        if self.faulted {
            self.state = State::Fault;
            out.push(Action::Notify {
                state: NotifyState::Fault,
                reason: Reason::Startup,
            });
        } else if self.params.starts_as_owner() {
            // keepalived enters BACKUP with a 1 us master-down timer and no notify, so the
            // owner is master at once; we skip the microsecond.
            self.become_master(now, Reason::AddressOwner, out);
        } else {
            // keepalived 2.x: `state MASTER` below priority 255 still starts as BACKUP and
            // waits the full Master_Down_Interval (seen in the capture: priority 100 became
            // master 3.64 s after start).
            self.enter_backup(now, Reason::Startup, out);
        }
    }

    /// Enters BACKUP from INIT or FAULT (not from MASTER: see [`Self::leave_master`]).
    fn enter_backup(&mut self, now: Duration, reason: Reason, out: &mut Vec<Action>) {
        self.state = State::Backup;
        self.preempt_until = None;
        self.master_adver_int = self.params.advert_interval;
        self.next_master_reason = Reason::MasterDown;
        out.push(Action::Notify {
            state: NotifyState::Backup,
            reason,
        });
        self.arm_master_down(now, self.master_down_interval(), out);
    }

    fn arm_master_down(&mut self, now: Duration, interval: Duration, out: &mut Vec<Action>) {
        self.down_timer = interval;
        self.set_timer(Timer::MasterDown, now + interval, out);
    }

    fn become_master(&mut self, now: Duration, reason: Reason, out: &mut Vec<Action>) {
        self.state = State::Master;
        self.preempt_until = None;
        // RFC 5798 6.4.3: a new master advertises its own interval. (keepalived 2.2.7 resets
        // this only when detailed logging is on, but it sends adverts on its own interval
        // either way, so the wire is the same.)
        self.master_adver_int = self.params.advert_interval;
        self.master = Some((self.params.primary_address, self.effective_priority));
        self.cancel_timer(Timer::MasterDown, out);
        // Advert first: the old master must drop the VIPs before our gratuitous ARPs.
        out.push(Action::SendAdvert {
            priority: self.effective_priority,
        });
        out.push(Action::AddVips);
        out.push(Action::SendGratuitousArp {
            repeat: self.params.garp.repeat,
        });
        if let Some(refresh) = self.params.garp.refresh {
            self.garp_refresh_at = Some(now + refresh);
        }
        if !self.params.garp.delay.is_zero() {
            self.set_timer(Timer::Garp, now + self.params.garp.delay, out);
        }
        out.push(Action::Notify {
            state: NotifyState::Master,
            reason,
        });
        self.set_timer(Timer::Advert, now + self.params.advert_interval, out);
    }

    /// MASTER to BACKUP on a better master's advert.
    fn leave_master(&mut self, now: Duration, out: &mut Vec<Action>) {
        self.state = State::Backup;
        self.preempt_until = None;
        self.garp_refresh_at = None;
        // keepalived leaves its delayed-GARP thread running; GARPs for addresses we no longer
        // hold would only confuse the new master's neighbours, so they are cancelled.
        self.cancel_all_timers(out);
        out.push(Action::RemoveVips);
        out.push(Action::Notify {
            state: NotifyState::Backup,
            reason: Reason::HigherPriority,
        });
        self.next_master_reason = Reason::MasterDown;
        self.arm_master_down(now, self.master_down_interval(), out);
    }

    /// Leaves MASTER for FAULT or INIT: priority 0 advert so a backup takes over after its
    /// skew time, then the VIPs go.
    fn stop_mastering(&mut self, out: &mut Vec<Action>) {
        out.push(Action::SendAdvert { priority: 0 });
        out.push(Action::RemoveVips);
        self.garp_refresh_at = None;
    }

    /// RFC 3768 6.4.2 / RFC 5798 6.4.2, keepalived `vrrp_state_backup`.
    fn backup_rx(&mut self, now: Duration, advert: AdvertInfo, out: &mut Vec<Action>) {
        if advert.priority == 0 {
            // The master is stopping: take over after Skew_Time only.
            self.next_master_reason = Reason::MasterStopped;
            self.arm_master_down(now, self.skew_time(), out);
            return;
        }
        let preempt_pending = match self.params.preempt {
            Preempt::Delay(_) => self.preempt_until.is_none_or(|until| until > now),
            Preempt::Yes | Preempt::No => false,
        };
        if self.params.preempt == Preempt::No
            || advert.priority >= self.effective_priority
            || preempt_pending
        {
            if self.params.version == Version::V3 {
                self.master_adver_int = advert.advert_interval;
            }
            self.master = Some((advert.source, advert.priority));
            self.next_master_reason = Reason::MasterDown;
            if let Preempt::Delay(delay) = self.params.preempt {
                if advert.priority >= self.effective_priority {
                    self.preempt_until = None;
                } else if self.preempt_until.is_none() {
                    self.preempt_until = Some(now + delay);
                }
            }
            self.arm_master_down(now, self.master_down_interval(), out);
        } else {
            // A lower-priority master and we may preempt: ignore the advert and let the
            // master-down timer run out (keepalived keeps the same deadline).
            self.next_master_reason = Reason::Preempted;
            self.master = Some((advert.source, advert.priority));
            if let Some(at) = self.deadline(Timer::MasterDown) {
                self.down_timer = at.saturating_sub(now);
            }
        }
    }

    /// RFC 3768 6.4.3 / RFC 5798 6.4.3, keepalived `vrrp_state_master_rx`.
    fn master_rx(&mut self, now: Duration, advert: AdvertInfo, out: &mut Vec<Action>) {
        let ours = self.params.primary_address;
        let theirs_higher_addr = advert.source > ours;
        let outranks = advert.priority > self.effective_priority
            || (advert.priority == self.effective_priority && theirs_higher_addr);

        if advert.priority == 0 || (self.params.higher_prio_send_advert && outranks) {
            out.push(Action::SendAdvert {
                priority: self.effective_priority,
            });
            if advert.priority == 0 {
                self.restart_advert_timer(now, out);
                return;
            }
        }
        if advert.priority == self.effective_priority
            && advert.source != ours
            && self.effective_priority == PRIORITY_OWNER
        {
            // Two address owners: keepalived reports a configuration error and steps down to
            // 254 so that the election converges.
            self.base_priority = PRIORITY_OWNER - 1;
            self.effective_priority = PRIORITY_OWNER - 1;
        }
        let outranks = advert.priority > self.effective_priority
            || (advert.priority == self.effective_priority && theirs_higher_addr);
        let outranked = advert.priority < self.effective_priority
            || (advert.priority == self.effective_priority && advert.source < ours);

        if outranked {
            // A lower-priority router thinks it is master: reassert ourselves.
            if !self.params.lower_prio_no_advert {
                out.push(Action::SendAdvert {
                    priority: self.effective_priority,
                });
            }
            let garp = self.params.garp;
            if garp.lower_prio_repeat > 0 {
                out.push(Action::SendGratuitousArp {
                    repeat: garp.lower_prio_repeat,
                });
                if !garp.lower_prio_delay.is_zero() {
                    self.set_timer(Timer::LowerPrioGarp, now + garp.lower_prio_delay, out);
                }
            }
        } else if outranks {
            if self.params.version == Version::V3 {
                self.master_adver_int = advert.advert_interval;
            }
            self.master = Some((advert.source, advert.priority));
            self.leave_master(now, out);
            return;
        }
        self.restart_advert_timer(now, out);
    }

    /// keepalived re-arms the advert timer after every advert a master processes, unless
    /// `lower_prio_no_advert` is set.
    fn restart_advert_timer(&mut self, now: Duration, out: &mut Vec<Action>) {
        if !self.params.lower_prio_no_advert {
            self.set_timer(Timer::Advert, now + self.params.advert_interval, out);
        }
    }

    fn timer_expired(&mut self, now: Duration, timer: Timer, out: &mut Vec<Action>) {
        match self.deadline(timer) {
            Some(at) if at <= now => self.deadlines[timer as usize] = None,
            _ => return, // stale or early
        }
        match (timer, self.state) {
            (Timer::MasterDown, State::Backup) => {
                let reason = self.next_master_reason;
                self.become_master(now, reason, out);
            }
            (Timer::Advert, State::Master) => {
                out.push(Action::SendAdvert {
                    priority: self.effective_priority,
                });
                if let (Some(refresh), Some(due)) = (self.params.garp.refresh, self.garp_refresh_at)
                {
                    if now > due {
                        out.push(Action::SendGratuitousArp {
                            repeat: self.params.garp.refresh_repeat,
                        });
                        self.garp_refresh_at = Some(now + refresh);
                    }
                }
                self.set_timer(Timer::Advert, now + self.params.advert_interval, out);
            }
            (Timer::Garp, State::Master) => {
                out.push(Action::SendGratuitousArp {
                    repeat: self.params.garp.repeat,
                });
            }
            (Timer::LowerPrioGarp, State::Master) => {
                out.push(Action::SendGratuitousArp {
                    repeat: self.params.garp.lower_prio_repeat,
                });
            }
            _ => {}
        }
    }

    /// keepalived `vrrp_set_effective_priority`.
    fn track_weight(&mut self, now: Duration, total: i32, out: &mut Vec<Action>) {
        if self.base_priority == PRIORITY_OWNER {
            return; // the owner's priority never moves
        }
        let clamped = (i64::from(self.base_priority) + i64::from(total)).clamp(1, 254);
        let new = u8::try_from(clamped).unwrap_or(254);
        if new == self.effective_priority {
            return;
        }
        self.effective_priority = new;
        let old_down = self.down_timer;
        self.down_timer = self.master_down_interval();
        match self.state {
            State::Backup => {
                // Shift the running deadline by the change in skew, as keepalived does.
                if let Some(at) = self.deadline(Timer::MasterDown) {
                    let at = (at + self.down_timer).saturating_sub(old_down);
                    self.set_timer(Timer::MasterDown, at, out);
                }
            }
            State::Master => {
                self.master = Some((self.params.primary_address, new));
                if self.params.advert_on_priority_change {
                    out.push(Action::SendAdvert { priority: new });
                    self.set_timer(Timer::Advert, now + self.params.advert_interval, out);
                }
            }
            State::Init | State::Fault => {}
        }
    }

    fn fault(&mut self, out: &mut Vec<Action>) {
        self.faulted = true;
        match self.state {
            State::Init | State::Fault => return,
            State::Master => self.stop_mastering(out),
            State::Backup => {}
        }
        self.cancel_all_timers(out);
        self.state = State::Fault;
        self.preempt_until = None;
        out.push(Action::Notify {
            state: NotifyState::Fault,
            reason: Reason::Fault,
        });
    }

    fn fault_cleared(&mut self, now: Duration, out: &mut Vec<Action>) {
        self.faulted = false;
        if self.state != State::Fault {
            return;
        }
        if self.params.starts_as_owner() && self.base_priority == PRIORITY_OWNER {
            self.become_master(now, Reason::FaultCleared, out);
        } else {
            self.enter_backup(now, Reason::FaultCleared, out);
        }
    }

    fn shutdown(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Init {
            return;
        }
        if self.state == State::Master {
            self.stop_mastering(out);
        }
        self.cancel_all_timers(out);
        self.state = State::Init;
        out.push(Action::Notify {
            state: NotifyState::Stop,
            reason: Reason::Shutdown,
        });
    }
}
