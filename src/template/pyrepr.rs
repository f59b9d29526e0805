//! Python's `str()` and `repr()` of template values.
//!
//! Ansible 2.19 joins the pieces of a rendered template with Python's `str()`, so `{{ [1, 'a'] }}`
//! prints `[1, 'a']`, `{{ true }}` prints `True` and a dict prints `{'k': 'v'}`. minijinja would
//! print JSON-like text instead; the environment's formatter calls [`write_str`] to match Python.

pub use crate::python::float_repr;
use std::fmt::Write;

use minijinja::value::{Value, ValueKind};

/// Appends Python's `str(value)` to `out`.
pub fn write_str(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::String => out.push_str(value.as_str().unwrap_or_default()),
        _ => write_repr(out, value),
    }
}

/// Python's `str(value)`.
pub fn py_str(value: &Value) -> String {
    let mut out = String::new();
    write_str(&mut out, value);
    out
}

/// Appends Python's `repr(value)` to `out`.
pub fn write_repr(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::Number => write_number(out, value),
        ValueKind::String => write_str_repr(out, value.as_str().unwrap_or_default()),
        ValueKind::Bytes => {
            out.push('b');
            write_str_repr(
                out,
                &String::from_utf8_lossy(value.as_bytes().unwrap_or_default()),
            );
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(keys) = value.try_iter() {
                for (i, key) in keys.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key);
                    out.push_str(": ");
                    write_repr(out, &value.get_item(&key).unwrap_or_default());
                }
            }
            out.push('}');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(items) = value.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item);
                }
            }
            out.push(']');
        }
        ValueKind::Plain | ValueKind::Invalid => {
            let _ = write!(out, "{value}");
        }
        // ValueKind is non-exhaustive; print anything new as minijinja does.
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

/// Python's `repr(value)`.
pub fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_number(out: &mut String, value: &Value) {
    if value.is_integer() {
        let _ = write!(out, "{value}");
    } else if let Ok(f) = f64::try_from(value.clone()) {
        out.push_str(&float_repr(f));
    } else {
        let _ = write!(out, "{value}");
    }
}

/// Python's `repr(str)`: single quotes unless the text has a single quote and no double quote.
pub fn write_str_repr(out: &mut String, s: &str) {
    out.push_str(&crate::python::str_repr(s));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python() {
        // Expected values are Python 3.11's repr().
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1e15), "1000000000000000.0");
        assert_eq!(float_repr(1.5e-7), "1.5e-07");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(-2.5), "-2.5");
    }

    #[test]
    fn strings_repr_like_python() {
        let r = |s: &str| {
            let mut o = String::new();
            write_str_repr(&mut o, s);
            o
        };
        assert_eq!(r("a"), "'a'");
        assert_eq!(r("it's"), "\"it's\"");
        assert_eq!(r("'\""), "'\\'\"'");
        assert_eq!(r("a\nb\\"), "'a\\nb\\\\'");
    }

    #[test]
    fn containers_repr_like_python() {
        let v =
            crate::template::to_value(serde_json::json!({"a": [1, "x", null, true, 1.5], "b": {}}));
        assert_eq!(py_str(&v), "{'a': [1, 'x', None, True, 1.5], 'b': {}}");
    }
}
