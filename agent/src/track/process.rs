//! `vrrp_track_process`: how many processes of a name run, and whether that is within the
//! quorum, with keepalived 2.2.7's matching (vrrp_track_process.c).
//!
//! keepalived learns about forks, execs and exits from the kernel's proc connector; the agent
//! scans `/proc` every [`SCAN_INTERVAL`] instead (the connector only works in the initial PID
//! namespace, and a scan needs no extra privilege). What is matched is the same:
//! - the process name (`/proc/PID/stat`'s second field, 15 characters at most; zombies do not
//!   count), or with `full_command` (implied by parameters or `param_match`) argv[0] of
//!   `/proc/PID/cmdline`, compared exactly;
//! - with parameters, the rest of the command line: `param_match` (exact, the default) the
//!   same parameters; `partial` these complete parameters first; `initial` these first, the
//!   last one possibly a prefix.
//!
//! The quorum is met while `quorum <= running <= quorum_max`. A change counts once it has
//! lasted `fork_delay` (gained) or `terminate_delay` (lost), as keepalived's timers do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{ParamMatch, TrackProcess};

/// How often `/proc` is scanned.
pub const SCAN_INTERVAL: Duration = Duration::from_millis(200);

/// Whether a command line's parameters (NUL-separated, each followed by its NUL, as after
/// argv[0] in `/proc/PID/cmdline`) match the configured ones.
pub fn params_match(p: &TrackProcess, actual: &[u8]) -> bool {
    let mut want = Vec::new();
    for w in &p.params {
        want.extend_from_slice(w.as_bytes());
        want.push(0);
    }
    match p.param_match {
        ParamMatch::None => true,
        ParamMatch::Exact => actual == want.as_slice(),
        _ if actual.len() < want.len() => false,
        _ if want.is_empty() => true,
        ParamMatch::Partial => actual.starts_with(&want),
        // The last configured parameter without its NUL: it may be a prefix.
        ParamMatch::Initial => actual.starts_with(&want[..want.len() - 1]),
    }
}

/// One process as the scan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcEntry {
    /// `/proc/PID/stat`'s name.
    pub comm: String,
    /// `/proc/PID/cmdline`, raw.
    pub cmdline: Vec<u8>,
}

/// Whether `e` is one of the processes `p` counts.
pub fn matches(p: &TrackProcess, e: &ProcEntry) -> bool {
    if !p.full_command {
        return e.comm == p.process;
    }
    let (argv0, rest) = match e.cmdline.iter().position(|&b| b == 0) {
        Some(i) => (&e.cmdline[..i], &e.cmdline[i + 1..]),
        None => (e.cmdline.as_slice(), &[][..]),
    };
    argv0 == p.process.as_bytes() && params_match(p, rest)
}

/// The live processes under `proc_root` (normally `/proc`); zombies and processes that
/// vanish while being read are left out.
pub fn scan(proc_root: &Path) -> Vec<ProcEntry> {
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let base = proc_root.join(pid);
        let Ok(stat) = std::fs::read(base.join("stat")) else {
            continue;
        };
        // "PID (comm) S ...": comm may itself hold ')' and spaces; the last ')' ends it.
        let (Some(open), Some(close)) = (
            stat.iter().position(|&b| b == b'('),
            stat.iter().rposition(|&b| b == b')'),
        ) else {
            continue;
        };
        if close < open || stat.get(close + 2) == Some(&b'Z') {
            continue;
        }
        let comm = String::from_utf8_lossy(&stat[open + 1..close]).into_owned();
        let cmdline = std::fs::read(base.join("cmdline")).unwrap_or_default();
        out.push(ProcEntry { comm, cmdline });
    }
    out
}

/// How many of `entries` `p` counts, and whether that meets its quorum.
pub fn quorum(p: &TrackProcess, entries: &[ProcEntry]) -> (u32, bool) {
    let n = entries.iter().filter(|e| matches(p, e)).count();
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    (n, p.quorum <= n && n <= p.quorum_max)
}

/// The state of one tracked process with its delays: what counts now.
#[derive(Debug)]
pub struct Debounce {
    up: bool,
    /// The other state was first seen then.
    pending: Option<Instant>,
}

impl Debounce {
    /// Starts at the first scan's result, without delay (keepalived reads `/proc` at start).
    pub fn new(up: bool) -> Self {
        Debounce { up, pending: None }
    }

    /// Feeds a scan's result at `now`; returns the state that counts.
    pub fn feed(&mut self, p: &TrackProcess, seen: bool, now: Instant) -> bool {
        if seen == self.up {
            self.pending = None;
            return self.up;
        }
        let delay = if seen {
            p.fork_delay
        } else {
            p.terminate_delay
        };
        let since = *self.pending.get_or_insert(now);
        if now.duration_since(since) >= delay {
            self.up = seen;
            self.pending = None;
        }
        self.up
    }
}

/// Scans `/proc` (under `proc_root`) until every receiver is gone, publishing whether the
/// quorum is met; `changed` runs on each change.
pub async fn watch(
    p: TrackProcess,
    proc_root: PathBuf,
    tx: watch::Sender<Option<bool>>,
    changed: impl Fn() + Send + 'static,
) {
    let (n, first) = quorum(&p, &scan(&proc_root));
    tracing::info!(track_process = %p.name, running = n, up = first, "track_process started");
    let mut state = Debounce::new(first);
    tx.send_replace(Some(first));
    changed();
    let mut tick = tokio::time::interval(SCAN_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = tx.closed() => return,
        }
        let (n, seen) = quorum(&p, &scan(&proc_root));
        let up = state.feed(&p, seen, Instant::now());
        if tx.send_if_modified(|v| v.replace(up) != Some(up)) {
            tracing::info!(track_process = %p.name, running = n, up, "track_process changed");
            changed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(process: &str, params: &[&str], m: ParamMatch) -> TrackProcess {
        TrackProcess {
            name: "t".into(),
            process: process.into(),
            params: params.iter().map(|s| (*s).to_owned()).collect(),
            param_match: m,
            full_command: !params.is_empty() || m != ParamMatch::None,
            weight: 0,
            weight_reverse: false,
            quorum: 1,
            quorum_max: u32::MAX,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
        }
    }

    fn entry(comm: &str, argv: &[&str]) -> ProcEntry {
        let mut cmdline = Vec::new();
        for a in argv {
            cmdline.extend_from_slice(a.as_bytes());
            cmdline.push(0);
        }
        ProcEntry {
            comm: comm.into(),
            cmdline,
        }
    }

    #[test]
    fn name_or_full_command_and_keepalived_param_matching() {
        let e = entry("nginx", &["/usr/sbin/nginx", "-g", "daemon off;"]);
        assert!(matches(&tp("nginx", &[], ParamMatch::None), &e));
        assert!(!matches(&tp("/usr/sbin/nginx", &[], ParamMatch::None), &e));
        let mut full = tp("/usr/sbin/nginx", &[], ParamMatch::None);
        full.full_command = true;
        assert!(matches(&full, &e));
        // Exact: every parameter, nothing more.
        assert!(matches(
            &tp("/usr/sbin/nginx", &["-g", "daemon off;"], ParamMatch::Exact),
            &e
        ));
        assert!(!matches(
            &tp("/usr/sbin/nginx", &["-g"], ParamMatch::Exact),
            &e
        ));
        // `param_match` without parameters: exactly none.
        assert!(!matches(&tp("/usr/sbin/nginx", &[], ParamMatch::Exact), &e));
        // Partial: complete parameters first.
        assert!(matches(
            &tp("/usr/sbin/nginx", &["-g"], ParamMatch::Partial),
            &e
        ));
        assert!(!matches(
            &tp("/usr/sbin/nginx", &["-g", "daemon"], ParamMatch::Partial),
            &e
        ));
        // Initial: the last may be cut short.
        assert!(matches(
            &tp("/usr/sbin/nginx", &["-g", "daemon"], ParamMatch::Initial),
            &e
        ));
        assert!(!matches(
            &tp("/usr/sbin/nginx", &["-x"], ParamMatch::Initial),
            &e
        ));
    }

    #[test]
    fn quorum_range_and_delays() {
        let mut p = tp("w", &[], ParamMatch::None);
        p.quorum = 2;
        p.quorum_max = 3;
        let list = |n: usize| vec![entry("w", &["w"]); n];
        assert_eq!(quorum(&p, &list(1)), (1, false));
        assert_eq!(quorum(&p, &list(3)), (3, true));
        assert_eq!(quorum(&p, &list(4)), (4, false));
        p.fork_delay = Duration::from_secs(2);
        p.terminate_delay = Duration::from_secs(1);
        let t0 = Instant::now();
        let mut d = Debounce::new(false);
        assert!(!d.feed(&p, true, t0));
        assert!(!d.feed(&p, true, t0 + Duration::from_millis(1999)));
        assert!(d.feed(&p, true, t0 + Duration::from_secs(2)));
        // A loss shorter than terminate_delay does not count.
        assert!(d.feed(&p, false, t0 + Duration::from_secs(3)));
        assert!(d.feed(&p, true, t0 + Duration::from_millis(3500)));
        assert!(d.feed(&p, false, t0 + Duration::from_secs(4)));
        assert!(!d.feed(&p, false, t0 + Duration::from_secs(5)));
    }

    #[test]
    fn scan_sees_this_test_process() {
        let me = scan(Path::new("/proc"));
        let own = std::fs::read("/proc/self/cmdline").expect("cmdline");
        assert!(me.iter().any(|e| e.cmdline == own), "{} entries", me.len());
    }
}
