//! Ansible's filters, registered over minijinja's built-ins where their meaning differs.
//!
//! Each filter follows ansible-core 2.19 (`plugins/filter/core.py`, `mathstuff.py`) and the Jinja2
//! built-ins Ansible inherits: values are turned into text with Python's `str()`, booleans use
//! Ansible's yes/no/on/off table, and an undefined input is an error except for `default`
//! and `mandatory`, which exist to handle it.

use base64::Engine as _;
use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State};

use super::pyrepr::py_str;

mod data;
mod scalar;
mod text;

use data::*;
use scalar::*;
use text::*;

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

pub(super) trait GetPath {
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
