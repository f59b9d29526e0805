//! Election scenarios: preempt, nopreempt, preempt_delay, tie-breaks, track weights, fault,
//! shutdown, as keepalived 2.2.7 behaves (vrrp.c, vrrp_track.c).

mod support;

use hactl_agent::fsm::{Action, Event, InitialState, NotifyState, Preempt, Reason, State, Timer};
use support::*;

/// A lower-priority master advertising every second from t = 0.5 s.
fn lower_master_adverts(sim: &mut Sim, until_s: u64) {
    for i in 0..until_s {
        sim.event(secs(i) + us(500_000), advert(100, addr(20), secs(1)));
    }
}

#[test]
fn preempt_ignores_a_lower_master_and_takes_over_when_the_timer_runs_out() {
    let mut sim = Sim::started(v2(150));
    lower_master_adverts(&mut sim, 3);
    // Adverts from the priority-100 master are ignored; the startup deadline stands:
    // 3 s + 106/256 s.
    assert_eq!(sim.fsm.deadline(Timer::MasterDown), Some(us(3_414_062)));
    sim.run_until(secs(4));
    assert_eq!(sim.master_at(), Some(us(3_414_062)));
    let reason = sim.log.iter().find_map(|(_, a)| match a {
        Action::Notify {
            state: NotifyState::Master,
            reason,
        } => Some(*reason),
        _ => None,
    });
    assert_eq!(reason, Some(Reason::Preempted));
    // The old master keeps advertising; as master we answer each with our own advert.
    let actions = sim.event(us(4_500_000), advert(100, addr(20), secs(1)));
    assert!(actions.contains(&Action::SendAdvert { priority: 150 }));
    assert_eq!(sim.fsm.state(), State::Master);
}

#[test]
fn nopreempt_accepts_a_lower_master_until_it_goes_quiet() {
    let mut params = v2(150);
    params.preempt = Preempt::No;
    let mut sim = Sim::started(params);
    lower_master_adverts(&mut sim, 10);
    sim.run_until(secs(10));
    assert_eq!(sim.fsm.state(), State::Backup);
    // Last advert at 9.5 s; Master_Down_Interval at priority 150 is 3.414062 s.
    sim.run_until(secs(20));
    assert_eq!(sim.master_at(), Some(us(9_500_000 + 3_414_062)));
}

#[test]
fn preempt_delay_accepts_a_lower_master_for_the_delay_then_preempts() {
    let mut params = v2(150);
    params.preempt = Preempt::Delay(secs(5));
    let mut sim = Sim::started(params);
    lower_master_adverts(&mut sim, 20);
    // First lower advert at 0.5 s starts the delay: accepted while 5.5 s > now, so the
    // adverts at 0.5 .. 4.5 s reset the timer; from 5.5 s they are ignored.
    assert_eq!(sim.master_at(), Some(us(4_500_000 + 3_414_062)));
}

#[test]
fn preempt_delay_restarts_when_a_higher_master_is_heard() {
    let mut params = v2(150);
    params.preempt = Preempt::Delay(secs(5));
    let mut sim = Sim::started(params);
    sim.event(us(500_000), advert(100, addr(20), secs(1))); // delay until 5.5 s
    sim.event(us(1_500_000), advert(200, addr(21), secs(1))); // clears it
    for i in 2..20 {
        sim.event(secs(i) + us(500_000), advert(100, addr(20), secs(1)));
    }
    // The delay restarted at 2.5 s (until 7.5 s): last accepted advert 6.5 s.
    assert_eq!(sim.master_at(), Some(us(6_500_000 + 3_414_062)));
}

#[test]
fn initial_master_clears_nopreempt_as_keepalived_does() {
    let mut params = v2(150);
    params.preempt = Preempt::No;
    params.initial_state = InitialState::Master;
    let mut sim = Sim::started(params);
    assert_eq!(sim.fsm.params().preempt, Preempt::Yes);
    lower_master_adverts(&mut sim, 5);
    assert_eq!(sim.master_at(), Some(us(3_414_062)));
}

#[test]
fn backup_accepts_an_equal_priority_master_whatever_its_address() {
    // RFC 3768 6.4.2: ">= local priority" resets the timer; the address only matters to a
    // master.
    let mut sim = Sim::started(v2(100));
    for i in 1..10 {
        sim.event(secs(i), advert(100, addr(1), secs(1)));
    }
    assert_eq!(sim.fsm.state(), State::Backup);
}

fn master(priority: u8) -> Sim {
    let mut sim = Sim::started(v2(priority));
    sim.run_until(secs(4));
    assert_eq!(sim.fsm.state(), State::Master);
    sim
}

#[test]
fn master_tie_break_higher_address_wins() {
    // We are 198.51.100.10.
    let mut sim = master(100);
    let actions = sim.event(secs(5), advert(100, addr(9), secs(1)));
    assert_eq!(sim.fsm.state(), State::Master);
    assert!(actions.contains(&Action::SendAdvert { priority: 100 }));

    let actions = sim.event(secs(6), advert(100, addr(11), secs(1)));
    assert_eq!(sim.fsm.state(), State::Backup);
    assert!(actions.contains(&Action::RemoveVips));
    assert!(actions.contains(&Action::Notify {
        state: NotifyState::Backup,
        reason: Reason::HigherPriority
    }));
    assert_eq!(
        sim.fsm.deadline(Timer::MasterDown),
        Some(secs(6) + us(3_609_375))
    );
    assert_eq!(sim.fsm.deadline(Timer::Advert), None);
}

#[test]
fn master_yields_to_higher_priority_and_v3_adopts_its_interval() {
    let mut sim = Sim::started(v3(100));
    sim.run_until(secs(4));
    sim.event(secs(5), advert(200, addr(2), us(300_000)));
    assert_eq!(sim.fsm.state(), State::Backup);
    assert_eq!(sim.fsm.master_adver_int(), us(300_000));
    assert_eq!(sim.fsm.master(), Some((addr(2), 200)));
    // 3 * 30 cs + 156 * 30 / 256 cs = 0.9 s + 182812.5 us.
    assert_eq!(
        sim.fsm.deadline(Timer::MasterDown),
        Some(secs(5) + us(1_082_812))
    );
}

#[test]
fn master_answers_priority_zero_with_an_advert() {
    let mut sim = master(100);
    let actions = sim.event(secs(5), advert(0, addr(20), secs(1)));
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert { priority: 100 },
            Action::SetTimer {
                timer: Timer::Advert,
                at: secs(6)
            }
        ]
    );
}

#[test]
fn master_answers_lower_priority_with_advert_and_garps() {
    let mut sim = master(100);
    let actions = sim.event(secs(5), advert(50, addr(20), secs(1)));
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert { priority: 100 },
            Action::SendGratuitousArp { repeat: 5 },
            Action::SetTimer {
                timer: Timer::LowerPrioGarp,
                at: secs(10)
            },
            Action::SetTimer {
                timer: Timer::Advert,
                at: secs(6)
            },
        ]
    );
}

#[test]
fn two_owners_the_lower_address_steps_down_to_254() {
    let mut params = v2(255);
    params.initial_state = InitialState::Master;
    let mut sim = Sim::started(params);
    sim.event(secs(1), advert(255, addr(11), secs(1)));
    assert_eq!(sim.fsm.effective_priority(), 254);
    assert_eq!(sim.fsm.state(), State::Backup);
}

#[test]
fn track_weight_clamps_to_1_254_and_never_moves_the_owner() {
    let mut sim = Sim::started(v2(100));
    sim.event(secs(0), Event::TrackWeight { total: 500 });
    assert_eq!(sim.fsm.effective_priority(), 254);
    sim.event(secs(0), Event::TrackWeight { total: -500 });
    assert_eq!(sim.fsm.effective_priority(), 1);
    sim.event(secs(0), Event::TrackWeight { total: -15 });
    assert_eq!(sim.fsm.effective_priority(), 85);

    let mut owner = v2(255);
    owner.initial_state = InitialState::Master;
    let mut sim = Sim::started(owner);
    sim.event(secs(0), Event::TrackWeight { total: -100 });
    assert_eq!(sim.fsm.effective_priority(), 255);
}

#[test]
fn backup_priority_change_shifts_the_running_deadline_by_the_skew_change() {
    let mut sim = Sim::started(v2(100));
    assert_eq!(sim.fsm.deadline(Timer::MasterDown), Some(us(3_609_375)));
    // 100 -> 200: skew 156/256 s -> 56/256 s, i.e. 390625 us earlier.
    let actions = sim.event(secs(1), Event::TrackWeight { total: 100 });
    assert_eq!(
        actions,
        vec![Action::SetTimer {
            timer: Timer::MasterDown,
            at: us(3_218_750)
        }]
    );
}

#[test]
fn a_backup_whose_priority_rises_above_the_master_preempts_it() {
    let mut sim = Sim::started(v2(90));
    for i in 1..=3 {
        sim.event(secs(i), advert(100, addr(20), secs(1)));
    }
    sim.event(us(3_200_000), Event::TrackWeight { total: 20 }); // 110 > 100
    // The deadline armed at 3 s (3 s + 3.648437 s) moves by the skew change (166 -> 146).
    let at = secs(3) + us(3_648_437) - us(78_125);
    assert_eq!(sim.fsm.deadline(Timer::MasterDown), Some(at));
    for i in 4..10 {
        sim.event(secs(i), advert(100, addr(20), secs(1)));
    }
    assert_eq!(sim.master_at(), Some(at));
}

#[test]
fn master_priority_change_goes_out_with_the_next_advert_by_default() {
    let mut sim = master(100);
    let actions = sim.event(us(4_100_000), Event::TrackWeight { total: -15 });
    assert!(
        actions.is_empty(),
        "keepalived 2.2.7 does not advertise at once: {actions:?}"
    );
    sim.run_until(secs(6));
    assert_eq!(sim.adverts_sent().last().map(|&(_, p)| p), Some(85));

    let mut params = v2(100);
    params.advert_on_priority_change = true;
    let mut sim = Sim::started(params);
    sim.run_until(secs(4));
    let actions = sim.event(us(4_100_000), Event::TrackWeight { total: -15 });
    assert_eq!(actions[0], Action::SendAdvert { priority: 85 });
}

#[test]
fn fault_as_master_sends_priority_zero_and_releases_the_vips() {
    let mut sim = master(100);
    let actions = sim.event(secs(5), Event::Fault);
    assert_eq!(actions[0], Action::SendAdvert { priority: 0 });
    assert_eq!(actions[1], Action::RemoveVips);
    assert!(actions.contains(&Action::Notify {
        state: NotifyState::Fault,
        reason: Reason::Fault
    }));
    assert_eq!(sim.fsm.state(), State::Fault);
    assert_eq!(sim.fsm.next_timer(), None);
    // Adverts are ignored in FAULT.
    assert!(sim.event(secs(6), advert(50, addr(20), secs(1))).is_empty());

    sim.event(secs(7), Event::FaultCleared);
    assert_eq!(sim.fsm.state(), State::Backup);
    assert_eq!(
        sim.fsm.deadline(Timer::MasterDown),
        Some(secs(7) + us(3_609_375))
    );
}

#[test]
fn fault_before_startup_starts_in_fault() {
    let mut sim = Sim::new(v2(100));
    sim.event(secs(0), Event::Fault);
    sim.event(secs(0), Event::Startup);
    assert_eq!(sim.fsm.state(), State::Fault);
    assert_eq!(sim.notified(NotifyState::Fault), vec![secs(0)]);
}

#[test]
fn owner_comes_back_from_fault_as_backup_and_masters_after_the_down_interval() {
    let mut params = v2(255);
    params.initial_state = InitialState::Master;
    let mut sim = Sim::started(params);
    sim.event(secs(1), Event::Fault);
    sim.event(secs(2), Event::FaultCleared);
    assert_eq!(sim.fsm.state(), State::Backup);
    sim.run_until(secs(10));
    // Master_Down_Interval at 255: 3 s + 1/256 s (3906 us).
    assert_eq!(
        sim.notified(NotifyState::Master),
        vec![secs(0), secs(5) + us(3_906)]
    );
}

#[test]
fn shutdown_as_master_sends_priority_zero_and_the_backup_takes_over_after_skew() {
    let mut a = master(100);
    let mut b = Sim::started(v2(90));
    for i in 1..=5 {
        b.event(secs(i), advert(100, addr(10), secs(1)));
    }
    let actions = a.event(us(5_500_000), Event::Shutdown);
    assert_eq!(actions[0], Action::SendAdvert { priority: 0 });
    assert_eq!(actions[1], Action::RemoveVips);
    assert!(actions.contains(&Action::Notify {
        state: NotifyState::Stop,
        reason: Reason::Shutdown
    }));
    assert_eq!(a.fsm.state(), State::Init);
    assert_eq!(a.fsm.next_timer(), None);
    // The seed measured 0.68 s for a graceful stop with priority 90: Skew_Time 648437 us.
    b.event(us(5_500_000), advert(0, addr(10), secs(1)));
    b.run_until(secs(10));
    assert_eq!(b.master_at(), Some(us(5_500_000 + 648_437)));
}

/// Drain as master: priority 0 advert, VIPs removed, BACKUP (reason drained), and never
/// MASTER again while drained, whatever the adverts and timers say.
#[test]
fn drain_hands_over_like_a_graceful_stop_and_stays_backup() {
    let mut sim = Sim::started(v2(150));
    sim.run_until(secs(4));
    assert_eq!(sim.fsm.state(), State::Master);
    let out = sim.event(secs(5), Event::Drain);
    assert_eq!(
        out.iter()
            .filter(|a| !matches!(a, Action::CancelTimer(_)))
            .copied()
            .collect::<Vec<_>>(),
        vec![
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips,
            Action::Notify {
                state: NotifyState::Backup,
                reason: Reason::Drained,
            },
        ]
    );
    assert_eq!(sim.fsm.state(), State::Backup);
    assert!(sim.fsm.drained());
    assert_eq!(sim.fsm.next_timer(), None, "a drained backup arms nothing");
    // The peer takes over; later it stops (priority 0) and a lower master appears: still
    // BACKUP, and no adverts from us.
    sim.event(secs(6), advert(100, addr(20), secs(1)));
    sim.event(secs(7), advert(0, addr(20), secs(1)));
    lower_master_adverts(&mut sim, 3);
    sim.run_until(secs(60));
    assert_eq!(sim.fsm.state(), State::Backup);
    assert_eq!(sim.adverts_sent().last(), Some(&(secs(5), 0)));
    assert_eq!(sim.notified(NotifyState::Master).len(), 1);
}

/// Undrain: the backup arms a full Master_Down_Interval from now and preempts the
/// lower-priority master that took over, as a restarted keepalived backup would.
#[test]
fn undrain_preempts_a_lower_master_after_master_down_interval() {
    let mut sim = Sim::started(v2(150));
    sim.run_until(secs(4));
    sim.event(secs(5), Event::Drain);
    for i in 5..20 {
        sim.event(secs(i) + us(500_000), advert(100, addr(20), secs(1)));
    }
    sim.event(secs(20), Event::Undrain);
    assert!(!sim.fsm.drained());
    assert_eq!(
        sim.fsm.deadline(Timer::MasterDown),
        Some(secs(20) + us(3_414_062))
    );
    for i in 20..30 {
        sim.event(secs(i) + us(500_000), advert(100, addr(20), secs(1)));
    }
    assert_eq!(
        sim.notified(NotifyState::Master)[1],
        secs(20) + us(3_414_062)
    );
    let reason = sim.log.iter().rev().find_map(|(_, a)| match a {
        Action::Notify {
            state: NotifyState::Master,
            reason,
        } => Some(*reason),
        _ => None,
    });
    assert_eq!(reason, Some(Reason::Preempted));
}

/// Drained before start: the address owner starts as BACKUP, not MASTER; a fault and its
/// end keep it drained; undrain then lets it master.
#[test]
fn drained_owner_starts_backup_and_survives_fault() {
    let mut params = v2(255);
    params.initial_state = InitialState::Master;
    let mut sim = Sim::new(params);
    sim.event(us(0), Event::Drain);
    sim.event(us(0), Event::Startup);
    assert_eq!(sim.fsm.state(), State::Backup);
    sim.event(secs(1), Event::Fault);
    sim.event(secs(2), Event::FaultCleared);
    sim.run_until(secs(30));
    assert_eq!(sim.fsm.state(), State::Backup);
    assert_eq!(sim.master_at(), None);
    sim.event(secs(30), Event::Undrain);
    sim.run_until(secs(40));
    assert_eq!(sim.fsm.state(), State::Master);
}
