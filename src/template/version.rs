//! Ansible's `version` test (alias `version_compare`): LooseVersion, StrictVersion,
//! SemanticVersion and PEP 440 comparisons with the same results and failures as ansible-core
//! 2.19 (`plugins/test/core.py`, `module_utils/compat/version.py`, `utils/version.py`,
//! `packaging.version`).

use std::cmp::Ordering;

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};

use super::filters::defined;
use super::pyrepr::py_str;

fn fail(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// `value is version(version, operator='eq', strict=None, version_type=None)`.
pub fn version_test(
    value: &Value,
    version: &Value,
    operator: Option<String>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    defined(value)?;
    defined(version)?;
    let operator = match operator {
        Some(op) => op,
        None => kwargs
            .get::<Option<String>>("operator")?
            .unwrap_or_else(|| "eq".into()),
    };
    let strict: Option<Value> = kwargs.get("strict")?;
    let version_type: Option<String> = kwargs.get("version_type")?;
    kwargs.assert_all_used()?;
    let strict = strict.filter(|v| !v.is_none());
    if strict.is_some() && version_type.is_some() {
        return Err(fail("Cannot specify both 'strict' and 'version_type'"));
    }
    if !value.is_true() {
        return Err(fail("Input version value cannot be empty"));
    }
    if !version.is_true() {
        return Err(fail("Version parameter to compare against cannot be empty"));
    }
    let kind = if strict.is_some_and(|s| s.is_true()) {
        "strict"
    } else {
        match version_type.as_deref() {
            None => "loose",
            Some(t @ ("loose" | "strict" | "semver" | "semantic" | "pep440")) => t,
            Some(other) => {
                return Err(fail(format!(
                    "Invalid version type ({other}). Must be one of 'loose', 'strict', 'semver', 'semantic', 'pep440'"
                )));
            }
        }
    };
    let op = match operator.as_str() {
        "==" | "=" | "eq" => "eq",
        "<" | "lt" => "lt",
        "<=" | "le" => "le",
        ">" | "gt" => "gt",
        ">=" | "ge" => "ge",
        "!=" | "<>" | "ne" => "ne",
        other => {
            return Err(fail(format!(
                "Invalid operator type ({other}). Must be one of '==', '=', 'eq', '<', 'lt', '<=', 'le', '>', 'gt', '>=', 'ge', '!=', '<>', 'ne'"
            )));
        }
    };
    let (a, b) = (py_str(value), py_str(version));
    let ord = match kind {
        "loose" => loose_cmp(&a, &b),
        "strict" => strict_parse(&a).and_then(|x| Ok(x.cmp(&strict_parse(&b)?))),
        "pep440" => pep440_parse(&a).and_then(|x| Ok(x.cmp(&pep440_parse(&b)?))),
        _ => semver_cmp(&a, &b),
    }
    .map_err(|e| fail(format!("Version comparison failed: {e}")))?;
    Ok(match op {
        "eq" => ord == Ordering::Equal,
        "ne" => ord != Ordering::Equal,
        "lt" => ord == Ordering::Less,
        "le" => ord != Ordering::Greater,
        "gt" => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Num(u128),
    Str(String),
}

/// LooseVersion's components: runs of digits (numbers), runs of lowercase letters, and
/// whatever else lies between them; dots separate.
fn loose_parts(s: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut other = String::new();
    let mut chars = s.chars().peekable();
    let flush = |other: &mut String, out: &mut Vec<Part>| {
        if !other.is_empty() {
            out.push(Part::Str(std::mem::take(other)));
        }
    };
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            flush(&mut other, &mut out);
            let mut d = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_ascii_digit()) {
                d.push(c);
                chars.next();
            }
            out.push(match d.parse() {
                Ok(n) => Part::Num(n),
                Err(_) => Part::Str(d),
            });
        } else if c.is_ascii_lowercase() {
            flush(&mut other, &mut out);
            let mut w = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_ascii_lowercase()) {
                w.push(c);
                chars.next();
            }
            out.push(Part::Str(w));
        } else if c == '.' {
            flush(&mut other, &mut out);
            chars.next();
        } else {
            other.push(c);
            chars.next();
        }
    }
    flush(&mut other, &mut out);
    out
}

/// Python's list comparison of LooseVersion components: an int against a str fails.
fn loose_cmp(a: &str, b: &str) -> Result<Ordering, String> {
    let (x, y) = (loose_parts(a), loose_parts(b));
    for (p, q) in x.iter().zip(&y) {
        match (p, q) {
            (Part::Num(m), Part::Num(n)) if m != n => return Ok(m.cmp(n)),
            (Part::Str(m), Part::Str(n)) if m != n => return Ok(m.cmp(n)),
            (Part::Num(_), Part::Str(_)) => {
                return Err("'<' not supported between instances of 'int' and 'str'".into());
            }
            (Part::Str(_), Part::Num(_)) => {
                return Err("'<' not supported between instances of 'str' and 'int'".into());
            }
            _ => {}
        }
    }
    Ok(x.len().cmp(&y.len()))
}

/// StrictVersion: `N.N[.N][{a|b}N]`; a final release sorts after its pre-releases.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Strict {
    release: (u128, u128, u128),
    // (1, "", 0) for a final release sorts after any ("a"|"b", n).
    pre: (u8, char, u128),
}

fn strict_parse(s: &str) -> Result<Strict, String> {
    let bad = || format!("invalid version number '{s}'");
    let (main, pre) = match s.find(['a', 'b']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let nums: Vec<&str> = main.split('.').collect();
    if !(2..=3).contains(&nums.len()) {
        return Err(bad());
    }
    let num = |t: &str| {
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse::<u128>().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let release = (
        num(nums[0])?,
        num(nums[1])?,
        nums.get(2).map(|t| num(t)).transpose()?.unwrap_or(0),
    );
    let pre = match pre {
        None => (1, ' ', 0),
        Some(p) => {
            let letter = p.chars().next().unwrap_or('a');
            (0, letter, num(&p[1..])?)
        }
    };
    Ok(Strict { release, pre })
}

/// A semver pre-release identifier: numbers sort before words.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ident {
    Num(u128),
    Alpha(String),
}

/// A semantic version's core numbers and pre-release identifiers.
type SemVer = ((u128, u128, u128), Vec<Ident>);

fn semver_parse(s: &str) -> Result<SemVer, String> {
    let bad = || format!("invalid semantic version '{s}'");
    let (rest, build) = match s.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (s, None),
    };
    let ident_ok =
        |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if let Some(b) = build {
        if !b.split('.').all(ident_ok) {
            return Err(bad());
        }
    }
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let num = |t: &str| -> Result<u128, String> {
        let digits = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if digits && (t == "0" || !t.starts_with('0')) {
            t.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let core = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    let mut idents = Vec::new();
    if let Some(p) = pre {
        for t in p.split('.') {
            if !ident_ok(t) {
                return Err(bad());
            }
            if t.bytes().all(|b| b.is_ascii_digit()) {
                idents.push(Ident::Num(num(t)?));
            } else {
                idents.push(Ident::Alpha(t.to_string()));
            }
        }
    }
    Ok((core, idents))
}

fn semver_cmp(a: &str, b: &str) -> Result<Ordering, String> {
    let (x, y) = (semver_parse(a)?, semver_parse(b)?);
    Ok(match x.0.cmp(&y.0) {
        Ordering::Equal => match (x.1.is_empty(), y.1.is_empty()) {
            (true, true) => Ordering::Equal,
            (false, true) => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, false) => x.1.cmp(&y.1),
        },
        o => o,
    })
}

/// A PEP 440 version as `packaging.version` orders it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pep440 {
    epoch: u128,
    release: Vec<u128>,
    // (0, n) dev-only, (1, kind, n) pre-release, (2, ..) none: packaging's pre key.
    pre: (u8, u8, u128),
    // None sorts first.
    post: Option<u128>,
    // A dev release sorts before the same version without one.
    dev: (u8, u128),
    local: Vec<(u8, u128, String)>,
}

fn pep440_parse(s: &str) -> Result<Pep440, String> {
    let bad = || format!("Invalid version: '{s}'");
    let lower = s.trim().to_ascii_lowercase();
    let v = lower.strip_prefix('v').unwrap_or(&lower);
    let (v, local) = match v.split_once('+') {
        Some((a, l)) => (a, Some(l)),
        None => (v, None),
    };
    let (epoch, v) = match v.split_once('!') {
        Some((e, rest)) => (e.parse::<u128>().map_err(|_| bad())?, rest),
        None => (0, v),
    };
    let b = v.as_bytes();
    let mut i = 0;
    let read_num = |i: &mut usize| -> Option<u128> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        v[start..*i].parse().ok()
    };
    let mut release = vec![read_num(&mut i).ok_or_else(bad)?];
    while i < b.len() && b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        release.push(read_num(&mut i).ok_or_else(bad)?);
    }
    let sep = |i: &mut usize| {
        if *i < b.len() && matches!(b[*i], b'.' | b'-' | b'_') {
            *i += 1;
        }
    };
    let word = |i: &mut usize, words: &[(&str, u8)]| -> Option<u8> {
        for (w, k) in words {
            if v[*i..].starts_with(w) {
                *i += w.len();
                return Some(*k);
            }
        }
        None
    };
    let mut pre = None;
    let mut j = i;
    sep(&mut j);
    if let Some(kind) = word(
        &mut j,
        &[
            ("alpha", 0),
            ("beta", 1),
            ("preview", 2),
            ("pre", 2),
            ("rc", 2),
            ("a", 0),
            ("b", 1),
            ("c", 2),
        ],
    ) {
        sep(&mut j);
        let n = read_num(&mut j).unwrap_or(0);
        pre = Some((kind, n));
        i = j;
    }
    let mut post = None;
    let mut j = i;
    if j < b.len() && b[j] == b'-' && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        j += 1;
        post = read_num(&mut j);
        i = j;
    } else {
        sep(&mut j);
        if word(&mut j, &[("post", 0), ("rev", 0), ("r", 0)]).is_some() {
            sep(&mut j);
            post = Some(read_num(&mut j).unwrap_or(0));
            i = j;
        }
    }
    let mut dev = None;
    let mut j = i;
    sep(&mut j);
    if word(&mut j, &[("dev", 0)]).is_some() {
        sep(&mut j);
        dev = Some(read_num(&mut j).unwrap_or(0));
        i = j;
    }
    if i != b.len() {
        return Err(bad());
    }
    let local = match local {
        None => Vec::new(),
        Some(l) => l
            .split(['.', '-', '_'])
            .map(|t| {
                if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    Err(bad())
                } else if let Ok(n) = t.parse::<u128>() {
                    Ok((1, n, String::new()))
                } else {
                    Ok((0, 0, t.to_string()))
                }
            })
            .collect::<Result<_, _>>()?,
    };
    // Trailing zeros do not count in comparisons (1.0 == 1.0.0).
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let pre_key = match (pre, post, dev) {
        (None, None, Some(_)) => (0, 0, 0),
        (Some((k, n)), _, _) => (1, k, n),
        _ => (2, 0, 0),
    };
    Ok(Pep440 {
        epoch,
        release,
        pre: pre_key,
        post,
        dev: dev.map_or((1, 0), |n| (0, n)),
        local,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from Python 3.11 with ansible-core 2.19 and packaging.
    #[test]
    fn orders_like_python() {
        assert_eq!(loose_cmp("1.2.10", "1.2.9"), Ok(Ordering::Greater));
        assert_eq!(loose_cmp("1.0", "1.0.0"), Ok(Ordering::Less));
        assert!(loose_cmp("1.2.a", "1.2.1").is_err());
        assert_eq!(
            loose_parts("2.6.32-754.el6"),
            vec![
                Part::Num(2),
                Part::Num(6),
                Part::Num(32),
                Part::Str("-".into()),
                Part::Num(754),
                Part::Str("el".into()),
                Part::Num(6)
            ]
        );
        assert!(strict_parse("1.0a").is_err());
        assert!(strict_parse("1.0").ok() > strict_parse("1.0b1").ok());
        assert_eq!(
            semver_cmp("1.0.0-beta.11", "1.0.0-beta.2"),
            Ok(Ordering::Greater)
        );
        assert!(semver_parse("1.0-rc1").is_err());
        assert!(pep440_parse("1.0rc1").ok() < pep440_parse("1.0").ok());
        assert!(pep440_parse("1.0.post1").ok() > pep440_parse("1.0").ok());
        assert!(pep440_parse("1.0.dev1").ok() < pep440_parse("1.0a1").ok());
        assert!(pep440_parse("1!0.1").ok() > pep440_parse("2.0").ok());
    }
}
