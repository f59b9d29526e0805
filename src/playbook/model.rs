//! What a playbook is once loaded: plays, roles, blocks and tasks, each with the place in its
//! file it came from. Values stay as written (templates unrendered) until a run renders them.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::Value;

use crate::yaml::Mark;

/// Variables in source order.
pub type Vars = IndexMap<String, Value>;

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub mark: Mark,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.file.display(),
            self.mark.line,
            self.mark.col
        )
    }
}

/// A loaded playbook: its plays and every role they use.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub path: PathBuf,
    /// The folder the playbook is in (`playbook_dir`).
    pub dir: PathBuf,
    pub plays: Vec<Play>,
    /// Roles by folder, loaded once however often they are used.
    pub roles: IndexMap<PathBuf, Role>,
}

/// `serial`: a batch size, a percentage, or a list of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Batch {
    Count(u64),
    Percent(f64),
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    pub name: String,
    /// The host pattern (a YAML list is joined with `,` as Ansible does).
    pub hosts: String,
    pub keywords: Keywords,
    pub gather_facts: bool,
    /// `gather_subset`, `gather_timeout` and `fact_path` for the play's fact gathering.
    pub gather: crate::facts::Options,
    pub vars: Vars,
    /// Each entry: a file, or a list of fallbacks of which the first that exists is read.
    pub vars_files: Vec<Vec<String>>,
    pub roles: Vec<RoleUse>,
    pub pre_tasks: Vec<Item>,
    pub tasks: Vec<Item>,
    pub post_tasks: Vec<Item>,
    pub handlers: Vec<Item>,
    pub serial: Vec<Batch>,
    /// `order`: the order hosts run in (`inventory`, `reverse_inventory`, `sorted`,
    /// `reverse_sorted`).
    pub order: String,
    /// `vars_prompt`: variables to ask for, with their defaults.
    pub vars_prompt: Vec<(String, Option<Value>)>,
    pub force_handlers: bool,
    pub max_fail_percentage: Option<f64>,
    pub origin: Origin,
}

/// Keywords that plays, blocks, roles and tasks share and that inherit downwards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keywords {
    pub remote_user: Option<String>,
    /// A play's connection plugin (ssh, smart, paramiko, local), checked when loaded; refused
    /// below a play.
    pub connection: Option<String>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    pub become_method: Option<String>,
    pub check_mode: Option<bool>,
    pub diff: Option<bool>,
    pub no_log: Option<bool>,
    pub ignore_errors: Option<bool>,
    pub ignore_unreachable: Option<bool>,
    pub any_errors_fatal: Option<bool>,
    pub run_once: Option<bool>,
    pub environment: Vars,
    /// `module_defaults`: arguments per module (its name or FQCN) that tasks get unless they
    /// set them.
    pub module_defaults: Vars,
    /// `throttle`: at most this many hosts run the task at once (a number or a template).
    pub throttle: Option<Value>,
    pub tags: Vec<String>,
    /// Conditions, all of which must hold (`when` as a list).
    pub when: Vec<Condition>,
    pub vars: Vars,
    /// Boolean keywords written as templates (`become`, `check_mode`, `diff`, `no_log`,
    /// `ignore_errors`, `ignore_unreachable`), as (keyword, template): rendered per host when
    /// the task runs.
    pub templated: Vec<(String, String)>,
}

impl Keywords {
    /// These keywords over those `outer` (a play, role or block) sets: what a task runs with.
    /// `when`, `tags` and `vars` stay as they are: enclosing ones are layered separately.
    pub fn inherit(&self, outer: &Keywords) -> Keywords {
        let mut environment = outer.environment.clone();
        environment.extend(self.environment.clone());
        let mut module_defaults = outer.module_defaults.clone();
        for (module, args) in &self.module_defaults {
            match (module_defaults.get_mut(module), args) {
                (Some(Value::Object(old)), Value::Object(new)) => {
                    old.extend(new.clone());
                }
                _ => {
                    module_defaults.insert(module.clone(), args.clone());
                }
            }
        }
        Keywords {
            remote_user: self
                .remote_user
                .clone()
                .or_else(|| outer.remote_user.clone()),
            connection: self.connection.clone().or_else(|| outer.connection.clone()),
            become_: self.become_.or(outer.become_),
            become_user: self
                .become_user
                .clone()
                .or_else(|| outer.become_user.clone()),
            become_method: self
                .become_method
                .clone()
                .or_else(|| outer.become_method.clone()),
            check_mode: self.check_mode.or(outer.check_mode),
            diff: self.diff.or(outer.diff),
            no_log: self.no_log.or(outer.no_log),
            ignore_errors: self.ignore_errors.or(outer.ignore_errors),
            ignore_unreachable: self.ignore_unreachable.or(outer.ignore_unreachable),
            any_errors_fatal: self.any_errors_fatal.or(outer.any_errors_fatal),
            run_once: self.run_once.or(outer.run_once),
            environment,
            module_defaults,
            throttle: self.throttle.clone().or_else(|| outer.throttle.clone()),
            tags: self.tags.clone(),
            when: self.when.clone(),
            vars: self.vars.clone(),
            templated: {
                // An enclosing template applies unless the task sets that keyword itself.
                let own =
                    |k: &str| self.templated.iter().any(|(x, _)| x == k) || self.flag(k).is_some();
                let mut t: Vec<(String, String)> = outer
                    .templated
                    .iter()
                    .filter(|(k, _)| !own(k))
                    .cloned()
                    .collect();
                t.extend(self.templated.iter().cloned());
                t
            },
        }
    }

    /// A boolean keyword by name, when set to a constant.
    pub fn flag(&self, name: &str) -> Option<bool> {
        match name {
            "become" => self.become_,
            "check_mode" => self.check_mode,
            "diff" => self.diff,
            "no_log" => self.no_log,
            "ignore_errors" => self.ignore_errors,
            "ignore_unreachable" => self.ignore_unreachable,
            _ => None,
        }
    }

    /// Sets a boolean keyword by name.
    pub fn set_flag(&mut self, name: &str, value: bool) {
        match name {
            "become" => self.become_ = Some(value),
            "check_mode" => self.check_mode = Some(value),
            "diff" => self.diff = Some(value),
            "no_log" => self.no_log = Some(value),
            "ignore_errors" => self.ignore_errors = Some(value),
            "ignore_unreachable" => self.ignore_unreachable = Some(value),
            _ => {}
        }
    }
}

/// A `when`/`changed_when`/`failed_when` expression: a bare Jinja2 expression or a boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Expr(String),
    Const(bool),
}

/// A role as the play names it, with the parameters it passes.
#[derive(Debug, Clone)]
pub struct RoleUse {
    pub name: String,
    /// The key of the role in [`Playbook::roles`].
    pub path: PathBuf,
    /// Role parameters (`- role: x` plus other keys), which act as role-level vars.
    pub params: Vars,
    pub keywords: Keywords,
    pub origin: Origin,
}

/// A role folder, loaded.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub path: PathBuf,
    pub defaults: Vars,
    pub vars: Vars,
    pub tasks: Vec<Item>,
    pub handlers: Vec<Item>,
    pub dependencies: Vec<RoleUse>,
    pub allow_duplicates: bool,
}

/// An entry of a task list.
#[derive(Debug, Clone)]
pub enum Item {
    Task(std::sync::Arc<Task>),
    Block(std::sync::Arc<Block>),
}

/// `block` with its `rescue` and `always`.
#[derive(Debug, Clone)]
pub struct Block {
    pub name: Option<String>,
    pub block: Vec<Item>,
    pub rescue: Vec<Item>,
    pub always: Vec<Item>,
    pub keywords: Keywords,
    pub origin: Origin,
}

/// How a task loops.
#[derive(Debug, Clone, PartialEq)]
pub enum Loop {
    /// `loop:` or `with_items:` and friends: a list, or a template that renders to one.
    Items {
        lookup: Option<String>,
        value: Value,
    },
}

/// `loop_control`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoopControl {
    pub loop_var: Option<String>,
    pub index_var: Option<String>,
    pub label: Option<String>,
    pub pause: Option<f64>,
    pub extended: bool,
}

/// One task (or handler).
#[derive(Debug, Clone)]
pub struct Task {
    pub name: Option<String>,
    /// The module, without any `ansible.builtin.` prefix.
    pub module: String,
    /// The module's arguments, unrendered. Free-form commands are under `_raw_params`.
    pub args: Vars,
    pub keywords: Keywords,
    pub notify: Vec<String>,
    /// Handlers only: the topics this handler also answers to.
    pub listen: Vec<String>,
    pub register: Option<String>,
    pub looping: Option<Loop>,
    pub loop_control: LoopControl,
    pub changed_when: Vec<Condition>,
    pub failed_when: Vec<Condition>,
    /// `until`: run the module again until these hold, `retries` times, `delay` seconds apart.
    pub until: Vec<Condition>,
    /// As written (a number or a template), rendered when the task runs.
    pub retries: Option<Value>,
    pub delay: Option<Value>,
    /// `async` (seconds the job may run) and `poll` (seconds between checks; 0: do not wait),
    /// as written.
    pub async_: Option<Value>,
    pub poll: Option<Value>,
    pub delegate_to: Option<String>,
    /// Facts the task gathers go to the host it is delegated to.
    pub delegate_facts: bool,
    pub origin: Origin,
    /// The role this task belongs to, if any (its folder).
    pub role: Option<PathBuf>,
    /// Set when hactl lacks the module but Ansible has it: where Ansible finds it
    /// (`playbook::catalogue`). The task loads, and is refused for a host that would run it.
    pub not_in_hactl: Option<String>,
}

impl Task {
    /// The name Ansible prints in `TASK [...]`: the task's name, or the module with its role.
    pub fn display_name(&self, role_name: Option<&str>) -> String {
        let base = self.name.clone().unwrap_or_else(|| self.module.clone());
        match role_name {
            Some(role) => format!("{role} : {base}"),
            None => base,
        }
    }
}

impl Task {
    /// A task made on the command line (`hactl run -m MODULE -a ARGS`).
    pub fn adhoc(module: &str, args: Vars) -> Task {
        Task {
            name: None,
            module: module.to_string(),
            args,
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
                file: PathBuf::from("<command line>"),
                mark: crate::yaml::Mark::START,
            },
            role: None,
        }
    }
}

impl Playbook {
    /// Every task loaded so far, in blocks too: the plays' sections (pre_tasks, tasks,
    /// post_tasks, handlers), then each role's tasks and handlers (static imports are part of
    /// them; what `include_*` loads on hosts is not).
    pub fn loaded_tasks(&self) -> Vec<&Task> {
        fn scan<'a>(items: &'a [Item], out: &mut Vec<&'a Task>) {
            for item in items {
                match item {
                    Item::Task(t) => out.push(t),
                    Item::Block(b) => {
                        scan(&b.block, out);
                        scan(&b.rescue, out);
                        scan(&b.always, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for play in &self.plays {
            for items in [
                &play.pre_tasks,
                &play.tasks,
                &play.post_tasks,
                &play.handlers,
            ] {
                scan(items, &mut out);
            }
        }
        for role in self.roles.values() {
            scan(&role.tasks, &mut out);
            scan(&role.handlers, &mut out);
        }
        out
    }

    /// The one-task playbook of an ad hoc run (`hactl run PATTERN -m MODULE -a ARGS`): a play
    /// on `pattern` without fact gathering, run from the current folder.
    pub fn adhoc(pattern: &str, module: &str, args: Vars) -> Playbook {
        let dir = std::env::current_dir().unwrap_or_default();
        let task = Task::adhoc(module, args);
        let origin = task.origin.clone();
        let play = Play {
            name: format!("Ansible Ad-Hoc ({pattern})"),
            hosts: pattern.to_string(),
            keywords: Keywords::default(),
            gather_facts: false,
            gather: Default::default(),
            vars: Vars::new(),
            vars_files: Vec::new(),
            roles: Vec::new(),
            pre_tasks: Vec::new(),
            tasks: vec![Item::Task(std::sync::Arc::new(task))],
            post_tasks: Vec::new(),
            handlers: Vec::new(),
            serial: Vec::new(),
            order: "inventory".into(),
            vars_prompt: Vec::new(),
            force_handlers: false,
            max_fail_percentage: None,
            origin,
        };
        Playbook {
            path: dir.join("<command line>"),
            dir,
            plays: vec![play],
            roles: IndexMap::new(),
        }
    }
}
