//! The daemon behind `hactl-agent run`: reads keepalived.conf, runs one task per VRRP
//! instance, serves status, and handles signals.
//!
//! - SIGTERM/SIGINT: every instance leaves gracefully (priority 0 advert when master, VIPs
//!   removed, notify STOP), then the daemon exits.
//! - SIGHUP: the config is read again. Instances whose spec did not change keep running
//!   untouched (a master stays master); changed ones are stopped and restarted, removed ones
//!   stopped, new ones started. A config that does not parse is logged and ignored.
//! - Drain and undrain (from the status socket, `hactl-agent drain NAME|all`): the named
//!   instance (with its whole sync group) or all leave MASTER as at a graceful stop and stay
//!   BACKUP until undrained, while the daemon keeps running. The daemon remembers the drained
//!   names, so an instance that a SIGHUP restarts (or adds back) starts drained.
//! - At start every instance first removes addresses equal to its own VIPs (and excluded
//!   addresses), which a crashed run may have left behind (and nothing else).
//! - `static_ipaddress`/`static_routes`/`static_rules` are set before any instance starts,
//!   brought in line with the config at SIGHUP and removed at stop ([`statics`]). An
//!   instance's `virtual_routes`/`virtual_rules` come and go with its VIPs. Only what this run
//!   added is ever removed.
//!
//! Each instance runs as a task of its own; the members of a `vrrp_sync_group` share one task,
//! so that they change state together as keepalived syncs them ([`crate::fsm::Group`]).
//! The VRRP decisions are the state machines'; the translation from config is [`spec`];
//! tracked objects are shared through [`tracking`].

pub mod instance;
pub mod spec;
pub mod statics;
pub mod tracking;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{self, ConfigError};
use crate::network::firewall::{Firewall, FirewallError, FirewallSettings};
use crate::network::promote::PromoteSecondaries;
use crate::network::vmac::RpFilter;
use crate::network::{NetError, Netlink};
use crate::notify::fifo::{FifoSpec, NotifyFifos};
use crate::status::{self, Board, ControlReply, InstanceStatus, Selector, StatusError};
use instance::{Command, StartOptions};
use spec::{InstanceSpec, SpecError, StaticSpec, UnitSpec};
use statics::Statics;
use tracking::Tracking;

/// Longest wait for instances to leave at shutdown or reload.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// What `hactl-agent run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub config: PathBuf,
    pub socket: PathBuf,
    /// Where to serve Prometheus metrics, if anywhere.
    pub metrics: Option<std::net::SocketAddr>,
}

/// Why the daemon could not start (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{}", render_config_error(.0))]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("notify FIFO: {0}")]
    Fifo(#[from] crate::track::TrackError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("no_accept/strict mode drop rules: {0}")]
    Firewall(#[from] FirewallError),
    #[error(transparent)]
    Status(#[from] StatusError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    #[error("signal handler: {0}")]
    Signal(#[source] std::io::Error),
    #[error("tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

fn render_config_error(e: &ConfigError) -> String {
    match e {
        ConfigError::Invalid { diagnostics } => diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

/// Runs the daemon on its own single-threaded tokio runtime until SIGTERM/SIGINT.
pub fn run_blocking(options: &RunOptions) -> Result<(), RunError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    rt.block_on(run(options))
}

/// A running unit: an instance, or the members of a sync group.
struct Running {
    unit: UnitSpec,
    statuses: Vec<status::Shared>,
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

fn all_statuses(running: &[Running]) -> Vec<status::Shared> {
    running
        .iter()
        .flat_map(|r| r.statuses.iter().cloned())
        .collect()
}

fn all_specs(units: &[UnitSpec]) -> Vec<InstanceSpec> {
    units
        .iter()
        .flat_map(|u| u.members.iter().cloned())
        .collect()
}

/// The daemon: runs until SIGTERM/SIGINT.
pub async fn run(options: &RunOptions) -> Result<(), RunError> {
    let mut term = signal(SignalKind::terminate()).map_err(RunError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(RunError::Signal)?;
    let mut hup = signal(SignalKind::hangup()).map_err(RunError::Signal)?;
    let Loaded {
        units,
        statics: static_spec,
        fifos: fifo_specs,
        firewall: firewall_settings,
    } = load(&options.config)?;
    let netlink = Netlink::connect()?;
    let firewall = Arc::new(Firewall::new(firewall_settings));
    // Created up front (keepalived waits for the first MASTER; an empty set drops nothing)
    // so that a host without nft fails here rather than when it becomes MASTER.
    if needs_firewall(&units) {
        firewall.ensure().await?;
    }
    // keepalived opens its FIFOs (and starts their scripts) before any instance runs.
    let fifos = NotifyFifos::default();
    fifos.apply(&fifo_specs);
    // keepalived sets the static entries before it starts any instance.
    let mut statics = Statics::new(netlink.clone());
    statics.apply(&static_spec).await;
    let mut tracking = Tracking::start()?;
    let mut static_deletions = tracking.deletions();
    tracking.update(&all_specs(&units), &netlink).await;
    let board = Arc::new(Board {
        config: options.config.display().to_string(),
        instances: Mutex::new(Vec::new()),
        scripts: Mutex::new(tracking.script_results()),
    });
    let metrics = match options.metrics {
        Some(addr) => Some(crate::metrics::serve(addr, board.clone()).await?),
        None => None,
    };
    let (control_tx, mut control_rx) = mpsc::channel(8);
    let server = status::serve(&options.socket, board.clone(), control_tx)?;
    // The drained instances' names: they outlive the tasks a reload replaces.
    let mut drained = BTreeSet::new();
    let shared = HostWide {
        fifos: fifos.clone(),
        firewall: firewall.clone(),
        promote: Mutex::new(PromoteSecondaries::new()),
        rp_filter: Mutex::new(None),
    };
    promote_secondaries(&shared, &units);
    clear_rp_filter(&shared, &units);
    let mut running: Vec<Running> = units
        .into_iter()
        .map(|s| {
            start(
                s,
                &tracking,
                &fifos,
                &firewall,
                StartOptions {
                    cleanup_stale: true,
                    drained: false,
                },
            )
        })
        .collect();
    board.set(all_statuses(&running));
    tracing::info!(config = %options.config.display(), socket = %options.socket.display(),
        units = running.len(), "hactl-agent running");

    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                running = reload(options, running, &mut tracking, &netlink, &mut statics, &mut drained, &shared).await;
                board.set(all_statuses(&running));
                board.set_scripts(tracking.script_results());
            }
            Some(c) = control_rx.recv() => {
                let reply = control(&running, &mut drained, c.drain, &c.target).await;
                let _ = c.reply.send(reply);
            }
            d = instance::next_deletion(&mut static_deletions) => statics.deleted(&d).await,
        }
    }
    tracing::info!("stopping");
    stop_all(running).await;
    if let Err(e) = firewall.remove().await {
        tracing::error!(error = %e, "removing the no_accept table");
    }
    let failed = shared
        .promote
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .restore();
    for (ifname, e) in failed {
        tracing::error!(interface = %ifname, error = %e, "restoring promote_secondaries");
    }
    if let Some(rp) = shared
        .rp_filter
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
    {
        rp.restore();
    }
    fifos.close();
    statics.clear().await;
    server.abort();
    if let Some(m) = metrics {
        m.abort();
    }
    let _ = std::fs::remove_file(&options.socket);
    Ok(())
}

/// What every instance task of the daemon shares, beyond the network.
struct HostWide {
    fifos: NotifyFifos,
    firewall: Arc<Firewall>,
    /// The interfaces this run set promote_secondaries on, with their old values.
    promote: Mutex<PromoteSecondaries>,
    /// `all.rp_filter` as found before the first VMAC, to put back at exit.
    rp_filter: Mutex<Option<RpFilter>>,
}

/// keepalived clears all.rp_filter when it makes its first IPv4 VMAC (at start, or at the
/// reload that brings the first one), before that instance runs, and puts it back at exit.
fn clear_rp_filter(shared: &HostWide, units: &[UnitSpec]) {
    let mut saved = shared
        .rp_filter
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let vmac = units
        .iter()
        .flat_map(|u| &u.members)
        .any(|m| m.vmac.is_some());
    if vmac && saved.is_none() {
        *saved = Some(RpFilter::clear());
    }
}

/// keepalived sets promote_secondaries when the instance starts, whatever its state, and
/// puts the old value back at exit (a reload that drops the keyword leaves it until then).
fn promote_secondaries(shared: &HostWide, units: &[UnitSpec]) {
    let mut promote = shared
        .promote
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for m in units.iter().flat_map(|u| &u.members) {
        if m.promote_secondaries {
            if let Err(e) = promote.enable(&m.ifname) {
                tracing::error!(instance = %m.name, error = %e, "setting promote_secondaries");
            }
        }
    }
}

/// What a config file asks the daemon to run.
struct Loaded {
    units: Vec<UnitSpec>,
    statics: StaticSpec,
    fifos: Vec<FifoSpec>,
    firewall: FirewallSettings,
}

/// Whether an instance runs in no accept mode (and so needs the drop rules).
fn needs_firewall(units: &[UnitSpec]) -> bool {
    units
        .iter()
        .flat_map(|u| &u.members)
        .any(|m| m.no_accept || m.vmac.is_some())
}

fn load(path: &Path) -> Result<Loaded, RunError> {
    let parsed = config::parse_file(path)?;
    for w in &parsed.warnings {
        tracing::warn!("{w}");
    }
    Ok(Loaded {
        units: spec::units(&parsed.config)?,
        statics: spec::statics(&parsed.config),
        fifos: spec::fifos(&parsed.config)?,
        firewall: FirewallSettings {
            priority: parsed.config.global.nftables_priority,
            counters: parsed.config.global.nftables_counters,
            ifindex: parsed.config.global.nftables_ifindex,
        },
    })
}

fn start(
    unit: UnitSpec,
    tracking: &Tracking,
    fifos: &NotifyFifos,
    firewall: &Arc<Firewall>,
    options: StartOptions,
) -> Running {
    let statuses: Vec<status::Shared> = unit
        .members
        .iter()
        .map(|spec| {
            let mut initial =
                InstanceStatus::new(&spec.name, &spec.ifname, spec.vrid, spec.params.priority);
            initial.vips = spec
                .vips
                .iter()
                .map(|v| format!("{}/{}", v.addr, v.prefix))
                .collect();
            Arc::new(Mutex::new(initial))
        })
        .collect();
    let (commands, rx) = mpsc::channel(4);
    let inputs = unit.members.iter().map(|s| tracking.inputs(s)).collect();
    let deletions = tracking.deletions();
    let (u, st, fifos, firewall) = (
        unit.clone(),
        statuses.clone(),
        fifos.clone(),
        firewall.clone(),
    );
    let task = tokio::spawn(async move {
        let name = u
            .members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(",");
        // Each task gets its own netlink socket: the kernel refuses (EBUSY) a second
        // address dump on a socket while one is in progress.
        let result = match Netlink::connect() {
            Ok(netlink) => {
                instance::run(
                    u,
                    inputs,
                    deletions,
                    st,
                    instance::Host {
                        stack: crate::network::Kernel {
                            netlink,
                            firewall: firewall.clone(),
                        },
                        fifos,
                        firewall,
                    },
                    rx,
                    options,
                )
                .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::error!(instance = %name, error = %e, "instance cannot run");
        }
    });
    Running {
        unit,
        statuses,
        commands,
        task,
    }
}

/// Drains (or undrains) the selected units and waits until each has done so.
async fn control(
    running: &[Running],
    drained: &mut BTreeSet<String>,
    drain: bool,
    target: &Selector,
) -> ControlReply {
    let selected: Vec<&Running> = match target {
        Selector::All => running.iter().collect(),
        Selector::Instance(name) => running
            .iter()
            .filter(|r| r.unit.members.iter().any(|m| &m.name == name))
            .collect(),
    };
    if let (Selector::Instance(name), []) = (target, selected.as_slice()) {
        let known: Vec<&str> = running
            .iter()
            .flat_map(|r| r.unit.members.iter().map(|m| m.name.as_str()))
            .collect();
        return ControlReply {
            instances: Vec::new(),
            error: Some(format!(
                "no vrrp_instance '{name}' in the running configuration (instances: {})",
                known.join(", ")
            )),
        };
    }
    let mut instances = Vec::new();
    for r in selected {
        for m in &r.unit.members {
            if drain {
                drained.insert(m.name.clone());
            } else {
                drained.remove(&m.name);
            }
            instances.push(m.name.clone());
        }
        let (done, wait) = tokio::sync::oneshot::channel();
        // An instance that could not start has no task to tell; it is remembered all the
        // same, for when a reload starts it.
        if r.commands
            .send(Command::Drain { drain, done })
            .await
            .is_ok()
            && tokio::time::timeout(STOP_TIMEOUT, wait).await.is_err()
        {
            tracing::warn!(instances = ?r.unit.members.iter().map(|m| &m.name).collect::<Vec<_>>(),
                "instance did not confirm the drain in time");
        }
    }
    ControlReply {
        instances,
        error: None,
    }
}

async fn stop(r: Running) {
    let _ = r.commands.send(Command::Stop).await;
    let mut task = r.task;
    if tokio::time::timeout(STOP_TIMEOUT, &mut task).await.is_err() {
        tracing::warn!(
            instances = r.unit.members.len(),
            "instance did not stop in time"
        );
        task.abort();
    }
}

async fn stop_all(running: Vec<Running>) {
    futures::future::join_all(running.into_iter().map(stop)).await;
}

/// SIGHUP: keeps unchanged instances, restarts changed ones, stops removed ones.
async fn reload(
    options: &RunOptions,
    running: Vec<Running>,
    tracking: &mut Tracking,
    netlink: &Netlink,
    statics: &mut Statics,
    drained: &mut BTreeSet<String>,
    shared: &HostWide,
) -> Vec<Running> {
    let HostWide {
        fifos, firewall, ..
    } = shared;
    let Loaded {
        units,
        statics: static_spec,
        fifos: fifo_specs,
        firewall: firewall_settings,
    } = match load(&options.config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "reload failed; keeping the running configuration");
            return running;
        }
    };
    // Like keepalived, which cannot rename its table at a reload, the rules keep the shape
    // they were created with.
    if firewall_settings != firewall.settings() {
        tracing::warn!(
            "nftables_priority or nftables_counters changed: restart hactl-agent to apply it"
        );
    }
    if needs_firewall(&units) {
        if let Err(e) = firewall.ensure().await {
            tracing::error!(error = %e, "reload failed; keeping the running configuration");
            return running;
        }
    }
    promote_secondaries(shared, &units);
    clear_rp_filter(shared, &units);
    let (mut keep, to_stop): (Vec<Running>, Vec<Running>) =
        running.into_iter().partition(|r| units.contains(&r.unit));
    let (stopped, started) = (to_stop.len(), units.len().saturating_sub(keep.len()));
    // Stop first: a changed instance must give up its VIPs before its successor starts.
    stop_all(to_stop).await;
    fifos.apply(&fifo_specs);
    statics.apply(&static_spec).await;
    tracking.update(&all_specs(&units), netlink).await;
    // Names gone from the config are forgotten; a drained instance drains its whole unit
    // (a sync group drains together).
    let names: BTreeSet<String> = units
        .iter()
        .flat_map(|u| u.members.iter().map(|m| m.name.clone()))
        .collect();
    let forgotten: Vec<String> = drained.difference(&names).cloned().collect();
    if !forgotten.is_empty() {
        tracing::info!(instances = ?forgotten, "drained instances no longer configured; forgotten");
    }
    drained.retain(|n| names.contains(n));
    let mut next = Vec::new();
    for s in units {
        if let Some(i) = keep.iter().position(|r| r.unit == s) {
            next.push(keep.swap_remove(i));
        } else {
            let drain = s.members.iter().any(|m| drained.contains(&m.name));
            if drain {
                drained.extend(s.members.iter().map(|m| m.name.clone()));
            }
            next.push(start(
                s,
                tracking,
                fifos,
                firewall,
                StartOptions {
                    cleanup_stale: false,
                    drained: drain,
                },
            ));
        }
    }
    tracing::info!(
        kept = next.len() - started,
        stopped,
        started,
        "configuration reloaded"
    );
    next
}
