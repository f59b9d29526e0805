//! `hactl render`: every `template` task (and the `content:` of every `copy` task), loops
//! included, rendered for every targeted host into `DIR/<inventory_hostname>/<dest>`, without
//! touching any host. It walks plays the way a run would (roles and their dependencies,
//! blocks, `when`, `include_tasks`, `include_role`, `set_fact`), but runs nothing else.

use std::collections::HashSet;
use std::path::PathBuf;

use minijinja::Value;
use serde_json::{Map, Value as Json};

use super::context::{self, Dynamic, Facts, Scope, play_roles, play_vars};
use super::lookup;
use crate::inventory::Inventory;
use crate::inventory::pattern;
use crate::playbook::{Item, Play, Playbook, Role, RoleUse, Task, Vars};
use crate::template::{OMIT, PlayInfo, PlayVars, Templar, to_value};

/// What to render and where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write files under `out/<host>/`; `None` keeps them in [`Report::files`] instead.
    pub out: Option<PathBuf>,
    pub limit: Option<String>,
    pub extra_vars: Vars,
    pub facts: Facts,
    /// Render only the files whose destination path passes this test (`hactl lint` renders
    /// keepalived configs only, so a broken nginx template does not hide them).
    pub only: Option<fn(&str) -> bool>,
}

/// A file rendered in memory.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub host: String,
    /// The destination path on the host.
    pub dest: String,
    /// The task's `src`, when it has one.
    pub src: Option<String>,
    pub bytes: Vec<u8>,
}

/// What a render did: files written, and per-host errors (other hosts carry on).
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    /// With no `out` folder: the rendered files, in render order.
    pub files: Vec<Rendered>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Renders every template of `pb` for every host its plays target.
pub fn render(inv: &Inventory, pb: &Playbook, opts: &Options) -> Result<Report, anyhow::Error> {
    let templar = Templar::new();
    let mut report = Report::default();
    for play in &pb.plays {
        let selection = pattern::select(inv, &play.hosts, opts.limit.as_deref())?;
        report.warnings.extend(selection.warnings);
        let info = PlayInfo {
            hosts: selection.hosts.clone(),
            playbook_dir: pb.dir.display().to_string(),
            check_mode: false,
        };
        let pv = play_vars(inv, &opts.facts, &info);
        let roles = play_roles(pb, play);
        for host in &selection.hosts {
            let mut walk = Walk {
                pb,
                play,
                templar: &templar,
                pv: &pv,
                roles: &roles,
                host,
                opts,
                facts: Map::new(),
                play_layers: Vec::new(),
                done_roles: HashSet::new(),
                written: Vec::new(),
                files: Vec::new(),
            };
            match walk.play() {
                Ok(()) => {
                    report.written.extend(walk.written);
                    report.files.extend(walk.files);
                }
                Err(e) => report.errors.push(format!("{host}: {e:#}")),
            }
        }
    }
    Ok(report)
}

/// One host's walk through one play.
struct Walk<'a> {
    pb: &'a Playbook,
    play: &'a Play,
    templar: &'a Templar,
    pv: &'a PlayVars,
    roles: &'a [&'a Role],
    host: &'a str,
    opts: &'a Options,
    /// `set_fact` results so far.
    facts: Map<String, Json>,
    /// Play `vars` and `vars_files`, built once per host.
    play_layers: Vec<Value>,
    done_roles: HashSet<(PathBuf, String)>,
    written: Vec<PathBuf>,
    files: Vec<Rendered>,
}

impl<'a> Walk<'a> {
    fn play(&mut self) -> anyhow::Result<()> {
        let (pv, pb, roles, host) = (self.pv, self.pb, self.roles, self.host);
        let (facts, extra) = (&self.facts, &self.opts.extra_vars);
        self.play_layers = context::play_layers(self.templar, pb, self.play, host, |layers| {
            let dynamic = Dynamic {
                play_layers: layers,
                facts,
                extra_vars: extra,
                item: None,
            };
            context::task_context(pv, pb, roles, host, &Scope::default(), None, dynamic)
        })?;
        let root = Scope::default();
        self.items(&self.play.pre_tasks, &root)?;
        for role_use in &self.play.roles {
            self.role(role_use, &root)?;
        }
        self.items(&self.play.tasks, &root)?;
        self.items(&self.play.post_tasks, &root)
    }

    fn role(&mut self, role_use: &'a RoleUse, outer: &Scope<'a>) -> anyhow::Result<()> {
        let Some(role) = self.pb.roles.get(&role_use.path) else {
            anyhow::bail!("role '{}' was not loaded", role_use.name);
        };
        let key = (
            role.path.clone(),
            serde_json::to_string(&role_use.params).unwrap_or_default(),
        );
        if !role.allow_duplicates && !self.done_roles.insert(key) {
            return Ok(());
        }
        let mut scope = outer.clone();
        scope.when.extend(role_use.keywords.when.iter().cloned());
        scope.vars.push(to_value(&role_use.keywords.vars));
        for dep in &role.dependencies {
            self.role(dep, &scope)?;
        }
        scope.role = Some(role);
        scope.params = Some(&role_use.params);
        self.items(&role.tasks, &scope)
    }

    fn items(&mut self, items: &[Item], scope: &Scope<'a>) -> anyhow::Result<()> {
        for item in items {
            match item {
                Item::Block(b) => {
                    let mut inner = scope.clone();
                    inner.when.extend(b.keywords.when.iter().cloned());
                    inner.vars.push(to_value(&b.keywords.vars));
                    // A render runs nothing that can fail, so `rescue` never runs.
                    self.items(&b.block, &inner)?;
                    self.items(&b.always, &inner)?;
                }
                Item::Task(t) => self.task(t, scope)?,
            }
        }
        Ok(())
    }

    /// The variables `task` sees, with `item` set when looping.
    fn context(
        &self,
        scope: &Scope<'a>,
        task: Option<&Task>,
        item: Option<(&str, &Json)>,
    ) -> anyhow::Result<Value> {
        let dynamic = Dynamic {
            play_layers: &self.play_layers,
            facts: &self.facts,
            extra_vars: &self.opts.extra_vars,
            item,
        };
        context::task_context(
            self.pv, self.pb, self.roles, self.host, scope, task, dynamic,
        )
    }

    fn task(&mut self, task: &Task, scope: &Scope<'a>) -> anyhow::Result<()> {
        if !matches!(
            task.module.as_str(),
            "template" | "copy" | "set_fact" | "include_tasks" | "include_role" | "import_role"
        ) {
            return Ok(());
        }
        let at = |e: anyhow::Error| {
            let name = task.name.clone().unwrap_or_else(|| task.module.clone());
            e.context(format!("task '{name}' at {}", task.origin))
        };
        let items = self.loop_items(task, scope).map_err(at)?;
        let loop_var = task.loop_control.loop_var.as_deref().unwrap_or("item");
        match items {
            None => self.task_once(task, scope, None).map_err(at),
            Some(items) => {
                for item in &items {
                    self.task_once(task, scope, Some((loop_var, item)))
                        .map_err(at)?;
                }
                Ok(())
            }
        }
    }

    fn loop_items(&self, task: &Task, scope: &Scope<'a>) -> anyhow::Result<Option<Vec<Json>>> {
        let ctx = self.context(scope, Some(task), None)?;
        context::loop_items(self.templar, task, &ctx, self.host)
    }

    fn task_once(
        &mut self,
        task: &Task,
        scope: &Scope<'a>,
        item: Option<(&str, &Json)>,
    ) -> anyhow::Result<()> {
        let ctx = self.context(scope, Some(task), item)?;
        let conds = scope.when.iter().chain(task.keywords.when.iter());
        if !context::conditions_hold(self.templar, conds, &ctx, self.host)? {
            return Ok(());
        }
        let args = match self
            .template_json(&Json::Object(task.args.clone().into_iter().collect()), &ctx)?
        {
            Json::Object(m) => m,
            _ => Map::new(),
        };
        let args: Map<String, Json> = args
            .into_iter()
            .filter(|(_, v)| v.as_str() != Some(OMIT))
            .collect();
        let role_path = scope.role.map(|r| r.path.as_path());
        match task.module.as_str() {
            "template" | "copy" => {
                let (opts, src) = crate::modules::file_put::options(&task.module, &args)?;
                let dest = dest_path(&opts.dest, &opts.name);
                if self.opts.only.is_some_and(|only| !only(&dest)) {
                    return Ok(());
                }
                let content = lookup::put_content(
                    self.templar,
                    &task.module,
                    &args,
                    src.as_deref(),
                    role_path,
                    &self.pb.dir,
                    &ctx,
                    self.host,
                    false,
                )?;
                match content {
                    Some(bytes) => self.write(dest, src, bytes),
                    None => Ok(()),
                }
            }
            "set_fact" => {
                for (k, v) in args {
                    if k != "cacheable" {
                        self.facts.insert(k, v);
                    }
                }
                Ok(())
            }
            "include_tasks" => {
                let file = args
                    .get("_raw_params")
                    .or_else(|| args.get("file"))
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                let path = lookup::find(file, "tasks", role_path, &self.pb.dir, "tasks file")?;
                let (items, _) = crate::playbook::load_tasks_file(&path, role_path, &self.pb.dir)?;
                self.items(&items, scope)
            }
            _ => {
                let name = args.get("name").and_then(Json::as_str).unwrap_or_default();
                let Some(role) = self.pb.roles.values().find(|r| r.name == name) else {
                    anyhow::bail!("the role '{name}' was not found");
                };
                let mut inner = scope.clone();
                inner.role = Some(role);
                self.items(&role.tasks, &inner)
            }
        }
    }

    fn template_json(&self, value: &Json, ctx: &Value) -> anyhow::Result<Json> {
        context::template_json(self.templar, value, ctx, self.host)
    }

    /// Writes one rendered file under `DIR/<host>/`, or keeps it when there is no folder.
    fn write(&mut self, dest: String, src: Option<String>, bytes: Vec<u8>) -> anyhow::Result<()> {
        let Some(out) = &self.opts.out else {
            self.files.push(Rendered {
                host: self.host.to_string(),
                dest,
                src,
                bytes,
            });
            return Ok(());
        };
        let path = out.join(self.host).join(dest.trim_start_matches('/'));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &bytes)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        self.written.push(path);
        Ok(())
    }
}

/// Where a file goes: `dest`, or `dest/name` when `dest` is a folder (ends with `/`).
fn dest_path(dest: &str, name: &str) -> String {
    if dest.ends_with('/') || dest.is_empty() {
        format!("{dest}{name}")
    } else {
        dest.to_string()
    }
}
