//! `hactl status [INVENTORY]`: the VRRP state of every host as one table (or `--json`),
//! with every VIP held by no host or by several flagged. Exit codes: see [`crate::status::fleet`].

use std::process::ExitCode;

use crate::cli::StatusArgs;
use crate::status::{Fleet, probe, table};
use crate::{inventory, report};

pub fn run(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let sources = super::one_inventory(&args.source, args.inventory_path.as_ref())?;
    let loaded = inventory::load(&sources)?;
    for w in &loaded.warnings {
        report::warning(w);
    }
    // The same selection as `hactl run all --limit ...`.
    let hosts = super::run::target_hosts(
        &loaded.inventory,
        "all",
        args.limit.as_deref(),
        false,
        &mut report::warning,
    )?;
    let conn = &super::connection(&args.connection)?;
    let targets = hosts
        .iter()
        .map(|h| crate::run::target::target(&loaded.inventory, h, conn))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!(e))?;
    let become_user = conn.become_.then(|| conn.become_user().to_string());
    let forks = conn.forks.unwrap_or(hosts.len().clamp(1, 256));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let answers = runtime.block_on(probe::probe_all(targets, become_user, forks));
    let fleet = Fleet::build(answers);
    if args.json {
        report::out(&serde_json::to_string_pretty(&fleet)?);
    } else {
        report::out(table::render(&fleet).trim_end());
    }
    Ok(ExitCode::from(fleet.exit_code))
}
