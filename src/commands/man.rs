//! `hactl man`: hactl's man pages in roff, generated from the clap command line when asked
//! (the same reason as `completions`: they always describe the binary that prints them). With
//! no option it prints hactl(1) to stdout (`hactl man | man -l -`); `--out-dir DIR` writes
//! hactl.1 and one page per subcommand (hactl-apply.1, hactl-vault-encrypt.1, ...), which is
//! how the Debian package gets them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory};

use crate::report;

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write hactl.1 and a page per subcommand into DIR instead of printing hactl.1.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints hactl(1), or writes every page into `--out-dir`.
pub fn run(args: &ManArgs) -> anyhow::Result<ExitCode> {
    match &args.out_dir {
        None => report::verbatim(&page()?),
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(crate::cli::Cli::command(), dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// hactl(1) in roff.
pub fn page() -> anyhow::Result<String> {
    // Built as `generate_to` builds it (no `help` subcommand: it has no page), so the printed
    // page is the one `--out-dir` writes.
    let mut cmd = crate::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    Ok(String::from_utf8(buf)?)
}
