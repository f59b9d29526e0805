//! The OpenSSH backend: one multiplexed master connection per host, reused for every command
//! of the run. hactl starts the master itself (`ssh -M -f -N`), so the user's ssh arguments
//! reach ssh exactly as Ansible passes them (`-F`, `-J`, `-i`, `-p`, `-o ProxyCommand=...`),
//! then talks to it through the `openssh` crate's native mux. The user's `~/.ssh/config`,
//! ssh-agent and `known_hosts` apply, and host keys are checked unless the user opts out.

use std::sync::Arc;
use std::time::Duration;

use openssh::{ChildStdin, ChildStdout, Session, Stdio};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use super::persist::{self, Slot};
use super::shell::{LOOP, Shell};
use super::{ExecOutput, SshArgsKind, Target, Transport, TransportError, shell_quote};

/// The persistent shell's state: not started yet, running, or unavailable on this host.
#[derive(Debug)]
enum ShellState {
    NotStarted,
    Running(Box<RunningShell>),
    Unavailable,
}

/// The persistent shell and the channel's process handle.
#[derive(Debug)]
struct RunningShell {
    shell: Shell<ChildStdin, ChildStdout>,
    child: openssh::Child<Arc<Session>>,
}

/// A live ssh connection to one host.
#[derive(Debug)]
pub struct SshTransport {
    name: String,
    session: Arc<Session>,
    shell: Mutex<ShellState>,
    /// The master outlives this run (`ControlPersist`): closing leaves it up.
    persistent: bool,
}

/// Opens the master connection to `target`, or reuses one an earlier run left up (see
/// [`persist`]).
pub async fn connect(target: &Target) -> Result<SshTransport, TransportError> {
    let idle = target
        .persist
        .map(|d| d.as_secs())
        .and_then(|s| std::num::NonZeroUsize::new(usize::try_from(s).ok()?));
    // An unsafe control folder stops the connection before anything is sent.
    let slot = match idle {
        Some(_) => persist::slot(target).map_err(|message| TransportError::Connect {
            host: target.name.clone(),
            message,
        })?,
        None => None,
    };
    if let Some(slot) = &slot {
        if let Some(t) = resume(target, slot).await {
            return Ok(t);
        }
        slot.sweep();
    }
    let dir = match &slot {
        Some(slot) => slot.dir.clone(),
        None => std::env::temp_dir(),
    };
    let persist = match (&slot, idle) {
        (Some(_), Some(idle)) => format!("ControlPersist={idle}s"),
        // Up until this run closes it.
        _ => "ControlPersist=yes".to_string(),
    };
    let tempdir = launch(target, &dir, &persist).await?;
    let session = Session::new_native_mux(tempdir);
    let (session, persistent) = match &slot {
        Some(slot) => {
            // The master's lifetime is its own now; the slot finds it next time.
            let (ctl, log) = session.detach();
            slot.point_at(&ctl);
            (Session::resume_mux(ctl, log), true)
        }
        None => (session, false),
    };
    Ok(SshTransport {
        name: target.name.clone(),
        session: Arc::new(session),
        shell: Mutex::new(ShellState::NotStarted),
        persistent,
    })
}

/// The ssh arguments Ansible's ssh plugin builds for `target`, in its order: `ssh_args`,
/// `StrictHostKeyChecking=no` if host keys are not checked, port, key, user, connect timeout,
/// then `ssh_common_args` and `ssh_extra_args`, then the host. ssh takes the first value it
/// sees for most settings, so this order decides who wins, as it does for Ansible.
pub fn command(target: &Target) -> Vec<String> {
    let mut args = Vec::new();
    let group = |args: &mut Vec<String>, kind: SshArgsKind| {
        for a in target.ssh_args.iter().filter(|a| a.kind == kind) {
            args.extend(a.words.iter().cloned());
        }
    };
    group(&mut args, SshArgsKind::Base);
    if !target.check_host_key {
        args.extend(["-o".into(), "StrictHostKeyChecking=no".into()]);
    }
    if let Some(port) = target.port {
        args.extend(["-o".into(), format!("Port={port}")]);
    }
    if let Some(key) = &target.private_key {
        args.extend(["-o".into(), format!("IdentityFile=\"{}\"", key.display())]);
    }
    if let Some(user) = &target.user {
        args.extend(["-o".into(), format!("User=\"{user}\"")]);
    }
    if let Some(t) = target.connect_timeout {
        args.extend([
            "-o".into(),
            format!("ConnectTimeout={}", t.as_secs().max(1)),
        ]);
    }
    group(&mut args, SshArgsKind::Common);
    group(&mut args, SshArgsKind::Extra);
    // `--`: an address is never read as an option.
    args.extend(["--".into(), target.address.clone()]);
    args
}

/// Starts the master for `target` in a fresh folder of `dir`: `ssh -M -f -N` with hactl's own
/// options first (its socket, log, `ControlPersist`, `BatchMode`: nothing may prompt), then
/// [`command`]. ssh forks into the background once the host is reached and authenticated.
async fn launch(
    target: &Target,
    dir: &std::path::Path,
    persist: &str,
) -> Result<tempfile::TempDir, TransportError> {
    let err = |message: String| TransportError::Connect {
        host: target.name.clone(),
        message,
    };
    let tmp = tempfile::Builder::new()
        .prefix(".ssh-connection")
        .tempdir_in(dir)
        .map_err(|e| {
            err(format!(
                "cannot make a control folder in {}: {e}",
                dir.display()
            ))
        })?;
    let log = tmp.path().join("log");
    let user = command(target);
    let mut argv: Vec<std::ffi::OsString> = vec![
        "-E".into(),
        log.clone().into(),
        "-S".into(),
        tmp.path().join("master").into(),
        "-M".into(),
        "-f".into(),
        "-N".into(),
        "-o".into(),
        persist.into(),
        "-o".into(),
        "BatchMode=yes".into(),
    ];
    argv.extend(user.iter().map(Into::into));
    if crate::report::verbosity() >= 3 {
        let shown: Vec<String> = std::iter::once("ssh".to_string())
            .chain(argv.iter().map(|a| shell_quote(&a.to_string_lossy())))
            .collect();
        crate::report::out(&format!(
            "<{}> SSH: EXEC {}",
            target.address,
            shown.join(" ")
        ));
    }
    // ssh's own messages go to the log (-E); those of a ProxyJump or ProxyCommand child go to
    // stderr, which is the log too, so a failure reads both.
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| err(format!("cannot make {}: {e}", log.display())))?;
    let status = tokio::process::Command::new("ssh")
        .args(&argv)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .status()
        .await
        .map_err(|e| err(format!("cannot run ssh: {e}")))?;
    if status.success() {
        return Ok(tmp);
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let said = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
        .collect::<Vec<_>>()
        .join("; ");
    let said = if said.is_empty() {
        format!("ssh exited with {status}")
    } else {
        said
    };
    Err(err(match jump(&user).await {
        Some(via) => format!("through {via}: {said}"),
        None => said,
    }))
}

/// The jump host (or proxy command) ssh goes through for these arguments, as `ssh -G` resolves
/// them (the command line, `-F` files and `~/.ssh/config` alike), for an error message.
async fn jump(args: &[String]) -> Option<String> {
    let out = tokio::process::Command::new("ssh")
        .arg("-G")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        match k {
            "proxyjump" if v != "none" => Some(format!("jump host {v}")),
            "proxycommand" if v != "none" => Some(format!("proxy command '{v}'")),
            _ => None,
        }
    })
}

/// A live master of an earlier run for `target`, proven by starting the persistent shell on
/// it. A master whose connection has died (the host rebooted) is told to stop and forgotten.
async fn resume(target: &Target, slot: &Slot) -> Option<SshTransport> {
    let socket = slot.existing()?;
    let session = Session::resume_mux(socket.into_boxed_path(), None);
    if session.check().await.is_err() {
        slot.forget();
        return None;
    }
    let t = SshTransport {
        name: target.name.clone(),
        session: Arc::new(session),
        shell: Mutex::new(ShellState::NotStarted),
        persistent: true,
    };
    // A master whose peer went silent (a host powered off, a frozen sshd) would hang the
    // channel open: give it the connect timeout.
    let wait = target.connect_timeout.unwrap_or(Duration::from_secs(10));
    if let Ok(Some(running @ ShellState::Running(_))) =
        tokio::time::timeout(wait, t.start_shell()).await
    {
        *t.shell.lock().await = running;
        return Some(t);
    }
    // `ssh -O exit` ends the master at once, even while its peer is silent.
    let _ = tokio::process::Command::new("ssh")
        .arg("-S")
        .arg(t.session.control_socket())
        .args(["-O", "exit", "hactl-stale-master"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await;
    slot.forget();
    None
}

/// openssh's errors carry the ssh client's own words; keep them on one line.
fn error_text(e: &openssh::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Starts the exit-code trailer the remote wrapper writes after the script's own stderr.
const RC_MARK: &str = "\x1ehactl-rc=";

/// Splits the trailer off stderr: the script's exit code and its stderr as it wrote it.
fn split_exit_code(mut stderr: Vec<u8>) -> (Option<i32>, Vec<u8>) {
    let mark = RC_MARK.as_bytes();
    let Some(pos) = stderr.windows(mark.len()).rposition(|w| w == mark) else {
        return (None, stderr);
    };
    let code = std::str::from_utf8(&stderr[pos + mark.len()..])
        .ok()
        .and_then(|t| t.trim().parse().ok());
    stderr.truncate(pos);
    (code, stderr)
}

impl SshTransport {
    /// Starts the persistent shell (see [`super::shell`]).
    async fn start_shell(&self) -> Option<ShellState> {
        let mut child =
            Session::to_raw_command(self.session.clone(), format!("sh -c {}", shell_quote(LOOP)))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .await
                .ok()?;
        let input = child.stdin().take()?;
        let output = child.stdout().take()?;
        let mut shell = Shell {
            input,
            output: BufReader::new(output),
        };
        // A first round trip proves the loop works on this host.
        match shell.run("echo ok", b"").await {
            Ok(out) if out.stdout == b"ok\n" => {
                Some(ShellState::Running(Box::new(RunningShell { shell, child })))
            }
            _ => None,
        }
    }

    /// One SSH session per script: the fallback where the persistent shell cannot run.
    async fn exec_channel(&self, script: &str, stdin: &[u8]) -> Result<ExecOutput, TransportError> {
        let err = |message: String| TransportError::Exec {
            host: self.name.clone(),
            message,
        };
        // The exit code travels as a trailer on stderr: ssh's multiplexer would turn a 127
        // ("command not found" from the script) into a transport error and lose the output.
        let command = format!(
            "sh -c {}; printf '{RC_MARK}%d' \"$?\" >&2",
            shell_quote(script)
        );
        let mut child = self
            .session
            .raw_command(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .await
            .map_err(|e| err(error_text(&e)))?;
        let mut input = child.stdin().take();
        // Feed stdin while the output is read, so a script that talks first never deadlocks.
        let feed = async {
            if let Some(pipe) = input.as_mut() {
                // A script may exit without reading all of its input; that is not our error.
                let _ = pipe.write_all(stdin).await;
                let _ = pipe.shutdown().await;
            }
            drop(input);
        };
        let (_, output) = tokio::join!(feed, child.wait_with_output());
        let output = output.map_err(|e| err(error_text(&e)))?;
        let (code, stderr) = split_exit_code(output.stderr);
        Ok(ExecOutput {
            code: code.or(output.status.code()),
            stdout: output.stdout,
            stderr,
        })
    }
}

impl Transport for SshTransport {
    async fn exec(&self, script: &str, stdin: &[u8]) -> Result<ExecOutput, TransportError> {
        let mut state = self.shell.lock().await;
        if matches!(*state, ShellState::NotStarted) {
            *state = self.start_shell().await.unwrap_or(ShellState::Unavailable);
        }
        match &mut *state {
            ShellState::Running(running) => match running.shell.run(script, stdin).await {
                Ok(out) => Ok(out),
                Err(e) => {
                    // The script may have run in part: report, never re-run it.
                    *state = ShellState::Unavailable;
                    Err(TransportError::Exec {
                        host: self.name.clone(),
                        message: e.to_string(),
                    })
                }
            },
            _ => self.exec_channel(script, stdin).await,
        }
    }

    async fn exec_streaming(
        &self,
        script: &str,
        stdin: &[u8],
        on_line: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<ExecOutput, TransportError> {
        let mut state = self.shell.lock().await;
        if matches!(*state, ShellState::NotStarted) {
            *state = self.start_shell().await.unwrap_or(ShellState::Unavailable);
        }
        let ShellState::Running(running) = &mut *state else {
            drop(state);
            // No persistent shell: the lines come at the end.
            let out = self.exec_channel(script, stdin).await?;
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                on_line(line);
            }
            return Ok(out);
        };
        match running.shell.run_streaming(script, stdin, on_line).await {
            Ok(out) => Ok(out),
            Err(e) => {
                // The script may have run in part: report, never re-run it.
                *state = ShellState::Unavailable;
                Err(TransportError::Exec {
                    host: self.name.clone(),
                    message: e.to_string(),
                })
            }
        }
    }

    async fn close(self) -> Result<(), TransportError> {
        let host = self.name;
        // End the shell's channel first, so the master can close cleanly.
        if let ShellState::Running(running) = self.shell.into_inner() {
            let RunningShell { shell, child } = *running;
            drop(shell);
            let _ = child.wait().await;
        }
        let session = Arc::try_unwrap(self.session).map_err(|_| TransportError::Exec {
            host: host.clone(),
            message: "the connection is still in use".into(),
        })?;
        if self.persistent {
            // Dropping a resumed session leaves its master up for the next run.
            return Ok(());
        }
        session.close().await.map_err(|e| TransportError::Exec {
            host,
            message: error_text(&e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_follows_ansibles_order() {
        let arg = |kind, words: &str| super::super::SshArgs {
            kind,
            source: "test".into(),
            words: words.split(' ').map(String::from).collect(),
        };
        let t = Target {
            name: "h1".into(),
            address: "198.51.100.11".into(),
            port: Some(2222),
            user: Some("deploy".into()),
            private_key: Some("/k/id".into()),
            connect_timeout: Some(std::time::Duration::from_secs(7)),
            check_host_key: false,
            ssh_args: vec![
                arg(SshArgsKind::Extra, "-o ServerAliveInterval=5"),
                arg(SshArgsKind::Common, "-F cfg -J jump"),
                arg(SshArgsKind::Base, "-C"),
            ],
            ..Target::default()
        };
        assert_eq!(
            command(&t).join(" "),
            "-C -o StrictHostKeyChecking=no -o Port=2222 -o IdentityFile=\"/k/id\" \
             -o User=\"deploy\" -o ConnectTimeout=7 -F cfg -J jump -o ServerAliveInterval=5 \
             -- 198.51.100.11"
        );
        let checked = Target {
            check_host_key: true,
            ssh_args: Vec::new(),
            port: None,
            user: None,
            private_key: None,
            ..t
        };
        assert_eq!(
            command(&checked).join(" "),
            "-o ConnectTimeout=7 -- 198.51.100.11"
        );
    }

    #[test]
    fn exit_code_trailer() {
        let raw = b"oops\n\x1ehactl-rc=127".to_vec();
        assert_eq!(split_exit_code(raw), (Some(127), b"oops\n".to_vec()));
        assert_eq!(
            split_exit_code(b"plain".to_vec()),
            (None, b"plain".to_vec())
        );
    }
}
