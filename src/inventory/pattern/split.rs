//! Cutting a pattern string into terms, putting the terms in the order Ansible applies them, and
//! taking a `[subscript]` off a term.

use std::sync::LazyLock;

use regex::Regex;

use super::address::is_address;

/// Splits a pattern into terms the way Ansible's `split_host_pattern` does.
///
/// With a comma anywhere, commas separate terms. Otherwise a pattern that is one host address
/// (an IPv6 address, `host:port`, `[addr]:port`, `web[1:3]`) stays one term, and anything else is
/// cut at colons and whitespace, keeping bracketed parts whole. Terms are trimmed; empty ones
/// dropped.
pub fn split_host_pattern(pattern: &str) -> Vec<String> {
    static TERM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:[^\s:\[\]]|\[[^\]]*\])+").expect("the term regex is valid")
    });
    let pieces: Vec<&str> = if pattern.contains(',') {
        pattern.split(',').collect()
    } else if is_address(pattern) {
        vec![pattern]
    } else {
        TERM.find_iter(pattern).map(|m| m.as_str()).collect()
    };
    pieces
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Orders terms as Ansible applies them: unions first, then `&` intersections, then `!`
/// exclusions, each group keeping its order. Without any union term, the unions are `all`.
pub fn order_patterns<S: AsRef<str>>(terms: &[S]) -> Vec<String> {
    let mut unions = Vec::new();
    let mut intersections = Vec::new();
    let mut exclusions = Vec::new();
    for term in terms.iter().map(AsRef::as_ref) {
        if term.starts_with('!') {
            exclusions.push(term.to_string());
        } else if term.starts_with('&') {
            intersections.push(term.to_string());
        } else if !term.is_empty() {
            unions.push(term.to_string());
        }
    }
    if unions.is_empty() {
        unions.push("all".to_string());
    }
    unions
        .into_iter()
        .chain(intersections)
        .chain(exclusions)
        .collect()
}

/// A `[subscript]` on a term, with Python's semantics kept: `end` is inclusive, `-1` means "to
/// the last host", and an `end` of 0 is read as "no end", so `[2:0]` selects the host at 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscript {
    /// `[i]`, `i` may be negative (counted from the end).
    Index(i64),
    /// `[start:end]` or `[start:]` (end -1).
    Range { start: i64, end: i64 },
}

/// A term without its subscript, the subscript, and whether it used the removed `[x-y]` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscripted<'a> {
    pub expr: &'a str,
    pub subscript: Option<Subscript>,
    pub dash_form: bool,
}

/// Takes a trailing `[i]`, `[x:y]`, `[x:]` (or the removed `[x-y]`) off a term. Regexes (`~`)
/// never have one: their brackets are part of the regex.
pub fn split_subscript(term: &str) -> Subscripted<'_> {
    static SUBSCRIPT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$")
            .expect("the subscript regex is valid")
    });
    let plain = Subscripted {
        expr: term,
        subscript: None,
        dash_form: false,
    };
    if term.starts_with('~') {
        return plain;
    }
    let Some(caps) = SUBSCRIPT.captures(term) else {
        return plain;
    };
    let Some(expr) = caps.get(1) else {
        return plain;
    };
    let number = |i: usize| caps.get(i).map(|m| parse_index(m.as_str()));
    let (subscript, dash_form) = match (number(2), number(3)) {
        (Some(index), _) => (Subscript::Index(index), false),
        (None, Some(start)) => {
            let end = caps
                .get(5)
                .filter(|m| !m.is_empty())
                .map_or(-1, |m| parse_index(m.as_str()));
            let dash_form = caps.get(4).is_some_and(|m| m.as_str() == "-");
            (Subscript::Range { start, end }, dash_form)
        }
        (None, None) => return plain,
    };
    Subscripted {
        expr: expr.as_str(),
        subscript: Some(subscript),
        dash_form,
    }
}

/// Python reads any number of digits; anything too large for an i64 is out of every range anyway.
fn parse_index(digits: &str) -> i64 {
    digits.parse().unwrap_or(if digits.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// Applies a subscript to a term's matches (duplicates included, as Ansible does). `None` means
/// the index is out of range, which Ansible reports as an error.
pub fn apply_subscript(hosts: Vec<String>, subscript: Option<Subscript>) -> Option<Vec<String>> {
    let Some(subscript) = subscript else {
        return Some(hosts);
    };
    if hosts.is_empty() {
        return Some(hosts);
    }
    let len = i64::try_from(hosts.len()).unwrap_or(i64::MAX);
    let pick = |index: i64| {
        let at = if index < 0 {
            index.checked_add(len)?
        } else {
            index
        };
        let at = usize::try_from(at).ok()?;
        hosts.get(at).map(|h| vec![h.clone()])
    };
    match subscript {
        Subscript::Index(index)
        | Subscript::Range {
            start: index,
            end: 0,
        } => pick(index),
        Subscript::Range { start, end } => {
            let end = if end == -1 { len - 1 } else { end };
            // Python's hosts[start:end + 1]: both ends clamped, empty when reversed.
            let from = start.clamp(0, len);
            let to = end.saturating_add(1).clamp(0, len);
            let (from, to) = (usize::try_from(from).ok()?, usize::try_from(to).ok()?);
            Some(
                hosts
                    .get(from..to)
                    .map(<[String]>::to_vec)
                    .unwrap_or_default(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(p: &str) -> Vec<String> {
        split_host_pattern(p)
    }

    #[test]
    fn splits_on_commas_first() {
        assert_eq!(split("a,b[1], c[2:3] , d"), ["a", "b[1]", "c[2:3]", "d"]);
        assert_eq!(split("a:b,c"), ["a:b", "c"]);
        assert_eq!(split(",,a,"), ["a"]);
    }

    #[test]
    fn splits_on_colons_and_spaces() {
        assert_eq!(split("web:&db:!db-a"), ["web", "&db", "!db-a"]);
        assert_eq!(split("web db"), ["web", "db"]);
        assert_eq!(split("web[0]:db[1:]"), ["web[0]", "db[1:]"]);
        assert_eq!(split("web::db"), ["web", "db"]);
        // `a::b` is an IPv6 address.
        assert_eq!(split("a::b"), ["a::b"]);
        assert_eq!(split("  "), Vec::<String>::new());
    }

    #[test]
    fn keeps_addresses_whole() {
        assert_eq!(split("fe80::1"), ["fe80::1"]);
        assert_eq!(split("::1"), ["::1"]);
        assert_eq!(split("[::1]:22"), ["[::1]:22"]);
        assert_eq!(split("host:22"), ["host:22"]);
        assert_eq!(split("10.0.0.1:22"), ["10.0.0.1:22"]);
        assert_eq!(split("web[1:3]"), ["web[1:3]"]);
        assert_eq!(split("web[1:3].example.com"), ["web[1:3].example.com"]);
    }

    #[test]
    fn orders_unions_then_intersections_then_exclusions() {
        assert_eq!(
            order_patterns(&["!a", "b", "&c", "d", "!e"]),
            ["b", "d", "&c", "!a", "!e"]
        );
        assert_eq!(order_patterns(&["!a"]), ["all", "!a"]);
        assert_eq!(order_patterns(&["&a", ""]), ["all", "&a"]);
        assert_eq!(order_patterns::<&str>(&[]), ["all"]);
    }

    #[test]
    fn subscripts() {
        let s = |t| {
            let s = split_subscript(t);
            (s.expr, s.subscript, s.dash_form)
        };
        assert_eq!(s("web[0]"), ("web", Some(Subscript::Index(0)), false));
        assert_eq!(s("web[-1]"), ("web", Some(Subscript::Index(-1)), false));
        assert_eq!(
            s("web[1:2]"),
            ("web", Some(Subscript::Range { start: 1, end: 2 }), false)
        );
        assert_eq!(
            s("web[1:]"),
            ("web", Some(Subscript::Range { start: 1, end: -1 }), false)
        );
        assert_eq!(
            s("web[1-2]"),
            ("web", Some(Subscript::Range { start: 1, end: 2 }), true)
        );
        assert_eq!(s("db[ab][1]"), ("db[ab]", Some(Subscript::Index(1)), false));
        assert_eq!(s("web[:2]"), ("web[:2]", None, false));
        assert_eq!(s("web[-1:]"), ("web[-1:]", None, false));
        assert_eq!(s("[0]"), ("[0]", None, false));
        assert_eq!(s("~web[0]"), ("~web[0]", None, false));
    }

    fn hosts(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("h{i}")).collect()
    }

    #[test]
    fn applies_subscripts_like_python() {
        let apply = |sub| apply_subscript(hosts(4), Some(sub));
        assert_eq!(apply(Subscript::Index(0)), Some(vec!["h0".to_string()]));
        assert_eq!(apply(Subscript::Index(-1)), Some(vec!["h3".to_string()]));
        assert_eq!(apply(Subscript::Index(-4)), Some(vec!["h0".to_string()]));
        assert_eq!(apply(Subscript::Index(4)), None);
        assert_eq!(apply(Subscript::Index(-5)), None);
        assert_eq!(
            apply(Subscript::Range { start: 1, end: 2 }).map(|v| v.len()),
            Some(2)
        );
        assert_eq!(
            apply(Subscript::Range { start: 1, end: -1 }),
            Some(hosts(4)[1..].to_vec())
        );
        assert_eq!(
            apply(Subscript::Range { start: 2, end: 99 }),
            Some(hosts(4)[2..].to_vec())
        );
        assert_eq!(apply(Subscript::Range { start: 9, end: 99 }), Some(vec![]));
        assert_eq!(apply(Subscript::Range { start: 3, end: 1 }), Some(vec![]));
        // An end of 0 is Python-falsy: `[2:0]` is `[2]`, and `[9:0]` is out of range.
        assert_eq!(
            apply(Subscript::Range { start: 2, end: 0 }),
            Some(vec!["h2".to_string()])
        );
        assert_eq!(apply(Subscript::Range { start: 9, end: 0 }), None);
        assert_eq!(
            apply_subscript(vec![], Some(Subscript::Index(5))),
            Some(vec![])
        );
        assert_eq!(apply_subscript(hosts(2), None), Some(hosts(2)));
    }
}
