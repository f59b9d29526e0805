//! `hactl render`: every `template` task (and the `content:` of every `copy` task), loops
//! included, rendered for every targeted host into `DIR/<inventory_hostname>/<dest>`, without
//! touching any host. The playbook engine walks plays exactly as `hactl apply` does (roles,
//! blocks, includes, `when`), running the controller's modules (`set_fact`, `include_vars`,
//! `assert`, ...) and no module on a host.

use std::path::PathBuf;

use super::context::Facts;
use crate::inventory::Inventory;
use crate::playbook::{Playbook, Vars};

/// What to render and where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write files under `out/<host>/`; `None` keeps them in [`Report::files`] instead.
    pub out: Option<PathBuf>,
    pub limit: Option<String>,
    pub extra_vars: Vars,
    pub facts: Facts,
    /// Render only the files whose destination path passes this test (`hactl lint` renders
    /// keepalived configs only, so a broken nginx template does not hide them).
    pub only: Option<fn(&str) -> bool>,
}

/// A file rendered in memory.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub host: String,
    /// The destination path on the host.
    pub dest: String,
    /// The task's `src`, when it has one.
    pub src: Option<String>,
    pub bytes: Vec<u8>,
}

/// What a render did: files written, and per-host errors (other hosts carry on).
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    /// With no `out` folder: the rendered files, in render order.
    pub files: Vec<Rendered>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Renders every template of `pb` for every host its plays target: the playbook engine runs
/// offline (controller modules only), and the files it renders are written or kept.
pub fn render(inv: &Inventory, pb: &Playbook, opts: &Options) -> Result<Report, anyhow::Error> {
    let mode = crate::engine::Mode::Offline {
        facts: opts.facts.clone(),
        keep: opts.only,
    };
    let eopts = crate::engine::Options {
        limit: opts.limit.clone(),
        extra_vars: opts.extra_vars.clone(),
        skip_lint: true,
        ..Default::default()
    };
    let sink = crate::engine::events::Collect::default();
    let done = futures::executor::block_on(crate::engine::run(inv, pb, &eopts, &mode, &sink))?;
    let mut report = Report {
        errors: done.errors,
        warnings: done.warnings,
        ..Report::default()
    };
    let mut out = Output {
        opts,
        written: Vec::new(),
        files: Vec::new(),
    };
    for r in done.rendered {
        out.write(r.host, r.dest, r.src, r.bytes)?;
    }
    report.written = out.written;
    report.files = out.files;
    Ok(report)
}

/// Where rendered files go.
struct Output<'a> {
    opts: &'a Options,
    written: Vec<PathBuf>,
    files: Vec<Rendered>,
}

impl Output<'_> {
    /// Writes one rendered file under `DIR/<host>/`, or keeps it when there is no folder.
    fn write(
        &mut self,
        host: String,
        dest: String,
        src: Option<String>,
        bytes: Vec<u8>,
    ) -> anyhow::Result<()> {
        let Some(out) = &self.opts.out else {
            self.files.push(Rendered {
                host,
                dest,
                src,
                bytes,
            });
            return Ok(());
        };
        let path = out.join(&host).join(dest.trim_start_matches('/'));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &bytes)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        self.written.push(path);
        Ok(())
    }
}
