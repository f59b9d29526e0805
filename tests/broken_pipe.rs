//! `hactl inventory --list | head -1`: a reader that has gone away ends hactl quietly with
//! status 141 (128 + SIGPIPE, as a shell reports for coreutils), not with a panic (101).

use std::process::{Command, Stdio};

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (read, write) = nix::unistd::pipe().expect("pipe");
    drop(read);
    Stdio::from(write)
}

fn hactl() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hactl"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let out = hactl()
        .args(["inventory", "-i", "inventory/hosts.ini", "--list"])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("run hactl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert_eq!(stderr, "", "no message, no panic");
}

#[test]
fn a_closed_stderr_ends_quietly_too() {
    // An error goes to stderr; with stderr closed there is nobody to tell.
    let out = hactl()
        .args(["inventory", "-i", "no/such/inventory.ini", "--list"])
        .stdout(Stdio::null())
        .stderr(closed_pipe())
        .output()
        .expect("run hactl");
    assert_eq!(out.status.code(), Some(141));
}
