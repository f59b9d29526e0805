//! The running agent's status: what each instance reports, the Unix socket that serves it as
//! JSON, and the client and text rendering behind `hactl-agent status`, `drain` and `undrain`.
//!
//! The protocol is one request and one JSON reply per connection. The client writes one line
//! and closes its sending side: `status` (or nothing at all: clients of older agents just
//! read) gets [`AgentStatus`]; `drain NAME|all` and `undrain NAME|all` get a
//! [`ControlReply`]. Instance tasks own their [`InstanceStatus`] and update it in place; the
//! server only snapshots, and hands drain requests to the daemon ([`Control`]). It does not
//! own any VRRP behaviour.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

pub use crate::fsm::State;
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
    #[error("{0}")]
    Refused(String),
}

/// Longest wait for a request line: a client of an older agent sends none and just reads.
const REQUEST_WAIT: Duration = Duration::from_millis(500);

/// Longest wait for the daemon to carry out a drain or undrain.
const CONTROL_WAIT: Duration = Duration::from_secs(10);

/// Which instances a drain or undrain is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every instance.
    All,
    /// One instance by name (its whole sync group, if it is in one).
    Instance(String),
}

impl Selector {
    /// `all` or an instance name.
    pub fn parse(word: &str) -> Self {
        if word == "all" {
            Selector::All
        } else {
            Selector::Instance(word.to_owned())
        }
    }

    fn word(&self) -> &str {
        match self {
            Selector::All => "all",
            Selector::Instance(name) => name,
        }
    }
}

/// One request on the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Status,
    Drain(Selector),
    Undrain(Selector),
}

impl Request {
    /// The request line (without its newline).
    pub fn line(&self) -> String {
        match self {
            Request::Status => "status".to_owned(),
            Request::Drain(s) => format!("drain {}", s.word()),
            Request::Undrain(s) => format!("undrain {}", s.word()),
        }
    }

    /// Reads a request line; an empty one is `status`.
    pub fn parse(line: &str) -> Result<Self, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] | ["status"] => Ok(Request::Status),
            ["drain", who] => Ok(Request::Drain(Selector::parse(who))),
            ["undrain", who] => Ok(Request::Undrain(Selector::parse(who))),
            _ => Err(format!(
                "unknown request '{}': expected status, drain NAME|all or undrain NAME|all",
                line.trim()
            )),
        }
    }
}

/// A drain or undrain for the daemon to carry out; it answers on `reply`.
#[derive(Debug)]
pub struct Control {
    /// true: drain, false: undrain.
    pub drain: bool,
    pub target: Selector,
    pub reply: oneshot::Sender<ControlReply>,
}

/// The daemon's answer to a drain or undrain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlReply {
    /// The instances now drained (or undrained), in config order; a sync group's members all.
    pub instances: Vec<String>,
    /// Why nothing was done.
    pub error: Option<String>,
}

/// The whole agent, as served on the socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub pid: u32,
    pub config: String,
    pub instances: Vec<InstanceStatus>,
}

/// A tracked `vrrp_script` and its latest result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptStatus {
    pub name: String,
    /// true: the last run succeeded (after rise/fall); None: no result yet.
    pub ok: Option<bool>,
}

/// One VRRP instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    /// INIT, BACKUP, MASTER or FAULT.
    pub state: State,
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
    /// Drained by `hactl-agent drain`: stays BACKUP until undrained. Absent in replies of
    /// older agents.
    #[serde(default)]
    pub drained: bool,
}

/// A state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: State,
    pub to: State,
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
    /// The counters below are absent in replies of older agents.
    /// Adverts sent with priority 0 (leaving MASTER at stop, fault or drain).
    #[serde(default)]
    pub priority_zero_sent: u64,
    /// Adverts received with priority 0 (a master leaving).
    #[serde(default)]
    pub priority_zero_received: u64,
    /// Times it left MASTER.
    #[serde(default)]
    pub released_master: u64,
    /// State changes, every one (also to INIT at stop).
    #[serde(default)]
    pub transitions: u64,
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
            state: State::Init,
            base_priority: priority,
            effective_priority: priority,
            master: None,
            vips: Vec::new(),
            last_transition: None,
            counters: Counters::new(),
            error: None,
            drained: false,
        }
    }

    /// Records a state change now.
    pub fn transition(&mut self, to: State, reason: &str) {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.last_transition = Some(Transition {
            from: self.state,
            to,
            reason: reason.to_owned(),
            unix_ms,
        });
        self.counters.transitions += 1;
        if self.state == State::Master && to != State::Master {
            self.counters.released_master += 1;
        }
        self.state = to;
    }
}

/// One instance's status, shared between its task and the server.
pub type Shared = Arc<Mutex<InstanceStatus>>;

/// Locks a status even if a panicking holder poisoned it: the data is plain counters.
pub fn lock(s: &Shared) -> MutexGuard<'_, InstanceStatus> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A tracked script's result as its runner publishes it.
pub type ScriptResult = tokio::sync::watch::Receiver<Option<bool>>;

/// The instances the server reports, in config order, and the scripts they track; both
/// replaced on reload.
#[derive(Debug, Default)]
pub struct Board {
    pub config: String,
    pub instances: Mutex<Vec<Shared>>,
    pub scripts: Mutex<Vec<(String, ScriptResult)>>,
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

    /// The tracked scripts' latest results, by name.
    pub fn scripts(&self) -> Vec<ScriptStatus> {
        self.scripts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(name, rx)| ScriptStatus {
                name: name.clone(),
                ok: *rx.borrow(),
            })
            .collect()
    }

    /// Replaces the tracked scripts (dropping the old receivers lets retired runners stop).
    pub fn set_scripts(&self, scripts: Vec<(String, ScriptResult)>) {
        *self
            .scripts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = scripts;
    }

    pub fn set(&self, list: Vec<Shared>) {
        *self
            .instances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = list;
    }
}

/// Binds the socket (replacing a stale one) and serves requests until the task is dropped;
/// drains and undrains go to `control`.
pub fn serve(
    path: &Path,
    board: Arc<Board>,
    control: mpsc::Sender<Control>,
) -> Result<tokio::task::JoinHandle<()>, StatusError> {
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
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            // A client that does not write or read must not hold up the next one.
            tokio::spawn(answer(conn, board.clone(), control.clone()));
        }
    }))
}

/// Reads one request from `conn` and writes its reply.
async fn answer(mut conn: UnixStream, board: Arc<Board>, control: mpsc::Sender<Control>) {
    let line = read_request(&mut conn).await;
    let mut body = match Request::parse(&line) {
        Ok(Request::Status) => serde_json::to_vec(&board.snapshot()),
        Ok(Request::Drain(target)) => serde_json::to_vec(&ask(&control, true, target).await),
        Ok(Request::Undrain(target)) => serde_json::to_vec(&ask(&control, false, target).await),
        Err(error) => serde_json::to_vec(&ControlReply {
            instances: Vec::new(),
            error: Some(error),
        }),
    }
    .unwrap_or_default();
    body.push(b'\n');
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.write_all(&body)).await;
}

/// The request line: up to a newline or the end of the client's sending side; nothing after
/// [`REQUEST_WAIT`] (a client that only reads).
async fn read_request(conn: &mut UnixStream) -> String {
    let mut line = Vec::new();
    let read = async {
        let mut buf = [0u8; 256];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    line.extend_from_slice(&buf[..n]);
                    if line.contains(&b'\n') || line.len() > 4096 {
                        break;
                    }
                }
            }
        }
    };
    let _ = tokio::time::timeout(REQUEST_WAIT, read).await;
    let text = String::from_utf8_lossy(&line);
    text.lines().next().unwrap_or_default().to_owned()
}

async fn ask(control: &mpsc::Sender<Control>, drain: bool, target: Selector) -> ControlReply {
    let (reply, answer) = oneshot::channel();
    let failed = |e: &str| ControlReply {
        instances: Vec::new(),
        error: Some(e.to_owned()),
    };
    if control
        .send(Control {
            drain,
            target,
            reply,
        })
        .await
        .is_err()
    {
        return failed("the agent is stopping");
    }
    match tokio::time::timeout(CONTROL_WAIT, answer).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => failed("the agent is stopping"),
        Err(_) => failed("the agent did not answer in time"),
    }
}

/// Sends `request` and reads the whole reply.
fn exchange(path: &Path, request: &Request) -> Result<Vec<u8>, StatusError> {
    use std::io::Write as _;
    let io = |source| StatusError::Io {
        path: path.to_owned(),
        source,
    };
    let mut conn = std::os::unix::net::UnixStream::connect(path).map_err(io)?;
    conn.set_read_timeout(Some(CONTROL_WAIT + Duration::from_secs(5)))
        .map_err(io)?;
    let sent = conn
        .write_all(format!("{}\n", request.line()).as_bytes())
        .and_then(|()| conn.shutdown(std::net::Shutdown::Write));
    // An older agent writes its status without reading a request and closes: the write may
    // fail, and closing on our unread request resets the connection after its reply. For
    // a status request that reply is all we need.
    if let Err(e) = sent {
        if *request != Request::Status {
            return Err(io(e));
        }
    }
    let mut body = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !body.is_empty() => break,
            Err(e) => return Err(io(e)),
        }
    }
    Ok(body)
}

/// Asks a running agent for its status.
pub fn query(path: &Path) -> Result<AgentStatus, StatusError> {
    let body = exchange(path, &Request::Status)?;
    serde_json::from_slice(&body).map_err(|source| StatusError::Json {
        path: path.to_owned(),
        source,
    })
}

/// Asks a running agent to drain (or undrain) instances; the names it did, or its refusal.
pub fn control(path: &Path, drain: bool, target: Selector) -> Result<Vec<String>, StatusError> {
    let request = if drain {
        Request::Drain(target)
    } else {
        Request::Undrain(target)
    };
    let body = exchange(path, &request)?;
    let reply: ControlReply =
        serde_json::from_slice(&body).map_err(|source| StatusError::Json {
            path: path.to_owned(),
            source,
        })?;
    match reply.error {
        Some(e) => Err(StatusError::Refused(e)),
        None => Ok(reply.instances),
    }
}

/// The text form of `hactl-agent status`: one block per instance. `now_ms` is the wall
/// clock, so "ago" stays testable.
pub fn render(status: &AgentStatus, now_ms: u64) -> String {
    let mut out = format!("hactl-agent pid {} config {}\n", status.pid, status.config);
    for i in &status.instances {
        out += &format!(
            "{} (vrid {}, {}): {}{} priority {} (base {}) master {}\n",
            i.name,
            i.vrid,
            i.interface,
            i.state,
            if i.drained { " [drained]" } else { "" },
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
        if i.drained {
            out += &format!(
                "  drained: stays BACKUP until `hactl-agent undrain {}`\n",
                i.name
            );
        }
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
        i.state = State::Backup;
        i.last_transition = Some(Transition {
            from: State::Backup,
            to: State::Master,
            reason: "master_down".into(),
            unix_ms: 1_000,
        });
        i.state = State::Master;
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
        let (control, _rx) = mpsc::channel(1);
        let server = serve(&path, board, control).expect("serve");
        let p = path.clone();
        let got = tokio::task::spawn_blocking(move || query(&p))
            .await
            .expect("join")
            .expect("query");
        server.abort();
        assert_eq!(got.instances[0].name, "VI_1");
        assert_eq!(got.instances[0].state, State::Init);
        assert_eq!(got.pid, std::process::id());
    }

    /// A client that sends nothing (as clients of older agents did) still gets the status;
    /// a drain goes to the daemon and its answer comes back.
    #[tokio::test]
    async fn silent_clients_get_status_and_drains_reach_the_daemon() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.sock");
        let board = Arc::new(Board {
            config: "c".into(),
            ..Board::default()
        });
        let (control, mut rx) = mpsc::channel(1);
        let server = serve(&path, board, control).expect("serve");
        let daemon = tokio::spawn(async move {
            let c: Control = rx.recv().await.expect("a request");
            let reply = if c.target == Selector::Instance("VI_1".into()) && c.drain {
                ControlReply {
                    instances: vec!["VI_1".into()],
                    error: None,
                }
            } else {
                ControlReply::default()
            };
            c.reply.send(reply).expect("reply");
        });
        let p = path.clone();
        let (silent, drained, bad) = tokio::task::spawn_blocking(move || {
            let mut conn = std::os::unix::net::UnixStream::connect(&p).expect("connect");
            let mut body = Vec::new();
            conn.read_to_end(&mut body).expect("read");
            let silent: AgentStatus = serde_json::from_slice(&body).expect("status JSON");
            let drained = super::control(&p, true, Selector::parse("VI_1"));
            let mut conn = std::os::unix::net::UnixStream::connect(&p).expect("connect");
            std::io::Write::write_all(&mut conn, b"reboot now\n").expect("write");
            conn.shutdown(std::net::Shutdown::Write).expect("shutdown");
            let mut body = Vec::new();
            conn.read_to_end(&mut body).expect("read");
            let bad: ControlReply = serde_json::from_slice(&body).expect("reply JSON");
            (silent, drained, bad)
        })
        .await
        .expect("join");
        daemon.await.expect("daemon");
        server.abort();
        assert_eq!(silent.config, "c");
        assert_eq!(drained.expect("drained"), vec!["VI_1".to_owned()]);
        assert!(
            bad.error
                .as_deref()
                .is_some_and(|e| e.contains("unknown request 'reboot now'")),
            "{bad:?}"
        );
    }

    #[test]
    fn drained_instances_are_marked() {
        let mut s = sample();
        s.instances[0].drained = true;
        s.instances[0].state = State::Backup;
        let text = render(&s, 3_500);
        assert!(
            text.contains("VI_1 (vrid 14, eth0): BACKUP [drained] priority 85"),
            "{text}"
        );
        assert!(
            text.contains("  drained: stays BACKUP until `hactl-agent undrain VI_1`\n"),
            "{text}"
        );
    }
}
