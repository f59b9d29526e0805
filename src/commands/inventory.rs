//! `hactl inventory`: show an inventory the way `ansible-inventory` does (`--list`, `--graph`,
//! `--host`). The work is in [`crate::inventory`]; this maps flags to calls and prints.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::InventoryArgs;
use crate::inventory::{self, output};
use crate::report;

/// Runs `hactl inventory`.
pub fn run(args: InventoryArgs) -> anyhow::Result<ExitCode> {
    super::vault::install(&args.vault)?;
    if args.limit.is_some() {
        anyhow::bail!("`hactl inventory --limit` is not supported yet");
    }
    let sources = super::inventory_sources(&args.source.inventory)?;
    // Like ansible-inventory, also read group_vars/ and host_vars/ of the current directory.
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let loaded = inventory::load_with_playbook_dir(&sources, Some(&cwd))
        .context("cannot load the inventory")?;
    for warning in &loaded.warnings {
        report::warning(warning);
    }
    let inv = &loaded.inventory;
    let text = if let Some(host) = &args.host {
        output::to_json_text(output::host(inv, host)?)
    } else if args.graph {
        output::graph(inv, args.group.as_deref().unwrap_or("all"), args.vars)?
    } else if args.list {
        output::to_json_text(output::list(inv))
    } else {
        anyhow::bail!("one of --list, --graph or --host is required");
    };
    report::out(&text);
    Ok(ExitCode::SUCCESS)
}
