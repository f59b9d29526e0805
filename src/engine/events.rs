//! What a run reports, as events handed to an injected [`Sink`]: the terminal or `--json`
//! printer in production, a plain list in tests. The scheduler and the executor never print.

use std::sync::Mutex;

use super::task::TaskResult;

/// What a banner announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    Task,
    Handler,
}

/// One thing that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// `PLAY [name]` (once per batch, as ansible-playbook prints it).
    Play { name: String },
    /// A play whose pattern selected no host that is still in the run.
    NoHosts,
    /// `TASK [name]` or `RUNNING HANDLER [name]`.
    Banner { kind: Banner, name: String },
    /// The per-host results of a task or handler, in host order, once every host is done.
    Results {
        no_log: bool,
        results: Vec<(String, TaskResult)>,
    },
    /// One host is done with a task (or handler): sent as each host finishes, before the
    /// task's [`Event::Results`].
    HostDone { host: String, result: TaskResult },
    /// A host that could not be reached (or whose connection broke).
    Unreachable { host: String, msg: String },
    /// `included: FILE for HOSTS`.
    Included {
        file: String,
        hosts: Vec<String>,
        item: Option<serde_json::Value>,
    },
    /// A handler an earlier run left pending on a host is notified again.
    Pending { host: String, name: String },
    /// `FAILED - RETRYING: [host]: task (N retries left).`
    Retrying {
        host: String,
        task: String,
        left: u32,
    },
    /// An `async` job's progress while the controller polls it.
    Async {
        host: String,
        progress: crate::modules::async_job::Progress,
    },
    /// `NO MORE HOSTS LEFT`.
    NoMoreHosts,
    /// A warning about the run (printed on stderr as `[WARNING]: ...`).
    Warning(String),
}

/// Where events go.
pub trait Sink: Send + Sync {
    fn event(&self, event: Event);
}

/// A sink that keeps every event, for tests and for callers that print afterwards.
#[derive(Debug, Default)]
pub struct Collect(pub Mutex<Vec<Event>>);

impl Collect {
    pub fn take(&self) -> Vec<Event> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

impl Sink for Collect {
    fn event(&self, event: Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event);
        }
    }
}
