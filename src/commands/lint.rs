//! `hactl lint [INVENTORY] [PLAYBOOK]`: render every host's keepalived config offline and
//! check it. Exit 0 when there is no error (warnings allowed), 1 when there is one, or when a
//! host's config cannot be rendered.

use std::process::ExitCode;

use crate::cli::LintArgs;
use crate::lint::{self, output, source};
use crate::{inventory, playbook, report, run};

pub fn run(args: &LintArgs) -> anyhow::Result<ExitCode> {
    super::vault::install(&args.vault)?;
    let (sources, playbook) = super::inventory_and_playbook(&args.source, &args.paths)?;
    let playbook_path = match &playbook {
        Some(p) => p.clone(),
        None => super::apply::default_playbook(sources.first().map_or(".".as_ref(), |p| p))?,
    };
    let loaded = playbook::load(&playbook_path)?;
    for w in &loaded.warnings {
        report::warning(w);
    }
    let inv = inventory::load_with_playbook_dir(&sources, Some(&loaded.playbook.dir))?;
    for w in &inv.warnings {
        report::warning(w);
    }
    let given = match &args.facts {
        Some(dir) => run::context::load_facts_dir(dir)?,
        None => Default::default(),
    };
    let facts = source::with_placeholders(&inv.inventory, given);
    let extra = playbook::extra_vars::parse(&args.extra_vars)?;
    let rendered = source::render(
        &inv.inventory,
        &loaded.playbook,
        args.limit.as_deref(),
        &extra,
        facts,
    )?;
    for w in &rendered.warnings {
        report::warning(w);
    }
    let findings = lint::check(&rendered.configs);
    let n = rendered.configs.len();
    if args.json {
        report::out(&serde_json::to_string_pretty(&output::json(
            &findings,
            n,
            &rendered.errors,
        ))?);
    } else {
        for e in &rendered.errors {
            report::error(&anyhow::anyhow!("cannot render: {e}"));
        }
        if n == 0 && rendered.errors.is_empty() {
            report::warning("no task of this playbook writes a keepalived config");
        }
        for line in output::lines(&findings, n) {
            report::out(&line);
        }
    }
    let failed = lint::has_errors(&findings) || !rendered.errors.is_empty();
    Ok(ExitCode::from(u8::from(failed)))
}
