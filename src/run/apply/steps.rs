//! A play as the linear strategy walks it: every task in order with what encloses it (role,
//! blocks, inherited `when`/`vars`/`tags`), and the points where handlers flush (after
//! `pre_tasks`, after roles and `tasks`, after `post_tasks`, and at `meta: flush_handlers`).

use crate::playbook::{Item, Play, Playbook, RoleUse, Task};
use crate::run::context::Scope;
use crate::template::to_value;

/// Which part of a block a step is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Block,
    Rescue,
    Always,
}

/// One step of the walk.
#[derive(Debug, Clone)]
pub enum Step<'a> {
    Task {
        task: &'a Task,
        scope: Scope<'a>,
        /// The enclosing blocks, outermost first: (block id, section, block has a rescue).
        blocks: Vec<(usize, Section, bool)>,
    },
    Flush,
}

/// A handler with the role it belongs to.
#[derive(Debug, Clone)]
pub struct Handler<'a> {
    pub task: &'a Task,
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

/// Builds the steps and handlers of a play.
#[derive(Debug, Default)]
pub struct Walker<'a> {
    pub steps: Vec<Step<'a>>,
    pub handlers: Vec<Handler<'a>>,
    next_block: usize,
    done_roles: Vec<(std::path::PathBuf, String)>,
}

impl<'a> Walker<'a> {
    pub fn play(pb: &'a Playbook, play: &'a Play) -> anyhow::Result<Walker<'a>> {
        let mut w = Walker::default();
        let root = Scope::default();
        w.items(pb, &play.pre_tasks, &root, &[])?;
        w.steps.push(Step::Flush);
        for role_use in &play.roles {
            w.role(pb, role_use, &root)?;
        }
        w.items(pb, &play.tasks, &root, &[])?;
        w.steps.push(Step::Flush);
        w.items(pb, &play.post_tasks, &root, &[])?;
        w.steps.push(Step::Flush);
        // Handlers: the roles' first, in role order, then the play's.
        for role in crate::run::context::play_roles(pb, play) {
            let scope = Scope {
                role: Some(role),
                ..Scope::default()
            };
            w.handler_items(&role.handlers, &scope);
        }
        w.handler_items(&play.handlers, &root);
        Ok(w)
    }

    fn handler_items(&mut self, items: &'a [Item], scope: &Scope<'a>) {
        for item in items {
            match item {
                Item::Task(t) => self.handlers.push(Handler {
                    task: t,
                    scope: scope.clone(),
                }),
                Item::Block(b) => {
                    self.handler_items(&b.block, scope);
                    self.handler_items(&b.always, scope);
                }
            }
        }
    }

    fn role(
        &mut self,
        pb: &'a Playbook,
        role_use: &'a RoleUse,
        outer: &Scope<'a>,
    ) -> anyhow::Result<()> {
        let Some(role) = pb.roles.get(&role_use.path) else {
            anyhow::bail!("role '{}' was not loaded", role_use.name);
        };
        let key = (
            role.path.clone(),
            serde_json::to_string(&role_use.params).unwrap_or_default(),
        );
        if !role.allow_duplicates && self.done_roles.contains(&key) {
            return Ok(());
        }
        self.done_roles.push(key);
        let mut scope = outer.clone();
        scope.when.extend(role_use.keywords.when.iter().cloned());
        scope.vars.push(to_value(&role_use.keywords.vars));
        scope.tags.extend(role_use.keywords.tags.iter().cloned());
        if role_use.keywords.any_errors_fatal.is_some() {
            scope.any_errors_fatal = role_use.keywords.any_errors_fatal;
        }
        for dep in &role.dependencies {
            self.role(pb, dep, &scope)?;
        }
        scope.role = Some(role);
        scope.params = Some(&role_use.params);
        self.items(pb, &role.tasks, &scope, &[])
    }

    fn items(
        &mut self,
        pb: &'a Playbook,
        items: &'a [Item],
        scope: &Scope<'a>,
        blocks: &[(usize, Section, bool)],
    ) -> anyhow::Result<()> {
        for item in items {
            match item {
                Item::Task(t) if t.module == "meta" => {
                    let what = t
                        .args
                        .get("_raw_params")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default();
                    if what == "flush_handlers" {
                        self.steps.push(Step::Flush);
                    }
                }
                Item::Task(t) if matches!(t.module.as_str(), "include_role" | "import_role") => {
                    let name = t
                        .args
                        .get("name")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default();
                    let Some(role) = pb.roles.values().find(|r| r.name == name) else {
                        anyhow::bail!("{}: the role '{name}' was not found", t.origin);
                    };
                    let mut inner = scope.clone();
                    inner.when.extend(t.keywords.when.iter().cloned());
                    inner.tags.extend(t.keywords.tags.iter().cloned());
                    inner.role = Some(role);
                    self.items(pb, &role.tasks, &inner, blocks)?;
                }
                Item::Task(t) if t.module == "include_tasks" => {
                    anyhow::bail!(
                        "{}: hactl apply does not run include_tasks yet; use import_tasks",
                        t.origin
                    );
                }
                Item::Task(t) => self.steps.push(Step::Task {
                    task: t,
                    scope: scope.clone(),
                    blocks: blocks.to_vec(),
                }),
                Item::Block(b) => {
                    let id = self.next_block;
                    self.next_block += 1;
                    let mut inner = scope.clone();
                    inner.when.extend(b.keywords.when.iter().cloned());
                    inner.vars.push(to_value(&b.keywords.vars));
                    inner.tags.extend(b.keywords.tags.iter().cloned());
                    if b.keywords.any_errors_fatal.is_some() {
                        inner.any_errors_fatal = b.keywords.any_errors_fatal;
                    }
                    let has_rescue = !b.rescue.is_empty();
                    for (section, list) in [
                        (Section::Block, &b.block),
                        (Section::Rescue, &b.rescue),
                        (Section::Always, &b.always),
                    ] {
                        let mut stack = blocks.to_vec();
                        stack.push((id, section, has_rescue));
                        self.items(pb, list, &inner, &stack)?;
                    }
                }
            }
        }
        Ok(())
    }
}
