//! State changes that are not elections: startup, becoming and leaving MASTER, timers,
//! track weights, fault and shutdown (keepalived `vrrp_scheduler.c`, `vrrp_track.c` and the
//! state helpers of `vrrp.c`).

use std::time::Duration;

use super::{Action, Fsm, NotifyState, PRIORITY_OWNER, Reason, State, Timer};

impl Fsm {
    /// INIT to BACKUP, MASTER (address owner) or FAULT; keepalived `vrrp_init_state`.
    pub(super) fn startup(&mut self, now: Duration, out: &mut Vec<Action>) {
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
        } else if self.params.starts_as_owner() && !self.drained {
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
    pub(super) fn enter_backup(&mut self, now: Duration, reason: Reason, out: &mut Vec<Action>) {
        self.state = State::Backup;
        self.wantstate = State::Backup;
        self.preempt_until = None;
        self.master_adver_int = self.params.advert_interval;
        self.next_master_reason = Reason::MasterDown;
        out.push(Action::Notify {
            state: NotifyState::Backup,
            reason,
        });
        self.arm_master_down(now, self.master_down_interval(), out);
    }

    /// Arms the master-down timer `interval` from now and remembers the interval, which a
    /// later priority change shifts by the skew difference.
    pub(super) fn arm_master_down(
        &mut self,
        now: Duration,
        interval: Duration,
        out: &mut Vec<Action>,
    ) {
        self.down_timer = interval;
        // A drained backup waits for nothing: no timer, so no takeover.
        if !self.drained {
            self.set_timer(Timer::MasterDown, now + interval, out);
        }
    }

    /// Enters MASTER: advert, VIPs, GARP burst (and the delayed one), notify, advert timer;
    /// keepalived `vrrp_state_goto_master` and `vrrp_state_become_master`.
    pub(super) fn become_master(&mut self, now: Duration, reason: Reason, out: &mut Vec<Action>) {
        self.state = State::Master;
        self.wantstate = State::Master;
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
        // keepalived `vrrp_state_become_master`: the first extra round one delay after.
        if let Some(extra) = self.params.garp.extra_if {
            self.garp_extra_at = Some(now + extra);
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

    /// MASTER to BACKUP on a better master's advert (or with its sync group; keepalived
    /// sends no priority 0 advert either way).
    pub(super) fn leave_master(&mut self, now: Duration, reason: Reason, out: &mut Vec<Action>) {
        self.state = State::Backup;
        self.wantstate = State::Backup;
        self.preempt_until = None;
        self.garp_refresh_at = None;
        self.garp_extra_at = None;
        // keepalived leaves its delayed-GARP thread running; GARPs for addresses we no longer
        // hold would only confuse the new master's neighbours, so they are cancelled.
        self.cancel_all_timers(out);
        out.push(Action::RemoveVips);
        out.push(Action::Notify {
            state: NotifyState::Backup,
            reason,
        });
        self.next_master_reason = Reason::MasterDown;
        self.arm_master_down(now, self.master_down_interval(), out);
    }

    /// Leaves MASTER for FAULT or INIT: priority 0 advert so a backup takes over after its
    /// skew time, then the VIPs go.
    pub(super) fn stop_mastering(&mut self, out: &mut Vec<Action>) {
        out.push(Action::SendAdvert { priority: 0 });
        out.push(Action::RemoveVips);
        self.garp_refresh_at = None;
        self.garp_extra_at = None;
    }

    /// A due timer: master down (BACKUP to MASTER), advert (MASTER sends, maybe refreshes
    /// GARPs), delayed GARP bursts. keepalived `vrrp_dispatcher_read_timeout`.
    pub(super) fn timer_expired(&mut self, now: Duration, timer: Timer, out: &mut Vec<Action>) {
        match self.deadline(timer) {
            Some(at) if at <= now => self.deadlines[timer as usize] = None,
            _ => return, // stale or early
        }
        match (timer, self.state) {
            (Timer::MasterDown, State::Backup) if self.drained => {}
            (Timer::MasterDown, State::Backup) => {
                self.wantstate = State::Master;
                if self.in_sync && !self.may_master {
                    // keepalived `vrrp_sync_can_goto_master`: the group prefers BACKUP until
                    // every member wants MASTER; wait another Master_Down_Interval.
                    self.arm_master_down(now, self.master_down_interval(), out);
                    return;
                }
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
                if let (Some(extra), Some(due)) = (self.params.garp.extra_if, self.garp_extra_at) {
                    if now > due {
                        out.push(Action::SendExtraGarp);
                        self.garp_extra_at = Some(now + extra);
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
    pub(super) fn track_weight(&mut self, now: Duration, total: i32, out: &mut Vec<Action>) {
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

    /// An interface or track fault: leave MASTER or BACKUP for FAULT, nothing armed.
    pub(super) fn fault(&mut self, out: &mut Vec<Action>) {
        self.faulted = true;
        self.enter_fault(Reason::Fault, out);
    }

    /// MASTER or BACKUP to FAULT (a master sends priority 0 first).
    fn enter_fault(&mut self, reason: Reason, out: &mut Vec<Action>) {
        self.wantstate = State::Fault;
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
            reason,
        });
    }

    /// Fault over: back to BACKUP with a fresh master-down timer (keepalived
    /// `try_up_instance` and `vrrp_state_leave_fault`). The address owner too: the fault left
    /// it wanting FAULT, not MASTER, so keepalived 2.2.7 brings it back as BACKUP and it
    /// becomes master when the timer runs out (seen on the wire: about 3 s after the fault
    /// cleared, where it was master at once at start).
    pub(super) fn fault_cleared(&mut self, now: Duration, out: &mut Vec<Action>) {
        self.faulted = false;
        if self.state != State::Fault {
            return;
        }
        self.enter_backup(now, Reason::FaultCleared, out);
    }

    /// keepalived `set_vrrp_backup`: a master whose address, route or rule was deleted under
    /// it sends priority 0, releases the rest and goes BACKUP with a master-down timer of
    /// Skew_Time only, so it takes over again at once unless a peer does.
    pub(super) fn vips_deleted(&mut self, now: Duration, out: &mut Vec<Action>) {
        if self.state != State::Master {
            return;
        }
        self.state = State::Backup;
        self.wantstate = State::Backup;
        self.preempt_until = None;
        self.garp_refresh_at = None;
        self.garp_extra_at = None;
        self.cancel_all_timers(out);
        out.push(Action::SendAdvert { priority: 0 });
        out.push(Action::RemoveVips);
        out.push(Action::Notify {
            state: NotifyState::Backup,
            reason: Reason::VipsDeleted,
        });
        self.next_master_reason = Reason::MasterDown;
        self.arm_master_down(now, self.skew_time(), out);
    }

    /// The operator drains the instance: a master leaves as at a graceful stop (priority 0,
    /// so the best backup takes over after its Skew_Time, then the VIPs go) and enters
    /// BACKUP; a backup stops its master-down timer. Either way it stays BACKUP (or FAULT, or
    /// INIT) and advertises nothing until undrained.
    pub(super) fn drain(&mut self, out: &mut Vec<Action>) {
        if self.drained {
            return;
        }
        self.drained = true;
        match self.state {
            State::Master => {
                self.state = State::Backup;
                self.wantstate = State::Backup;
                self.preempt_until = None;
                self.cancel_all_timers(out);
                self.stop_mastering(out);
                out.push(Action::Notify {
                    state: NotifyState::Backup,
                    reason: Reason::Drained,
                });
                self.next_master_reason = Reason::MasterDown;
            }
            State::Backup => {
                self.wantstate = State::Backup;
                self.cancel_timer(Timer::MasterDown, out);
            }
            State::Init | State::Fault => {}
        }
    }

    /// The drain is over: a BACKUP waits a full Master_Down_Interval from now, as on entering
    /// BACKUP, so it takes over only if no master is heard, or (preempting) the master it
    /// hears has a lower priority.
    pub(super) fn undrain(&mut self, now: Duration, out: &mut Vec<Action>) {
        if !self.drained {
            return;
        }
        self.drained = false;
        if self.state == State::Backup {
            self.arm_master_down(now, self.master_down_interval(), out);
        }
    }

    /// Agent stop: a master sends priority 0 and releases the VIPs; every state notifies STOP.
    pub(super) fn shutdown(&mut self, out: &mut Vec<Action>) {
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

/// What a sync group does to its members (keepalived `vrrp_sync.c` and `try_up_instance`).
impl Fsm {
    /// Joins a sync group: MASTER only when the group lets it ([`Fsm::set_may_master`]).
    pub(crate) fn join_sync_group(&mut self) {
        self.in_sync = true;
    }

    /// keepalived's `vrrp_sync_can_goto_master` for the next event.
    pub(crate) fn set_may_master(&mut self, may: bool) {
        self.may_master = may;
    }

    /// The group takes this member to MASTER (keepalived `vrrp_state_goto_master` from
    /// `vrrp_sync_master`): it wants MASTER; it goes there unless the group holds it, in
    /// which case a backup waits another Master_Down_Interval.
    pub(crate) fn sync_master(&mut self, now: Duration, out: &mut Vec<Action>) {
        if self.drained {
            return;
        }
        self.wantstate = State::Master;
        if self.state == State::Master {
            return;
        }
        if self.in_sync && !self.may_master {
            if self.state == State::Backup {
                self.arm_master_down(now, self.master_down_interval(), out);
            }
            return;
        }
        self.become_master(now, Reason::SyncGroup, out);
    }

    /// The group takes this member to BACKUP (keepalived `vrrp_sync_backup`): a master
    /// releases its addresses without a priority 0 advert; FAULT or INIT leave for BACKUP.
    pub(crate) fn sync_backup(&mut self, now: Duration, out: &mut Vec<Action>) {
        match self.state {
            State::Backup => {}
            State::Master => self.leave_master(now, Reason::SyncGroup, out),
            State::Fault | State::Init => self.enter_backup(now, Reason::SyncGroup, out),
        }
    }

    /// The group takes this member to FAULT (keepalived `vrrp_sync_fault`); its own tracking
    /// is not at fault.
    pub(crate) fn sync_fault(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Init {
            // Not started yet: it starts in FAULT with the group.
            self.state = State::Fault;
            self.wantstate = State::Fault;
            out.push(Action::Notify {
                state: NotifyState::Fault,
                reason: Reason::SyncGroup,
            });
            return;
        }
        self.enter_fault(Reason::SyncGroup, out);
    }

    /// Its own fault is over but another member's is not: it stays in FAULT with the group
    /// (keepalived `try_up_instance` returning early).
    pub(crate) fn clear_own_fault(&mut self) {
        self.faulted = false;
    }

    /// Another member, as MASTER, heard a lower-priority advert: a master sends its own
    /// gratuitous ARPs too, now and after `garp_lower_prio_delay` (keepalived
    /// `vrrp_state_master_rx`).
    pub(crate) fn sync_lower_prio_garp(&mut self, now: Duration, out: &mut Vec<Action>) {
        let garp = self.params.garp;
        if self.state != State::Master || garp.lower_prio_repeat == 0 {
            return;
        }
        out.push(Action::SendGratuitousArp {
            repeat: garp.lower_prio_repeat,
        });
        if !garp.lower_prio_delay.is_zero() {
            self.set_timer(Timer::LowerPrioGarp, now + garp.lower_prio_delay, out);
        }
    }

    /// Its own tracking faults it.
    pub(crate) fn own_fault(&self) -> bool {
        self.faulted
    }
}
