//! The election: what a BACKUP or MASTER does with an advert that passed the packet checks
//! (RFC 3768/5798 sections 6.4.2 and 6.4.3, keepalived `vrrp_state_backup` and
//! `vrrp_state_master_rx`).

use std::time::Duration;

use super::{Action, AdvertInfo, Fsm, PRIORITY_OWNER, Preempt, Reason, Timer};
use crate::packet::Version;

impl Fsm {
    /// RFC 3768 6.4.2 / RFC 5798 6.4.2, keepalived `vrrp_state_backup`.
    pub(super) fn backup_rx(&mut self, now: Duration, advert: AdvertInfo, out: &mut Vec<Action>) {
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
            // keepalived: a backup held by its sync group stops wanting MASTER once it hears
            // a master it accepts.
            self.wantstate = super::State::Backup;
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
    pub(super) fn master_rx(&mut self, now: Duration, advert: AdvertInfo, out: &mut Vec<Action>) {
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
            self.leave_master(now, Reason::HigherPriority, out);
            return;
        }
        self.restart_advert_timer(now, out);
    }

    /// keepalived re-arms the advert timer after every advert a master processes, unless
    /// `lower_prio_no_advert` is set. (It does so even for adverts that fail its packet checks;
    /// here those never reach the machine, so they leave the timer alone.)
    pub(super) fn restart_advert_timer(&mut self, now: Duration, out: &mut Vec<Action>) {
        if !self.params.lower_prio_no_advert {
            self.set_timer(Timer::Advert, now + self.params.advert_interval, out);
        }
    }
}
