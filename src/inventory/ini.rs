//! INI inventories, read line by line as Ansible's `ini` inventory plugin reads them.
//!
//! Grammar (Ansible 2.19): before any section, lines are hosts of `ungrouped`. `[g]` starts
//! hosts of `g`, `[g:vars]` its variables, `[g:children]` its child groups (which may be
//! declared further down). Comments start with `#` or `;` at the start of a line; on host lines
//! `#` starts a comment anywhere (shell rules). Every value goes through Python's
//! `ast.literal_eval` ([`super::pyliteral`]), falling back to the text.

use std::path::Path;

use indexmap::IndexMap;

use super::Inventory;
use super::error::Error;
use super::hostrange;
use super::loader::Builder;
use super::pyliteral;
use super::shlex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Vars,
    Children,
}

/// A group seen before it was declared: `[g:vars]` or a child line naming it.
#[derive(Debug)]
struct Pending {
    line: usize,
    state: State,
    parents: Vec<String>,
}

/// Python's `str.isspace`, which `str.strip()` uses.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.splitlines()`: every line break Python knows, not only `\n`.
pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
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
        if is_break {
            lines.push(&text[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = chars.peek() {
                    chars.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Parses `text` (the contents of `path`) into the inventory being built.
pub(crate) fn parse(b: &mut Builder<'_>, path: &Path, text: &str) -> Result<(), Error> {
    let mut pending: IndexMap<String, Pending> = IndexMap::new();
    let mut group = "ungrouped".to_string();
    let mut state = State::Hosts;
    for (index, raw) in split_lines(text).into_iter().enumerate() {
        let lineno = index + 1;
        let err = |message: String| Error::parse(path, lineno, message);
        let line = raw.trim_matches(py_space);
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((name, kind)) = section(line) {
            let name = b.safe_group_name(name);
            state = match kind {
                None | Some("hosts") => State::Hosts,
                Some("vars") => State::Vars,
                Some("children") => State::Children,
                Some(other) => {
                    return Err(err(format!(
                        "Section [{name}:{other}] has unknown type: {other}"
                    )));
                }
            };
            if !b.inv.groups.contains_key(&name) {
                if state == State::Vars && !pending.contains_key(&name) {
                    pending.insert(
                        name.clone(),
                        Pending {
                            line: lineno,
                            state,
                            parents: Vec::new(),
                        },
                    );
                }
                b.add_group(&name);
            }
            if state != State::Vars {
                match pending.get(&name).map(|p| p.state) {
                    Some(State::Children) => {
                        add_pending_children(b.inv, &name, &mut pending).map_err(err)?
                    }
                    Some(State::Vars) => {
                        pending.shift_remove(&name);
                    }
                    _ => {}
                }
            }
            group = name;
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(err(format!(
                "Invalid section entry: '{line}'. Please make sure that there are no spaces in the \
                 section entry, and that there are no other invalid characters"
            )));
        }
        match state {
            State::Hosts => host_line(b, &group, line).map_err(err)?,
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(err(format!("Expected key=value, got: {line}")));
                };
                let value = pyliteral::eval_or_string(v.trim_matches(py_space)).map_err(err)?;
                b.set_group_var(&group, k.trim_matches(py_space), value)
                    .map_err(err)?;
            }
            State::Children => {
                let child = group_name_line(line)
                    .ok_or_else(|| err(format!("Expected group name, got: {line}")))?;
                if b.inv.groups.contains_key(child) {
                    b.add_child(&group, child).map_err(err)?;
                } else {
                    pending
                        .entry(child.to_string())
                        .or_insert_with(|| Pending {
                            line: lineno,
                            state,
                            parents: Vec::new(),
                        })
                        .parents
                        .push(group.clone());
                }
            }
        }
    }
    // Whatever is still pending was never declared; Ansible reports the first.
    if let Some((name, p)) = pending.first() {
        let message = match p.state {
            State::Vars => format!("Section [{name}:vars] not valid for undefined group '{name}'."),
            _ => {
                let parent = p.parents.last().map_or("", String::as_str);
                format!("Section [{parent}:children] includes undefined group '{name}'.")
            }
        };
        return Err(Error::parse(path, p.line, message));
    }
    Ok(())
}

/// `^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`: the group name and the optional tag.
fn section(line: &str) -> Option<(&str, Option<&str>)> {
    let rest = line.strip_prefix('[')?;
    let name_end = rest
        .find(|c: char| c == ':' || c == ']' || py_space(c))
        .unwrap_or(rest.len());
    let name = &rest[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut rest = &rest[name_end..];
    let mut tag = None;
    if let Some(after) = rest.strip_prefix(':') {
        let tag_end = after
            .find(|c: char| !(c == '_' || c.is_alphanumeric()))
            .unwrap_or(after.len());
        if tag_end == 0 {
            return None;
        }
        tag = Some(&after[..tag_end]);
        rest = &after[tag_end..];
    }
    let rest = rest.strip_prefix(']')?.trim_start_matches(py_space);
    (rest.is_empty() || rest.starts_with('#')).then_some((name, tag))
}

/// `^([^:\]\s]+)\s*(?:#.*)?$`: a child group line.
fn group_name_line(line: &str) -> Option<&str> {
    let end = line
        .find(|c: char| c == ':' || c == ']' || py_space(c))
        .unwrap_or(line.len());
    let name = &line[..end];
    let rest = line[end..].trim_start_matches(py_space);
    (!name.is_empty() && (rest.is_empty() || rest.starts_with('#'))).then_some(name)
}

fn add_pending_children(
    inv: &mut Inventory,
    group: &str,
    pending: &mut IndexMap<String, Pending>,
) -> Result<(), String> {
    let Some(p) = pending.shift_remove(group) else {
        return Ok(());
    };
    for parent in &p.parents {
        super::loader::checked_add_child(inv, parent, group)?;
        if pending
            .get(parent)
            .is_some_and(|pp| pp.state == State::Children)
        {
            add_pending_children(inv, parent, pending)?;
        }
    }
    Ok(())
}

/// `host[01:10]:22 key=value key='quoted value'`.
fn host_line(b: &mut Builder<'_>, group: &str, line: &str) -> Result<(), String> {
    let tokens =
        shlex::split(line).map_err(|e| format!("Error parsing host definition '{line}': {e}"))?;
    let Some((pattern, words)) = tokens.split_first() else {
        return Err(format!("Expected a host definition, got: {line}"));
    };
    let expanded = hostrange::expand(pattern)?;
    if pattern.trim_matches(py_space).ends_with(':') && expanded.port.is_none() {
        return Err(format!(
            "Invalid host pattern '{pattern}' supplied, ending in ':' is not allowed, this \
             character is reserved to provide a port."
        ));
    }
    if expanded
        .hosts
        .iter()
        .any(|h| h.trim_matches(py_space) == "---")
    {
        return Err(format!(
            "Invalid host pattern '{pattern}' supplied, '---' is normally a sign this is a YAML file."
        ));
    }
    let mut vars = IndexMap::new();
    for word in words {
        let Some((k, v)) = word.split_once('=') else {
            return Err(format!(
                "Expected key=value host variable assignment, got: {word}"
            ));
        };
        vars.insert(k.to_string(), pyliteral::eval_or_string(v)?);
    }
    for host in &expanded.hosts {
        b.add_host(host, group, expanded.port)?;
        for (k, v) in &vars {
            b.set_host_var(host, k, v.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections() {
        assert_eq!(section("[web]"), Some(("web", None)));
        assert_eq!(section("[web:vars]  # c"), Some(("web", Some("vars"))));
        assert_eq!(section("[web:Kids]"), Some(("web", Some("Kids"))));
        assert_eq!(section("[web ]"), None);
        assert_eq!(section("[web:]"), None);
        assert_eq!(section("[web] ; c"), None);
    }

    #[test]
    fn lines() {
        assert_eq!(split_lines("a\r\nb\rc\n"), ["a", "b", "c"]);
        assert_eq!(split_lines("a\n\nb"), ["a", "", "b"]);
    }
}
