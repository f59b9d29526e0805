//! A tiny simulator for the sans-IO state machine: injected time, timers fired in order.

#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hactl_agent::fsm::{Action, AdvertInfo, Event, Fsm, NotifyState, Params};
use hactl_agent::packet::Version;

pub fn us(micros: u64) -> Duration {
    Duration::from_micros(micros)
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn addr(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, last))
}

/// v2, advert_int 1 s, our address 198.51.100.10.
pub fn v2(priority: u8) -> Params {
    Params::new(Version::V2, priority, secs(1), addr(10))
}

/// v3, advert_int 100 cs, our address 198.51.100.10.
pub fn v3(priority: u8) -> Params {
    Params::new(Version::V3, priority, secs(1), addr(10))
}

pub fn advert(priority: u8, source: IpAddr, interval: Duration) -> Event {
    Event::Advert(AdvertInfo {
        priority,
        source,
        advert_interval: interval,
    })
}

#[derive(Debug)]
pub struct Sim {
    pub fsm: Fsm,
    pub now: Duration,
    pub log: Vec<(Duration, Action)>,
}

impl Sim {
    pub fn new(params: Params) -> Self {
        Sim {
            fsm: Fsm::new(params),
            now: Duration::ZERO,
            log: Vec::new(),
        }
    }

    /// Starts the instance at time zero.
    pub fn started(params: Params) -> Self {
        let mut sim = Sim::new(params);
        sim.event(Duration::ZERO, Event::Startup);
        sim
    }

    /// Fires every timer due up to and including `t`, in deadline order, then sets now = t.
    pub fn run_until(&mut self, t: Duration) {
        while let Some((timer, at)) = self.fsm.next_timer() {
            if at > t {
                break;
            }
            self.now = at;
            let actions = self.fsm.handle(at, Event::TimerExpired(timer));
            self.record(actions);
        }
        self.now = t;
    }

    /// Runs timers up to `t`, then feeds `event` at `t`.
    pub fn event(&mut self, t: Duration, event: Event) -> Vec<Action> {
        self.run_until(t);
        let actions = self.fsm.handle(t, event);
        self.record(actions.clone());
        actions
    }

    fn record(&mut self, actions: Vec<Action>) {
        let now = self.now;
        self.log.extend(actions.into_iter().map(|a| (now, a)));
    }

    /// Times of every notify for `state`.
    pub fn notified(&self, state: NotifyState) -> Vec<Duration> {
        self.log
            .iter()
            .filter(|(_, a)| matches!(a, Action::Notify { state: s, .. } if *s == state))
            .map(|(t, _)| *t)
            .collect()
    }

    /// When the instance first became master.
    pub fn master_at(&self) -> Option<Duration> {
        self.notified(NotifyState::Master).first().copied()
    }

    /// Priorities of the adverts sent, with times.
    pub fn adverts_sent(&self) -> Vec<(Duration, u8)> {
        self.log
            .iter()
            .filter_map(|(t, a)| match a {
                Action::SendAdvert { priority } => Some((*t, *priority)),
                _ => None,
            })
            .collect()
    }
}
