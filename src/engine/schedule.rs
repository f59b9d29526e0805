//! The scheduler of one batch of a play: a state machine with no I/O. Given the walker's next
//! step and the results so far, it decides which hosts run what (facts, tasks, includes,
//! `meta`, handlers), which handlers are notified, and what failures, `any_errors_fatal`,
//! `max_fail_percentage` and `run_once` do, as ansible-playbook's linear strategy does. The
//! executor ([`super::exec`]) carries out each [`Next`] and feeds the results back.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::events::{Banner, Event};
use super::pending;
use super::task::TaskResult;
use super::walk::{Handler, HostSet, Included, Step, Tags, TaskStep, Walker};
use crate::modules::Status;
use crate::playbook::{Play, Playbook, Task};
use crate::run::context::Scope;

/// Per-host counts for the `PLAY RECAP`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

impl Stats {
    pub(crate) fn count(&mut self, status: Status, ignored: bool) {
        match status {
            Status::Ok => self.ok += 1,
            Status::Changed => {
                self.ok += 1;
                self.changed += 1;
            }
            Status::Skipped => self.skipped += 1,
            Status::Failed if ignored => {
                self.ok += 1;
                self.ignored += 1;
            }
            // Failures are counted by the scheduler: `failed`, or `rescued` when a rescue
            // will run for them.
            Status::Failed => {}
        }
    }

    /// Adds another play's counts.
    pub fn add(&mut self, o: &Stats) {
        self.ok += o.ok;
        self.changed += o.changed;
        self.unreachable += o.unreachable;
        self.failed += o.failed;
        self.skipped += o.skipped;
        self.rescued += o.rescued;
        self.ignored += o.ignored;
    }
}

/// Settings of the run that shape scheduling.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub check: bool,
    pub force_handlers: bool,
    pub tags: Tags,
    /// Asked before each task the walk reaches (`--start-at-task`, `--step`).
    pub gate: Option<Arc<dyn TaskGate>>,
}

/// Decides, before its banner, whether a task the walk reached runs at all; one it refuses
/// is passed over as if it were not in the play (no banner, no result, no stats), as
/// ansible-playbook passes over tasks before `--start-at-task` or declined at `--step`.
pub trait TaskGate: Send + Sync + std::fmt::Debug {
    /// `shown` is the name the banner would show (`ROLE : NAME`, or the module); `handler`
    /// tells a notified handler about to run from a task.
    fn admit(&self, task: &Task, shown: &str, handler: bool) -> bool;
}

/// What a step runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Task,
    Handler,
}

/// A task or handler to run on some hosts.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub kind: Kind,
    pub task: Arc<Task>,
    pub scope: Scope<'a>,
    /// The hosts that run it (indexes into the batch).
    pub hosts: Vec<usize>,
    /// `run_once`: the hosts that get the result of the one host that ran it.
    pub share_with: Vec<usize>,
}

/// What the executor does next.
#[derive(Debug)]
pub enum Next<'a> {
    /// Gather facts (and read pending handlers) on these hosts.
    Gather(Vec<usize>),
    /// Run a task or handler.
    Run(Run<'a>),
    /// Resolve an `include_tasks`/`include_role` per host; answer with
    /// [`Schedule::included`].
    Include(Run<'a>),
    /// Evaluate a `meta` task's `when` per host; answer with [`Schedule::meta`].
    Meta(Run<'a>, String),
    /// The batch is over.
    Done,
}

#[derive(Debug)]
enum Phase {
    Gather,
    Walk,
    Flush {
        next: usize,
        /// Per host: handlers that ran there without failing, to settle pending names.
        ran: Vec<BTreeSet<usize>>,
    },
    Done,
}

/// How one batch ended.
#[derive(Debug, Default, Clone)]
pub struct BatchEnd {
    /// Hosts that failed or could not be reached: they take no part in later batches or plays.
    pub out: Vec<String>,
    /// The run stops here (`max_fail_percentage`, or every host failed).
    pub abort: bool,
}

/// The scheduler of one batch.
#[derive(Debug)]
pub struct Schedule<'a> {
    play: &'a Play,
    walker: Walker<'a>,
    opts: Options,
    pub hosts: Vec<String>,
    /// Hosts still running the play.
    alive: HostSet,
    /// Failed or unreachable: out of this play and the later ones.
    out: HostSet,
    /// Hosts that failed a task (what `max_fail_percentage` counts).
    task_failures: HostSet,
    notified: Vec<HostSet>,
    /// Per host: notifications recorded on the host whose handlers have not run there.
    pending: Vec<BTreeSet<String>>,
    /// Hosts whose pending list changed and must be written back.
    pending_dirty: BTreeSet<usize>,
    pub stats: Vec<Stats>,
    events: Vec<Event>,
    phase: Phase,
    /// Hosts that could not be reached at the start, reported under the first task.
    unreported: Vec<(usize, String)>,
    abort: bool,
    /// Set when the walker gave a `Next` whose results have not come back.
    awaiting: bool,
}

impl<'a> Schedule<'a> {
    /// A batch of `hosts`; `down` are those that could not be connected to (by index, with the
    /// reason).
    pub fn new(
        pb: &'a Playbook,
        play: &'a Play,
        hosts: Vec<String>,
        down: Vec<(usize, String)>,
        opts: Options,
    ) -> Schedule<'a> {
        let walker = Walker::new(pb, play, opts.tags.clone());
        let n = hosts.len();
        let mut alive: HostSet = (0..n).collect();
        let mut out = HostSet::new();
        for (h, _) in &down {
            alive.remove(h);
            out.insert(*h);
        }
        Schedule {
            play,
            notified: vec![HostSet::new(); walker.handlers.len()],
            walker,
            opts,
            hosts,
            alive,
            out,
            task_failures: HostSet::new(),
            pending: vec![BTreeSet::new(); n],
            pending_dirty: BTreeSet::new(),
            stats: vec![Stats::default(); n],
            events: Vec::new(),
            phase: if play.gather_facts {
                Phase::Gather
            } else {
                Phase::Walk
            },
            unreported: down,
            abort: false,
            awaiting: false,
        }
    }

    /// Events since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Hosts whose pending-handler list changed, with the list to write.
    pub fn take_pending_writes(&mut self) -> Vec<(usize, BTreeSet<String>)> {
        std::mem::take(&mut self.pending_dirty)
            .into_iter()
            .map(|h| (h, self.pending[h].clone()))
            .collect()
    }

    /// The handlers of the play, in the order they run.
    pub fn handlers(&self) -> &[Handler<'a>] {
        &self.walker.handlers
    }

    /// Sets the pending notifications read from the hosts (when facts are not gathered) and
    /// notifies their handlers.
    pub fn set_pending(&mut self, pending: Vec<(usize, BTreeSet<String>)>) {
        for (h, names) in pending {
            self.renotify(h, names);
        }
    }

    fn renotify(&mut self, h: usize, names: BTreeSet<String>) {
        for name in &names {
            let mut reached = false;
            for (handler, hosts) in self.walker.handlers.iter().zip(self.notified.iter_mut()) {
                if handler.answers(name) {
                    hosts.insert(h);
                    reached = true;
                }
            }
            if reached {
                self.events.push(Event::Pending {
                    host: self.hosts[h].clone(),
                    name: name.clone(),
                });
            }
        }
        self.pending[h] = names;
    }

    /// What to do next.
    pub fn next_step(&mut self) -> Next<'a> {
        debug_assert!(!self.awaiting, "results of the last step were not recorded");
        loop {
            match &mut self.phase {
                Phase::Done => {
                    // A batch whose every host was down at the start still reports them.
                    self.report_down();
                    return Next::Done;
                }
                Phase::Gather => {
                    self.phase = Phase::Walk;
                    let hosts: Vec<usize> = self.alive.iter().copied().collect();
                    self.banner(Banner::Task, "Gathering Facts".into());
                    if hosts.is_empty() {
                        self.report_down();
                        continue;
                    }
                    self.awaiting = true;
                    return Next::Gather(hosts);
                }
                Phase::Flush { next, .. } => {
                    let start = *next;
                    let found = (start..self.walker.handlers.len()).find_map(|i| {
                        let hosts: Vec<usize> = self.notified[i]
                            .iter()
                            .copied()
                            .filter(|h| {
                                self.alive.contains(h)
                                    || (self.opts.force_handlers && !self.unreachable(*h))
                            })
                            .collect();
                        (!hosts.is_empty()).then_some((i, hosts))
                    });
                    let Some((i, hosts)) = found else {
                        self.end_flush();
                        continue;
                    };
                    if let Phase::Flush { next, .. } = &mut self.phase {
                        *next = i + 1;
                    }
                    self.notified[i].clear();
                    let handler = self.walker.handlers[i].clone();
                    let role = handler.scope.role.map(|r| r.name.as_str());
                    let shown = handler.task.display_name(role);
                    if let Some(gate) = &self.opts.gate {
                        // Declined: the notification is dropped, the next handler comes.
                        if !gate.admit(&handler.task, &shown, true) {
                            continue;
                        }
                    }
                    self.banner(Banner::Handler, shown);
                    self.awaiting = true;
                    return Next::Run(Run {
                        kind: Kind::Handler,
                        task: handler.task,
                        scope: handler.scope,
                        hosts,
                        share_with: Vec::new(),
                    });
                }
                Phase::Walk => match self.walk() {
                    None => {
                        self.report_down();
                        self.phase = Phase::Done;
                    }
                    Some(Step::Flush) => {
                        self.phase = Phase::Flush {
                            next: 0,
                            ran: vec![BTreeSet::new(); self.hosts.len()],
                        };
                    }
                    Some(Step::Task(step)) => {
                        if let Some(gate) = &self.opts.gate {
                            let role = step.scope.role.map(|r| r.name.as_str());
                            let shown = step.task.display_name(role);
                            if !gate.admit(&step.task, &shown, false) {
                                continue;
                            }
                        }
                        return self.task(*step);
                    }
                },
            }
        }
    }

    /// The walker's next step; hosts whose failure left the outermost block on the way are
    /// out of the play.
    fn walk(&mut self) -> Option<Step<'a>> {
        let step = self.walker.next(&self.alive);
        for h in self.walker.take_failed_out() {
            self.alive.remove(&h);
            self.out.insert(h);
        }
        step
    }

    fn task(&mut self, step: TaskStep<'a>) -> Next<'a> {
        let TaskStep { task, scope, hosts } = step;
        let role = scope.role.map(|r| r.name.as_str());
        // ansible-core 2.19 announces a `meta` task once per host it runs on (see `meta`).
        if task.module != "meta" {
            self.banner(Banner::Task, task.display_name(role));
        }
        self.report_down();
        self.awaiting = true;
        let mut run = Run {
            kind: Kind::Task,
            task,
            scope,
            hosts,
            share_with: Vec::new(),
        };
        match run.task.module.as_str() {
            "include_tasks" | "include_role" => {
                // As ansible-playbook's linear strategy: a `run_once` include is queued for
                // the first host only, so its tasks run (and count) there alone
                // (robertdebock.keepalived imports assert.yml with `run_once`, and that
                // includes assert_instances.yml).
                if run.task.keywords.run_once == Some(true) {
                    run.hosts.truncate(1);
                }
                return Next::Include(run);
            }
            "meta" => {
                let what = run
                    .task
                    .args
                    .get("_raw_params")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                return Next::Meta(run, what);
            }
            _ => {}
        }
        if run.task.keywords.run_once == Some(true) && run.hosts.len() > 1 {
            run.share_with = run.hosts.split_off(1);
        } else if crate::modules::registry::once_per_batch(&run.task.module) {
            // `add_host`, `pause`: once for the batch, on its first host, nothing shared.
            run.hosts.truncate(1);
        }
        Next::Run(run)
    }

    fn banner(&mut self, kind: Banner, name: String) {
        self.events.push(Event::Banner { kind, name });
    }

    /// Hosts that could not be reached at the start are reported under the first task.
    fn report_down(&mut self) {
        for (h, msg) in std::mem::take(&mut self.unreported) {
            self.stats[h].unreachable += 1;
            self.events.push(Event::Unreachable {
                host: self.hosts[h].clone(),
                msg,
            });
        }
    }

    fn unreachable(&self, h: usize) -> bool {
        self.stats[h].unreachable > 0
    }

    /// The results of [`Next::Gather`]: the pending notifications read on each host, or why
    /// it could not be reached.
    pub fn gathered(&mut self, results: Vec<(usize, Result<BTreeSet<String>, String>)>) {
        self.awaiting = false;
        let mut lines = Vec::new();
        let mut renotify = Vec::new();
        for (h, r) in results {
            match r {
                Ok(names) => {
                    self.stats[h].ok += 1;
                    lines.push((self.hosts[h].clone(), TaskResult::ok_gathered()));
                    renotify.push((h, names));
                }
                Err(msg) => {
                    self.alive.remove(&h);
                    self.out.insert(h);
                    self.unreported.push((h, msg));
                }
            }
        }
        self.events.push(Event::Results {
            no_log: false,
            results: lines,
        });
        self.report_down();
        for (h, names) in renotify {
            self.renotify(h, names);
        }
        self.check_left();
    }

    /// The results of a [`Next::Run`], in the order of its hosts.
    pub fn record(&mut self, run: &Run<'a>, results: Vec<(usize, TaskResult)>) {
        self.awaiting = false;
        // A `no_log` that is a template is rendered per host; the report hides the result
        // whatever it says.
        let no_log = run.task.keywords.no_log == Some(true)
            || run
                .task
                .keywords
                .templated
                .iter()
                .any(|(k, _)| k == "no_log");
        let mut lines = Vec::new();
        let mut failed_now = false;
        for (h, r) in results {
            let host = self.hosts[h].clone();
            if let Some(msg) = &r.unreachable {
                if run.task.keywords.ignore_unreachable == Some(true) {
                    self.stats[h].skipped += 1;
                } else {
                    self.stats[h].unreachable += 1;
                    self.alive.remove(&h);
                    self.out.insert(h);
                    failed_now = true;
                }
                self.events.push(Event::Results {
                    no_log,
                    results: std::mem::take(&mut lines),
                });
                self.events.push(Event::Unreachable {
                    host,
                    msg: msg.clone(),
                });
                continue;
            }
            let status = r.status.unwrap_or(Status::Ok);
            self.stats[h].count(status, r.ignored);
            // An ignored failure that changed something counts as changed, as in Ansible.
            if status == Status::Failed && r.ignored && r.changed() {
                self.stats[h].changed += 1;
            }
            if status == Status::Changed {
                self.notify(h, &run.task.notify);
            }
            if let (Kind::Handler, Phase::Flush { ran, .. }) = (run.kind, &mut self.phase) {
                if status != Status::Failed || r.ignored {
                    if let Some(i) = self
                        .walker
                        .handlers
                        .iter()
                        .position(|x| Arc::ptr_eq(&x.task, &run.task))
                    {
                        ran[h].insert(i);
                    }
                }
            }
            if status == Status::Failed && !r.ignored {
                let rescued = match run.kind {
                    Kind::Task => self.walker.fail(h),
                    Kind::Handler => {
                        self.alive.remove(&h);
                        self.out.insert(h);
                        false
                    }
                };
                if rescued {
                    self.stats[h].rescued += 1;
                } else {
                    self.stats[h].failed += 1;
                    self.task_failures.insert(h);
                    failed_now = true;
                }
            }
            lines.push((host, r));
        }
        self.events.push(Event::Results {
            no_log,
            results: lines,
        });
        for h in self.walker.take_failed_out() {
            self.alive.remove(&h);
            self.out.insert(h);
        }
        if failed_now {
            self.after_failure(run);
        }
        self.check_left();
    }

    /// `any_errors_fatal` and `max_fail_percentage` after a task some host failed.
    fn after_failure(&mut self, run: &Run<'a>) {
        let k = &run.task.keywords;
        let fatal = k
            .any_errors_fatal
            .or(run.scope.any_errors_fatal)
            .or(self.play.keywords.any_errors_fatal)
            .unwrap_or(!run.share_with.is_empty())
            && k.ignore_errors != Some(true);
        let over = self.play.max_fail_percentage.is_some_and(|pct| {
            self.task_failures.len() as f64 / self.hosts.len() as f64 > pct / 100.0
        });
        if fatal || over {
            // Every other host stops here too (not counted as failed).
            self.out.extend(self.alive.iter().copied());
            self.alive.clear();
            self.abort |= over;
        }
        if over {
            // ansible-playbook says so twice (for the percentage, then for the hosts left).
            self.events.push(Event::NoMoreHosts);
            self.events.push(Event::NoMoreHosts);
        }
    }

    /// Ends the batch when no host is left in it.
    fn check_left(&mut self) {
        if self.alive.is_empty() && !matches!(self.phase, Phase::Done) {
            // Handlers still run on failed hosts with --force-handlers.
            if self.opts.force_handlers {
                if let Phase::Flush { .. } = self.phase {
                    return;
                }
                self.walker.end();
                return;
            }
            self.walker.end();
            self.phase = Phase::Done;
        }
    }

    /// A changed result on `h` notifies the handlers its task names, and records them on the
    /// host until they run.
    fn notify(&mut self, h: usize, names: &[String]) {
        if names.is_empty() {
            return;
        }
        if !self.opts.check {
            let before = self.pending[h].len();
            self.pending[h].extend(pending::notifiable(names).cloned());
            if self.pending[h].len() != before {
                self.pending_dirty.insert(h);
            }
        }
        for n in names {
            for (handler, set) in self.walker.handlers.iter().zip(self.notified.iter_mut()) {
                if handler.answers(n) {
                    set.insert(h);
                }
            }
        }
    }

    fn end_flush(&mut self) {
        if let Phase::Flush { ran, .. } = std::mem::replace(&mut self.phase, Phase::Walk) {
            if !self.opts.check {
                for (h, ran) in ran.iter().enumerate() {
                    let done = pending::settled(&self.pending[h], &self.walker.handlers, ran);
                    if !done.is_empty() {
                        self.pending[h].retain(|n| !done.contains(n));
                        self.pending_dirty.insert(h);
                    }
                }
            }
        }
        if self.alive.is_empty() {
            self.phase = Phase::Done;
        }
    }

    /// The results of a [`Next::Include`]: per host its result (skipped, failed, or ok), and
    /// the groups of hosts that included the same content, each announced as Ansible does.
    pub fn included(
        &mut self,
        run: &Run<'a>,
        results: Vec<(usize, TaskResult)>,
        groups: Vec<(String, Option<serde_json::Value>, Included<'a>)>,
    ) {
        let shown: Vec<(usize, TaskResult)> = results
            .into_iter()
            .filter(|(_, r)| r.status != Some(Status::Ok) || r.unreachable.is_some())
            .collect();
        self.record(run, shown);
        let mut walk = Vec::new();
        for (file, item, mut g) in groups {
            g.hosts.retain(|h| self.alive.contains(h));
            if g.hosts.is_empty() {
                continue;
            }
            for h in &g.hosts {
                self.stats[*h].ok += 1;
            }
            self.events.push(Event::Included {
                file,
                hosts: g.hosts.iter().map(|h| self.hosts[*h].clone()).collect(),
                item,
            });
            walk.push(g);
        }
        self.walker.include(&run.scope, walk);
    }

    /// The results of a [`Next::Meta`]: the hosts on which it applies (its `when` held).
    /// As ansible-core 2.19 runs `meta` host by host, the task's banner comes once per host,
    /// with `skipping` under it where the condition was false (not counted in the recap);
    /// `end_play` and `end_batch` stop at the first host they apply to.
    pub fn meta(&mut self, run: &Run<'a>, what: &str, applies: Vec<usize>, skipped: Vec<usize>) {
        self.awaiting = false;
        let name = run
            .task
            .display_name(run.scope.role.map(|r| r.name.as_str()));
        let mut flush = false;
        for &h in &run.hosts {
            self.banner(Banner::Task, name.clone());
            if skipped.contains(&h) {
                self.events.push(Event::Results {
                    no_log: false,
                    results: vec![(self.hosts[h].clone(), TaskResult::skipped())],
                });
                continue;
            }
            if !applies.contains(&h) {
                continue;
            }
            match what {
                "end_play" | "end_batch" => {
                    self.alive.clear();
                    self.walker.end();
                    self.phase = Phase::Done;
                    return;
                }
                "end_host" => {
                    self.alive.remove(&h);
                }
                "clear_host_errors" => {
                    self.out.remove(&h);
                }
                "flush_handlers" => flush = true,
                _ => {}
            }
        }
        if flush {
            self.phase = Phase::Flush {
                next: 0,
                ran: vec![BTreeSet::new(); self.hosts.len()],
            };
        }
        self.check_left();
    }

    /// How the batch ended; call once [`Schedule::next_step`] returned [`Next::Done`].
    pub fn end(&self) -> BatchEnd {
        let all_out = (0..self.hosts.len()).all(|h| self.out.contains(&h));
        BatchEnd {
            out: self.out.iter().map(|h| self.hosts[*h].clone()).collect(),
            abort: self.abort || all_out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recap_counts() {
        let mut s = Stats::default();
        s.count(Status::Changed, false);
        s.count(Status::Ok, false);
        s.count(Status::Failed, true);
        s.count(Status::Skipped, false);
        s.count(Status::Failed, false);
        assert_eq!((s.ok, s.changed, s.ignored, s.skipped), (3, 1, 1, 1));
        // A failure is counted by the scheduler (`failed` or `rescued`), not here.
        assert_eq!((s.failed, s.rescued), (0, 0));
    }

    #[test]
    fn hosts_down_from_the_start_are_reported_even_if_none_is_left() {
        // Every host of the batch failed to connect: the play has nothing to run, yet each
        // host is reported unreachable and counted (ansible exits 4, never 0 in silence).
        let pb = Playbook::adhoc("all", "command", crate::playbook::Vars::new());
        let opts = Options {
            check: false,
            force_handlers: false,
            tags: Tags {
                only: Vec::new(),
                skip: Vec::new(),
            },
            gate: None,
        };
        let hosts = vec!["a".to_string(), "b".to_string()];
        let down = vec![(0, "cannot connect".to_string()), (1, "refused".into())];
        let mut s = Schedule::new(&pb, &pb.plays[0], hosts, down, opts);
        assert!(matches!(s.next_step(), Next::Done));
        let reported: Vec<String> = s
            .take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Unreachable { host, msg } => Some(format!("{host}: {msg}")),
                _ => None,
            })
            .collect();
        assert_eq!(reported, ["a: cannot connect", "b: refused"]);
        assert_eq!((s.stats[0].unreachable, s.stats[1].unreachable), (1, 1));
    }
}
