//! Ansible's filters, registered over minijinja's built-ins where their meaning differs.
//!
//! Each filter follows ansible-core 2.19 (`plugins/filter/core.py`, `mathstuff.py`) and the Jinja2
//! built-ins Ansible inherits: values are turned into text with Python's `str()`, booleans use
//! Ansible's yes/no/on/off table, and an undefined input is an error except for `default`
//! and `mandatory`, which exist to handle it.

use base64::Engine as _;
use minijinja::value::{Kwargs, Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State};

use super::pyrepr::py_str;

mod data;
mod extra;
mod hashing;
mod ipaddr;
mod scalar;
mod text;

use data::*;
pub use extra::{PyDateTime, py_center, python_type};
use scalar::*;
use text::*;
pub use text::{basename, dirname};

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
    env.add_filter("unique", extra::unique);
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
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
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
    env.add_filter("comment", extra::comment);
    env.add_filter("splitext", extra::splitext);
    env.add_filter("subelements", extra::subelements);
    env.add_filter("product", extra::product);
    env.add_filter("combinations", extra::combinations);
    env.add_filter("permutations", extra::permutations);
    env.add_filter("zip_longest", extra::zip_longest);
    env.add_filter("type_debug", |v: &Value| {
        defined(v).map(|()| extra::python_type(v).to_string())
    });
    env.add_filter("human_readable", extra::human_readable);
    env.add_filter("human_to_bytes", extra::human_to_bytes);
    env.add_filter("shuffle", extra::shuffle);
    env.add_filter("random", extra::random);
    env.add_filter("urlsplit", extra::urlsplit);
    env.add_filter("strftime", extra::strftime);
    env.add_filter("regex_escape", extra::regex_escape);
    env.add_filter("center", extra::center);
    env.add_filter("indent", indent);
    env.add_filter("hash", hashing::hash);
    env.add_filter("md5", |v: &Value| hashing::hash(v, Some("md5".into())));
    env.add_filter("sha1", |v: &Value| hashing::hash(v, Some("sha1".into())));
    env.add_filter("checksum", |v: &Value| {
        hashing::hash(v, Some("sha1".into()))
    });
    env.add_filter("password_hash", hashing::password_hash);
    env.add_filter("to_uuid", hashing::to_uuid);
    env.add_function("now", extra::now);
    env.add_function("__pylist", crate::template::pymut::pylist);
    env.add_function("__pydict", crate::template::pymut::pydict);
    // ansible.utils' IP filters; the short names as with `collections: [ansible.utils]`.
    for (name, version) in [("ipaddr", None), ("ipv4", Some(4)), ("ipv6", Some(6))] {
        let f = move |v: &Value, q: Option<Value>| ipaddr::ipaddr(v, q, version);
        env.add_filter(name, f);
        env.add_filter(format!("ansible.utils.{name}"), f);
    }
    // `'fmt' % (a, b)` and `'fmt' % x`, rewritten by the source pass (source::percent_ops).
    env.add_filter("__pymod", |fmt: &Value, args: Rest<Value>| {
        crate::template::pyformat::percent_format(&text(fmt)?, &args)
    });
    env.add_filter("__pymod1", |fmt: &Value, arg: Value| {
        defined(&arg)?;
        crate::template::pyformat::percent_format(&text(fmt)?, &[arg])
    });
    env.add_filter("split", |v: &Value, sep: Option<String>| {
        let s = text(v)?;
        let parts: Vec<Value> = match sep {
            Some(sep) => s.split(sep.as_str()).map(Value::from).collect(),
            None => s.split_whitespace().map(Value::from).collect(),
        };
        Ok::<_, Error>(Value::from(parts))
    });
}

/// `b64encode(encoding='utf-8', urlsafe=False)`.
fn b64encode(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let s = text(value)?;
    let urlsafe = b64_options(&kwargs)?;
    Ok(if urlsafe {
        base64::engine::general_purpose::URL_SAFE.encode(s.as_bytes())
    } else {
        base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
    })
}

/// `b64decode(encoding='utf-8', urlsafe=False)`.
fn b64decode(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let s = text(value)?;
    let urlsafe = b64_options(&kwargs)?;
    let engine = if urlsafe {
        base64::engine::general_purpose::URL_SAFE
    } else {
        base64::engine::general_purpose::STANDARD
    };
    // Python's decoder skips characters outside the alphabet (newlines in PEM-like text).
    let cleaned: String = s
        .chars()
        .filter(|c| {
            c.is_ascii_alphanumeric()
                || "=".contains(*c)
                || if urlsafe {
                    "-_".contains(*c)
                } else {
                    "+/".contains(*c)
                }
        })
        .collect();
    let bytes = engine
        .decode(cleaned.as_bytes())
        .map_err(|e| invalid(format!("b64decode: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        invalid(format!(
            "'utf-8' codec can't decode the result of b64decode: {e}"
        ))
    })
}

fn b64_options(kwargs: &Kwargs) -> Result<bool, Error> {
    let encoding = kwargs.get::<Option<String>>("encoding")?;
    let urlsafe = kwargs.get::<Option<bool>>("urlsafe")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    match encoding.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("utf-8" | "utf8") => Ok(urlsafe),
        Some(other) => Err(invalid(format!(
            "hactl's b64encode/b64decode support only utf-8, not {other}"
        ))),
    }
}

/// Python's `str.splitlines()`: every line boundary Python knows, `\r\n` as one.
pub fn py_splitlines(s: &str, keepends: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let boundary = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !boundary {
            cur.push(c);
            continue;
        }
        let mut end = c.to_string();
        if c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
            end.push('\n');
        }
        if keepends {
            cur.push_str(&end);
        }
        out.push(std::mem::take(&mut cur));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Jinja2 3.1's `indent(width=4, first=False, blank=False)`; a width may be a string.
fn indent(
    value: &Value,
    width: Option<Value>,
    first: Option<bool>,
    blank: Option<bool>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let s = text(value)?;
    let width = match width {
        Some(w) => Some(w),
        None => kwargs.get::<Option<Value>>("width")?,
    };
    let first = first
        .or(kwargs.get::<Option<bool>>("first")?)
        .unwrap_or(false);
    let blank = blank
        .or(kwargs.get::<Option<bool>>("blank")?)
        .unwrap_or(false);
    kwargs.assert_all_used()?;
    let indention = match width {
        None => "    ".to_string(),
        Some(w) if w.kind() == ValueKind::String => py_str(&w),
        Some(w) => " ".repeat(usize::try_from(w.clone()).map_err(|_| {
            invalid(format!(
                "indent width must be an integer or a string, got {}",
                py_str(&w)
            ))
        })?),
    };
    // Jinja appends a newline so that splitlines keeps a final empty line.
    let lines = py_splitlines(&format!("{s}\n"), false);
    let mut rv = if blank {
        lines.join(&format!("\n{indention}"))
    } else {
        let mut it = lines.into_iter();
        let mut rv = it.next().unwrap_or_default();
        let rest: Vec<String> = it
            .map(|l| {
                if l.is_empty() {
                    l
                } else {
                    format!("{indention}{l}")
                }
            })
            .collect();
        if !rest.is_empty() {
            rv.push('\n');
            rv.push_str(&rest.join("\n"));
        }
        rv
    };
    if first {
        rv.insert_str(0, &indention);
    }
    Ok(rv)
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
