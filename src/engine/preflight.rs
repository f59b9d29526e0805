//! `hactl apply`'s check, before the first change, that no host will run a task whose module
//! hactl lacks (Ansible has it: ansible-core, an installed collection, a `library/` folder;
//! see `playbook::catalogue`). Such a task loads, so a role is not refused for a task its
//! `when` skips on every host; this check makes sure of the "every host" before anything is
//! touched.
//!
//! Once the first play's facts are in, the playbook is walked offline with them, exactly as
//! `hactl render` walks it (`when`, loops, includes, roles). The run is refused when:
//! - a host's walk reaches such a task and the host would run it;
//! - a host's walk cannot evaluate such a task's `when` or loop (it needs a result only the
//!   host gives, or facts of a host the first play does not gather);
//! - a host's walk stops at anything else while the playbook holds such a task: what comes
//!   after cannot be told.
//!
//! A rollout (`--rolling`) drains its first batch before that batch's facts are gathered: a
//! playbook holding such a task is not rolled ([`before_rollout`]).
//!
//! Not covered: a task of a file that `include_tasks` loads only on hosts, beyond the point
//! where the offline walk stopped; when a host reaches it, the task fails there (not
//! `ignore_errors`-able) naming the module.

use crate::inventory::Inventory;
use crate::playbook::{Playbook, Task, Vars};
use crate::run::context::Facts;

use super::task::{REFUSED, UNDECIDED};

/// Why `hactl apply` stops before its first change.
#[derive(Debug, thiserror::Error)]
#[error("{0}; nothing was changed")]
pub struct Refused(pub String);

/// Walks `pb` offline for the hosts `limit` selects with `facts`, and refuses as the module
/// doc says.
pub fn before_first_change(
    inv: &Inventory,
    pb: &Playbook,
    limit: Option<&str>,
    extra_vars: &Vars,
    facts: Facts,
) -> Result<(), Refused> {
    let opts = crate::run::render::Options {
        out: None,
        limit: limit.map(String::from),
        extra_vars: extra_vars.clone(),
        facts,
        only: Some(|_| false),
    };
    let errors = match crate::run::render::render(inv, pb, &opts) {
        Ok(report) => report.errors,
        Err(e) => vec![format!("{e:#}")],
    };
    let refused: Vec<&String> = errors
        .iter()
        .filter(|e| e.contains(REFUSED) || e.contains(UNDECIDED))
        .collect();
    if !refused.is_empty() {
        let list: Vec<&str> = refused.iter().map(|e| e.as_str()).collect();
        return Err(Refused(list.join("\n")));
    }
    let Some(stopped) = errors.first() else {
        return Ok(());
    };
    let lacking = not_in_hactl(pb);
    if lacking.is_empty() {
        return Ok(());
    }
    let tasks: Vec<String> = lacking
        .iter()
        .map(|t| {
            format!(
                "task '{}' at {} (module '{}')",
                t.name.as_deref().unwrap_or(&t.module),
                t.origin,
                t.module
            )
        })
        .collect();
    Err(Refused(format!(
        "hactl cannot tell before the run whether a host runs the tasks whose modules it does \
         not have ({}), as the offline walk of the playbook with the gathered facts stopped \
         first: {stopped}",
        tasks.join(", ")
    )))
}

/// A rollout (`--rolling`) drains hosts before the first play's facts are in: a playbook
/// that holds a task whose module hactl lacks is refused before that.
pub fn before_rollout(pb: &Playbook) -> Result<(), Refused> {
    let lacking = not_in_hactl(pb);
    let Some(first) = lacking.first() else {
        return Ok(());
    };
    Err(Refused(format!(
        "{}: task '{}' uses the module '{}', which hactl does not have; a rollout drains \
         hosts before the facts that decide whether a host runs it are in, so hactl does not \
         roll a playbook that holds such a task (run it without --rolling)",
        first.origin,
        first.name.as_deref().unwrap_or(&first.module),
        first.module
    )))
}

/// The tasks of `pb` loaded so far (plays, roles, static imports) whose module hactl lacks.
pub fn not_in_hactl(pb: &Playbook) -> Vec<&Task> {
    pb.loaded_tasks()
        .into_iter()
        .filter(|t| t.not_in_hactl.is_some())
        .collect()
}
