//! Variable precedence for one host, exactly as Ansible's `VariableManager.get_vars` layers the
//! inventory part (default `VARIABLE_PRECEDENCE`), lowest first:
//!
//! 1. `all`'s inline variables (INI `[all:vars]`, YAML `all: vars:`);
//! 2. every other group of the host (ancestors included) inline, sorted by depth, then
//!    `ansible_group_priority`, then name (Ansible's `sort_groups`): children beat parents;
//! 3. `group_vars/all*` next to each source, then next to the playbook;
//! 4. `group_vars/<group>*` of the same sorted groups, source by source, then next to the
//!    playbook;
//! 5. the host's inline variables, then `host_vars/<host>*` next to the sources, then next to
//!    the playbook.
//!
//! Each layer replaces top-level keys (Ansible's default `hash_behaviour = replace`).

use std::collections::HashMap;

use super::{Group, Inventory, Vars};

impl Inventory {
    /// The merged inventory variables of `host` (empty if there is no such host). Includes
    /// `inventory_file`/`inventory_dir` as Ansible's host objects do; no other magic variables.
    pub fn host_vars(&self, host: &str) -> Vars {
        self.host_vars_memo(host, &mut HashMap::new())
    }

    /// [`Inventory::host_vars`] for every host, in inventory order (group depths computed once).
    pub fn all_host_vars(&self) -> Vec<(String, Vars)> {
        let mut memo = HashMap::new();
        self.hosts
            .keys()
            .map(|h| (h.clone(), self.host_vars_memo(h, &mut memo)))
            .collect()
    }

    fn host_vars_memo<'a>(&'a self, host: &str, depth: &mut HashMap<&'a str, usize>) -> Vars {
        let Some(h) = self.hosts.get(host) else {
            return Vars::new();
        };
        let groups = self.sorted_groups(&h.groups, depth);
        let mut out = Vars::new();
        let all = self.groups.get("all");
        if let Some(all) = all {
            extend(&mut out, &all.vars);
        }
        for g in &groups {
            extend(&mut out, &g.vars);
        }
        if let Some(all) = all {
            for vars in &all.file_vars {
                extend(&mut out, vars);
            }
            extend(&mut out, &all.play_vars);
        }
        let sources = groups.iter().map(|g| g.file_vars.len()).max().unwrap_or(0);
        for i in 0..sources {
            for g in &groups {
                if let Some(vars) = g.file_vars.get(i) {
                    extend(&mut out, vars);
                }
            }
        }
        for g in &groups {
            extend(&mut out, &g.play_vars);
        }
        extend(&mut out, &h.vars);
        extend(&mut out, &h.file_vars);
        extend(&mut out, &h.play_vars);
        out
    }

    /// A group's own variables as `ansible-inventory --graph --vars` shows them: inline, then
    /// its `group_vars/` files, then `ansible_group_priority` if not the default.
    pub fn group_vars(&self, group: &str) -> Vars {
        let Some(g) = self.groups.get(group) else {
            return Vars::new();
        };
        let mut out = g.vars.clone();
        for vars in &g.file_vars {
            extend(&mut out, vars);
        }
        if g.priority() != 1 {
            out.insert("ansible_group_priority".into(), g.priority().into());
        }
        out
    }

    /// Every group `direct` groups are in or under, except `all`, in Ansible's merge order.
    fn sorted_groups<'a>(
        &'a self,
        direct: &'a [String],
        depth: &mut HashMap<&'a str, usize>,
    ) -> Vec<&'a Group> {
        let mut names: Vec<&str> = Vec::new();
        let mut stack: Vec<&str> = direct.iter().map(String::as_str).collect();
        while let Some(name) = stack.pop() {
            if name == "all" || names.contains(&name) {
                continue;
            }
            names.push(name);
            if let Some(g) = self.groups.get(name) {
                stack.extend(g.parents.iter().map(String::as_str));
            }
        }
        let mut groups: Vec<&Group> = names.iter().filter_map(|n| self.groups.get(*n)).collect();
        groups.sort_by_cached_key(|g| (self.depth(&g.name, depth), g.priority(), g.name.as_str()));
        groups
    }

    /// Ansible's group depth: the longest path down from `all` (0 for `all` itself).
    pub fn depth<'a>(&'a self, group: &'a str, memo: &mut HashMap<&'a str, usize>) -> usize {
        if let Some(&d) = memo.get(group) {
            return d;
        }
        // Guard against loops (the loader refuses them, but a hand-built inventory may not).
        memo.insert(group, 0);
        let d = match self.groups.get(group) {
            Some(g) if group != "all" => g
                .parents
                .iter()
                .map(|p| self.depth(p, memo) + 1)
                .max()
                .unwrap_or(0),
            _ => 0,
        };
        memo.insert(group, d);
        d
    }
}

/// Python's `a | b` for one layer: later keys replace earlier ones in place.
fn extend(out: &mut Vars, layer: &Vars) {
    for (k, v) in layer {
        match out.get_mut(k) {
            Some(slot) => *slot = v.clone(),
            None => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::super::parse_ini;

    fn vars(ini: &str, host: &str) -> serde_json::Value {
        let loaded = parse_ini(ini, Path::new("/inv/hosts.ini")).expect("parses");
        let mut v = loaded.inventory.host_vars(host);
        v.shift_remove("inventory_file");
        v.shift_remove("inventory_dir");
        serde_json::Value::Object(v.into_iter().collect())
    }

    #[test]
    fn child_group_beats_parent_and_host_beats_all() {
        let ini = "[p:children]\nc\n[c]\nh x=host\nh2\n[c:vars]\nx=child\ny=child\n[p:vars]\nx=parent\ny=parent\nz=parent\n[all:vars]\nz=all\nw=all\n";
        assert_eq!(
            vars(ini, "h"),
            json!({"x": "host", "w": "all", "z": "parent", "y": "child"})
        );
        assert_eq!(vars(ini, "h2")["x"], json!("child"));
    }

    #[test]
    fn same_depth_merges_by_priority_then_name() {
        let ini = "[b]\nh\n[a]\nh\n[a:vars]\nx=a\n[b:vars]\nx=b\n";
        assert_eq!(vars(ini, "h")["x"], json!("b"));
        let ini = "[b]\nh\n[a]\nh\n[a:vars]\nx=a\nansible_group_priority=5\n[b:vars]\nx=b\n";
        assert_eq!(vars(ini, "h")["x"], json!("a"));
    }

    #[test]
    fn depth_is_the_longest_path_from_all() {
        // `deep` is both a child of `all` (depth 1) and of `mid` (depth 2): depth 2 wins over
        // the depth-1 `zzz`, even though `zzz` sorts later by name.
        let ini = "[mid:children]\ndeep\n[all:children]\ndeep\n[deep]\nh\n[zzz]\nh\n[deep:vars]\nx=deep\n[zzz:vars]\nx=zzz\n";
        assert_eq!(vars(ini, "h")["x"], json!("deep"));
    }
}
