//! `blockinfile`: a block of lines between two marker lines, inserted, replaced or removed,
//! with ansible-core's rules (`insertafter`/`insertbefore` with `EOF`/`BOF` or a regular
//! expression whose last matching line wins, a `(?m)` pattern searched in the whole file,
//! `prepend_newline`/`append_newline`, `create`, `state: absent`). The edit is a pure function
//! on the file's bytes; the file is read in one round trip and written through `file_put`
//! (atomic, `validate`, `backup`, owner and mode, check mode, `--diff`), like `lineinfile`.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::ArgError;
use super::args::Args;
use super::edit::{self, Read, lines, python_regex};
use super::file_put::PutOptions;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{Outcome, Status};

const PARAMS: &[&str] = &[
    "path",
    "dest",
    "destfile",
    "name",
    "state",
    "marker",
    "block",
    "content",
    "insertafter",
    "insertbefore",
    "create",
    "backup",
    "validate",
    "marker_begin",
    "marker_end",
    "append_newline",
    "prepend_newline",
    "owner",
    "group",
    "mode",
    "unsafe_writes",
    "attributes",
    "attr",
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
    pub marker: String,
    pub block: String,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub create: bool,
    pub marker_begin: String,
    pub marker_end: String,
    pub append_newline: bool,
    pub prepend_newline: bool,
    pub put: PutOptions,
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("blockinfile", args, PARAMS)?;
    let path = a.required(&["path", "dest", "destfile", "name"])?;
    let state = a
        .choice("state", &["absent", "present"])?
        .unwrap_or_else(|| "present".into());
    let p = Params {
        present: state == "present",
        marker: a
            .str(&["marker"])?
            .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into()),
        block: a.str(&["block", "content"])?.unwrap_or_default(),
        insertafter: a.str(&["insertafter"])?,
        insertbefore: a.str(&["insertbefore"])?,
        create: a.bool(&["create"])?.unwrap_or(false),
        marker_begin: a.str(&["marker_begin"])?.unwrap_or_else(|| "BEGIN".into()),
        marker_end: a.str(&["marker_end"])?.unwrap_or_else(|| "END".into()),
        append_newline: a.bool(&["append_newline"])?.unwrap_or(false),
        prepend_newline: a.bool(&["prepend_newline"])?.unwrap_or(false),
        put: put_options(&a, &path)?,
        path,
    };
    if p.insertafter.is_some() && p.insertbefore.is_some() {
        return Err(ArgError(
            "parameters are mutually exclusive: insertbefore|insertafter".into(),
        ));
    }
    Ok(p)
}

/// The file arguments every text-editing module takes, for `file_put`.
pub(crate) fn put_options(a: &Args<'_>, path: &str) -> Result<PutOptions, ArgError> {
    let put = PutOptions {
        dest: path.to_string(),
        mode: a.mode()?,
        owner: a.owner()?,
        group: a.group()?,
        backup: a.bool(&["backup"])?.unwrap_or(false),
        validate: a.str(&["validate"])?,
        name: String::new(),
    };
    if let Some(v) = &put.validate {
        if !v.contains("%s") {
            return Err(ArgError(format!("validate must contain %s: {v}")));
        }
    }
    Ok(put)
}

/// The result of the edit: the new bytes and Ansible's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub after: Vec<u8>,
    pub changed: bool,
    pub msg: String,
}

/// Whether a Python pattern sets `re.MULTILINE` inline (`(?m)`, `(?im)`, ...).
fn inline_multiline(pattern: &str) -> bool {
    pattern
        .strip_prefix("(?")
        .and_then(|r| r.split_once(')'))
        .is_some_and(|(flags, _)| {
            flags.contains('m') && flags.chars().all(|c| c.is_ascii_alphabetic())
        })
}

/// The edit of `before` (`None`: a new file), as ansible-core's `blockinfile.py` does it.
pub fn edit(before: Option<&[u8]>, p: &Params) -> Result<Edit, String> {
    let mut ls = before.map(lines).unwrap_or_default();
    let (insertafter, insertbefore) = match (&p.insertafter, &p.insertbefore) {
        (None, None) => (Some("EOF"), None),
        (a, b) => (a.as_deref(), b.as_deref()),
    };
    let pattern = match (insertafter, insertbefore) {
        (Some(a), _) if a != "EOF" => Some(a),
        (None, Some(b)) if b != "BOF" => Some(b),
        _ => None,
    };
    let insertre = pattern
        .map(|pat| python_regex(pat, false, false))
        .transpose()?;
    let marker0 = format!("{}\n", p.marker.replace("{mark}", &p.marker_begin)).into_bytes();
    let marker1 = format!("{}\n", p.marker.replace("{mark}", &p.marker_end)).into_bytes();
    let blocklines: Vec<Vec<u8>> = if p.present && !p.block.is_empty() {
        let mut block = p.block.clone().into_bytes();
        if !block.ends_with(b"\n") {
            block.push(b'\n');
        }
        let mut v = vec![marker0.clone()];
        v.extend(lines(&block));
        v.push(marker1.clone());
        v
    } else {
        Vec::new()
    };
    let (mut n0, mut n1) = (None, None);
    for (i, l) in ls.iter().enumerate() {
        if *l == marker0 {
            n0 = Some(i);
        }
        if *l == marker1 {
            n1 = Some(i);
        }
    }
    let mut at = match (n0, n1) {
        (Some(a), Some(b)) if a < b => {
            ls.drain(a..=b);
            a
        }
        (Some(a), Some(b)) => {
            ls.drain(b..=a);
            b
        }
        _ => match &insertre {
            Some(re) => {
                let mut found = None;
                if pattern.is_some_and(inline_multiline) {
                    let whole = before.unwrap_or_default();
                    let text = String::from_utf8_lossy(whole);
                    if let Some(m) = re.find(&text) {
                        let upto = if insertafter.is_some() {
                            m.end()
                        } else {
                            m.start()
                        };
                        found = Some(text[..upto].matches('\n').count());
                    }
                } else {
                    for (i, l) in ls.iter().enumerate() {
                        // Python's `$` also matches before a final newline.
                        let text = String::from_utf8_lossy(l);
                        let text = text.strip_suffix('\n').unwrap_or(&text);
                        if re.is_match(text) {
                            found = Some(i);
                        }
                    }
                }
                match found {
                    None => ls.len(),
                    Some(i) if insertafter.is_some() => i + 1,
                    Some(i) => i,
                }
            }
            None if insertbefore.is_some() => 0,
            None => ls.len(),
        },
    };
    if at > 0 && !ls[at - 1].ends_with(b"\n") {
        ls[at - 1].push(b'\n');
    }
    if p.prepend_newline && p.present && at != 0 && ls[at - 1] != b"\n" {
        ls.insert(at, b"\n".to_vec());
        at += 1;
    }
    let count = blocklines.len();
    let removing = blocklines.is_empty();
    ls.splice(at..at, blocklines);
    if p.append_newline && p.present {
        let after_block = at + count;
        if after_block < ls.len() && ls[after_block] != b"\n" {
            ls.insert(after_block, b"\n".to_vec());
        }
    }
    let after = ls.concat();
    let (changed, msg) = match before {
        Some(b) if b == after.as_slice() => (false, ""),
        None => (true, "File created"),
        Some(_) if removing => (true, "Block removed"),
        Some(_) => (true, "Block inserted"),
    };
    Ok(Edit {
        after,
        changed,
        msg: msg.into(),
    })
}

#[derive(Debug)]
pub struct BlockInFile;

static SPEC: Spec = Spec {
    name: "blockinfile",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "a block of lines between marker lines in a file",
};

impl Module for BlockInFile {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let mut p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let mut differed = false;
    let before = match edit::read(cx, &p.path).await? {
        Err(o) => return Ok(o),
        Ok(Read::Folder) => {
            return Ok(edit::failed_rc(
                format!("Path {} is a directory !", p.path),
                256,
            ));
        }
        Ok(Read::Missing) if !p.present => {
            return Ok(Outcome::changed(false).with("msg", format!("File {} not present", p.path)));
        }
        Ok(Read::Missing) if !p.create => {
            return Ok(edit::failed_rc(
                format!("Path {} does not exist !", p.path),
                257,
            ));
        }
        Ok(Read::Missing) => None,
        Ok(Read::File { bytes, real, attrs }) => {
            differed = edit::attrs_differ(&p.put, &attrs);
            if !real.is_empty() {
                p.put.dest = real;
            }
            Some(bytes)
        }
    };
    let e = match edit(before.as_deref(), &p) {
        Ok(e) => e,
        Err(msg) => return Ok(Outcome::failed(msg)),
    };
    let wrote = edit::write(cx, &p.put, before.is_some(), e.after, e.changed).await?;
    if wrote.status == Status::Failed {
        return Ok(wrote);
    }
    let msg = if cx.mode.check && before.is_none() {
        e.msg.clone()
    } else {
        edit::attrs_msg(&e.msg, e.changed, differed, &wrote)
    };
    let mut o = wrote.with("msg", msg);
    if let Some(b) = o.result.remove("backup_file") {
        o.result.insert("backup_file".into(), b);
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Params {
        params(v.as_object().expect("map")).expect("valid")
    }

    fn run_edit(before: Option<&str>, v: Value) -> (String, bool, String) {
        let e = edit(before.map(str::as_bytes), &p(v)).expect("edit");
        (String::from_utf8(e.after).expect("utf8"), e.changed, e.msg)
    }

    #[test]
    fn inserts_at_the_end_and_replaces_in_place() {
        let (after, changed, msg) = run_edit(Some("a\nb"), json!({"path": "/f", "block": "x\ny"}));
        assert_eq!(
            after,
            "a\nb\n# BEGIN ANSIBLE MANAGED BLOCK\nx\ny\n# END ANSIBLE MANAGED BLOCK\n"
        );
        assert_eq!((changed, msg.as_str()), (true, "Block inserted"));
        let (again, changed, _) = run_edit(Some(&after), json!({"path": "/f", "block": "x\ny"}));
        assert_eq!((again.as_str(), changed), (after.as_str(), false));
        let (replaced, _, _) = run_edit(Some(&after), json!({"path": "/f", "block": "z"}));
        assert_eq!(
            replaced,
            "a\nb\n# BEGIN ANSIBLE MANAGED BLOCK\nz\n# END ANSIBLE MANAGED BLOCK\n"
        );
        let (removed, changed, msg) =
            run_edit(Some(&after), json!({"path": "/f", "state": "absent"}));
        assert_eq!(
            (removed.as_str(), changed, msg.as_str()),
            ("a\nb\n", true, "Block removed")
        );
    }

    #[test]
    fn insert_positions() {
        let text = "one\ntwo\none\nthree\n";
        let (after, _, _) = run_edit(
            Some(text),
            json!({"path": "/f", "block": "B", "insertbefore": "BOF", "marker": "#{mark}"}),
        );
        assert_eq!(after, "#BEGIN\nB\n#END\none\ntwo\none\nthree\n");
        // The last matching line wins.
        let (after, _, _) = run_edit(
            Some(text),
            json!({"path": "/f", "block": "B", "insertafter": "^one$", "marker": "#{mark}"}),
        );
        assert_eq!(after, "one\ntwo\none\n#BEGIN\nB\n#END\nthree\n");
        let (after, _, _) = run_edit(
            Some(text),
            json!({"path": "/f", "block": "B", "insertbefore": "^one", "marker": "#{mark}",
                   "marker_begin": "S", "marker_end": "E"}),
        );
        assert_eq!(after, "one\ntwo\n#S\nB\n#E\none\nthree\n");
        // (?m): searched in the whole file, first match.
        let (after, _, _) = run_edit(
            Some(text),
            json!({"path": "/f", "block": "B", "insertafter": "(?m)^two\\none$", "marker": "#{mark}"}),
        );
        assert_eq!(after, "one\ntwo\none\n#BEGIN\nB\n#END\nthree\n");
        let (after, _, _) = run_edit(
            Some("a\n"),
            json!({"path": "/f", "block": "B", "insertafter": "nomatch", "marker": "#{mark}",
                   "prepend_newline": true}),
        );
        assert_eq!(after, "a\n\n#BEGIN\nB\n#END\n");
    }

    #[test]
    fn new_files_and_empty_blocks() {
        let (after, changed, msg) =
            run_edit(None, json!({"path": "/f", "block": "x", "create": true}));
        assert_eq!(
            (after.as_str(), changed, msg.as_str()),
            (
                "# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n",
                true,
                "File created"
            )
        );
        let (after, changed, msg) = run_edit(None, json!({"path": "/f", "create": true}));
        assert_eq!(
            (after.as_str(), changed, msg.as_str()),
            ("", true, "File created")
        );
    }
}
