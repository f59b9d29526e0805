//! `ansible_local`: the `.fact` files of `fact_path`, as Ansible's `local` collector reads them.
//! Executable files are run and their output used; the text is JSON, or else INI read the way
//! Python's `ConfigParser` reads it (sections, lower-cased option names, `DEFAULT` inherited,
//! continuation lines, `%(name)s` interpolation). Checked against Python's own answers in
//! `tests/golden/facts/local.json`.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

/// One `.fact` file as the script reported it.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file that is not executable: its bytes.
    File { path: String, bytes: Vec<u8> },
    /// An executable that ran: exit code, stdout and stderr.
    Run {
        path: String,
        rc: i32,
        out: Vec<u8>,
        err: Vec<u8>,
    },
    /// An executable the script could not run (no scratch folder for its output).
    Failed { path: String },
}

/// Why hactl cannot give Ansible's answer for a fact file.
#[derive(Debug, thiserror::Error)]
#[error("local fact {path}: {message}")]
pub struct Unsupported {
    pub path: String,
    pub message: String,
}

/// `ansible_local` from the files, keyed by file name without `.fact`.
pub fn collect(sources: &[Source]) -> Result<Map<String, Value>, Unsupported> {
    let mut facts = Map::new();
    let mut sorted: Vec<&Source> = sources.iter().collect();
    // Ansible walks sorted(glob(...)): by code point.
    sorted.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    for src in sorted {
        let path = path_of(src);
        let base = path.rsplit('/').next().unwrap_or(path).replace(".fact", "");
        let text = match src {
            Source::Failed { path } => {
                return Err(Unsupported {
                    path: path.clone(),
                    message: "the host had no scratch folder to run it in".into(),
                });
            }
            Source::Run {
                path,
                rc,
                out: stdout,
                err,
            } => {
                if *rc != 0 {
                    let err = String::from_utf8_lossy(err);
                    out_insert(
                        &mut facts,
                        base,
                        json!(format!(
                            "Failure executing fact script ({path}), rc: {rc}, err: {err}"
                        )),
                    );
                    continue;
                }
                match String::from_utf8(stdout.clone()) {
                    Ok(t) => t,
                    Err(_) => {
                        out_insert(
                            &mut facts,
                            base,
                            json!(format!(
                                "error loading fact - output of running \"{path}\" was not utf-8"
                            )),
                        );
                        continue;
                    }
                }
            }
            // Ansible reads files with get_file_content: stripped, and empty when not UTF-8.
            Source::File { bytes, .. } => String::from_utf8(bytes.clone())
                .map(|t| t.trim().to_string())
                .unwrap_or_default(),
        };
        let fact = match serde_json::from_str::<Value>(&text) {
            Ok(v) => v,
            Err(_) => match ini(&text) {
                Ok(sections) => Value::Object(
                    sections
                        .into_iter()
                        .map(|(s, opts)| {
                            let opts: Map<String, Value> =
                                opts.into_iter().map(|(k, v)| (k, json!(v))).collect();
                            (s, Value::Object(opts))
                        })
                        .collect(),
                ),
                Err(IniError::Parse) => json!(format!(
                    "error loading facts as JSON or ini - please check content: {path}"
                )),
                Err(IniError::Interpolation(opt)) => {
                    return Err(Unsupported {
                        path: path.to_string(),
                        message: format!(
                            "option {opt:?} has a %-interpolation Python's ConfigParser cannot \
                             resolve; Ansible's answer for such a file depends on the order of its \
                             options, and hactl does not reproduce it"
                        ),
                    });
                }
            },
        };
        out_insert(&mut facts, base, fact);
    }
    Ok(facts)
}

fn out_insert(out: &mut Map<String, Value>, key: String, value: Value) {
    out.insert(key, value);
}

fn path_of(s: &Source) -> &str {
    match s {
        Source::File { path, .. } | Source::Run { path, .. } | Source::Failed { path } => path,
    }
}

/// Why INI text was not read.
#[derive(Debug, PartialEq)]
pub enum IniError {
    /// Anything `read_file` rejects (no section header, duplicates, a line without `=`/`:`).
    Parse,
    /// An option whose `%(...)s` does not resolve.
    Interpolation(String),
}

type Sections = IndexMap<String, IndexMap<String, String>>;

/// INI text read as Python's `ConfigParser()` with its defaults reads it, every value
/// interpolated.
pub fn ini(text: &str) -> Result<Sections, IniError> {
    let mut defaults: IndexMap<String, Vec<String>> = IndexMap::new();
    let mut sections: IndexMap<String, IndexMap<String, Vec<String>>> = IndexMap::new();
    // Which section lines go to: None before the first header, Some(None) for DEFAULT.
    let mut cur: Option<Option<String>> = None;
    let mut optname: Option<String> = None;
    let mut indent_level = 0usize;
    let mut error = false;
    for line in text.lines() {
        let stripped = line.trim();
        let comment = stripped.starts_with('#') || stripped.starts_with(';');
        let value = if comment { "" } else { stripped };
        if value.is_empty() {
            // Empty lines belong to a value being continued (not comment lines).
            if !comment {
                let sect = match &cur {
                    Some(None) => Some(&mut defaults),
                    Some(Some(s)) => sections.get_mut(s),
                    None => None,
                };
                if let (Some(m), Some(name)) = (sect, &optname) {
                    if let Some(v) = m.get_mut(name) {
                        v.push(String::new());
                    }
                }
            }
            continue;
        }
        let cur_indent = line.len() - line.trim_start().len();
        if cur.is_some() && optname.is_some() && cur_indent > indent_level {
            let sect = match &cur {
                Some(None) => Some(&mut defaults),
                Some(Some(s)) => sections.get_mut(s),
                None => None,
            };
            if let (Some(m), Some(name)) = (sect, &optname) {
                if let Some(v) = m.get_mut(name) {
                    v.push(value.to_string());
                }
            }
            continue;
        }
        indent_level = cur_indent;
        if let Some(header) = value
            .strip_prefix('[')
            .and_then(|r| r.rfind(']').map(|i| &r[..i]))
            .filter(|h| !h.is_empty())
        {
            if header == "DEFAULT" {
                cur = Some(None);
            } else {
                if sections.contains_key(header) {
                    return Err(IniError::Parse);
                }
                sections.insert(header.to_string(), IndexMap::new());
                cur = Some(Some(header.to_string()));
            }
            optname = None;
            continue;
        }
        if cur.is_none() {
            return Err(IniError::Parse);
        }
        // OPTCRE: the shortest text before the first '=' or ':'.
        let Some(pos) = value.find(['=', ':']) else {
            error = true;
            continue;
        };
        let name = value[..pos].trim_end().to_lowercase();
        if name.is_empty() {
            error = true;
            continue;
        }
        let val = value[pos + 1..].trim().to_string();
        let sect = match &cur {
            Some(None) => &mut defaults,
            Some(Some(s)) => match sections.get_mut(s) {
                Some(m) => m,
                None => return Err(IniError::Parse),
            },
            None => return Err(IniError::Parse),
        };
        if sect.contains_key(&name) {
            return Err(IniError::Parse);
        }
        sect.insert(name.clone(), vec![val]);
        optname = Some(name);
    }
    if error {
        return Err(IniError::Parse);
    }
    let join = |v: &Vec<String>| v.join("\n").trim_end().to_string();
    let defaults: IndexMap<String, String> =
        defaults.iter().map(|(k, v)| (k.clone(), join(v))).collect();
    let mut out = Sections::new();
    for (name, opts) in &sections {
        let mut raw: IndexMap<String, String> =
            opts.iter().map(|(k, v)| (k.clone(), join(v))).collect();
        for (k, v) in &defaults {
            raw.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let mut done = IndexMap::new();
        for (k, v) in &raw {
            let value =
                interpolate(v, &raw, 1).ok_or_else(|| IniError::Interpolation(k.clone()))?;
            done.insert(k.clone(), value);
        }
        out.insert(name.clone(), done);
    }
    Ok(out)
}

/// BasicInterpolation: `%%` is `%`, `%(name)s` is the option `name` (interpolated in turn, at
/// most 10 deep); any other `%` is an error.
fn interpolate(value: &str, opts: &IndexMap<String, String>, depth: usize) -> Option<String> {
    if depth > 10 {
        return None;
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(r) = rest.strip_prefix("%%") {
            out.push('%');
            rest = r;
        } else if let Some(r) = rest.strip_prefix("%(") {
            let end = r.find(")s")?;
            let name = r[..end].to_lowercase();
            let v = opts.get(&name)?;
            out.push_str(&interpolate(v, opts, depth + 1)?);
            rest = &r[end + 2..];
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}
