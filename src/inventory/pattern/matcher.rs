//! Matching one term's expression (a name, glob or `~regex`) against an inventory's group and
//! host names, and listing a group's hosts in Ansible's order.

use std::collections::HashSet;

use regex::Regex;

use super::glob::Glob;
use crate::inventory::Inventory;

/// A compiled name matcher: a `~regex` (anchored at the start only, as Python's `re.match`) or a
/// glob (anchored at both ends; a plain name is a glob that matches itself).
#[derive(Debug)]
pub enum NameMatcher {
    Regex(Regex),
    Glob(Glob),
}

impl NameMatcher {
    /// Compiles `expr`; `None` if it is a `~regex` that doesn't compile.
    pub fn new(expr: &str) -> Option<Self> {
        match expr.strip_prefix('~') {
            Some(re) => Regex::new(re).ok().map(NameMatcher::Regex),
            None => Some(NameMatcher::Glob(Glob::new(expr))),
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        match self {
            // A match starting at 0 exists exactly when the leftmost match starts at 0.
            NameMatcher::Regex(re) => re.find(name).is_some_and(|m| m.start() == 0),
            NameMatcher::Glob(glob) => glob.matches(name),
        }
    }
}

/// The hosts of a group and of all its descendants, without duplicates, in Ansible's order: the
/// group's own hosts, then those of its children, then of its grandchildren, and so on (breadth
/// first).
///
/// Ansible walks each level of the tree through a Python `set`, so below the children its order
/// among the groups of one level is arbitrary; here it is the order the groups were reached in,
/// which is what Ansible prints for most inventories.
pub fn group_hosts(inv: &Inventory, group: &str) -> Vec<String> {
    let children = |name: &str| {
        inv.groups
            .get(name)
            .map(|g| g.children.as_slice())
            .unwrap_or(&[])
    };
    let mut ordered: Vec<&str> = vec![group];
    ordered.extend(children(group).iter().map(String::as_str));
    let mut seen: HashSet<&str> = HashSet::new();
    let mut level: Vec<&str> = ordered.clone();
    while !level.is_empty() {
        seen.extend(level.iter().copied());
        let mut next: Vec<&str> = Vec::new();
        for parent in &level {
            for child in children(parent) {
                if !seen.contains(child.as_str()) {
                    ordered.push(child);
                    if !next.contains(&child.as_str()) {
                        next.push(child);
                    }
                }
            }
        }
        level = next;
    }
    let mut hosts_seen: HashSet<&str> = HashSet::new();
    let mut hosts = Vec::new();
    for name in ordered {
        for host in inv
            .groups
            .get(name)
            .map(|g| g.hosts.as_slice())
            .unwrap_or(&[])
        {
            if hosts_seen.insert(host) {
                hosts.push(host.clone());
            }
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_anchored_at_the_start_only() {
        let m = NameMatcher::new("~web[0-9]+").expect("valid regex");
        assert!(m.matches("web1"));
        assert!(m.matches("web12.example.com"));
        assert!(!m.matches("xweb1"));
        let m = NameMatcher::new("~.*db$").expect("valid regex");
        assert!(m.matches("proddb"));
        assert!(NameMatcher::new("~(").is_none());
        assert!(
            NameMatcher::new("~")
                .expect("empty regex")
                .matches("anything")
        );
    }

    #[test]
    fn plain_names_and_globs() {
        let m = NameMatcher::new("web1.example.com").expect("glob");
        assert!(m.matches("web1.example.com"));
        assert!(
            !m.matches("web1-example-com"),
            "a dot is not a wildcard in a glob"
        );
        assert!(NameMatcher::new("db-*").expect("glob").matches("db-a"));
    }

    /// all -> {a, b}; a -> {a1}; b -> {b1, a1}; a1 -> {deep}
    fn tree() -> Inventory {
        let mut inv = Inventory::default();
        for g in ["a", "b", "a1", "b1", "deep"] {
            inv.add_group(g);
        }
        inv.add_child("all", "a");
        inv.add_child("all", "b");
        inv.add_child("a", "a1");
        inv.add_child("b", "b1");
        inv.add_child("b", "a1");
        inv.add_child("a1", "deep");
        inv.add_host("h-deep", "deep");
        inv.add_host("h-b1", "b1");
        inv.add_host("h-a1", "a1");
        inv.add_host("h-b", "b");
        inv.add_host("h-a", "a");
        inv.add_host("h-a1", "b");
        inv.add_host("loose", "ungrouped");
        inv
    }

    #[test]
    fn group_hosts_are_breadth_first() {
        let inv = tree();
        assert_eq!(group_hosts(&inv, "a"), ["h-a", "h-a1", "h-deep"]);
        assert_eq!(group_hosts(&inv, "b"), ["h-b", "h-a1", "h-b1", "h-deep"]);
        assert_eq!(
            group_hosts(&inv, "all"),
            ["loose", "h-a", "h-b", "h-a1", "h-b1", "h-deep"]
        );
        assert_eq!(group_hosts(&inv, "nope"), Vec::<String>::new());
    }
}
