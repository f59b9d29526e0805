//! What the modules that edit a text file on the controller share (`blockinfile`, `replace`,
//! `ini_file`, the file side of `sysctl` and `cron`'s `cron_file`): read the file in one round
//! trip, edit it with a pure function here, and write it through [`super::file_put`] (atomic,
//! `validate`, `backup`, owner and mode, check mode, `--diff`) only when it changes. Also the
//! way these modules hand arguments to their `.sh` scripts (environment-style assignments) and
//! Python `re` patterns on the `regex` crate.

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::file_put::{self, PutOptions};
use super::registry::{Cx, Unreachable};
use super::{Outcome, Status, Step};
use crate::transport::shell_quote;

/// A script that starts with `NAME='value'` assignments (one a line, values quoted) and then
/// runs `body`: how these modules pass arguments to their `.sh` files by name.
pub fn assign(vars: &[(&str, &str)], body: &str) -> String {
    let mut s = String::with_capacity(body.len() + 32 * vars.len());
    for (k, v) in vars {
        s.push_str(k);
        s.push('=');
        s.push_str(&shell_quote(v));
        s.push('\n');
    }
    s.push_str(body);
    s
}

/// `"1"` or `"0"`, as the scripts read flags.
pub fn flag(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

/// A Python `re` pattern as the `regex` crate compiles it. Python's `\Z` is `\z` here; what
/// `regex` cannot do (look-around, backreferences) and what it would read differently
/// (POSIX classes `[[:alpha:]]`, which Python reads as a set of characters) is refused with
/// an error naming the pattern, never run with another meaning.
pub fn python_regex(pattern: &str, multi_line: bool, dot_all: bool) -> Result<Regex, String> {
    if pattern.contains("[:") && pattern.contains(":]") {
        return Err(format!(
            "hactl cannot use the regular expression '{pattern}': a POSIX class such as \
             [[:alpha:]] means a set of characters to Python but a class to hactl's regex engine"
        ));
    }
    let translated = pattern.replace("\\Z", "\\z");
    RegexBuilder::new(&translated)
        .multi_line(multi_line)
        .dot_matches_new_line(dot_all)
        .build()
        .map_err(|e| {
            let lookaround = pattern.contains("(?=")
                || pattern.contains("(?!")
                || pattern.contains("(?<=")
                || pattern.contains("(?<!");
            let why = if lookaround {
                "Python's look-around is not supported (hactl's regex engine has none)".to_string()
            } else {
                let e = e.to_string();
                e.lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string()
            };
            format!("hactl cannot use the regular expression '{pattern}': {why}")
        })
}

/// Python's `match.expand(template)` for `re.sub` replacements: `\1`, `\g<1>`, `\g<name>`
/// and the usual escapes; an unmatched group is empty.
pub fn expand(caps: &regex::Captures<'_>, template: &str) -> Result<String, String> {
    let group = |out: &mut String, key: &str| -> Result<(), String> {
        let m = match key.parse::<usize>() {
            Ok(n) if n < caps.len() => caps.get(n),
            Ok(_) => return Err(format!("invalid group reference {key}")),
            Err(_) => match caps.name(key) {
                Some(m) => Some(m),
                None => return Err(format!("unknown group name '{key}'")),
            },
        };
        if let Some(m) = m {
            out.push_str(m.as_str());
        }
        Ok(())
    };
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(next) = chars.next() else {
            return Err("bad escape (end of pattern)".into());
        };
        match next {
            '0'..='9' => {
                let mut key = next.to_string();
                if let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    key.push(d);
                    chars.next();
                }
                group(&mut out, &key)?;
            }
            'g' => {
                if chars.next() != Some('<') {
                    return Err("missing <".into());
                }
                let mut key = String::new();
                loop {
                    match chars.next() {
                        Some('>') => break,
                        Some(k) => key.push(k),
                        None => return Err("missing >, unterminated name".into()),
                    }
                }
                group(&mut out, &key)?;
            }
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            c if c.is_ascii_alphabetic() => return Err(format!("bad escape \\{c}")),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// What the host has at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A file: its bytes, the path with symlinks resolved (where Ansible writes), and its
    /// `mode|uid|gid|user|group`.
    File {
        bytes: Vec<u8>,
        real: String,
        attrs: String,
    },
    Missing,
    Folder,
}

/// Removes a file: `path`, `check`, `msg` (printed when it fails).
pub const REMOVE_SH: &str = include_str!("remove_file.sh");

/// Prints `dir`, `none`, or `file REALPATH_BASE64` and then the file's bytes.
const READ_SH: &str = include_str!("edit_read.sh");

/// Reads what [`READ_SH`] printed.
pub fn parse_read(stdout: &[u8]) -> Read {
    let Some(nl) = stdout.iter().position(|b| *b == b'\n') else {
        return Read::Missing;
    };
    let head = String::from_utf8_lossy(&stdout[..nl]);
    match head.split_once(' ') {
        Some(("file", rest)) => {
            use base64::Engine as _;
            let (real, attrs) = rest.split_once(' ').unwrap_or((rest, ""));
            let real = base64::engine::general_purpose::STANDARD
                .decode(real.trim())
                .ok()
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .trim_end_matches('\n')
                        .to_string()
                })
                .unwrap_or_default();
            Read::File {
                bytes: stdout[nl + 1..].to_vec(),
                real,
                attrs: attrs.to_string(),
            }
        }
        _ if head == "dir" => Read::Folder,
        _ => Read::Missing,
    }
}

/// Reads a file on the host (a leading `~` is the user's home, as Ansible's `type='path'`);
/// `Err` is the outcome to report (offline, or the read failed).
pub async fn read(cx: &Cx<'_>, path: &str) -> Result<Result<Read, Outcome>, Unreachable> {
    let script = assign(
        &[("path", path)],
        &format!("{}{READ_SH}", super::stat::EXPAND_HOME),
    );
    let Some(out) = cx.exec(&script, b"").await? else {
        return Ok(Err(Outcome::offline(cx.module)));
    };
    if !out.success() {
        return Ok(Err(super::protocol::failed_from(
            &out,
            "could not read the file",
        )));
    }
    Ok(Ok(parse_read(&out.stdout)))
}

/// Writes the edited file when its content changed (or when owner, group or mode may
/// differ), making the missing folders of a new file as Ansible does. The outcome is
/// `file_put`'s (`changed`, `backup_file`, the diff) without its `dest` and `checksum`.
pub async fn write(
    cx: &Cx<'_>,
    put: &PutOptions,
    existed: bool,
    after: Vec<u8>,
    content_changed: bool,
) -> Result<Outcome, Unreachable> {
    let attrs = put.mode.is_some() || put.owner.is_some() || put.group.is_some();
    if !content_changed && (!attrs || !existed) {
        return Ok(Outcome::changed(false));
    }
    let mut write = match file_put::plan(after, put, cx.mode) {
        Step::Remote(r) => r,
        Step::Done(o) => return Ok(o),
    };
    if !existed && !cx.mode.check {
        let dir = std::path::Path::new(&put.dest)
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        if !dir.is_empty() {
            write.script = assign(&[("hactl_parents", "1")], &write.script);
        }
    }
    let mut o = cx.step(Step::Remote(write)).await?;
    o.result.remove("dest");
    o.result.remove("checksum");
    if o.status == Status::Changed && !content_changed {
        // Only owner, group or mode changed: no content diff to show.
        o.diff = None;
    }
    Ok(o)
}

/// The message of a module that also sets owner, group and mode: Ansible's
/// `check_file_attrs` appends this when the attributes changed.
/// `differed`: whether owner, group or mode differed before the write (see [`attrs_differ`]).
pub fn attrs_msg(msg: &str, content_changed: bool, differed: bool, wrote: &Outcome) -> String {
    let attrs_changed = wrote.status == Status::Changed && (!content_changed || differed);
    match (attrs_changed, msg.is_empty()) {
        (false, _) => msg.to_string(),
        (true, true) => "ownership, perms or SE linux context changed".into(),
        (true, false) => format!("{msg} and ownership, perms or SE linux context changed"),
    }
}

/// Whether the owner, group or mode a task asks for differ from a file's `attrs` (as
/// [`Read::File`] has them). A symbolic mode counts as the same (it is applied, but the
/// message cannot tell).
pub fn attrs_differ(put: &PutOptions, attrs: &str) -> bool {
    let v: Vec<&str> = attrs.split('|').collect();
    if v.len() != 5 {
        return false;
    }
    let mode = put.mode.as_deref().is_some_and(|m| {
        match (u32::from_str_radix(m, 8), u32::from_str_radix(v[0], 8)) {
            (Ok(want), Ok(have)) => want != have,
            _ => false,
        }
    });
    let owner = put.owner.as_deref().is_some_and(|o| o != v[1] && o != v[3]);
    let group = put.group.as_deref().is_some_and(|g| g != v[2] && g != v[4]);
    mode || owner || group
}

/// Lines as Python's `splitlines(True)`/`readlines()` gives them (split after each `\n`).
pub fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// `Outcome::failed` with `rc`, as Ansible's file modules fail (`rc=256`, `rc=257`).
pub fn failed_rc(msg: String, rc: i64) -> Outcome {
    Outcome::failed(msg).with("rc", Value::from(rc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_around_is_refused_with_a_clear_error() {
        let err = python_regex("foo(?=bar)", true, false).expect_err("look-ahead");
        assert!(err.contains("look-around"), "{err}");
        assert!(err.contains("foo(?=bar)"), "{err}");
        let err = python_regex("[[:digit:]]+", true, false).expect_err("posix class");
        assert!(err.contains("POSIX class"), "{err}");
        let err = python_regex("(a)\\1", true, false).expect_err("backreference");
        assert!(err.contains("(a)\\1"), "{err}");
    }

    #[test]
    fn expands_python_replacements() {
        let re = python_regex("(?P<k>\\w+)=(\\d+)", false, false).expect("regex");
        let caps = re.captures("port=80").expect("match");
        assert_eq!(
            expand(&caps, "\\g<k>: \\2\\n\\g<0>").expect("expand"),
            "port: 80\nport=80"
        );
        assert!(expand(&caps, "\\3").is_err());
        assert!(expand(&caps, "\\q").is_err());
    }

    #[test]
    fn assignments_quote_values() {
        assert_eq!(
            assign(&[("path", "/a b"), ("n", "1")], "body\n"),
            "path='/a b'\nn=1\nbody\n"
        );
    }
}
