//! `hactl apply`: a playbook on real hosts with Ansible's `linear` strategy. Every task runs on
//! all active hosts at once (up to `--forks`), one SSH round trip per task and host; a failed
//! or unreachable host drops out and the others carry on; handlers run once, in definition
//! order, at each flush, on the hosts that notified them; output and exit codes are
//! ansible-playbook's.

mod batches;
mod output;
mod pending;
mod steps;
mod task;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures::future::join_all;
use serde_json::Map;
use tokio::sync::Semaphore;

use crate::cli::ConnectionArgs;
use crate::inventory::{Inventory, pattern};
use crate::modules::Status;
use crate::playbook::{Playbook, Role, Vars};
use crate::run::context::{self, Dynamic, Scope};
use crate::template::{PlayInfo, PlayVars, Templar};
use crate::transport::{self, Transport};
use steps::{Section, Step, Walker};
use task::{HostState, TaskResult};

pub use output::Stats;

/// How to run.
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
    /// Show secrets in diffs.
    pub show_secrets: bool,
    /// Do not lint the keepalived configs before the first task.
    pub skip_lint: bool,
}

/// One play being run: what every host shares.
#[derive(Debug)]
pub struct Play<'a> {
    pb: &'a Playbook,
    templar: Templar,
    pv: PlayVars,
    roles: Vec<&'a Role>,
    opts: &'a Options,
    become_: Option<bool>,
}

impl Play<'_> {
    fn become_default(&self) -> bool {
        self.become_.unwrap_or(self.opts.conn.become_)
    }
}

/// Runs every play of `pb`; returns the per-host stats in inventory order.
pub async fn apply(
    inv: &Inventory,
    pb: &Playbook,
    opts: &Options,
) -> anyhow::Result<BTreeMap<String, Stats>> {
    let mut stats: BTreeMap<String, Stats> = BTreeMap::new();
    // Hosts that failed or were unreachable take no part in later batches or plays.
    let mut out: HashSet<String> = HashSet::new();
    'plays: for play in &pb.plays {
        let selection = pattern::select(inv, &play.hosts, opts.limit.as_deref())?;
        for w in &selection.warnings {
            crate::report::warning(w);
        }
        let hosts: Vec<String> = selection
            .hosts
            .iter()
            .filter(|h| !out.contains(*h))
            .cloned()
            .collect();
        if hosts.is_empty() {
            output::banner(&format!("PLAY [{}]", play.name));
            crate::report::out("skipping: no hosts matched");
            continue;
        }
        for batch in batches::split(&play.serial, &hosts) {
            output::banner(&format!("PLAY [{}]", play.name));
            let end = run_play(inv, pb, play, &batch, opts, &mut stats).await?;
            let all_out = batch.iter().all(|h| end.out.contains(h));
            out.extend(end.out);
            // As ansible-playbook: a batch in which every host failed, or which went over
            // `max_fail_percentage`, ends the whole run.
            if all_out || end.abort {
                break 'plays;
            }
        }
    }
    output::recap(inv, &stats);
    Ok(stats)
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

async fn run_play(
    inv: &Inventory,
    pb: &Playbook,
    play: &crate::playbook::Play,
    hosts: &[String],
    opts: &Options,
    stats: &mut BTreeMap<String, Stats>,
) -> anyhow::Result<batches::BatchEnd> {
    let walker = Walker::play(pb, play)?;
    let gate = Semaphore::new(opts.conn.forks.unwrap_or(hosts.len().clamp(1, 256)));
    for h in hosts {
        stats.entry(h.clone()).or_default();
    }
    // Connect to every host at once; one master connection each, kept for the play.
    let targets: Vec<_> = hosts
        .iter()
        .map(|h| {
            crate::run::target::play_target(inv, h, &opts.conn, play, &opts.extra_vars)
                .map_err(|e| anyhow::anyhow!(e))
        })
        .collect::<Result<_, _>>()?;
    let conns = join_all(targets.iter().map(|t| async {
        let _slot = gate.acquire().await;
        transport::connect(t).await
    }))
    .await;
    let mut states: Vec<HostState> = Vec::new();
    let mut down: Vec<(String, String)> = Vec::new();
    for (host, conn) in hosts.iter().zip(conns) {
        match conn {
            Ok(c) => states.push(HostState {
                name: host.clone(),
                conn: Some(c),
                facts: Map::new(),
                dynamic: Map::new(),
                play_layers: Vec::new(),
                pending: BTreeSet::new(),
            }),
            Err(e) => {
                let text = e.to_string();
                let msg = text
                    .strip_prefix(&format!("{host}: "))
                    .map_or(text.clone(), String::from);
                down.push((host.clone(), msg));
            }
        }
    }
    if play.gather_facts {
        output::banner("TASK [Gathering Facts]");
        // The same round trip reads the handlers an earlier run left pending.
        let script = format!("{}\n{}", crate::facts::SCRIPT, pending::read_script());
        let gathered = join_all(states.iter().map(|s| async {
            let _slot = gate.acquire().await;
            match &s.conn {
                Some(c) => c.exec(&script, b"").await.map_err(|e| e.to_string()),
                None => Err("no connection".into()),
            }
        }))
        .await;
        let mut kept = Vec::new();
        for (mut s, g) in states.into_iter().zip(gathered) {
            match g {
                Ok(out) => {
                    let text = String::from_utf8_lossy(&out.stdout);
                    s.facts = crate::facts::parse(&text);
                    s.pending = pending::parse(&text);
                    output::result_line("ok", &s.name, None, None);
                    if let Some(st) = stats.get_mut(&s.name) {
                        st.ok += 1;
                    }
                    kept.push(s);
                }
                Err(e) => down.push((s.name.clone(), e)),
            }
        }
        states = kept;
    } else {
        pending::load(&mut states, &gate).await;
    }
    // Hosts that could not be reached are reported under the first task, as Ansible finds
    // out there: Gathering Facts, else the play's first task.
    let mut unreported = down.clone();
    if play.gather_facts {
        report_down(&mut unreported, stats);
    }
    let facts: context::Facts = states
        .iter()
        .map(|s| (s.name.clone(), s.facts.clone()))
        .collect();
    if !opts.skip_lint {
        crate::lint::gate::before_tasks(inv, pb, hosts, &facts, &opts.extra_vars)?;
    }
    let info = PlayInfo {
        hosts: hosts.to_vec(),
        playbook_dir: pb.dir.display().to_string(),
        check_mode: opts.check,
    };
    let runner = Play {
        pb,
        templar: Templar::new(),
        pv: context::play_vars(inv, &facts, &info),
        roles: context::play_roles(pb, play),
        opts,
        become_: play.keywords.become_,
    };
    for s in &mut states {
        let (pv, roles) = (&runner.pv, &runner.roles);
        let dynamic_facts = Map::new();
        s.play_layers = context::play_layers(&runner.templar, pb, play, &s.name, |layers| {
            let d = Dynamic {
                play_layers: layers,
                facts: &dynamic_facts,
                extra_vars: &opts.extra_vars,
                item: None,
            };
            context::task_context(pv, pb, roles, &s.name, &Scope::default(), None, d)
        })?;
    }

    // Hosts out of the play: failed, unreachable, or taken out by `any_errors_fatal` or
    // `max_fail_percentage`; and those that failed a task (what the percentage counts).
    let mut failed: HashSet<String> = down.iter().map(|(h, _)| h.clone()).collect();
    let mut task_failures: HashSet<String> = HashSet::new();
    let mut abort = false;
    let mut notified: Vec<HashSet<String>> = vec![HashSet::new(); walker.handlers.len()];
    // Per host: blocks whose `block` part failed, and whether their rescue went well.
    let mut block_failed: Vec<HashSet<usize>> = vec![HashSet::new(); states.len()];
    pending::renotify(&walker, &states, &mut notified);
    for step in &walker.steps {
        match step {
            Step::Flush => {
                runner
                    .flush(&walker, &mut states, &mut notified, &failed, &gate, stats)
                    .await;
            }
            Step::Task {
                task,
                scope,
                blocks,
            } => {
                if !tags_match(
                    &scope.tags,
                    &task.keywords.tags,
                    &opts.tags,
                    &opts.skip_tags,
                ) {
                    continue;
                }
                // Which hosts run this step.
                let mut runs: Vec<bool> = states
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        !failed.contains(&s.name) && in_block_path(blocks, &block_failed[i])
                    })
                    .collect();
                // `run_once`: the first host runs it; its result is everyone's.
                let run_once = task.keywords.run_once == Some(true);
                let also: Vec<usize> = if run_once {
                    let mut active = runs.iter().enumerate().filter(|(_, r)| **r).map(|(i, _)| i);
                    let first = active.next();
                    let rest: Vec<usize> = active.collect();
                    for i in &rest {
                        runs[*i] = false;
                    }
                    if first.is_none() { Vec::new() } else { rest }
                } else {
                    Vec::new()
                };
                // Hosts leaving a failed block that no rescue saved are failed now.
                if !runs.iter().any(|r| *r) && unreported.is_empty() {
                    continue;
                }
                let name = task.display_name(scope.role.map(|r| r.name.as_str()));
                output::banner(&format!("TASK [{name}]"));
                if !unreported.is_empty() {
                    report_down(&mut unreported, stats);
                    if !runs.iter().any(|r| *r) {
                        break;
                    }
                }
                let progress = crate::report::progress(&name, runs.iter().filter(|r| **r).count());
                let results: Vec<Option<TaskResult>> =
                    join_all(states.iter_mut().zip(&runs).map(|(s, run)| {
                        let (runner, gate, progress) = (&runner, &gate, &progress);
                        async move {
                            if !*run {
                                return None;
                            }
                            let _slot = gate.acquire().await;
                            let host = s.name.clone();
                            progress.host_started(&host);
                            let r = runner.run_task(s, task, scope).await;
                            let failed =
                                r.unreachable.is_some() || r.status == Some(Status::Failed);
                            progress.host_done(&host, failed);
                            Some(r)
                        }
                    }))
                    .await;
                progress.finish();
                output::group_diffs(
                    states
                        .iter()
                        .zip(&results)
                        .filter_map(|(s, r)| Some((s.name.as_str(), r.as_ref()?))),
                    task.keywords.no_log == Some(true),
                    opts.show_secrets,
                );
                if let Some(first) = runs.iter().position(|r| *r).filter(|_| run_once) {
                    share_once(&mut states, first, &also, task, results.get(first));
                }
                let mut remember = Vec::new();
                let mut failed_now = false;
                for (i, r) in results.into_iter().enumerate() {
                    let Some(r) = r else { continue };
                    let host = states[i].name.clone();
                    let st = stats.entry(host.clone()).or_default();
                    if let Some(msg) = &r.unreachable {
                        output::unreachable(&host, msg);
                        st.unreachable += 1;
                        failed.insert(host);
                        failed_now = true;
                        continue;
                    }
                    output::task_result(
                        &host,
                        &r,
                        task.keywords.no_log == Some(true),
                        opts.show_secrets,
                    );
                    let status = r.status.unwrap_or(Status::Ok);
                    st.count(status, r.ignored);
                    if status == Status::Changed {
                        if !opts.check {
                            let before = states[i].pending.len();
                            states[i]
                                .pending
                                .extend(pending::notifiable(&task.notify).cloned());
                            if states[i].pending.len() != before {
                                remember.push(i);
                            }
                        }
                        for n in &task.notify {
                            for (h, set) in walker.handlers.iter().zip(notified.iter_mut()) {
                                if h.answers(n) {
                                    set.insert(host.clone());
                                }
                            }
                        }
                    }
                    if status == Status::Failed && !r.ignored {
                        // Inside a block with a rescue, the rescue takes over; else the host is out.
                        match blocks
                            .iter()
                            .rev()
                            .find(|(_, sec, rescue)| *sec == Section::Block && *rescue)
                        {
                            Some((id, _, _)) => {
                                block_failed[i].insert(*id);
                                st.failed_in_block += 1;
                            }
                            None => {
                                failed_now = true;
                                task_failures.insert(host.clone());
                                failed.insert(host);
                            }
                        }
                    } else if status != Status::Failed {
                        if let Some((id, _, _)) = blocks
                            .iter()
                            .rev()
                            .find(|(_, sec, _)| *sec == Section::Rescue)
                        {
                            if block_failed[i].contains(id) {
                                st.rescued_pending = true;
                            }
                        }
                    }
                }
                pending::save(&states, &remember, &gate).await;
                if failed_now {
                    let fatal = task
                        .keywords
                        .any_errors_fatal
                        .or(scope.any_errors_fatal)
                        .or(play.keywords.any_errors_fatal)
                        .unwrap_or(run_once)
                        && task.keywords.ignore_errors != Some(true);
                    let over = play.max_fail_percentage.is_some_and(|pct| {
                        task_failures.len() as f64 / hosts.len() as f64 > pct / 100.0
                    });
                    if fatal || over {
                        // Every other host stops here too (not counted as failed).
                        failed.extend(states.iter().map(|s| s.name.clone()));
                        abort |= over;
                    }
                    if over {
                        // ansible-playbook says so twice (for the percentage, then for the
                        // hosts left); when every host failed by itself, or after
                        // `any_errors_fatal`, it says nothing.
                        output::banner("NO MORE HOSTS LEFT");
                        output::banner("NO MORE HOSTS LEFT");
                    }
                    if hosts.iter().all(|h| failed.contains(h)) {
                        break;
                    }
                }
            }
        }
    }
    report_down(&mut unreported, stats);
    for s in &mut stats.values_mut() {
        s.settle();
    }
    for s in states {
        if let Some(c) = s.conn {
            let _ = c.close().await;
        }
    }
    let mut out: Vec<String> = failed.into_iter().collect();
    out.sort();
    Ok(batches::BatchEnd { out, abort })
}

/// A `run_once` task's `register` and `set_fact` results, from the host that ran it, given to
/// the hosts at `others`, as Ansible applies them to every host of the batch.
fn share_once(
    states: &mut [HostState],
    first: usize,
    others: &[usize],
    task: &crate::playbook::Task,
    result: Option<&Option<TaskResult>>,
) {
    let mut shared = Map::new();
    if let Some(name) = &task.register {
        if let Some(v) = states[first].dynamic.get(name) {
            shared.insert(name.clone(), v.clone());
        }
    }
    if let Some(Some(r)) = result {
        for item in &r.items {
            if let Some(serde_json::Value::Object(facts)) = item.outcome.result.get("ansible_facts")
            {
                shared.extend(facts.clone());
            }
        }
    }
    for i in others {
        if let Some(s) = states.get_mut(*i) {
            s.dynamic.extend(shared.clone());
        }
    }
}

/// Reports hosts that could not be reached (and forgets them).
fn report_down(down: &mut Vec<(String, String)>, stats: &mut BTreeMap<String, Stats>) {
    for (host, msg) in down.drain(..) {
        output::unreachable(&host, &msg);
        if let Some(st) = stats.get_mut(&host) {
            st.unreachable += 1;
        }
    }
}

/// Whether a host runs a step, given the blocks around it and the blocks it failed in: the
/// `block` part of a failed block is over, its `rescue` runs only after a failure.
fn in_block_path(blocks: &[(usize, Section, bool)], failed_blocks: &HashSet<usize>) -> bool {
    blocks.iter().all(|(id, section, _)| match section {
        Section::Block => !failed_blocks.contains(id),
        Section::Rescue => failed_blocks.contains(id),
        Section::Always => true,
    })
}

/// Ansible's tag selection: `always` runs unless skipped by name, `never` only when asked.
fn tags_match(inherited: &[String], own: &[String], only: &[String], skip: &[String]) -> bool {
    let tags: Vec<&str> = inherited.iter().chain(own).map(String::as_str).collect();
    if tags.iter().any(|t| skip.iter().any(|s| s == t)) {
        return false;
    }
    if only.is_empty() || only.iter().any(|o| o == "all") {
        return !tags.contains(&"never") || only.iter().any(|o| o == "never");
    }
    tags.contains(&"always")
        || tags.iter().any(|t| only.iter().any(|o| o == t))
        || (only.iter().any(|o| o == "tagged") && !tags.is_empty())
        || (only.iter().any(|o| o == "untagged") && tags.is_empty())
}

impl Play<'_> {
    /// Runs every notified handler once, in definition order, on the hosts that notified it.
    async fn flush(
        &self,
        walker: &Walker<'_>,
        states: &mut [HostState],
        notified: &mut [HashSet<String>],
        failed: &HashSet<String>,
        gate: &Semaphore,
        stats: &mut BTreeMap<String, Stats>,
    ) {
        // Per host: the handlers that ran there without failing, to settle pending names.
        let mut ran: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); states.len()];
        for (index, (handler, hosts)) in walker.handlers.iter().zip(notified.iter_mut()).enumerate()
        {
            if hosts.is_empty() {
                continue;
            }
            let name = handler
                .task
                .display_name(handler.scope.role.map(|r| r.name.as_str()));
            output::banner(&format!("RUNNING HANDLER [{name}]"));
            let chosen: Vec<bool> = states
                .iter()
                .map(|s| {
                    hosts.contains(&s.name)
                        && (!failed.contains(&s.name) || self.opts.force_handlers)
                })
                .collect();
            let results = join_all(states.iter_mut().zip(&chosen).map(|(s, run)| async move {
                if !*run {
                    return None;
                }
                let _slot = gate.acquire().await;
                Some(self.run_task(s, handler.task, &handler.scope).await)
            }))
            .await;
            for (i, (s, r)) in states.iter().zip(results).enumerate() {
                let Some(r) = r else { continue };
                let st = stats.entry(s.name.clone()).or_default();
                if let Some(msg) = &r.unreachable {
                    output::unreachable(&s.name, msg);
                    st.unreachable += 1;
                    continue;
                }
                if r.status != Some(Status::Failed) || r.ignored {
                    ran[i].insert(index);
                }
                output::task_result(
                    &s.name,
                    &r,
                    handler.task.keywords.no_log == Some(true),
                    self.opts.show_secrets,
                );
                st.count(r.status.unwrap_or(Status::Ok), r.ignored);
            }
            hosts.clear();
        }
        if !self.opts.check {
            let mut settled = Vec::new();
            for (i, s) in states.iter_mut().enumerate() {
                let done = pending::settled(&s.pending, &walker.handlers, &ran[i]);
                if !done.is_empty() {
                    s.pending.retain(|n| !done.contains(n));
                    settled.push(i);
                }
            }
            pending::save(states, &settled, gate).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn tag_selection() {
        assert!(tags_match(&[], &[], &[], &[]));
        assert!(!tags_match(&[], &s(&["never"]), &[], &[]));
        assert!(tags_match(&[], &s(&["conf"]), &s(&["conf"]), &[]));
        assert!(!tags_match(&[], &s(&["pkg"]), &s(&["conf"]), &[]));
        assert!(tags_match(&s(&["always"]), &[], &s(&["conf"]), &[]));
        assert!(!tags_match(&s(&["conf"]), &[], &[], &s(&["conf"])));
        assert!(tags_match(&[], &s(&["x"]), &s(&["tagged"]), &[]));
        assert!(tags_match(&[], &[], &s(&["untagged"]), &[]));
    }

    #[test]
    fn block_paths() {
        let failed: HashSet<usize> = [1].into_iter().collect();
        assert!(!in_block_path(&[(1, Section::Block, true)], &failed));
        assert!(in_block_path(&[(1, Section::Rescue, true)], &failed));
        assert!(in_block_path(&[(1, Section::Always, true)], &failed));
        assert!(!in_block_path(&[(2, Section::Rescue, true)], &failed));
    }
}
