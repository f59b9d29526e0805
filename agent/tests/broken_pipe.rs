//! `hactl-agent status | grep -q`: a reader that has gone away ends the agent's command line
//! quietly with status 141 (128 + SIGPIPE, as a shell reports for coreutils), not with a
//! panic (101).

use std::io::Write as _;
use std::process::{Command, Stdio};

use hactl_agent::status::AgentStatus;

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (read, write) = nix::unistd::pipe().expect("pipe");
    drop(read);
    Stdio::from(write)
}

/// Serves one status document on a socket in `dir`, as a running agent would.
fn fake_agent(dir: &std::path::Path) -> (std::path::PathBuf, std::thread::JoinHandle<()>) {
    let socket = dir.join("status.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    let status = AgentStatus {
        pid: 42,
        config: "/etc/keepalived/keepalived.conf".into(),
        instances: Vec::new(),
    };
    let body = serde_json::to_vec(&status).expect("json");
    let server = std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let _ = conn.write_all(&body);
        }
    });
    (socket, server)
}

#[test]
fn status_into_a_closed_pipe_ends_quietly() {
    for json in [false, true] {
        let dir = tempfile::tempdir().expect("tmp");
        let (socket, server) = fake_agent(dir.path());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hactl-agent"));
        cmd.arg("status").arg("--socket").arg(&socket);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .expect("run hactl-agent");
        server.join().expect("server");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "json={json}: {stderr}");
        assert_eq!(stderr, "", "no message, no panic");
    }
}

#[test]
fn check_into_a_closed_stderr_ends_quietly() {
    let out = Command::new(env!("CARGO_BIN_EXE_hactl-agent"))
        .args(["check", "-f", "/no/such/keepalived.conf"])
        .stderr(closed_pipe())
        .output()
        .expect("run hactl-agent");
    assert_eq!(out.status.code(), Some(141));
}
