//! The hactl-agent that `hactl apply` installs with the shipped role is the statically linked
//! musl build (src/run/agent.rs), so it runs on any x86_64 Linux whatever its C library; and a
//! host whose `ansible_architecture` is not the agent's is refused before anything is copied.
//! On a real fleet host (needs root).

mod common;

use std::process::{Command, Output};

use common::agent::static_agent;
use common::fleet::Fleet;
use common::pair::{hactl, root, text};

/// What `ldd` says of a statically linked binary: glibc's ldd prints "not a dynamic
/// executable" for a static ELF_EXEC and "statically linked" for a static-pie (what Rust's
/// musl target builds; it keeps ASLR). Either way, no library is named (`=>`).
fn assert_static(ldd: &str, what: &str) {
    assert!(
        (ldd.contains("not a dynamic executable") || ldd.contains("statically linked"))
            && !ldd.contains("=>")
            && !ldd.contains("libc"),
        "{what}: ldd says {ldd:?}"
    );
}

fn all(out: &Output) -> String {
    format!("{}{}", text(out), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_installed_agent_is_static_and_other_architectures_are_refused() {
    let agent = static_agent();
    let ldd = Command::new("ldd").arg(agent).output().expect("run ldd");
    assert_static(&all(&ldd), "the built agent");

    let fleet = Fleet::up(&["lb1"]);
    let installed = |fleet: &Fleet| {
        fleet
            .ssh("lb1", "test -e /usr/local/bin/hactl-agent")
            .status
            .success()
    };

    // A host of another architecture: the run stops at the role's check, nothing copied.
    let out = hactl(
        &fleet,
        &[
            "apply",
            "inventory/hosts.ini",
            "-l",
            "lb1",
            "-e",
            "ansible_architecture=aarch64",
        ],
    );
    let said = all(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("this host is aarch64 but the hactl-agent to install (")
            && said.contains(
                ") is built for x86_64: set HACTL_AGENT to a hactl-agent built for aarch64"
            ),
        "{said}"
    );
    assert!(!installed(&fleet), "the agent was copied anyway");

    // HACTL_AGENT still names the binary to install; one that is no ELF program matches no host.
    let script = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(script.path(), "#!/bin/sh\necho hactl-agent 0.0.0\n").expect("write");
    let out = fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .current_dir(root())
        .env("HACTL_AGENT", script.path())
        .args(["apply", "inventory/hosts.ini", "-l", "lb1"])
        .args(fleet.ssh_args())
        .output()
        .expect("run hactl");
    let said = all(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("is built for unknown (not an ELF executable)"),
        "{said}"
    );
    assert!(!installed(&fleet), "the agent was copied anyway");

    // The real run installs exactly the static build, and it runs on the host.
    let out = hactl(&fleet, &["apply", "inventory/hosts.ini", "-l", "lb1"]);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let host = fleet.ssh(
        "lb1",
        "ldd /usr/local/bin/hactl-agent 2>&1; /usr/local/bin/hactl-agent --version; \
         sha256sum < /usr/local/bin/hactl-agent",
    );
    let host = String::from_utf8_lossy(&host.stdout).into_owned();
    // The shipped unit finds it on systemd's PATH and runs it.
    let active = fleet.ssh(
        "lb1",
        "for i in 1 2 3 4 5 6 7 8 9 10; do systemctl is-active -q hactl-agent && \
         exec readlink /proc/$(systemctl show -P MainPID hactl-agent)/exe; sleep 0.5; done; \
         systemctl status --no-pager hactl-agent; false",
    );
    assert_eq!(
        String::from_utf8_lossy(&active.stdout).trim(),
        "/usr/local/bin/hactl-agent",
        "{}",
        all(&active)
    );
    assert_static(&host, "the agent on lb1");
    assert!(
        host.contains(&format!("hactl-agent {}\n", env!("CARGO_PKG_VERSION"))),
        "{host}"
    );
    let local = Command::new("sha256sum")
        .stdin(std::fs::File::open(agent).expect("open agent"))
        .output()
        .expect("sha256sum");
    assert!(
        host.contains(String::from_utf8_lossy(&local.stdout).trim()),
        "lb1's agent is not the static build: {host}"
    );
}
