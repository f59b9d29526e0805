//! `hactl run PATTERN 'command'` on a real fleet: every host's output, identical outputs
//! grouped, an unreachable host and a failing command reported while the others finish, exit
//! codes as `ansible` gives them, and host keys checked by default.

mod common;

use std::process::Output;

use common::fleet::Fleet;

fn hactl(fleet: &Fleet, args: &[&str], known_hosts: bool) -> Output {
    let inv = fleet.inventory();
    let key = fleet.state.join("id_ed25519");
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    cmd.arg("run")
        .args(args)
        .arg("-i")
        .arg(&inv)
        .arg("--private-key")
        .arg(&key)
        .args(["-T", "3", "--no-stream"]);
    if known_hosts {
        let opt = format!(
            "-o UserKnownHostsFile={}",
            fleet.state.join("known_hosts").display()
        );
        cmd.args(["--ssh-common-args", &opt]);
    }
    cmd.output().expect("run hactl")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ad_hoc_commands_on_a_real_fleet() {
    let fleet = Fleet::up(&["a1", "a2", "a3"]);
    // One more host that does not exist: unreachable, and the others still finish.
    let mut inv = std::fs::read_to_string(fleet.inventory()).expect("inventory");
    inv.push_str("ghost ansible_host=198.51.100.99\n");
    std::fs::write(fleet.inventory(), inv).expect("inventory");

    let out = hactl(&fleet, &["all", "echo same; hostname >&2"], true);
    let stdout = text(&out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "unreachable host gives 4:\n{stdout}"
    );
    for host in ["a1", "a2", "a3"] {
        assert!(
            stdout.contains(&format!("{host} | CHANGED | rc=0 >>\nsame\n{host}\n")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("ghost | UNREACHABLE! => cannot connect"),
        "{stdout}"
    );
    assert!(
        stdout.contains("hosts=4 ok=0 changed=3 failed=0 unreachable=1"),
        "{stdout}"
    );

    // Identical outputs are grouped in the summary.
    let out = hactl(&fleet, &["a?", "date +%Y"], true);
    let stdout = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let year = stdout.lines().nth(1).expect("a year").to_string();
    assert!(
        stdout.contains(&format!(
            "3 hosts (a1, a2, a3) | CHANGED | rc=0 >>\n{year}\n"
        )),
        "{stdout}"
    );

    // A failing command fails on its host only, with its exit code and output.
    let out = hactl(
        &fleet,
        &[
            "a?",
            "[ $(hostname) = a2 ] && { echo bad >&2; exit 3; }; echo fine",
        ],
        true,
    );
    let stdout = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("a2 | FAILED | rc=3 >>\nbad"), "{stdout}");
    assert!(
        stdout.contains("2 hosts (a1, a3) | CHANGED | rc=0 >>\nfine"),
        "{stdout}"
    );

    // A command that does not exist is a failed task (rc 127), not an unreachable host.
    let out = hactl(&fleet, &["a1", "no-such-command"], true);
    assert!(
        text(&out).contains("a1 | FAILED | rc=127 >>"),
        "{}",
        text(&out)
    );

    // -m with -a: any module.
    let out = hactl(
        &fleet,
        &["a1", "-m", "file", "-a", "path=/tmp/adhoc state=directory"],
        true,
    );
    assert!(text(&out).contains("a1 | CHANGED => {"), "{}", text(&out));

    // Host keys are checked: unknown keys make the hosts unreachable.
    let out = hactl(&fleet, &["a1", "true"], false);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}{}",
        text(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text(&out).contains("Host key verification failed"),
        "{}",
        text(&out)
    );
}
