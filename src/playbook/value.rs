//! Turning YAML nodes into the plain values variables and module arguments hold, and reading
//! keyword values with Ansible's rules (its booleans, comma-separated tags, string-or-list).

use serde_json::Value;

use super::error::Error;
use super::model::{Condition, Vars};
use crate::yaml::{Node, Yaml};

/// What Jinja2 renders `{% raw %}` contents as: the text itself. An `!unsafe` string that holds
/// template markers is stored wrapped in a raw block, so rendering it yields it unchanged, as
/// Ansible never templates unsafe values.
pub fn value(node: &Node) -> Value {
    match &node.value {
        Yaml::Unsafe(s) if s.contains("{{") || s.contains("{%") || s.contains("{#") => {
            Value::String(crate::template::literal_template(s))
        }
        Yaml::Seq(items) => Value::Array(items.iter().map(value).collect()),
        Yaml::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.json_key(), value(v)))
                .collect(),
        ),
        _ => node.to_json(),
    }
}

/// A mapping of variables; null (an empty section) is no variables.
pub fn vars(node: &Node, file: &std::path::Path, what: &str) -> Result<Vars, Error> {
    if node.is_null() {
        return Ok(Vars::new());
    }
    let pairs = node.as_map().ok_or_else(|| {
        Error::at(
            file,
            node.mark,
            format!("{what} must be a mapping, not {}", node.kind()),
        )
    })?;
    Ok(pairs
        .iter()
        .map(|(k, v)| (k.json_key(), value(v)))
        .collect())
}

/// Ansible's `boolean()`: `yes`/`on`/`1`/`true`/`y`/`t` and their opposites, any case.
pub fn boolean(node: &Node, file: &std::path::Path, key: &str) -> Result<bool, Error> {
    let parsed = match &node.value {
        Yaml::Bool(b) => Some(*b),
        Yaml::Int(1) => Some(true),
        Yaml::Int(0) => Some(false),
        Yaml::Float(f) if *f == 1.0 => Some(true),
        Yaml::Float(f) if *f == 0.0 => Some(false),
        Yaml::Str(s) | Yaml::Unsafe(s) => bool_str(s),
        _ => None,
    };
    parsed.ok_or_else(|| {
        let shown = node.as_str().map(|s| format!(" '{s}'")).unwrap_or_default();
        Error::at(
            file,
            node.mark,
            format!("'{key}' must be a boolean, not {}{shown}", node.kind()),
        )
    })
}

/// Ansible's truthy and falsy strings.
pub fn bool_str(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" => Some(true),
        "n" | "no" | "off" | "0" | "false" | "f" => Some(false),
        _ => None,
    }
}

/// A string keyword. Numbers are accepted and printed as Python would.
pub fn string(node: &Node, file: &std::path::Path, key: &str) -> Result<String, Error> {
    match &node.value {
        Yaml::Str(s) | Yaml::Unsafe(s) => Ok(s.clone()),
        Yaml::Int(_) | Yaml::Float(_) | Yaml::Bool(_) => Ok(node.py_repr()),
        _ => Err(Error::at(
            file,
            node.mark,
            format!("'{key}' must be a string, not {}", node.kind()),
        )),
    }
}

/// A string or a list of strings (`notify`, `listen`, `vars_files`).
pub fn string_list(node: &Node, file: &std::path::Path, key: &str) -> Result<Vec<String>, Error> {
    match &node.value {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Seq(items) => items.iter().map(|i| string(i, file, key)).collect(),
        _ => Ok(vec![string(node, file, key)?]),
    }
}

/// `tags`: a list, or a comma-separated string, as Ansible splits them.
pub fn tags(node: &Node, file: &std::path::Path) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for tag in string_list(node, file, "tags")? {
        out.extend(
            tag.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from),
        );
    }
    Ok(out)
}

/// `when` and friends: an expression, a list of them (all must hold), or a boolean.
pub fn conditions(node: &Node, file: &std::path::Path, key: &str) -> Result<Vec<Condition>, Error> {
    let one = |n: &Node| -> Result<Condition, Error> {
        match &n.value {
            Yaml::Bool(b) => Ok(Condition::Const(*b)),
            _ => Ok(Condition::Expr(string(n, file, key)?)),
        }
    };
    match &node.value {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Seq(items) => items.iter().map(one).collect(),
        _ => Ok(vec![one(node)?]),
    }
}
