//! `hactl run PATTERN`: an ad hoc command on the hosts a pattern selects, like `ansible`.
//!
//! Only `--list-hosts` is built: it prints the selected hosts exactly as `ansible PATTERN
//! --list-hosts` does, with the same warnings and exit code. Running the command itself is not
//! built yet.

use std::process::ExitCode;

use crate::cli::RunArgs;
use crate::inventory::pattern::{LOCALHOST, Mismatch, PatternError, Selector};
use crate::inventory::{self, Inventory};
use crate::report;

/// Why `hactl run` selected no hosts to work on.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error("Specified inventory, host pattern and/or --limit leaves us with no hosts to target.")]
    NoHostsLeft,
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    if !args.list_hosts {
        anyhow::bail!("`hactl run` can only --list-hosts so far");
    }
    let sources = inventory::resolve_sources(&args.source.inventory)?;
    let loaded = inventory::load(&sources)?;
    for warning in &loaded.warnings {
        report::warning(&warning.to_string());
    }
    let hosts = target_hosts(
        &loaded.inventory,
        &args.pattern,
        args.limit.as_deref(),
        args.strict,
        &mut report::warning,
    )?;
    report::out(&format!("  hosts ({}):", hosts.len()));
    for host in &hosts {
        report::out(&format!("    {host}"));
    }
    Ok(ExitCode::SUCCESS)
}

/// The hosts an ad hoc run targets, as the `ansible` CLI picks them. Warnings go to `warn` as
/// they arise, before any error.
///
/// On top of [`Selector`], the CLI:
/// - warns when the inventory has no hosts at all (then only an implicit localhost can match);
/// - falls back to the pattern itself when it is a localhost name and nothing matched;
/// - with no `--limit`, turns every failure to select (bad regex, subscript out of range, no
///   hosts) into the warning "No hosts matched, nothing to do"; with a limit they are errors.
///
/// `strict` makes a term that matches nothing an error, limit or not (Ansible has no such flag:
/// its `host_pattern_mismatch = error` is swallowed like other failures when there's no limit).
pub fn target_hosts(
    inv: &Inventory,
    pattern: &str,
    limit: Option<&str>,
    strict: bool,
    warn: &mut dyn FnMut(&str),
) -> Result<Vec<String>, TargetError> {
    let mismatch = if strict { Mismatch::Error } else { Mismatch::Warn };
    let mut selector = Selector::new(inv).mismatch(mismatch);
    let mut flush = |selector: &mut Selector<'_>| {
        for warning in selector.take_warnings() {
            warn(&warning);
        }
    };
    let empty_inventory = selector.hosts("all").map(|h| h.is_empty()).unwrap_or(false);
    flush(&mut selector);
    if empty_inventory && !LOCALHOST.contains(&pattern) {
        warn(
            "provided hosts list is empty, only localhost is available. Note that the implicit \
             localhost does not match 'all'",
        );
    }
    let selected = selector.set_limit(limit).and_then(|()| selector.hosts(pattern));
    flush(&mut selector);
    // Ansible tests the limit string for truth: `--limit ''` is no limit.
    let limited = limit.is_some_and(|l| !l.is_empty());
    let result = match selected {
        Ok(hosts) if hosts.is_empty() && LOCALHOST.contains(&pattern) => {
            Ok(vec![pattern.to_string()])
        }
        Ok(hosts) if hosts.is_empty() && !empty_inventory => Err(TargetError::NoHostsLeft),
        Ok(hosts) => Ok(hosts),
        Err(err) => Err(TargetError::Pattern(err)),
    };
    match result {
        Err(TargetError::Pattern(PatternError::NoMatch { .. })) if strict => result,
        Err(_) if !limited => {
            warn("No hosts matched, nothing to do");
            Ok(Vec::new())
        }
        other => other,
    }
}
