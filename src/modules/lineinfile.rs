//! `lineinfile`: one line present (added, or put in place of a matching line) or absent, with
//! Ansible's own rules for where a line goes (`insertafter`/`insertbefore`, `firstmatch`,
//! `backrefs`). The edit itself is a pure function on the file's bytes, checked against what
//! ansible-core's module does on the same inputs (`tests/golden/lineinfile/`); the runner
//! reads the file in one round trip and, when the content changes, writes it through
//! [`super::file_put`] (atomic, `validate`, `backup`, owner and mode).
//!
//! Regular expressions are Python's (`crate::template::regex`, as for the template filters),
//! compiled as `bytes` patterns like the module does: look-around, backreferences and `$`
//! before a final newline work; `\\w`, `\\d`, `\\s` are ASCII. A line that is not UTF-8 cannot
//! be searched with a pattern and fails naming the line.

use fancy_regex::Captures;

use crate::template::regex::{PyRegex, compile_bytes};
use serde_json::{Map, Value};

use super::ArgError;
use super::args::Args;
use super::file_put::{self, PutOptions};
use super::{Outcome, Step};

const PARAMS: &[&str] = &[
    "path",
    "dest",
    "destfile",
    "name",
    "state",
    "regexp",
    "regex",
    "search_string",
    "line",
    "value",
    "insertafter",
    "insertbefore",
    "backrefs",
    "create",
    "backup",
    "firstmatch",
    "validate",
    "owner",
    "group",
    "mode",
    "unsafe_writes",
    "attributes",
    "selevel",
    "serole",
    "setype",
    "seuser",
];

/// What the task asks for.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub path: String,
    pub present: bool,
    pub regexp: Option<String>,
    pub search_string: Option<String>,
    pub line: Option<String>,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub backrefs: bool,
    pub create: bool,
    pub firstmatch: bool,
    /// Where and how the new content is written.
    pub put: PutOptions,
}

/// Reads and checks the arguments as Ansible's module does.
pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("lineinfile", args, PARAMS)?;
    let path = a.required(&["path", "dest", "destfile", "name"])?;
    let state = a
        .choice("state", &["absent", "present"])?
        .unwrap_or_else(|| "present".into());
    let p = Params {
        present: state == "present",
        regexp: a.str(&["regexp", "regex"])?,
        search_string: a.str(&["search_string"])?,
        line: a.str(&["line", "value"])?,
        insertafter: a.str(&["insertafter"])?,
        insertbefore: a.str(&["insertbefore"])?,
        backrefs: a.bool(&["backrefs"])?.unwrap_or(false),
        create: a.bool(&["create"])?.unwrap_or(false),
        firstmatch: a.bool(&["firstmatch"])?.unwrap_or(false),
        put: PutOptions {
            dest: path.clone(),
            mode: a.mode()?,
            owner: a.owner()?,
            group: a.group()?,
            backup: a.bool(&["backup"])?.unwrap_or(false),
            validate: a.str(&["validate"])?,
            name: String::new(),
        },
        path,
    };
    for (x, y) in [
        ("insertbefore", "insertafter"),
        ("regexp", "search_string"),
        ("backrefs", "search_string"),
    ] {
        let set = |n: &str| match n {
            "insertbefore" => p.insertbefore.is_some(),
            "insertafter" => p.insertafter.is_some(),
            "regexp" => p.regexp.is_some(),
            "backrefs" => p.backrefs,
            _ => p.search_string.is_some(),
        };
        if set(x) && set(y) {
            return Err(ArgError(format!(
                "parameters are mutually exclusive: {x}|{y}"
            )));
        }
    }
    if let Some(v) = &p.put.validate {
        if !v.contains("%s") {
            return Err(ArgError(format!("validate must contain %s: {v}")));
        }
    }
    if p.present {
        if p.backrefs && p.regexp.is_none() {
            return Err(ArgError("regexp is required with backrefs=true".into()));
        }
        if p.line.is_none() {
            return Err(ArgError("line is required with state=present".into()));
        }
    } else if p.regexp.is_none() && p.search_string.is_none() && p.line.is_none() {
        return Err(ArgError(
            "one of line, search_string, or regexp is required with state=absent".into(),
        ));
    }
    Ok(p)
}

/// A script that prints `dir`, `none`, or `file` and then the file's bytes.
pub fn read_script(path: &str) -> String {
    super::edit::assign(&[("path", path)], include_str!("read_file.sh"))
}

/// What [`read_script`] found at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found<'a> {
    File(&'a [u8]),
    Folder,
    Nothing,
}

pub fn parse_read(stdout: &[u8]) -> Found<'_> {
    match stdout.iter().position(|b| *b == b'\n') {
        Some(4) if stdout.starts_with(b"file") => Found::File(&stdout[5..]),
        _ if stdout.starts_with(b"dir") => Found::Folder,
        _ => Found::Nothing,
    }
}

/// What the edit does to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub after: Vec<u8>,
    pub changed: bool,
    pub msg: String,
    /// For `state=absent`: how many lines went.
    pub found: Option<usize>,
}

/// Why the module fails before writing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub msg: String,
    pub rc: Option<i32>,
}

fn fail(msg: String) -> Failure {
    Failure { msg, rc: None }
}

fn regex(pattern: &str) -> Result<PyRegex, Failure> {
    compile_bytes(pattern).map_err(|e| {
        fail(format!(
            "hactl cannot use the regular expression '{pattern}': {e}"
        ))
    })
}

/// The line as text for a pattern; Python searches the bytes, which hactl cannot do for a
/// line that is not UTF-8.
fn searched(line: &[u8], n: usize) -> Result<&str, Failure> {
    std::str::from_utf8(line).map_err(|_| {
        fail(format!(
            "hactl cannot search line {} with a regular expression: it is not UTF-8",
            n + 1
        ))
    })
}

fn re_error(e: crate::template::regex::PyReError) -> Failure {
    fail(e.to_string())
}

/// Lines as Python's `readlines()` gives them: split after each `\n`, terminators kept.
fn lines(content: &[u8]) -> Vec<Vec<u8>> {
    content
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &line[..end]
}

fn ends_with_eol(lines: &[Vec<u8>]) -> bool {
    lines
        .last()
        .and_then(|l| l.last())
        .is_none_or(|b| matches!(b, b'\n' | b'\r'))
}

fn with_eol(line: &[u8]) -> Vec<u8> {
    let mut l = line.to_vec();
    l.push(b'\n');
    l
}

/// The edit of `before` (`None`: no file). Mirrors `present()` and `absent()` of ansible-core's
/// `lineinfile.py`, line for line where it matters.
pub fn edit(before: Option<&[u8]>, p: &Params) -> Result<Edit, Failure> {
    if p.present {
        present(before, p)
    } else {
        Ok(absent(before, p)?)
    }
}

fn present(before: Option<&[u8]>, p: &Params) -> Result<Edit, Failure> {
    let Some(before) = before.or(p.create.then_some(&[][..])) else {
        return Err(Failure {
            msg: format!("Destination {} does not exist !", p.path),
            rc: Some(257),
        });
    };
    let mut ls = lines(before);
    let line = p.line.as_deref().unwrap_or_default().as_bytes();
    let re = p.regexp.as_deref().map(regex).transpose()?;
    let (insertafter, insertbefore) = match (&p.insertafter, &p.insertbefore) {
        (None, None) => (Some("EOF"), None),
        (a, b) => (a.as_deref(), b.as_deref()),
    };
    let ins = match (insertafter, insertbefore) {
        (Some(a), _) if a != "BOF" && a != "EOF" => Some(regex(a)?),
        (_, Some(b)) if b != "BOF" => Some(regex(b)?),
        _ => None,
    };

    let mut index = [-1isize, -1isize];
    let mut caps: Option<Captures<'_>> = None;
    let mut matched = false;
    if let Some(re) = &re {
        for (n, l) in ls.iter().enumerate() {
            if let Some(c) = re.search(searched(l, n)?).map_err(re_error)? {
                index[0] = n as isize;
                // The captures borrow `before`'s copy; keep the expanded line instead.
                caps = Some(c);
                matched = true;
                if p.firstmatch {
                    break;
                }
            }
        }
    }
    let expanded = match (&caps, p.backrefs) {
        (Some(c), true) => Some(expand(c, line)?),
        _ => None,
    };
    drop(caps);
    if let Some(s) = &p.search_string {
        for (n, l) in ls.iter().enumerate() {
            if contains(l, s.as_bytes()) {
                index[0] = n as isize;
                matched = true;
                if p.firstmatch {
                    break;
                }
            }
        }
    }
    if !matched {
        for (n, l) in ls.iter().enumerate() {
            if trim_eol(l) == line {
                index[0] = n as isize;
            } else if match &ins {
                Some(r) => r.is_match(searched(l, n)?).map_err(re_error)?,
                None => false,
            } {
                if insertafter.is_some() {
                    index[1] = n as isize + 1;
                    if p.firstmatch {
                        break;
                    }
                }
                if insertbefore.is_some() {
                    index[1] = n as isize;
                    if p.firstmatch {
                        break;
                    }
                }
            }
        }
    }

    let mut msg = "";
    let mut changed = false;
    let added = |ls: &mut Vec<Vec<u8>>, at: usize| ls.insert(at, with_eol(line));
    if index[0] != -1 {
        let mut new_line = expanded.unwrap_or_else(|| line.to_vec());
        if !new_line.ends_with(b"\n") {
            new_line.push(b'\n');
        }
        // (Ansible's branch for "no regexp, no match, no exact line" cannot be reached here:
        // without a regexp or search string, index[0] is set by an exact line only.)
        if ls[index[0] as usize] != new_line {
            ls[index[0] as usize] = new_line;
            msg = "line replaced";
            changed = true;
        }
    } else if p.backrefs {
        // Nothing: the line cannot be made without the regexp's groups.
    } else if insertbefore == Some("BOF") || insertafter == Some("BOF") {
        added(&mut ls, 0);
        msg = "line added";
        changed = true;
    } else if insertafter == Some("EOF") || index[1] == -1 {
        if !ends_with_eol(&ls) {
            ls.push(b"\n".to_vec());
        }
        ls.push(with_eol(line));
        msg = "line added";
        changed = true;
    } else if insertafter.is_some() {
        let at = index[1] as usize;
        if ls.len() == at {
            if trim_eol(&ls[at - 1]) != line {
                ls.push(with_eol(line));
                msg = "line added";
                changed = true;
            }
        } else if trim_eol(&ls[at]) != line {
            added(&mut ls, at);
            msg = "line added";
            changed = true;
        }
    } else {
        added(&mut ls, index[1] as usize);
        msg = "line added";
        changed = true;
    }
    Ok(Edit {
        after: ls.concat(),
        changed,
        msg: msg.into(),
        found: None,
    })
}

fn absent(before: Option<&[u8]>, p: &Params) -> Result<Edit, Failure> {
    let Some(before) = before else {
        return Ok(Edit {
            after: Vec::new(),
            changed: false,
            msg: "file not present".into(),
            found: None,
        });
    };
    let re = p.regexp.as_deref().map(regex).transpose()?;
    let line = p.line.as_deref().unwrap_or_default().as_bytes();
    let mut gone = Vec::new();
    let mut kept = Vec::new();
    for (n, l) in lines(before).into_iter().enumerate() {
        let hit = if let Some(re) = &re {
            re.is_match(searched(&l, n)?).map_err(re_error)?
        } else if let Some(s) = &p.search_string {
            contains(&l, s.as_bytes())
        } else {
            trim_eol(&l) == line
        };
        if hit { gone.push(l) } else { kept.push(l) }
    }
    let changed = !gone.is_empty();
    Ok(Edit {
        after: kept.concat(),
        changed,
        msg: if changed {
            format!("{} line(s) removed", gone.len())
        } else {
            String::new()
        },
        found: Some(gone.len()),
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Python's `match.expand(template)`: `\1`, `\g<1>`, `\g<name>` and the usual escapes; an
/// unmatched group is empty.
fn expand(caps: &Captures<'_>, template: &[u8]) -> Result<Vec<u8>, Failure> {
    let group = |out: &mut Vec<u8>, key: &str| -> Result<(), Failure> {
        let m = match key.parse::<usize>() {
            Ok(n) if n < caps.len() => caps.get(n),
            Ok(_) => return Err(fail(format!("invalid group reference {key}"))),
            Err(_) => match caps.name(key) {
                Some(m) => Some(m),
                None => return Err(fail(format!("unknown group name '{key}'"))),
            },
        };
        if let Some(m) = m {
            out.extend_from_slice(m.as_str().as_bytes());
        }
        Ok(())
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < template.len() {
        let c = template[i];
        if c != b'\\' || i + 1 == template.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let next = template[i + 1];
        i += 2;
        match next {
            b'0'..=b'9' => {
                let mut end = i;
                if end < template.len() && template[end].is_ascii_digit() {
                    end += 1;
                }
                let key = String::from_utf8_lossy(&template[i - 1..end]).into_owned();
                group(&mut out, &key)?;
                i = end;
            }
            b'g' => {
                let close = template[i..].iter().position(|b| *b == b'>');
                match (template.get(i), close) {
                    (Some(b'<'), Some(len)) => {
                        let key = String::from_utf8_lossy(&template[i + 1..i + len]).into_owned();
                        group(&mut out, &key)?;
                        i += len + 1;
                    }
                    _ => return Err(fail("missing group name after \\g".into())),
                }
            }
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'v' => out.push(0x0b),
            b'\\' => out.push(b'\\'),
            c if c.is_ascii_alphabetic() => {
                return Err(fail(format!("bad escape \\{} in line", c as char)));
            }
            c => {
                out.push(b'\\');
                out.push(c);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Params {
        params(v.as_object().expect("map")).expect("valid")
    }

    #[test]
    fn adds_replaces_and_removes() {
        let conf = b"a=1\nb=2\n";
        let e = edit(Some(conf), &p(json!({"path": "/f", "line": "c=3"}))).expect("edit");
        assert_eq!(
            (e.after.as_slice(), e.msg.as_str()),
            (&b"a=1\nb=2\nc=3\n"[..], "line added")
        );
        let e = edit(
            Some(conf),
            &p(json!({"path": "/f", "regexp": "^b=", "line": "b=9"})),
        )
        .expect("edit");
        assert_eq!(
            (e.after.as_slice(), e.msg.as_str()),
            (&b"a=1\nb=9\n"[..], "line replaced")
        );
        let e = edit(Some(conf), &p(json!({"path": "/f", "line": "b=2"}))).expect("edit");
        assert!(!e.changed);
        let e = edit(
            Some(conf),
            &p(json!({"path": "/f", "regexp": "=", "state": "absent"})),
        )
        .expect("edit");
        assert_eq!(
            (e.after.as_slice(), e.msg.as_str()),
            (&b""[..], "2 line(s) removed")
        );
    }

    #[test]
    fn backrefs_expand_as_python_does() {
        let e = edit(
            Some(b"port 80\n"),
            &p(json!({"path": "/f", "regexp": "^port (\\d+)$", "line": "listen \\1 \\g<1>", "backrefs": true})),
        )
        .expect("edit");
        assert_eq!(e.after, b"listen 80 80\n");
    }

    #[test]
    fn argument_errors_read_as_ansible_words() {
        let err = params(json!({"path": "/f"}).as_object().expect("map")).expect_err("no line");
        assert_eq!(err.0, "line is required with state=present");
        let err = params(
            json!({"path": "/f", "line": "x", "insertafter": "a", "insertbefore": "b"})
                .as_object()
                .expect("map"),
        )
        .expect_err("exclusive");
        assert_eq!(
            err.0,
            "parameters are mutually exclusive: insertbefore|insertafter"
        );
        let missing = edit(None, &p(json!({"path": "/f", "line": "x"}))).expect_err("no file");
        assert_eq!(missing.rc, Some(257));
    }
}

/// `lineinfile` as a module: read the file (one round trip), edit it on the controller, and
/// write it through `file_put` only when its content or attributes may change.
#[derive(Debug)]
pub struct LineInFile;

static SPEC: super::registry::Spec = super::registry::Spec {
    name: "lineinfile",
    aliases: &[],
    runs: super::registry::Runs::Both,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "make sure a line is in a file, or is not",
};

impl super::registry::Module for LineInFile {
    fn spec(&self) -> &'static super::registry::Spec {
        &SPEC
    }

    fn run<'a>(
        &'a self,
        cx: &'a mut super::registry::Cx<'_>,
    ) -> futures::future::BoxFuture<'a, Result<Outcome, super::registry::Unreachable>> {
        Box::pin(run(cx))
    }
}

async fn run(cx: &super::registry::Cx<'_>) -> Result<Outcome, super::registry::Unreachable> {
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let Some(read) = cx.exec(&read_script(&p.path), b"").await? else {
        return Ok(Outcome::offline("lineinfile"));
    };
    if !read.success() {
        return Ok(super::protocol::failed_from(
            &read,
            "could not read the file",
        ));
    }
    let before = match parse_read(&read.stdout) {
        Found::File(b) => Some(b),
        Found::Nothing => None,
        Found::Folder => {
            return Ok(Outcome::failed(format!("Path {} is a directory !", p.path)).with("rc", 256));
        }
    };
    let edit = match edit(before, &p) {
        Ok(e) => e,
        Err(f) => {
            let mut o = Outcome::failed(f.msg);
            if let Some(rc) = f.rc {
                o = o.with("rc", rc);
            }
            return Ok(o);
        }
    };
    let attrs = p.put.mode.is_some() || p.put.owner.is_some() || p.put.group.is_some();
    let finish = |mut o: Outcome, msg: String| {
        o.result.insert("msg".into(), Value::String(msg));
        o.result
            .insert("backup".into(), Value::String(String::new()));
        if let Some(found) = edit.found {
            o.result.insert("found".into(), found.into());
        }
        o
    };
    // Nothing to write: no file and nothing to add, or the same content and no attributes.
    if before.is_none() && !p.present
        || !edit.changed && !attrs
        || before.is_none() && !edit.changed
    {
        return Ok(finish(Outcome::changed(false), edit.msg));
    }
    let mut write = match file_put::plan(edit.after.clone(), &p.put, cx.mode) {
        Step::Remote(r) => r,
        Step::Done(o) => return Ok(o),
    };
    if before.is_none() && !cx.mode.check {
        // Ansible makes the missing folders of a file it creates.
        let dir = std::path::Path::new(&p.path)
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        if !dir.is_empty() {
            write.script = super::edit::assign(&[("hactl_parents", "1")], &write.script);
        }
    }
    let wrote = cx.step(Step::Remote(write)).await?;
    if wrote.status == super::Status::Failed {
        return Ok(wrote);
    }
    let msg = match (edit.changed, wrote.status == super::Status::Changed) {
        (false, true) => "ownership, perms or SE linux context changed".to_string(),
        _ => edit.msg.clone(),
    };
    let backup = wrote.result.get("backup_file").cloned();
    let mut o = finish(wrote, msg);
    if let Some(b) = backup {
        o.result.insert("backup".into(), b);
    }
    o.result.remove("checksum");
    Ok(o)
}
