//! `skip_check_adv_addr` on the wire, against keepalived 2.2.7, as root, in throw-away
//! namespaces on a bridge.
//!
//! Host a runs keepalived as MASTER (priority 200, VIP .100). Host b, the daemon under test
//! (priority 100, same VIP), follows it as BACKUP. Then a's config gains a second VIP and a
//! reloads: its adverts now list two addresses. Without `skip_check_adv_addr`, b drops them
//! (address count) and takes over after the master-down interval, as keepalived does; with it,
//! b goes on accepting its master's adverts and stays BACKUP. Each case runs once with
//! keepalived as b (the reference) and once with the agent.
//!
//! Not root, or no keepalived: the tests are reported as ignored, not passed.

#[allow(dead_code)] // helpers shared with other test binaries
mod common;

use std::process::Command;
use std::time::Duration;

use common::lan::{Host, Lan, agent_and_keepalived, logs, wait_for};
use common::netns::is_root;
use libtest_mimic::Arguments;
use nix::sys::signal::Signal;

const VIP: &str = "198.51.100.100";
const CONVERGE: Duration = Duration::from_secs(10);

// The harness lists each test as "ignored" when it cannot run; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    let keepalived = Command::new("keepalived").arg("--version").output().is_ok();
    if !root || !keepalived {
        eprintln!(
            "interop_adv_addr: needs root and keepalived, so the tests are SKIPPED (ignored)"
        );
    }
    let mut trials = Vec::new();
    for (skip, what) in [
        (
            "skip_check_adv_addr",
            "skip_check_adv_addr_keeps_following_the_master",
        ),
        (
            "vrrp_skip_check_adv_addr",
            "vrrp_skip_check_adv_addr_keeps_following_the_master",
        ),
        ("", "without_skip_a_changed_address_list_is_dropped"),
    ] {
        trials.extend(agent_and_keepalived(
            what,
            !root || !keepalived,
            move |agent| scenario(skip, agent),
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// `skip`: "", the instance keyword or the global one.
fn config(priority: u8, vips: &[&str], skip: &str) -> String {
    let (global, instance) = match skip {
        "vrrp_skip_check_adv_addr" => (skip, ""),
        _ => ("", skip),
    };
    let vips: String = vips.iter().map(|v| format!("        {v}\n")).collect();
    format!(
        "global_defs {{
    router_id adv
    {global}
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 62
    priority {priority}
    advert_int 1
    {instance}
    virtual_ipaddress {{
{vips}    }}
}}
"
    )
}

fn scenario(skip: &str, agent: bool) {
    let tag = format!("aa{}{}", skip.len() % 10, u8::from(agent));
    let lan = Lan::new(&tag, 2);
    let (a, b): (&Host, &Host) = (&lan.hosts[0], &lan.hosts[1]);
    a.write_config(&config(200, &[VIP], ""));
    b.write_config(&config(100, &[VIP], skip));
    let da = a.start_keepalived();
    assert!(
        wait_for(CONVERGE, || a.holds(VIP)).is_some(),
        "{}",
        da.log()
    );
    let db = if agent {
        b.start_agent()
    } else {
        b.start_keepalived()
    };
    // b hears a's adverts and stays BACKUP.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        a.holds(VIP) && !b.holds(VIP),
        "b should follow a\n{}",
        logs(&[&da, &db])
    );
    // a's adverts now list two addresses.
    a.write_config(&config(200, &[VIP, "198.51.100.102"], ""));
    da.signal(Signal::SIGHUP);
    assert!(
        wait_for(CONVERGE, || a.holds("198.51.100.102")).is_some(),
        "a did not reload\n{}",
        da.log()
    );
    let took_over = wait_for(Duration::from_secs(8), || b.holds(VIP)).is_some();
    assert_eq!(
        took_over,
        skip.is_empty(),
        "skip {skip:?}: b took over: {took_over}\n{}",
        logs(&[&da, &db])
    );
}
