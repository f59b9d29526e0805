//! A persistent shell on the host: one SSH channel running a small POSIX `sh` loop that reads
//! framed scripts from stdin and answers with framed results. Opening an SSH session costs a
//! host about 170 ms (sshd forks, PAM and logind register a session); a script sent down an
//! open shell costs a few milliseconds. So a host pays the session cost once per run.
//!
//! Frame, controller to host: `SCRIPT_LEN STDIN_LEN\n`, the script, the stdin bytes.
//! Frame, host to controller: `RC STDOUT_LEN STDERR_LEN\n`, stdout, stderr.
//! Each script runs in its own `sh` with that stdin, so scripts cannot disturb each other.
//! Streaming (`SCRIPT_LEN STDIN_LEN s\n`): each stdout line comes as `O line\n` as soon as the
//! script prints it, then the frame above with an empty stdout.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::ExecOutput;

/// The loop the host runs. `dd ... iflag=fullblock` reads exactly the framed byte counts from
/// the pipe (never past them, unlike `head -c`), and `read` reads the header byte by byte.
///
/// If the controller dies (killed, or its machine lost), the host must not go on acting for it.
/// sshd sends no SIGHUP to a session without a terminal: the loop and its script would run on,
/// and a script cut short could run too. So:
/// - a frame that ends early (dd reports `0+1 records`) is never run: the loop exits;
/// - while a script runs, a watcher reads the channel, which the controller leaves silent until
///   the answer; end of input means the controller is gone, and the watcher sends SIGHUP to the
///   loop's process group (sshd made the loop a session and group leader: with no group of its
///   own, nothing is signalled), as a closing terminal would.
///   Scripts clean up on HUP (`file_put.sh` removes its temp file before any rename). The
///   watcher is killed (SIGKILL: no trap can delay it) before the answer goes out, so it never
///   reads a byte of the next frame;
/// - the loop's folder (`hactl.*` in `$TMPDIR`, holding the script and its stdin) goes on
///   any exit, signals included.
pub const LOOP: &str = include_str!("loop.sh");

fn ended() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the host's shell ended")
}

/// The two ends of the shell's channel.
pub struct Shell<W, R> {
    pub input: W,
    pub output: BufReader<R>,
}

impl<W, R> std::fmt::Debug for Shell<W, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shell")
    }
}

impl<W: tokio::io::AsyncWrite + Unpin, R: tokio::io::AsyncRead + Unpin> Shell<W, R> {
    /// Runs one script with its stdin and returns what it printed and its exit code.
    pub async fn run(&mut self, script: &str, stdin: &[u8]) -> std::io::Result<ExecOutput> {
        self.send(script, stdin, "").await?;
        let mut line = String::new();
        if self.output.read_line(&mut line).await? == 0 {
            return Err(ended());
        }
        self.finish(line, Vec::new()).await
    }

    /// Like [`Shell::run`], but hands each stdout line (without its newline) to `on_line` as
    /// the host prints it. The returned stdout is those lines, each ending in a newline.
    pub async fn run_streaming(
        &mut self,
        script: &str,
        stdin: &[u8],
        on_line: &(dyn Fn(&str) + Send + Sync),
    ) -> std::io::Result<ExecOutput> {
        self.send(script, stdin, " s").await?;
        let mut stdout = Vec::new();
        loop {
            let mut line = Vec::new();
            if self.output.read_until(b'\n', &mut line).await? == 0 {
                return Err(ended());
            }
            match line.strip_prefix(b"O ") {
                Some(text) => {
                    stdout.extend_from_slice(text);
                    let text = text.strip_suffix(b"\n").unwrap_or(text);
                    on_line(&String::from_utf8_lossy(text));
                }
                None => {
                    let header = String::from_utf8_lossy(&line).into_owned();
                    return self.finish(header, stdout).await;
                }
            }
        }
    }

    async fn send(&mut self, script: &str, stdin: &[u8], flag: &str) -> std::io::Result<()> {
        let header = format!("{} {}{flag}\n", script.len(), stdin.len());
        self.input.write_all(header.as_bytes()).await?;
        self.input.write_all(script.as_bytes()).await?;
        self.input.write_all(stdin).await?;
        self.input.flush().await
    }

    /// Reads the rest of a reply after its header `line`; `streamed` is stdout already read.
    async fn finish(&mut self, line: String, streamed: Vec<u8>) -> std::io::Result<ExecOutput> {
        let bad = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("bad frame from the host's shell: {line:?}"),
            )
        };
        let mut parts = line.split_whitespace().map(str::parse::<usize>);
        let (Some(Ok(rc)), Some(Ok(olen)), Some(Ok(elen))) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let mut stdout = vec![0; olen];
        self.output.read_exact(&mut stdout).await?;
        if stdout.is_empty() {
            stdout = streamed;
        }
        let mut stderr = vec![0; elen];
        self.output.read_exact(&mut stderr).await?;
        Ok(ExecOutput {
            code: i32::try_from(rc).ok(),
            stdout,
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn streamed_lines_arrive_before_the_script_ends() {
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", LOOP])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        let mut shell = Shell {
            input: child.stdin.take().expect("stdin"),
            output: BufReader::new(child.stdout.take().expect("stdout")),
        };
        let start = Instant::now();
        let seen = Mutex::new(Vec::new());
        let on_line = |l: &str| {
            if let Ok(mut s) = seen.lock() {
                s.push((start.elapsed(), l.to_string()));
            }
        };
        let out = shell
            .run_streaming(
                "echo a; sleep 1; printf 'b\\\\n'; echo e >&2; exit 3",
                b"",
                &on_line,
            )
            .await
            .expect("run");
        let seen = seen.into_inner().expect("lines");
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!((seen[0].1.as_str(), seen[1].1.as_str()), ("a", "b\\n"));
        assert!(
            seen[1].0 >= seen[0].0 + Duration::from_millis(800),
            "{seen:?}"
        );
        assert_eq!(out.stdout, b"a\nb\\n\n");
        assert_eq!((out.code, out.stderr.as_slice()), (Some(3), &b"e\n"[..]));
        // The plain frame still works on the same shell.
        let out = shell.run("cat", b"x").await.expect("run");
        assert_eq!((out.code, out.stdout.as_slice()), (Some(0), &b"x"[..]));
        drop(shell);
        let _ = child.wait().await;
    }

    /// The loop as sshd starts it: a process group of its own, its staging folder in `tmp`.
    fn spawn_loop(tmp: &std::path::Path) -> tokio::process::Child {
        tokio::process::Command::new("sh")
            .args(["-c", LOOP])
            .env("TMPDIR", tmp)
            .process_group(0)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("sh")
    }

    async fn ends_soon(child: &mut tokio::process::Child) {
        let waited = tokio::time::timeout(Duration::from_secs(3), child.wait()).await;
        assert!(waited.is_ok(), "the loop did not end after its input did");
    }

    fn entries(dir: &std::path::Path) -> Vec<std::ffi::OsString> {
        std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect()
    }

    #[tokio::test]
    async fn a_frame_cut_short_never_runs() {
        let tmp = tempfile::tempdir().expect("tmp");
        let marker = tmp.path().join("ran");
        let mut child = spawn_loop(tmp.path());
        let script = format!("touch '{}'", marker.display());
        let mut input = child.stdin.take().expect("stdin");
        let frame = format!("{} 100\n{script}0123456789", script.len());
        input.write_all(frame.as_bytes()).await.expect("write");
        drop(input);
        ends_soon(&mut child).await;
        assert!(
            !marker.exists(),
            "a script with 10 of its 100 input bytes ran"
        );
        assert_eq!(entries(tmp.path()), Vec::<std::ffi::OsString>::new());
    }

    #[tokio::test]
    async fn a_script_in_flight_stops_when_the_controller_goes() {
        if crate::transport::sighup_ignored() {
            #[allow(clippy::print_stderr)] // the test says why it did not run
            {
                eprintln!(
                    "skipped: this process ignores SIGHUP (nohup), which its children inherit"
                );
            }
            return;
        }
        let tmp = tempfile::tempdir().expect("tmp");
        let m = tmp.path().join("m");
        std::fs::create_dir(&m).expect("markers");
        let mut child = spawn_loop(tmp.path());
        let mut shell = Shell {
            input: child.stdin.take().expect("stdin"),
            output: BufReader::new(child.stdout.take().expect("stdout")),
        };
        // Many quick scripts in a row: the watcher of one never eats the next frame.
        for i in 0..100 {
            let out = shell.run("cat; echo", i.to_string().as_bytes()).await;
            assert_eq!(out.expect("run").stdout, format!("{i}\n").into_bytes());
        }
        let script = format!(
            "cd '{}'; trap 'touch hup; exit 1' HUP; touch started; sleep 5; touch done",
            m.display()
        );
        let Shell { mut input, output } = shell;
        let header = format!("{} 0\n", script.len());
        input.write_all(header.as_bytes()).await.expect("header");
        input.write_all(script.as_bytes()).await.expect("script");
        while !m.join("started").exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(input);
        ends_soon(&mut child).await;
        drop(output);
        assert!(m.join("hup").exists(), "the script got no SIGHUP");
        assert!(!m.join("done").exists());
        std::fs::remove_dir_all(&m).expect("markers");
        assert_eq!(entries(tmp.path()), Vec::<std::ffi::OsString>::new());
    }
}
