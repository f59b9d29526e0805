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
/// `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`), the play and the command
/// line.
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
    /// Extra ssh options (`-o Key=Value`), from `--ssh-common-args` / `ansible_ssh_common_args`.
    pub ssh_options: Vec<(String, String)>,
    /// Host key checking. On unless the user opts out.
    pub check_host_key: bool,
    /// Keep the master connection up this long after the run, idle, for the next run to
    /// reuse (`ControlPersist`); `None` or zero closes it at the end.
    pub persist: Option<Duration>,
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

/// Parses `--ssh-common-args` (`-o Key=Value`, `-o 'Key Value'`) into options.
pub fn parse_ssh_args(args: &str) -> Result<Vec<(String, String)>, String> {
    let words = crate::playbook::kv::split_args(args).map_err(|e| e.to_string())?;
    let words: Vec<String> = words
        .iter()
        .map(|w| crate::playbook::kv::unquote(w.trim()).to_string())
        .collect();
    let mut out = Vec::new();
    let mut it = words.iter().filter(|w| !w.is_empty());
    while let Some(w) = it.next() {
        let opt = if w == "-o" {
            it.next().ok_or("-o needs an option")?.clone()
        } else if let Some(rest) = w.strip_prefix("-o") {
            rest.to_string()
        } else {
            return Err(format!("only -o options are supported, not '{w}'"));
        };
        let (k, v) = opt
            .split_once('=')
            .or_else(|| opt.split_once(' '))
            .ok_or_else(|| format!("'{opt}' is not Key=Value"))?;
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(out)
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
    fn ssh_args() {
        assert_eq!(
            parse_ssh_args("-o StrictHostKeyChecking=no -oConnectTimeout=5 -o 'ProxyJump bastion'"),
            Ok(vec![
                ("StrictHostKeyChecking".into(), "no".into()),
                ("ConnectTimeout".into(), "5".into()),
                ("ProxyJump".into(), "bastion".into()),
            ])
        );
        assert!(parse_ssh_args("-v").is_err());
    }
}
