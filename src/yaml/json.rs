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

/// `{"__ansible_unsafe": "text"}`, Ansible's JSON spelling of an `!unsafe` string, or
/// `{"__ansible_vault": "..."}`, its spelling of `!vault`, which we refuse as we refuse `!vault`.
pub(crate) fn tagged_object(entries: &[Entry], mark: Mark) -> Option<Result<Node, String>> {
    let [entry] = entries else {
        return None;
    };
    match entry.key.as_str()? {
        "__ansible_unsafe" => match entry.value.as_str() {
            Some(text) => Some(Ok(Node::new(Yaml::Unsafe(text.to_owned()), mark))),
            None => Some(Err(format!(
                "__ansible_unsafe is {}, not a string",
                entry.value.kind()
            ))),
        },
        "__ansible_vault" => Some(Err(VAULT_UNSUPPORTED.to_owned())),
        _ => None,
    }
}

/// Why a vault-encrypted value cannot be loaded.
pub(crate) const VAULT_UNSUPPORTED: &str =
    "vault-encrypted values (`!vault`, `__ansible_vault`) are not supported yet";

/// serde_json's value as nodes, all at 1:1: the fallback when the YAML parser refuses JSON.
pub(crate) fn to_node(value: &Value) -> Result<Node, String> {
    let yaml = match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Bool(*b),
        Value::Number(n) => number(&n.to_string()),
        Value::String(s) => Yaml::Str(s.clone()),
        Value::Array(items) => Yaml::Seq(items.iter().map(to_node).collect::<Result<_, _>>()?),
        Value::Object(map) => match (map.len(), map.get("__ansible_unsafe")) {
            (1, Some(Value::String(s))) => Yaml::Unsafe(s.clone()),
            (1, Some(_)) => return Err("__ansible_unsafe is not a string".to_owned()),
            _ if map.len() == 1 && map.contains_key("__ansible_vault") => {
                return Err(VAULT_UNSUPPORTED.to_owned());
            }
            _ => Yaml::Map(
                map.iter()
                    .map(|(k, v)| {
                        Ok((Node::new(Yaml::Unsafe(k.clone()), Mark::START), to_node(v)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
        },
    };
    Ok(Node::new(yaml, Mark::START))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fallback_conversion_follows_ansible_s_json_decoder() {
        let node = to_node(&json!({"k": [1, 1.5, "s", null, true, {"__ansible_unsafe": "u"}]}))
            .expect("converts");
        let Yaml::Map(pairs) = &node.value else {
            panic!("{node:?}")
        };
        assert_eq!(pairs[0].0.value, Yaml::Unsafe("k".to_owned()));
        let items = pairs[0].1.as_seq().expect("seq");
        let values: Vec<_> = items.iter().map(|n| n.value.clone()).collect();
        assert_eq!(
            values,
            [
                Yaml::Int(1),
                Yaml::Float(1.5),
                Yaml::Str("s".to_owned()),
                Yaml::Null,
                Yaml::Bool(true),
                Yaml::Unsafe("u".to_owned()),
            ]
        );
        assert!(to_node(&json!({"__ansible_vault": "x"})).is_err());
    }

    #[test]
    fn plain_json_scalars() {
        assert_eq!(plain_scalar("-0"), Yaml::Int(0));
        assert_eq!(plain_scalar("1e3"), Yaml::Float(1000.0));
        assert_eq!(
            plain_scalar("12345678901234567890"),
            Yaml::Float(12_345_678_901_234_567_890.0)
        );
    }
}
