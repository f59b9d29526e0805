//! `hactl apply INVENTORY [PLAYBOOK]`: run a playbook on real hosts, like ansible-playbook.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::ApplyArgs;
use crate::{engine, inventory, playbook, report, run};

pub fn run(args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    super::vault::install(&args.vault)?;
    report::set_mode(report::Mode {
        json: args.json,
        color: !args.json && report::want_color(&args.color),
    });
    let playbook_path = match &args.playbook {
        Some(p) => p.clone(),
        None => default_playbook(&args.inventory)?,
    };
    let loaded = playbook::load(&playbook_path)?;
    for w in &loaded.warnings {
        report::warning(w);
    }
    let inv = inventory::load_with_playbook_dir(
        std::slice::from_ref(&args.inventory),
        Some(&loaded.playbook.dir),
    )?;
    for w in &inv.warnings {
        report::warning(w);
    }
    let mut opts = engine::Options {
        check: args.check,
        diff: args.diff,
        limit: args.limit.clone(),
        extra_vars: playbook::extra_vars::parse(&args.extra_vars)?,
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        conn: args.connection.clone(),
        force_handlers: args.force_handlers,
        skip_lint: args.skip_lint,
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
            conn: args.connection.clone(),
            extra_vars: opts.extra_vars.clone(),
        },
    ));
    opts.hook = Some(engine::Hook(rolling.clone()));
    let printer = engine::output::Printer {
        show_secrets: args.show_secrets,
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
            let stats = done?.stats;
            engine::output::recap(&inv.inventory, &stats);
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
