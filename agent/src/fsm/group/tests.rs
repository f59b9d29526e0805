use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::*;
use crate::fsm::{AdvertInfo, Timer};
use crate::packet::Version;

fn params(priority: u8, last: u8) -> Params {
    Params::new(
        Version::V2,
        priority,
        Duration::from_secs(1),
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)),
    )
}

fn pair() -> Group {
    Group::sync(vec![params(150, 1), params(150, 1)])
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn advert(priority: u8) -> Event {
    Event::Advert(AdvertInfo {
        priority,
        source: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)),
        advert_interval: Duration::from_secs(1),
    })
}

fn notifies(out: &[(Target, Action)]) -> Vec<(Target, NotifyState)> {
    out.iter()
        .filter_map(|(t, a)| match a {
            Action::Notify { state, .. } => Some((*t, *state)),
            _ => None,
        })
        .collect()
}

/// Starts the pair and lets both members' master-down timers run out: the first is held
/// back (the other does not want MASTER yet), the second takes both to MASTER.
fn both_master(g: &mut Group) -> Duration {
    g.handle(Duration::ZERO, 0, Event::Startup);
    let down = g.member(0).deadline(Timer::MasterDown).expect("armed");
    let held = g.handle(down, 0, Event::TimerExpired(Timer::MasterDown));
    assert!(!held.iter().any(|(_, a)| *a == Action::AddVips), "{held:?}");
    assert_eq!(g.member(0).state(), State::Backup);
    assert_eq!(g.member(0).wantstate(), State::Master);
    assert_eq!(
        g.member(0).deadline(Timer::MasterDown),
        Some(down + g.member(0).master_down_interval())
    );
    let out = g.handle(down, 1, Event::TimerExpired(Timer::MasterDown));
    assert!(out.contains(&(Target::Member(1), Action::AddVips)));
    assert!(out.contains(&(Target::Member(0), Action::AddVips)));
    assert_eq!(
        notifies(&out),
        vec![
            (Target::Member(1), NotifyState::Master),
            (Target::Member(0), NotifyState::Master),
            (Target::Group, NotifyState::Master),
        ]
    );
    assert_eq!(g.state(), State::Master);
    down
}

#[test]
fn start_notifies_the_group_backup_then_each_member() {
    let mut g = pair();
    let out = g.handle(Duration::ZERO, 0, Event::Startup);
    assert_eq!(
        notifies(&out),
        vec![
            (Target::Group, NotifyState::Backup),
            (Target::Member(0), NotifyState::Backup),
            (Target::Member(1), NotifyState::Backup),
        ]
    );
}

#[test]
fn members_become_master_together_once_all_want_it() {
    let mut g = pair();
    both_master(&mut g);
}

#[test]
fn a_member_that_hears_its_master_holds_the_other_in_backup() {
    let mut g = pair();
    g.handle(Duration::ZERO, 0, Event::Startup);
    let down = g.member(0).deadline(Timer::MasterDown).expect("armed");
    // Member 1 hears a higher-priority master just before.
    g.handle(down - us(1), 1, advert(200));
    let out = g.handle(down, 0, Event::TimerExpired(Timer::MasterDown));
    assert!(out.iter().all(|(_, a)| *a != Action::AddVips));
    assert_eq!(g.member(0).state(), State::Backup);
    // However long it waits, while member 1 hears its master.
    for k in 1..5u64 {
        let at = down + us(k * 1_000_000);
        g.handle(at, 1, advert(200));
        if let Some(d) = g.member(0).deadline(Timer::MasterDown) {
            if d <= at {
                g.handle(d, 0, Event::TimerExpired(Timer::MasterDown));
            }
        }
    }
    assert_eq!(g.member(0).state(), State::Backup);
    assert_eq!(g.state(), State::Backup);
}

#[test]
fn a_fault_of_one_member_takes_the_master_group_to_fault() {
    let mut g = pair();
    let t = both_master(&mut g) + us(500_000);
    let out = g.handle(t, 0, Event::Fault);
    assert_eq!(
        out.iter()
            .filter(|(t, a)| *t == Target::Member(1) && *a == Action::SendAdvert { priority: 0 })
            .count(),
        1,
        "{out:?}"
    );
    assert!(out.contains(&(Target::Member(1), Action::RemoveVips)));
    assert_eq!(
        notifies(&out),
        vec![
            (Target::Member(0), NotifyState::Fault),
            (Target::Member(1), NotifyState::Fault),
            (Target::Group, NotifyState::Fault),
        ]
    );
    assert_eq!(g.member(1).state(), State::Fault);
    assert!(!g.member(1).own_fault());

    // The fault clears: both go BACKUP together.
    let out = g.handle(t + us(1), 0, Event::FaultCleared);
    assert_eq!(g.member(0).state(), State::Backup);
    assert_eq!(g.member(1).state(), State::Backup);
    assert_eq!(
        notifies(&out),
        vec![
            (Target::Member(0), NotifyState::Backup),
            (Target::Member(1), NotifyState::Backup),
            (Target::Group, NotifyState::Backup),
        ]
    );
}

#[test]
fn a_member_stays_in_fault_while_another_has_its_own_fault() {
    let mut g = pair();
    let t = both_master(&mut g) + us(500_000);
    g.handle(t, 0, Event::Fault);
    // Member 1, already in FAULT with the group, now fails itself: no notify again.
    let out = g.handle(t + us(1), 1, Event::Fault);
    assert!(notifies(&out).is_empty(), "{out:?}");
    let out = g.handle(t + us(2), 0, Event::FaultCleared);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(g.member(0).state(), State::Fault);
    g.handle(t + us(3), 1, Event::FaultCleared);
    assert_eq!(g.member(0).state(), State::Backup);
    assert_eq!(g.member(1).state(), State::Backup);
}

#[test]
fn a_higher_master_for_one_member_takes_both_to_backup_without_priority_0() {
    let mut g = pair();
    let t = both_master(&mut g) + us(500_000);
    let out = g.handle(t, 0, advert(200));
    assert_eq!(g.member(0).state(), State::Backup);
    assert_eq!(g.member(1).state(), State::Backup);
    assert!(out.contains(&(Target::Member(1), Action::RemoveVips)));
    assert!(
        !out.iter()
            .any(|(_, a)| *a == Action::SendAdvert { priority: 0 }),
        "{out:?}"
    );
    assert_eq!(
        notifies(&out),
        vec![
            (Target::Member(0), NotifyState::Backup),
            (Target::Member(1), NotifyState::Backup),
            (Target::Group, NotifyState::Backup),
        ]
    );
}

#[test]
fn a_member_faulted_at_start_starts_the_whole_group_in_fault() {
    let mut g = pair();
    g.handle(Duration::ZERO, 1, Event::Fault);
    let out = g.handle(Duration::ZERO, 0, Event::Startup);
    assert_eq!(g.member(0).state(), State::Fault);
    assert_eq!(g.member(1).state(), State::Fault);
    assert_eq!(
        notifies(&out),
        vec![
            (Target::Member(0), NotifyState::Fault),
            (Target::Member(1), NotifyState::Fault),
            (Target::Group, NotifyState::Fault),
        ]
    );
    g.handle(us(10), 1, Event::FaultCleared);
    assert_eq!(g.member(0).state(), State::Backup);
    assert_eq!(g.state(), State::Backup);
}

#[test]
fn an_owner_in_a_mixed_group_waits_like_a_backup() {
    let mut owner = params(255, 1);
    owner.initial_state = InitialState::Master;
    let mut g = Group::sync(vec![owner, params(100, 1)]);
    g.handle(Duration::ZERO, 0, Event::Startup);
    assert_eq!(g.member(0).state(), State::Backup);
}

#[test]
fn a_lone_instance_is_not_held() {
    let mut g = Group::solo(params(150, 1));
    g.handle(Duration::ZERO, 0, Event::Startup);
    let down = g.member(0).deadline(Timer::MasterDown).expect("armed");
    let out = g.handle(down, 0, Event::TimerExpired(Timer::MasterDown));
    assert!(out.contains(&(Target::Member(0), Action::AddVips)));
    assert!(notifies(&out).iter().all(|(t, _)| *t != Target::Group));
}

#[test]
fn a_lower_priority_advert_refreshes_every_master_members_neighbours() {
    let mut g = pair();
    let t = both_master(&mut g) + us(500_000);
    let out = g.handle(t, 0, advert(100));
    for m in [0, 1] {
        assert!(
            out.contains(&(Target::Member(m), Action::SendGratuitousArp { repeat: 5 })),
            "{m}: {out:?}"
        );
        assert_eq!(
            g.member(m).deadline(Timer::LowerPrioGarp),
            Some(t + Duration::from_secs(5))
        );
    }
}

#[test]
fn a_deleted_vip_sends_every_master_member_to_backup_without_a_group_notify() {
    let mut g = pair();
    let t = both_master(&mut g) + us(500_000);
    let out = g.handle(t, 1, Event::VipsDeleted);
    for m in [0, 1] {
        assert_eq!(g.member(m).state(), State::Backup);
        assert!(out.contains(&(Target::Member(m), Action::SendAdvert { priority: 0 })));
        assert!(out.contains(&(Target::Member(m), Action::RemoveVips)));
        // Master again after Skew_Time (priority 150: 106/256 s) unless a peer takes over.
        assert_eq!(
            g.member(m).deadline(Timer::MasterDown),
            Some(t + us(414_062))
        );
    }
    assert_eq!(g.state(), State::Backup);
    assert!(
        notifies(&out).iter().all(|(t, _)| *t != Target::Group),
        "{out:?}"
    );
}

#[test]
fn drain_takes_every_member_to_backup_each_with_priority_zero() {
    let mut g = pair();
    let down = both_master(&mut g);
    let out = g.handle(down + us(10), 1, Event::Drain);
    for m in 0..2 {
        assert!(out.contains(&(Target::Member(m), Action::SendAdvert { priority: 0 })));
        assert!(out.contains(&(Target::Member(m), Action::RemoveVips)));
        assert_eq!(g.member(m).state(), State::Backup);
        assert!(g.member(m).drained());
        assert_eq!(g.member(m).next_timer(), None);
    }
    assert_eq!(g.state(), State::Backup);
    assert_eq!(
        notifies(&out),
        vec![
            (Target::Member(0), NotifyState::Backup),
            (Target::Member(1), NotifyState::Backup),
            (Target::Group, NotifyState::Backup),
        ]
    );
    // Undrained, both arm their timers and the group masters again.
    let t = down + Duration::from_secs(10);
    g.handle(t, 0, Event::Undrain);
    assert!(!g.member(0).drained() && !g.member(1).drained());
    while g.state() != State::Master {
        let (i, timer, at) = g.next_timer().expect("armed");
        assert!(at < t + Duration::from_secs(10), "never mastered");
        g.handle(at, i, Event::TimerExpired(timer));
    }
    assert_eq!(g.member(0).state(), State::Master);
    assert_eq!(g.member(1).state(), State::Master);
}
