//! Loading an INI inventory of 10,000 hosts in 200 groups must take well under 100 ms.
//! Only meaningful in an optimised build: `cargo test --release --test inventory_perf`.
//! (tests/bench/inventory.sh compares the whole `hactl inventory --list` with Ansible.)

use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn generate(hosts: usize, groups: usize) -> String {
    let per = hosts / groups;
    let mut s = String::from("[all:vars]\nansible_user=deploy\n");
    for g in 0..groups {
        let _ = writeln!(s, "[g{g}]");
        for h in 0..per {
            let n = g * per + h;
            if h % 10 == 0 {
                let _ = writeln!(
                    s,
                    "host{n}.example.com ansible_host=10.0.{}.{} rack={} tags=\"['a', 'b']\"",
                    n / 256 % 256,
                    n % 256,
                    n % 40
                );
            } else {
                let _ = writeln!(s, "host{n}.example.com");
            }
        }
        let _ = writeln!(s, "[g{g}:vars]\ngroup_id={g}\nrole=\"role{}\"", g % 7);
    }
    for p in 0..groups / 10 {
        let _ = writeln!(s, "[parent{p}:children]");
        for g in p * 10..p * 10 + 10 {
            let _ = writeln!(s, "g{g}");
        }
        let _ = writeln!(s, "[parent{p}:vars]\nansible_group_priority={}", p % 3 + 1);
    }
    s
}

#[test]
#[cfg_attr(debug_assertions, ignore = "timing needs --release")]
fn ten_thousand_hosts_load_well_under_100ms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hosts.ini");
    std::fs::write(&path, generate(10_000, 200)).expect("write");
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let loaded = hactl::inventory::load(std::slice::from_ref(&path)).expect("loads");
        best = best.min(start.elapsed());
        assert_eq!(loaded.inventory.hosts.len(), 10_000);
        assert_eq!(loaded.inventory.groups.len(), 2 + 200 + 20);
    }
    report(best);
    assert!(best < Duration::from_millis(50), "took {best:?}");
}

/// The number is the point of this test, so it is printed (visible with `--nocapture`).
#[allow(clippy::print_stderr)]
fn report(best: Duration) {
    eprintln!("load of 10,000 hosts in 200 groups: best of 5 = {best:?}");
}
