//! JSON text exactly as Python's `json.dumps` writes it, for `to_json` and `to_nice_json`.
//!
//! Python differs from serde_json in ways that show in rendered files: `", "`/`": "` separators,
//! non-ASCII escaped as `\uXXXX` by default, floats printed with `repr()`, and `indent=`
//! putting every item on its own line with `","` at line ends.

use std::fmt::Write;

use minijinja::value::{Value, ValueKind};

use super::pyrepr::float_repr;

/// The `json.dumps` options Ansible's filters pass through.
#[derive(Debug, Clone, Copy)]
pub struct JsonOptions {
    pub indent: Option<usize>,
    pub sort_keys: bool,
    pub ensure_ascii: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            indent: None,
            sort_keys: false,
            ensure_ascii: true,
        }
    }
}

/// Serializes `value` like `json.dumps(value, **options)`.
pub fn dumps(value: &Value, opts: JsonOptions) -> Result<String, minijinja::Error> {
    let mut out = String::new();
    write_value(&mut out, value, opts, 0)?;
    Ok(out)
}

fn newline(out: &mut String, opts: JsonOptions, level: usize) {
    if let Some(n) = opts.indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

fn write_value(
    out: &mut String,
    value: &Value,
    opts: JsonOptions,
    level: usize,
) -> Result<(), minijinja::Error> {
    let item_sep = if opts.indent.is_some() { "," } else { ", " };
    match value.kind() {
        ValueKind::Undefined => return Err(super::filters::undefined_error(value)),
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            if value.is_integer() {
                let _ = write!(out, "{value}");
            } else {
                let f = f64::try_from(value.clone()).unwrap_or(f64::NAN);
                out.push_str(&match float_repr(f).as_str() {
                    "nan" => "NaN".to_string(),
                    "inf" => "Infinity".to_string(),
                    "-inf" => "-Infinity".to_string(),
                    s => s.to_string(),
                });
            }
        }
        ValueKind::String => {
            write_string(out, value.as_str().unwrap_or_default(), opts.ensure_ascii)
        }
        ValueKind::Map => {
            let mut keys: Vec<Value> = value.try_iter()?.collect();
            if keys.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if opts.sort_keys {
                keys.sort();
            }
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, opts, level + 1);
                let key_text = match key.kind() {
                    ValueKind::String => key.as_str().unwrap_or_default().to_string(),
                    ValueKind::None => "null".into(),
                    ValueKind::Bool => if key.is_true() { "true" } else { "false" }.into(),
                    _ => super::pyrepr::py_str(key),
                };
                write_string(out, &key_text, opts.ensure_ascii);
                out.push_str(": ");
                write_value(out, &value.get_item(key)?, opts, level + 1)?;
            }
            newline(out, opts, level);
            out.push('}');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, opts, level + 1);
                write_value(out, item, opts, level + 1)?;
            }
            newline(out, opts, level);
            out.push(']');
        }
        _ => {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("Object of type {} is not JSON serializable", value.kind()),
            ));
        }
    }
    Ok(())
}

fn write_string(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && c as u32 > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_nice_match_python() {
        // Expected strings are Python 3.11 json.dumps output.
        let v =
            crate::template::to_value(serde_json::json!({"b": [1, {"x": "é"}], "a": 1.5, "c": {}}));
        assert_eq!(
            dumps(&v, JsonOptions::default()).unwrap_or_default(),
            r#"{"b": [1, {"x": "\u00e9"}], "a": 1.5, "c": {}}"#
        );
        let nice = JsonOptions {
            indent: Some(4),
            sort_keys: true,
            ensure_ascii: true,
        };
        assert_eq!(
            dumps(&v, nice).unwrap_or_default(),
            "{\n    \"a\": 1.5,\n    \"b\": [\n        1,\n        {\n            \"x\": \"\\u00e9\"\n        }\n    ],\n    \"c\": {}\n}"
        );
    }
}
