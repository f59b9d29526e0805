//! [`Selector`]: evaluating patterns and a limit against one inventory, term by term, as
//! Ansible's `InventoryManager` does (`get_hosts`, `_evaluate_patterns`, `_match_one_pattern`,
//! `_enumerate_matches`, `subset`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::matcher::{NameMatcher, group_hosts};
use super::{
    LOCALHOST, Mismatch, PatternError, apply_subscript, order_patterns, split_host_pattern,
    split_subscript,
};
use crate::inventory::Inventory;

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
