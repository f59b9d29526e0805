//! Getting bytes to and from hosts. A [`Transport`] runs a shell script on one host with bytes
//! on its stdin and returns what came back; everything hactl does on a host (facts, modules,
//! file writes) is built from that one primitive, so a new backend (for example russh, for very
//! large fleets) only has to implement it.
//!
//! Two backends: ssh (the default) and local (Ansible's `connection: local`, the controller's
//! own machine). [`Connection`] is either, chosen by [`Target::connection`].
//!
//! It does not own what the scripts say (`modules`) or how hosts are scheduled (`run`).

mod local;
mod persist;
mod shell;
mod ssh;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

pub use local::LocalTransport;
pub use ssh::SshTransport;

/// What a script printed and how it exited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit code; `None` if the script was killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Which backend reaches a host (`ansible_connection`, the play's `connection`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConnectionKind {
    #[default]
    Ssh,
    /// The controller's own machine: scripts run as children of hactl.
    Local,
}

impl ConnectionKind {
    /// The kind Ansible's connection plugin `name` stands for, if hactl has it. `smart` and
    /// `paramiko` reach the host over ssh as Ansible's ssh plugin does.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
        match name {
            "ssh" | "smart" | "paramiko" | "paramiko_ssh" => Some(Self::Ssh),
            "local" => Some(Self::Local),
            _ => None,
        }
    }
}

/// What to say when a connection name is not one hactl has.
pub const CONNECTIONS_HINT: &str = "hactl connects with ssh (also for smart and paramiko) or local";

/// How to reach one host. Built from the inventory (`ansible_connection`, `ansible_host`,
/// `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`, `ansible_ssh_args`,
/// `ansible_ssh_common_args`, `ansible_ssh_extra_args`), the play, the command line and
/// ansible.cfg.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    /// The inventory name, for messages.
    pub name: String,
    /// The backend; for [`ConnectionKind::Local`] the ssh fields below are not used.
    pub connection: ConnectionKind,
    /// The address to connect to.
    pub address: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub private_key: Option<PathBuf>,
    pub connect_timeout: Option<Duration>,
    /// The user's own ssh arguments (`ssh_args`, `ssh_common_args`, `ssh_extra_args`), passed
    /// to ssh as they are, where Ansible's ssh plugin puts them (see [`ssh`]'s `command`).
    pub ssh_args: Vec<SshArgs>,
    /// Host key checking. On unless the user opts out.
    pub check_host_key: bool,
    /// Keep the master connection up this long after the run, idle, for the next run to
    /// reuse (`ControlPersist`); `None` or zero closes it at the end.
    pub persist: Option<Duration>,
    /// Where persistent masters live (ansible.cfg `control_path_dir`), unless
    /// `HACTL_CONTROL_PATH_DIR` says otherwise.
    pub control_path_dir: Option<PathBuf>,
}

/// Which of Ansible's three ssh argument settings a group of words is: `ssh_args` come before
/// hactl's own options (port, key, user, timeout), common and extra ones after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshArgsKind {
    Base,
    Common,
    Extra,
}

/// One setting's ssh arguments, split as a shell would, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshArgs {
    pub kind: SshArgsKind,
    /// Where the words came from (`--ssh-common-args`, `ansible_ssh_extra_args`, a file and
    /// line of ansible.cfg), for messages.
    pub source: String,
    pub words: Vec<String>,
}

/// ssh's options that take a value (its getopt string), to tell a value from an option.
const SSH_VALUE_FLAGS: &str = "bceilmopBDEFIJLOPQRSwW";
/// ssh's options that take none.
const SSH_PLAIN_FLAGS: &str = "1246afgknqstvxACGKMNTVXYy";

/// Options that would take hactl's master away from it: its control socket (`-S`), master
/// mode (`-M`), control commands (`-O`), log file (`-E`, where hactl reads ssh's errors), and
/// the ones that make ssh print something and exit or forward stdio instead of connecting.
const SSH_REFUSED: &[(char, &str)] = &[
    ('S', "hactl runs its own control socket"),
    ('M', "hactl runs its own control master"),
    ('O', "hactl sends its own control commands"),
    ('E', "hactl reads ssh's errors from its own log file"),
    ('G', "it prints the configuration instead of connecting"),
    ('V', "it prints the version instead of connecting"),
    ('Q', "it prints a query answer instead of connecting"),
    ('W', "it forwards stdio instead of running commands"),
];

impl SshArgs {
    /// Splits `text` as Ansible does (`shlex.split`) and checks each word is an ssh option
    /// hactl can pass. `-F` files must exist.
    pub fn parse(kind: SshArgsKind, text: &str, source: &str) -> Result<SshArgs, String> {
        let words = shlex::split(text).ok_or_else(|| {
            format!("{source}: cannot split '{text}' into words (unbalanced quotes)")
        })?;
        let words: Vec<String> = words
            .into_iter()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        let args = SshArgs {
            kind,
            source: source.to_string(),
            words,
        };
        for (flag, value) in args.options()? {
            if let Some((_, why)) = SSH_REFUSED.iter().find(|(f, _)| *f == flag) {
                return Err(format!(
                    "{source}: the ssh option -{flag} cannot be used: {why}"
                ));
            }
            if flag == 'F' {
                let file = value.unwrap_or_default();
                if !std::path::Path::new(&file).is_file() {
                    return Err(format!(
                        "{source}: the ssh config file '{file}' (-F) does not exist"
                    ));
                }
            }
        }
        Ok(args)
    }

    /// The options, each with its value, as ssh's getopt reads the words.
    pub fn options(&self) -> Result<Vec<(char, Option<String>)>, String> {
        let mut out = Vec::new();
        let mut words = self.words.iter();
        while let Some(w) = words.next() {
            let Some(flags) = w.strip_prefix('-').filter(|f| !f.is_empty()) else {
                return Err(format!(
                    "{}: '{w}' is not an ssh option (ssh would take it for the host)",
                    self.source
                ));
            };
            for (i, c) in flags.char_indices() {
                if SSH_VALUE_FLAGS.contains(c) {
                    let rest = &flags[i + c.len_utf8()..];
                    let value = if rest.is_empty() {
                        words.next().cloned().ok_or_else(|| {
                            format!("{}: ssh option -{c} needs a value", self.source)
                        })?
                    } else {
                        rest.to_string()
                    };
                    out.push((c, Some(value)));
                    break;
                } else if SSH_PLAIN_FLAGS.contains(c) {
                    out.push((c, None));
                } else {
                    return Err(format!("{}: -{c} is not an ssh option", self.source));
                }
            }
        }
        Ok(out)
    }
}

/// A host cannot be reached or the connection broke.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{host}: cannot connect: {message}")]
    Connect { host: String, message: String },
    #[error("{host}: the connection failed while running a command: {message}")]
    Exec { host: String, message: String },
    #[error("{host}: bad ssh option: {message}")]
    Options { host: String, message: String },
}

/// A live connection to one host.
pub trait Transport: Send + Sync {
    /// Runs `script` with `sh -c` on the host, feeding `stdin` to it.
    fn exec(
        &self,
        script: &str,
        stdin: &[u8],
    ) -> impl Future<Output = Result<ExecOutput, TransportError>> + Send;

    /// Like [`Transport::exec`], but hands each stdout line to `on_line` as it arrives. By
    /// default the lines come when the script ends; a transport that can do better overrides.
    fn exec_streaming(
        &self,
        script: &str,
        stdin: &[u8],
        on_line: &(dyn Fn(&str) + Send + Sync),
    ) -> impl Future<Output = Result<ExecOutput, TransportError>> + Send {
        async move {
            let out = self.exec(script, stdin).await?;
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                on_line(line);
            }
            Ok(out)
        }
    }

    /// Closes the connection.
    fn close(self) -> impl Future<Output = Result<(), TransportError>> + Send;
}

/// A live connection over whichever backend the target asked for.
#[derive(Debug)]
pub enum Connection {
    Ssh(SshTransport),
    Local(LocalTransport),
}

/// Connects to `target` with its backend: opens (or reuses) the ssh master, or prepares the
/// local connection.
pub async fn connect(target: &Target) -> Result<Connection, TransportError> {
    match target.connection {
        ConnectionKind::Ssh => ssh::connect(target).await.map(Connection::Ssh),
        ConnectionKind::Local => local::connect(target).map(Connection::Local),
    }
}

impl Transport for Connection {
    async fn exec(&self, script: &str, stdin: &[u8]) -> Result<ExecOutput, TransportError> {
        match self {
            Connection::Ssh(c) => c.exec(script, stdin).await,
            Connection::Local(c) => c.exec(script, stdin).await,
        }
    }

    async fn exec_streaming(
        &self,
        script: &str,
        stdin: &[u8],
        on_line: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<ExecOutput, TransportError> {
        match self {
            Connection::Ssh(c) => c.exec_streaming(script, stdin, on_line).await,
            Connection::Local(c) => c.exec_streaming(script, stdin, on_line).await,
        }
    }

    async fn close(self) -> Result<(), TransportError> {
        match self {
            Connection::Ssh(c) => c.close().await,
            Connection::Local(c) => c.close().await,
        }
    }
}

/// At `-vvv`, prints the script about to run on `host` (as Ansible prints `EXEC`), secrets
/// masked by [`crate::report`].
pub fn trace_script(host: &str, script: &str) {
    if crate::report::verbosity() >= 3 {
        crate::report::out(&format!("<{host}> EXEC sh -c {}", shell_quote(script)));
    }
}

/// Quotes a string for a POSIX shell, as Python's `shlex.quote` does.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r#"'"'"'"#))
    }
}

/// Whether this process ignores SIGHUP (started under `nohup`): an ignored signal stays ignored
/// across exec, and a non-interactive shell cannot trap it, so the hang-up tests cannot observe
/// it. sshd starts sessions with default dispositions; on a host this never applies.
#[cfg(test)]
pub(crate) fn sighup_ignored() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let mask = s
                .lines()
                .find_map(|l| l.strip_prefix("SigIgn:"))?
                .trim()
                .to_string();
            u64::from_str_radix(&mask, 16).ok()
        })
        .is_some_and(|mask| mask & 1 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r#"'it'"'"'s'"#);
    }

    #[test]
    fn ssh_args_are_passed_as_given_and_checked() {
        use SshArgsKind::Common;
        let a = SshArgs::parse(
            Common,
            "-o StrictHostKeyChecking=no -oConnectTimeout=5 -J root@jump -p 2222 -i '/k ey' \
             -o 'ProxyCommand=ssh -W %h:%p bastion' -C -vv",
            "--ssh-common-args",
        )
        .expect("parses");
        assert_eq!(
            a.words,
            [
                "-o",
                "StrictHostKeyChecking=no",
                "-oConnectTimeout=5",
                "-J",
                "root@jump",
                "-p",
                "2222",
                "-i",
                "/k ey",
                "-o",
                "ProxyCommand=ssh -W %h:%p bastion",
                "-C",
                "-vv"
            ]
        );
        let opts = a.options().expect("options");
        assert_eq!(opts[1], ('o', Some("ConnectTimeout=5".into())));
        assert_eq!(opts[2], ('J', Some("root@jump".into())));
        assert_eq!(opts.len(), 9);
        for (bad, want) in [
            ("-S /tmp/sock", "-S cannot be used"),
            ("-o", "-o needs a value"),
            ("-Z", "-Z is not an ssh option"),
            ("host", "'host' is not an ssh option"),
            ("-o 'unbalanced", "unbalanced quotes"),
            (
                "-F /nonexistent/ssh_config",
                "'/nonexistent/ssh_config' (-F) does not exist",
            ),
        ] {
            let err = SshArgs::parse(Common, bad, "ansible_ssh_common_args").expect_err(bad);
            assert!(
                err.starts_with("ansible_ssh_common_args: ") && err.contains(want),
                "{bad}: {err}"
            );
        }
    }
}
