//! The inventory as Ansible's `InventoryData` holds it: hosts and groups in the order they were
//! first seen, each group with its own variables, hosts and child groups.

use indexmap::IndexMap;
use serde_json::Value;

/// Variables as parsed: name to value, in source order.
pub type Vars = IndexMap<String, Value>;

/// One host, with its own variables (never the merged ones; see [`Inventory::host_vars`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Host {
    pub name: String,
    /// Variables set on the host itself: inline INI variables, YAML host values, `host_vars/`.
    pub vars: Vars,
    /// Groups the host was put in directly, in the order it was added to them.
    pub groups: Vec<String>,
    /// Variables from `host_vars/` (all sources merged, later sources win).
    pub file_vars: Vars,
    /// Variables from `host_vars/` next to the playbook (or the current directory).
    pub play_vars: Vars,
}

/// One group. `all` and `ungrouped` always exist.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub name: String,
    pub vars: Vars,
    /// Hosts put directly in this group, in order.
    pub hosts: Vec<String>,
    /// Child groups, in order.
    pub children: Vec<String>,
    /// Parent groups, in order.
    pub parents: Vec<String>,
    /// `ansible_group_priority` from the inventory source (`None` means Ansible's default, 1).
    /// It is kept out of `vars`, as Ansible does.
    pub priority: Option<i64>,
    /// Variables from `group_vars/`, one map per inventory source in source order (Ansible
    /// merges them source by source, after all inline group variables).
    pub file_vars: Vec<Vars>,
    /// Variables from `group_vars/` next to the playbook (or, for `hactl inventory`, the
    /// current directory), which Ansible layers just above the inventory's.
    pub play_vars: Vars,
}

impl Group {
    /// The priority Ansible sorts by: same-depth groups merge lowest first.
    pub fn priority(&self) -> i64 {
        self.priority.unwrap_or(1)
    }
}

/// A whole inventory, possibly read from several sources.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    pub hosts: IndexMap<String, Host>,
    pub groups: IndexMap<String, Group>,
}

impl Default for Inventory {
    fn default() -> Self {
        let mut inv = Inventory {
            hosts: IndexMap::new(),
            groups: IndexMap::new(),
        };
        inv.add_group("all");
        inv.add_group("ungrouped");
        inv.add_child("all", "ungrouped");
        inv
    }
}

impl Inventory {
    /// Adds a group if it is new. Every group is a child of `all` until it gets another parent
    /// (Ansible's `reconcile_inventory`).
    pub fn add_group(&mut self, name: &str) {
        if !self.groups.contains_key(name) {
            self.groups.insert(
                name.to_string(),
                Group {
                    name: name.to_string(),
                    ..Group::default()
                },
            );
        }
    }

    /// Whether `ancestor` is `group` or above it in the tree.
    pub fn is_ancestor_or_self(&self, ancestor: &str, group: &str) -> bool {
        let mut stack = vec![group];
        let mut seen = std::collections::HashSet::new();
        while let Some(g) = stack.pop() {
            if g == ancestor {
                return true;
            }
            if seen.insert(g) {
                if let Some(grp) = self.groups.get(g) {
                    stack.extend(grp.parents.iter().map(String::as_str));
                }
            }
        }
        false
    }

    /// Makes `child` a child group of `parent`; both must exist.
    pub fn add_child(&mut self, parent: &str, child: &str) {
        if let Some(p) = self.groups.get_mut(parent) {
            if !p.children.iter().any(|c| c == child) {
                p.children.push(child.to_string());
            }
        }
        if let Some(c) = self.groups.get_mut(child) {
            if !c.parents.iter().any(|p| p == parent) {
                c.parents.push(parent.to_string());
            }
        }
    }

    /// Adds a host if it is new and puts it in `group` (which must exist).
    pub fn add_host(&mut self, name: &str, group: &str) {
        let host = self.hosts.entry(name.to_string()).or_insert_with(|| Host {
            name: name.to_string(),
            ..Host::default()
        });
        if !host.groups.iter().any(|g| g == group) {
            host.groups.push(group.to_string());
        }
        if let Some(g) = self.groups.get_mut(group) {
            if !g.hosts.iter().any(|h| h == name) {
                g.hosts.push(name.to_string());
            }
        }
    }
}

impl Inventory {
    /// `add_host` at run time: the host (new or not) in `groups` (made as needed, under `all`)
    /// with `vars` set. Returns whether anything changed.
    pub fn add_host_at_runtime(
        &mut self,
        name: &str,
        groups: &[String],
        vars: &serde_json::Map<String, Value>,
    ) -> bool {
        let mut changed = !self.hosts.contains_key(name);
        let groups: Vec<String> = if groups.is_empty() && changed {
            vec!["ungrouped".to_string()]
        } else {
            groups.to_vec()
        };
        for g in &groups {
            changed |= self.add_group_at_runtime(g, &[]);
            let before = self.hosts.get(name).map(|h| h.groups.len());
            self.add_host(name, g);
            changed |= self.hosts.get(name).map(|h| h.groups.len()) != before;
        }
        if let Some(host) = self.hosts.get_mut(name) {
            for (k, v) in vars {
                if host.vars.get(k) != Some(v) {
                    host.vars.insert(k.clone(), v.clone());
                    changed = true;
                }
            }
        }
        changed
    }

    /// `group_by` at run time: `group` (made as needed, under `parents`, themselves under
    /// `all`). Returns whether the group or a parent link is new.
    pub fn add_group_at_runtime(&mut self, group: &str, parents: &[String]) -> bool {
        let mut changed = !self.groups.contains_key(group);
        self.add_group(group);
        let parents: Vec<String> = if parents.is_empty() {
            vec!["all".to_string()]
        } else {
            parents.to_vec()
        };
        for p in &parents {
            if p != "all" && !self.groups.contains_key(p.as_str()) {
                self.add_group(p);
                self.add_child("all", p);
                changed = true;
            }
            let linked = self
                .groups
                .get(group)
                .is_some_and(|g| g.parents.iter().any(|x| x == p));
            if !linked {
                self.add_child(p, group);
                changed = true;
            }
        }
        changed
    }
}
