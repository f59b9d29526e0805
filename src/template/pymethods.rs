//! Python methods on values inside templates (`s.split(',', 1)`, `d.copy()`, `l.index(x)`).
//!
//! minijinja-contrib's `pycompat` covers many; this module implements those it lacks or where
//! its result differs from Python's (`split`/`rsplit` with `maxsplit`, `splitlines` on every
//! line boundary, `format` with conversions and specs, `index`/`rindex` errors), then hands
//! everything else to `pycompat`. An unknown method stays an error naming it.

use minijinja::value::{Kwargs, Value, ValueKind, from_args};
use minijinja::{Error, ErrorKind, State};

use super::filters::{py_center, py_splitlines};
use super::pyformat::str_format;
use super::pyrepr::py_str;

fn value_error(msg: &str) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.to_string())
}

/// The environment's unknown-method callback.
pub fn call(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let own = match value.kind() {
        ValueKind::String => string_method(value.as_str().unwrap_or_default(), method, args)?,
        ValueKind::Map => map_method(value, method, args)?,
        ValueKind::Seq => seq_method(value, method, args)?,
        _ => None,
    };
    match own {
        Some(v) => Ok(v),
        None => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
    }
}

/// Python's `str.split(sep=None, maxsplit=-1)`.
fn py_split(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    let limit = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit as usize
    };
    match sep {
        Some("") => Err(value_error("empty separator")),
        Some(sep) => {
            if limit == usize::MAX {
                Ok(s.split(sep).map(String::from).collect())
            } else {
                Ok(s.splitn(limit.saturating_add(1), sep)
                    .map(String::from)
                    .collect())
            }
        }
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if out.len() == limit {
                    out.push(rest.to_string());
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(rest[..end].to_string());
                rest = rest[end..].trim_start();
            }
            Ok(out)
        }
    }
}

/// Python's `str.rsplit(sep=None, maxsplit=-1)`.
fn py_rsplit(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    let limit = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit as usize
    };
    let mut out: Vec<String> = match sep {
        Some("") => return Err(value_error("empty separator")),
        Some(sep) => {
            if limit == usize::MAX {
                s.rsplit(sep).map(String::from).collect()
            } else {
                s.rsplitn(limit.saturating_add(1), sep)
                    .map(String::from)
                    .collect()
            }
        }
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_end();
            while !rest.is_empty() {
                if out.len() == limit {
                    out.push(rest.to_string());
                    break;
                }
                let start = rest.rfind(char::is_whitespace).map_or(0, |i| {
                    i + rest[i..].chars().next().map_or(1, char::len_utf8)
                });
                out.push(rest[start..].to_string());
                rest = rest[..start].trim_end();
            }
            out
        }
    };
    out.reverse();
    Ok(out)
}

fn list(items: Vec<String>) -> Value {
    Value::from(items.into_iter().map(Value::from).collect::<Vec<_>>())
}

/// Position in characters of a byte offset.
fn char_pos(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64
}

/// The optional `sep, maxsplit` of split/rsplit, positional or by keyword.
fn split_args(args: &[Value]) -> Result<(Option<String>, i64), Error> {
    let (a, b, kw): (Option<Value>, Option<i64>, Option<Kwargs>) = from_args(args)?;
    let mut sep = a.filter(|v| !v.is_none()).map(|v| py_str(&v));
    let mut max = b.unwrap_or(-1);
    if let Some(kw) = kw {
        if let Some(s) = kw.get::<Option<Value>>("sep")? {
            sep = (!s.is_none()).then(|| py_str(&s));
        }
        if let Some(m) = kw.get::<Option<i64>>("maxsplit")? {
            max = m;
        }
        kw.assert_all_used()?;
    }
    Ok((sep, max))
}

fn strip_chars(args: &[Value]) -> Result<Option<Vec<char>>, Error> {
    let (chars,): (Option<Value>,) = from_args(args)?;
    Ok(chars
        .filter(|c| !c.is_none())
        .map(|c| py_str(&c).chars().collect()))
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    let v = match method {
        "split" => {
            let (sep, max) = split_args(args)?;
            list(py_split(s, sep.as_deref(), max)?)
        }
        "rsplit" => {
            let (sep, max) = split_args(args)?;
            list(py_rsplit(s, sep.as_deref(), max)?)
        }
        "splitlines" => {
            let (keep,): (Option<bool>,) = from_args(args)?;
            list(py_splitlines(s, keep.unwrap_or(false)))
        }
        "strip" | "lstrip" | "rstrip" => {
            let chars = strip_chars(args)?;
            let pred = |c: char| match &chars {
                Some(set) => set.contains(&c),
                None => c.is_whitespace(),
            };
            Value::from(match method {
                "strip" => s.trim_matches(pred),
                "lstrip" => s.trim_start_matches(pred),
                _ => s.trim_end_matches(pred),
            })
        }
        "index" | "rindex" | "find" | "rfind" => {
            let (sub, start, end): (String, Option<i64>, Option<i64>) = from_args(args)?;
            let chars: Vec<(usize, char)> = s.char_indices().collect();
            let n = chars.len() as i64;
            let clamp = |i: i64| if i < 0 { (i + n).max(0) } else { i.min(n) };
            let (a, b) = (clamp(start.unwrap_or(0)), clamp(end.unwrap_or(n)));
            let byte = |i: i64| chars.get(i as usize).map_or(s.len(), |c| c.0);
            let found = if a > b {
                None
            } else {
                let hay = &s[byte(a)..byte(b)];
                let pos = if method.starts_with('r') {
                    hay.rfind(&sub)
                } else {
                    hay.find(&sub)
                };
                pos.map(|p| char_pos(s, byte(a) + p))
            };
            match (found, method) {
                (Some(p), _) => Value::from(p),
                (None, "find" | "rfind") => Value::from(-1),
                (None, _) => return Err(value_error("substring not found")),
            }
        }
        "count" => {
            let (sub,): (String,) = from_args(args)?;
            Value::from(if sub.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(&sub).count()
            })
        }
        "format" => {
            let mut positional = Vec::new();
            let mut named = Vec::new();
            for a in args {
                if let Ok(kw) = Kwargs::try_from(a.clone()) {
                    for k in kw.args() {
                        named.push((k.to_string(), kw.get::<Value>(k)?));
                    }
                } else {
                    positional.push(a.clone());
                }
            }
            Value::from(str_format(s, &positional, &named)?)
        }
        "replace" => {
            let (old, new, count): (String, String, Option<i64>) = from_args(args)?;
            Value::from(match count {
                Some(c) if c >= 0 => s.replacen(&old, &new, c as usize),
                _ => s.replace(&old, &new),
            })
        }
        "swapcase" => {
            let () = from_args(args)?;
            Value::from(
                s.chars()
                    .flat_map(|c| {
                        if c.is_uppercase() {
                            c.to_lowercase().collect::<Vec<_>>()
                        } else {
                            c.to_uppercase().collect()
                        }
                    })
                    .collect::<String>(),
            )
        }
        "zfill" => {
            let (width,): (usize,) = from_args(args)?;
            let len = s.chars().count();
            if width <= len {
                Value::from(s)
            } else {
                let (sign, rest) = match s.chars().next() {
                    Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                    _ => (String::new(), s),
                };
                Value::from(format!("{sign}{}{rest}", "0".repeat(width - len)))
            }
        }
        "center" | "ljust" | "rjust" => {
            let (width, fill): (usize, Option<String>) = from_args(args)?;
            let fill = match fill {
                None => ' ',
                Some(f) if f.chars().count() == 1 => f.chars().next().unwrap_or(' '),
                Some(_) => {
                    return Err(value_error(
                        "The fill character must be exactly one character long",
                    ));
                }
            };
            let len = s.chars().count();
            let pad = fill.to_string().repeat(width.saturating_sub(len));
            Value::from(match method {
                "center" => py_center(s, width, fill),
                "ljust" => format!("{s}{pad}"),
                _ => format!("{pad}{s}"),
            })
        }
        "istitle" => {
            let () = from_args(args)?;
            let mut cased = false;
            let mut prev_cased = false;
            let mut ok = true;
            for c in s.chars() {
                if c.is_uppercase() {
                    ok &= !prev_cased;
                    prev_cased = true;
                    cased = true;
                } else if c.is_lowercase() {
                    ok &= prev_cased;
                    prev_cased = true;
                    cased = true;
                } else {
                    prev_cased = false;
                }
            }
            Value::from(ok && cased)
        }
        "isidentifier" => {
            let () = from_args(args)?;
            let mut it = s.chars();
            Value::from(
                it.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                    && it.all(|c| c == '_' || c.is_alphanumeric()),
            )
        }
        "isdecimal" => {
            let () = from_args(args)?;
            Value::from(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
        }
        "partition" | "rpartition" => {
            let (sep,): (String,) = from_args(args)?;
            if sep.is_empty() {
                return Err(value_error("empty separator"));
            }
            let found = if method == "partition" {
                s.find(&sep)
            } else {
                s.rfind(&sep)
            };
            let parts = match found {
                Some(i) => [&s[..i], sep.as_str(), &s[i + sep.len()..]],
                None if method == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            Value::from(parts.iter().map(|p| Value::from(*p)).collect::<Vec<_>>())
        }
        "removeprefix" => {
            let (p,): (String,) = from_args(args)?;
            Value::from(s.strip_prefix(p.as_str()).unwrap_or(s))
        }
        "removesuffix" => {
            let (p,): (String,) = from_args(args)?;
            Value::from(s.strip_suffix(p.as_str()).unwrap_or(s))
        }
        "expandtabs" => {
            let (size,): (Option<usize>,) = from_args(args)?;
            let size = size.unwrap_or(8);
            let mut out = String::new();
            let mut col = 0;
            for c in s.chars() {
                match c {
                    '\t' => {
                        let n = if size == 0 { 0 } else { size - col % size };
                        out.push_str(&" ".repeat(n));
                        col += n;
                    }
                    '\n' | '\r' => {
                        out.push(c);
                        col = 0;
                    }
                    c => {
                        out.push(c);
                        col += 1;
                    }
                }
            }
            Value::from(out)
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn map_method(value: &Value, method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    Ok(Some(match method {
        "update" | "pop" | "popitem" | "setdefault" | "clear" => {
            return Err(in_place(method, "dict"));
        }
        "copy" => {
            let () = from_args(args)?;
            let pairs = value
                .try_iter()?
                .map(|k| value.get_item(&k).map(|v| (k, v)))
                .collect::<Result<Vec<_>, _>>()?;
            Value::from_pairs(pairs)
        }
        _ => return Ok(None),
    }))
}

/// Python's methods that change a list or dict in place.
fn in_place(method: &str, kind: &str) -> Error {
    value_error(&format!(
        "hactl cannot change this {kind} in place ({kind}.{method}()): only a {kind} made by \
         `{{% set x = {} %}}` in the template can be changed",
        if kind == "list" { "[...]" } else { "{...}" }
    ))
}

fn seq_method(value: &Value, method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    Ok(Some(match method {
        "append" | "extend" | "insert" | "pop" | "remove" | "clear" | "reverse" | "sort" => {
            return Err(in_place(method, "list"));
        }
        "index" => {
            let (what,): (Value,) = from_args(args)?;
            let pos = value.try_iter()?.position(|x| x == what);
            match pos {
                Some(p) => Value::from(p),
                None => {
                    return Err(value_error(&format!(
                        "{} is not in list",
                        super::py_repr(&what)
                    )));
                }
            }
        }
        "copy" => {
            let () = from_args(args)?;
            Value::from(value.try_iter()?.collect::<Vec<_>>())
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from Python 3.11.
    #[test]
    fn splits_like_python() {
        assert_eq!(py_split("a,b,,c", Some(","), 1).expect("s"), ["a", "b,,c"]);
        assert_eq!(py_split("a  b c", None, 1).expect("s"), ["a", "b c"]);
        assert_eq!(py_rsplit("a,b,,c", Some(","), 1).expect("s"), ["a,b,", "c"]);
        assert_eq!(py_rsplit(" a b ", None, 1).expect("s"), [" a", "b"]);
        assert_eq!(py_split("  ", None, -1).expect("s"), Vec::<String>::new());
    }
}
