//! One task on one host: loop items, `when`, the module (on the controller or as one script on
//! the host), `register`, `changed_when`/`failed_when`, and what to report.

use minijinja::Value;
use serde_json::{Map, Value as Json, json};

use super::Play;
use crate::modules::{self, FileDiff, Mode, Outcome, Status, file_put, lineinfile, protocol};
use crate::playbook::Task;
use crate::run::context::{self, Dynamic, Scope};
use crate::run::lookup;
use crate::template::{OMIT, to_value};
use crate::transport::{Connection, Transport};

/// One result line: an item (for loops) and what happened.
#[derive(Debug, Clone)]
pub struct ItemResult {
    pub item: Option<Json>,
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
}

/// A host's own state during a play.
#[derive(Debug)]
pub struct HostState {
    pub name: String,
    pub conn: Option<Connection>,
    pub facts: Map<String, Json>,
    /// `set_fact` and `register` results.
    pub dynamic: Map<String, Json>,
    pub play_layers: Vec<Value>,
    /// Notifications whose handlers have not run on this host yet, as recorded there.
    pub pending: std::collections::BTreeSet<String>,
}

impl Play<'_> {
    /// Runs `task` on one host.
    pub async fn run_task(
        &self,
        host: &mut HostState,
        task: &Task,
        scope: &Scope<'_>,
    ) -> TaskResult {
        match self.try_task(host, task, scope).await {
            Ok(r) => r,
            Err(e) => TaskResult {
                items: vec![ItemResult {
                    item: None,
                    outcome: Outcome::failed(format!("{e:#}")),
                }],
                status: Some(Status::Failed),
                ..TaskResult::default()
            },
        }
    }

    fn ctx(
        &self,
        host: &HostState,
        scope: &Scope<'_>,
        task: &Task,
        item: Option<(&str, &Json)>,
    ) -> anyhow::Result<Value> {
        let dynamic = Dynamic {
            play_layers: &host.play_layers,
            facts: &host.dynamic,
            extra_vars: &self.opts.extra_vars,
            item,
        };
        context::task_context(
            &self.pv,
            self.pb,
            &self.roles,
            &host.name,
            scope,
            Some(task),
            dynamic,
        )
    }

    async fn try_task(
        &self,
        host: &mut HostState,
        task: &Task,
        scope: &Scope<'_>,
    ) -> anyhow::Result<TaskResult> {
        let base = self.ctx(host, scope, task, None)?;
        let conds: Vec<_> = scope
            .when
            .iter()
            .chain(task.keywords.when.iter())
            .cloned()
            .collect();
        let loop_var = task
            .loop_control
            .loop_var
            .clone()
            .unwrap_or_else(|| "item".into());
        let items = if task.looping.is_some() {
            Some(context::loop_items(&self.templar, task, &base, &host.name)?.unwrap_or_default())
        } else {
            None
        };
        let mut result = TaskResult::default();
        let runs: Vec<Option<Json>> = match &items {
            Some(list) => list.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        for item in runs {
            let ctx = self.ctx(
                host,
                scope,
                task,
                item.as_ref().map(|i| (loop_var.as_str(), i)),
            )?;
            let outcome = if !context::conditions_hold(&self.templar, &conds, &ctx, &host.name)? {
                Outcome::new(Status::Skipped).with("skip_reason", "Conditional result was False")
            } else {
                let outcome = match self.module(host, task, scope, &ctx).await {
                    Ok(o) => o,
                    Err(Unreachable(msg)) => {
                        result.unreachable = Some(msg);
                        return Ok(result);
                    }
                };
                self.judge(task, outcome, &ctx, &host.name)?
            };
            result.items.push(ItemResult { item, outcome });
        }
        // A task's status: failed if any item failed, else changed if any changed, else ok,
        // skipped only if every item was skipped.
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
            host.dynamic
                .insert(name.clone(), registered(&result, items.is_some(), status));
        }
        if status == Status::Failed && task.keywords.ignore_errors == Some(true) {
            result.ignored = true;
        }
        result.status = Some(status);
        Ok(result)
    }

    /// `changed_when` and `failed_when`, which see the result under the `register` name.
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
        let mut view = ctx.clone();
        if let Some(name) = &task.register {
            let layer = crate::template::Data::layer(Value::from_pairs([(
                name.as_str(),
                to_value(&outcome.result),
            )]));
            view = crate::template::Layers::new(vec![ctx.clone(), layer]).into_value();
        }
        if !task.changed_when.is_empty() && outcome.status != Status::Skipped {
            let changed = context::conditions_hold(&self.templar, &task.changed_when, &view, host)?;
            outcome.result.insert("changed".into(), json!(changed));
            if outcome.status != Status::Failed {
                outcome.status = if changed { Status::Changed } else { Status::Ok };
            }
        }
        if !task.failed_when.is_empty() {
            let failed = context::conditions_hold(&self.templar, &task.failed_when, &view, host)?;
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

    async fn module(
        &self,
        host: &mut HostState,
        task: &Task,
        scope: &Scope<'_>,
        ctx: &Value,
    ) -> Result<Outcome, Unreachable> {
        let args = match context::template_json(
            &self.templar,
            &Json::Object(task.args.clone().into_iter().collect()),
            ctx,
            &host.name,
        ) {
            Ok(Json::Object(m)) => m
                .into_iter()
                .filter(|(_, v)| v.as_str() != Some(OMIT))
                .collect::<Map<_, _>>(),
            Ok(_) => Map::new(),
            Err(e) => return Ok(Outcome::failed(format!("{e:#}"))),
        };
        let mode = Mode {
            check: task.keywords.check_mode.unwrap_or(self.opts.check),
            diff: task.keywords.diff.unwrap_or(self.opts.diff),
        };
        let role_path = scope.role.map(|r| r.path.as_path());
        let step = match task.module.as_str() {
            "debug" => return Ok(debug(&args, ctx, &self.templar, &host.name)),
            "set_fact" => {
                for (k, v) in &args {
                    if k != "cacheable" {
                        host.dynamic.insert(k.clone(), v.clone());
                    }
                }
                return Ok(Outcome::changed(false).with("ansible_facts", Json::Object(args)));
            }
            "fail" => {
                let msg = args
                    .get("msg")
                    .and_then(Json::as_str)
                    .unwrap_or("Failed as requested from task");
                return Ok(Outcome::failed(msg));
            }
            "assert" => return Ok(assert(&args, ctx, &self.templar, &host.name)),
            "meta" | "gather_facts" | "setup" => return Ok(Outcome::changed(false)),
            "lineinfile" => {
                let Some(conn) = &host.conn else {
                    return Err(Unreachable("no connection".into()));
                };
                return self.lineinfile(conn, task, &args, mode).await;
            }
            "template" | "copy" => {
                match self.put(&task.module, &args, role_path, ctx, &host.name, mode) {
                    Ok(step) => step,
                    Err(e) => return Ok(Outcome::failed(format!("{e:#}"))),
                }
            }
            other => match modules::plan(other, &args, mode, &host.facts) {
                Ok(step) => step,
                Err(e) => return Ok(Outcome::failed(e.0)),
            },
        };
        let Some(conn) = &host.conn else {
            return Err(Unreachable("no connection".into()));
        };
        match step {
            modules::Step::Done(o) => Ok(o),
            modules::Step::Remote(remote) => self.remote(conn, task, remote, mode).await,
        }
    }

    /// `script` as the task's become user, if it asks for one.
    fn as_user(&self, task: &Task, script: String) -> String {
        match (
            task.keywords.become_.unwrap_or(self.become_default()),
            &task.keywords.become_user,
        ) {
            (true, user) => crate::run::target::become_script(
                &script,
                user.as_deref().unwrap_or(&self.opts.conn.become_user),
            ),
            (false, _) => script,
        }
    }

    /// Runs a module's script on the host, as the task's become user if it asks for one.
    async fn remote(
        &self,
        conn: &Connection,
        task: &Task,
        remote: modules::Remote,
        mode: Mode,
    ) -> Result<Outcome, Unreachable> {
        let out = conn
            .exec(&self.as_user(task, remote.script), &remote.stdin)
            .await
            .map_err(|e| Unreachable(e.to_string()))?;
        let mut outcome = (remote.finish)(out);
        if mode.check && outcome.status != Status::Skipped {
            outcome.result.insert("check_mode".into(), json!(true));
        }
        Ok(outcome)
    }

    /// `lineinfile`: read the file (one round trip), edit it here, and write it through
    /// `file_put` only when its content or attributes may change.
    async fn lineinfile(
        &self,
        conn: &Connection,
        task: &Task,
        args: &Map<String, Json>,
        mode: Mode,
    ) -> Result<Outcome, Unreachable> {
        let p = match lineinfile::params(args) {
            Ok(p) => p,
            Err(e) => return Ok(Outcome::failed(e.0)),
        };
        let read = conn
            .exec(&self.as_user(task, lineinfile::read_script(&p.path)), b"")
            .await
            .map_err(|e| Unreachable(e.to_string()))?;
        if !read.success() {
            return Ok(protocol::failed_from(&read, "could not read the file"));
        }
        let before = match lineinfile::parse_read(&read.stdout) {
            lineinfile::Found::File(b) => Some(b),
            lineinfile::Found::Nothing => None,
            lineinfile::Found::Folder => {
                return Ok(
                    Outcome::failed(format!("Path {} is a directory !", p.path)).with("rc", 256)
                );
            }
        };
        let edit = match lineinfile::edit(before, &p) {
            Ok(e) => e,
            Err(f) => {
                let mut o = Outcome::failed(f.msg);
                if let Some(rc) = f.rc {
                    o = o.with("rc", rc);
                }
                return Ok(o);
            }
        };
        let attrs = p.put.mode.is_some() || p.put.owner.is_some() || p.put.group.is_some();
        let finish = |mut o: Outcome, msg: String| {
            o.result.insert("msg".into(), json!(msg));
            o.result.insert("backup".into(), json!(""));
            if let Some(found) = edit.found {
                o.result.insert("found".into(), json!(found));
            }
            o
        };
        // Nothing to write: no file (absent, or check mode of a file to create is handled by
        // the write), or the same content and no attributes to check.
        if before.is_none() && !p.present
            || !edit.changed && !attrs
            || before.is_none() && !edit.changed
        {
            return Ok(finish(Outcome::changed(false), edit.msg));
        }
        let mut write = match file_put::plan(edit.after.clone(), &p.put, mode) {
            modules::Step::Remote(r) => r,
            modules::Step::Done(o) => return Ok(o),
        };
        if before.is_none() && !mode.check {
            // Ansible makes the missing folders of a file it creates.
            let dir = std::path::Path::new(&p.path)
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            if !dir.is_empty() {
                write.script = format!(
                    "mkdir -p -- {} || exit 2\n{}",
                    crate::transport::shell_quote(&dir),
                    write.script
                );
            }
        }
        let wrote = self.remote(conn, task, write, mode).await?;
        if wrote.status == Status::Failed {
            return Ok(wrote);
        }
        let msg = match (edit.changed, wrote.status == Status::Changed) {
            (true, _) => edit.msg.clone(),
            (false, true) => "ownership, perms or SE linux context changed".to_string(),
            (false, false) => edit.msg.clone(),
        };
        let backup = wrote.result.get("backup_file").cloned();
        let mut o = finish(wrote, msg);
        if let Some(b) = backup {
            o.result.insert("backup".into(), b);
        }
        o.result.remove("checksum");
        Ok(o)
    }

    /// The controller side of `template` and `copy`: the bytes to put and where.
    fn put(
        &self,
        module: &str,
        args: &Map<String, Json>,
        role: Option<&std::path::Path>,
        ctx: &Value,
        host: &str,
        mode: Mode,
    ) -> anyhow::Result<modules::Step> {
        let (opts, src) = file_put::options(module, args)?;
        let dir = &self.pb.dir;
        let content = lookup::put_content(
            &self.templar,
            module,
            args,
            src.as_deref(),
            role,
            dir,
            ctx,
            host,
            true,
        )?
        .unwrap_or_default();
        Ok(file_put::plan(content, &opts, mode))
    }
}

/// The host could not be reached while running a task.
#[derive(Debug)]
pub struct Unreachable(pub String);

/// What `register` stores: the result, or for a loop `{results: [...], changed, ...}`.
fn registered(result: &TaskResult, looped: bool, status: Status) -> Json {
    if !looped {
        return result
            .items
            .first()
            .map(|i| Json::Object(i.outcome.result.clone()))
            .unwrap_or(json!({}));
    }
    let results: Vec<Json> = result
        .items
        .iter()
        .map(|i| {
            let mut r = i.outcome.result.clone();
            r.insert("item".into(), i.item.clone().unwrap_or(Json::Null));
            Json::Object(r)
        })
        .collect();
    json!({
        "results": results,
        "changed": status == Status::Changed,
        "failed": status == Status::Failed,
        "skipped": status == Status::Skipped,
        "msg": "All items completed",
    })
}

fn debug(
    args: &Map<String, Json>,
    ctx: &Value,
    templar: &crate::template::Templar,
    host: &str,
) -> Outcome {
    if let Some(var) = args.get("var").and_then(Json::as_str) {
        let value = templar
            .template_value(&format!("{{{{ {var} }}}}"), "debug", ctx, host)
            .map(|v| serde_json::to_value(&v).unwrap_or(Json::Null))
            .unwrap_or_else(|_| json!("VARIABLE IS NOT DEFINED!"));
        return Outcome::changed(false).with(var, value);
    }
    let msg = args
        .get("msg")
        .cloned()
        .unwrap_or_else(|| json!("Hello world!"));
    Outcome::changed(false).with("msg", msg)
}

fn assert(
    args: &Map<String, Json>,
    ctx: &Value,
    templar: &crate::template::Templar,
    host: &str,
) -> Outcome {
    let that: Vec<String> = match args.get("that") {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Bool(b)) => vec![b.to_string()],
        _ => return Outcome::failed("missing required arguments: that"),
    };
    for cond in &that {
        match templar.eval_condition(cond, ctx, host) {
            Ok(true) => {}
            Ok(false) => {
                let msg = args
                    .get("fail_msg")
                    .or_else(|| args.get("msg"))
                    .and_then(Json::as_str)
                    .unwrap_or("Assertion failed");
                return Outcome::failed(msg)
                    .with("assertion", cond.as_str())
                    .with("evaluated_to", false);
            }
            Err(e) => return Outcome::failed(e.to_string()),
        }
    }
    let msg = args
        .get("success_msg")
        .and_then(Json::as_str)
        .unwrap_or("All assertions passed");
    Outcome::changed(false).with("msg", msg)
}

/// Whether a diff is worth printing.
pub fn has_diff(d: &Option<FileDiff>) -> bool {
    d.as_ref()
        .is_some_and(|d| d.before.as_deref() != Some(d.after.as_str()))
}
