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
mod split;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use glob::Glob;
pub use split::{Subscript, apply_subscript, order_patterns, split_host_pattern, split_subscript};

use crate::inventory::Inventory;
use matcher::{NameMatcher, group_hosts};

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

/// Evaluates patterns against one inventory, like Ansible's `InventoryManager`: it keeps a limit,
/// caches term results and gathers warnings (each distinct warning once) across calls, so a
/// playbook can evaluate every play's `hosts:` with one selector.
#[derive(Debug)]
pub struct Selector<'a> {
    inv: &'a Inventory,
    mismatch: Mismatch,
    /// The limit's terms; `None` or empty means no limit.
    limit: Option<Vec<String>>,
    cache: HashMap<String, Vec<String>>,
    /// The host `localhost`, `127.0.0.1` and `::1` stand for when not in the inventory: the first
    /// such host the inventory has, else the first of these names a pattern asked for.
    localhost: Option<String>,
    warnings: Vec<String>,
}

impl<'a> Selector<'a> {
    pub fn new(inv: &'a Inventory) -> Self {
        let localhost = inv
            .hosts
            .keys()
            .find(|h| LOCALHOST.contains(&h.as_str()))
            .cloned();
        Selector {
            inv,
            mismatch: Mismatch::Warn,
            limit: None,
            cache: HashMap::new(),
            localhost,
            warnings: Vec::new(),
        }
    }

    /// Sets what a term matching nothing does.
    pub fn mismatch(mut self, mismatch: Mismatch) -> Self {
        self.mismatch = mismatch;
        self
    }

    /// Sets (or with `None` clears) the limit, as `--limit` does. Terms `@FILE` are replaced by
    /// the lines of FILE (relative to the current directory), each line one term.
    pub fn set_limit(&mut self, limit: Option<&str>) -> Result<(), PatternError> {
        let Some(limit) = limit else {
            self.limit = None;
            return Ok(());
        };
        let mut terms = Vec::new();
        for term in split_host_pattern(limit) {
            match term.strip_prefix('@') {
                Some(file) => terms.extend(read_limit_file(Path::new(file))?),
                None => terms.push(term),
            }
        }
        self.limit = Some(terms);
        Ok(())
    }

    /// The hosts `pattern` selects within the limit, without duplicates, in Ansible's order.
    pub fn hosts(&mut self, pattern: &str) -> Result<Vec<String>, PatternError> {
        self.hosts_of(&[pattern])
    }

    /// The hosts a list of patterns selects within the limit, as for a play whose `hosts:` is a
    /// YAML list: each item is split into terms and all the terms are evaluated together.
    pub fn hosts_of<S: AsRef<str>>(&mut self, patterns: &[S]) -> Result<Vec<String>, PatternError> {
        let terms: Vec<String> = patterns
            .iter()
            .flat_map(|p| split_host_pattern(p.as_ref()))
            .collect();
        let mut hosts = self.evaluate(&terms)?;
        if let Some(limit) = self.limit.clone().filter(|l| !l.is_empty()) {
            let allowed: HashSet<String> = self.evaluate(&limit)?.into_iter().collect();
            hosts.retain(|h| allowed.contains(h));
        }
        Ok(dedup(hosts))
    }

    /// The hosts `pattern` selects, ignoring the limit.
    pub fn hosts_ignoring_limit(&mut self, pattern: &str) -> Result<Vec<String>, PatternError> {
        Ok(dedup(self.evaluate(&split_host_pattern(pattern))?))
    }

    /// The warnings gathered so far, each once, in the order they arose; clears them.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn warn(&mut self, msg: String) {
        if !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }

    /// Applies ordered terms one after the other (Ansible's `_evaluate_patterns`).
    fn evaluate(&mut self, terms: &[String]) -> Result<Vec<String>, PatternError> {
        let mut hosts: Vec<String> = Vec::new();
        for term in order_patterns(terms) {
            // A term naming a host is that host, even if a group has the same name.
            if self.inv.hosts.contains_key(&term) {
                hosts.push(term);
                continue;
            }
            let matched = self.match_term(&term)?;
            if term.starts_with('!') {
                let matched: HashSet<&String> = matched.iter().collect();
                hosts.retain(|h| !matched.contains(h));
            } else if term.starts_with('&') {
                let matched: HashSet<&String> = matched.iter().collect();
                hosts.retain(|h| matched.contains(h));
            } else {
                // Duplicates within one term's matches stay until the final dedup, as in Ansible.
                let before: HashSet<String> = hosts.iter().cloned().collect();
                hosts.extend(matched.into_iter().filter(|h| !before.contains(h)));
            }
        }
        Ok(hosts)
    }

    /// The hosts one term matches, ignoring its `&` or `!` (Ansible's `_match_one_pattern`).
    fn match_term(&mut self, term: &str) -> Result<Vec<String>, PatternError> {
        let term = term.strip_prefix(['&', '!']).unwrap_or(term);
        if let Some(hosts) = self.cache.get(term) {
            return Ok(hosts.clone());
        }
        let split = split_subscript(term);
        if split.dash_form {
            self.warn(
                "Use [x:y] inclusive subscripts instead of [x-y] which has been removed".into(),
            );
        }
        let matches = self.enumerate(split.expr)?;
        let hosts = apply_subscript(matches, split.subscript).ok_or_else(|| {
            PatternError::SubscriptOutOfRange {
                pattern: term.to_string(),
            }
        })?;
        self.cache.insert(term.to_string(), hosts.clone());
        Ok(hosts)
    }

    /// Every host an expression matches, through groups then hosts, duplicates kept (Ansible's
    /// `_enumerate_matches`).
    fn enumerate(&mut self, expr: &str) -> Result<Vec<String>, PatternError> {
        let matcher = NameMatcher::new(expr).ok_or_else(|| PatternError::InvalidRegex {
            pattern: expr.to_string(),
        })?;
        let inv = self.inv;
        let mut results = Vec::new();
        let mut group_matched = false;
        for group in inv.groups.keys().filter(|g| matcher.matches(g)) {
            group_matched = true;
            results.extend(group_hosts(inv, group));
        }
        let wildcard = expr.starts_with('~') || expr.contains(['.', '?', '*', '[']);
        if !group_matched || wildcard {
            results.extend(inv.hosts.keys().filter(|h| matcher.matches(h)).cloned());
        }
        if results.is_empty() && LOCALHOST.contains(&expr) {
            results.push(self.localhost_for(expr));
        }
        if results.is_empty() && !group_matched && expr != "all" {
            let pattern = expr.to_string();
            match self.mismatch {
                Mismatch::Warn => self.warn(format!(
                    "Could not match supplied host pattern, ignoring: {pattern}"
                )),
                Mismatch::Error => return Err(PatternError::NoMatch { pattern }),
                Mismatch::Ignore => {}
            }
        }
        Ok(results)
    }

    /// The host a localhost name stands for: the inventory's own, else an implicit one named
    /// after the first name asked for.
    fn localhost_for(&mut self, name: &str) -> String {
        if self.inv.hosts.contains_key(name) {
            return name.to_string();
        }
        self.localhost
            .get_or_insert_with(|| name.to_string())
            .clone()
    }
}

/// Reads a `--limit @FILE`: one term per line, blank lines kept (they are ignored later).
fn read_limit_file(path: &Path) -> Result<Vec<String>, PatternError> {
    if !path.exists() {
        return Err(PatternError::LimitFileMissing {
            path: path.to_path_buf(),
        });
    }
    if !path.is_file() {
        return Err(PatternError::LimitFileIsDir {
            path: path.to_path_buf(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| PatternError::LimitFileRead {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text
        .split('\n')
        .map(|line| line.trim().to_string())
        .collect())
}

/// Removes repeated hosts, keeping each first one.
fn dedup(hosts: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    hosts
        .into_iter()
        .filter(|h| seen.insert(h.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
