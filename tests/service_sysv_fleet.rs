//! `service` falls back to SysV init scripts on a host without systemd. The fleet's hosts boot
//! systemd, so this host's sshd runs every session in a mount namespace where
//! `/run/systemd` is an empty tmpfs: there, as on a SysV host, `service` and the Debian
//! `/etc/init.d/nginx` script start and stop nginx themselves (start-stop-daemon, a pid
//! file), and `update-rc.d` manages the rc links. hactl must start, report `ok`, stop, and
//! enable through them, and say `changed` exactly when something changed.

mod common;

use common::fleet::Fleet;

fn service(fleet: &Fleet, args: &str) -> (Option<i32>, String) {
    let out = fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .args(["run", "all", "-i"])
        .arg(fleet.inventory())
        .args(["--no-stream", "-m", "service", "-a", args])
        .args(fleet.ssh_args())
        .output()
        .expect("run hactl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Whether nginx runs, seen from the host's own (systemd) view.
fn running(fleet: &Fleet) -> bool {
    fleet
        .ssh("v1", "pgrep -x nginx >/dev/null")
        .status
        .success()
}

#[test]
fn service_uses_sysv_init_scripts_without_systemd() {
    let fleet = Fleet::up(&["v1"]);
    // Stop nginx under systemd first, then take systemd out of every SSH session.
    assert!(fleet.ssh("v1", "systemctl stop nginx").status.success());
    fleet.wrap_sessions(
        "v1",
        "mount -t tmpfs tmpfs /run/systemd",
        "test -d /run/systemd/system && echo systemd || echo none",
        "none",
    );
    assert!(!running(&fleet));

    let (code, text) = service(&fleet, "name=nginx state=started");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("v1 | CHANGED"), "{text}");
    assert!(running(&fleet), "nginx started by its init script: {text}");
    let (code, text) = service(&fleet, "name=nginx state=started");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("v1 | SUCCESS"), "already running: {text}");

    let (code, text) = service(&fleet, "name=nginx enabled=no");
    assert_eq!(code, Some(0), "{text}");
    let links = fleet.ssh(
        "v1",
        "ls /etc/rc2.d/ | grep -c nginx; ls /etc/rc2.d | grep '^S..nginx' || true",
    );
    assert_eq!(
        String::from_utf8_lossy(&links.stdout).lines().nth(1),
        None,
        "no start link after enabled=no: {text}"
    );
    let (code, text) = service(&fleet, "name=nginx enabled=yes");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("v1 | CHANGED"), "{text}");
    let links = fleet.ssh("v1", "ls /etc/rc2.d | grep '^S..nginx'");
    assert!(
        links.status.success(),
        "a start link after enabled=yes: {text}"
    );

    let (code, text) = service(&fleet, "name=nginx state=stopped");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("v1 | CHANGED"), "{text}");
    assert!(!running(&fleet));
    let (code, text) = service(&fleet, "name=nginx state=stopped");
    assert!(text.contains("v1 | SUCCESS"), "already stopped: {text}");
    assert_eq!(code, Some(0));

    let (code, text) = service(&fleet, "name=no-such-service state=started");
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("Could not find the requested service no-such-service"),
        "{text}"
    );
}
