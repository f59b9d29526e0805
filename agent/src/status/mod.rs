//! The running agent's status: what each instance reports, the Unix socket that serves it as
//! JSON, and the client and text rendering behind `hactl-agent status`.
//!
//! The protocol is one JSON document per connection: the server writes [`AgentStatus`] and
//! closes. Instance tasks own their [`InstanceStatus`] and update it in place; the server
//! only snapshots. It does not own any VRRP behaviour.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;

use crate::packet::DropReason;

/// Where the agent listens unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/hactl-agent.sock";

/// Errors of the status socket, naming the socket path.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("status socket {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("status socket {path}: bad reply: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// The whole agent, as served on the socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub pid: u32,
    pub config: String,
    pub instances: Vec<InstanceStatus>,
}

/// One VRRP instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    /// INIT, BACKUP, MASTER or FAULT.
    pub state: String,
    pub base_priority: u8,
    pub effective_priority: u8,
    /// The current master's address: ours while MASTER, the last one heard while BACKUP.
    pub master: Option<String>,
    /// The instance's virtual addresses as `ADDR/PREFIX` (what `hactl status` compares with
    /// the addresses the host holds). Absent in replies of older agents.
    #[serde(default)]
    pub vips: Vec<String>,
    pub last_transition: Option<Transition>,
    pub counters: Counters,
    /// Why the instance is not running, if it stopped on an error.
    pub error: Option<String>,
}

/// A state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub reason: String,
    /// Wall-clock time of the change, milliseconds since the Unix epoch.
    pub unix_ms: u64,
}

/// Per-instance counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub adverts_sent: u64,
    pub adverts_received: u64,
    pub became_master: u64,
    /// Received packets dropped, by [`DropReason::name`]; every reason is listed.
    pub drops: BTreeMap<String, u64>,
}

impl Counters {
    pub fn new() -> Self {
        let drops = DropReason::ALL
            .iter()
            .map(|r| (r.name().to_owned(), 0))
            .collect();
        Counters {
            drops,
            ..Counters::default()
        }
    }

    pub fn drop(&mut self, reason: DropReason) {
        *self.drops.entry(reason.name().to_owned()).or_default() += 1;
    }
}

impl InstanceStatus {
    pub fn new(name: &str, interface: &str, vrid: u8, priority: u8) -> Self {
        InstanceStatus {
            name: name.to_owned(),
            interface: interface.to_owned(),
            vrid,
            state: "INIT".to_owned(),
            base_priority: priority,
            effective_priority: priority,
            master: None,
            vips: Vec::new(),
            last_transition: None,
            counters: Counters::new(),
            error: None,
        }
    }

    /// Records a state change now.
    pub fn transition(&mut self, to: &str, reason: &str) {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.last_transition = Some(Transition {
            from: self.state.clone(),
            to: to.to_owned(),
            reason: reason.to_owned(),
            unix_ms,
        });
        self.state = to.to_owned();
    }
}

/// One instance's status, shared between its task and the server.
pub type Shared = Arc<Mutex<InstanceStatus>>;

/// Locks a status even if a panicking holder poisoned it: the data is plain counters.
pub fn lock(s: &Shared) -> MutexGuard<'_, InstanceStatus> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The instances the server reports, in config order; replaced on reload.
#[derive(Debug, Default)]
pub struct Board {
    pub config: String,
    pub instances: Mutex<Vec<Shared>>,
}

impl Board {
    pub fn snapshot(&self) -> AgentStatus {
        let list = self
            .instances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        AgentStatus {
            pid: std::process::id(),
            config: self.config.clone(),
            instances: list.iter().map(|s| lock(s).clone()).collect(),
        }
    }

    pub fn set(&self, list: Vec<Shared>) {
        *self
            .instances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = list;
    }
}

/// Binds the socket (replacing a stale one) and serves snapshots until the task is dropped.
pub fn serve(path: &Path, board: Arc<Board>) -> Result<tokio::task::JoinHandle<()>, StatusError> {
    let io = |source| StatusError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            let mut body = serde_json::to_vec(&board.snapshot()).unwrap_or_default();
            body.push(b'\n');
            // A client that does not read must not hold up the next one.
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(2), conn.write_all(&body)).await;
            });
        }
    }))
}

/// Asks a running agent for its status.
pub fn query(path: &Path) -> Result<AgentStatus, StatusError> {
    let io = |source| StatusError::Io {
        path: path.to_owned(),
        source,
    };
    let mut conn = std::os::unix::net::UnixStream::connect(path).map_err(io)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(io)?;
    let mut body = Vec::new();
    conn.read_to_end(&mut body).map_err(io)?;
    serde_json::from_slice(&body).map_err(|source| StatusError::Json {
        path: path.to_owned(),
        source,
    })
}

/// The text form of `hactl-agent status`: one block per instance. `now_ms` is the wall
/// clock, so "ago" stays testable.
pub fn render(status: &AgentStatus, now_ms: u64) -> String {
    let mut out = format!("hactl-agent pid {} config {}\n", status.pid, status.config);
    for i in &status.instances {
        out += &format!(
            "{} (vrid {}, {}): {} priority {} (base {}) master {}\n",
            i.name,
            i.vrid,
            i.interface,
            i.state,
            i.effective_priority,
            i.base_priority,
            i.master.as_deref().unwrap_or("-"),
        );
        if let Some(t) = &i.last_transition {
            let ago = now_ms.saturating_sub(t.unix_ms) as f64 / 1000.0;
            out += &format!(
                "  last transition: {} -> {} ({}) {ago:.1} s ago, at unix ms {}\n",
                t.from, t.to, t.reason, t.unix_ms
            );
        }
        let c = &i.counters;
        out += &format!(
            "  adverts sent {} received {}, became master {} times\n",
            c.adverts_sent, c.adverts_received, c.became_master
        );
        let drops: Vec<String> = c
            .drops
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        out += &format!(
            "  drops: {}\n",
            if drops.is_empty() {
                "none".to_owned()
            } else {
                drops.join(", ")
            }
        );
        if let Some(e) = &i.error {
            out += &format!("  error: {e}\n");
        }
    }
    out
}

/// Milliseconds since the Unix epoch, for [`render`].
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AgentStatus {
        let mut i = InstanceStatus::new("VI_1", "eth0", 14, 100);
        i.state = "BACKUP".into();
        i.last_transition = Some(Transition {
            from: "BACKUP".into(),
            to: "MASTER".into(),
            reason: "master_down".into(),
            unix_ms: 1_000,
        });
        i.state = "MASTER".into();
        i.effective_priority = 85;
        i.master = Some("198.51.100.1".into());
        i.counters.adverts_sent = 7;
        i.counters.drop(DropReason::AuthFailure);
        i.counters.drop(DropReason::AuthFailure);
        AgentStatus {
            pid: 42,
            config: "/etc/keepalived/keepalived.conf".into(),
            instances: vec![i],
        }
    }

    #[test]
    fn renders_state_priorities_transition_and_nonzero_drops() {
        let text = render(&sample(), 3_500);
        assert_eq!(
            text,
            "hactl-agent pid 42 config /etc/keepalived/keepalived.conf
VI_1 (vrid 14, eth0): MASTER priority 85 (base 100) master 198.51.100.1
  last transition: BACKUP -> MASTER (master_down) 2.5 s ago, at unix ms 1000
  adverts sent 7 received 0, became master 0 times
  drops: auth_failure 2
"
        );
    }

    #[test]
    fn json_round_trips_and_lists_every_drop_reason() {
        let s = sample();
        let json = serde_json::to_string(&s).expect("serialize");
        let back: AgentStatus = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, s);
        assert_eq!(
            back.instances[0].counters.drops.len(),
            DropReason::ALL.len()
        );
    }

    #[tokio::test]
    async fn socket_serves_a_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.sock");
        let board = Arc::new(Board {
            config: "c".into(),
            ..Board::default()
        });
        board.set(vec![Arc::new(Mutex::new(InstanceStatus::new(
            "VI_1", "eth0", 14, 100,
        )))]);
        let server = serve(&path, board).expect("serve");
        let p = path.clone();
        let got = tokio::task::spawn_blocking(move || query(&p))
            .await
            .expect("join")
            .expect("query");
        server.abort();
        assert_eq!(got.instances[0].name, "VI_1");
        assert_eq!(got.instances[0].state, "INIT");
        assert_eq!(got.pid, std::process::id());
    }
}
