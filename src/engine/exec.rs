//! The executor: carries out what the scheduler decides, over each host's transport (or
//! offline, for `hactl render` and `hactl lint`), and feeds the results back. All hosts of a
//! step run at once, up to `--forks`; results come back in host order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use futures::future::join_all;
use minijinja::Value;
use serde_json::{Map, Value as Json};
use tokio::sync::Semaphore;

use super::events::{Event, Sink};
use super::schedule::{self, BatchEnd, Next, Run, Schedule, Stats};
use super::task::{HostVars, On, PlayCx, TaskResult};
use super::walk::{Included, IncludedContent, Tags};
use super::{batches, loops, pending};
use crate::cli::ConnectionArgs;
use crate::inventory::{Inventory, pattern};
use crate::modules::Outcome;
use crate::modules::registry::Rendered;
use crate::playbook::{Item, Play, Playbook, Vars};
use crate::run::context::{self, Facts, Scope};
use crate::template::{PlayInfo, PlayVars, Templar, to_value};
use crate::transport::{self, Connection, Transport};

/// How to run a playbook.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub check: bool,
    pub diff: bool,
    pub limit: Option<String>,
    pub extra_vars: Vars,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub conn: ConnectionArgs,
    pub force_handlers: bool,
    /// Do not lint the keepalived configs before the first task.
    pub skip_lint: bool,
    /// Asked before each task (`--start-at-task`, `--step`); see [`schedule::TaskGate`].
    pub gate: Option<Arc<dyn schedule::TaskGate>>,
    /// Run on exactly these hosts instead of each play's pattern (`hactl run` has selected
    /// them already).
    pub hosts: Option<Vec<String>>,
    /// Where command output goes line by line as it comes (`hactl run`).
    pub stream: Option<Stream>,
    /// Cuts plays into batches and acts around each one (`hactl apply --rolling`).
    pub hook: Option<Hook>,
}

/// Around the batches of a play: `hactl apply --rolling` (src/rolling) cuts a play into
/// per-host batches and drains, checks and undrains around each one. The engine knows
/// nothing about what the hook does; it only asks it for the batches and whether to go on.
pub trait BatchHook: Send + Sync {
    /// The play's batches (hosts in `hosts` only), or `None` for the play's own `serial`.
    fn batches<'a>(
        &'a self,
        play: &'a Play,
        hosts: &'a [String],
    ) -> futures::future::BoxFuture<'a, anyhow::Result<Option<Vec<Vec<String>>>>>;
    /// Before a batch runs; `false` ends the run there (nothing more runs).
    fn before<'a>(
        &'a self,
        play: &'a Play,
        batch: &'a [String],
    ) -> futures::future::BoxFuture<'a, bool>;
    /// After a batch ran; `failed` are its hosts that failed or could not be reached.
    /// `false` ends the run there.
    fn after<'a>(
        &'a self,
        play: &'a Play,
        batch: &'a [String],
        failed: &'a [String],
    ) -> futures::future::BoxFuture<'a, bool>;
}

/// A [`BatchHook`] in [`Options`].
#[derive(Clone)]
pub struct Hook(pub Arc<dyn BatchHook>);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook")
    }
}

/// What receives a line a command printed: (host, line).
pub type OnLine = dyn Fn(&str, &str) + Send + Sync;

/// A callback for the lines commands print.
#[derive(Clone)]
pub struct Stream(pub Arc<OnLine>);

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream")
    }
}

/// Where a run happens.
#[derive(Debug, Clone)]
pub enum Mode {
    /// On the hosts, over their connections.
    Live,
    /// Nowhere: controller modules run, templates are rendered and kept (those whose
    /// destination `keep` accepts), host modules report that they did not run. Facts come
    /// from the given set.
    Offline {
        facts: Facts,
        keep: Option<fn(&str) -> bool>,
    },
}

/// What a run did: per-host stats (inventory order), files rendered offline, and per-host
/// errors (failed tasks) for offline runs.
#[derive(Debug, Default)]
pub struct Outcome2 {
    pub stats: BTreeMap<String, Stats>,
    pub rendered: Vec<Rendered>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Runs every play of `pb` on the hosts its patterns select.
pub async fn run(
    inv: &Inventory,
    pb: &Playbook,
    opts: &Options,
    mode: &Mode,
    sink: &dyn Sink,
) -> anyhow::Result<Outcome2> {
    // Render and lint refuse what apply would refuse (tests/commands_agree.rs).
    check_delegates(inv, pb)?;
    let mut result = Outcome2::default();
    // Hosts that failed or were unreachable take no part in later batches or plays.
    let mut out: BTreeSet<String> = BTreeSet::new();
    let templar = Templar::new();
    // `add_host` and `group_by` change the inventory for the plays (and batches) after them.
    let mut inventory = inv.clone();
    let inv = &mut inventory;
    let fetched = std::sync::Mutex::new(std::collections::HashSet::new());
    let preflight_due = std::sync::atomic::AtomicBool::new(matches!(mode, Mode::Live));
    'plays: for play in &pb.plays {
        let selected = match &opts.hosts {
            Some(hosts) => hosts.clone(),
            None => {
                let selection = pattern::select(&*inv, &play.hosts, opts.limit.as_deref())?;
                for w in &selection.warnings {
                    sink.event(Event::Warning(w.clone()));
                    result.warnings.push(w.clone());
                }
                selection.hosts
            }
        };
        let mut hosts: Vec<String> = selected
            .iter()
            .filter(|h| !out.contains(*h))
            .cloned()
            .collect();
        match play.order.as_str() {
            "reverse_inventory" => hosts.reverse(),
            "sorted" => hosts.sort(),
            "reverse_sorted" => {
                hosts.sort();
                hosts.reverse();
            }
            _ => {}
        }
        // `vars_prompt`: hactl asks nothing; a variable must come with -e, or its default
        // is taken (said once).
        for (name, default) in &play.vars_prompt {
            if opts.extra_vars.contains_key(name) {
                continue;
            }
            match default {
                Some(_) => sink.event(Event::Warning(format!(
                    "vars_prompt '{name}': hactl does not prompt; its default is used \
                     (give -e {name}=... to set it)"
                ))),
                None => anyhow::bail!(
                    "{}: vars_prompt asks for '{name}', which hactl does not prompt for: \
                     give it with -e {name}=...",
                    play.origin
                ),
            }
        }
        if hosts.is_empty() {
            sink.event(Event::Play {
                name: play.name.clone(),
            });
            sink.event(Event::NoHosts);
            continue;
        }
        let cut = match &opts.hook {
            Some(hook) => hook.0.batches(play, &hosts).await?,
            None => None,
        };
        // A rollout drains its first batch before that batch's facts are gathered, so the
        // pre-flight would come after a change: such a playbook is refused up front.
        if cut.is_some() && preflight_due.load(std::sync::atomic::Ordering::SeqCst) {
            super::preflight::before_rollout(pb)?;
        }
        let cut = cut.unwrap_or_else(|| batches::split(&play.serial, &hosts));
        for batch in cut {
            if let Some(hook) = &opts.hook {
                if !hook.0.before(play, &batch).await {
                    break 'plays;
                }
            }
            sink.event(Event::Play {
                name: play.name.clone(),
            });
            let b = Batch {
                inv: &*inv,
                work: std::sync::Mutex::new(inv.clone()),
                pb,
                play,
                opts,
                mode,
                sink,
                templar: &templar,
                fetched: &fetched,
                preflight_due: &preflight_due,
                delegates: tokio::sync::Mutex::new(HashMap::new()),
            };
            let (end, stats, rendered, errors) = b.run(batch.clone()).await?;
            let changed = b.work.into_inner().ok();
            for (h, s) in stats {
                result.stats.entry(h).or_default().add(&s);
            }
            result.rendered.extend(rendered);
            result.errors.extend(errors);
            if let Some(changed) = changed {
                *inv = changed;
            }
            let abort = end.abort;
            if let Some(hook) = &opts.hook {
                let failed: Vec<String> = batch
                    .iter()
                    .filter(|h| end.out.contains(h))
                    .cloned()
                    .collect();
                if !hook.0.after(play, &batch, &failed).await {
                    out.extend(end.out);
                    break 'plays;
                }
            }
            out.extend(end.out);
            if abort {
                break 'plays;
            }
        }
    }
    Ok(result)
}

/// The exit code ansible-playbook gives: 4 if a host was unreachable, 2 if one failed.
pub fn exit_code(stats: &BTreeMap<String, Stats>) -> u8 {
    if stats.values().any(|s| s.unreachable > 0) {
        4
    } else if stats.values().any(|s| s.failed > 0) {
        2
    } else {
        0
    }
}

/// Hosts that included the same thing: the file (or role) as announced, the loop item, and
/// what they walk.
type IncludeGroup<'a> = (String, Option<Json>, Included<'a>);

/// A `delegate_to` naming a host that is neither in the inventory nor the controller is an
/// error before anything runs (a templated one is checked when the task runs).
fn check_delegates(inv: &Inventory, pb: &Playbook) -> anyhow::Result<()> {
    for t in pb.loaded_tasks() {
        let Some(to) = &t.delegate_to else { continue };
        if to.contains("{{") || to.contains("{%") {
            continue;
        }
        if !inv.hosts.contains_key(to.as_str()) && !pattern::LOCALHOST.contains(&to.as_str()) {
            let name = t.name.clone().unwrap_or_else(|| t.module.clone());
            anyhow::bail!(
                "{}: in task '{name}': delegate_to host '{to}' is not in the inventory",
                t.origin
            );
        }
    }
    Ok(())
}

/// How deep includes may nest before it is taken for recursion.
const MAX_INCLUDE_DEPTH: u16 = 64;

/// One host of a batch.
struct Slot {
    name: String,
    conn: Option<Connection>,
    vars: HostVars,
    rendered: Vec<Rendered>,
}

/// One batch of one play.
struct Batch<'a> {
    inv: &'a Inventory,
    /// The inventory as `add_host` and `group_by` change it during the batch.
    work: std::sync::Mutex<Inventory>,
    pb: &'a Playbook,
    play: &'a Play,
    opts: &'a Options,
    mode: &'a Mode,
    sink: &'a dyn Sink,
    templar: &'a Templar,
    /// Files fetched from hosts so far in the run (see [`PlayCx::fetched`]).
    fetched: &'a std::sync::Mutex<std::collections::HashSet<PathBuf>>,
    /// Whether [`super::preflight`] is still to run (once per run, at the first play's start).
    preflight_due: &'a std::sync::atomic::AtomicBool,
    /// Connections to hosts that tasks delegate to, opened when first needed.
    delegates: tokio::sync::Mutex<HashMap<String, Arc<Connection>>>,
}

impl super::task::Delegates for Batch<'_> {
    fn connect<'b>(
        &'b self,
        host: &'b str,
    ) -> futures::future::BoxFuture<'b, Result<Arc<Connection>, String>> {
        Box::pin(async move {
            let mut pool = self.delegates.lock().await;
            if let Some(c) = pool.get(host) {
                return Ok(c.clone());
            }
            let target = if self.inv.hosts.contains_key(host) {
                crate::run::target::play_target(
                    self.inv,
                    host,
                    &self.opts.conn,
                    self.play,
                    &self.opts.extra_vars,
                )?
            } else if pattern::LOCALHOST.contains(&host) {
                // Ansible's implicit localhost: the controller, over the local connection.
                transport::Target {
                    name: host.to_string(),
                    address: host.to_string(),
                    connection: transport::ConnectionKind::Local,
                    ..transport::Target::default()
                }
            } else {
                return Err(format!(
                    "delegate_to: the host '{host}' is not in the inventory"
                ));
            };
            let conn = Arc::new(
                transport::connect(&target)
                    .await
                    .map_err(|e| e.to_string())?,
            );
            pool.insert(host.to_string(), conn.clone());
            Ok(conn)
        })
    }
}

type BatchResult = (BatchEnd, Vec<(String, Stats)>, Vec<Rendered>, Vec<String>);

impl<'a> Batch<'a> {
    async fn run(&self, hosts: Vec<String>) -> anyhow::Result<BatchResult> {
        let gate = Semaphore::new(self.opts.conn.forks.unwrap_or(hosts.len().clamp(1, 256)));
        let (mut slots, down) = self.connect(&hosts, &gate).await?;
        let sopts = schedule::Options {
            check: self.opts.check,
            force_handlers: self.opts.force_handlers || self.play.force_handlers,
            tags: Tags {
                only: self.opts.tags.clone(),
                skip: self.opts.skip_tags.clone(),
            },
            gate: self.opts.gate.clone(),
        };
        let mut sched = Schedule::new(self.pb, self.play, hosts.clone(), down, sopts);
        if !self.play.gather_facts && matches!(self.mode, Mode::Live) {
            let read = self.read_pending(&slots, &gate).await;
            sched.set_pending(read);
        }
        if let Mode::Offline { facts, .. } = self.mode {
            for s in &mut slots {
                s.vars.facts = facts.get(&s.name).cloned().unwrap_or_default();
            }
        }
        let mut play_vars: Option<PlayVars> = None;
        let roles = context::play_roles(self.pb, self.play);
        let mut errors = Vec::new();
        loop {
            let next = sched.next_step();
            // The play's variables and the lint gate come before the first task's banner: a
            // lint error stops the play with no task announced.
            if play_vars.is_none() && !matches!(next, Next::Gather(_)) {
                play_vars = Some(self.start_play(&hosts, &mut slots)?);
            }
            self.flush_events(&mut sched);
            let Some(pv) = &play_vars else {
                // Gathering facts comes before the play's variables exist.
                if let Next::Gather(hs) = next {
                    let results = self.gather(&hs, &mut slots, &gate).await;
                    sched.gathered(results);
                }
                self.flush_events(&mut sched);
                continue;
            };
            let cx = PlayCx {
                pb: self.pb,
                templar: self.templar,
                pv,
                roles: &roles,
                extra_vars: &self.opts.extra_vars,
                check: self.opts.check,
                diff: self.opts.diff,
                become_: self.play.keywords.become_.unwrap_or(self.opts.conn.become_),
                become_user: self
                    .play
                    .keywords
                    .become_user
                    .as_deref()
                    .unwrap_or(self.opts.conn.become_user()),
                sink: self.sink,
                stream: self.opts.stream.as_ref(),
                delegates: match self.mode {
                    Mode::Live => Some(self as &dyn super::task::Delegates),
                    Mode::Offline { .. } => None,
                },
                fetched: self.fetched,
            };
            match next {
                Next::Done => break,
                Next::Gather(hs) => {
                    let results = self.gather(&hs, &mut slots, &gate).await;
                    sched.gathered(results);
                }
                Next::Run(run) => {
                    let results = self.run_step(&cx, &run, &mut slots, &gate).await;
                    if matches!(self.mode, Mode::Offline { .. }) {
                        errors.extend(offline_errors(&run, &results, &slots));
                    }
                    sched.record(&run, results);
                }
                Next::Include(run) => {
                    let (results, groups) = self.include(&cx, &run, &mut slots);
                    if matches!(self.mode, Mode::Offline { .. }) {
                        errors.extend(offline_errors(&run, &results, &slots));
                    }
                    sched.included(&run, results, groups);
                }
                Next::Meta(run, what) => {
                    let (applies, skipped) = self.meta(&cx, &run, &what, &mut slots).await;
                    sched.meta(&run, &what, applies, skipped);
                }
            }
            self.flush_events(&mut sched);
            self.save_pending(&mut sched, &slots, &gate).await;
        }
        self.flush_events(&mut sched);
        self.save_pending(&mut sched, &slots, &gate).await;
        let end = sched.end();
        let stats: Vec<(String, Stats)> = hosts.iter().cloned().zip(sched.stats.clone()).collect();
        let mut rendered = Vec::new();
        for s in slots {
            rendered.extend(s.rendered);
            if let Some(c) = s.conn {
                let _ = c.close().await;
            }
        }
        for (_, c) in self.delegates.lock().await.drain() {
            if let Ok(c) = Arc::try_unwrap(c) {
                let _ = c.close().await;
            }
        }
        Ok((end, stats, rendered, errors))
    }

    fn flush_events(&self, sched: &mut Schedule<'_>) {
        for e in sched.take_events() {
            self.sink.event(e);
        }
    }

    /// Connects to every host at once (offline: nothing to connect to).
    async fn connect(
        &self,
        hosts: &[String],
        gate: &Semaphore,
    ) -> anyhow::Result<(Vec<Slot>, Vec<(usize, String)>)> {
        let slot = |name: &String, conn| Slot {
            name: name.clone(),
            conn,
            vars: HostVars::default(),
            rendered: Vec::new(),
        };
        if matches!(self.mode, Mode::Offline { .. }) {
            return Ok((hosts.iter().map(|h| slot(h, None)).collect(), Vec::new()));
        }
        let targets: Vec<_> = hosts
            .iter()
            .map(|h| {
                crate::run::target::play_target(
                    self.inv,
                    h,
                    &self.opts.conn,
                    self.play,
                    &self.opts.extra_vars,
                )
                .map_err(|e| anyhow::anyhow!(e))
            })
            .collect::<Result<_, _>>()?;
        let conns = join_all(targets.iter().map(|t| async {
            let _slot = gate.acquire().await;
            transport::connect(t).await
        }))
        .await;
        let mut slots = Vec::new();
        let mut down = Vec::new();
        for (i, (host, conn)) in hosts.iter().zip(conns).enumerate() {
            match conn {
                Ok(c) => slots.push(slot(host, Some(c))),
                Err(e) => {
                    let text = e.to_string();
                    let msg = text
                        .strip_prefix(&format!("{host}: "))
                        .map_or(text.clone(), String::from);
                    down.push((i, msg));
                    slots.push(slot(host, None));
                }
            }
        }
        Ok((slots, down))
    }

    /// Facts, and the handlers an earlier run left pending, in one round trip per host.
    async fn gather(
        &self,
        hosts: &[usize],
        slots: &mut [Slot],
        gate: &Semaphore,
    ) -> Vec<(usize, Result<BTreeSet<String>, String>)> {
        if matches!(self.mode, Mode::Offline { .. }) {
            return hosts.iter().map(|h| (*h, Ok(BTreeSet::new()))).collect();
        }
        let wanted: BTreeSet<usize> = hosts.iter().copied().collect();
        // The play's gather_subset/gather_timeout/fact_path; the interpreter is the host's own.
        let plans: Vec<Option<Result<crate::facts::Plan, String>>> = slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                wanted.contains(&i).then(|| {
                    let mut opts = self.play.gather.clone();
                    opts.python = crate::facts::interpreter(
                        self.inv
                            .host_vars(&s.name)
                            .get("ansible_python_interpreter")
                            .and_then(serde_json::Value::as_str),
                    );
                    crate::facts::plan(&opts)
                })
            })
            .collect();
        let progress = crate::report::progress("Gathering Facts", wanted.len());
        let outs = join_all(slots.iter().zip(&plans).map(|(s, plan)| {
            let progress = &progress;
            async move {
                let plan = plan.as_ref()?;
                let plan = match plan {
                    Ok(p) => p,
                    Err(e) => return Some(Err(e.clone())),
                };
                let script = format!("{}\n{}", plan.script, pending::read_script());
                let _slot = gate.acquire().await;
                progress.host_started(&s.name);
                let out = match &s.conn {
                    Some(c) => c.exec(&script, b"").await.map_err(|e| e.to_string()),
                    None => Err("no connection".into()),
                };
                progress.host_done(&s.name, out.is_err());
                Some(out)
            }
        }))
        .await;
        progress.finish();
        let mut results = Vec::new();
        for (i, out) in outs.into_iter().enumerate() {
            let Some(out) = out else { continue };
            let collectors = match &plans[i] {
                Some(Ok(p)) => &p.collectors,
                _ => continue,
            };
            match out {
                Ok(out) => {
                    let text = String::from_utf8_lossy(&out.stdout);
                    match crate::facts::parse_for(&text, collectors) {
                        Ok(facts) => {
                            slots[i].vars.facts = facts;
                            results.push((i, Ok(pending::parse(&text))));
                        }
                        Err(e) => results.push((i, Err(e.to_string()))),
                    }
                }
                Err(e) => results.push((i, Err(e))),
            }
        }
        // A bad gather_subset fails every host, as Ansible's setup does.
        for (i, plan) in plans.iter().enumerate() {
            if let Some(Err(e)) = plan {
                if !results.iter().any(|(h, _)| *h == i) {
                    results.push((i, Err(e.clone())));
                }
            }
        }
        results
    }

    /// Reads every host's pending handlers (when facts, which carry them, are not gathered).
    async fn read_pending(
        &self,
        slots: &[Slot],
        gate: &Semaphore,
    ) -> Vec<(usize, BTreeSet<String>)> {
        let script = pending::read_script();
        let read = join_all(slots.iter().map(|s| async {
            let _slot = gate.acquire().await;
            match &s.conn {
                Some(c) => c.exec(&script, b"").await.ok(),
                None => None,
            }
        }))
        .await;
        read.into_iter()
            .enumerate()
            .filter_map(|(i, out)| {
                out.map(|o| (i, pending::parse(&String::from_utf8_lossy(&o.stdout))))
            })
            .collect()
    }

    /// Writes back the pending-handler lists that changed. A host that cannot be written to
    /// gets a warning: its next task reports the broken connection anyway.
    async fn save_pending(&self, sched: &mut Schedule<'_>, slots: &[Slot], gate: &Semaphore) {
        let writes = sched.take_pending_writes();
        if writes.is_empty() || matches!(self.mode, Mode::Offline { .. }) {
            return;
        }
        let done = join_all(writes.iter().map(|(i, names)| async move {
            let s = &slots[*i];
            let _slot = gate.acquire().await;
            let c = s.conn.as_ref()?;
            match c.exec(&pending::write_script(names), b"").await {
                Ok(out) if out.success() => None,
                Ok(out) => Some((
                    s.name.clone(),
                    String::from_utf8_lossy(&out.stderr).trim().to_string(),
                )),
                Err(e) => Some((s.name.clone(), e.to_string())),
            }
        }))
        .await;
        for (host, why) in done.into_iter().flatten() {
            self.sink.event(Event::Warning(format!(
                "{host}: could not record pending handlers: {why}"
            )));
        }
    }

    /// The play's shared variables (once facts are in), the keepalived lint gate, and each
    /// host's play `vars`/`vars_files`.
    fn start_play(&self, hosts: &[String], slots: &mut [Slot]) -> anyhow::Result<PlayVars> {
        let facts: Facts = slots
            .iter()
            .map(|s| (s.name.clone(), s.vars.facts.clone()))
            .collect();
        let mut all_facts = match self.mode {
            Mode::Offline { facts, .. } => facts.clone(),
            Mode::Live => Facts::new(),
        };
        all_facts.extend(facts.clone());
        if self
            .preflight_due
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            super::preflight::before_first_change(
                self.inv,
                self.pb,
                self.opts.limit.as_deref(),
                &self.opts.extra_vars,
                facts.clone(),
            )?;
        }
        if matches!(self.mode, Mode::Live) && !self.opts.skip_lint {
            crate::lint::gate::before_tasks(
                self.inv,
                self.pb,
                hosts,
                &facts,
                &self.opts.extra_vars,
            )?;
        }
        let info = PlayInfo {
            hosts: hosts.to_vec(),
            playbook_dir: self.pb.dir.display().to_string(),
            check_mode: self.opts.check,
            offline: matches!(self.mode, Mode::Offline { .. }),
            connection: hosts
                .iter()
                .filter_map(|h| {
                    let t = crate::run::target::play_target(
                        self.inv,
                        h,
                        &self.opts.conn,
                        self.play,
                        &self.opts.extra_vars,
                    )
                    .ok()?;
                    Some((h.clone(), crate::run::target::connection_vars(&t)))
                })
                .collect(),
        };
        let pv = context::play_vars(self.inv, &all_facts, &info);
        let roles = context::play_roles(self.pb, self.play);
        // `vars_prompt` defaults (hactl does not prompt), between play vars and vars_files.
        let prompted: Vars = self
            .play
            .vars_prompt
            .iter()
            .filter_map(|(k, d)| Some((k.clone(), d.clone()?)))
            .collect();
        for s in slots.iter_mut() {
            let empty = Value::from_pairs(std::iter::empty::<(String, Value)>());
            let no_included = Map::new();
            s.vars.play_layers =
                context::play_layers(self.templar, self.pb, self.play, &s.name, |layers| {
                    let d = context::Dynamic {
                        play_layers: layers,
                        included: &no_included,
                        data: &empty,
                        extra_vars: &self.opts.extra_vars,
                        item: None,
                    };
                    context::task_context(&pv, self.pb, &roles, &s.name, &Scope::default(), None, d)
                })?;
            if !prompted.is_empty() {
                let at = s.vars.play_layers.len().min(1);
                s.vars.play_layers.insert(at, to_value(&prompted));
            }
        }
        Ok(pv)
    }

    /// Runs a task or handler on its hosts at once; shares a `run_once` result.
    async fn run_step(
        &self,
        cx: &PlayCx<'_>,
        run: &Run<'_>,
        slots: &mut [Slot],
        gate: &Semaphore,
    ) -> Vec<(usize, TaskResult)> {
        let wanted: BTreeSet<usize> = run.hosts.iter().copied().collect();
        let offline = match self.mode {
            Mode::Offline { keep, .. } => Some(*keep),
            Mode::Live => None,
        };
        // Progress is for runs on hosts; an offline run is over in milliseconds.
        let progress = crate::report::progress(
            &run.task
                .display_name(run.scope.role.map(|r| r.name.as_str())),
            if offline.is_some() { 0 } else { wanted.len() },
        );
        // `throttle`: at most that many hosts at once for this task.
        let throttle = match &run.task.keywords.throttle {
            None => None,
            Some(Json::Number(n)) => n.as_u64(),
            Some(Json::String(t)) => t.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        let limit = throttle.map(|n| Semaphore::new(usize::try_from(n.max(1)).unwrap_or(1)));
        let results = join_all(slots.iter_mut().enumerate().map(|(i, s)| {
            let (wanted, progress, limit) = (&wanted, &progress, &limit);
            async move {
                if !wanted.contains(&i) {
                    return None;
                }
                let _throttle = match limit {
                    Some(l) => Some(l.acquire().await),
                    None => None,
                };
                let _slot = gate.acquire().await;
                progress.host_started(&s.name);
                let r = match (offline, &s.conn) {
                    (Some(keep), _) => {
                        let mut on = On::Offline {
                            rendered: &mut s.rendered,
                            keep,
                        };
                        cx.run(&s.name, &mut s.vars, &mut on, &run.task, &run.scope)
                            .await
                    }
                    (None, Some(conn)) => {
                        let mut on = On::Host(conn);
                        cx.run(&s.name, &mut s.vars, &mut on, &run.task, &run.scope)
                            .await
                    }
                    (None, None) => TaskResult {
                        unreachable: Some("no connection".into()),
                        ..TaskResult::default()
                    },
                };
                let failed =
                    r.unreachable.is_some() || r.status == Some(crate::modules::Status::Failed);
                progress.host_done(&s.name, failed);
                self.sink.event(Event::HostDone {
                    host: s.name.clone(),
                    result: r.clone(),
                });
                Some((i, r))
            }
        }))
        .await;
        progress.finish();
        let mut results: Vec<(usize, TaskResult)> = results.into_iter().flatten().collect();
        if let Some((first, r)) = results.first() {
            share_once(slots, *first, &run.share_with, &run.task, r);
        }
        for (h, r) in &mut results {
            self.inventory_changes(&slots[*h].name, r);
        }
        // `delegate_facts`: the facts go to the host the task was delegated to.
        for (_, r) in &mut results {
            for (to, facts) in std::mem::take(&mut r.facts_for) {
                if let Some(s) = slots.iter_mut().find(|s| s.name == to) {
                    for (k, v) in facts {
                        s.vars.data.insert(k, to_value(&v));
                    }
                }
            }
        }
        results
    }

    /// `add_host` and `group_by` results: applied to the batch's inventory, and `changed`
    /// when they changed it (as Ansible reports them).
    fn inventory_changes(&self, host: &str, r: &mut TaskResult) {
        let Ok(mut inv) = self.work.lock() else {
            return;
        };
        let mut any = false;
        for item in &mut r.items {
            let res = &item.outcome.result;
            let changed = if let Some(Json::Object(add)) = res.get("add_host") {
                let name = add
                    .get("host_name")
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                let groups: Vec<String> = add
                    .get("groups")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|g| g.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let vars = match add.get("host_vars") {
                    Some(Json::Object(v)) => v.clone(),
                    _ => Map::new(),
                };
                inv.add_host_at_runtime(name, &groups, &vars)
            } else if let Some(Json::String(group)) = res.get("add_group") {
                let parents: Vec<String> = res
                    .get("parent_groups")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|g| g.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut changed = inv.add_group_at_runtime(group, &parents);
                let before = inv.hosts.get(host).map(|h| h.groups.len());
                inv.add_host(host, group);
                changed |= inv.hosts.get(host).map(|h| h.groups.len()) != before;
                changed
            } else {
                continue;
            };
            if changed && item.outcome.status == crate::modules::Status::Ok {
                item.outcome.status = crate::modules::Status::Changed;
                item.outcome
                    .result
                    .insert("changed".into(), Json::Bool(true));
                any = true;
            }
        }
        if any && r.status == Some(crate::modules::Status::Ok) {
            r.status = Some(crate::modules::Status::Changed);
        }
    }

    /// Resolves an include on each host: its `when`, its loop, the file or role it names.
    /// Hosts that included the same thing (with the same item) form one group.
    fn include(
        &self,
        cx: &PlayCx<'_>,
        run: &Run<'a>,
        slots: &mut [Slot],
    ) -> (Vec<(usize, TaskResult)>, Vec<IncludeGroup<'a>>) {
        let mut results = Vec::new();
        let mut groups: Vec<IncludeGroup<'a>> = Vec::new();
        let mut cache: HashMap<PathBuf, Arc<Vec<Item>>> = HashMap::new();
        for &h in &run.hosts {
            let s = &mut slots[h];
            match self.include_one(cx, run, s, &mut cache) {
                Ok(None) => results.push((h, TaskResult::skipped())),
                Ok(Some(found)) => {
                    results.push((h, TaskResult::single(Outcome::changed(false))));
                    for (key, item, content, vars) in found {
                        let same = groups.iter_mut().find(|(k, i, g)| {
                            *k == key && *i == item && same_content(&g.content, &content)
                        });
                        match same {
                            Some((_, _, g)) => {
                                g.hosts.insert(h);
                            }
                            None => groups.push((
                                key,
                                item,
                                Included {
                                    hosts: [h].into_iter().collect(),
                                    content,
                                    vars,
                                },
                            )),
                        }
                    }
                }
                Err(e) => results.push((h, TaskResult::failed(format!("{e:#}")))),
            }
        }
        (results, groups)
    }

    #[allow(clippy::type_complexity)]
    fn include_one(
        &self,
        cx: &PlayCx<'_>,
        run: &Run<'a>,
        s: &mut Slot,
        cache: &mut HashMap<PathBuf, Arc<Vec<Item>>>,
    ) -> anyhow::Result<Option<Vec<(String, Option<Json>, IncludedContent<'a>, Option<Value>)>>>
    {
        let task = &run.task;
        if run.scope.include_depth >= MAX_INCLUDE_DEPTH {
            anyhow::bail!(
                "{}: includes nest more than {MAX_INCLUDE_DEPTH} deep: a file includes itself",
                task.origin
            );
        }
        let base = cx.vars(&s.name, &s.vars, &run.scope, Some(task), None)?;
        let conds: Vec<_> = run
            .scope
            .when
            .iter()
            .chain(task.keywords.when.iter())
            .cloned()
            .collect();
        let items = loops::items(self.templar, self.pb, &run.scope, task, &base, &s.name)?;
        let each: Vec<Option<Json>> = match &items {
            Some(list) => list.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        let role_path = run.scope.role.map(|r| r.path.as_path());
        let mut out = Vec::new();
        for (index, item) in each.into_iter().enumerate() {
            let layer = item
                .as_ref()
                .map(|i| loops::item_layer(task, i, index, items.as_deref().unwrap_or(&[])));
            let ctx = cx.vars(&s.name, &s.vars, &run.scope, Some(task), layer.clone())?;
            if !context::conditions_hold(self.templar, &conds, &ctx, &s.name)? {
                continue;
            }
            let args = match context::template_json(
                self.templar,
                &Json::Object(task.args.clone().into_iter().collect()),
                &ctx,
                &s.name,
            )? {
                Json::Object(m) => m,
                _ => Map::new(),
            };
            // The include's own `vars:` and the loop item reach the included tasks.
            let mut layers = vec![to_value(&task.keywords.vars)];
            if let Some(l) = layer {
                layers.push(l);
            }
            let vars = Some(crate::template::Layers::new(layers).into_value());
            let text = |k: &str| args.get(k).and_then(Json::as_str).map(String::from);
            if task.module == "include_role" {
                let name = text("name").unwrap_or_default();
                let Some(role) = self.pb.roles.values().find(|r| r.name == name) else {
                    anyhow::bail!("the role '{name}' was not found");
                };
                for unsupported in ["vars_from", "defaults_from", "handlers_from"] {
                    if args.contains_key(unsupported) {
                        anyhow::bail!("hactl does not support include_role's {unsupported} yet");
                    }
                }
                let tasks = match text("tasks_from") {
                    Some(from) => {
                        let file = if from.ends_with(".yml") || from.ends_with(".yaml") {
                            from
                        } else {
                            format!("{from}.yml")
                        };
                        let path = role.path.join("tasks").join(&file);
                        Some(load_cached(cache, &path, Some(&role.path), &self.pb.dir)?)
                    }
                    None => None,
                };
                out.push((
                    role.name.clone(),
                    item,
                    IncludedContent::Role { role, tasks },
                    vars,
                ));
                continue;
            }
            let Some(file) = text("_raw_params").or_else(|| text("file")) else {
                anyhow::bail!("include_tasks needs a file name");
            };
            let path = find_tasks(&file, task, role_path, &self.pb.dir)?;
            let items = load_cached(cache, &path, role_path, &self.pb.dir)?;
            out.push((
                path.display().to_string(),
                item,
                IncludedContent::Tasks(items),
                vars,
            ));
        }
        if out.is_empty() && items.is_none() {
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// Evaluates a `meta` task's `when` on each host.
    async fn meta(
        &self,
        cx: &PlayCx<'_>,
        run: &Run<'_>,
        what: &str,
        slots: &mut [Slot],
    ) -> (Vec<usize>, Vec<usize>) {
        let (mut applies, mut skipped) = (Vec::new(), Vec::new());
        let conds: Vec<_> = run
            .scope
            .when
            .iter()
            .chain(run.task.keywords.when.iter())
            .cloned()
            .collect();
        for &h in &run.hosts {
            let s = &mut slots[h];
            let holds = cx
                .vars(&s.name, &s.vars, &run.scope, Some(&run.task), None)
                .and_then(|ctx| context::conditions_hold(self.templar, &conds, &ctx, &s.name))
                .unwrap_or(false);
            if holds {
                applies.push(h);
                if what == "clear_facts" {
                    s.vars.facts.clear();
                    s.vars.data.retain(|k, _| !k.starts_with("ansible_"));
                }
            } else {
                skipped.push(h);
            }
        }
        (applies, skipped)
    }
}

fn same_content(a: &IncludedContent<'_>, b: &IncludedContent<'_>) -> bool {
    match (a, b) {
        (IncludedContent::Tasks(x), IncludedContent::Tasks(y)) => Arc::ptr_eq(x, y),
        (
            IncludedContent::Role {
                role: r1,
                tasks: t1,
            },
            IncludedContent::Role {
                role: r2,
                tasks: t2,
            },
        ) => {
            r1.path == r2.path
                && match (t1, t2) {
                    (Some(x), Some(y)) => Arc::ptr_eq(x, y),
                    (None, None) => true,
                    _ => false,
                }
        }
        _ => false,
    }
}

/// A tasks file for `include_tasks`: beside the file of the including task first, then the
/// role's `tasks/`, then the playbook's.
fn find_tasks(
    file: &str,
    task: &crate::playbook::Task,
    role: Option<&std::path::Path>,
    playbook_dir: &std::path::Path,
) -> anyhow::Result<PathBuf> {
    let path = std::path::Path::new(file);
    if path.is_absolute() {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        anyhow::bail!("Could not find or access '{file}'");
    }
    if let Some(dir) = task.origin.file.parent() {
        let beside = dir.join(path);
        if beside.is_file() {
            return Ok(std::fs::canonicalize(&beside).unwrap_or(beside));
        }
    }
    let found = crate::run::lookup::find(file, "tasks", role, playbook_dir, "tasks file")?;
    Ok(std::fs::canonicalize(&found).unwrap_or(found))
}

fn load_cached(
    cache: &mut HashMap<PathBuf, Arc<Vec<Item>>>,
    path: &std::path::Path,
    role: Option<&std::path::Path>,
    dir: &std::path::Path,
) -> anyhow::Result<Arc<Vec<Item>>> {
    if let Some(items) = cache.get(path) {
        return Ok(items.clone());
    }
    let (items, _) = crate::playbook::load_tasks_file(path, role, dir)?;
    let items = Arc::new(items);
    cache.insert(path.to_path_buf(), items.clone());
    Ok(items)
}

/// A `run_once` task's `register` and `set_fact` results, from the host that ran it, given to
/// the hosts at `others`, as Ansible applies them to every host of the batch.
fn share_once(
    slots: &mut [Slot],
    first: usize,
    others: &[usize],
    task: &crate::playbook::Task,
    result: &TaskResult,
) {
    if others.is_empty() {
        return;
    }
    let mut shared: Vec<(String, Value)> = Vec::new();
    if let Some(name) = &task.register {
        if let Some(v) = slots[first].vars.data.get(name) {
            shared.push((name.clone(), v.clone()));
        }
    }
    for item in &result.items {
        if let Some(Json::Object(facts)) = item.outcome.result.get("ansible_facts") {
            shared.extend(facts.iter().map(|(k, v)| (k.clone(), to_value(v))));
        }
    }
    for i in others {
        if let Some(s) = slots.get_mut(*i) {
            s.vars.data.extend(shared.iter().cloned());
        }
    }
}

/// The failed results of an offline run, as `host: task 'name' at file:line: message`.
fn offline_errors(run: &Run<'_>, results: &[(usize, TaskResult)], slots: &[Slot]) -> Vec<String> {
    let name = run
        .task
        .name
        .clone()
        .unwrap_or_else(|| run.task.module.clone());
    results
        .iter()
        .filter(|(_, r)| r.status == Some(crate::modules::Status::Failed) && !r.ignored)
        .map(|(h, r)| {
            let msg = r
                .items
                .iter()
                .filter(|i| i.outcome.status == crate::modules::Status::Failed)
                .filter_map(|i| i.outcome.msg().map(String::from))
                .collect::<Vec<_>>()
                .join("; ");
            format!(
                "{}: task '{name}' at {}: {msg}",
                slots[*h].name, run.task.origin
            )
        })
        .collect()
}
