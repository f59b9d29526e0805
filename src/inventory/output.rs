//! What `ansible-inventory` prints: `--list` (JSON of groups plus `_meta.hostvars`), `--graph`
//! (the group tree, optionally with variables) and `--host` (one host's variables).
//!
//! Variables Ansible treats as internal (`inventory_file`, `inventory_dir`, ...) are left out,
//! as `ansible-inventory` leaves them out. JSON is printed with sorted keys and four-space
//! indents like Ansible's; the `profile` key of `_meta` is omitted.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::error::Error;
use super::{Inventory, Vars, pyliteral};

/// Ansible's `INTERNAL_STATIC_VARS`: never shown by `ansible-inventory`.
const INTERNAL: [&str; 34] = [
    "ansible_async_path",
    "ansible_collection_name",
    "ansible_config_file",
    "ansible_dependent_role_names",
    "ansible_diff_mode",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_play_batch",
    "ansible_play_hosts",
    "ansible_play_hosts_all",
    "ansible_play_role_names",
    "ansible_playbook_python",
    "ansible_role_name",
    "ansible_role_names",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "hostvars",
    "playbook_dir",
    "play_hosts",
    "role_name",
    "role_names",
    "role_path",
    "role_uuid",
    "omit",
];

fn shown(mut vars: Vars) -> Vars {
    // `omit` is not internal in Ansible; it never appears in inventory vars either way.
    vars.retain(|k, _| k == "omit" || !INTERNAL.contains(&k.as_str()));
    vars
}

/// `--host NAME`.
pub fn host(inv: &Inventory, name: &str) -> Result<Value, Error> {
    if !inv.hosts.contains_key(name) {
        return Err(Error::UnknownHost(name.to_string()));
    }
    // Unlike --list, --host prints never-templated strings as plain strings.
    Ok(plain(Value::Object(
        shown(inv.host_vars(name)).into_iter().collect(),
    )))
}

fn plain(v: Value) -> Value {
    if let Some(text) = super::unsafe_text(&v) {
        return Value::String(text.to_string());
    }
    match v {
        Value::Array(items) => Value::Array(items.into_iter().map(plain).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, plain(v))).collect()),
        other => other,
    }
}

/// `--list`.
pub fn list(inv: &Inventory) -> Value {
    let mut out = Map::new();
    let mut seen = HashSet::new();
    format_group(inv, "all", &mut seen, &mut out);
    let mut hostvars = Map::new();
    let mut all_vars: std::collections::HashMap<String, Vars> =
        inv.all_host_vars().into_iter().collect();
    for name in all_hosts(inv) {
        let vars = shown(all_vars.remove(&name).unwrap_or_default());
        if !vars.is_empty() {
            hostvars.insert(name, Value::Object(vars.into_iter().collect()));
        }
    }
    let mut meta = Map::new();
    meta.insert("hostvars".into(), Value::Object(hostvars));
    out.insert("_meta".into(), Value::Object(meta));
    Value::Object(out)
}

fn format_group(
    inv: &Inventory,
    name: &str,
    seen: &mut HashSet<String>,
    out: &mut Map<String, Value>,
) {
    let Some(group) = inv.groups.get(name) else {
        return;
    };
    let mut entry = Map::new();
    if name != "all" && !group.hosts.is_empty() {
        entry.insert(
            "hosts".into(),
            group.hosts.iter().cloned().map(Value::String).collect(),
        );
    }
    if !group.children.is_empty() {
        entry.insert(
            "children".into(),
            group.children.iter().cloned().map(Value::String).collect(),
        );
    }
    if !entry.is_empty() {
        out.insert(name.to_string(), Value::Object(entry));
    }
    for child in &group.children {
        if seen.insert(child.clone()) {
            format_group(inv, child, seen, out);
        }
    }
}

/// The hosts of `all` in Ansible's order: groups breadth-first from `all`, hosts in group order.
pub fn all_hosts(inv: &Inventory) -> Vec<String> {
    let mut order: Vec<&str> = vec!["all"];
    let mut seen_groups: HashSet<&str> = HashSet::from(["all"]);
    let mut frontier: Vec<&str> = vec!["all"];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for g in frontier {
            for child in inv
                .groups
                .get(g)
                .map(|g| g.children.as_slice())
                .unwrap_or_default()
            {
                if seen_groups.insert(child) {
                    order.push(child);
                    next.push(child.as_str());
                }
            }
        }
        frontier = next;
    }
    let mut seen = HashSet::new();
    let mut hosts = Vec::new();
    for g in order {
        for h in inv
            .groups
            .get(g)
            .map(|g| g.hosts.as_slice())
            .unwrap_or_default()
        {
            if seen.insert(h.as_str()) {
                hosts.push(h.clone());
            }
        }
    }
    hosts
}

/// `--graph [GROUP] [--vars]`.
pub fn graph(inv: &Inventory, start: &str, show_vars: bool) -> Result<String, Error> {
    if !inv.groups.contains_key(start) {
        return Err(Error::UnknownGroup(start.to_string()));
    }
    let mut lines = Vec::new();
    graph_group(inv, start, 0, show_vars, &mut lines);
    Ok(lines.join("\n"))
}

fn graph_name(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_string()
    } else {
        format!("{}--{name}", "  |".repeat(depth))
    }
}

fn graph_vars(vars: Vars, depth: usize, lines: &mut Vec<String>) {
    let mut vars: Vec<(String, Value)> = shown(vars).into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in vars {
        lines.push(graph_name(&format!("{{{k} = {}}}", py_str(&v)), depth));
    }
}

fn graph_group(
    inv: &Inventory,
    name: &str,
    depth: usize,
    show_vars: bool,
    lines: &mut Vec<String>,
) {
    let Some(group) = inv.groups.get(name) else {
        return;
    };
    lines.push(graph_name(&format!("@{name}:"), depth));
    for child in &group.children {
        graph_group(inv, child, depth + 1, show_vars, lines);
    }
    if name != "all" {
        for host in &group.hosts {
            lines.push(graph_name(host, depth + 1));
            if show_vars {
                graph_vars(inv.host_vars(host), depth + 2, lines);
            }
        }
    }
    if show_vars {
        graph_vars(inv.group_vars(name), depth + 1, lines);
    }
}

/// Python's `str()` of a value: text as is, everything inside containers as `repr()`.
pub fn py_str(v: &Value) -> String {
    if let Some(text) = super::unsafe_text(v) {
        return text.to_string();
    }
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    if let Some(text) = super::unsafe_text(v) {
        return crate::python::str_repr(text);
    }
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => pyliteral::float_repr(f),
            _ => n.to_string(),
        },
        Value::String(s) => crate::python::str_repr(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", crate::python::str_repr(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// JSON as Ansible prints it: keys sorted, four-space indent.
pub fn to_json_text(mut sorted: Value) -> String {
    sort_keys(&mut sorted);
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    if serde::Serialize::serialize(&sorted, &mut ser).is_err() {
        return sorted.to_string();
    }
    String::from_utf8(buf).unwrap_or_default()
}

fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}
