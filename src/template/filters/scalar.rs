//! Filters that convert or choose scalars: `default`, `mandatory`, `bool`, `int`, `float`,
//! `string`, `ternary`.

use minijinja::Error;
use minijinja::value::{Kwargs, Value, ValueKind};

use super::{defined, invalid, text, undefined_error};
use crate::template::pyrepr::py_str;

/// `default(value, default_value='', boolean=False)`: Jinja2's, on Ansible's chainable undefined.
pub(super) fn default(
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

pub(super) fn mandatory(value: &Value, msg: Option<String>) -> Result<Value, Error> {
    if !value.is_undefined() {
        return Ok(value.clone());
    }
    Err(match msg {
        Some(msg) => invalid(msg),
        // minijinja names the undefined expression only while the error leaves the VM;
        // the marker makes `describe` word it as Ansible's mandatory filter does.
        None => undefined_error(value).with_source(crate::template::error::MandatoryMarker),
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

pub(super) fn to_bool_filter(value: &Value) -> Result<bool, Error> {
    defined(value)?;
    Ok(to_bool(value))
}

/// Python's `int()` of a string: underscores allowed between digits, surrounding whitespace ignored.
pub(super) fn parse_int(s: &str, base: u32) -> Option<i64> {
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

pub(super) fn parse_float(s: &str) -> Option<f64> {
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
pub(super) fn int(value: &Value, default: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
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
pub(super) fn float(value: &Value, default: Option<Value>) -> Result<Value, Error> {
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

pub(super) fn string(value: &Value) -> Result<String, Error> {
    text(value)
}

pub(super) fn ternary(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_parsing() {
        assert_eq!(parse_int(" 42 ", 10), Some(42));
        assert_eq!(parse_int("1_000", 10), Some(1000));
        assert_eq!(parse_int("0x1f", 16), Some(31));
        assert_eq!(parse_int("1.5", 10), None);
    }
}
