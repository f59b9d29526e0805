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
use crate::vault::{self, VaultSecrets};

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
/// `{"__ansible_vault": "..."}`, its spelling of `!vault`, decrypted as `!vault` is.
pub(crate) fn tagged_object(
    entries: &[Entry],
    mark: Mark,
    secrets: &VaultSecrets,
) -> Option<Result<Node, String>> {
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
        "__ansible_vault" => Some(match entry.value.as_str() {
            Some(text) => decrypt_value(text, secrets).map(|v| Node::new(v, mark)),
            None => Err(format!(
                "__ansible_vault is {}, not a string",
                entry.value.kind()
            )),
        }),
        _ => None,
    }
}

/// A `!vault` (or `__ansible_vault`) value decrypted: an `!unsafe` string, since Ansible 2.19
/// never templates what it decrypted, remembered as a secret so no output shows it.
pub(crate) fn decrypt_value(text: &str, secrets: &VaultSecrets) -> Result<Yaml, String> {
    if !vault::is_encrypted(text.as_bytes()) {
        return Err("Input is not vault encrypted data.".to_owned());
    }
    let plain = vault::decrypt_text(text, secrets).map_err(|e| e.to_string())?;
    vault::revealed::remember(&plain);
    Ok(Yaml::Unsafe(plain))
}

/// serde_json's value as nodes, all at 1:1: the fallback when the YAML parser refuses JSON.
pub(crate) fn to_node(value: &Value, secrets: &VaultSecrets) -> Result<Node, String> {
    let yaml = match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Bool(*b),
        Value::Number(n) => number(&n.to_string()),
        Value::String(s) => Yaml::Str(s.clone()),
        Value::Array(items) => Yaml::Seq(
            items
                .iter()
                .map(|v| to_node(v, secrets))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => match (map.len(), map.get("__ansible_unsafe")) {
            (1, Some(Value::String(s))) => Yaml::Unsafe(s.clone()),
            (1, Some(_)) => return Err("__ansible_unsafe is not a string".to_owned()),
            (1, None) if map.contains_key("__ansible_vault") => match map.get("__ansible_vault") {
                Some(Value::String(text)) => decrypt_value(text, secrets)?,
                _ => return Err("__ansible_vault is not a string".to_owned()),
            },
            _ => Yaml::Map(
                map.iter()
                    .map(|(k, v)| {
                        let key = Node::new(Yaml::Unsafe(k.clone()), Mark::START);
                        Ok((key, to_node(v, secrets)?))
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
        let none = VaultSecrets::default();
        let node = to_node(
            &json!({"k": [1, 1.5, "s", null, true, {"__ansible_unsafe": "u"}]}),
            &none,
        )
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
        assert!(to_node(&json!({"__ansible_vault": "x"}), &none).is_err());
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
