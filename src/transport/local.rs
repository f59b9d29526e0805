//! The local connection (Ansible's `connection: local`): each script runs in `sh -c` as a child
//! of the controller, as the user running hactl, on the controller's machine.
//!
//! A script must not be able to tell it apart from one sent down the persistent shell over ssh
//! (see [`super::shell`]), so the child is set up the way that shell runs a script:
//! - it starts in the user's home, as an ssh login does (`/` if the home is missing, as sshd
//!   falls back), not in the folder hactl was started from;
//! - the login variables an ssh session always has (`HOME`, `USER`, `LOGNAME`, `SHELL`, `PATH`)
//!   are set from the user's passwd entry where the controller's environment lacks them; the
//!   rest of the controller's environment is passed on, as Ansible's local connection does;
//! - its stdin is a file holding all of the input, so the script starts only once its input is
//!   complete, and a script that leaves its input unread cannot stall the controller;
//! - stdout and stderr go to files, so a background process the script leaves running (a
//!   daemon a service script starts) does not hold the task open; streaming reads stdout from
//!   a pipe to its end, as the shell's streaming mode does;
//! - it leads a process group of its own, as sshd makes the shell a session leader. When the
//!   controller gives up on a script (the run's future is dropped on SIGINT/SIGTERM) the group
//!   gets SIGHUP, as the shell's watcher sends when the controller goes away, so `copy` and
//!   `template` remove their temp file and never rename it.
//!
//! One thing the ssh shell does that a local child cannot without `unsafe` (a parent-death
//! signal): when hactl itself is SIGKILLed, a local script already running is not stopped and
//! runs to its end. A script whose input was still being written never starts.

use std::ffi::OsString;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::process::Stdio;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, User, geteuid};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use super::{ExecOutput, Target, Transport, TransportError};

/// `PATH` when the controller has none: what Debian's sshd gives a login (root gets the
/// `sbin` folders).
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/games";
const DEFAULT_ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The controller's own machine, reached without ssh.
#[derive(Debug)]
pub struct LocalTransport {
    name: String,
    /// Where every script starts.
    cwd: PathBuf,
    /// Login variables the controller's environment lacks.
    env: Vec<(&'static str, OsString)>,
    /// One script at a time, as on the ssh shell.
    running: Mutex<()>,
}

/// Prepares the local connection for `target` (nothing to open: each script is a new child).
pub fn connect(target: &Target) -> Result<LocalTransport, TransportError> {
    let user = User::from_uid(geteuid()).ok().flatten();
    let has = |key: &str| std::env::var_os(key).is_some_and(|v| !v.is_empty());
    let mut env: Vec<(&'static str, OsString)> = Vec::new();
    if let Some(user) = &user {
        let login: [(&'static str, OsString); 4] = [
            ("HOME", user.dir.clone().into_os_string()),
            ("USER", user.name.clone().into()),
            ("LOGNAME", user.name.clone().into()),
            ("SHELL", user.shell.clone().into_os_string()),
        ];
        env.extend(login.into_iter().filter(|(k, _)| !has(k)));
    }
    if !has("PATH") {
        let path = if geteuid().is_root() {
            DEFAULT_ROOT_PATH
        } else {
            DEFAULT_PATH
        };
        env.push(("PATH", path.into()));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| user.map(|u| u.dir));
    let cwd = home
        .filter(|h| h.is_dir())
        .unwrap_or_else(|| PathBuf::from("/"));
    Ok(LocalTransport {
        name: target.name.clone(),
        cwd,
        env,
        running: Mutex::new(()),
    })
}

/// Sends SIGHUP to a script's process group unless the script was seen to end: the controller
/// stopped waiting for it.
struct HangUp(Option<Pid>);

impl Drop for HangUp {
    fn drop(&mut self) {
        if let Some(group) = self.0 {
            // The leader is not reaped yet (its wait was dropped), so the group id is still
            // this script's and cannot name another process group.
            let _ = killpg(group, Signal::SIGHUP);
        }
    }
}

/// An unnamed temp file (gone when closed, also if hactl is killed).
async fn scratch() -> std::io::Result<tokio::fs::File> {
    let file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(std::io::Error::other)??;
    Ok(tokio::fs::File::from_std(file))
}

/// Everything written to `file` since it was made.
async fn read_back(mut file: tokio::fs::File) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0)).await?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).await?;
    Ok(out)
}

impl LocalTransport {
    async fn run(
        &self,
        script: &str,
        stdin: &[u8],
        on_line: Option<&(dyn Fn(&str) + Send + Sync)>,
    ) -> Result<ExecOutput, TransportError> {
        let err = |e: std::io::Error| TransportError::Exec {
            host: self.name.clone(),
            message: e.to_string(),
        };
        let _turn = self.running.lock().await;
        let mut input = scratch().await.map_err(err)?;
        input.write_all(stdin).await.map_err(err)?;
        input.flush().await.map_err(err)?;
        input.seek(SeekFrom::Start(0)).await.map_err(err)?;
        let input = input.into_std().await;
        let stdout_file = match on_line {
            Some(_) => None,
            None => Some(scratch().await.map_err(err)?),
        };
        let stderr_file = scratch().await.map_err(err)?;
        let stdout = match &stdout_file {
            Some(f) => Stdio::from(f.try_clone().await.map_err(err)?.into_std().await),
            None => Stdio::piped(),
        };
        let stderr = Stdio::from(stderr_file.try_clone().await.map_err(err)?.into_std().await);
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&self.cwd)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .process_group(0)
            .stdin(Stdio::from(input))
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(err)?;
        let mut hangup = HangUp(
            child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .map(Pid::from_raw),
        );
        let mut streamed = Vec::new();
        if let (Some(pipe), Some(on_line)) = (child.stdout.take(), on_line) {
            let mut reader = BufReader::new(pipe);
            loop {
                let mut line = Vec::new();
                if reader.read_until(b'\n', &mut line).await.map_err(err)? == 0 {
                    break;
                }
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                on_line(&String::from_utf8_lossy(text));
                // As the shell's streaming mode: every line comes back ending in a newline.
                streamed.extend_from_slice(text);
                streamed.push(b'\n');
            }
        }
        let status = child.wait().await.map_err(err)?;
        hangup.0 = None;
        let stdout = match stdout_file {
            Some(f) => read_back(f).await.map_err(err)?,
            None => streamed,
        };
        Ok(ExecOutput {
            code: status.code(),
            stdout,
            stderr: read_back(stderr_file).await.map_err(err)?,
        })
    }
}

impl Transport for LocalTransport {
    async fn exec(&self, script: &str, stdin: &[u8]) -> Result<ExecOutput, TransportError> {
        self.run(script, stdin, None).await
    }

    async fn exec_streaming(
        &self,
        script: &str,
        stdin: &[u8],
        on_line: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<ExecOutput, TransportError> {
        self.run(script, stdin, Some(on_line)).await
    }

    async fn close(self) -> Result<(), TransportError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::{Duration, Instant};

    use super::*;

    fn local() -> LocalTransport {
        connect(&Target {
            name: "h1".into(),
            connection: super::super::ConnectionKind::Local,
            ..Target::default()
        })
        .expect("local")
    }

    #[tokio::test]
    async fn stdin_stdout_stderr_and_exit_code() {
        let t = local();
        let out = t
            .exec("cat; echo; echo e >&2; exit 3", b"in")
            .await
            .expect("exec");
        assert_eq!(out.stdout, b"in\n");
        assert_eq!(out.stderr, b"e\n");
        assert_eq!(out.code, Some(3));
        // Input the script never reads stalls nothing; input it reads arrives whole.
        let big = vec![b'x'; 1 << 20];
        assert!(t.exec("true", &big).await.expect("exec").success());
        let out = t.exec("wc -c", &big).await.expect("exec");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1048576");
    }

    #[tokio::test]
    async fn a_script_killed_by_a_signal_has_no_exit_code() {
        let out = local().exec("kill -KILL $$", b"").await.expect("exec");
        assert_eq!(out.code, None);
    }

    #[tokio::test]
    async fn scripts_start_in_the_home() {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_dir())
            .unwrap_or_else(|| PathBuf::from("/"));
        let out = local().exec("pwd -P", b"").await.expect("exec");
        let want = home.canonicalize().expect("home");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            want.display().to_string()
        );
    }

    #[tokio::test]
    async fn a_background_process_does_not_hold_the_script_open() {
        let start = Instant::now();
        let out = local().exec("sleep 3 & echo $!", b"").await.expect("exec");
        assert!(start.elapsed() < Duration::from_secs(2), "{out:?}");
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let _ = std::process::Command::new("kill").arg(&pid).status();
    }

    #[tokio::test]
    async fn streamed_lines_arrive_as_printed() {
        let start = Instant::now();
        let seen = StdMutex::new(Vec::new());
        let on_line = |l: &str| {
            if let Ok(mut s) = seen.lock() {
                s.push((start.elapsed(), l.to_string()));
            }
        };
        let out = local()
            .exec_streaming(
                "echo a; sleep 1; printf b; echo e >&2; exit 4",
                b"",
                &on_line,
            )
            .await
            .expect("exec");
        let seen = seen.into_inner().expect("lines");
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!((seen[0].1.as_str(), seen[1].1.as_str()), ("a", "b"));
        assert!(
            seen[1].0 >= seen[0].0 + Duration::from_millis(800),
            "{seen:?}"
        );
        // As the ssh shell's streaming mode: each line ends in a newline.
        assert_eq!(out.stdout, b"a\nb\n");
        assert_eq!((out.code, out.stderr.as_slice()), (Some(4), &b"e\n"[..]));
    }

    #[tokio::test]
    async fn a_script_the_controller_gives_up_on_gets_sighup() {
        if crate::transport::sighup_ignored() {
            #[allow(clippy::print_stderr)] // the test says why it did not run
            {
                eprintln!(
                    "skipped: this process ignores SIGHUP (nohup), which its children inherit"
                );
            }
            return;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let m = dir.path().to_path_buf();
        let script = format!(
            "cd '{}'; trap 'touch hup; exit 1' HUP; touch started; sleep 5; touch done",
            m.display()
        );
        let t = std::sync::Arc::new(local());
        let task = tokio::spawn({
            let t = t.clone();
            async move { t.exec(&script, b"").await }
        });
        while !m.join("started").exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        task.abort();
        let _ = task.await;
        let start = Instant::now();
        while !m.join("hup").exists() && start.elapsed() < Duration::from_secs(3) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(m.join("hup").exists(), "the script got no SIGHUP");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!m.join("done").exists());
    }
}
