//! keepalived features beyond the seed, on the wire, as root, in throw-away namespaces on a
//! bridge: `vrrp_track_process`, `mcast_dst_ip`, `garp_extra_if`, `notify_fifo`. Each scenario
//! runs once with keepalived 2.2.7 where the agent will be (checking keepalived does what the
//! test expects) and once with the agent there.
//!
//! Not root, or no keepalived: the tests are reported as ignored, not passed.

#[allow(dead_code)] // helpers shared with other test binaries
mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::lan::{Daemon, Host, Lan, logs, start, wait_for};
use common::netns::is_root;
use libtest_mimic::{Arguments, Failed, Trial};

const VIP: &str = "198.51.100.100";
/// A cold start, or a priority change heard by a backup: within Master_Down_Interval (3.6 s)
/// plus one advert.
const CONVERGE: Duration = Duration::from_secs(10);

// The harness lists each test as "ignored" when it cannot run; one stderr line says why.
#[allow(clippy::print_stderr)]
fn main() {
    let args = Arguments::from_args();
    let root = is_root();
    let keepalived = Command::new("keepalived").arg("--version").output().is_ok();
    if !root || !keepalived {
        eprintln!("interop_track: needs root and keepalived, so the tests are SKIPPED (ignored)");
    }
    let tests: Vec<(&str, fn())> = vec![
        ("track_process_moves_the_vip_like_keepalived", || {
            track_process(true)
        }),
        (
            "track_process_keepalived_in_a_network_namespace_cannot_listen",
            || track_process(false),
        ),
        (
            "mcast_dst_ip_overrides_vrrp_mcast_group4_like_keepalived",
            || mcast_dst_ip(true),
        ),
        ("mcast_dst_ip_keepalived_reference", || mcast_dst_ip(false)),
        ("notify_fifos_get_keepalived_lines", || notify_fifo(true)),
        ("notify_fifos_keepalived_reference", || notify_fifo(false)),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| {
            Trial::test(name, move || {
                f();
                Ok::<(), Failed>(())
            })
            .with_ignored_flag(!root || !keepalived)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Waits until exactly host `owner` holds the VIP.
fn vip_on(hosts: &[Host], owner: usize, daemons: &[&Daemon]) {
    let ok = wait_for(CONVERGE, || {
        hosts
            .iter()
            .enumerate()
            .all(|(i, h)| h.holds(VIP) == (i == owner))
    });
    assert!(
        ok.is_some(),
        "want {VIP} on {} within {CONVERGE:?}\n{}",
        hosts[owner].name,
        logs(daemons)
    );
}

/// A copy of /bin/sleep under a name of its own (its process name is the file name), run in
/// the test's PID view; killed on drop.
struct Sleeper {
    child: Child,
}

impl Sleeper {
    fn start(path: &std::path::Path) -> Sleeper {
        let child = Command::new(path)
            .arg("600")
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Sleeper { child }
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Host b (keepalived, priority 110) against host a (priority 100 + 20 while a uniquely named
/// process runs, `vrrp_track_process` with quorum 1): with the agent on a, a is master while
/// the process runs, b once it stops, a again once it is back (keepalived's semantics, from
/// its vrrp_track_process.c).
///
/// keepalived itself cannot be the reference here: it learns about processes from the
/// kernel's proc connector, which only exists in the initial network namespace, so in a
/// test namespace it logs "Failed to set/clear process event listen" and never counts a
/// process (a stays at 100, b stays master). `agent == false` asserts exactly that, so the
/// day keepalived (or the kernel) behaves otherwise, this test says so.
fn track_process(agent: bool) {
    let tag = if agent { "tpa" } else { "tpr" };
    let lan = Lan::new(tag, 2);
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    // 15 characters at most: the kernel's process name is cut there.
    let name = format!("hk{tag}{}", std::process::id() % 100_000);
    let bin = a.etc().join(&name);
    std::fs::copy("/bin/sleep", &bin).expect("copy sleep");
    let config = |router: &str, priority: u8, track: &str| {
        format!(
            "global_defs {{
    router_id {router}
    vrrp_mcast_group4 224.0.100.19
}}
{track}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 14
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP}
    }}
    {}
}}
",
            if track.is_empty() {
                ""
            } else {
                "track_process {\n        running\n    }"
            }
        )
    };
    let track = format!(
        "vrrp_track_process running {{
    process {name}
    weight 20
    quorum 1
}}"
    );
    a.write_config(&config("lba", 100, &track));
    b.write_config(&config("lbb", 110, ""));
    let sleeper = Sleeper::start(&bin);
    let db = b.start_keepalived();
    let da = start(a, agent);
    let daemons = [&da, &db];
    if !agent {
        vip_on(&lan.hosts, 1, &daemons);
        std::thread::sleep(Duration::from_secs(5));
        vip_on(&lan.hosts, 1, &daemons);
        assert!(
            da.log()
                .contains("Failed to set/clear process event listen"),
            "{}",
            da.log()
        );
        return;
    }
    vip_on(&lan.hosts, 0, &daemons);
    // The process stops: a at 100 yields to b at 110 (b preempts).
    drop(sleeper);
    vip_on(&lan.hosts, 1, &daemons);
    // Back: a at 120 preempts b.
    let _sleeper = Sleeper::start(&bin);
    vip_on(&lan.hosts, 0, &daemons);
    let log = da.log();
    assert!(log.contains("track_process changed"), "{log}");
}

/// Both hosts say `vrrp_mcast_group4 224.0.100.19` but their instance `mcast_dst_ip
/// 224.0.100.21`: keepalived b (110) sends to .21 only, so a (100) stays BACKUP only if it
/// joined .21 (a host listening on .19 would not hear b and would be master too). Once b
/// stops, a takes over.
fn mcast_dst_ip(agent: bool) {
    let tag = if agent { "mda" } else { "mdr" };
    let lan = Lan::new(tag, 2);
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let config = |router: &str, priority: u8| {
        format!(
            "global_defs {{
    router_id {router}
    vrrp_mcast_group4 224.0.100.19
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 14
    priority {priority}
    advert_int 1
    mcast_dst_ip 224.0.100.21
    virtual_ipaddress {{
        {VIP}
    }}
}}
"
        )
    };
    a.write_config(&config("lba", 100));
    b.write_config(&config("lbb", 110));
    let db = b.start_keepalived();
    let da = start(a, agent);
    vip_on(&lan.hosts, 1, &[&da, &db]);
    // Longer than a's Master_Down_Interval: a keeps hearing b on .21.
    std::thread::sleep(Duration::from_secs(5));
    vip_on(&lan.hosts, 1, &[&da, &db]);
    if agent {
        let status = hactl_agent::status::query(&a.socket()).expect("status");
        assert_eq!(
            status.instances[0].master.as_deref(),
            Some(b.addr.as_str()),
            "a hears b's adverts"
        );
    }
    // A graceful stop: b removes the VIP and sends priority 0 to .21.
    db.signal(nix::sys::signal::Signal::SIGTERM);
    vip_on(&lan.hosts, 0, &[&da, &db]);
}

/// `notify_fifo` and `vrrp_notify_fifo` (with a `vrrp_notify_fifo_script`) on one host whose
/// sync group G holds VI_1: both FIFOs are created (mode 0600), the script is started with
/// the FIFO's path, the lines are keepalived's (`INSTANCE "VI_1" MASTER 100`, `GROUP "G"
/// MASTER 0`, STOP at stop), kept in the FIFO for a reader that comes late, and the FIFOs
/// are gone after a graceful stop.
fn notify_fifo(agent: bool) {
    use std::io::Read as _;
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _, PermissionsExt as _};

    let tag = if agent { "nfa" } else { "nfr" };
    let lan = Lan::new(tag, 1);
    let a = &lan.hosts[0];
    let reader = a.etc().join("reader.sh");
    std::fs::write(
        &reader,
        "#!/bin/sh\necho \"$@\" > /etc/keepalived/args.log\nexec cat \"$1\" > /etc/keepalived/script.log\n",
    )
    .expect("reader script");
    std::fs::set_permissions(&reader, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    a.write_config(&format!(
        "global_defs {{
    router_id lba
    vrrp_mcast_group4 224.0.100.19
    enable_script_security
    script_user root
    notify_fifo /etc/keepalived/all.fifo
    vrrp_notify_fifo /etc/keepalived/vrrp.fifo
    vrrp_notify_fifo_script /etc/keepalived/reader.sh
}}
vrrp_sync_group G {{
    group {{
        VI_1
    }}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 14
    priority 100
    advert_int 1
    virtual_ipaddress {{
        {VIP}
    }}
}}
"
    ));
    let mut d = start(a, agent);
    vip_on(&lan.hosts, 0, &[&d]);
    let all = a.etc().join("all.fifo");
    for f in ["all.fifo", "vrrp.fifo"] {
        let meta = std::fs::metadata(a.etc().join(f)).expect("FIFO created");
        assert!(meta.file_type().is_fifo(), "{f}");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{f}");
    }
    let args = wait_for(Duration::from_secs(3), || {
        std::fs::read_to_string(a.etc().join("args.log")).is_ok_and(|t| !t.is_empty())
    });
    assert!(args.is_some(), "the FIFO script ran\n{}", d.log());
    assert_eq!(
        std::fs::read_to_string(a.etc().join("args.log")).expect("args"),
        "/etc/keepalived/vrrp.fifo\n"
    );
    // A reader that comes late still gets every line.
    let mut late = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(&all)
        .expect("open all.fifo");
    d.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(
        d.wait_exit(Duration::from_secs(10)).is_some(),
        "{}",
        d.log()
    );
    let mut text = String::new();
    let _ = late.read_to_string(&mut text);
    // At start keepalived reports the group's BACKUP before the instance's.
    let want = "GROUP \"G\" BACKUP 0\nINSTANCE \"VI_1\" BACKUP 100\n\
                INSTANCE \"VI_1\" MASTER 100\nGROUP \"G\" MASTER 0\n\
                INSTANCE \"VI_1\" STOP 100\nGROUP \"G\" STOP 0\n";
    assert_eq!(text, want, "{}", d.log());
    let script = std::fs::read_to_string(a.etc().join("script.log")).unwrap_or_default();
    assert!(
        want.starts_with(&script) && script.contains("MASTER 100"),
        "the script read the VRRP FIFO: {script:?}"
    );
    assert!(
        !all.exists() && !a.etc().join("vrrp.fifo").exists(),
        "FIFOs removed"
    );
}
