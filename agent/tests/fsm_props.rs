//! Property tests over random event sequences: whatever happens, the actions stay coherent.
//! - VIPs are added exactly when entering MASTER and removed exactly when leaving it;
//! - BACKUP always has the master-down timer armed, MASTER the advert timer, FAULT and INIT
//!   none; the SetTimer/CancelTimer stream mirrors the machine's own deadlines;
//! - notifies name the state the machine is in; priorities stay within 1-255.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hactl_agent::fsm::{
    Action, AdvertInfo, Event, Fsm, InitialState, NotifyState, Params, Preempt, State, Timer,
};
use hactl_agent::packet::Version;
use proptest::prelude::*;

const TIMERS: [Timer; 4] = [
    Timer::MasterDown,
    Timer::Advert,
    Timer::Garp,
    Timer::LowerPrioGarp,
];

#[derive(Debug, Clone)]
enum Step {
    /// Let time pass by this many milliseconds, firing due timers.
    Wait(u64),
    Event(Event),
}

fn params() -> impl Strategy<Value = Params> {
    (
        prop_oneof![Just(Version::V2), Just(Version::V3)],
        prop_oneof![Just(255u8), 1u8..=254],
        prop_oneof![Just(InitialState::Backup), Just(InitialState::Master)],
        prop_oneof![
            Just(Preempt::Yes),
            Just(Preempt::No),
            (0u64..8).prop_map(|s| Preempt::Delay(Duration::from_secs(s)))
        ],
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::option::of(1u64..6),
    )
        .prop_map(|(version, priority, initial, preempt, flags, refresh)| {
            let interval = match version {
                Version::V2 => Duration::from_secs(1),
                Version::V3 => Duration::from_millis(500),
            };
            let ours = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10));
            let mut p = Params::new(version, priority, interval, ours);
            p.initial_state = initial;
            p.preempt = preempt;
            p.lower_prio_no_advert = flags.0;
            p.higher_prio_send_advert = flags.1;
            p.advert_on_priority_change = flags.2;
            p.garp.refresh = refresh.map(Duration::from_secs);
            // garp_extra_if follows the same MASTER-only schedule.
            p.garp.extra_if = refresh.map(|r| Duration::from_secs(r + 1));
            p
        })
}

fn step() -> impl Strategy<Value = Step> {
    let advert = (
        prop_oneof![Just(0u8), Just(255u8), any::<u8>()],
        5u8..15,
        10u64..300,
    )
        .prop_map(|(priority, last, cs)| {
            Step::Event(Event::Advert(AdvertInfo {
                priority,
                source: IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)),
                advert_interval: Duration::from_millis(cs * 10),
            }))
        });
    prop_oneof![
        6 => (0u64..5000).prop_map(Step::Wait),
        6 => advert,
        1 => Just(Step::Event(Event::Startup)),
        1 => Just(Step::Event(Event::Shutdown)),
        1 => Just(Step::Event(Event::Fault)),
        1 => Just(Step::Event(Event::FaultCleared)),
        1 => (-300i32..300).prop_map(|total| Step::Event(Event::TrackWeight { total })),
        1 => prop::sample::select(TIMERS.to_vec()).prop_map(|t| Step::Event(Event::TimerExpired(t))),
    ]
}

struct Checker {
    vips_held: bool,
    timers: BTreeMap<Timer, Duration>,
}

impl Checker {
    fn apply(&mut self, fsm: &Fsm, before: State, actions: &[Action]) -> Result<(), TestCaseError> {
        let after = fsm.state();
        for action in actions {
            match action {
                Action::AddVips => {
                    prop_assert!(!self.vips_held, "VIPs added twice");
                    prop_assert!(before != State::Master && after == State::Master);
                    self.vips_held = true;
                }
                Action::RemoveVips => {
                    prop_assert!(self.vips_held, "VIPs removed while not held");
                    prop_assert!(before == State::Master && after != State::Master);
                    self.vips_held = false;
                }
                Action::SetTimer { timer, at } => {
                    self.timers.insert(*timer, *at);
                }
                Action::CancelTimer(timer) => {
                    prop_assert!(
                        self.timers.remove(timer).is_some(),
                        "cancel of unarmed timer"
                    );
                }
                Action::SendAdvert { priority } => {
                    prop_assert!(before == State::Master || after == State::Master);
                    if *priority == 0 {
                        prop_assert!(after != State::Master);
                    }
                }
                Action::Notify { state, .. } => {
                    let expected = match after {
                        State::Master => NotifyState::Master,
                        State::Backup => NotifyState::Backup,
                        State::Fault => NotifyState::Fault,
                        State::Init => NotifyState::Stop,
                    };
                    prop_assert_eq!(*state, expected);
                }
                Action::SendGratuitousArp { .. } | Action::SendExtraGarp => {
                    prop_assert!(after == State::Master);
                }
            }
        }
        prop_assert_eq!(self.vips_held, after == State::Master);
        for timer in TIMERS {
            prop_assert_eq!(
                self.timers.get(&timer).copied(),
                fsm.deadline(timer),
                "{:?}",
                timer
            );
        }
        let armed = |t| fsm.deadline(t).is_some();
        match after {
            State::Backup => {
                prop_assert!(armed(Timer::MasterDown));
                prop_assert!(!armed(Timer::Advert));
            }
            State::Master => {
                prop_assert!(armed(Timer::Advert));
                prop_assert!(!armed(Timer::MasterDown));
            }
            State::Init | State::Fault => prop_assert!(fsm.next_timer().is_none()),
        }
        let priority = fsm.effective_priority();
        prop_assert!(priority >= 1);
        prop_assert!(priority < 255 || fsm.params().priority == 255);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn actions_stay_coherent(params in params(), steps in prop::collection::vec(step(), 0..60)) {
        let mut fsm = Fsm::new(params);
        let mut checker = Checker { vips_held: false, timers: BTreeMap::new() };
        let mut now = Duration::ZERO;
        for step in steps {
            match step {
                Step::Wait(ms) => {
                    let until = now + Duration::from_millis(ms);
                    while let Some((timer, at)) = fsm.next_timer() {
                        if at > until {
                            break;
                        }
                        // Deadlines moved into the past by a priority change fire at once.
                        now = now.max(at);
                        let before = fsm.state();
                        // A timer that fires is disarmed without a CancelTimer.
                        checker.timers.remove(&timer);
                        let actions = fsm.handle(now, Event::TimerExpired(timer));
                        checker.apply(&fsm, before, &actions)?;
                    }
                    now = until;
                }
                Step::Event(event) => {
                    let before = fsm.state();
                    if let Event::TimerExpired(timer) = event {
                        if fsm.deadline(timer).is_some_and(|at| at <= now) {
                            checker.timers.remove(&timer);
                        }
                    }
                    let actions = fsm.handle(now, event);
                    checker.apply(&fsm, before, &actions)?;
                }
            }
        }
    }
}
