//! The lint step of `hactl apply`: once a play's facts are in and before its first task, the
//! keepalived configs the play would push are rendered with those facts and linted. Errors
//! stop the run before anything is pushed; warnings are printed. `--skip-lint` turns it off.

use super::{check, has_errors, output, source};
use crate::inventory::Inventory;
use crate::playbook::{Playbook, Vars};
use crate::report;
use crate::run::context::Facts;

/// Why a run stopped before its first task.
#[derive(Debug, thiserror::Error)]
#[error(
    "lint found {errors} error(s) in the keepalived configs of this play; nothing was pushed \
     (fix them, or run with --skip-lint)"
)]
pub struct Blocked {
    pub errors: usize,
}

/// Lints what the play would push to `hosts`. A config that cannot be rendered offline (it
/// may need a registered variable) is skipped with a warning: the task itself reports it.
pub fn before_tasks(
    inv: &Inventory,
    pb: &Playbook,
    hosts: &[String],
    facts: &Facts,
    extra_vars: &Vars,
) -> anyhow::Result<()> {
    if hosts.is_empty() {
        return Ok(());
    }
    let facts = source::with_placeholders(inv, facts.clone());
    let rendered = source::render(inv, pb, Some(&hosts.join(",")), extra_vars, facts)?;
    for e in &rendered.errors {
        report::warning(&format!("lint: not linted, cannot render offline: {e}"));
    }
    if rendered.configs.is_empty() {
        return Ok(());
    }
    let findings = check(&rendered.configs);
    if findings.is_empty() {
        return Ok(());
    }
    for line in output::lines(&findings, rendered.configs.len()) {
        report::out(&line);
    }
    if has_errors(&findings) {
        let errors = findings
            .iter()
            .filter(|f| f.severity == super::Severity::Error)
            .count();
        return Err(Blocked { errors }.into());
    }
    Ok(())
}
