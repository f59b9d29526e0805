//! `service` falls back to SysV init scripts on a host without systemd. The fleet's hosts boot
//! systemd, so this host's sshd runs every session in a mount namespace where
//! `/run/systemd` is an empty tmpfs: there, as on a SysV host, `service` and the Debian
//! `/etc/init.d/nginx` script start and stop nginx themselves (start-stop-daemon, a pid
//! file), and `update-rc.d` manages the rc links. hactl must start, report `ok`, stop, and
//! enable through them, and say `changed` exactly when something changed.

mod common;

use common::fleet::Fleet;

const NO_SYSTEMD: &str = r#"#!/bin/sh
# Every SSH session of this host sees no systemd (see tests/service_sysv_fleet.rs).
exec unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && exec sh -c "${SSH_ORIGINAL_COMMAND:-sh}"'
"#;

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
    let setup = fleet.ssh(
        "v1",
        &format!(
            "systemctl stop nginx && cat > /usr/local/bin/no-systemd <<'EOF'\n{NO_SYSTEMD}EOF\n\
             chmod 755 /usr/local/bin/no-systemd && \
             echo 'ForceCommand /usr/local/bin/no-systemd' > /etc/ssh/sshd_config.d/no-systemd.conf && \
             systemctl reload ssh"
        ),
    );
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    // sshd re-executes itself on reload: wait until sessions come through the new setting.
    let start = std::time::Instant::now();
    loop {
        let seen = fleet.ssh(
            "v1",
            "test -d /run/systemd/system && echo systemd || echo none",
        );
        if String::from_utf8_lossy(&seen.stdout).trim() == "none" {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "systemd still seen"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
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
