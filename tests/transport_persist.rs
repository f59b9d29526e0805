//! Master connections outlive a run, as Ansible's do (`ControlPersist=60s`): on a real host,
//! the next run talks over the same TCP connection (the host's `$SSH_CONNECTION` names the
//! same client port); `--ssh-persist 0` opens and closes its own; a master whose connection
//! was cut is replaced, and so is one whose peer went silent (sshd frozen), within the
//! connect timeout.

mod common;

use std::time::{Duration, Instant};

use common::fleet::Fleet;

/// Runs `hactl run all 'echo $SSH_CONNECTION'` and returns the client port the host saw.
fn client_port(fleet: &Fleet, extra: &[&str]) -> String {
    let out = fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .args(["run", "all", "-i"])
        .arg(fleet.inventory())
        .args(["--no-stream", "--no-summary", "-T", "2"])
        .args(extra)
        .args(fleet.ssh_args())
        .arg("echo \"port=$(echo $SSH_CONNECTION | cut -d' ' -f2)\"")
        .output()
        .expect("run hactl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find_map(|l| l.split("port=").nth(1))
        .unwrap_or_else(|| panic!("no port in {text}"))
        .trim()
        .to_string()
}

/// The pids of the host's sshd processes serving the connection from `port`.
fn sshd_pids(fleet: &Fleet, port: &str) -> String {
    let out = fleet.ssh(
        "p1",
        &format!(
            "ss -Htnp state established '( sport = :22 and dport = :{port} )' \
             | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u | tr '\\n' ' '"
        ),
    );
    let pids = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pids.is_empty(), "no sshd serves port {port}");
    pids
}

#[test]
fn masters_persist_between_runs_and_broken_ones_are_replaced() {
    let fleet = Fleet::up(&["p1"]);

    let first = client_port(&fleet, &[]);
    assert_eq!(
        client_port(&fleet, &[]),
        first,
        "the second run reuses the master"
    );

    let own = client_port(&fleet, &["--ssh-persist", "0"]);
    assert_ne!(own, first, "--ssh-persist 0 opens its own connection");
    std::thread::sleep(Duration::from_millis(300));
    let gone = fleet.ssh(
        "p1",
        &format!("ss -Htn state established '( sport = :22 and dport = :{own} )' | wc -l"),
    );
    assert_eq!(
        String::from_utf8_lossy(&gone.stdout).trim(),
        "0",
        "and closes it at the end"
    );
    assert_eq!(
        client_port(&fleet, &[]),
        first,
        "the persistent master is still there"
    );

    // The connection is cut on the host side: the master exits, the next run makes a new one.
    let pids = sshd_pids(&fleet, &first);
    fleet.ssh("p1", &format!("kill -9 {pids}"));
    std::thread::sleep(Duration::from_millis(300));
    let second = client_port(&fleet, &[]);
    assert_ne!(second, first);
    assert_eq!(client_port(&fleet, &[]), second);

    // The host's sshd for that connection freezes: the master still answers locally but the
    // host never does. The run gives up on it after the connect timeout (-T 2) and connects
    // anew.
    let frozen = sshd_pids(&fleet, &second);
    fleet.ssh("p1", &format!("kill -STOP {frozen}"));
    let start = Instant::now();
    let third = client_port(&fleet, &[]);
    let took = start.elapsed();
    fleet.ssh("p1", &format!("kill -9 {frozen}"));
    assert_ne!(third, second);
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(client_port(&fleet, &[]), third);
}
