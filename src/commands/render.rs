//! `hactl render`: render a playbook's templates for every host into a folder.

use std::process::ExitCode;

use crate::cli::RenderArgs;
use crate::{inventory, playbook, report, run};

pub fn run(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    super::vault::install(&args.vault)?;
    let loaded = playbook::load(&args.playbook)?;
    for w in &loaded.warnings {
        report::warning(w);
    }
    let sources = super::inventory_sources(&args.source.inventory)?;
    // group_vars/ and host_vars/ beside the playbook apply too, as in ansible-playbook.
    let inv = inventory::load_with_playbook_dir(&sources, Some(&loaded.playbook.dir))?;
    for w in &inv.warnings {
        report::warning(w);
    }
    let facts = match &args.facts {
        Some(dir) => run::context::load_facts_dir(dir)?,
        None => Default::default(),
    };
    let opts = run::render::Options {
        out: Some(args.out.clone()),
        limit: args.limit.clone(),
        extra_vars: playbook::extra_vars::parse(&args.extra_vars)?,
        facts,
        only: None,
    };
    let result = run::render::render(&inv.inventory, &loaded.playbook, &opts)?;
    for w in &result.warnings {
        report::warning(w);
    }
    for path in &result.written {
        report::out(&format!("rendered {}", path.display()));
    }
    for e in &result.errors {
        report::error(&anyhow::anyhow!("{e}"));
    }
    Ok(if result.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
