//! `hactl apply [INVENTORY] [PLAYBOOK]` (or `-i INVENTORY PLAYBOOK`): run a playbook on real
//! hosts, like ansible-playbook. `--list-hosts`, `--list-tasks`, `--list-tags` and
//! `--syntax-check` print what ansible-playbook prints and touch no host (see [`listing`]).
//!
//! [`listing`]: super::listing

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::ApplyArgs;
use crate::engine::walk::Tags;
use crate::{engine, inventory, playbook, report, run};

pub fn run(args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    super::vault::install(&args.vault)?;
    report::set_mode(report::Mode {
        json: args.json,
        color: !args.json && report::want_color(&args.color),
    });
    let (sources, playbook) = super::inventory_and_playbook(&args.source, &args.paths)?;
    let playbook_path = match playbook {
        Some(p) => p,
        None => default_playbook(sources.first().map_or(".".as_ref(), |p| p))?,
    };
    let loaded = playbook::load(&playbook_path)?;
    for w in &loaded.warnings {
        report::warning(w);
    }
    let inv = inventory::load_with_playbook_dir(&sources, Some(&loaded.playbook.dir))?;
    for w in &inv.warnings {
        report::warning(w);
    }
    let listing = super::listing::Wanted {
        hosts: args.list_hosts,
        tasks: args.list_tasks,
        tags: args.list_tags,
    };
    if args.syntax_check || listing.hosts || listing.tasks || listing.tags {
        let limit = args.limit.as_deref();
        for w in super::listing::pattern_warnings(&inv.inventory, &loaded.playbook, limit) {
            report::warning(&w);
        }
        if args.syntax_check && !(listing.hosts || listing.tasks || listing.tags) {
            report::out("");
            report::out(&format!("playbook: {}", playbook_path.display()));
            return Ok(ExitCode::SUCCESS);
        }
        let tags = Tags {
            only: args.tags.clone(),
            skip: args.skip_tags.clone(),
        };
        super::listing::print(
            &inv.inventory,
            &loaded.playbook,
            &playbook_path,
            limit,
            &tags,
            listing,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let conn = super::connection(&args.connection)?;
    super::announce_config()?;
    let gate = (args.start_at_task.is_some() || args.step).then(|| {
        Arc::new(super::gate::Gate::new(
            args.start_at_task.clone(),
            args.step,
        ))
    });
    let mut opts = engine::Options {
        check: args.check,
        diff: args.diff,
        limit: args.limit.clone(),
        extra_vars: playbook::extra_vars::parse(&args.extra_vars)?,
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        conn,
        force_handlers: args.force_handlers,
        skip_lint: args.skip_lint,
        gate: gate
            .clone()
            .map(|g| g as Arc<dyn engine::schedule::TaskGate>),
        ..Default::default()
    };
    // `--rolling` or a play's `hactl_rolling`: the rollout hook cuts those plays per host.
    let rolling = std::sync::Arc::new(crate::rolling::Rolling::new(
        inv.inventory.clone(),
        loaded.playbook.clone(),
        crate::rolling::Settings {
            all_plays: args.rolling,
            force: args.force,
            check: args.check,
            conn: opts.conn.clone(),
            extra_vars: opts.extra_vars.clone(),
            tags: opts.tags.clone(),
            skip_tags: opts.skip_tags.clone(),
        },
    ));
    opts.hook = Some(engine::Hook(rolling.clone()));
    let printer = engine::output::Printer {
        show_secrets: args.show_secrets,
        json: args.json,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stopped = runtime.block_on(async {
        tokio::select! {
            done = engine::run(&inv.inventory, &loaded.playbook, &opts, &engine::Mode::Live, &printer) => Ok(done),
            signal = run::interrupt::signal() => Err(signal),
        }
    });
    // On a signal the run was dropped mid-flight, which closed every host's connection.
    match stopped {
        Ok(done) => {
            let mut stats = done?.stats;
            if gate.is_some() {
                // Hosts that ran nothing (every task passed over) are not in ansible-core's
                // recap: it lists the hosts something happened to.
                stats.retain(|_, s| *s != engine::Stats::default());
            }
            engine::output::recap(&stats, args.json);
            if let Some(name) = gate.and_then(|g| g.unmatched()) {
                report::error(&anyhow::anyhow!(
                    "No matching task \"{name}\" found. Note: --start-at-task can only follow \
                     static includes."
                ));
            }
            let code = engine::exit_code(&stats);
            // A stopped rollout is a failed run, whatever the recap says.
            let stopped = runtime.block_on(rolling.stopped()).is_some();
            Ok(ExitCode::from(if stopped && code == 0 { 2 } else { code }))
        }
        Err(signal) => {
            report::error(&anyhow::anyhow!(signal.message()));
            Ok(ExitCode::from(signal.exit_code()))
        }
    }
}

/// `site.yml` beside the inventory (or beside its folder), else `./site.yml`.
pub(crate) fn default_playbook(inventory: &std::path::Path) -> anyhow::Result<PathBuf> {
    let dir = if inventory.is_dir() {
        inventory.to_path_buf()
    } else {
        inventory.parent().map(PathBuf::from).unwrap_or_default()
    };
    let mut candidates = vec![dir.join("site.yml")];
    if let Some(up) = dir.parent() {
        candidates.push(up.join("site.yml"));
    }
    candidates.push(PathBuf::from("site.yml"));
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        anyhow::anyhow!(
            "no playbook given and no site.yml beside {}",
            inventory.display()
        )
    })
}
