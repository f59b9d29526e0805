//! `hactl apply --list-hosts | --list-tasks | --list-tags | --syntax-check`: what
//! ansible-playbook prints for them, from the loaded playbook, without contacting a host.
//!
//! The tasks are listed as ansible-playbook lists them, which is not how they run: a static
//! walk of the play as `Play.compile()` builds it (`pre_tasks`, roles with their dependencies
//! first, `tasks`, `post_tasks`; a role used twice is listed twice; `import_role` expanded),
//! only the `block` part of a block (not `rescue` or `always`), `include_*` tasks listed as
//! themselves, and tasks the `--tags`/`--skip-tags` do not select left out. A task is named by
//! its `name` as written (with `ROLE : ` before it in a role), else by its module.
//!
//! Two differences remain: hosts are listed in inventory order (ansible-playbook prints a
//! Python set, whose order changes from run to run), and a task without a name that calls its
//! module as `ansible.builtin.X` is listed as `X`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::engine::walk::Tags;
use crate::inventory::{Inventory, pattern};
use crate::playbook::{Item, Play, Playbook, Role, RoleUse};
use crate::report;

/// What to print.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    pub hosts: bool,
    pub tasks: bool,
    pub tags: bool,
}

/// Prints the listing of `pb` as ansible-playbook does; `shown_path` is the playbook as given.
pub fn print(
    inv: &Inventory,
    pb: &Playbook,
    shown_path: &Path,
    limit: Option<&str>,
    tags: &Tags,
    wanted: Wanted,
) -> anyhow::Result<()> {
    for line in lines(inv, pb, shown_path, limit, tags, wanted)? {
        report::out(&line);
    }
    Ok(())
}

/// The warnings ansible-playbook prints before any listing (and before `--syntax-check`'s
/// line): host patterns that match nothing.
pub fn pattern_warnings(inv: &Inventory, pb: &Playbook, limit: Option<&str>) -> Vec<String> {
    let mut seen = Vec::new();
    for play in &pb.plays {
        if let Ok(sel) = pattern::select(inv, &play.hosts, limit) {
            for w in sel.warnings {
                if !seen.contains(&w) {
                    seen.push(w);
                }
            }
        }
    }
    seen
}

/// The lines of the listing (see [`print`]).
pub fn lines(
    inv: &Inventory,
    pb: &Playbook,
    shown_path: &Path,
    limit: Option<&str>,
    tags: &Tags,
    wanted: Wanted,
) -> anyhow::Result<Vec<String>> {
    let mut out = vec![String::new(), format!("playbook: {}", shown_path.display())];
    // --list-tags without --tags/--skip-tags lists every tag, `never` ones included.
    let tags = if wanted.tags && tags.only.is_empty() && tags.skip.is_empty() {
        Tags {
            only: vec!["never".into(), "all".into()],
            skip: Vec::new(),
        }
    } else {
        tags.clone()
    };
    for (idx, play) in pb.plays.iter().enumerate() {
        let play_tags: BTreeSet<&String> = play.keywords.tags.iter().collect();
        out.push(String::new());
        out.push(format!(
            "  play #{} ({}): {}\tTAGS: [{}]",
            idx + 1,
            play.hosts,
            play.name,
            play_tags
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ));
        if wanted.hosts {
            let hosts = pattern::select(inv, &play.hosts, limit)?.hosts;
            out.push(format!("    pattern: ['{}']", play.hosts));
            out.push(format!("    hosts ({}):", hosts.len()));
            out.extend(hosts.iter().map(|h| format!("      {h}")));
        }
        if !(wanted.tasks || wanted.tags) {
            continue;
        }
        if wanted.tasks {
            out.push("    tasks:".into());
        }
        // The play's own tags are listed even when no task is selected.
        let mut all_tags: BTreeSet<String> = play.keywords.tags.iter().cloned().collect();
        for t in tasks(pb, play) {
            if !tags.select(&t.inherited, &t.own) {
                continue;
            }
            let mut cur: BTreeSet<String> = t.inherited.iter().cloned().collect();
            cur.extend(t.own.iter().cloned());
            all_tags.extend(cur.iter().cloned());
            if wanted.tasks {
                out.push(format!(
                    "      {}\tTAGS: [{}]",
                    t.name,
                    cur.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if wanted.tags {
            out.push(format!(
                "      TASK TAGS: [{}]",
                all_tags.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(out)
}

/// One task as listed: its name, the tags it inherits (play, role, block, import) and its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub inherited: Vec<String>,
    pub own: Vec<String>,
}

/// The tasks of `play` in the order ansible-playbook lists them (see the module docs).
pub fn tasks(pb: &Playbook, play: &Play) -> Vec<Listed> {
    let mut out = Vec::new();
    let tags = play.keywords.tags.clone();
    items(pb, &play.pre_tasks, None, &tags, &mut out);
    for r in &play.roles {
        role_use(pb, r, &tags, &mut out);
    }
    items(pb, &play.tasks, None, &tags, &mut out);
    items(pb, &play.post_tasks, None, &tags, &mut out);
    out
}

fn role_use(pb: &Playbook, r: &RoleUse, inherited: &[String], out: &mut Vec<Listed>) {
    let Some(role) = pb.roles.get(&r.path) else {
        return;
    };
    let mut tags = inherited.to_vec();
    tags.extend(r.keywords.tags.iter().cloned());
    role_tasks(pb, role, &tags, out);
}

fn role_tasks(pb: &Playbook, role: &Role, inherited: &[String], out: &mut Vec<Listed>) {
    for dep in &role.dependencies {
        role_use(pb, dep, inherited, out);
    }
    items(pb, &role.tasks, Some(role), inherited, out);
}

fn items(
    pb: &Playbook,
    list: &[Item],
    role: Option<&Role>,
    inherited: &[String],
    out: &mut Vec<Listed>,
) {
    for item in list {
        match item {
            Item::Block(b) => {
                let mut tags = inherited.to_vec();
                tags.extend(b.keywords.tags.iter().cloned());
                items(pb, &b.block, role, &tags, out);
            }
            Item::Task(t) if t.module == "import_role" => {
                let mut tags = inherited.to_vec();
                tags.extend(t.keywords.tags.iter().cloned());
                let name = t.args.get("name").and_then(|v| v.as_str()).unwrap_or("");
                if let Some(r) = pb.roles.values().find(|r| r.name == name) {
                    role_tasks(pb, r, &tags, out);
                }
            }
            Item::Task(t) => {
                let name = match (&t.name, role) {
                    (Some(n), Some(r)) => format!("{} : {n}", r.name),
                    (Some(n), None) => n.clone(),
                    (None, _) => t.module.clone(),
                };
                out.push(Listed {
                    name,
                    inherited: inherited.to_vec(),
                    own: t.keywords.tags.clone(),
                });
            }
        }
    }
}
