//! Ansible's filters, registered over minijinja's built-ins where their meaning differs.
//!
//! Each filter follows ansible-core 2.19 (`plugins/filter/core.py`, `mathstuff.py`) and the Jinja2
//! built-ins Ansible inherits: values are turned into text with Python's `str()`, booleans use
//! Ansible's yes/no/on/off table, and an undefined input is an error except for `default`
//! and `mandatory`, which exist to handle it.

use base64::Engine as _;
use minijinja::value::{Kwargs, Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State};

use super::Pick;
use super::json::{self, JsonOptions};
use super::pyrepr::py_str;
use super::regex::{compile, python_replacement};
use super::yaml::{self, YamlOptions};

/// The error minijinja raises for `value`, which names the undefined expression in debug mode.
pub fn undefined_error(value: &Value) -> Error {
    value
        .get_attr("__undefined__")
        .err()
        .unwrap_or_else(|| Error::new(ErrorKind::UndefinedError, "undefined value"))
}

/// Fails when `value` is undefined, as Ansible's strict undefined does for any use but a test.
pub fn defined(value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        Err(undefined_error(value))
    } else {
        Ok(())
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Python's `str()` of a defined value.
fn text(value: &Value) -> Result<String, Error> {
    defined(value)?;
    Ok(py_str(value))
}

/// Registers every Ansible filter on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("__strict", |v: &Value| defined(v).map(|()| v.clone()));
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("mandatory", mandatory);
    env.add_filter("bool", to_bool_filter);
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("string", string);
    env.add_filter("join", join);
    env.add_filter("upper", |v: &Value| text(v).map(|s| s.to_uppercase()));
    env.add_filter("lower", |v: &Value| text(v).map(|s| s.to_lowercase()));
    env.add_filter("replace", replace);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", from_json);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_nice_yaml);
    env.add_filter("ternary", ternary);
    env.add_filter("unique", |v: &Value| seq(v).map(|v| Value::from(unique(v))));
    env.add_filter("union", |a: &Value, b: &Value| {
        let mut all = seq(a)?;
        all.extend(seq(b)?);
        Ok::<_, Error>(Value::from(unique(all)))
    });
    env.add_filter("intersect", |a: &Value, b: &Value| {
        let b = seq(b)?;
        Ok::<_, Error>(Value::from(unique(
            seq(a)?.into_iter().filter(|x| b.contains(x)).collect(),
        )))
    });
    env.add_filter("difference", |a: &Value, b: &Value| {
        let b = seq(b)?;
        Ok::<_, Error>(Value::from(unique(
            seq(a)?.into_iter().filter(|x| !b.contains(x)).collect(),
        )))
    });
    env.add_filter(
        "selectattr",
        |state: &mut State,
         value: Value,
         attr: String,
         test: Option<String>,
         args: Rest<ValueOrKwargs>| {
            if test.is_none() {
                require_attr(&value, &attr)?;
            }
            minijinja::filters::selectattr(state, value, attr.into(), test.map(Into::into), args)
        },
    );
    env.add_filter(
        "rejectattr",
        |state: &mut State,
         value: Value,
         attr: String,
         test: Option<String>,
         args: Rest<ValueOrKwargs>| {
            if test.is_none() {
                require_attr(&value, &attr)?;
            }
            minijinja::filters::rejectattr(state, value, attr.into(), test.map(Into::into), args)
        },
    );
    env.add_filter("extract", extract);
    env.add_filter("combine", combine);
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("b64encode", |v: &Value| {
        text(v).map(|s| base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
    });
    env.add_filter("b64decode", |v: &Value| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text(v)?.trim().as_bytes())
            .map_err(|e| invalid(format!("b64decode: {e}")))?;
        Ok::<_, Error>(String::from_utf8_lossy(&bytes).into_owned())
    });
    env.add_filter("basename", |v: &Value| {
        text(v).map(|s| basename(&s).to_string())
    });
    env.add_filter("dirname", |v: &Value| text(v).map(|s| dirname(&s)));
    env.add_filter("quote", |v: &Value| {
        if v.is_none() {
            Ok("''".to_string())
        } else {
            text(v).map(|s| shell_quote(&s))
        }
    });
    env.add_filter("flatten", flatten);
    env.add_filter("split", |v: &Value, sep: Option<String>| {
        let s = text(v)?;
        let parts: Vec<Value> = match sep {
            Some(sep) => s.split(sep.as_str()).map(Value::from).collect(),
            None => s.split_whitespace().map(Value::from).collect(),
        };
        Ok::<_, Error>(Value::from(parts))
    });
}

/// Ansible fails when `selectattr('a')` (no test) meets an item without `a`, as testing the
/// truth of an undefined value fails; minijinja would treat it as false.
fn require_attr(value: &Value, attr: &str) -> Result<(), Error> {
    defined(value)?;
    for item in value.try_iter()? {
        if item.get_path(attr).map_or(true, |v| v.is_undefined()) {
            let kind = match item.kind() {
                ValueKind::Map => "dict",
                ValueKind::Seq => "list",
                ValueKind::String => "str",
                ValueKind::Number if item.is_integer() => "int",
                ValueKind::Number => "float",
                ValueKind::Bool => "bool",
                _ => "NoneType",
            };
            return Err(Error::new(
                ErrorKind::UndefinedError,
                format!("object of type '{kind}' has no attribute '{attr}'"),
            ));
        }
    }
    Ok(())
}

/// `default(value, default_value='', boolean=False)`: Jinja2's, on Ansible's chainable undefined.
fn default(
    value: &Value,
    other: Option<Value>,
    boolean: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let other = match other {
        Some(v) => Some(v),
        None => kwargs.get::<Option<Value>>("default_value")?,
    };
    let boolean = boolean
        .or(kwargs.get::<Option<bool>>("boolean")?)
        .unwrap_or(false);
    kwargs.assert_all_used()?;
    let use_default = value.is_undefined() || (boolean && !value.is_true());
    Ok(if use_default {
        other.unwrap_or_else(|| Value::from(""))
    } else {
        value.clone()
    })
}

fn mandatory(value: &Value, msg: Option<String>) -> Result<Value, Error> {
    if !value.is_undefined() {
        return Ok(value.clone());
    }
    Err(match msg {
        Some(msg) => invalid(msg),
        // minijinja attaches the variable's name only to its own undefined errors.
        None => undefined_error(value),
    })
}

/// Ansible's `bool`: yes/on/true/1 and no/off/false/0 in any case, for strings and integers.
pub fn to_bool(value: &Value) -> bool {
    match value.kind() {
        ValueKind::Bool => value.is_true(),
        ValueKind::String | ValueKind::Number => {
            let s = py_str(value).to_lowercase();
            match s.as_str() {
                "yes" | "on" | "true" | "1" => true,
                "no" | "off" | "false" | "0" => false,
                // Ansible's deprecated fallback: `value == 1` (so 1.0 is true).
                _ => value.is_number() && f64::try_from(value.clone()).is_ok_and(|f| f == 1.0),
            }
        }
        _ => false,
    }
}

fn to_bool_filter(value: &Value) -> Result<bool, Error> {
    defined(value)?;
    Ok(to_bool(value))
}

/// Python's `int()` of a string: underscores allowed between digits, surrounding whitespace ignored.
fn parse_int(s: &str, base: u32) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = match base {
        16 => digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
            .unwrap_or(digits),
        8 => digits
            .strip_prefix("0o")
            .or_else(|| digits.strip_prefix("0O"))
            .unwrap_or(digits),
        2 => digits
            .strip_prefix("0b")
            .or_else(|| digits.strip_prefix("0B"))
            .unwrap_or(digits),
        _ => digits,
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let n = i64::from_str_radix(&digits.replace('_', ""), base).ok()?;
    Some(if neg { -n } else { n })
}

fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim().to_lowercase();
    match t.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        _ if t.chars().all(|c| c.is_ascii_digit() || "+-.e_".contains(c)) => {
            t.replace('_', "").parse().ok()
        }
        _ => None,
    }
}

/// Jinja2's `int(value, default=0, base=10)`.
fn int(value: &Value, default: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    defined(value)?;
    let base: Option<u32> = kwargs.get("base")?;
    let default_kw: Option<Value> = kwargs.get("default")?;
    kwargs.assert_all_used()?;
    let fallback = default.or(default_kw).unwrap_or(Value::from(0));
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(i64::from(value.is_true())),
        ValueKind::Number if value.is_integer() => value.clone(),
        ValueKind::Number => {
            Value::from(f64::try_from(value.clone()).map_or(0, |f| f.trunc() as i64))
        }
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default();
            match parse_int(s, base.unwrap_or(10)) {
                Some(n) => Value::from(n),
                None => match parse_float(s) {
                    Some(f) if f.is_finite() && base.unwrap_or(10) == 10 => {
                        Value::from(f.trunc() as i64)
                    }
                    _ => fallback,
                },
            }
        }
        _ => fallback,
    })
}

/// Jinja2's `float(value, default=0.0)`.
fn float(value: &Value, default: Option<Value>) -> Result<Value, Error> {
    defined(value)?;
    let fallback = default.unwrap_or(Value::from(0.0));
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => Value::from(f64::try_from(value.clone()).unwrap_or(0.0)),
        ValueKind::String => {
            parse_float(value.as_str().unwrap_or_default()).map_or(fallback, Value::from)
        }
        _ => fallback,
    })
}

fn string(value: &Value) -> Result<String, Error> {
    text(value)
}

/// Jinja2's `join(d='', attribute=None)` with Python's `str()` of each item.
fn join(
    state: &State,
    value: &Value,
    sep: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    defined(value)?;
    let attribute: Option<String> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let sep = sep.unwrap_or_default();
    let mut parts = Vec::new();
    for item in value.try_iter()? {
        let item = match &attribute {
            Some(attr) => item.get_path(attr).unwrap_or_default(),
            None => item,
        };
        let _ = state;
        parts.push(text(&item)?);
    }
    Ok(parts.join(&sep))
}

trait GetPath {
    fn get_path(&self, path: &str) -> Result<Value, Error>;
}

impl GetPath for Value {
    fn get_path(&self, path: &str) -> Result<Value, Error> {
        let mut v = self.clone();
        for part in path.split('.') {
            v = match part.parse::<i64>() {
                Ok(n) => v.get_item(&Value::from(n))?,
                Err(_) => v.get_attr(part)?,
            };
        }
        Ok(v)
    }
}

/// Jinja2's `replace(s, old, new, count=None)`.
fn replace(value: &Value, old: String, new: String, count: Option<i64>) -> Result<String, Error> {
    let s = text(value)?;
    Ok(match count {
        Some(n) if n >= 0 => s.replacen(&old, &new, n as usize),
        _ => s.replace(&old, &new),
    })
}

fn regex_replace(
    value: &Value,
    pattern: Option<String>,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let s = text(value)?;
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    let count: Option<usize> = kwargs.get("count")?;
    let mandatory_count: Option<usize> = kwargs.get("mandatory_count")?;
    kwargs.assert_all_used()?;
    let re = compile(
        &pattern.unwrap_or_default(),
        ignorecase.unwrap_or(false),
        multiline.unwrap_or(false),
    )?;
    let rep = python_replacement(&replacement.unwrap_or_default());
    let found = re.find_iter(&s).count();
    let limit = count.unwrap_or(0);
    if let Some(n) = mandatory_count.filter(|n| *n != 0) {
        if n != found {
            return Err(invalid(format!(
                "'{}' should match {n} times, but matches {found} times in '{s}'",
                re.as_str()
            )));
        }
    }
    Ok(re.replacen(&s, limit, rep.as_str()).into_owned())
}

/// Parses regex_search's group arguments: `'\\1'` or `'\\g<name>'`.
fn group_args(groups: &[Value]) -> Result<Vec<String>, Error> {
    groups
        .iter()
        .map(|g| {
            let g = g.as_str().unwrap_or_default();
            if let Some(name) = g.strip_prefix("\\g<").and_then(|r| r.strip_suffix('>')) {
                Ok(name.to_string())
            } else if let Some(n) = g
                .strip_prefix('\\')
                .filter(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty())
            {
                Ok(n.to_string())
            } else {
                Err(invalid("Unknown argument"))
            }
        })
        .collect()
}

fn regex_search(
    value: &Value,
    pattern: String,
    groups: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let s = text(value)?;
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    let groups = group_args(&groups)?;
    let re = compile(
        &pattern,
        ignorecase.unwrap_or(false),
        multiline.unwrap_or(false),
    )?;
    let Some(caps) = re.captures(&s) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map_or("", |m| m.as_str())));
    }
    let items = groups
        .iter()
        .map(|g| {
            let m = match g.parse::<usize>() {
                Ok(n) => caps.get(n),
                Err(_) => caps.name(g),
            };
            m.map_or(Value::from(()), |m| Value::from(m.as_str()))
        })
        .collect::<Vec<_>>();
    Ok(Value::from(items))
}

fn regex_findall(value: &Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let s = text(value)?;
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    let re = compile(
        &pattern,
        ignorecase.unwrap_or(false),
        multiline.unwrap_or(false),
    )?;
    // Python's re.findall: the whole match without groups, the group with one, tuples with more.
    let items = re
        .captures_iter(&s)
        .map(|c| match re.captures_len() {
            1 => Value::from(c.get(0).map_or("", |m| m.as_str())),
            2 => Value::from(c.get(1).map_or("", |m| m.as_str())),
            n => Value::from(
                (1..n)
                    .map(|i| Value::from(c.get(i).map_or("", |m| m.as_str())))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect::<Vec<_>>();
    Ok(Value::from(items))
}

fn json_options(
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

fn to_json(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    defined(value)?;
    json::dumps(value, json_options(&kwargs, None, false)?)
}

fn to_nice_json(value: &Value, indent: Option<usize>, kwargs: Kwargs) -> Result<String, Error> {
    defined(value)?;
    json::dumps(
        value,
        json_options(&kwargs, Some(indent.unwrap_or(4)), true)?,
    )
}

fn from_json(value: &Value) -> Result<Value, Error> {
    let s = text(value)?;
    let parsed: serde_json::Value =
        serde_json::from_str(&s).map_err(|e| invalid(format!("from_json: {e}")))?;
    Ok(super::to_value(parsed))
}

fn to_yaml(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    defined(value)?;
    let indent = kwargs.get::<Option<usize>>("indent")?.unwrap_or(2);
    let flow = kwargs.get::<Option<bool>>("default_flow_style")?;
    kwargs.assert_all_used()?;
    yaml::dump(value, YamlOptions { indent, flow })
}

fn to_nice_yaml(value: &Value, indent: Option<usize>, kwargs: Kwargs) -> Result<String, Error> {
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

fn ternary(
    value: &Value,
    true_val: Value,
    false_val: Value,
    none_val: Option<Value>,
) -> Result<Value, Error> {
    defined(value)?;
    Ok(match none_val {
        Some(none_val) if value.is_none() && !none_val.is_none() => none_val,
        _ if value.is_true() => true_val,
        _ => false_val,
    })
}

fn seq(value: &Value) -> Result<Vec<Value>, Error> {
    defined(value)?;
    Ok(value.try_iter()?.collect())
}

/// Items in first-seen order without repeats (Jinja2's `unique`, case-sensitive as Ansible calls it).
fn unique(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// `extract(item, container, morekeys=None)`: `container[item][morekeys...]`.
fn extract(item: &Value, container: &Value, morekeys: Option<Value>) -> Result<Value, Error> {
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

fn combine(terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
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
fn merge_into(
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

fn dict2items(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
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

fn items2dict(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
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
                    super::pyrepr::py_repr(value)
                )));
            }
        }
    }
    Ok(Value::from_pairs(out))
}

fn flatten(value: &Value, levels: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
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

/// Python's `os.path.basename`.
pub fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Python's `os.path.dirname`: trailing slashes of the head are dropped unless it is all slashes.
pub fn dirname(p: &str) -> String {
    let head = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => return String::new(),
    };
    let trimmed = head.trim_end_matches('/');
    if trimmed.is_empty() {
        head.to_string()
    } else {
        trimmed.to_string()
    }
}

/// Python's `shlex.quote`.
pub fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_like_python() {
        // Python 3.11: os.path.basename/dirname.
        assert_eq!(basename("/etc/nginx/nginx.conf"), "nginx.conf");
        assert_eq!(basename("/etc/nginx/"), "");
        assert_eq!(dirname("/etc/nginx/nginx.conf"), "/etc/nginx");
        assert_eq!(dirname("/etc//x"), "/etc");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(dirname("x"), "");
    }

    #[test]
    fn shell_quote_like_shlex() {
        // Python 3.11: shlex.quote.
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's x"), "'it'\"'\"'s x'");
    }

    #[test]
    fn python_int_parsing() {
        assert_eq!(parse_int(" 42 ", 10), Some(42));
        assert_eq!(parse_int("1_000", 10), Some(1000));
        assert_eq!(parse_int("0x1f", 16), Some(31));
        assert_eq!(parse_int("1.5", 10), None);
    }
}
