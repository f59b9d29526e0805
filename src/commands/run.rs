//! `hactl run PATTERN`: an ad hoc command on the hosts a pattern selects, like `ansible`.
//!
//! `--list-hosts` prints the selected hosts exactly as `ansible PATTERN --list-hosts` does,
//! with the same warnings and exit code. Otherwise the command (or `-m MODULE -a ARGS`) runs on
//! every selected host at once; see [`crate::run::adhoc`].

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

/// Loads the inventory and prints the selected hosts the way `ansible --list-hosts` does.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    super::vault::install(&args.vault)?;
    let sources = super::inventory_sources(&args.source.inventory)?;
    let loaded = inventory::load(&sources)?;
    for warning in &loaded.warnings {
        report::warning(warning);
    }
    let hosts = target_hosts(
        &loaded.inventory,
        &args.pattern,
        args.limit.as_deref(),
        args.strict,
        &mut report::warning,
    )?;
    if args.list_hosts {
        report::out(&format!("  hosts ({}):", hosts.len()));
        for host in &hosts {
            report::out(&format!("    {host}"));
        }
        return Ok(ExitCode::SUCCESS);
    }
    adhoc(args, &loaded.inventory, &hosts)
}

/// Runs the command or module on `hosts` and prints each result, then the grouped summary.
fn adhoc(args: &RunArgs, inv: &Inventory, hosts: &[String]) -> anyhow::Result<ExitCode> {
    let module = crate::playbook::short_module(&args.module).to_string();
    let Some(spec) = crate::modules::registry::find(&module).map(|m| m.spec()) else {
        let names = crate::modules::registry::names();
        anyhow::bail!(
            "couldn't resolve module/action '{module}'; hactl's modules: {}",
            names.join(", ")
        );
    };
    if spec.runs == crate::modules::registry::Runs::Engine {
        anyhow::bail!("'{module}' is playbook control flow; it cannot run as an ad hoc module");
    }
    let free_form = spec.free_form;
    let mut module_args = serde_json::Map::new();
    if let Some(a) = &args.args {
        for (k, v) in crate::playbook::kv::parse_kv(a, free_form)? {
            module_args.insert(k, serde_json::Value::String(v));
        }
    }
    if let Some(cmd) = &args.command {
        if !free_form {
            anyhow::bail!("a command is only for -m shell/command/raw; give -a ARGS to '{module}'");
        }
        module_args.insert("_raw_params".into(), serde_json::Value::String(cmd.clone()));
    }
    if matches!(spec.name, "command" | "shell" | "raw") && !module_args.contains_key("_raw_params")
    {
        anyhow::bail!("no command given: hactl run PATTERN 'COMMAND'");
    }
    let conn = &super::connection(&args.connection)?;
    super::announce_config()?;
    let job = crate::run::adhoc::Job {
        module,
        args: module_args,
        mode: crate::modules::Mode::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    report::set_mode(report::Mode {
        json: args.json,
        color: false,
    });
    let module_name = job.module.clone();
    let stream = !args.json && !args.no_stream;
    let on_line =
        stream.then_some(|host: &str, line: &str| report::out(&format!("{host} | {line}")));
    let results = runtime.block_on(crate::run::adhoc::run_streaming(
        inv,
        hosts,
        job,
        conn,
        on_line,
        |r| {
            if args.json {
                report::event(&crate::run::adhoc::json_event(r, &module_name));
            } else if stream {
                report::out(&crate::run::adhoc::format_streamed(r));
            } else {
                report::out(&crate::run::adhoc::format_result(r));
            }
        },
    ))?;
    if args.json {
        report::event(&crate::run::adhoc::json_recap(&results));
    } else if !args.no_summary && !results.is_empty() {
        report::out("");
        report::out("SUMMARY");
        for line in crate::run::adhoc::summary(&results) {
            report::out(&line);
        }
    }
    Ok(ExitCode::from(crate::run::adhoc::exit_code(&results)))
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
    let mismatch = if strict {
        Mismatch::Error
    } else {
        Mismatch::Warn
    };
    let mut selector = Selector::new(inv).mismatch(mismatch);
    let empty_inventory = selector.hosts("all").map(|h| h.is_empty()).unwrap_or(false);
    flush(&mut selector, warn);
    if empty_inventory && !LOCALHOST.contains(&pattern) {
        warn(
            "provided hosts list is empty, only localhost is available. Note that the implicit \
             localhost does not match 'all'",
        );
    }
    let selected = selector
        .set_limit(limit)
        .and_then(|()| selector.hosts(pattern));
    flush(&mut selector, warn);
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

fn flush(selector: &mut Selector<'_>, warn: &mut dyn FnMut(&str)) {
    for warning in selector.take_warnings() {
        warn(&warning);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        let mut inv = Inventory::default();
        inv.add_group("web");
        inv.add_child("all", "web");
        inv.add_host("web1", "web");
        inv.add_host("web2", "web");
        inv
    }

    /// Hosts (or the error) and the warnings, as `ansible` would print them.
    fn targets(
        inv: &Inventory,
        pattern: &str,
        limit: Option<&str>,
        strict: bool,
    ) -> (Result<Vec<String>, String>, Vec<String>) {
        let mut warnings = Vec::new();
        let result = target_hosts(inv, pattern, limit, strict, &mut |w| {
            warnings.push(w.into())
        });
        (result.map_err(|e| e.to_string()), warnings)
    }

    #[test]
    fn nothing_matched_is_a_warning_without_limit() {
        let (hosts, warnings) = targets(&inventory(), "nope", None, false);
        assert_eq!(hosts, Ok(vec![]));
        assert_eq!(
            warnings,
            [
                "Could not match supplied host pattern, ignoring: nope",
                "No hosts matched, nothing to do"
            ]
        );
        // Pattern errors are swallowed the same way.
        let (hosts, warnings) = targets(&inventory(), "web[7]", None, false);
        assert_eq!(hosts, Ok(vec![]));
        assert_eq!(warnings, ["No hosts matched, nothing to do"]);
    }

    #[test]
    fn nothing_matched_is_an_error_with_a_limit() {
        let (hosts, _) = targets(&inventory(), "web", Some("web3"), false);
        let err = hosts.err().unwrap_or_default();
        assert!(
            err.starts_with("Specified inventory, host pattern and/or --limit"),
            "{err}"
        );
        let (hosts, _) = targets(&inventory(), "web[7]", Some("all"), false);
        assert_eq!(
            hosts,
            Err("No hosts matched the subscripted pattern 'web[7]'".into())
        );
        let (hosts, _) = targets(&inventory(), "web", Some(""), false);
        assert_eq!(hosts.map(|h| h.len()), Ok(2), "an empty limit is no limit");
    }

    #[test]
    fn strict_fails_on_a_term_that_matches_nothing() {
        let (hosts, warnings) = targets(&inventory(), "web:nope", None, true);
        assert_eq!(
            hosts,
            Err("Could not match supplied host pattern, ignoring: nope".into())
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn localhost_and_empty_inventories() {
        let (hosts, _) = targets(&inventory(), "localhost", Some("web"), false);
        assert_eq!(hosts, Ok(vec!["localhost".to_string()]));
        let (hosts, warnings) = targets(&Inventory::default(), "all", None, false);
        assert_eq!(hosts, Ok(vec![]));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("provided hosts list is empty"));
    }
}
