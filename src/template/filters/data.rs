//! Filters on structured data: JSON and YAML, set operations, `extract`, `combine`,
//! `dict2items`/`items2dict`, `flatten`.

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};

use super::{defined, invalid, text};
use crate::template::Pick;
use crate::template::json::{self, JsonOptions};
use crate::template::yaml::{self, YamlOptions};

pub(super) fn json_options(
    kwargs: &Kwargs,
    indent: Option<usize>,
    sort_keys: bool,
) -> Result<JsonOptions, Error> {
    let indent = kwargs.get::<Option<usize>>("indent")?.or(indent);
    let sort_keys = kwargs
        .get::<Option<bool>>("sort_keys")?
        .unwrap_or(sort_keys);
    let ensure_ascii = kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(true);
    kwargs.assert_all_used()?;
    Ok(JsonOptions {
        indent,
        sort_keys,
        ensure_ascii,
    })
}

pub(super) fn to_json(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    defined(value)?;
    json::dumps(value, json_options(&kwargs, None, false)?)
}

pub(super) fn to_nice_json(
    value: &Value,
    indent: Option<usize>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    defined(value)?;
    json::dumps(
        value,
        json_options(&kwargs, Some(indent.unwrap_or(4)), true)?,
    )
}

pub(super) fn from_json(value: &Value) -> Result<Value, Error> {
    let s = text(value)?;
    let parsed: serde_json::Value =
        serde_json::from_str(&s).map_err(|e| invalid(format!("from_json: {e}")))?;
    Ok(crate::template::to_value(parsed))
}

pub(super) fn to_yaml(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    defined(value)?;
    let indent = kwargs.get::<Option<usize>>("indent")?.unwrap_or(2);
    let flow = kwargs.get::<Option<bool>>("default_flow_style")?;
    kwargs.assert_all_used()?;
    yaml::dump(value, YamlOptions { indent, flow })
}

pub(super) fn to_nice_yaml(
    value: &Value,
    indent: Option<usize>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    defined(value)?;
    let indent = kwargs
        .get::<Option<usize>>("indent")?
        .or(indent)
        .unwrap_or(4);
    let flow = kwargs
        .get::<Option<bool>>("default_flow_style")?
        .unwrap_or(false);
    kwargs.assert_all_used()?;
    yaml::dump(
        value,
        YamlOptions {
            indent,
            flow: Some(flow),
        },
    )
}

pub(super) fn seq(value: &Value) -> Result<Vec<Value>, Error> {
    defined(value)?;
    Ok(value.try_iter()?.collect())
}

/// Items in first-seen order without repeats (Jinja2's `unique`, case-sensitive as Ansible calls it).
pub(super) fn unique(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// `extract(item, container, morekeys=None)`: `container[item][morekeys...]`.
pub(super) fn extract(
    item: &Value,
    container: &Value,
    morekeys: Option<Value>,
) -> Result<Value, Error> {
    let mut keys = vec![item.clone()];
    match morekeys {
        None => {}
        Some(m) if m.kind() == ValueKind::Seq => keys.extend(m.try_iter()?),
        Some(m) => keys.push(m),
    }
    let mut value = container.clone();
    for key in keys {
        value = value.pick(&key).unwrap_or(Value::UNDEFINED);
    }
    Ok(value)
}

pub(super) fn combine(terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    if ![
        "replace",
        "keep",
        "append",
        "prepend",
        "append_rp",
        "prepend_rp",
    ]
    .contains(&list_merge.as_str())
    {
        return Err(invalid(format!(
            "merge_hash: 'list_merge' argument can only be equal to 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp' (got {list_merge})"
        )));
    }
    // `[d1, d2] | combine` flattens one level, like Ansible.
    let mut dicts = Vec::new();
    for term in terms.iter() {
        defined(term)?;
        if term.kind() == ValueKind::Seq {
            dicts.extend(term.try_iter()?);
        } else {
            dicts.push(term.clone());
        }
    }
    let mut result = indexmap::IndexMap::new();
    for d in &dicts {
        if d.kind() != ValueKind::Map {
            return Err(invalid(format!(
                "failed to combine variables, expected dicts but got a '{}'",
                d.kind()
            )));
        }
        merge_into(&mut result, d, recursive, &list_merge)?;
    }
    Ok(Value::from_pairs(result))
}

/// Ansible's `merge_hash(x, y)`: `y` wins; nested dicts merge when `recursive`.
pub(super) fn merge_into(
    base: &mut indexmap::IndexMap<Value, Value>,
    high: &Value,
    recursive: bool,
    list_merge: &str,
) -> Result<(), Error> {
    for key in high.try_iter()? {
        let new = high.get_item(&key)?;
        let merged = match base.get(&key) {
            Some(old)
                if recursive && old.kind() == ValueKind::Map && new.kind() == ValueKind::Map =>
            {
                let mut inner: indexmap::IndexMap<Value, Value> = old
                    .try_iter()?
                    .map(|k| old.get_item(&k).map(|v| (k, v)))
                    .collect::<Result<_, _>>()?;
                merge_into(&mut inner, &new, recursive, list_merge)?;
                Value::from_pairs(inner)
            }
            Some(old)
                if old.kind() == ValueKind::Seq
                    && new.kind() == ValueKind::Seq
                    && list_merge != "replace" =>
            {
                let old: Vec<Value> = old.try_iter()?.collect();
                let new: Vec<Value> = new.try_iter()?.collect();
                let list = match list_merge {
                    "keep" => old,
                    "append" => old.into_iter().chain(new).collect(),
                    "prepend" => new.into_iter().chain(old).collect(),
                    "append_rp" => {
                        let kept: Vec<Value> =
                            old.into_iter().filter(|x| !new.contains(x)).collect();
                        kept.into_iter().chain(new).collect()
                    }
                    _ => new
                        .iter()
                        .cloned()
                        .chain(old.into_iter().filter(|x| !new.contains(x)))
                        .collect(),
                };
                Value::from(list)
            }
            _ => new,
        };
        // Python dicts keep a replaced key at its old position.
        base.insert(key, merged);
    }
    Ok(())
}

pub(super) fn dict2items(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    defined(value)?;
    let key_name = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let value_name = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    if value.kind() != ValueKind::Map {
        return Err(invalid(format!(
            "dict2items requires a dictionary, got {} instead.",
            value.kind()
        )));
    }
    let items = value
        .try_iter()?
        .map(|k| {
            let v = value.get_item(&k)?;
            Ok(Value::from_pairs([
                (Value::from(key_name.as_str()), k),
                (Value::from(value_name.as_str()), v),
            ]))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Value::from(items))
}

pub(super) fn items2dict(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    defined(value)?;
    let key_name = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let value_name = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    if value.kind() != ValueKind::Seq {
        return Err(invalid(format!(
            "items2dict requires a list, got {} instead.",
            value.kind()
        )));
    }
    let mut out = indexmap::IndexMap::new();
    for item in value.try_iter()? {
        let k = item.pick(&Value::from(key_name.as_str()));
        let v = item.pick(&Value::from(value_name.as_str()));
        match (k, v) {
            (Some(k), Some(v)) => {
                out.insert(k, v);
            }
            _ => {
                return Err(invalid(format!(
                    "items2dict requires each dictionary in the list to contain the keys '{key_name}' and '{value_name}', got {} instead.",
                    crate::template::py_repr(value)
                )));
            }
        }
    }
    Ok(Value::from_pairs(out))
}

pub(super) fn flatten(value: &Value, levels: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
    let levels = levels.or(kwargs.get::<Option<i64>>("levels")?);
    kwargs.assert_all_used()?;
    fn walk(out: &mut Vec<Value>, v: &Value, levels: Option<i64>) -> Result<(), Error> {
        for item in v.try_iter()? {
            if item.is_none() || matches!(item.as_str(), Some("None" | "null")) {
                continue;
            }
            match levels {
                _ if item.kind() != ValueKind::Seq => out.push(item),
                None => walk(out, &item, None)?,
                Some(n) if n >= 1 => walk(out, &item, Some(n - 1))?,
                Some(_) => out.push(item),
            }
        }
        Ok(())
    }
    defined(value)?;
    let mut out = Vec::new();
    walk(&mut out, value, levels)?;
    Ok(Value::from(out))
}
