//! `replace`: every match of a regular expression in a file replaced, as ansible-core's
//! `replace` module does it: `re.subn` with `re.MULTILINE` over the whole file, or over the
//! part between `after` and `before` (searched with `re.DOTALL`), Python's replacement
//! syntax (`\1`, `\g<name>`), and empty matches counted as Python 3.7+ counts them. The file is
//! read in one round trip, edited on the controller and written through `file_put`.
//!
//! Patterns use the `regex` crate with Python's syntax where they share it; look-around,
//! backreferences in patterns and POSIX classes are refused with an error naming the pattern.
//! Files must be UTF-8 (Ansible's default `encoding`); another encoding is refused.

use futures::future::BoxFuture;
use regex::Regex;
use serde_json::{Map, Value};

use super::ArgError;
use super::args::Args;
use super::blockinfile::put_options;
use super::edit::{self, Read, expand, python_regex};
use super::file_put::PutOptions;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{Outcome, Status};

const PARAMS: &[&str] = &[
    "path",
    "dest",
    "destfile",
    "name",
    "regexp",
    "replace",
    "after",
    "before",
    "backup",
    "validate",
    "encoding",
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

#[derive(Debug, Clone, Default)]
pub struct Params {
    pub path: String,
    pub regexp: String,
    pub replace: String,
    pub after: Option<String>,
    pub before: Option<String>,
    pub put: PutOptions,
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("replace", args, PARAMS)?;
    let path = a.required(&["path", "dest", "destfile", "name"])?;
    let regexp = a.required(&["regexp"])?;
    let encoding = a.str(&["encoding"])?.unwrap_or_else(|| "utf-8".into());
    if !matches!(
        encoding.to_ascii_lowercase().replace('_', "-").as_str(),
        "utf-8" | "utf8"
    ) {
        return Err(ArgError(format!(
            "hactl's replace reads and writes UTF-8 only, not encoding={encoding}"
        )));
    }
    Ok(Params {
        regexp,
        replace: a.str(&["replace"])?.unwrap_or_default(),
        after: a.str(&["after"])?.filter(|s| !s.is_empty()),
        before: a.str(&["before"])?.filter(|s| !s.is_empty()),
        put: put_options(&a, &path)?,
        path,
    })
}

/// What the edit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// `after`/`before` did not match: nothing is done (not an error).
    NoSection(String),
    Done {
        after: String,
        count: usize,
    },
}

/// `re.subn(re, template, text)` with Python's rules for empty matches: an empty match right
/// after a non-empty one counts; after an empty match the search moves on one character.
pub fn subn(re: &Regex, template: &str, text: &str) -> Result<(String, usize), String> {
    let mut out = String::with_capacity(text.len());
    let (mut pos, mut copied, mut count) = (0, 0, 0);
    while pos <= text.len() {
        let Some(caps) = re.captures_at(text, pos) else {
            break;
        };
        let Some(m) = caps.get(0) else { break };
        out.push_str(&text[copied..m.start()]);
        out.push_str(&expand(&caps, template)?);
        copied = m.end();
        count += 1;
        pos = if m.is_empty() {
            match text[m.end()..].chars().next() {
                Some(c) => m.end() + c.len_utf8(),
                None => break,
            }
        } else {
            m.end()
        };
        if m.is_empty() && pos <= text.len() {
            // The character skipped over is kept as it is.
            out.push_str(&text[copied..pos]);
            copied = pos;
        }
    }
    out.push_str(&text[copied..]);
    Ok((out, count))
}

pub fn edit(contents: &str, p: &Params) -> Result<Edit, String> {
    let section_pattern = match (&p.after, &p.before) {
        (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
        (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
        (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
        (None, None) => None,
    };
    let (start, end) = match &section_pattern {
        Some(pat) => {
            let re = python_regex(pat, false, true)?;
            match re.captures(contents).and_then(|c| c.name("subsection")) {
                Some(m) => (m.start(), m.end()),
                None => {
                    return Ok(Edit::NoSection(format!(
                        "Pattern for before/after params did not match the given file: {pat}"
                    )));
                }
            }
        }
        None => (0, contents.len()),
    };
    let section = &contents[start..end];
    let re = python_regex(&p.regexp, true, false)?;
    let (new, count) = subn(&re, &p.replace, section)
        .map_err(|e| format!("Unable to process replace due to error: {e}"))?;
    if count == 0 || new == section {
        return Ok(Edit::Done {
            after: contents.to_string(),
            count: 0,
        });
    }
    Ok(Edit::Done {
        after: format!("{}{new}{}", &contents[..start], &contents[end..]),
        count,
    })
}

#[derive(Debug)]
pub struct Replace;

static SPEC: Spec = Spec {
    name: "replace",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "replace every match of a regular expression in a file",
};

impl Module for Replace {
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
    let differed;
    let bytes = match edit::read(cx, &p.path).await? {
        Err(o) => return Ok(o),
        Ok(Read::Folder) => {
            return Ok(edit::failed_rc(
                format!("Path {} is a directory !", p.path),
                256,
            ));
        }
        Ok(Read::Missing) => {
            return Ok(edit::failed_rc(
                format!("Path {} does not exist !", p.path),
                257,
            ));
        }
        Ok(Read::File { bytes, real, attrs }) => {
            differed = edit::attrs_differ(&p.put, &attrs);
            if !real.is_empty() {
                p.put.dest = real;
            }
            bytes
        }
    };
    let Ok(contents) = String::from_utf8(bytes) else {
        return Ok(Outcome::failed(format!(
            "hactl cannot edit {}: it is not UTF-8 text",
            p.path
        )));
    };
    let (after, count) = match edit(&contents, &p) {
        Err(msg) => return Ok(Outcome::failed(msg)),
        Ok(Edit::NoSection(msg)) => {
            return Ok(Outcome::changed(false).with("rc", 0).with("msg", msg));
        }
        Ok(Edit::Done { after, count }) => (after, count),
    };
    let changed = count > 0;
    let msg = if changed {
        format!("{count} replacements made")
    } else {
        String::new()
    };
    let wrote = edit::write(cx, &p.put, true, after.into_bytes(), changed).await?;
    if wrote.status == Status::Failed {
        return Ok(wrote);
    }
    let msg = edit::attrs_msg(&msg, changed, differed, &wrote);
    Ok(wrote.with("rc", 0).with("msg", msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Params {
        params(v.as_object().expect("map")).expect("valid")
    }

    fn done(e: Edit) -> (String, usize) {
        match e {
            Edit::Done { after, count } => (after, count),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replaces_every_match_multiline() {
        let (after, n) = done(
            edit(
                "port 80\nhost a\nport 81\n",
                &p(json!({"path": "/f", "regexp": "^port (\\d+)$", "replace": "listen \\1"})),
            )
            .expect("edit"),
        );
        assert_eq!((after.as_str(), n), ("listen 80\nhost a\nlisten 81\n", 2));
        let (after, n) = done(
            edit(
                &after,
                &p(json!({"path": "/f", "regexp": "^port (\\d+)$", "replace": "x"})),
            )
            .expect("edit"),
        );
        assert_eq!((after.as_str(), n), ("listen 80\nhost a\nlisten 81\n", 0));
    }

    #[test]
    fn between_after_and_before() {
        let text = "a=1\n[x]\na=1\n[y]\na=1\n";
        let (after, n) = done(
            edit(
                text,
                &p(json!({"path": "/f", "regexp": "^a=1", "replace": "a=2", "after": "\\[x\\]", "before": "\\[y\\]"})),
            )
            .expect("edit"),
        );
        assert_eq!((after.as_str(), n), ("a=1\n[x]\na=2\n[y]\na=1\n", 1));
        let none = edit(
            text,
            &p(json!({"path": "/f", "regexp": "a", "after": "\\[z\\]"})),
        )
        .expect("edit");
        assert!(
            matches!(none, Edit::NoSection(ref m) if m.contains("did not match")),
            "{none:?}"
        );
    }

    #[test]
    fn empty_matches_as_python_counts_them() {
        // Python 3.7+: re.sub('x*', '-', 'abxd') == '-a-b--d-'.
        let re = python_regex("x*", true, false).expect("re");
        assert_eq!(
            subn(&re, "-", "abxd").expect("subn"),
            ("-a-b--d-".into(), 5)
        );
        let re = python_regex("$", true, false).expect("re");
        assert_eq!(subn(&re, ";", "a\nb\n").expect("subn").0, "a;\nb;\n;");
    }

    #[test]
    fn look_around_is_refused() {
        let e = edit("x", &p(json!({"path": "/f", "regexp": "(?<=a)b"}))).expect_err("refused");
        assert!(e.contains("look-around"), "{e}");
    }
}
