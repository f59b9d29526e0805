//! YAML inventories (`all: {hosts: ..., children: ..., vars: ...}`), read as Ansible's `yaml`
//! inventory plugin reads them: every top-level key is a group, `hosts`/`children`/`vars` may be
//! a mapping, empty, or a single string; anything else in a group is skipped with a warning.

use std::path::Path;

use serde_json::Value;

use super::error::Error;
use super::hostrange;
use super::loader::Builder;
use crate::yaml::{self, Node, Yaml};

/// Python's `type()` name for a YAML value, for messages worded like Ansible's.
fn py_type(node: &Node) -> &'static str {
    match node.value {
        Yaml::Null => "<class 'NoneType'>",
        Yaml::Bool(_) => "<class 'bool'>",
        Yaml::Int(_) => "<class 'int'>",
        Yaml::Float(_) => "<class 'float'>",
        Yaml::Str(_) | Yaml::Unsafe(_) => "<class 'str'>",
        Yaml::Seq(_) => "<class 'list'>",
        Yaml::Map(_) => "<class 'dict'>",
    }
}

fn is_map_or_null(node: &Node) -> bool {
    matches!(node.value, Yaml::Map(_) | Yaml::Null)
}

/// Parses the YAML inventory at `path` into the inventory being built.
pub(crate) fn parse(b: &mut Builder<'_>, path: &Path) -> Result<(), Error> {
    let parsed = yaml::parse_file(path)?;
    b.warn_all(parsed.warnings.iter().map(ToString::to_string));
    let root = parsed.root;
    let err = |node: &Node, message: String| Error::parse(path, node.mark.line, message);
    let pairs = match &root.value {
        Yaml::Null => return Err(Error::file(path, "Parsed empty YAML file")),
        Yaml::Map(pairs) if pairs.is_empty() => {
            return Err(Error::file(path, "Parsed empty YAML file"));
        }
        Yaml::Map(pairs) => pairs,
        _ => {
            return Err(err(
                &root,
                format!(
                    "YAML inventory has invalid structure, it should be a dictionary, got: {}",
                    py_type(&root)
                ),
            ));
        }
    };
    if root.get("plugin").is_some_and(|p| truthy(&p.value)) {
        return Err(Error::file(
            path,
            "Plugin configuration YAML file, not YAML inventory",
        ));
    }
    for (name, data) in pairs {
        parse_group(b, path, name, data)?;
    }
    Ok(())
}

/// Python truthiness, for `data.get('plugin')`.
fn truthy(v: &Yaml) -> bool {
    match v {
        Yaml::Null => false,
        Yaml::Bool(b) => *b,
        Yaml::Int(i) => *i != 0,
        Yaml::Float(f) => *f != 0.0,
        Yaml::Str(s) | Yaml::Unsafe(s) => !s.is_empty(),
        Yaml::Seq(s) => !s.is_empty(),
        Yaml::Map(m) => !m.is_empty(),
    }
}

/// One group: returns its name, or `None` when it was skipped (not a mapping).
fn parse_group(
    b: &mut Builder<'_>,
    path: &Path,
    name_node: &Node,
    data: &Node,
) -> Result<Option<String>, Error> {
    let err = |node: &Node, message: String| Error::parse(path, node.mark.line, message);
    let Some(name) = name_node.as_str() else {
        return Err(err(
            name_node,
            format!(
                "Unable to add group {}: Invalid group name supplied, expected a string but got {} for {}",
                name_node.py_repr(),
                py_type(name_node),
                name_node.py_repr()
            ),
        ));
    };
    if !is_map_or_null(data) {
        b.warn(format!(
            "Skipping '{name}' as this is not a valid group definition"
        ));
        return Ok(None);
    }
    if name.is_empty() {
        return Err(err(
            name_node,
            format!("Unable to add group {name}: Invalid empty/false group name provided: {name}"),
        ));
    }
    b.add_group(name);
    let Yaml::Map(pairs) = &data.value else {
        return Ok(Some(name.to_string()));
    };
    // Sections are checked before any is used, as Ansible does.
    for (key, value) in pairs {
        let Some(section @ ("vars" | "children" | "hosts")) = key.as_str() else {
            continue;
        };
        let ok = is_map_or_null(value) || matches!(value.value, Yaml::Str(_) | Yaml::Unsafe(_));
        if !ok {
            return Err(err(
                value,
                format!(
                    "Invalid \"{section}\" entry for \"{name}\" group, requires a dictionary, found \"{}\" instead.",
                    py_type(value)
                ),
            ));
        }
    }
    for (key, value) in pairs {
        let key_name = key.as_str().map_or_else(|| key.py_repr(), str::to_string);
        // A lone string stands for a one-entry mapping with an empty value.
        let entries: Vec<(Node, Node)> = match &value.value {
            Yaml::Str(_) | Yaml::Unsafe(_)
                if matches!(key_name.as_str(), "vars" | "children" | "hosts") =>
            {
                vec![(value.clone(), Node::new(Yaml::Null, value.mark))]
            }
            Yaml::Map(entries) => entries.clone(),
            Yaml::Null => continue,
            _ => {
                b.warn(format!(
                    "Skipping key ({key_name}) in group ({name}) as it is not a mapping, it is a {}",
                    py_type(value)
                ));
                continue;
            }
        };
        match key_name.as_str() {
            "vars" => {
                for (var, val) in &entries {
                    b.set_group_var(name, &var.json_key(), node_value(val)).map_err(|m| err(var, m))?;
                }
            }
            "children" => {
                for (child, child_data) in &entries {
                    let child_name = parse_group(b, path, child, child_data)?;
                    let child_name = child_name.unwrap_or_else(|| child.json_key());
                    if !b.inv.groups.contains_key(&child_name) {
                        return Err(err(child, format!("{child_name} is not a known host nor group")));
                    }
                    b.add_child(name, &child_name).map_err(|m| err(child, m))?;
                }
            }
            "hosts" => {
                for (pattern, host_data) in &entries {
                    parse_hosts(b, path, name, pattern, host_data)?;
                }
            }
            _ => b.warn(format!(
                "Skipping unexpected key ({key_name}) in group ({name}), only \"vars\", \"children\" and \"hosts\" are valid"
            )),
        }
    }
    Ok(Some(name.to_string()))
}

fn parse_hosts(
    b: &mut Builder<'_>,
    path: &Path,
    group: &str,
    pattern: &Node,
    data: &Node,
) -> Result<(), Error> {
    let err = |node: &Node, message: String| Error::parse(path, node.mark.line, message);
    let Some(text) = pattern.as_str() else {
        return Err(err(
            pattern,
            format!(
                "Host pattern {} must be a string. Enclose integers/floats in quotation marks.",
                pattern.py_repr()
            ),
        ));
    };
    let expanded = hostrange::expand(text).map_err(|m| err(pattern, m))?;
    let vars: Vec<(String, Value)> = match &data.value {
        Yaml::Null => Vec::new(),
        Yaml::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| (k.json_key(), node_value(v)))
            .collect(),
        // `host: ""`, `host: 0`, `host: []` are all falsy in Python, so they count as no vars.
        other if !truthy(other) => Vec::new(),
        _ => {
            return Err(err(
                data,
                format!(
                    "Invalid data from file, expected dictionary and got:\n\n{}",
                    data.to_json()
                ),
            ));
        }
    };
    for host in &expanded.hosts {
        b.add_host(host, group, expanded.port)
            .map_err(|m| err(pattern, m))?;
        for (k, v) in &vars {
            b.set_host_var(host, k, v.clone());
        }
    }
    Ok(())
}

/// A YAML value as inventory data: like [`Node::to_json`], except that `!unsafe` strings keep
/// their mark (see [`super::unsafe_value`]).
pub(crate) fn node_value(node: &Node) -> Value {
    match &node.value {
        Yaml::Unsafe(s) => super::unsafe_value(s.clone()),
        Yaml::Seq(items) => Value::Array(items.iter().map(node_value).collect()),
        Yaml::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.json_key(), node_value(v)))
                .collect(),
        ),
        _ => node.to_json(),
    }
}
