//! The daemon's tracked objects, shared by its instances: one runner per `vrrp_script`, one
//! poller per `track_file`, one link monitor for every interface.
//!
//! Each object's latest value sits in a `watch` channel, and every change also bumps one
//! shared counter that instance tasks wait on; an instance then recomputes its effective
//! priority from the current values. Scripts run in their own tasks, so a hung script only
//! delays its own next result, never an advert. A runner stops by itself once no instance
//! holds its receiver, which is how a reload retires scripts it no longer needs while keeping
//! the ones whose definition did not change.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::spec::{InstanceSpec, TrackSpec};
use crate::config::{TrackFileInit, TrackProcess};
use crate::network::route::{Change, Deleted};
use crate::network::{self, Netlink};
use crate::track::{self, ScriptConfig, Tracked};

/// How often a tracked file is read (keepalived uses inotify; polling is simpler and close
/// enough for a maintenance switch).
const FILE_POLL: Duration = Duration::from_millis(500);

type Bump = Arc<watch::Sender<u64>>;

/// The tracked objects of the current configuration.
#[derive(Debug)]
pub struct Tracking {
    bump: Bump,
    links: watch::Receiver<BTreeMap<String, bool>>,
    link_tx: Arc<watch::Sender<BTreeMap<String, bool>>>,
    scripts: HashMap<String, (ScriptConfig, watch::Receiver<Option<bool>>)>,
    files: HashMap<String, (PathBuf, watch::Receiver<i64>)>,
    processes: HashMap<String, (TrackProcess, watch::Receiver<Option<bool>>)>,
    /// Addresses, routes and rules the kernel reports deleted.
    deletions: tokio::sync::broadcast::Sender<Deleted>,
    /// How many times each interface's addresses changed (by ifindex): an instance that
    /// sees its interface's count move lists the addresses again for its advert source.
    addresses: watch::Receiver<BTreeMap<u32, u64>>,
}

impl Tracking {
    /// Starts the link monitor. Must run inside the tokio runtime, in the agent's namespace.
    pub fn start() -> Result<Self, network::NetError> {
        let (bump, _) = watch::channel(0u64);
        let bump = Arc::new(bump);
        let (link_tx, links) = watch::channel(BTreeMap::new());
        let link_tx = Arc::new(link_tx);
        let mut events = network::link::monitor_links()?;
        let (tx, b) = (link_tx.clone(), bump.clone());
        tokio::spawn(async move {
            while let Some(e) = events.recv().await {
                let up = e.up && !e.removed;
                let changed = tx.send_if_modified(|m| m.insert(e.ifname.clone(), up) != Some(up));
                if changed {
                    tracing::info!(interface = %e.ifname, up, "link state changed");
                    b.send_modify(|n| *n += 1);
                }
            }
        });
        let (deletions, _) = tokio::sync::broadcast::channel(256);
        let (address_tx, addresses) = watch::channel(BTreeMap::new());
        let mut changes = network::route::monitor_changes()?;
        let (forward, b) = (deletions.clone(), bump.clone());
        tokio::spawn(async move {
            while let Some(c) = changes.recv().await {
                let ifindex = match &c {
                    Change::AddressAdded { ifindex }
                    | Change::Deleted(Deleted::Address { ifindex, .. }) => Some(*ifindex),
                    Change::Deleted(_) => None,
                };
                if let Some(ifindex) = ifindex {
                    address_tx.send_modify(|m| *m.entry(ifindex).or_default() += 1);
                    b.send_modify(|n| *n += 1);
                }
                if let Change::Deleted(d) = c {
                    // Nobody listening (no instance running yet) is fine.
                    let _ = forward.send(d);
                }
            }
        });
        Ok(Tracking {
            deletions,
            addresses,
            bump,
            links,
            link_tx,
            scripts: HashMap::new(),
            files: HashMap::new(),
            processes: HashMap::new(),
        })
    }

    /// Makes sure every object `specs` track is running, reusing runners whose definition
    /// is unchanged and dropping the rest, and reads the current state of their interfaces.
    pub async fn update(&mut self, specs: &[InstanceSpec], netlink: &Netlink) {
        let mut scripts = HashMap::new();
        let mut files = HashMap::new();
        let mut processes = HashMap::new();
        let mut ifnames = Vec::new();
        for spec in specs {
            ifnames.push(spec.ifname.clone());
            for t in &spec.track {
                match t {
                    TrackSpec::Script { script, .. } => {
                        if scripts.contains_key(&script.name) {
                            continue;
                        }
                        let rx = match self.scripts.remove(&script.name) {
                            Some((old, rx)) if old == *script => rx,
                            _ => start_script(script.clone(), self.bump.clone()),
                        };
                        scripts.insert(script.name.clone(), (script.clone(), rx));
                    }
                    TrackSpec::File {
                        name, path, init, ..
                    } => {
                        if files.contains_key(name) {
                            continue;
                        }
                        let rx = match self.files.remove(name) {
                            Some((old, rx)) if old == *path => rx,
                            _ => start_file(name, path, *init, self.bump.clone()),
                        };
                        files.insert(name.clone(), (path.clone(), rx));
                    }
                    TrackSpec::Interface { name, .. } => ifnames.push(name.clone()),
                    TrackSpec::Process { process, .. } => {
                        if processes.contains_key(&process.name) {
                            continue;
                        }
                        let rx = match self.processes.remove(&process.name) {
                            Some((old, rx)) if old == *process => rx,
                            _ => start_process(process.clone(), self.bump.clone()),
                        };
                        processes.insert(process.name.clone(), (process.clone(), rx));
                    }
                }
            }
        }
        self.scripts = scripts;
        self.files = files;
        self.processes = processes;
        for name in ifnames {
            if self.links.borrow().contains_key(&name) {
                continue;
            }
            let up = match network::ifindex(&name) {
                Ok(index) => netlink.link_state(index).await.is_ok_and(|l| l.up),
                Err(_) => false,
            };
            self.link_tx.send_if_modified(|m| {
                m.entry(name).or_insert(up);
                true
            });
        }
    }

    /// Every running script's result, by name (sorted), for status and metrics.
    pub fn script_results(&self) -> Vec<(String, watch::Receiver<Option<bool>>)> {
        let mut list: Vec<_> = self
            .scripts
            .iter()
            .map(|(name, (_, rx))| (name.clone(), rx.clone()))
            .collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        list
    }

    /// Deletions of addresses, routes and rules from now on.
    pub fn deletions(&self) -> tokio::sync::broadcast::Receiver<Deleted> {
        self.deletions.subscribe()
    }

    /// The inputs of one instance, to be read whenever [`Inputs::changed`] fires.
    pub fn inputs(&self, spec: &InstanceSpec) -> Inputs {
        // keepalived tracks the instance's own interface (down: FAULT) unless
        // `dont_track_primary`.
        let mut items = Vec::new();
        if !spec.dont_track_primary {
            items.push(Input::Interface {
                name: spec.ifname.clone(),
                weight: 0,
                reverse: false,
            });
        }
        for t in &spec.track {
            let item = match t {
                TrackSpec::Script {
                    script,
                    weight,
                    reverse,
                } => self.scripts.get(&script.name).map(|(_, rx)| Input::Script {
                    rx: rx.clone(),
                    weight: *weight,
                    reverse: *reverse,
                }),
                TrackSpec::File {
                    name,
                    weight,
                    reverse,
                    ..
                } => self.files.get(name).map(|(_, rx)| Input::File {
                    rx: rx.clone(),
                    weight: *weight,
                    reverse: *reverse,
                }),
                TrackSpec::Interface {
                    name,
                    weight,
                    reverse,
                } => Some(Input::Interface {
                    name: name.clone(),
                    weight: *weight,
                    reverse: *reverse,
                }),
                // A quorum counts as a script result would (keepalived
                // `process_update_track_process_status`).
                TrackSpec::Process {
                    process,
                    weight,
                    reverse,
                } => self
                    .processes
                    .get(&process.name)
                    .map(|(_, rx)| Input::Script {
                        rx: rx.clone(),
                        weight: *weight,
                        reverse: *reverse,
                    }),
            };
            items.extend(item);
        }
        Inputs {
            items,
            links: self.links.clone(),
            link_tx: Some(self.link_tx.clone()),
            addresses: self.addresses.clone(),
            bump: self.bump.subscribe(),
        }
    }
}

/// One tracked input of an instance with its weight there.
#[derive(Debug)]
enum Input {
    Script {
        rx: watch::Receiver<Option<bool>>,
        weight: i32,
        reverse: bool,
    },
    File {
        rx: watch::Receiver<i64>,
        weight: i32,
        reverse: bool,
    },
    Interface {
        name: String,
        weight: i32,
        reverse: bool,
    },
}

/// What one instance tracks (its own interface first), readable at any time.
#[derive(Debug)]
pub struct Inputs {
    items: Vec<Input>,
    links: watch::Receiver<BTreeMap<String, bool>>,
    /// Where a taken-over VMAC's state goes (the daemon's link map).
    link_tx: Option<Arc<watch::Sender<BTreeMap<String, bool>>>>,
    addresses: watch::Receiver<BTreeMap<u32, u64>>,
    bump: watch::Receiver<u64>,
}

impl Inputs {
    /// Inputs of an instance that tracks only its own interface, whose state `links` gives
    /// and whose address changes `addresses` counts; `bump` wakes the instance (for tests
    /// that run instance tasks without the daemon's trackers).
    #[cfg(test)]
    pub(crate) fn interface_only(
        spec: &InstanceSpec,
        links: watch::Receiver<BTreeMap<String, bool>>,
        addresses: watch::Receiver<BTreeMap<u32, u64>>,
        bump: watch::Receiver<u64>,
    ) -> Self {
        Inputs {
            items: vec![Input::Interface {
                name: spec.ifname.clone(),
                weight: 0,
                reverse: false,
            }],
            links,
            link_tx: None,
            addresses,
            bump,
        }
    }

    /// Tracks the instance's VMAC as keepalived does (down or gone: FAULT). One this run
    /// made: waits up to a second for the link monitor to report it up, so that the instance
    /// does not start in FAULT only because the notification is still on its way. One taken
    /// over (no notification comes): its state at start is recorded.
    pub async fn track_vmac(&mut self, link: &network::VmacLink) {
        let name = link.name.as_str();
        self.items.push(Input::Interface {
            name: name.to_owned(),
            weight: 0,
            reverse: false,
        });
        if link.created {
            let up = |m: &BTreeMap<String, bool>| m.get(name) == Some(&true);
            let _ = tokio::time::timeout(Duration::from_secs(1), self.links.wait_for(up)).await;
        } else if let Some(tx) = &self.link_tx {
            tx.send_if_modified(|m| {
                let new = !m.contains_key(name);
                if new {
                    m.insert(name.to_owned(), link.up);
                }
                new
            });
        }
    }

    /// How many times the addresses of interface `ifindex` changed so far.
    pub fn address_changes(&self, ifindex: u32) -> u64 {
        self.addresses.borrow().get(&ifindex).copied().unwrap_or(0)
    }

    /// The effective priority and fault state from the current values.
    pub fn effective(&self, base: u8) -> track::Effective {
        let links = self.links.borrow();
        let tracked: Vec<Tracked> = self
            .items
            .iter()
            .map(|i| match i {
                Input::Script {
                    rx,
                    weight,
                    reverse,
                } => Tracked::Script {
                    ok: *rx.borrow(),
                    weight: *weight,
                    reverse: *reverse,
                },
                Input::File {
                    rx,
                    weight,
                    reverse,
                } => Tracked::File {
                    value: *rx.borrow(),
                    weight: *weight,
                    reverse: *reverse,
                },
                Input::Interface {
                    name,
                    weight,
                    reverse,
                } => Tracked::Interface {
                    up: links.get(name).copied().unwrap_or(false),
                    weight: *weight,
                    reverse: *reverse,
                },
            })
            .collect();
        track::effective_priority(base, &tracked)
    }

    /// Waits until any tracked object may have changed. Cancel-safe.
    pub async fn changed(&mut self) {
        if self.bump.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Scans `/proc` once now (keepalived knows the processes before its instances start), then
/// keeps scanning in the background.
fn start_process(process: TrackProcess, bump: Bump) -> watch::Receiver<Option<bool>> {
    let proc_root = PathBuf::from("/proc");
    let (_, up) = track::process::quorum(&process, &track::process::scan(&proc_root));
    let (tx, rx) = watch::channel(Some(up));
    tokio::spawn(track::process::watch(process, proc_root, tx, move || {
        bump.send_modify(|n| *n += 1);
    }));
    rx
}

fn start_script(config: ScriptConfig, bump: Bump) -> watch::Receiver<Option<bool>> {
    let initial = config.init_fail.then_some(false);
    let (tx, rx) = watch::channel(initial);
    let (status_tx, mut status_rx) = mpsc::channel(8);
    tokio::spawn(track::script::run_tracker(config, status_tx));
    // Ends when every instance has dropped its receiver; dropping `status_rx` then stops
    // the runner (and kills a script still running).
    tokio::spawn(async move {
        loop {
            tokio::select! {
                s = status_rx.recv() => match s {
                    Some(s) => {
                        tx.send_replace(Some(s.ok));
                        bump.send_modify(|n| *n += 1);
                    }
                    None => return,
                },
                () = tx.closed() => return,
            }
        }
    });
    rx
}

fn start_file(
    name: &str,
    path: &PathBuf,
    init: Option<TrackFileInit>,
    bump: Bump,
) -> watch::Receiver<i64> {
    if let Some(init) = init {
        if init.overwrite || !path.exists() {
            if let Err(e) = std::fs::write(path, format!("{}\n", init.value)) {
                tracing::warn!(file = %path.display(), error = %e, "cannot create track_file");
            }
        }
    }
    let first = track::file::read_value(path).unwrap_or(0);
    let (tx, rx) = watch::channel(first);
    let (value_tx, mut value_rx) = mpsc::channel(8);
    tokio::spawn(track::file::watch(
        name.to_owned(),
        path.clone(),
        FILE_POLL,
        value_tx,
    ));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                v = value_rx.recv() => match v {
                    Some(v) => {
                        if tx.send_if_modified(|old| std::mem::replace(old, v.value) != v.value) {
                            bump.send_modify(|n| *n += 1);
                        }
                    }
                    None => return,
                },
                () = tx.closed() => return,
            }
        }
    });
    rx
}
