//! A local stand-in for a host, for module tests: runs a planned script with `sh -c` (dash on
//! Debian, the shell the scripts are written for) in a temp folder, with fake tools first on
//! `PATH`, and feeds what came back to the module's `finish`, as the runner does over SSH.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Outcome, Remote, Step};
use crate::transport::ExecOutput;

/// A temp folder standing for a host: `root` is the working directory of every script,
/// `bin` holds fake tools found before the real ones.
#[derive(Debug)]
pub struct Host {
    dir: tempfile::TempDir,
}

impl Default for Host {
    fn default() -> Host {
        Host::new()
    }
}

impl Host {
    pub fn new() -> Host {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("bin")).expect("bin dir");
        std::fs::create_dir(dir.path().join("root")).expect("root dir");
        Host { dir }
    }

    /// The working directory of the scripts.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// A path under the working directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Where the fake tool `name` records its calls: one argument per line, `--` after each call.
    pub fn log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.argv"))
    }

    /// A fake tool: a shell script with `body`, first on `PATH`.
    pub fn fake(&self, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.dir.path().join("bin").join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write fake tool");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// A fake tool that records its arguments to [`Host::log`] and then runs `body`.
    pub fn recording(&self, name: &str, body: &str) {
        let log = crate::transport::shell_quote(&self.log(name).to_string_lossy());
        self.fake(
            name,
            &format!("for a in \"$@\"; do printf '%s\\n' \"$a\"; done >>{log}\necho '<end>' >>{log}\n{body}"),
        );
    }

    /// The calls a recording tool got, each as its list of arguments.
    pub fn calls(&self, name: &str) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.log(name)).unwrap_or_default();
        let mut calls = Vec::new();
        let mut call = Vec::new();
        for line in text.lines() {
            if line == "<end>" {
                calls.push(std::mem::take(&mut call));
            } else {
                call.push(line.to_string());
            }
        }
        calls
    }

    /// Runs a script as the transport would and returns its raw output.
    pub fn exec(&self, script: &str, stdin: &[u8]) -> ExecOutput {
        use std::io::Write as _;
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into())
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(self.root())
            .env("PATH", path)
            .env("HOME", self.root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let mut input = child.stdin.take().expect("stdin");
        // A script may exit without reading its stdin (nothing to change): ignore EPIPE.
        let _ = input.write_all(stdin);
        drop(input);
        let out = child.wait_with_output().expect("wait sh");
        ExecOutput {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }

    /// Runs a planned remote step and reads its result.
    pub fn run_remote(&self, remote: Remote) -> Outcome {
        let out = self.exec(&remote.script, &remote.stdin);
        (remote.finish)(out)
    }

    /// Runs a planned step (a decided one needs no host).
    pub fn run(&self, step: Step) -> Outcome {
        match step {
            Step::Done(outcome) => outcome,
            Step::Remote(remote) => self.run_remote(remote),
        }
    }
}

/// A JSON object literal as module arguments.
pub fn args(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().cloned().expect("arguments are a map")
}

/// The octal permission bits of a path (without following a symlink).
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::symlink_metadata(path)
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777
}

/// The test host as a connection, for modules that run several scripts through a [`Cx`].
impl super::registry::Exec for Host {
    fn exec_boxed<'a>(
        &'a self,
        script: &'a str,
        stdin: &'a [u8],
    ) -> futures::future::BoxFuture<'a, Result<ExecOutput, crate::transport::TransportError>> {
        let out = self.exec(script, stdin);
        Box::pin(async move { Ok(out) })
    }

    fn exec_streaming_boxed<'a>(
        &'a self,
        script: &'a str,
        stdin: &'a [u8],
        _on_line: &'a (dyn Fn(&str) + Send + Sync),
    ) -> futures::future::BoxFuture<'a, Result<ExecOutput, crate::transport::TransportError>> {
        self.exec_boxed(script, stdin)
    }
}

/// What a [`Cx`](super::registry::Cx) borrows, owned by the test.
pub struct CxParts {
    task: crate::playbook::Task,
    templar: crate::template::Templar,
    vars: minijinja::Value,
    facts: serde_json::Map<String, serde_json::Value>,
    dir: PathBuf,
}

impl std::fmt::Debug for CxParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CxParts").finish_non_exhaustive()
    }
}

impl CxParts {
    pub fn new(module: &str) -> CxParts {
        CxParts {
            task: crate::playbook::Task::adhoc(module, Default::default()),
            templar: crate::template::Templar::new(),
            vars: minijinja::Value::from_pairs(std::iter::empty::<(String, minijinja::Value)>()),
            facts: serde_json::Map::new(),
            dir: std::env::current_dir().unwrap_or_default(),
        }
    }

    /// A context running on `host` with these arguments.
    pub fn cx<'a>(
        &'a self,
        host: &'a Host,
        module: &'a str,
        args: serde_json::Map<String, serde_json::Value>,
        mode: super::Mode,
    ) -> super::registry::Cx<'a> {
        super::registry::Cx {
            module,
            args,
            mode,
            host: "h1",
            facts: &self.facts,
            vars: &self.vars,
            templar: &self.templar,
            task: &self.task,
            role_path: None,
            playbook_dir: &self.dir,
            at: super::registry::Where::Host {
                conn: host,
                become_user: None,
                stream: None,
                env: &[],
            },
            async_job: None,
            on_async: None,
        }
    }
}
