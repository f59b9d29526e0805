//! Reading a task list: tasks, handlers and blocks, module detection as Ansible's
//! `ModuleArgsParser` does it, and static `import_tasks`.

use std::path::Path;

use super::catalogue;
use super::error::{Error, did_you_mean};
use super::kv::parse_kv;
use super::load::{Context, Loader};
use super::model::{Block, Item, Keywords, Loop, LoopControl, Origin, Task, Vars};
use super::value::{self, boolean, conditions, string, string_list, tags};
use crate::modules::registry;
use crate::yaml::{Node, Yaml};

/// Keywords every task, block and play takes (Ansible's `Base`, `Conditional`, `Taggable`).
const BASE_KEYWORDS: &[&str] = &[
    "name",
    "connection",
    "port",
    "remote_user",
    "vars",
    "module_defaults",
    "environment",
    "no_log",
    "run_once",
    "ignore_errors",
    "ignore_unreachable",
    "check_mode",
    "diff",
    "any_errors_fatal",
    "throttle",
    "timeout",
    "debugger",
    "become",
    "become_method",
    "become_user",
    "become_flags",
    "become_exe",
    "when",
    "tags",
    "collections",
];

/// Keywords only tasks take.
const TASK_KEYWORDS: &[&str] = &[
    "args",
    "action",
    "local_action",
    "async",
    "changed_when",
    "delay",
    "failed_when",
    "loop",
    "loop_control",
    "poll",
    "register",
    "retries",
    "until",
    "notify",
    "delegate_to",
    "delegate_facts",
    "listen",
];

/// Keywords hactl reads but does not act on yet; using one gets a warning, not silence.
const IGNORED_KEYWORDS: &[&str] = &[
    "port",
    "timeout",
    "debugger",
    "become_flags",
    "become_exe",
    "collections",
    "async",
    "poll",
    "delegate_facts",
];

/// Prefixes that name the same builtin module.
const MODULE_PREFIXES: &[&str] = &["ansible.builtin.", "ansible.legacy."];

/// The module name without a builtin collection prefix.
pub fn short_module(name: &str) -> &str {
    MODULE_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

impl Loader {
    /// Reads a list of tasks (a file's root or a section of a play).
    pub(crate) fn items(&mut self, node: &Node, ctx: &Context) -> Result<Vec<Item>, Error> {
        match &node.value {
            Yaml::Null => Ok(Vec::new()),
            Yaml::Seq(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for entry in entries {
                    out.push(self.item(entry, ctx)?);
                }
                Ok(out)
            }
            _ => Err(Error::at(
                &ctx.file,
                node.mark,
                format!("a task list must be a list of tasks, not {}", node.kind()),
            )),
        }
    }

    fn item(&mut self, node: &Node, ctx: &Context) -> Result<Item, Error> {
        if node.as_map().is_none() {
            return Err(Error::at(
                &ctx.file,
                node.mark,
                format!("a task must be a mapping, not {}", node.kind()),
            ));
        }
        if node.get("block").is_some() {
            return self
                .block(node, ctx)
                .map(|b| Item::Block(std::sync::Arc::new(b)));
        }
        let name = node.get("name").and_then(Node::as_str).map(String::from);
        let task = self.task(node, ctx).map_err(|e| match &name {
            Some(n) => e.in_task(n),
            None => e,
        })?;
        if matches!(task.module.as_str(), "import_tasks") {
            return self
                .import_tasks(task, ctx)
                .map(|b| Item::Block(std::sync::Arc::new(b)));
        }
        if matches!(task.module.as_str(), "include_role" | "import_role") {
            // Load the role now, so a missing role is an error before anything runs.
            let name = task
                .args
                .get("name")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            if name.is_empty() {
                let msg = format!("{} needs a role name", task.module);
                return Err(Error::at(&ctx.file, task.origin.mark, msg));
            }
            if !name.contains("{{") {
                self.load_role(name, &task.origin)?;
            }
        }
        Ok(Item::Task(std::sync::Arc::new(task)))
    }

    fn block(&mut self, node: &Node, ctx: &Context) -> Result<Block, Error> {
        let file = &ctx.file;
        let mut block = Block {
            name: None,
            block: Vec::new(),
            rescue: Vec::new(),
            always: Vec::new(),
            keywords: Keywords::default(),
            origin: Origin {
                file: file.clone(),
                mark: node.mark,
            },
        };
        for (k, v) in node.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or_default();
            match key {
                "block" => block.block = self.items(v, ctx)?,
                "rescue" => block.rescue = self.items(v, ctx)?,
                "always" => block.always = self.items(v, ctx)?,
                "name" => block.name = Some(string(v, file, key)?),
                _ if BASE_KEYWORDS.contains(&key) || key == "delegate_to" || key == "notify" => {
                    self.keyword(&mut block.keywords, key, v, file)?;
                }
                _ => return Err(unknown_keyword(file, k, key, "block")),
            }
        }
        Ok(block)
    }

    /// The file of a module called `name` in a `library/` folder Ansible would search: the
    /// task's role, the other roles loaded so far (Ansible adds every role's library of the
    /// play), and the playbook's folder. Such modules are Python (or other programs run with
    /// Ansible's module arguments file), which hactl does not run on hosts.
    fn library_module(&self, name: &str, ctx: &Context) -> Option<std::path::PathBuf> {
        let dirs = ctx
            .role
            .iter()
            .chain(self.roles.keys())
            .map(|r| r.join("library"))
            .chain(std::iter::once(self.dir.join("library")));
        for dir in dirs {
            for file in [
                name.to_string(),
                format!("{name}.py"),
                format!("{name}.ps1"),
            ] {
                let path = dir.join(&file);
                if path.is_file() {
                    return Some(path);
                }
            }
        }
        None
    }

    /// Reads one task mapping.
    pub(crate) fn task(&mut self, node: &Node, ctx: &Context) -> Result<Task, Error> {
        let file = &ctx.file;
        let mut task = Task {
            name: None,
            module: String::new(),
            args: Vars::new(),
            keywords: Keywords::default(),
            notify: Vec::new(),
            listen: Vec::new(),
            register: None,
            looping: None,
            loop_control: LoopControl::default(),
            changed_when: Vec::new(),
            failed_when: Vec::new(),
            until: Vec::new(),
            retries: None,
            delay: None,
            async_: None,
            poll: None,
            delegate_to: None,
            delegate_facts: false,
            not_in_hactl: None,
            origin: Origin {
                file: file.clone(),
                mark: node.mark,
            },
            role: ctx.role.clone(),
        };
        let mut action: Option<(String, &Node, &Node)> = None;
        let mut extra_args = Vars::new();
        for (k, v) in node.as_map().unwrap_or_default() {
            let Some(key) = k.as_str() else {
                return Err(Error::at(file, k.mark, "task keys must be strings"));
            };
            match key {
                "name" => task.name = Some(string(v, file, key)?),
                "notify" => task.notify = string_list(v, file, key)?,
                "listen" if ctx.handlers => task.listen = string_list(v, file, key)?,
                "register" => task.register = Some(string(v, file, key)?),
                "changed_when" => task.changed_when = conditions(v, file, key)?,
                "failed_when" => task.failed_when = conditions(v, file, key)?,
                "until" => task.until = conditions(v, file, key)?,
                "async" => task.async_ = Some(value::value(v)),
                "poll" => task.poll = Some(value::value(v)),
                "delegate_facts" => task.delegate_facts = boolean(v, file, key)?,
                "retries" => task.retries = Some(value::value(v)),
                "delay" => task.delay = Some(value::value(v)),
                "delegate_to" => task.delegate_to = Some(string(v, file, key)?),
                "loop" => set_loop(&mut task, None, v, file, k)?,
                "loop_control" => task.loop_control = loop_control(v, file)?,
                "args" => extra_args = value::vars(v, file, "args")?,
                "action" | "local_action" => {
                    let (module, _) = split_action(v, file)?;
                    if key == "local_action" {
                        task.delegate_to = Some("localhost".into());
                    }
                    claim_action(&mut action, module, k, v, file)?;
                }
                _ if key.starts_with("with_") => {
                    let lookup = key.trim_start_matches("with_").to_string();
                    set_loop(&mut task, Some(lookup), v, file, k)?;
                }
                _ if BASE_KEYWORDS.contains(&key) => {
                    self.keyword(&mut task.keywords, key, v, file)?;
                }
                _ => {
                    let module = short_module(key);
                    if registry::find(key).is_some() {
                        claim_action(&mut action, module.to_string(), k, v, file)?;
                    } else if did_you_mean(key, &all_keywords()).is_some() || key == "listen" {
                        return Err(unknown_keyword(file, k, key, "task"));
                    } else if let Some(elsewhere) = catalogue::where_ansible_has(
                        key,
                        self.library_module(key, ctx).as_deref(),
                        &self.collections,
                    ) {
                        // Ansible has it: the task loads, and is refused for a host that
                        // would run it (hactl runs no Python on hosts, and has no
                        // stand-in for this module).
                        task.not_in_hactl = Some(elsewhere);
                        claim_action(&mut action, key.to_string(), k, v, file)?;
                    } else {
                        let mut err = Error::at(
                            file,
                            k.mark,
                            format!("couldn't resolve module/action '{key}'"),
                        );
                        let names = registry::names();
                        if let Some(m) = did_you_mean(module, &names) {
                            err = err.hint(format!("did you mean '{m}'?"));
                        } else {
                            err = err.hint(format!("hactl's modules: {}", names.join(", ")));
                        }
                        return Err(err);
                    }
                }
            }
        }
        let Some((module, key_node, args_node)) = action else {
            return Err(Error::at(
                file,
                node.mark,
                "no module/action detected in task",
            ));
        };
        task.module = module;
        task.args = module_args(&task.module, key_node, args_node, file)?;
        for (k, v) in extra_args {
            task.args.entry(k).or_insert(v);
        }
        if task.module == "meta" {
            let what = task
                .args
                .get("_raw_params")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            const RUNS: &[&str] = &[
                "flush_handlers",
                "noop",
                "end_play",
                "end_host",
                "end_batch",
                "clear_facts",
                "clear_host_errors",
                "refresh_inventory",
                "reset_connection",
            ];
            if !RUNS.contains(&what) {
                return Err(Error::at(
                    file,
                    node.mark,
                    format!("hactl does not run 'meta: {what}'"),
                )
                .hint(format!("hactl runs meta: {}", RUNS.join(", "))));
            }
        }
        Ok(task)
    }

    /// Reads a keyword shared by plays, blocks and tasks into `kw`.
    pub(crate) fn keyword(
        &mut self,
        kw: &mut Keywords,
        key: &str,
        v: &Node,
        file: &Path,
    ) -> Result<(), Error> {
        match key {
            "remote_user" => kw.remote_user = Some(string(v, file, key)?),
            // A play's `connection` is read by the play's loader; below a play, hactl would
            // need a second connection to the host for one task.
            "connection" => {
                return Err(Error::at(
                    file,
                    v.mark,
                    "hactl takes 'connection' on a play only, not on a task, block or role",
                )
                .hint("set it on the play, or set ansible_connection for the host"));
            }
            "become" if !templated(kw, key, v) => kw.become_ = Some(boolean(v, file, key)?),
            "become_user" => kw.become_user = Some(string(v, file, key)?),
            "become_method" => {
                let m = string(v, file, key)?;
                if m.strip_prefix("ansible.builtin.").unwrap_or(&m) != "sudo" {
                    return Err(Error::at(
                        file,
                        v.mark,
                        format!(
                            "become_method '{m}' is not supported: hactl becomes with sudo only"
                        ),
                    ));
                }
                kw.become_method = Some(m);
            }
            "check_mode" if !templated(kw, key, v) => kw.check_mode = Some(boolean(v, file, key)?),
            "diff" if !templated(kw, key, v) => kw.diff = Some(boolean(v, file, key)?),
            "no_log" if !templated(kw, key, v) => kw.no_log = Some(boolean(v, file, key)?),
            "ignore_errors" if !templated(kw, key, v) => {
                kw.ignore_errors = Some(boolean(v, file, key)?)
            }
            "ignore_unreachable" if !templated(kw, key, v) => {
                kw.ignore_unreachable = Some(boolean(v, file, key)?)
            }
            "any_errors_fatal" => kw.any_errors_fatal = Some(boolean(v, file, key)?),
            "run_once" => kw.run_once = Some(boolean(v, file, key)?),
            "environment" => kw.environment = value::vars(v, file, key)?,
            "module_defaults" => kw.module_defaults = value::vars(v, file, key)?,
            "throttle" => {
                let n = match &v.value {
                    Yaml::Int(n) if *n >= 0 => Some(*n),
                    Yaml::Str(s) => s.trim().parse::<i64>().ok().filter(|n| *n >= 0),
                    _ => None,
                };
                if n.is_none() {
                    return Err(Error::at(
                        file,
                        v.mark,
                        "'throttle' must be a number of hosts (hactl does not template it)",
                    ));
                }
                kw.throttle = Some(value::value(v));
            }
            "vars" => kw.vars = value::vars(v, file, key)?,
            "tags" => kw.tags = tags(v, file)?,
            "when" => kw.when = conditions(v, file, key)?,
            "name" => {}
            _ if IGNORED_KEYWORDS.contains(&key) => self.warn(format!(
                "{}:{}:{}: hactl does not act on the keyword '{key}' yet; it is ignored",
                file.display(),
                v.mark.line,
                v.mark.col
            )),
            _ => {}
        }
        Ok(())
    }

    /// `import_tasks`: the file's tasks, inlined now, under the import's keywords.
    fn import_tasks(&mut self, task: Task, ctx: &Context) -> Result<Block, Error> {
        let raw = task
            .args
            .get("_raw_params")
            .or_else(|| task.args.get("file"));
        let Some(target) = raw.and_then(|v| v.as_str()) else {
            return Err(Error::at(
                &ctx.file,
                task.origin.mark,
                "import_tasks needs a file name",
            ));
        };
        if target.contains("{{") {
            return Err(Error::at(
                &ctx.file,
                task.origin.mark,
                "import_tasks is static: its file name cannot use variables",
            )
            .hint("use include_tasks for a dynamic file name"));
        }
        let path = self.find_tasks_file(target, ctx).ok_or_else(|| {
            Error::at(
                &ctx.file,
                task.origin.mark,
                format!("could not find tasks file '{target}'"),
            )
        })?;
        let items = self.tasks_file(&path, ctx)?;
        Ok(Block {
            name: task.name,
            block: items,
            rescue: Vec::new(),
            always: Vec::new(),
            keywords: task.keywords,
            origin: task.origin,
        })
    }
}

/// A boolean keyword written as a template (`ignore_errors: "{{ ansible_check_mode }}"`) is
/// kept to be rendered for each host when the task runs.
fn templated(kw: &mut Keywords, key: &str, v: &Node) -> bool {
    match &v.value {
        Yaml::Str(s) if s.contains("{{") || s.contains("{%") => {
            kw.templated.retain(|(k, _)| k != key);
            kw.templated.push((key.to_string(), s.clone()));
            true
        }
        _ => false,
    }
}

fn all_keywords() -> Vec<&'static str> {
    BASE_KEYWORDS.iter().chain(TASK_KEYWORDS).copied().collect()
}

fn unknown_keyword(file: &Path, k: &Node, key: &str, what: &str) -> Error {
    let err = Error::at(
        file,
        k.mark,
        format!("'{key}' is not a valid attribute for a {what}"),
    );
    match did_you_mean(key, &all_keywords()) {
        Some(s) => err.hint(format!("did you mean '{s}'?")),
        None => err,
    }
}

/// Records the task's module, refusing a second one as Ansible does.
fn claim_action<'a>(
    slot: &mut Option<(String, &'a Node, &'a Node)>,
    module: String,
    k: &'a Node,
    v: &'a Node,
    file: &Path,
) -> Result<(), Error> {
    if let Some((first, _, _)) = slot {
        return Err(Error::at(
            file,
            k.mark,
            format!("conflicting action statements: {first}, {module}"),
        ));
    }
    *slot = Some((module, k, v));
    Ok(())
}

/// `action: template src=a dest=b` or `action: {module: template, src: a}`.
fn split_action(v: &Node, file: &Path) -> Result<(String, Option<String>), Error> {
    if let Some(s) = v.as_str() {
        let mut parts = s.trim_start().splitn(2, char::is_whitespace);
        let module = short_module(parts.next().unwrap_or_default()).to_string();
        return Ok((module, parts.next().map(String::from)));
    }
    match v.get("module").and_then(Node::as_str) {
        Some(m) => Ok((short_module(m).to_string(), None)),
        None => Err(Error::at(file, v.mark, "'action' needs a module name")),
    }
}

/// The module's arguments from a mapping or a free-form `k=v` string.
fn module_args(module: &str, key: &Node, v: &Node, file: &Path) -> Result<Vars, Error> {
    let is_action = matches!(key.as_str(), Some("action" | "local_action"));
    let free_form = registry::find(module).is_some_and(|m| m.spec().free_form);
    let from_string = |s: &str| -> Result<Vars, Error> {
        let parsed = parse_kv(s, free_form).map_err(|e| Error::at(file, v.mark, e.to_string()))?;
        Ok(parsed
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect())
    };
    match &v.value {
        Yaml::Null => Ok(Vars::new()),
        Yaml::Str(s) | Yaml::Unsafe(s) if is_action => {
            let rest = s
                .trim_start()
                .split_once(char::is_whitespace)
                .map(|(_, r)| r);
            rest.map_or_else(|| Ok(Vars::new()), from_string)
        }
        Yaml::Str(s) | Yaml::Unsafe(s) => from_string(s),
        Yaml::Map(_) if is_action => {
            let mut args = value::vars(v, file, "action")?;
            args.shift_remove("module");
            Ok(args)
        }
        Yaml::Map(_) => value::vars(v, file, module),
        Yaml::Int(_) | Yaml::Float(_) | Yaml::Bool(_) => from_string(&v.py_repr()),
        Yaml::Seq(_) => Err(Error::at(
            file,
            v.mark,
            format!("the arguments of '{module}' must be a mapping or a string, not a list"),
        )),
    }
}

fn set_loop(
    task: &mut Task,
    lookup: Option<String>,
    v: &Node,
    file: &Path,
    k: &Node,
) -> Result<(), Error> {
    if task.looping.is_some() {
        return Err(Error::at(
            file,
            k.mark,
            "a task can have only one loop (loop or with_*)",
        ));
    }
    if let Some(name) = &lookup {
        let known = crate::engine::loops::WITH_LOOKUPS;
        if !known.contains(&name.as_str()) {
            return Err(
                Error::at(file, k.mark, format!("hactl does not support with_{name}"))
                    .hint(format!("hactl runs with_{}", known.join(", with_"))),
            );
        }
    }
    task.looping = Some(Loop::Items {
        lookup,
        value: value::value(v),
    });
    Ok(())
}

fn loop_control(v: &Node, file: &Path) -> Result<LoopControl, Error> {
    let mut lc = LoopControl::default();
    for (k, val) in v.as_map().unwrap_or_default() {
        let key = k.as_str().unwrap_or_default();
        match key {
            "loop_var" => lc.loop_var = Some(string(val, file, key)?),
            "index_var" => lc.index_var = Some(string(val, file, key)?),
            "label" => lc.label = Some(string(val, file, key)?),
            "pause" => lc.pause = val.as_f64(),
            "extended" => lc.extended = boolean(val, file, key)?,
            "extended_allitems" | "break_when" => {}
            _ => {
                return Err(Error::at(
                    file,
                    k.mark,
                    format!("'{key}' is not a valid loop_control option"),
                ));
            }
        }
    }
    Ok(lc)
}

/// Keywords plays, blocks, roles and tasks share.
pub(crate) fn shared_keywords() -> &'static [&'static str] {
    BASE_KEYWORDS
}
