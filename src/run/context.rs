//! The variables a task sees on a host, layered in Ansible's order of precedence, and the
//! inventory-wide pieces (`hostvars`, `groups`) built once per play.
//!
//! Lowest to highest: role defaults, inventory variables (with facts above them), play `vars`,
//! `vars_files`, role `vars` and parameters, block `vars`, task `vars`, `set_fact`/`register`,
//! extra vars; the magic variables sit on top.

use std::collections::BTreeSet;
use std::path::Path;

use indexmap::IndexMap;
use minijinja::Value;
use serde_json::Map;

use crate::inventory::Inventory;
use crate::inventory::pattern::group_hosts;
use crate::playbook::{Playbook, Role, Vars};
use crate::template::{HostInfo, PlayInfo, PlayVars, to_value};

/// Per-host facts, from gathering or from `--facts DIR`.
pub type Facts = IndexMap<String, Map<String, serde_json::Value>>;

/// Reads `DIR/<host>.json` files: either Ansible's `setup` output (`{"ansible_facts": ...}`) or
/// a plain mapping of facts.
pub fn load_facts_dir(dir: &Path) -> anyhow::Result<Facts> {
    let mut out = Facts::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the facts folder {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))?;
        let facts = json.get("ansible_facts").cloned().unwrap_or(json);
        let serde_json::Value::Object(map) = facts else {
            anyhow::bail!("{}: facts must be a JSON object", path.display());
        };
        let host = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.insert(host, map);
    }
    Ok(out)
}

/// `group_names`: every group the host is in, directly or through children, sorted, without
/// `all`.
pub fn group_names(inv: &Inventory, host: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = inv
        .hosts
        .get(host)
        .map(|h| h.groups.clone())
        .unwrap_or_default();
    while let Some(g) = todo.pop() {
        if g == "all" || !out.insert(g.clone()) {
            continue;
        }
        if let Some(group) = inv.groups.get(&g) {
            todo.extend(group.parents.iter().cloned());
        }
    }
    out.into_iter().collect()
}

/// The inventory keeps `!unsafe` (and INI `b'...'`) strings as `{"__ansible_unsafe": text}`;
/// templates must see the text, never rendered: it becomes a `{% raw %}` block, as playbook
/// values tagged `!unsafe` do.
fn never_templated(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    if let Some(text) = crate::inventory::unsafe_text(&v) {
        let markers = text.contains("{{") || text.contains("{%") || text.contains("{#");
        return Json::String(if markers {
            format!("{{% raw %}}{text}{{% endraw %}}")
        } else {
            text.to_string()
        });
    }
    match v {
        Json::Array(items) => Json::Array(items.into_iter().map(never_templated).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k, never_templated(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Builds `hostvars`, `groups` and the play's magic variables.
pub fn play_vars(inv: &Inventory, facts: &Facts, play: &PlayInfo) -> PlayVars {
    let hosts: Vec<HostInfo> = inv
        .hosts
        .keys()
        .map(|name| {
            let mut vars: Map<String, serde_json::Value> = inv
                .host_vars(name)
                .into_iter()
                .map(|(k, v)| (k, never_templated(v)))
                .collect();
            if let Some(f) = facts.get(name) {
                vars.extend(f.clone());
            }
            HostInfo {
                name: name.clone(),
                vars,
                group_names: group_names(inv, name),
            }
        })
        .collect();
    let groups: IndexMap<String, Vec<String>> = inv
        .groups
        .keys()
        .map(|g| (g.clone(), group_hosts(inv, g)))
        .collect();
    PlayVars::new(&hosts, &groups, play)
}

/// The role-level layers of a task: defaults (below the inventory) and vars (above play vars).
#[derive(Debug, Clone, Default)]
pub struct RoleLayers {
    pub defaults: Vec<Value>,
    pub vars: Vec<Value>,
}

impl RoleLayers {
    /// Every role of the play makes its defaults and vars visible to the whole play (Ansible's
    /// default, `private_role_vars = False`); the task's own role goes on top.
    pub fn for_task(
        pb: &Playbook,
        play_roles: &[&Role],
        own: Option<&Role>,
        params: Option<&Vars>,
    ) -> Self {
        let mut layers = RoleLayers::default();
        for role in play_roles {
            layers.defaults.push(to_value(&role.defaults));
            layers.vars.push(to_value(&role.vars));
        }
        if let Some(role) = own {
            layers.defaults.push(to_value(&role.defaults));
            layers.vars.push(to_value(&role.vars));
            let magic = Value::from_pairs([
                ("role_name", Value::from(role.name.as_str())),
                ("role_path", Value::from(role.path.display().to_string())),
            ]);
            layers.vars.push(magic);
        }
        if let Some(p) = params {
            layers.vars.push(to_value(p));
        }
        let _ = pb;
        layers
    }
}
