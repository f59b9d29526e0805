//! YAML text as PyYAML's emitter writes it, for `to_yaml` and `to_nice_yaml`.
//!
//! Ansible calls `yaml.dump(value, allow_unicode=True, default_flow_style=...)` with keys
//! sorted. This module reproduces that emitter's choices for plain data: flow style for
//! collections of scalars when `default_flow_style` is `None`, indentless sequences under
//! mapping keys, plain scalars unless the resolver or an indicator forces single quotes,
//! and folding of long scalars at column 80. Exotic scalars (control characters) fall back to
//! double quotes with JSON-like escapes.

use std::sync::LazyLock;

use minijinja::value::{Value, ValueKind};
use regex::Regex;

use super::pyrepr::float_repr;

/// PyYAML's `best_width`.
const WIDTH: usize = 80;

/// Options of `yaml.dump` that Ansible's filters use.
#[derive(Debug, Clone, Copy)]
pub struct YamlOptions {
    pub indent: usize,
    /// `default_flow_style`: `None` = flow only for collections of scalars.
    pub flow: Option<bool>,
}

/// Serializes `value` like `yaml.dump(value, Dumper=AnsibleDumper, allow_unicode=True, ...)`.
pub fn dump(value: &Value, opts: YamlOptions) -> Result<String, minijinja::Error> {
    let mut e = Emitter {
        out: String::new(),
        opts,
    };
    e.node(value, 0, Place::Root)?;
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    Ok(e.out)
}

#[derive(Clone, Copy, PartialEq)]
enum Place {
    Root,
    /// After `key:` (a space is still to be written before a scalar).
    MapValue,
    /// After `- ` (the dash and its padding are written).
    SeqItem,
}

struct Emitter {
    out: String,
    opts: YamlOptions,
}

fn is_collection(v: &Value) -> bool {
    matches!(
        v.kind(),
        ValueKind::Map | ValueKind::Seq | ValueKind::Iterable
    )
}

fn entries(v: &Value) -> Result<Vec<(Value, Value)>, minijinja::Error> {
    let mut keys: Vec<Value> = v.try_iter()?.collect();
    keys.sort();
    keys.into_iter()
        .map(|k| v.get_item(&k).map(|val| (k, val)))
        .collect()
}

impl Emitter {
    fn column(&self) -> usize {
        self.out.len() - self.out.rfind('\n').map_or(0, |i| i + 1)
    }

    fn pad_to(&mut self, col: usize) {
        let now = self.column();
        self.out
            .extend(std::iter::repeat_n(' ', col.saturating_sub(now)));
    }

    fn use_flow(&self, v: &Value) -> Result<bool, minijinja::Error> {
        if v.len() == Some(0) {
            return Ok(true);
        }
        Ok(match self.opts.flow {
            Some(flow) => flow,
            None => {
                let children: Vec<Value> = if v.kind() == ValueKind::Map {
                    entries(v)?.into_iter().map(|(_, val)| val).collect()
                } else {
                    v.try_iter()?.collect()
                };
                children.iter().all(|c| !is_collection(c))
            }
        })
    }

    /// Writes `v`; `col` is the indentation of the collection that holds it.
    fn node(&mut self, v: &Value, col: usize, place: Place) -> Result<(), minijinja::Error> {
        let indent = self.opts.indent;
        if !is_collection(v) || self.use_flow(v)? {
            if place == Place::MapValue {
                self.out.push(' ');
            }
            // PyYAML indents continuation lines of a flow collection two steps in, of a scalar one.
            let text_indent = if is_collection(v) {
                col + 2 * indent
            } else if place == Place::Root {
                indent
            } else {
                col + indent
            };
            self.flow_node(v, text_indent)?;
            self.out.push('\n');
            return Ok(());
        }
        match v.kind() {
            ValueKind::Map => {
                let inner = match place {
                    Place::Root => 0,
                    Place::MapValue => col + indent,
                    Place::SeqItem => col + indent,
                };
                if place == Place::MapValue {
                    self.out.push('\n');
                }
                for (i, (key, val)) in entries(v)?.into_iter().enumerate() {
                    if !(i == 0 && place == Place::SeqItem) {
                        self.pad_to(inner);
                    }
                    self.scalar(&key, inner + indent, true)?;
                    self.out.push(':');
                    self.node(&val, inner, Place::MapValue)?;
                }
            }
            _ => {
                // Sequences under a mapping key are "indentless": dashes line up with the key.
                let inner = match place {
                    Place::Root => 0,
                    Place::MapValue => col,
                    Place::SeqItem => col + indent,
                };
                if place == Place::MapValue {
                    self.out.push('\n');
                }
                for (i, item) in v.try_iter()?.enumerate() {
                    if !(i == 0 && place == Place::SeqItem) {
                        self.pad_to(inner);
                    }
                    self.out.push('-');
                    if is_collection(&item) && !self.use_flow(&item)? {
                        self.pad_to(inner + indent);
                    } else {
                        self.out.push(' ');
                    }
                    self.node(&item, inner, Place::SeqItem)?;
                }
            }
        }
        Ok(())
    }

    fn flow_node(&mut self, v: &Value, indent: usize) -> Result<(), minijinja::Error> {
        match v.kind() {
            ValueKind::Map => {
                self.out.push('{');
                for (i, (key, val)) in entries(v)?.into_iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.scalar(&key, indent, false)?;
                    self.out.push_str(": ");
                    self.flow_node(&val, indent)?;
                }
                self.out.push('}');
            }
            ValueKind::Seq | ValueKind::Iterable => {
                self.out.push('[');
                for (i, item) in v.try_iter()?.enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.flow_node(&item, indent)?;
                }
                self.out.push(']');
            }
            _ => self.scalar(v, indent, false)?,
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        v: &Value,
        indent: usize,
        _block_key: bool,
    ) -> Result<(), minijinja::Error> {
        match v.kind() {
            ValueKind::Undefined => return Err(super::filters::undefined_error(v)),
            ValueKind::None => self.out.push_str("null"),
            ValueKind::Bool => self
                .out
                .push_str(if v.is_true() { "true" } else { "false" }),
            ValueKind::Number if v.is_integer() => self.out.push_str(&v.to_string()),
            ValueKind::Number => {
                let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
                let text = match float_repr(f).as_str() {
                    "nan" => ".nan".to_string(),
                    "inf" => ".inf".to_string(),
                    "-inf" => "-.inf".to_string(),
                    s => s.to_string(),
                };
                self.out.push_str(&text);
            }
            ValueKind::String => self.string(v.as_str().unwrap_or_default(), indent),
            _ => self.string(&super::pyrepr::py_str(v), indent),
        }
        Ok(())
    }

    fn string(&mut self, s: &str, indent: usize) {
        match style(s) {
            Style::Plain => self.folded(s, indent, false),
            Style::Single => {
                self.out.push('\'');
                self.folded(s, indent, true);
                self.out.push('\'');
            }
            Style::Double => {
                self.out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => self.out.push_str("\\\""),
                        '\\' => self.out.push_str("\\\\"),
                        '\n' => self.out.push_str("\\n"),
                        '\t' => self.out.push_str("\\t"),
                        '\r' => self.out.push_str("\\r"),
                        '\0' => self.out.push_str("\\0"),
                        c if (c as u32) < 0x100 && !printable(c) => {
                            self.out.push_str(&format!("\\x{:02X}", c as u32));
                        }
                        c => self.out.push(c),
                    }
                }
                self.out.push('"');
            }
        }
    }

    /// Writes plain or single-quoted text, breaking at single spaces past column 80 and turning
    /// each run of line breaks into one more break, as PyYAML does.
    fn folded(&mut self, s: &str, indent: usize, quoted: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                let mut end = i;
                while end < chars.len() && chars[end] == ' ' {
                    end += 1;
                }
                if end == i + 1 && self.column() > WIDTH && i != 0 && end != chars.len() {
                    self.out.push('\n');
                    self.pad_to(indent);
                } else {
                    self.out.extend(&chars[i..end]);
                }
                i = end;
            } else if c == '\n' && quoted {
                let mut end = i;
                while end < chars.len() && chars[end] == '\n' {
                    end += 1;
                }
                self.out.push('\n');
                for _ in i..end {
                    self.out.push('\n');
                }
                self.pad_to(indent);
                i = end;
            } else {
                if c == '\'' && quoted {
                    self.out.push('\'');
                }
                self.out.push(c);
                i += 1;
            }
        }
    }
}

enum Style {
    Plain,
    Single,
    Double,
}

fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// Strings PyYAML's resolver would read back as something else (bool, int, float, null, ...).
static IMPLICIT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests below
    Regex::new(concat!(
        r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
        r"|~|null|Null|NULL|<<|=",
        r"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
        r"|[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+][0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?",
        r"(?:(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)?",
        r")$"
    ))
    .expect("valid implicit resolver pattern")
});

fn style(s: &str) -> Style {
    if s.chars().any(|c| !printable(c)) {
        return Style::Double;
    }
    if s.is_empty() || IMPLICIT.is_match(s) {
        return Style::Single;
    }
    let first = s.chars().next().unwrap_or(' ');
    let second = s.chars().nth(1);
    let space_or_end = |c: Option<char>| matches!(c, None | Some(' ' | '\t' | '\n'));
    let forced = s.starts_with(' ')
        || s.ends_with(' ')
        || s.contains('\n')
        || s.starts_with("---")
        || s.starts_with("...")
        || "#,[]{}&*!|>'\"%@`".contains(first)
        || ("?:-".contains(first) && space_or_end(second))
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.contains(":\t");
    if forced { Style::Single } else { Style::Plain }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dumped(json: serde_json::Value, indent: usize, flow: Option<bool>) -> String {
        dump(
            &crate::template::to_value(json),
            YamlOptions { indent, flow },
        )
        .unwrap_or_default()
    }

    #[test]
    fn matches_pyyaml() {
        // Expected strings come from Ansible 2.19's to_yaml/to_nice_yaml (PyYAML 6.0.4).
        let d = serde_json::json!({"b": [1, 2, {"x": "yes"}], "a": "hello world", "c": {"k": "v: x", "e": [], "f": {}},
            "n": null, "t": true, "fl": 1.5, "s": "123", "m": "multi\nline", "q": "it's", "u": "é", "st": "*star", "emp": ""});
        assert_eq!(
            dumped(d.clone(), 2, None),
            "a: hello world\nb:\n- 1\n- 2\n- {x: 'yes'}\nc:\n  e: []\n  f: {}\n  k: 'v: x'\nemp: ''\nfl: 1.5\nm: 'multi\n\n  line'\nn: null\nq: it's\ns: '123'\nst: '*star'\nt: true\nu: é\n"
        );
        assert_eq!(
            dumped(d, 4, Some(false)),
            "a: hello world\nb:\n- 1\n- 2\n-   x: 'yes'\nc:\n    e: []\n    f: {}\n    k: 'v: x'\nemp: ''\nfl: 1.5\nm: 'multi\n\n    line'\nn: null\nq: it's\ns: '123'\nst: '*star'\nt: true\nu: é\n"
        );
        assert_eq!(dumped(serde_json::json!(["a", "b"]), 2, None), "[a, b]\n");
        assert_eq!(
            dumped(serde_json::json!(["a", "b"]), 4, Some(false)),
            "- a\n- b\n"
        );
        assert_eq!(
            dumped(serde_json::json!([[1, 2], [3]]), 4, Some(false)),
            "-   - 1\n    - 2\n-   - 3\n"
        );
        assert_eq!(
            dumped(serde_json::json!({"a": [[1, 2]]}), 2, Some(false)),
            "a:\n- - 1\n  - 2\n"
        );
        assert_eq!(dumped(serde_json::json!("abc"), 2, None), "abc\n");
    }
}
