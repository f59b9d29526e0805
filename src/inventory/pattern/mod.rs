//! Host patterns: which hosts `all`, `web:&prod:!web[0]`, `~db[0-9]+` or `--limit @retry.txt`
//! select, in the order Ansible's `InventoryManager.get_hosts` returns them, with the same
//! warnings.
//!
//! It owns pattern syntax and evaluation. It does not own what a command does when nothing
//! matched (the `ansible` CLI's "No hosts matched" handling lives in `commands::run`).
//!
//! Evaluation, in brief: a pattern is split into terms ([`split_host_pattern`]), ordered unions
//! first, then `&` intersections, then `!` exclusions ([`order_patterns`]). A term that is the
//! exact name of a host selects that host. Otherwise its expression (the term minus `&`/`!` and
//! minus a `[subscript]`) is matched against every group name, giving each matching group's hosts,
//! and, when no group matched or the expression has `~ . ? * [`, against every host name. A
//! subscript then picks from those matches, duplicates included. A `--limit` is a second pattern
//! whose hosts filter the result.
//!
//! Differences from Ansible, all deliberate:
//! - `~regex` uses Rust's `regex` syntax: lookaround and backreferences are refused as invalid
//!   patterns; Python-only spellings such as `\Z` too.
//! - Below a group's children, Ansible orders the groups of one depth through a Python `set`
//!   of objects hashed by address, so it may print different orders from run to run; hactl uses
//!   the order the groups were reached in (see `matcher::group_hosts`).
//! - A missing `--limit @FILE` is named as `FILE`, not as Python's `b'FILE'`.

mod address;
mod glob;
mod matcher;
mod selector;
mod split;

use std::path::PathBuf;

pub use glob::Glob;
pub use selector::Selector;
pub use split::{Subscript, apply_subscript, order_patterns, split_host_pattern, split_subscript};

use crate::inventory::Inventory;
pub use matcher::group_hosts;

/// Names Ansible treats as the controller itself; one of them selects an implicit `localhost`
/// when the inventory doesn't have it.
pub const LOCALHOST: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// What to do with a term that matches no group and no host (Ansible's `host_pattern_mismatch`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mismatch {
    /// Warn and go on (Ansible's default).
    #[default]
    Warn,
    /// Fail with [`PatternError::NoMatch`] (`hactl --strict`).
    Error,
    /// Say nothing.
    Ignore,
}

/// A pattern that can't be evaluated. The messages are Ansible's.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("Invalid host list pattern: {pattern}")]
    InvalidRegex { pattern: String },
    #[error("No hosts matched the subscripted pattern '{pattern}'")]
    SubscriptOutOfRange { pattern: String },
    #[error("Could not match supplied host pattern, ignoring: {pattern}")]
    NoMatch { pattern: String },
    #[error("Unable to find limit file {}", path.display())]
    LimitFileMissing { path: PathBuf },
    #[error("Limit starting with \"@\" must be a file, not a directory: {}", path.display())]
    LimitFileIsDir { path: PathBuf },
    #[error("cannot read limit file {}", path.display())]
    LimitFileRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The hosts a pattern selected, in order, and the warnings Ansible would print on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub hosts: Vec<String>,
    pub warnings: Vec<String>,
}

/// Selects the hosts `pattern` matches, restricted to those `limit` matches if given. Warns on
/// terms that match nothing; see [`Selector`] for more control.
pub fn select(
    inv: &Inventory,
    pattern: &str,
    limit: Option<&str>,
) -> Result<Selection, PatternError> {
    let mut selector = Selector::new(inv);
    selector.set_limit(limit)?;
    let hosts = selector.hosts(pattern)?;
    Ok(Selection {
        hosts,
        warnings: selector.take_warnings(),
    })
}

#[cfg(test)]
mod tests;
