//! One task on one host: loop items (`loop`, `with_*`, `loop_control`), `when`, the module
//! (through the registry, on the host or offline), `until`/`retries`, `register`,
//! `changed_when`/`failed_when` and `ignore_errors`. The same code runs for `hactl apply` and
//! for the offline `hactl render`/`hactl lint`; only [`Where`] differs.

use std::path::Path;

use indexmap::IndexMap;
use minijinja::Value;
use serde_json::{Map, Value as Json, json};

use super::events::{Event, Sink};
use super::loops;
use crate::modules::async_job as registry_async;
use crate::modules::registry::{self, Cx, Unreachable, Where};
use crate::modules::{Mode, Outcome, Status};
use crate::playbook::{Playbook, Role, Task, Vars};
use crate::run::context::{self, Dynamic, Scope};
use crate::template::{Data, Layers, OMIT, PlayVars, Templar, to_value};

/// One result line: an item (for loops) and what happened.
#[derive(Debug, Clone)]
pub struct ItemResult {
    pub item: Option<Json>,
    /// `loop_control.label`, rendered: what the output shows instead of the item.
    pub label: Option<String>,
    pub outcome: Outcome,
}

/// What a task did on a host.
#[derive(Debug, Clone, Default)]
pub struct TaskResult {
    pub items: Vec<ItemResult>,
    pub status: Option<Status>,
    /// The host could not be reached (or the connection broke).
    pub unreachable: Option<String>,
    /// The failure was ignored (`ignore_errors`).
    pub ignored: bool,
    /// `delegate_to`: the host the task ran on instead (`ok: [h1 -> h2]`).
    pub delegated: Option<String>,
    /// `delegate_facts`: facts the task gathered, for the host it was delegated to.
    pub facts_for: Vec<(String, Map<String, Json>)>,
}

impl TaskResult {
    /// One item with `outcome`.
    pub fn single(outcome: Outcome) -> TaskResult {
        TaskResult {
            status: Some(outcome.status),
            items: vec![ItemResult {
                item: None,
                label: None,
                outcome,
            }],
            ..TaskResult::default()
        }
    }

    pub fn skipped() -> TaskResult {
        TaskResult::single(
            Outcome::new(Status::Skipped).with("skip_reason", "Conditional result was False"),
        )
    }

    /// Facts gathered: printed as `ok: [host]`.
    pub fn ok_gathered() -> TaskResult {
        TaskResult::single(Outcome::changed(false))
    }

    pub fn failed(msg: impl Into<String>) -> TaskResult {
        TaskResult::single(Outcome::failed(msg))
    }

    /// Whether any item's result says it changed something.
    pub fn changed(&self) -> bool {
        self.items
            .iter()
            .any(|i| i.outcome.result.get("changed") == Some(&Json::Bool(true)))
    }
}

/// The variables a host has gathered or set during a play.
#[derive(Debug, Default, Clone)]
pub struct HostVars {
    /// Facts gathered at the start of the play.
    pub facts: Map<String, Json>,
    /// `include_vars` results: files beside the playbook, trusted (rendered when read).
    pub included: Map<String, Json>,
    /// `set_fact`/`register` results and facts from tasks: data, never templated again.
    pub data: IndexMap<String, Value>,
    /// Play `vars` and `vars_files`, built once per host.
    pub play_layers: Vec<Value>,
}

impl HostVars {
    /// The data layer as one template value.
    fn data_value(&self) -> Value {
        Value::from_pairs(self.data.iter().map(|(k, v)| (k.as_str(), v.clone())))
    }
}

/// What every task of a play shares.
#[derive(Debug)]
pub struct PlayCx<'a> {
    pub pb: &'a Playbook,
    pub templar: &'a Templar,
    pub pv: &'a PlayVars,
    pub roles: &'a [&'a Role],
    pub extra_vars: &'a Vars,
    pub check: bool,
    pub diff: bool,
    /// `become` of the command line and the play (tasks may override).
    pub become_: bool,
    pub become_user: &'a str,
    pub sink: &'a dyn Sink,
    /// `hactl run`: the lines commands print, as they come (host, line).
    pub stream: Option<&'a super::exec::Stream>,
    /// Connections to the hosts tasks delegate to (`None` offline).
    pub delegates: Option<&'a dyn Delegates>,
    /// Files `fetch` brought from hosts during the run: `include_vars` of one of them gives
    /// data, never templated.
    pub fetched: &'a std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>,
}

impl std::fmt::Debug for dyn Delegates + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Delegates")
    }
}

/// Where `delegate_to` tasks run: a connection to any inventory host (or the controller for
/// `localhost`), opened once and shared.
pub trait Delegates: Send + Sync {
    fn connect<'a>(
        &'a self,
        host: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<std::sync::Arc<crate::transport::Connection>, String>>;
}

impl std::fmt::Debug for dyn Sink + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

/// Where a host's tasks run: its connection, or nowhere (offline).
#[allow(missing_debug_implementations)] // a connection and a borrowed output list
pub enum On<'a> {
    Host(&'a dyn registry::Exec),
    Offline {
        rendered: &'a mut Vec<registry::Rendered>,
        keep: Option<fn(&str) -> bool>,
    },
}

impl<'a> PlayCx<'a> {
    /// The variables `task` sees on `host`; `item` is the loop layer.
    pub fn vars(
        &self,
        host: &str,
        hv: &HostVars,
        scope: &Scope<'_>,
        task: Option<&Task>,
        item: Option<Value>,
    ) -> anyhow::Result<Value> {
        let data = hv.data_value();
        let dynamic = Dynamic {
            play_layers: &hv.play_layers,
            included: &hv.included,
            data: &data,
            extra_vars: self.extra_vars,
            item,
        };
        context::task_context(self.pv, self.pb, self.roles, host, scope, task, dynamic)
    }

    /// Runs `task` on one host; never fails: an error is the task's failed result.
    pub async fn run(
        &self,
        host: &str,
        hv: &mut HostVars,
        on: &mut On<'_>,
        task: &Task,
        scope: &Scope<'_>,
    ) -> TaskResult {
        let resolved;
        let task = if task.keywords.templated.is_empty() {
            task
        } else {
            match self.resolve_keywords(host, hv, task, scope) {
                Ok(t) => {
                    resolved = t;
                    &resolved
                }
                Err(e) => return TaskResult::failed(format!("{e:#}")),
            }
        };
        match self.try_run(host, hv, on, task, scope).await {
            Ok(r) => r,
            Err(e) => TaskResult::failed(format!("{e:#}")),
        }
    }

    /// The task with its templated keywords rendered for this host (`ignore_errors:
    /// "{{ ansible_check_mode }}"`), read as Ansible reads a boolean.
    fn resolve_keywords(
        &self,
        host: &str,
        hv: &HostVars,
        task: &Task,
        scope: &Scope<'_>,
    ) -> anyhow::Result<Task> {
        let ctx = self.vars(host, hv, scope, Some(task), None)?;
        let mut own = task.clone();
        for (key, template) in &task.keywords.templated {
            let value = self.templar.template_value(template, key, &ctx, host)?;
            let flag = match value.as_str() {
                Some(s) => crate::playbook::value::bool_str(s).ok_or_else(|| {
                    anyhow::anyhow!("'{key}' must be a boolean, not '{s}' (from {template})")
                })?,
                None => value.is_true(),
            };
            own.keywords.set_flag(key, flag);
        }
        own.keywords.templated.clear();
        Ok(own)
    }

    async fn try_run(
        &self,
        host: &str,
        hv: &mut HostVars,
        on: &mut On<'_>,
        task: &Task,
        scope: &Scope<'_>,
    ) -> anyhow::Result<TaskResult> {
        if let Some(elsewhere) = &task.not_in_hactl {
            // Its `when` (and loop) decide whether this host runs it; one that cannot be
            // decided offline is a refusal too, as hactl cannot tell.
            return self
                .run_items(host, hv, on, task, scope)
                .await
                .map_err(|e| {
                    if e.is::<Refusal>() {
                        return e;
                    }
                    anyhow::anyhow!(
                        "{UNDECIDED}, whose module '{}' hactl does not have ({elsewhere}): \
                         its condition or loop cannot be evaluated before the run: {e:#}",
                        task.module
                    )
                });
        }
        let offline = matches!(on, On::Offline { .. });
        if offline {
            let runs = registry::find(&task.module).map(|m| m.spec().runs);
            if runs == Some(registry::Runs::Host) || task.module == "lineinfile" {
                // Nothing of a host module runs offline; what it registers is unknown.
                if let Some(name) = &task.register {
                    hv.data.insert(name.clone(), unknown(&task.module));
                }
                return Ok(TaskResult::single(Outcome::offline(&task.module)));
            }
            let r = self.run_items(host, hv, on, task, scope).await;
            let needs_host = match &r {
                Err(e) => format!("{e:#}").contains(OFFLINE),
                Ok(r) => r.items.iter().any(|i| {
                    i.outcome.status == Status::Failed
                        && i.outcome.msg().is_some_and(|m| m.contains(OFFLINE))
                }),
            };
            // A file that cannot be rendered is an error; a controller module is skipped.
            if !needs_host || runs != Some(registry::Runs::Controller) {
                return r;
            }
            // A controller module that needs a host's result cannot run offline: skip it, and
            // leave what it would set unknown.
            let mut names: Vec<String> = task.register.iter().cloned().collect();
            if task.module == "set_fact" {
                names.extend(task.args.keys().filter(|k| *k != "cacheable").cloned());
            }
            for n in names {
                let value = unknown_derived(&n, task);
                hv.data.insert(n, value);
            }
            let skip = Outcome::new(Status::Skipped).with(
                "skip_reason",
                "it needs the result of a task on the host, which hactl render and hactl lint \
                 do not run",
            );
            return Ok(TaskResult::single(skip));
        }
        self.run_items(host, hv, on, task, scope).await
    }

    async fn run_items(
        &self,
        host: &str,
        hv: &mut HostVars,
        on: &mut On<'_>,
        task: &Task,
        scope: &Scope<'_>,
    ) -> anyhow::Result<TaskResult> {
        let base = self.vars(host, hv, scope, Some(task), None)?;
        let conds: Vec<_> = scope
            .when
            .iter()
            .chain(task.keywords.when.iter())
            .cloned()
            .collect();
        let items = match loops::items(self.templar, self.pb, scope, task, &base, host) {
            Ok(items) => items,
            // As Ansible's TaskExecutor: a loop over an undefined variable is an error only
            // if the task's `when` holds without an item; otherwise the task is skipped
            // (`loop: "{{ nginx_config_modules }}"` with `when: nginx_config_modules is
            // defined`, nginxinc.nginx_config).
            Err(e) if format!("{e:#}").contains("is undefined") => {
                if context::conditions_hold(self.templar, &conds, &base, host).unwrap_or(true) {
                    return Err(e);
                }
                let skip = Outcome::new(Status::Skipped)
                    .with("skip_reason", "Conditional result was False");
                return Ok(TaskResult::single(skip));
            }
            Err(e) => return Err(e),
        };
        if items.as_ref().is_some_and(Vec::is_empty) {
            // As ansible-core's TaskExecutor: a loop with no items skips the task (shown as
            // `skipping: [host]`, counted as skipped), its `when` unevaluated.
            let skip = Outcome::new(Status::Skipped)
                .with("skipped_reason", "No items in the list")
                .with("results", Json::Array(Vec::new()));
            if let Some(name) = &task.register {
                let mut r = skip.result.clone();
                r.insert("changed".into(), Json::Bool(false));
                r.insert("skipped".into(), Json::Bool(true));
                hv.data.insert(name.clone(), to_value(&r));
            }
            return Ok(TaskResult::single(skip));
        }
        let mut result = TaskResult::default();
        let runs: Vec<Option<Json>> = match &items {
            Some(list) => list.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        let count = runs.len();
        let pause = task.loop_control.pause.filter(|p| *p > 0.0);
        for (index, item) in runs.into_iter().enumerate() {
            if index > 0 {
                if let Some(p) = pause {
                    tokio::time::sleep(std::time::Duration::from_secs_f64(p)).await;
                }
            }
            let layer = item
                .as_ref()
                .map(|i| loops::item_layer(task, i, index, items.as_deref().unwrap_or(&[])));
            let ctx = self.vars(host, hv, scope, Some(task), layer)?;
            let label = match (&item, &task.loop_control.label) {
                (Some(_), Some(l)) => Some(self.templar.render_str(l, "loop label", &ctx, host)?),
                _ => None,
            };
            let _ = count;
            let outcome = if !context::conditions_hold(self.templar, &conds, &ctx, host)? {
                Outcome::new(Status::Skipped).with("skip_reason", "Conditional result was False")
            } else if task.not_in_hactl.is_some() {
                // An error, not a failed result: neither `failed_when` nor `ignore_errors`
                // may pass over a module that did not run.
                return Err(Refusal(refusal(task)).into());
            } else {
                match self.attempts(host, hv, on, task, scope, &ctx).await? {
                    Ok(o) => o,
                    Err(Unreachable(msg)) => {
                        result.unreachable = Some(msg);
                        return Ok(result);
                    }
                }
            };
            // Facts a module returns (set_fact, setup, include_vars) are the host's from now
            // on, also for the next item.
            let delegated_to = outcome.result.get("_delegated_to").and_then(Json::as_str);
            match (
                task.delegate_facts,
                delegated_to,
                outcome.result.get("ansible_facts"),
            ) {
                (true, Some(to), Some(Json::Object(facts))) => {
                    result.facts_for.push((to.to_string(), facts.clone()));
                }
                _ => self.keep_facts(hv, task, &outcome),
            }
            result.items.push(ItemResult {
                item,
                label,
                outcome,
            });
        }
        for i in &mut result.items {
            if let Some(Json::String(to)) = i.outcome.result.remove("_delegated_to") {
                result.delegated = Some(to);
            }
        }
        let statuses: Vec<Status> = result.items.iter().map(|i| i.outcome.status).collect();
        let status = if statuses.contains(&Status::Failed) {
            Status::Failed
        } else if statuses.contains(&Status::Changed) {
            Status::Changed
        } else if !statuses.is_empty() && statuses.iter().all(|s| *s == Status::Skipped) {
            Status::Skipped
        } else {
            Status::Ok
        };
        if let Some(name) = &task.register {
            hv.data
                .insert(name.clone(), registered(&result, items.is_some(), status));
        }
        if status == Status::Failed && task.keywords.ignore_errors == Some(true) {
            result.ignored = true;
        }
        result.status = Some(status);
        Ok(result)
    }

    /// `until`/`retries`/`delay`: the module again until the condition holds.
    async fn attempts(
        &self,
        host: &str,
        hv: &HostVars,
        on: &mut On<'_>,
        task: &Task,
        scope: &Scope<'_>,
        ctx: &Value,
    ) -> anyhow::Result<Result<Outcome, Unreachable>> {
        if task.until.is_empty() {
            let o = match self.module(host, hv, on, task, scope, ctx).await {
                Ok(o) => o,
                Err(u) => return Ok(Err(u)),
            };
            return self.judge(task, o, ctx, host).map(Ok);
        }
        let number = |v: &Option<Json>, what: &str| -> anyhow::Result<Option<f64>> {
            let Some(v) = v else { return Ok(None) };
            let rendered = context::template_json(self.templar, v, ctx, host)?;
            let n = match &rendered {
                Json::Number(n) => n.as_f64(),
                Json::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            n.map(Some)
                .ok_or_else(|| anyhow::anyhow!("'{what}' must be a number, not {rendered}"))
        };
        // As Ansible counts: no `retries` is 3 tries, `retries: N` is the first try plus N.
        let tries = match number(&task.retries, "retries")? {
            None => 3,
            Some(r) if r <= 0.0 => 1,
            Some(r) => r as u32 + 1,
        };
        let delay = number(&task.delay, "delay")?.unwrap_or(5.0).max(0.0);
        let mut attempt = 1;
        loop {
            let o = match self.module(host, hv, on, task, scope, ctx).await {
                Ok(o) => o,
                Err(u) => return Ok(Err(u)),
            };
            let mut o = self.judge(task, o, ctx, host)?;
            o.result.insert("attempts".into(), json!(attempt));
            let view = self.result_view(task, &o, ctx);
            let done = context::conditions_hold(self.templar, &task.until, &view, host)?;
            if done {
                return Ok(Ok(o));
            }
            if attempt >= tries {
                if o.status != Status::Failed {
                    o.status = Status::Failed;
                    o.result.insert("failed".into(), json!(true));
                }
                return Ok(Ok(o));
            }
            self.sink.event(Event::Retrying {
                host: host.to_string(),
                task: task.display_name(scope.role.map(|r| r.name.as_str())),
                left: tries - attempt,
            });
            attempt += 1;
            if delay > 0.0 {
                tokio::time::sleep(std::time::Duration::from_secs_f64(delay)).await;
            }
        }
    }

    /// The module with its arguments rendered.
    async fn module(
        &self,
        host: &str,
        hv: &HostVars,
        on: &mut On<'_>,
        task: &Task,
        scope: &Scope<'_>,
        ctx: &Value,
    ) -> Result<Outcome, Unreachable> {
        // `delegate_to`: the same task, with this host's variables, on another host.
        let mut delegated = None;
        if let (Some(to), On::Host(_), Some(pool)) = (&task.delegate_to, &*on, self.delegates) {
            let name = match self.templar.render_str(to, "delegate_to", ctx, host) {
                Ok(n) => n,
                Err(e) => return Ok(Outcome::failed(format!("{e:#}"))),
            };
            if name != host {
                match pool.connect(&name).await {
                    Ok(conn) => delegated = Some((name, conn)),
                    Err(e) => return Err(Unreachable(e)),
                }
            }
        }
        let mut o = match &delegated {
            Some((_, conn)) => {
                let mut there = On::Host(&**conn);
                self.module_on(host, hv, &mut there, task, scope, ctx)
                    .await?
            }
            None => self.module_on(host, hv, on, task, scope, ctx).await?,
        };
        if let Some((name, _)) = delegated {
            o.result.insert("_delegated_to".into(), Json::String(name));
        }
        Ok(o)
    }

    async fn module_on(
        &self,
        host: &str,
        hv: &HostVars,
        on: &mut On<'_>,
        task: &Task,
        scope: &Scope<'_>,
        ctx: &Value,
    ) -> Result<Outcome, Unreachable> {
        let Some(module) = registry::find(&task.module) else {
            return Ok(Outcome::failed(refusal(task)));
        };
        let mut raw = Json::Object(task.args.clone().into_iter().collect());
        if let Json::Object(given) = &mut raw {
            // `module_defaults`: arguments the task does not set, by the module's name as
            // written, its short name or its FQCN.
            let name = module.spec().name;
            let keys = [
                task.module.clone(),
                name.to_string(),
                format!("ansible.builtin.{name}"),
                format!("ansible.legacy.{name}"),
            ];
            for key in keys {
                if let Some(Json::Object(defaults)) = task.keywords.module_defaults.get(&key) {
                    for (k, v) in defaults {
                        given.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
        if let (On::Offline { .. }, Json::Object(given)) = (&*on, &mut raw) {
            self.drop_host_only_args(module.spec().name, given, ctx, host);
        }
        let args = match context::template_json(self.templar, &raw, ctx, host) {
            Ok(Json::Object(m)) => m
                .into_iter()
                .filter(|(_, v)| v.as_str() != Some(OMIT))
                .collect::<Map<_, _>>(),
            Ok(_) => Map::new(),
            Err(e) => return Ok(Outcome::failed(format!("{e:#}"))),
        };
        // `environment`, rendered for this host; values must be scalars.
        let mut env = Vec::new();
        if !task.keywords.environment.is_empty() {
            let raw = Json::Object(task.keywords.environment.clone().into_iter().collect());
            match context::template_json(self.templar, &raw, ctx, host) {
                Ok(Json::Object(m)) => {
                    for (k, v) in m {
                        let valid = !k.is_empty()
                            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                            && !k.starts_with(|c: char| c.is_ascii_digit());
                        if !valid {
                            return Ok(Outcome::failed(format!(
                                "environment: '{k}' is not a valid variable name"
                            )));
                        }
                        let text = match v {
                            Json::String(s) => s,
                            Json::Null => String::new(),
                            other => crate::template::py_str(&to_value(&other)),
                        };
                        env.push((k, text));
                    }
                }
                Ok(_) => {}
                Err(e) => return Ok(Outcome::failed(format!("{e:#}"))),
            }
        }
        let mode = Mode {
            check: task.keywords.check_mode.unwrap_or(self.check),
            diff: task.keywords.diff.unwrap_or(self.diff),
        };
        if mode.check && !module.spec().check_mode {
            // As Ansible: a module that cannot tell what it would change is skipped.
            return Ok(Outcome::new(Status::Skipped).with(
                "msg",
                format!(
                    "remote module ({}) does not support check mode",
                    module.spec().name
                ),
            ));
        }
        let become_user = match (
            task.keywords.become_.unwrap_or(self.become_),
            &task.keywords.become_user,
        ) {
            (true, Some(u)) => Some(u.as_str()),
            (true, None) => Some(self.become_user),
            (false, _) => None,
        };
        // The module's own markers (`hactl:KEY=VALUE`) are not the command's output.
        let lines = |line: &str| {
            if let Some(f) = self.stream {
                if !line.starts_with("hactl:") {
                    (f.0)(host, line);
                }
            }
        };
        let streams = self.stream.is_some()
            && matches!(
                registry::canonical(&task.module),
                Some("command" | "shell" | "raw")
            );
        let at = match on {
            On::Host(conn) => Where::Host {
                conn: *conn,
                become_user,
                stream: if streams { Some(&lines) } else { None },
                env: &env,
            },
            On::Offline { rendered, keep } => Where::Offline {
                rendered,
                keep: *keep,
            },
        };
        let async_job = match self.async_job(task, ctx, host) {
            Ok(j) => j,
            Err(e) => return Ok(Outcome::failed(format!("{e:#}"))),
        };
        let note = |p: registry_async::Progress| {
            self.sink.event(super::events::Event::Async {
                host: host.to_string(),
                progress: p,
            });
        };
        let mut cx = Cx {
            module: &task.module,
            args,
            mode,
            host,
            facts: &hv.facts,
            vars: ctx,
            templar: self.templar,
            task,
            role_path: scope.role.map(|r| r.path.as_path()),
            playbook_dir: Path::new(&self.pb.dir),
            at,
            async_job,
            on_async: Some(registry_async::OnProgress(&note)),
        };
        module.run(&mut cx).await
    }

    /// `async` and `poll`, rendered: seconds; `poll` defaults to 10 as in Ansible.
    fn async_job(
        &self,
        task: &Task,
        ctx: &Value,
        host: &str,
    ) -> anyhow::Result<Option<registry_async::AsyncJob>> {
        let Some(timeout) = &task.async_ else {
            return Ok(None);
        };
        let seconds = |v: &Json, what: &str| -> anyhow::Result<u64> {
            let rendered = context::template_json(self.templar, v, ctx, host)?;
            match &rendered {
                Json::Number(n) => n.as_u64(),
                Json::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| anyhow::anyhow!("'{what}' must be a number of seconds, not {rendered}"))
        };
        let timeout = seconds(timeout, "async")?;
        let poll = match &task.poll {
            Some(p) => seconds(p, "poll")?,
            None => 10,
        };
        Ok(Some(registry_async::AsyncJob { timeout, poll }))
    }

    /// Offline, the arguments of `template` and `copy` that only the host acts on (`validate`,
    /// `backup`, ownership, SELinux) do not change the file rendered; one that needs a result
    /// only the host gives (willshersystems.sshd's `validate` names a registered `tempfile`
    /// path) is left out rather than failing the render. Any other error still fails.
    fn drop_host_only_args(
        &self,
        module: &str,
        given: &mut Map<String, Json>,
        ctx: &Value,
        host: &str,
    ) {
        const HOST_ONLY: &[&str] = &[
            "validate",
            "backup",
            "owner",
            "group",
            "seuser",
            "serole",
            "setype",
            "selevel",
            "attributes",
            "unsafe_writes",
        ];
        if !matches!(module, "template" | "copy") {
            return;
        }
        given.retain(|key, value| {
            !HOST_ONLY.contains(&key.as_str())
                || !context::template_json(self.templar, value, ctx, host)
                    .is_err_and(|e| format!("{e:#}").contains(OFFLINE))
        });
    }

    /// The context with the result under the `register` name (for `changed_when`,
    /// `failed_when` and `until`).
    fn result_view(&self, task: &Task, outcome: &Outcome, ctx: &Value) -> Value {
        match &task.register {
            Some(name) => {
                let layer = Data::layer(Value::from_pairs([(
                    name.as_str(),
                    to_value(&outcome.result),
                )]));
                Layers::new(vec![ctx.clone(), layer]).into_value()
            }
            None => ctx.clone(),
        }
    }

    /// `changed_when` and `failed_when`.
    fn judge(
        &self,
        task: &Task,
        mut outcome: Outcome,
        ctx: &Value,
        host: &str,
    ) -> anyhow::Result<Outcome> {
        if task.changed_when.is_empty() && task.failed_when.is_empty() {
            return Ok(outcome);
        }
        let view = self.result_view(task, &outcome, ctx);
        if !task.changed_when.is_empty() && outcome.status != Status::Skipped {
            let changed = context::conditions_hold(self.templar, &task.changed_when, &view, host)?;
            outcome.result.insert("changed".into(), json!(changed));
            if outcome.status != Status::Failed {
                outcome.status = if changed { Status::Changed } else { Status::Ok };
            }
        }
        if !task.failed_when.is_empty() {
            let failed = context::conditions_hold(self.templar, &task.failed_when, &view, host)?;
            outcome.result.insert("failed".into(), json!(failed));
            outcome.status = match (failed, outcome.status) {
                (true, _) => Status::Failed,
                (false, Status::Failed) => {
                    if outcome.result.get("changed") == Some(&json!(true)) {
                        Status::Changed
                    } else {
                        Status::Ok
                    }
                }
                (false, s) => s,
            };
        }
        Ok(outcome)
    }

    /// Facts a module returned become the host's variables: `include_vars` files as trusted
    /// variables, everything else as data.
    fn keep_facts(&self, hv: &mut HostVars, task: &Task, outcome: &Outcome) {
        let module = registry::canonical(&task.module);
        if module == Some("fetch") {
            // A file a host sent is the host's data, wherever it is read from later.
            if let Some(Json::String(dest)) = outcome.result.get("dest") {
                let path = std::path::PathBuf::from(dest);
                if let Ok(mut f) = self.fetched.lock() {
                    f.insert(std::fs::canonicalize(&path).unwrap_or(path));
                }
            }
        }
        let Some(Json::Object(facts)) = outcome.result.get("ansible_facts") else {
            return;
        };
        let from_host = |r: &Outcome| {
            let files = r
                .result
                .get("ansible_included_var_files")
                .and_then(Json::as_array);
            let fetched = self.fetched.lock();
            match (files, fetched) {
                (Some(files), Ok(fetched)) => files.iter().filter_map(Json::as_str).any(|f| {
                    let path = std::path::PathBuf::from(f);
                    fetched.contains(&std::fs::canonicalize(&path).unwrap_or(path))
                }),
                _ => false,
            }
        };
        if module == Some("include_vars") && !from_host(outcome) {
            hv.included.extend(facts.clone());
            return;
        }
        for (k, v) in facts {
            hv.data.insert(k.clone(), to_value(v));
        }
    }
}

/// What the refusal of a task whose module hactl lacks says (`engine::preflight` looks for
/// it).
pub const REFUSED: &str = "hactl does not have the module";

/// What is said when hactl cannot tell whether a host runs such a task.
pub const UNDECIDED: &str = "hactl cannot tell whether this host runs the task";

/// The refusal of a task whose module hactl lacks, on a host that runs it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refusal(String);

/// Why a task whose module hactl lacks is refused on a host that runs it.
fn refusal(task: &Task) -> String {
    match &task.not_in_hactl {
        Some(elsewhere) if elsewhere.starts_with("the library module") => format!(
            "{REFUSED} '{}' ({elsewhere}), and this host runs the task: hactl runs no Python \
             on hosts, so it refuses the task (replace it with hactl's modules, or make its \
             `when` false for this host)",
            task.module
        ),
        Some(elsewhere) => format!(
            "{REFUSED} '{}' ({elsewhere}), and this host runs the task: hactl refuses it \
             (replace it with hactl's modules, or make its `when` false for this host)",
            task.module
        ),
        None => format!("hactl cannot run the module '{}'", task.module),
    }
}

/// What every offline "cannot know" error says.
const OFFLINE: &str = "which hactl render and hactl lint do not run";

/// A value that fails when used, naming the host module it would come from.
fn unknown(module: &str) -> Value {
    Value::from(minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        format!("this is the result of the '{module}' module on the host, {OFFLINE}"),
    ))
}

/// A value a controller task would have set from something only a host knows.
fn unknown_derived(name: &str, task: &Task) -> Value {
    Value::from(minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        format!(
            "'{name}' is set by the task at {} from the result of a task on the host, {OFFLINE} \
             (give it with -e {name}=... to render with a value)",
            task.origin
        ),
    ))
}

/// What `register` stores: the result, or for a loop `{results: [...], changed, ...}`. A
/// host module that did not run (offline) registers a value that fails when used, naming
/// why, so nothing downstream silently sees an empty result.
fn registered(result: &TaskResult, looped: bool, status: Status) -> Value {
    let offline = result
        .items
        .iter()
        .find_map(|i| i.outcome.result.get("skipped_offline"))
        .and_then(Json::as_str);
    if let Some(module) = offline {
        return unknown(module);
    }
    if !looped {
        // As ansible-core, a registered result always says whether it failed.
        let mut r = result
            .items
            .first()
            .map(|i| i.outcome.result.clone())
            .unwrap_or_default();
        r.entry("failed")
            .or_insert(Json::Bool(status == Status::Failed));
        r.retain(|k, _| !k.starts_with("_ansible"));
        return to_value(&r);
    }
    let results: Vec<Json> = result
        .items
        .iter()
        .map(|i| {
            let mut r = i.outcome.result.clone();
            r.retain(|k, _| !k.starts_with("_ansible"));
            r.insert("item".into(), i.item.clone().unwrap_or(Json::Null));
            Json::Object(r)
        })
        .collect();
    to_value(json!({
        "results": results,
        "changed": status == Status::Changed,
        "failed": status == Status::Failed,
        "skipped": status == Status::Skipped,
        "msg": "All items completed",
    }))
}
