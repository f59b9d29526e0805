//! The one walk over a play, shared by `hactl apply`, `hactl render` and `hactl lint`.
//!
//! A play is a tree: sections (`pre_tasks`, roles, `tasks`, `post_tasks`) holding roles,
//! blocks and tasks, plus task files and roles included at run time. The walker keeps a stack
//! of frames over that tree and yields, step by step, the next task and the hosts that reach
//! it, as Ansible's linear strategy runs hosts in lock-step:
//! - a host that fails inside a block leaves the block's tasks, runs its `rescue` (if any),
//!   then everyone runs `always`; a failure no rescue saved then moves out to the enclosing
//!   block, and from the outermost one the host leaves the play;
//! - an `include_tasks`/`include_role` step is resolved by the caller for each host (the file
//!   name, `when` and loop are templated per host) and handed back with [`Walker::include`]:
//!   each group of hosts that included the same file walks it next, as its own frame;
//! - handlers flush after `pre_tasks`, after roles and `tasks`, after `post_tasks` and at
//!   `meta: flush_handlers`.
//!
//! It does no I/O and evaluates no template: which hosts are still in the play is given to
//! [`Walker::next`], and failures come back through [`Walker::fail`].

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::playbook::{Block, Item, Play, Playbook, Role, RoleUse, Task};
use crate::run::context::Scope;
use crate::template::to_value;

/// Hosts of a batch, by their index in it.
pub type HostSet = BTreeSet<usize>;

/// A list of items the walker steps through.
#[derive(Debug, Clone)]
enum List<'a> {
    Borrowed(&'a [Item]),
    Loaded(Arc<Vec<Item>>),
    Section(Arc<Block>, Section),
}

impl List<'_> {
    fn get(&self, i: usize) -> Option<&Item> {
        match self {
            List::Borrowed(items) => items.get(i),
            List::Loaded(items) => items.get(i),
            List::Section(b, s) => b.section(*s).get(i),
        }
    }
}

/// Which part of a block is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Block,
    Rescue,
    Always,
}

impl Block {
    fn section(&self, s: Section) -> &[Item] {
        match s {
            Section::Block => &self.block,
            Section::Rescue => &self.rescue,
            Section::Always => &self.always,
        }
    }
}

/// A block being walked: who entered it, who failed in it, who is being rescued.
#[derive(Debug, Clone)]
struct BlockState {
    block: Arc<Block>,
    section: Section,
    entered: HostSet,
    /// Hosts whose failure here is not settled (no rescue ran yet, or the rescue failed).
    failing: HostSet,
    /// Hosts running the rescue.
    rescuing: HostSet,
}

#[derive(Debug, Clone)]
struct Frame<'a> {
    list: List<'a>,
    next: usize,
    scope: Scope<'a>,
    /// Only these hosts walk the frame (an included file); `None`: everyone who reaches it.
    only: Option<HostSet>,
    block: Option<BlockState>,
    /// Groups of an include still to walk, next last: each is walked above this frame once
    /// the one before it is done, so the hosts of one group never restrict another's.
    queue: Vec<(Scope<'a>, Included<'a>)>,
}

impl Frame<'_> {
    /// Whether `host` walks this frame's current section.
    fn admits(&self, host: usize) -> bool {
        if self.only.as_ref().is_some_and(|o| !o.contains(&host)) {
            return false;
        }
        match &self.block {
            None => true,
            Some(b) => match b.section {
                Section::Block => b.entered.contains(&host) && !b.failing.contains(&host),
                Section::Rescue => b.rescuing.contains(&host) && !b.failing.contains(&host),
                Section::Always => b.entered.contains(&host),
            },
        }
    }
}

/// What runs at the top level of a play, in order.
#[derive(Debug, Clone)]
enum Part<'a> {
    Items(&'a [Item]),
    /// A role of the play's `roles:` (under the play's root scope).
    Role(&'a RoleUse),
    Flush,
}

/// The next thing the hosts do.
#[derive(Debug, Clone)]
pub enum Step<'a> {
    /// A task (or an include, or a `meta`) for `hosts`.
    Task(Box<TaskStep<'a>>),
    /// Run the notified handlers.
    Flush,
}

/// A task with where it sits and who runs it.
#[derive(Debug, Clone)]
pub struct TaskStep<'a> {
    pub task: Arc<Task>,
    pub scope: Scope<'a>,
    pub hosts: Vec<usize>,
}

/// A handler with the role it belongs to.
#[derive(Debug, Clone)]
pub struct Handler<'a> {
    pub task: Arc<Task>,
    pub scope: Scope<'a>,
}

impl Handler<'_> {
    /// Whether a `notify` of `name` reaches this handler: its name, `role : name`, or a topic
    /// it listens to.
    pub fn answers(&self, name: &str) -> bool {
        let own = self.task.name.as_deref();
        own == Some(name)
            || self.task.listen.iter().any(|l| l == name)
            || match (self.scope.role, own) {
                (Some(role), Some(n)) => name == format!("{} : {n}", role.name),
                _ => false,
            }
    }
}

/// A group of hosts that included the same thing, with what to walk.
#[derive(Debug, Clone)]
pub struct Included<'a> {
    pub hosts: HostSet,
    pub content: IncludedContent<'a>,
    /// Variables the include passes (`vars:`, the loop item), one layer.
    pub vars: Option<minijinja::Value>,
}

/// What an include brings in.
#[derive(Debug, Clone)]
pub enum IncludedContent<'a> {
    /// The tasks of a file.
    Tasks(Arc<Vec<Item>>),
    /// A role (its dependencies first): its `tasks/main.yml`, or the file `tasks_from` names.
    Role {
        role: &'a Role,
        tasks: Option<Arc<Vec<Item>>>,
    },
}

/// Tag selection, as `--tags` / `--skip-tags` ask.
#[derive(Debug, Clone, Default)]
pub struct Tags {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

impl Tags {
    /// Ansible's selection: `always` runs unless skipped by name, `never` only when asked.
    pub fn select(&self, inherited: &[String], own: &[String]) -> bool {
        let tags: Vec<&str> = inherited.iter().chain(own).map(String::as_str).collect();
        let (only, skip) = (&self.only, &self.skip);
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
}

/// The walk of one play for one batch of hosts.
#[derive(Debug)]
pub struct Walker<'a> {
    pb: &'a Playbook,
    parts: std::collections::VecDeque<Part<'a>>,
    stack: Vec<Frame<'a>>,
    tags: Tags,
    done_roles: Vec<(std::path::PathBuf, String)>,
    /// Hosts whose failure left the outermost block since the last call: out of the play.
    failed_out: Vec<usize>,
    /// Every host whose failure reached the top: it walks no further.
    gone: HostSet,
    pub handlers: Vec<Handler<'a>>,
    /// What every task of the play inherits.
    root: Scope<'a>,
}

impl<'a> Walker<'a> {
    pub fn new(pb: &'a Playbook, play: &'a Play, tags: Tags) -> Walker<'a> {
        // A play's tags (and an importing playbook's `when`) reach every task of it.
        let root = Scope {
            when: play.keywords.when.clone(),
            tags: play.keywords.tags.clone(),
            keywords: play.keywords.inherit(&crate::playbook::Keywords::default()),
            ..Scope::default()
        };
        let mut parts = std::collections::VecDeque::new();
        parts.push_back(Part::Items(&play.pre_tasks));
        parts.push_back(Part::Flush);
        for role_use in &play.roles {
            parts.push_back(Part::Role(role_use));
        }
        parts.push_back(Part::Items(&play.tasks));
        parts.push_back(Part::Flush);
        parts.push_back(Part::Items(&play.post_tasks));
        parts.push_back(Part::Flush);
        let mut w = Walker {
            pb,
            parts,
            stack: Vec::new(),
            tags,
            done_roles: Vec::new(),
            failed_out: Vec::new(),
            gone: HostSet::new(),
            handlers: Vec::new(),
            root: root.clone(),
        };
        // Handlers: the roles' first (those the play uses, then those its tasks include), in
        // role order, then the play's.
        let mut roles = crate::run::context::play_roles(pb, play);
        for r in included_roles(pb, play) {
            if !roles.iter().any(|x| x.path == r.path) {
                roles.push(r);
            }
        }
        for role in roles {
            let scope = Scope {
                role: Some(role),
                keywords: root.keywords.clone(),
                ..Scope::default()
            };
            w.handler_items(&role.handlers, &scope);
        }
        w.handler_items(&play.handlers, &root);
        w
    }

    fn handler_items(&mut self, items: &'a [Item], scope: &Scope<'a>) {
        for item in items {
            match item {
                Item::Task(t) => self.handlers.push(Handler {
                    task: inherited(t.clone(), scope),
                    scope: scope.clone(),
                }),
                Item::Block(b) => {
                    self.handler_items(&b.block, scope);
                    self.handler_items(&b.always, scope);
                }
            }
        }
    }

    /// The next step for the hosts in `alive` (those still in the play), or `None` at the end.
    pub fn next(&mut self, alive: &HostSet) -> Option<Step<'a>> {
        loop {
            if self.stack.is_empty() {
                match self.parts.pop_front()? {
                    Part::Flush => return Some(Step::Flush),
                    Part::Items(items) => self.push(List::Borrowed(items), self.root.clone(), None),
                    Part::Role(role_use) => {
                        let root = self.root.clone();
                        self.role(role_use, &root, None);
                    }
                }
                continue;
            }
            let running = self.running(alive);
            let depth = self.stack.len() - 1;
            let frame = &mut self.stack[depth];
            let Some(item) = frame.list.get(frame.next).cloned() else {
                self.end_of_list(depth);
                continue;
            };
            frame.next += 1;
            if running.is_empty() {
                continue;
            }
            let scope = frame.scope.clone();
            match item {
                Item::Block(b) => {
                    let mut inner = scope;
                    inner.when.extend(b.keywords.when.iter().cloned());
                    inner.vars.push(to_value(&b.keywords.vars));
                    inner.tags.extend(b.keywords.tags.iter().cloned());
                    if b.keywords.any_errors_fatal.is_some() {
                        inner.any_errors_fatal = b.keywords.any_errors_fatal;
                    }
                    inner.keywords = b.keywords.inherit(&inner.keywords);
                    self.stack.push(Frame {
                        list: List::Section(b.clone(), Section::Block),
                        next: 0,
                        scope: inner,
                        only: None,
                        queue: Vec::new(),
                        block: Some(BlockState {
                            block: b,
                            section: Section::Block,
                            entered: running.iter().copied().collect(),
                            failing: HostSet::new(),
                            rescuing: HostSet::new(),
                        }),
                    });
                }
                Item::Task(t) if is_meta(&t, "flush_handlers") => {
                    // Handlers flush whatever the tags select.
                    return Some(Step::Task(Box::new(TaskStep {
                        task: t,
                        scope,
                        hosts: running,
                    })));
                }
                Item::Task(t) if t.module == "import_role" => {
                    let mut inner = scope;
                    inner.when.extend(t.keywords.when.iter().cloned());
                    inner.tags.extend(t.keywords.tags.iter().cloned());
                    inner.vars.push(to_value(&t.keywords.vars));
                    inner.keywords = t.keywords.inherit(&inner.keywords);
                    let name = t.args.get("name").and_then(|v| v.as_str()).unwrap_or("");
                    if let Some(role) = self.pb.roles.values().find(|r| r.name == name) {
                        self.role_frames(role, None, &inner, None);
                    }
                }
                Item::Task(t) => {
                    if !self.tags.select(&scope.tags, &t.keywords.tags) {
                        continue;
                    }
                    return Some(Step::Task(Box::new(TaskStep {
                        task: inherited(t, &scope),
                        scope,
                        hosts: running,
                    })));
                }
            }
        }
    }

    /// Hosts of `alive` that every frame on the stack admits.
    fn running(&self, alive: &HostSet) -> Vec<usize> {
        alive
            .iter()
            .copied()
            .filter(|h| !self.gone.contains(h) && self.stack.iter().all(|f| f.admits(*h)))
            .collect()
    }

    fn push(&mut self, list: List<'a>, scope: Scope<'a>, only: Option<HostSet>) {
        self.stack.push(Frame {
            list,
            next: 0,
            scope,
            only,
            block: None,
            queue: Vec::new(),
        });
    }

    /// A role of the play: its dependencies first, each role once per set of parameters
    /// unless it allows duplicates.
    fn role(&mut self, role_use: &'a RoleUse, outer: &Scope<'a>, only: Option<HostSet>) {
        let mut seq = Vec::new();
        self.role_sequence(role_use, outer, &mut seq);
        self.push_roles(seq, only);
    }

    /// The roles `role_use` runs, in order: dependencies first, then the role itself.
    fn role_sequence(
        &mut self,
        role_use: &'a RoleUse,
        outer: &Scope<'a>,
        out: &mut Vec<(&'a Role, Option<&'a crate::playbook::Vars>, Scope<'a>)>,
    ) {
        let Some(role) = self.pb.roles.get(&role_use.path) else {
            return;
        };
        let key = (
            role.path.clone(),
            serde_json::to_string(&role_use.params).unwrap_or_default(),
        );
        if !role.allow_duplicates && self.done_roles.contains(&key) {
            return;
        }
        self.done_roles.push(key);
        let mut scope = outer.clone();
        scope.when.extend(role_use.keywords.when.iter().cloned());
        scope.vars.push(to_value(&role_use.keywords.vars));
        scope.tags.extend(role_use.keywords.tags.iter().cloned());
        if role_use.keywords.any_errors_fatal.is_some() {
            scope.any_errors_fatal = role_use.keywords.any_errors_fatal;
        }
        scope.keywords = role_use.keywords.inherit(&scope.keywords);
        for dep in &role.dependencies {
            self.role_sequence(dep, &scope, out);
        }
        out.push((role, Some(&role_use.params), scope));
    }

    /// A role brought in by a task (`import_role`, `include_role`): its dependencies, then
    /// its tasks; the role itself runs however often it is included.
    fn role_frames(
        &mut self,
        role: &'a Role,
        params: Option<&'a crate::playbook::Vars>,
        outer: &Scope<'a>,
        only: Option<HostSet>,
    ) {
        let mut seq = Vec::new();
        for dep in &role.dependencies {
            self.role_sequence(dep, outer, &mut seq);
        }
        seq.push((role, params, outer.clone()));
        self.push_roles(seq, only);
    }

    /// Pushes the roles of `seq` so that the first runs first.
    fn push_roles(
        &mut self,
        seq: Vec<(&'a Role, Option<&'a crate::playbook::Vars>, Scope<'a>)>,
        only: Option<HostSet>,
    ) {
        for (role, params, mut scope) in seq.into_iter().rev() {
            scope.role = Some(role);
            scope.params = params;
            self.push(List::Borrowed(&role.tasks), scope, only.clone());
        }
    }

    /// A frame's list ran out: the next group of an include, the next section of a block, or
    /// leave the frame.
    fn end_of_list(&mut self, depth: usize) {
        if let Some((scope, group)) = self.stack[depth].queue.pop() {
            self.walk_group(&scope, group);
            return;
        }
        let frame = &mut self.stack[depth];
        if let Some(b) = &mut frame.block {
            match b.section {
                Section::Block if !b.block.rescue.is_empty() && !b.failing.is_empty() => {
                    b.rescuing = std::mem::take(&mut b.failing);
                    b.section = Section::Rescue;
                    frame.list = List::Section(b.block.clone(), Section::Rescue);
                    frame.next = 0;
                    return;
                }
                Section::Block | Section::Rescue => {
                    b.section = Section::Always;
                    frame.list = List::Section(b.block.clone(), Section::Always);
                    frame.next = 0;
                    return;
                }
                Section::Always => {}
            }
        }
        let Some(done) = self.stack.pop() else {
            return;
        };
        // Failures nothing rescued move out to the enclosing block, or out of the play.
        if let Some(b) = done.block {
            for host in b.failing {
                if !self.fail_in(depth, host) {
                    self.out(host);
                }
            }
        }
    }

    /// Records that `host` failed the step just given. Returns whether a rescue will run for
    /// it (Ansible then counts it `rescued`, not `failed`).
    pub fn fail(&mut self, host: usize) -> bool {
        let rescued = self.stack.iter().any(|f| {
            f.block.as_ref().is_some_and(|b| {
                b.section == Section::Block
                    && !b.block.rescue.is_empty()
                    && b.entered.contains(&host)
            })
        });
        if !self.fail_in(self.stack.len(), host) {
            self.out(host);
        }
        rescued
    }

    /// Marks `host` failing in the innermost block below `depth`; false if there is none.
    fn fail_in(&mut self, depth: usize, host: usize) -> bool {
        for f in self.stack[..depth].iter_mut().rev() {
            if let Some(b) = &mut f.block {
                b.failing.insert(host);
                return true;
            }
        }
        false
    }

    fn out(&mut self, host: usize) {
        if self.gone.insert(host) {
            self.failed_out.push(host);
        }
    }

    /// Hosts whose failure reached the top of the play since the last call.
    pub fn take_failed_out(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.failed_out)
    }

    /// Whether `host` is inside a block that is rescuing it.
    pub fn rescuing(&self, host: usize) -> bool {
        self.stack.iter().any(|f| {
            f.block
                .as_ref()
                .is_some_and(|b| b.section == Section::Rescue && b.rescuing.contains(&host))
        })
    }

    /// The included groups of the include step just given, walked next, one after the
    /// other, first group first.
    pub fn include(&mut self, scope: &Scope<'a>, groups: Vec<Included<'a>>) {
        if groups.is_empty() {
            return;
        }
        self.push(List::Borrowed(&[]), scope.clone(), None);
        if let Some(top) = self.stack.last_mut() {
            top.queue = groups
                .into_iter()
                .rev()
                .map(|g| (scope.clone(), g))
                .collect();
        }
    }

    /// Pushes the frames of one included group.
    fn walk_group(&mut self, scope: &Scope<'a>, g: Included<'a>) {
        let mut inner = scope.clone();
        inner.include_depth = inner.include_depth.saturating_add(1);
        if let Some(vars) = g.vars {
            inner.vars.push(vars);
        }
        match g.content {
            IncludedContent::Tasks(items) => {
                self.push(List::Loaded(items), inner, Some(g.hosts));
            }
            IncludedContent::Role { role, tasks } => {
                self.role_frames(role, None, &inner, Some(g.hosts.clone()));
                if let Some(items) = tasks {
                    // `tasks_from`: that file instead of the role's main tasks.
                    if let Some(top) = self.stack.iter_mut().rev().find(|f| {
                        f.scope.role.is_some_and(|r| r.path == role.path)
                            && matches!(f.list, List::Borrowed(_))
                    }) {
                        top.list = List::Loaded(items);
                    }
                }
            }
        }
    }

    /// `meta: end_play` for everyone: nothing more to walk.
    pub fn end(&mut self) {
        self.stack.clear();
        self.parts.clear();
    }
}

/// The task with the keywords its play, roles and blocks give it (its own win).
fn inherited(t: Arc<Task>, scope: &Scope<'_>) -> Arc<Task> {
    let keywords = t.keywords.inherit(&scope.keywords);
    if keywords == t.keywords {
        return t;
    }
    let mut own = (*t).clone();
    own.keywords = keywords;
    Arc::new(own)
}

fn is_meta(t: &Task, what: &str) -> bool {
    t.module == "meta" && t.args.get("_raw_params").and_then(|v| v.as_str()) == Some(what)
}

/// Roles a play's tasks include or import by a fixed name (their handlers join the play's).
fn included_roles<'a>(pb: &'a Playbook, play: &Play) -> Vec<&'a Role> {
    fn scan<'a>(pb: &'a Playbook, items: &[Item], out: &mut Vec<&'a Role>) {
        for item in items {
            match item {
                Item::Task(t) if matches!(t.module.as_str(), "include_role" | "import_role") => {
                    let name = t.args.get("name").and_then(|v| v.as_str()).unwrap_or("");
                    if let Some(role) = pb.roles.values().find(|r| r.name == name) {
                        if !out.iter().any(|r| r.path == role.path) {
                            out.push(role);
                            scan(pb, &role.tasks, out);
                        }
                    }
                }
                Item::Task(_) => {}
                Item::Block(b) => {
                    scan(pb, &b.block, out);
                    scan(pb, &b.rescue, out);
                    scan(pb, &b.always, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for items in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
        scan(pb, items, &mut out);
    }
    for role in crate::run::context::play_roles(pb, play) {
        scan(pb, &role.tasks, &mut out);
    }
    out
}
