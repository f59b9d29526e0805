//! Filters on text: `join`, `replace`, the regex filters and Python's path and shell helpers.

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value};

use super::{GetPath, defined, invalid, text};
use crate::template::regex::{Replacement, compile};

/// Jinja2's `join(d='', attribute=None)` with Python's `str()` of each item.
pub(super) fn join(value: &Value, sep: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    defined(value)?;
    let attribute: Option<String> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let sep = sep.unwrap_or_default();
    let mut parts = Vec::new();
    for item in value.try_iter()? {
        let item = match &attribute {
            Some(attr) => item.get_path(attr).unwrap_or_default(),
            None => item,
        };
        parts.push(text(&item)?);
    }
    Ok(parts.join(&sep))
}

/// Jinja2's `replace(s, old, new, count=None)`.
pub(super) fn replace(
    value: &Value,
    old: String,
    new: String,
    count: Option<i64>,
) -> Result<String, Error> {
    let s = text(value)?;
    Ok(match count {
        Some(n) if n >= 0 => s.replacen(&old, &new, n as usize),
        _ => s.replace(&old, &new),
    })
}

pub(super) fn regex_replace(
    value: &Value,
    pattern: Option<String>,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let s = text(value)?;
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    let count: Option<usize> = kwargs.get("count")?;
    let mandatory_count: Option<usize> = kwargs.get("mandatory_count")?;
    kwargs.assert_all_used()?;
    let pattern = pattern.unwrap_or_default();
    let re = compile(
        &pattern,
        ignorecase.unwrap_or(false),
        multiline.unwrap_or(false),
    )?;
    let rep = Replacement::parse(&replacement.unwrap_or_default(), &re)?;
    let count = count.unwrap_or(0);
    let (out, subs) = re.sub(&s, &rep, count)?;
    if let Some(n) = mandatory_count.filter(|n| *n != 0) {
        if n != subs {
            // Ansible's message reports the `count` argument where it means the matches.
            return Err(invalid(format!(
                "'{pattern}' should match {n} times, but matches {count} times in '{s}'"
            )));
        }
    }
    Ok(out)
}

/// A regex_search group argument: `'\\1'` (a number) or `'\\g<name>'`.
enum GroupArg {
    Number(usize),
    Name(String),
}

/// Parses regex_search's group arguments as Ansible does.
fn group_args(groups: &[Value]) -> Result<Vec<GroupArg>, Error> {
    groups
        .iter()
        .map(|g| {
            let g = g.as_str().unwrap_or_default();
            if let Some(rest) = g.strip_prefix("\\g") {
                let name = rest
                    .strip_prefix('<')
                    .and_then(|r| r.split_once('>'))
                    .map(|(n, _)| n)
                    .filter(|n| !n.is_empty() && !n.contains(char::is_whitespace))
                    .ok_or_else(|| {
                        invalid(format!("'NoneType' object has no attribute 'group' ({g})"))
                    })?;
                Ok(match name.parse::<usize>() {
                    Ok(n) => GroupArg::Number(n),
                    Err(_) => GroupArg::Name(name.to_string()),
                })
            } else if let Some(rest) = g.strip_prefix('\\') {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<usize>().map(GroupArg::Number).map_err(|_| {
                    invalid(format!("'NoneType' object has no attribute 'group' ({g})"))
                })
            } else {
                Err(invalid("Unknown argument"))
            }
        })
        .collect()
}

pub(super) fn regex_search(
    value: &Value,
    pattern: String,
    groups: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let s = text(value)?;
    let ignorecase: Option<Value> = kwargs.get("ignorecase")?;
    let multiline: Option<Value> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    let groups = group_args(&groups)?;
    let re = compile(
        &pattern,
        ignorecase.is_some_and(|v| v.is_true()),
        multiline.is_some_and(|v| v.is_true()),
    )?;
    let Some(caps) = re.search(&s)? else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map_or("", |m| m.as_str())));
    }
    let items = groups
        .iter()
        .map(|g| {
            let n = match g {
                GroupArg::Number(n) if *n < re.captures_len() => *n,
                GroupArg::Number(_) => return Err(invalid("no such group")),
                GroupArg::Name(name) => re
                    .group_index(name)
                    .ok_or_else(|| invalid("no such group"))?,
            };
            Ok(caps
                .get(n)
                .map_or(Value::from(()), |m| Value::from(m.as_str())))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Value::from(items))
}

pub(super) fn regex_findall(
    value: &Value,
    pattern: String,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let s = text(value)?;
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    let re = compile(
        &pattern,
        ignorecase.unwrap_or(false),
        multiline.unwrap_or(false),
    )?;
    // Python's re.findall: the whole match without groups, the group with one, tuples with more.
    let n = re.captures_len();
    let items = re
        .find_all(&s)?
        .iter()
        .map(|c| match n {
            1 => Value::from(c.get(0).map_or("", |m| m.as_str())),
            2 => Value::from(c.get(1).map_or("", |m| m.as_str())),
            n => Value::from(
                (1..n)
                    .map(|i| Value::from(c.get(i).map_or("", |m| m.as_str())))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect::<Vec<_>>();
    Ok(Value::from(items))
}

/// Python's `os.path.basename`.
pub fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Python's `os.path.dirname`: trailing slashes of the head are dropped unless it is all slashes.
pub fn dirname(p: &str) -> String {
    let head = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => return String::new(),
    };
    let trimmed = head.trim_end_matches('/');
    if trimmed.is_empty() {
        head.to_string()
    } else {
        trimmed.to_string()
    }
}

/// Python's `shlex.quote`.
pub fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_like_python() {
        // Python 3.11: os.path.basename/dirname.
        assert_eq!(basename("/etc/nginx/nginx.conf"), "nginx.conf");
        assert_eq!(basename("/etc/nginx/"), "");
        assert_eq!(dirname("/etc/nginx/nginx.conf"), "/etc/nginx");
        assert_eq!(dirname("/etc//x"), "/etc");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(dirname("x"), "");
    }

    #[test]
    fn shell_quote_like_shlex() {
        // Python 3.11: shlex.quote.
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's x"), "'it'\"'\"'s x'");
    }
}
