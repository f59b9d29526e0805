//! The JSON-first rule of Ansible's `from_yaml`: text that Python's `json.loads` accepts is
//! read as JSON, so `1e3` is a float, `{"a": 1, "a": 2}` is silent, and
//! `{"__ansible_unsafe": "..."}` is an `!unsafe` string.
//!
//! JSON is (nearly) YAML, so such a file still goes through the YAML composer for positions,
//! with plain scalars read by JSON's rules; only if that fails is serde_json's value used, every
//! node then marked at 1:1.

use serde_json::Value;

use super::compose::Entry;
use super::node::{Mark, Node, Yaml};

/// Whether Python's `json.loads` would accept `src` (serde_json's grammar, minus Python's
/// `NaN`/`Infinity` extensions which Ansible files do not use).
pub(crate) fn parse(src: &str) -> Option<Value> {
    serde_json::from_str(src).ok()
}

/// A plain scalar of a JSON document: `true`, `false`, `null` or a number.
pub(crate) fn plain_scalar(text: &str) -> Yaml {
    match text {
        "true" => Yaml::Bool(true),
        "false" => Yaml::Bool(false),
        "null" => Yaml::Null,
        _ => number(text),
    }
}

/// A JSON number: an int unless it has a fraction or an exponent, as Python's `json` decides.
fn number(text: &str) -> Yaml {
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(i) = text.parse::<i64>() {
            return Yaml::Int(i);
        }
    }
    text.parse::<f64>()
        .map_or_else(|_| Yaml::Str(text.to_owned()), Yaml::Float)
}

/// `{"__ansible_unsafe": "text"}`, Ansible's JSON spelling of an `!unsafe` string.
pub(crate) fn tagged_object(entries: &[Entry], mark: Mark) -> Option<Node> {
    match entries {
        [entry] if entry.key.as_str() == Some("__ansible_unsafe") => {
            let text = entry.value.as_str()?;
            Some(Node::new(Yaml::Unsafe(text.to_owned()), mark))
        }
        _ => None,
    }
}

/// serde_json's value as nodes, all at 1:1: the fallback when the YAML parser refuses JSON.
pub(crate) fn to_node(value: &Value) -> Node {
    let yaml = match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Bool(*b),
        Value::Number(n) => number(&n.to_string()),
        Value::String(s) => Yaml::Str(s.clone()),
        Value::Array(items) => Yaml::Seq(items.iter().map(to_node).collect()),
        Value::Object(map) => match map.get("__ansible_unsafe") {
            Some(Value::String(s)) if map.len() == 1 => Yaml::Unsafe(s.clone()),
            _ => Yaml::Map(
                map.iter()
                    .map(|(k, v)| (Node::new(Yaml::Str(k.clone()), Mark::START), to_node(v)))
                    .collect(),
            ),
        },
    };
    Node::new(yaml, Mark::START)
}
