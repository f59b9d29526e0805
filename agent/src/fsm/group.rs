//! A `vrrp_sync_group`: instances that change state together, as keepalived 2.2.7 syncs them
//! (`vrrp_sync.c`, the transition table `VRRP_TSM` of `vrrp_scheduler.c`, `down_instance`
//! and `try_up_instance` of `vrrp_track.c`, `send_instance_notifies` of `vrrp_notify.c`).
//!
//! [`Group`] owns the [`Fsm`] of every member and feeds each event to one of them, then does
//! what keepalived does after that member's transition:
//! - BACKUP, MASTER or FAULT to MASTER: every other member goes MASTER (`vrrp_sync_master`),
//!   but only once every member wants MASTER: a backup whose master-down timer runs out while
//!   another member still hears its master stays BACKUP and waits another
//!   Master_Down_Interval (`vrrp_sync_can_goto_master`: prefer BACKUP to avoid thrashing).
//! - MASTER to BACKUP: every other member goes BACKUP (`vrrp_sync_backup`); a master among
//!   them releases its addresses without a priority 0 advert.
//! - The first own fault of a member: every other member goes FAULT (`vrrp_sync_fault`), a
//!   master among them after a priority 0 advert.
//! - The end of a member's own fault: it stays in FAULT while another member has a fault of
//!   its own; otherwise it enters BACKUP and takes the others out of FAULT with it.
//! - A master member that hears a lower-priority advert sends gratuitous ARPs for every
//!   master member (each with its own `garp_lower_prio_*`).
//! - [`Event::Drain`] and [`Event::Undrain`] (hactl's own, not keepalived's) apply to every
//!   member, whichever is named.
//!
//! The group has a state too (BACKUP at start, MASTER at start only when every member is an
//! address owner, FAULT when a member starts faulted). Its own notify scripts run when that
//! state changes, and at start for BACKUP and FAULT. A member's own notify scripts are skipped
//! when it enters the state its group is already in, once it has notified at least once.
//!
//! A machine outside any group is a group of one that does no syncing, so the runtime drives
//! every instance the same way.

use std::time::Duration;

use super::{Action, Event, Fsm, InitialState, NotifyState, Params, Reason, State};

/// Who an action is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The member at this index.
    Member(usize),
    /// The group itself: only [`Action::Notify`], for the group's notify scripts.
    Group,
}

/// The machines of a sync group's members (or of one instance outside any group).
#[derive(Debug, Clone)]
pub struct Group {
    members: Vec<Fsm>,
    /// Whether the members sync (false: a lone instance).
    sync: bool,
    /// The group's state (keepalived `sgroup->state`).
    state: State,
    /// Whether each member has run its notify scripts at least once.
    notified: Vec<bool>,
}

impl Group {
    /// One instance outside any sync group.
    pub fn solo(params: Params) -> Self {
        Group {
            members: vec![Fsm::new(params)],
            sync: false,
            state: State::Init,
            notified: vec![false],
        }
    }

    /// A sync group of these members, in config order. keepalived starts the group in MASTER
    /// only when every member is an address owner with `state MASTER`; otherwise no member
    /// starts as master, owners included (they wait for the master-down timer).
    pub fn sync(mut params: Vec<Params>) -> Self {
        let all_owners = params.iter().all(|p| p.starts_as_owner());
        if !all_owners {
            for p in &mut params {
                p.initial_state = InitialState::Backup;
            }
        }
        let mut members: Vec<Fsm> = params.into_iter().map(Fsm::new).collect();
        for m in &mut members {
            m.join_sync_group();
        }
        let n = members.len();
        Group {
            members,
            sync: true,
            state: if all_owners {
                State::Master
            } else {
                State::Backup
            },
            notified: vec![false; n],
        }
    }

    /// The machine of member `i`.
    pub fn member(&self, i: usize) -> &Fsm {
        &self.members[i]
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Never true: a group has at least one member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The group's state (for a lone instance, INIT).
    pub fn state(&self) -> State {
        self.state
    }

    /// The earliest armed timer of any member.
    pub fn next_timer(&self) -> Option<(usize, super::Timer, Duration)> {
        self.members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.next_timer().map(|(t, at)| (i, t, at)))
            .min_by_key(|&(i, t, at)| (at, t, i))
    }

    /// Sets member `i`'s primary address (its advert source: known once its interface is
    /// read, and followed when the interface's addresses change). A MASTER names the new
    /// address as master from now on.
    pub fn set_primary_address(&mut self, i: usize, addr: std::net::IpAddr) {
        let m = &mut self.members[i];
        if m.state == State::Master {
            if let Some((a, _)) = &mut m.master {
                *a = addr;
            }
        }
        m.params.primary_address = addr;
    }

    /// Feeds `event` to member `i` at `now`; returns what to do, in order.
    ///
    /// [`Event::Startup`] starts every member at once, whichever `i` is given;
    /// [`Event::Shutdown`] stops every member, then the group.
    pub fn handle(&mut self, now: Duration, i: usize, event: Event) -> Vec<(Target, Action)> {
        let mut out = Vec::new();
        if !self.sync {
            self.feed(now, i, event, &mut out);
            return out;
        }
        match event {
            Event::Startup => self.startup(now, &mut out),
            Event::Shutdown => {
                for m in 0..self.members.len() {
                    self.feed(now, m, Event::Shutdown, &mut out);
                }
                self.group_notify(NotifyState::Stop, &mut out);
            }
            Event::VipsDeleted => {
                // keepalived `set_vrrp_backup`: every master member goes, and the group is
                // BACKUP without running its notify scripts.
                if self.members[i].state() != State::Master {
                    return out;
                }
                self.feed(now, i, Event::VipsDeleted, &mut out);
                for j in (0..self.members.len()).filter(|&j| j != i) {
                    if self.members[j].state() == State::Master {
                        self.feed(now, j, Event::VipsDeleted, &mut out);
                    }
                }
                self.state = State::Backup;
            }
            Event::Drain => {
                // The whole group: draining one member alone would take the others to
                // BACKUP by sync (keepalived `vrrp_sync_backup`) without a priority 0 advert,
                // so their backups would wait a full Master_Down_Interval. Every master
                // member sends priority 0 first, then the group is BACKUP.
                let started = self.members.iter().any(|m| m.state() != State::Init);
                for m in 0..self.members.len() {
                    self.feed(now, m, Event::Drain, &mut out);
                }
                if self.state == State::Master {
                    self.state = State::Backup;
                    if started {
                        self.group_notify(NotifyState::Backup, &mut out);
                    }
                }
            }
            Event::Undrain => {
                for m in 0..self.members.len() {
                    self.feed(now, m, Event::Undrain, &mut out);
                }
            }
            Event::Fault => {
                let first = !self.members.iter().any(Fsm::own_fault);
                self.feed(now, i, Event::Fault, &mut out);
                if first && self.members[i].state() != State::Init {
                    self.sync_fault(now, i, &mut out);
                }
            }
            Event::FaultCleared => {
                if !self.members[i].own_fault() {
                    return out;
                }
                self.members[i].clear_own_fault();
                let started = self.members[i].state() != State::Init;
                if !started || self.members.iter().any(Fsm::own_fault) {
                    return out;
                }
                let mut actions = Vec::new();
                self.members[i].sync_backup(now, &mut actions);
                self.push(i, actions, &mut out);
                self.after(now, i, State::Fault, &mut out);
            }
            other => {
                let prev = self.members[i].state();
                let before = out.len();
                self.feed(now, i, other, &mut out);
                let lower_prio = matches!(other, Event::Advert(_))
                    && prev == State::Master
                    && out[before..]
                        .iter()
                        .any(|(_, a)| matches!(a, Action::SendGratuitousArp { .. }));
                if lower_prio {
                    // keepalived refreshes the other members' neighbours too.
                    for j in (0..self.members.len()).filter(|&j| j != i) {
                        let mut actions = Vec::new();
                        self.members[j].sync_lower_prio_garp(now, &mut actions);
                        self.push(j, actions, &mut out);
                    }
                }
                self.after(now, i, prev, &mut out);
            }
        }
        out
    }

    /// keepalived's transition table after member `i` went from `prev` to its state now.
    fn after(&mut self, now: Duration, i: usize, prev: State, out: &mut Vec<(Target, Action)>) {
        match (prev, self.members[i].state()) {
            (State::Backup | State::Master | State::Fault, State::Master) => {
                self.sync_master(now, i, out)
            }
            (State::Master, State::Backup) | (State::Fault, State::Backup) => {
                self.sync_backup(now, i, out)
            }
            _ => {}
        }
    }

    /// All members leave INIT together: FAULT if any has a fault of its own, else each as
    /// its machine says (BACKUP, or MASTER for owners in an all-owner group).
    fn startup(&mut self, now: Duration, out: &mut Vec<(Target, Action)>) {
        if self.members.iter().any(|m| m.state() != State::Init) {
            return;
        }
        if self.members.iter().any(Fsm::own_fault) {
            self.state = State::Fault;
            for m in 0..self.members.len() {
                let mut actions = Vec::new();
                if self.members[m].own_fault() {
                    self.members[m].startup(now, &mut actions);
                } else {
                    self.members[m].sync_fault(&mut actions);
                }
                self.push(m, actions, out);
            }
            self.group_notify(NotifyState::Fault, out);
            return;
        }
        if self.state == State::Backup {
            self.group_notify(NotifyState::Backup, out);
        }
        for m in 0..self.members.len() {
            self.feed(now, m, Event::Startup, out);
        }
    }

    /// keepalived `vrrp_sync_can_goto_master`, for member `i`.
    fn may_master(&self, i: usize) -> bool {
        self.state == State::Master
            || self
                .members
                .iter()
                .enumerate()
                .all(|(j, m)| j == i || m.wantstate() == State::Master)
    }

    fn sync_master(&mut self, now: Duration, i: usize, out: &mut Vec<(Target, Action)>) {
        if self.state == State::Master || !self.may_master(i) {
            return;
        }
        for j in 0..self.members.len() {
            if j == i || self.members[j].state() == State::Master {
                continue;
            }
            // keepalived marks each member as wanting MASTER as it moves it, so with three or
            // more members a later one can still hold an earlier one back.
            let may = self.may_master(j);
            self.members[j].set_may_master(may);
            let mut actions = Vec::new();
            self.members[j].sync_master(now, &mut actions);
            self.push(j, actions, out);
        }
        self.state = State::Master;
        self.group_notify(NotifyState::Master, out);
    }

    fn sync_backup(&mut self, now: Duration, i: usize, out: &mut Vec<(Target, Action)>) {
        if self.state == State::Backup {
            return;
        }
        for j in 0..self.members.len() {
            if j == i || self.members[j].state() == State::Backup {
                continue;
            }
            let mut actions = Vec::new();
            self.members[j].sync_backup(now, &mut actions);
            self.push(j, actions, out);
        }
        self.state = State::Backup;
        self.group_notify(NotifyState::Backup, out);
    }

    fn sync_fault(&mut self, _now: Duration, i: usize, out: &mut Vec<(Target, Action)>) {
        if self.state == State::Fault {
            return;
        }
        for j in 0..self.members.len() {
            if j == i || self.members[j].state() == State::Fault {
                continue;
            }
            let mut actions = Vec::new();
            self.members[j].sync_fault(&mut actions);
            self.push(j, actions, out);
        }
        self.state = State::Fault;
        self.group_notify(NotifyState::Fault, out);
    }

    /// Feeds one event to one member's machine, with the group's permission to go MASTER.
    fn feed(&mut self, now: Duration, i: usize, event: Event, out: &mut Vec<(Target, Action)>) {
        let may = !self.sync || self.may_master(i);
        self.members[i].set_may_master(may);
        let actions = self.members[i].handle(now, event);
        self.push(i, actions, out);
    }

    /// Queues member `i`'s actions, dropping a notify for the state its group is already in
    /// once the member has notified before (keepalived `send_instance_notifies`).
    fn push(&mut self, i: usize, actions: Vec<Action>, out: &mut Vec<(Target, Action)>) {
        for action in actions {
            if let Action::Notify { state, .. } = action {
                let same = match state {
                    NotifyState::Master => self.state == State::Master,
                    NotifyState::Backup => self.state == State::Backup,
                    NotifyState::Fault => self.state == State::Fault,
                    NotifyState::Stop | NotifyState::Deleted => false,
                };
                if self.sync && self.notified[i] && same {
                    continue;
                }
                self.notified[i] = true;
            }
            out.push((Target::Member(i), action));
        }
    }

    fn group_notify(&self, state: NotifyState, out: &mut Vec<(Target, Action)>) {
        out.push((
            Target::Group,
            Action::Notify {
                state,
                reason: Reason::SyncGroup,
            },
        ));
    }
}

#[cfg(test)]
mod tests;
