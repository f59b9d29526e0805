//! Scalars: PyYAML's YAML 1.1 implicit resolver (which tag a plain scalar gets) and the
//! `SafeConstructor` functions that turn a scalar of a given tag into a value.
//!
//! The patterns are PyYAML's `Resolver` regular expressions, unchanged, so they can be checked
//! against `yaml/resolver.py` line by line. Notable consequences: `y`/`n` are strings, `0o17`
//! and `1e3` are strings (a float needs a dot and a signed exponent), `0755` is octal, `1:20`
//! is sexagesimal (80) and `=` is refused as Ansible refuses it.

use std::sync::LazyLock;

use regex::Regex;

use super::node::Yaml;

/// The tags a scalar can carry, implicitly or explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Timestamp,
    /// `<<`: only meaningful as a mapping key.
    Merge,
    /// `=`: PyYAML resolves it but has no constructor, so loading fails.
    Value,
}

impl Tag {
    /// The core tag named by a full tag (`tag:yaml.org,2002:int`), if it is one of ours.
    pub(crate) fn from_core(full: &str) -> Option<Tag> {
        Some(match full.strip_prefix("tag:yaml.org,2002:")? {
            "null" => Tag::Null,
            "bool" => Tag::Bool,
            "int" => Tag::Int,
            "float" => Tag::Float,
            "str" => Tag::Str,
            "timestamp" => Tag::Timestamp,
            "merge" => Tag::Merge,
            "value" => Tag::Value,
            _ => return None,
        })
    }
}

fn re(pattern: &str) -> Regex {
    // The patterns are constants checked by the unit tests; failing here is a programming error.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("valid resolver pattern")
}

static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\A(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\z",
    )
});

static INT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\A(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\z",
    )
});

static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\A(?P<year>[0-9][0-9][0-9][0-9])-(?P<month>[0-9][0-9]?)-(?P<day>[0-9][0-9]?)(?:(?:[Tt]|[ \t]+)(?P<hour>[0-9][0-9]?):(?P<minute>[0-9][0-9]):(?P<second>[0-9][0-9])(?:\.(?P<fraction>[0-9]*))?(?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)(?::(?P<tz_minute>[0-9][0-9]))?))?)?\z",
    )
});

/// The implicit resolver's pattern: a date alone, or a date and time with both dashes fixed.
static TIMESTAMP_IMPLICIT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\A(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\z",
    )
});

/// The tag PyYAML's resolver gives a plain (unquoted, untagged) scalar.
pub(crate) fn implicit(s: &str) -> Tag {
    // PyYAML only tries the patterns registered for the first character; the patterns are
    // disjoint, so trying them in any order gives the same answer.
    let Some(first) = s.chars().next() else {
        return Tag::Null;
    };
    match first {
        'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' => {
            if is_bool(s) {
                Tag::Bool
            } else if matches!(s, "null" | "Null" | "NULL") {
                Tag::Null
            } else {
                Tag::Str
            }
        }
        '~' if s == "~" => Tag::Null,
        '<' if s == "<<" => Tag::Merge,
        '=' if s == "=" => Tag::Value,
        '-' | '+' | '.' | '0'..='9' => {
            if FLOAT.is_match(s) {
                Tag::Float
            } else if first != '.' && INT.is_match(s) {
                Tag::Int
            } else if first.is_ascii_digit() && TIMESTAMP_IMPLICIT.is_match(s) {
                Tag::Timestamp
            } else {
                Tag::Str
            }
        }
        _ => Tag::Str,
    }
}

fn is_bool(s: &str) -> bool {
    matches!(
        s,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// Builds the value of scalar `s` tagged `tag`, as `SafeConstructor` does; the error is a
/// message without position. `Str` is built by the caller (it may be `!unsafe`).
pub(crate) fn construct(tag: Tag, s: &str) -> Result<Yaml, String> {
    match tag {
        Tag::Null => Ok(Yaml::Null),
        Tag::Bool => construct_bool(s),
        Tag::Int => construct_int(s),
        Tag::Float => construct_float(s),
        Tag::Str => Ok(Yaml::Str(s.to_owned())),
        Tag::Timestamp => construct_timestamp(s).map(Yaml::Str),
        // `<<` anywhere but as a key, and `=`, are resolved by PyYAML but never constructed.
        Tag::Merge => Err(no_constructor("tag:yaml.org,2002:merge")),
        Tag::Value => Err(no_constructor("tag:yaml.org,2002:value")),
    }
}

/// PyYAML's message for a tag it has no constructor for.
pub(crate) fn no_constructor(tag: &str) -> String {
    format!("could not determine a constructor for the tag '{tag}'")
}

fn construct_bool(s: &str) -> Result<Yaml, String> {
    match s.to_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(Yaml::Bool(true)),
        "no" | "false" | "off" => Ok(Yaml::Bool(false)),
        _ => Err(format!("cannot construct a boolean from {s:?}")),
    }
}

/// `construct_yaml_int`: drop underscores, take the sign, then `0b`, `0x`, a leading `0`
/// (octal, where Python's `int(v, 8)` also takes `0o`), `:` (base 60) or decimal.
fn construct_int(s: &str) -> Result<Yaml, String> {
    let bad = || format!("cannot construct an integer from {s:?}");
    let cleaned = s.replace('_', "");
    let (negative, digits) = split_sign(&cleaned);
    let magnitude: i128 = if digits.is_empty() {
        return Err(bad());
    } else if digits == "0" {
        0
    } else if let Some(bin) = digits.strip_prefix("0b") {
        parse_radix(bin, 2).ok_or_else(bad)?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        parse_radix(hex, 16).ok_or_else(bad)?
    } else if digits.starts_with('0') {
        let octal = digits
            .strip_prefix("0o")
            .or_else(|| digits.strip_prefix("0O"));
        let octal = octal.unwrap_or(digits);
        parse_radix(octal, 8).ok_or_else(bad)?
    } else if digits.contains(':') {
        let mut value: i128 = 0;
        for part in digits.split(':') {
            let part = parse_radix(part, 10).ok_or_else(bad)?;
            value = value
                .checked_mul(60)
                .and_then(|v| v.checked_add(part))
                .ok_or_else(bad)?;
        }
        value
    } else {
        parse_radix(digits, 10).ok_or_else(bad)?
    };
    let value = if negative { -magnitude } else { magnitude };
    Ok(i64::try_from(value).map_or_else(
        // Python's ints are unbounded; the nearest float is the closest we can hold.
        #[allow(clippy::cast_precision_loss)]
        |_| Yaml::Float(value as f64),
        Yaml::Int,
    ))
}

/// Python's `int(text, radix)` after the prefix: surrounding whitespace allowed.
fn parse_radix(text: &str, radix: u32) -> Option<i128> {
    let text = text.trim();
    if text.is_empty() || text.starts_with(['+', '-']) {
        return None;
    }
    i128::from_str_radix(text, radix).ok()
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else {
        (false, s.strip_prefix('+').unwrap_or(s))
    }
}

/// `construct_yaml_float`: drop underscores, lower-case, sign, `.inf`, `.nan`, base 60, or
/// Python's `float()`.
fn construct_float(s: &str) -> Result<Yaml, String> {
    let bad = || format!("cannot construct a float from {s:?}");
    let cleaned = s.replace('_', "").to_lowercase();
    let (negative, body) = split_sign(&cleaned);
    let magnitude = if body == ".inf" {
        f64::INFINITY
    } else if body == ".nan" {
        return Ok(Yaml::Float(f64::NAN));
    } else if body.contains(':') {
        let mut value = 0.0;
        for part in body.split(':') {
            value = value * 60.0 + py_float(part).ok_or_else(bad)?;
        }
        value
    } else {
        py_float(body).ok_or_else(bad)?
    };
    Ok(Yaml::Float(if negative { -magnitude } else { magnitude }))
}

/// Python's `float(text)` on a lower-cased text.
fn py_float(text: &str) -> Option<f64> {
    let text = text.trim();
    let digits = text.trim_start_matches(['+', '-']);
    // Rust takes `infinity`/`nan` too, as Python does, but not a bare sign or `.`.
    if digits.is_empty() || digits == "." {
        return None;
    }
    text.parse().ok()
}

/// `construct_yaml_timestamp`, printed as Python's `str()` prints the `date` or `datetime`.
fn construct_timestamp(s: &str) -> Result<String, String> {
    let bad = |why: &str| format!("cannot construct a timestamp from {s:?}: {why}");
    let caps = TIMESTAMP
        .captures(s)
        .ok_or_else(|| bad("not a timestamp"))?;
    let num = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (num("year"), num("month"), num("day")) else {
        return Err(bad("not a timestamp"));
    };
    if year == 0 || !(1..=12).contains(&month) {
        return Err(bad("year or month out of range"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(bad("day is out of range for month"));
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    let Some(hour) = num("hour") else {
        return Ok(date);
    };
    let (minute, second) = (num("minute").unwrap_or(0), num("second").unwrap_or(0));
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad("time out of range"));
    }
    let mut out = format!("{date} {hour:02}:{minute:02}:{second:02}");
    // PyYAML keeps six digits of the fraction; Python prints microseconds only when non-zero.
    let fraction = caps.name("fraction").map_or("", |m| m.as_str());
    let micros: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(6)
        .collect();
    if micros != "000000" {
        out.push('.');
        out.push_str(&micros);
    }
    if let Some(sign) = caps.name("tz_sign") {
        let (tz_hour, tz_minute) = (num("tz_hour").unwrap_or(0), num("tz_minute").unwrap_or(0));
        let total = tz_hour * 60 + tz_minute;
        if total >= 24 * 60 {
            return Err(bad("UTC offset out of range"));
        }
        // Python prints a timedelta(hours, minutes) offset, negated for `-`; zero is `+00:00`.
        let sign = if total == 0 { "+" } else { sign.as_str() };
        out.push_str(&format!("{sign}{:02}:{:02}", total / 60, total % 60));
    } else if caps.name("tz").is_some() {
        out.push_str("+00:00");
    }
    Ok(out)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain scalar resolved and constructed, as the composer does it.
    fn plain(s: &str) -> Yaml {
        match implicit(s) {
            Tag::Str => Yaml::Str(s.to_owned()),
            tag => construct(tag, s).unwrap_or_else(|e| panic!("{s:?}: {e}")),
        }
    }

    fn str_(s: &str) -> Yaml {
        Yaml::Str(s.to_owned())
    }

    #[test]
    fn booleans_are_the_yaml_1_1_words_in_three_cases() {
        for word in [
            "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        ] {
            assert_eq!(plain(word), Yaml::Bool(true), "{word}");
        }
        for word in [
            "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        ] {
            assert_eq!(plain(word), Yaml::Bool(false), "{word}");
        }
        for word in [
            "y", "Y", "n", "N", "yES", "tRUE", "oN", "nO", "ye", "yess", "truth",
        ] {
            assert_eq!(plain(word), str_(word), "{word}");
        }
    }

    #[test]
    fn nulls() {
        for word in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(word), Yaml::Null, "{word:?}");
        }
        for word in ["nULL", "nil", "None", "~~"] {
            assert_eq!(plain(word), str_(word), "{word}");
        }
    }

    #[test]
    fn integers_in_every_base() {
        let cases = [
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("42", 42),
            ("-17", -17),
            ("+5", 5),
            ("1_000", 1000),
            ("1__2", 12),
            ("0_", 0),
            ("0755", 0o755),
            ("-017", -0o17),
            ("0_7", 7),
            ("00", 0),
            ("0x1F", 31),
            ("-0x1", -1),
            ("+0x_A", 10),
            ("0b101", 5),
            ("-0b1", -1),
            ("0b_1_0", 2),
            ("1:20", 80),
            ("190:20:30", 685_230),
            ("-1:30", -90),
            ("1:5", 65),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for (text, value) in cases {
            assert_eq!(plain(text), Yaml::Int(value), "{text}");
        }
    }

    #[test]
    fn integer_look_alikes_are_strings() {
        for text in [
            "08", "09", "0o17", "0O17", "0XFF", "0b", "0B1", "0b2", "1:60", "0:30", "1 2",
        ] {
            assert_eq!(plain(text), str_(text), "{text}");
        }
    }

    #[test]
    fn integers_beyond_i64_become_floats() {
        assert_eq!(plain("99999999999999999999"), Yaml::Float(1e20));
    }

    #[test]
    fn an_empty_binary_or_hex_integer_is_an_error_as_in_python() {
        assert!(construct(implicit("0b_"), "0b_").is_err());
        assert!(construct(implicit("0x_"), "0x_").is_err());
    }

    #[test]
    fn floats_need_a_dot_and_a_signed_exponent() {
        let cases = [
            ("1.0", 1.0),
            ("-1.5", -1.5),
            ("+2.5", 2.5),
            ("0.", 0.0),
            (".5", 0.5),
            ("1.5e+3", 1500.0),
            ("1.5E-3", 0.0015),
            ("1_000.5", 1000.5),
            ("1.__", 1.0),
            (".5e-2", 0.005),
            ("1:20.5", 80.5),
            ("190:20:30.15", 685_230.15),
            ("-1:30.5", -90.5),
            (".inf", f64::INFINITY),
            ("-.Inf", f64::NEG_INFINITY),
            ("+.INF", f64::INFINITY),
        ];
        for (text, value) in cases {
            assert_eq!(plain(text), Yaml::Float(value), "{text}");
        }
        for text in [".nan", ".NaN", ".NAN"] {
            assert!(
                matches!(plain(text), Yaml::Float(f) if f.is_nan()),
                "{text}"
            );
        }
        for text in [
            "1e3",
            "1E3",
            "1.0e3",
            "1.e5",
            "._1",
            "1.2.3",
            "inf",
            "nan",
            "-.nan",
            ".infinity",
        ] {
            assert_eq!(plain(text), str_(text), "{text}");
        }
    }

    #[test]
    fn timestamps_print_as_python_str() {
        let cases = [
            ("2001-12-14", "2001-12-14"),
            ("2001-1-2 3:04:05", "2001-01-02 03:04:05"),
            ("2001-12-15T02:59:43.1Z", "2001-12-15 02:59:43.100000+00:00"),
            (
                "2001-12-14t21:59:43.10-05:00",
                "2001-12-14 21:59:43.100000-05:00",
            ),
            (
                "2001-12-14 21:59:43.10 -5",
                "2001-12-14 21:59:43.100000-05:00",
            ),
            ("2001-12-15 02:59:43.000000", "2001-12-15 02:59:43"),
            ("2001-12-15 02:59:43.1234567", "2001-12-15 02:59:43.123456"),
            ("2001-12-15 02:59:43 -0:30", "2001-12-15 02:59:43-00:30"),
            ("2001-12-15 02:59:43 -0", "2001-12-15 02:59:43+00:00"),
            ("2000-02-29", "2000-02-29"),
        ];
        for (text, printed) in cases {
            assert_eq!(implicit(text), Tag::Timestamp, "{text}");
            assert_eq!(plain(text), str_(printed), "{text}");
        }
        assert_eq!(
            implicit("2001-1-2"),
            Tag::Str,
            "a lone date needs two-digit fields"
        );
        for bad in ["2001-02-30", "1900-02-29", "0000-01-01", "2001-13-01"] {
            assert!(construct(Tag::Timestamp, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_and_value_keys() {
        assert_eq!(implicit("<<"), Tag::Merge);
        assert_eq!(implicit("="), Tag::Value);
        assert!(construct(Tag::Value, "=").is_err());
        assert_eq!(implicit("<"), Tag::Str);
        assert_eq!(implicit("=="), Tag::Str);
    }

    #[test]
    fn explicit_tags_use_the_constructors_directly() {
        assert_eq!(construct(Tag::Int, "0o17"), Ok(Yaml::Int(15)));
        assert_eq!(construct(Tag::Int, "  7 "), Ok(Yaml::Int(7)));
        assert!(construct(Tag::Int, "x").is_err());
        assert!(construct(Tag::Int, "").is_err());
        assert_eq!(construct(Tag::Float, "1"), Ok(Yaml::Float(1.0)));
        assert_eq!(construct(Tag::Float, "1e3"), Ok(Yaml::Float(1000.0)));
        assert_eq!(
            construct(Tag::Float, "-inf"),
            Ok(Yaml::Float(f64::NEG_INFINITY))
        );
        assert!(construct(Tag::Float, "").is_err());
        assert_eq!(construct(Tag::Bool, "TRUE"), Ok(Yaml::Bool(true)));
        assert_eq!(construct(Tag::Bool, "Off"), Ok(Yaml::Bool(false)));
        assert!(construct(Tag::Bool, "maybe").is_err());
        assert_eq!(construct(Tag::Null, "anything"), Ok(Yaml::Null));
        assert_eq!(Tag::from_core("tag:yaml.org,2002:float"), Some(Tag::Float));
        assert_eq!(Tag::from_core("tag:yaml.org,2002:binary"), None);
    }
}
