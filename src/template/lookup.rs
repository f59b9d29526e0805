//! Ansible's `lookup()`/`query()`/`q()` and the lookup plugins templates use: `vars`, `env`,
//! `file`, `fileglob`, `first_found`, `template`, `pipe`, `lines`, `items`, `dict`,
//! `sequence` and `password`, with ansible-core 2.19's result rules (`lookup` gives the one
//! item, or the items joined with commas; `query` and `wantlist=True` give the list) and its
//! `errors=strict|warn|ignore` option.
//!
//! Relative paths are searched in each folder of `ansible_search_path` (a variable the runner
//! sets, as Ansible does) or else `role_path` then `playbook_dir`: first `<folder>/files`
//! (`templates` for the template lookup), then the folder itself. Commands (`pipe`, `lines`)
//! run with `sh -c` in the playbook's folder on the controller, as Ansible runs them.

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::pyrepr::py_str;

pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", lookup);
    env.add_function("query", query);
    env.add_function("q", query);
}

fn fail(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn lookup(state: &State, name: &str, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let wantlist = kwargs
        .get::<Option<Value>>("wantlist")?
        .is_some_and(|v| v.is_true());
    invoke(state, name, &terms, &kwargs, wantlist)
}

fn query(state: &State, name: &str, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    invoke(state, name, &terms, &kwargs, true)
}

/// Runs a plugin and shapes its result as ansible-core's `_invoke_lookup` does.
fn invoke(
    state: &State,
    name: &str,
    terms: &[Value],
    kwargs: &Kwargs,
    wantlist: bool,
) -> Result<Value, Error> {
    for t in terms {
        super::filters::defined(t)?;
    }
    let errors = kwargs
        .get::<Option<String>>("errors")?
        .unwrap_or_else(|| "strict".into());
    if !matches!(errors.as_str(), "strict" | "warn" | "ignore") {
        return Err(fail(format!(
            "Invalid value {errors:?} for errors: must be one of strict, warn, ignore"
        )));
    }
    let plugin = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let result = run(state, plugin, terms, kwargs).and_then(|r| {
        kwargs.assert_all_used()?;
        Ok(r)
    });
    let items = match result {
        Ok(items) => items,
        // An unknown plugin is never hidden by errors=ignore: Ansible fails to load it.
        Err(e) if errors != "strict" && !is_unknown(&e) => {
            if errors == "warn" {
                // Templates have no warning channel to the run's report yet; Ansible prints
                // this warning on the controller's stderr too.
                #[allow(clippy::print_stderr)]
                {
                    eprintln!(
                        "[WARNING]: An error occurred while running the lookup plugin '{name}': {}",
                        super::error::describe(&e)
                    );
                }
            }
            return Ok(if wantlist {
                Value::from(Vec::<Value>::new())
            } else {
                Value::from(())
            });
        }
        Err(e) => {
            return Err(fail(format!(
                "The lookup plugin '{name}' failed: {}",
                super::error::describe(&e)
            )));
        }
    };
    if wantlist || items.is_empty() {
        return Ok(Value::from(items));
    }
    if items.len() == 1 {
        return Ok(items.into_iter().next().unwrap_or_default());
    }
    if items.iter().all(|v| v.kind() == ValueKind::String) {
        return Ok(Value::from(
            items.iter().map(py_str).collect::<Vec<_>>().join(","),
        ));
    }
    Ok(Value::from(items))
}

const UNKNOWN: &str = "hactl does not support the lookup plugin";

fn is_unknown(e: &Error) -> bool {
    e.detail().is_some_and(|d| d.starts_with(UNKNOWN))
}

fn term_str(t: &Value, plugin: &str) -> Result<String, Error> {
    match t.as_str() {
        Some(s) => Ok(s.to_string()),
        None if matches!(t.kind(), ValueKind::Number | ValueKind::Bool) => Ok(py_str(t)),
        None => Err(fail(format!(
            "the '{plugin}' lookup expects strings, got {}",
            super::filters::python_type(t)
        ))),
    }
}

fn run(state: &State, plugin: &str, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    match plugin {
        "vars" => {
            let default: Option<Value> = kwargs.get("default")?;
            terms
                .iter()
                .map(|t| {
                    let name = t.as_str().ok_or_else(|| {
                        fail(format!(
                            "Variable name must be 'str' not '{}'.",
                            super::filters::python_type(t)
                        ))
                    })?;
                    match state.lookup(name).filter(|v| !v.is_undefined()) {
                        Some(v) => Ok(v),
                        None => default
                            .clone()
                            .ok_or_else(|| fail(format!("No variable named '{name}' was found."))),
                    }
                })
                .collect()
        }
        "env" => {
            let default = kwargs
                .get::<Option<Value>>("default")?
                .unwrap_or_else(|| Value::from(""));
            terms
                .iter()
                .map(|t| {
                    let name = term_str(t, plugin)?;
                    Ok(std::env::var(&name).map_or_else(|_| default.clone(), Value::from))
                })
                .collect()
        }
        "file" => {
            let rstrip = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true);
            let lstrip = kwargs.get::<Option<bool>>("lstrip")?.unwrap_or(false);
            terms
                .iter()
                .map(|t| {
                    let term = term_str(t, plugin)?;
                    let path = find(state, "files", &term).ok_or_else(|| {
                        fail(format!(
                            "Unable to access the file '{term}'. File not found."
                        ))
                    })?;
                    let mut text = read(&path)?;
                    if lstrip {
                        text = text.trim_start().to_string();
                    }
                    if rstrip {
                        text = text.trim_end().to_string();
                    }
                    Ok(Value::from(text))
                })
                .collect()
        }
        "fileglob" => {
            let mut out = Vec::new();
            for t in terms {
                let term = term_str(t, plugin)?;
                let file = super::filters::basename(&term).to_string();
                let dirs: Vec<PathBuf> = if file != term {
                    let dir = super::filters::dirname(&term);
                    find_dir(state, &dir).into_iter().collect()
                } else {
                    search_path(state)
                        .into_iter()
                        .flat_map(|p| [p.join("files"), p])
                        .collect()
                };
                for dir in dirs {
                    let pattern = dir.join(&file).display().to_string();
                    let found: Vec<Value> = glob::glob(&pattern)
                        .map_err(|e| fail(format!("bad glob {term}: {e}")))?
                        .filter_map(Result::ok)
                        .filter(|p| p.is_file())
                        .map(|p| Value::from(p.display().to_string()))
                        .collect();
                    if !found.is_empty() {
                        out.extend(found);
                        break;
                    }
                }
            }
            Ok(out)
        }
        "first_found" => first_found(state, terms, kwargs),
        "template" => {
            let template_vars: Option<Value> = kwargs.get("template_vars")?;
            terms
                .iter()
                .map(|t| {
                    let term = term_str(t, plugin)?;
                    let path = find(state, "templates", &term).ok_or_else(|| {
                        fail(format!(
                            "the template file {term} could not be found for the lookup"
                        ))
                    })?;
                    render_template(state, &term, &path, template_vars.as_ref()).map(Value::from)
                })
                .collect()
        }
        "pipe" | "lines" => {
            let mut out = Vec::new();
            for t in terms {
                let cmd = py_str(t);
                let output = std::process::Command::new("/bin/sh")
                    .arg("-c")
                    .arg(&cmd)
                    .current_dir(base_dir(state))
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::inherit())
                    .output()
                    .map_err(|e| fail(format!("lookup_plugin.{plugin}({cmd}): {e}")))?;
                if !output.status.success() {
                    return Err(fail(format!(
                        "lookup_plugin.{plugin}({cmd}) returned {}",
                        output.status.code().unwrap_or(-1)
                    )));
                }
                let text = String::from_utf8(output.stdout)
                    .map_err(|e| fail(format!("lookup_plugin.{plugin}({cmd}): {e}")))?;
                if plugin == "pipe" {
                    out.push(Value::from(text.trim_end()));
                } else {
                    out.extend(
                        super::filters::py_splitlines(&text, false)
                            .into_iter()
                            .map(Value::from),
                    );
                }
            }
            Ok(out)
        }
        "items" => {
            let mut out = Vec::new();
            for t in terms {
                if t.kind() == ValueKind::Seq {
                    out.extend(t.try_iter()?);
                } else {
                    out.push(t.clone());
                }
            }
            Ok(out)
        }
        "list" => Ok(terms.to_vec()),
        "dict" => {
            let mut out = Vec::new();
            for t in terms {
                if t.kind() != ValueKind::Map {
                    return Err(fail(format!(
                        "the 'dict' lookup plugin expects a dictionary, got '{}' of type <class '{}'>)",
                        py_str(t),
                        super::filters::python_type(t)
                    )));
                }
                for k in t.try_iter()? {
                    let v = t.get_item(&k)?;
                    out.push(Value::from_pairs([
                        (Value::from("key"), k),
                        (Value::from("value"), v),
                    ]));
                }
            }
            Ok(out)
        }
        "sequence" => sequence(terms, kwargs),
        "password" => password(state, terms, kwargs),
        other => Err(fail(format!(
            "{UNKNOWN} '{other}' (it has vars, env, file, fileglob, first_found, template, pipe, lines, items, list, dict, sequence, password)"
        ))),
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read {}: {e}", path.display())))
}

/// Ansible's search path: `ansible_search_path`, else the role's folder then the playbook's.
fn search_path(state: &State) -> Vec<PathBuf> {
    if let Some(list) = state
        .lookup("ansible_search_path")
        .filter(|v| v.kind() == ValueKind::Seq)
    {
        if let Ok(items) = list.try_iter() {
            return items
                .filter_map(|v| v.as_str().map(PathBuf::from))
                .collect();
        }
    }
    let var = |name: &str| {
        state
            .lookup(name)
            .and_then(|v| v.as_str().map(PathBuf::from))
    };
    let mut out = Vec::new();
    out.extend(var("role_path"));
    out.extend(var("playbook_dir"));
    if out.is_empty() {
        out.extend(std::env::current_dir().ok());
    }
    out
}

/// The folder commands run in: the playbook's (Ansible's loader basedir).
fn base_dir(state: &State) -> PathBuf {
    state
        .lookup("playbook_dir")
        .and_then(|v| v.as_str().map(PathBuf::from))
        .or_else(|| search_path(state).into_iter().last())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A file `term` in `<folder>/<subdir>` or `<folder>` of the search path.
fn find(state: &State, subdir: &str, term: &str) -> Option<PathBuf> {
    let path = Path::new(term);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    search_path(state)
        .into_iter()
        .flat_map(|d| [d.join(subdir).join(term), d.join(term)])
        .find(|p| p.is_file())
}

fn find_dir(state: &State, term: &str) -> Option<PathBuf> {
    let path = Path::new(term);
    if path.is_absolute() {
        return path.is_dir().then(|| path.to_path_buf());
    }
    search_path(state)
        .into_iter()
        .flat_map(|d| [d.join("files").join(term), d.join(term)])
        .find(|p| p.is_dir())
}

/// Splits a files/paths option on its separators (`,;` for files, `,:;` for paths).
fn split_on(v: &Value, seps: &[char]) -> Result<Vec<String>, Error> {
    let items: Vec<Value> = match v.kind() {
        ValueKind::Seq => v.try_iter()?.collect(),
        ValueKind::None | ValueKind::Undefined => Vec::new(),
        _ => vec![v.clone()],
    };
    let mut out = Vec::new();
    for item in items {
        let s = item
            .as_str()
            .ok_or_else(|| fail("first_found expects strings for files and paths"))?;
        out.extend(
            s.split(seps)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from),
        );
    }
    Ok(out)
}

fn first_found(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let mut files = kwargs.get::<Option<Value>>("files")?;
    let mut paths = kwargs.get::<Option<Value>>("paths")?;
    let mut skip = kwargs
        .get::<Option<Value>>("skip")?
        .is_some_and(|v| v.is_true());
    let mut candidates = Vec::new();
    fn walk(
        t: &Value,
        files: &mut Option<Value>,
        paths: &mut Option<Value>,
        skip: &mut bool,
        out: &mut Vec<String>,
    ) -> Result<(), Error> {
        let list = match t.kind() {
            ValueKind::Map => {
                if let Some(f) = t.get_attr("files").ok().filter(|v| !v.is_undefined()) {
                    *files = Some(f);
                }
                if let Some(p) = t.get_attr("paths").ok().filter(|v| !v.is_undefined()) {
                    *paths = Some(p);
                }
                if let Some(s) = t.get_attr("skip").ok().filter(|v| !v.is_undefined()) {
                    *skip = s.is_true();
                }
                split_on(&files.clone().unwrap_or_default(), &[',', ';'])?
            }
            ValueKind::String => split_on(t, &[',', ';'])?,
            ValueKind::Seq => {
                for item in t.try_iter()? {
                    walk(&item, files, paths, skip, out)?;
                }
                return Ok(());
            }
            _ => {
                return Err(fail(format!(
                    "Invalid term supplied. A string, dict or list is required, not '{}').",
                    super::filters::python_type(t)
                )));
            }
        };
        let dirs = split_on(&paths.clone().unwrap_or_default(), &[',', ':', ';'])?;
        if dirs.is_empty() {
            out.extend(list);
        } else {
            for d in &dirs {
                for f in &list {
                    out.push(Path::new(d).join(f).display().to_string());
                }
            }
        }
        Ok(())
    }
    let terms: Vec<Value> = if terms.is_empty() {
        files.clone().into_iter().collect()
    } else {
        terms.to_vec()
    };
    for t in &terms {
        walk(t, &mut files, &mut paths, &mut skip, &mut candidates)?;
    }
    for c in &candidates {
        let p = Path::new(c);
        let found = if p.is_absolute() {
            p.exists().then(|| p.to_path_buf())
        } else {
            search_path(state)
                .into_iter()
                .map(|d| d.join(c))
                .find(|p| p.exists())
        };
        if let Some(path) = found {
            return Ok(vec![Value::from(normalize(&path))]);
        }
    }
    if skip {
        return Ok(Vec::new());
    }
    Err(fail("No file was found when using first_found."))
}

/// `os.path.normpath` of an absolute path (Ansible's `unfrackpath` without following links).
fn normalize(p: &Path) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.to_str().unwrap_or_default().split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn render_template(
    state: &State,
    term: &str,
    path: &Path,
    extra: Option<&Value>,
) -> Result<String, Error> {
    let text = read(path)?;
    let mut ctx: indexmap::IndexMap<Value, Value> = state
        .known_variables()
        .iter()
        .filter_map(|k| state.lookup(k).map(|v| (Value::from(k.as_ref()), v)))
        .collect();
    // The play's own ansible_managed is kept, as Ansible does.
    let managed = (!ctx.contains_key(&Value::from("ansible_managed")))
        .then_some(super::template_vars::DEFAULT_MANAGED);
    let task = super::template_vars::TaskPaths {
        src: term,
        dest: None,
    };
    let generated = super::template_vars::generate(Some(task), path, managed).map_err(fail)?;
    for (k, v) in generated {
        ctx.insert(Value::from(k), v);
    }
    if let Some(extra) = extra.filter(|e| e.kind() == ValueKind::Map) {
        for k in extra.try_iter()? {
            let v = extra.get_item(&k)?;
            ctx.insert(k, v);
        }
    }
    let ctx = Value::from_pairs(ctx);
    let body = super::source::prepare(&text, false);
    let name = path.display().to_string();
    let rendered = state
        .env()
        .template_from_named_str(&name, &body)
        .and_then(|t| t.render(&ctx))?;
    Ok(super::render::restore_trailing_newlines(&text, rendered))
}

/// `key=value` words of a term (Ansible's `parse_kv` for simple values).
fn parse_kv(term: &str) -> Result<Vec<(String, String)>, Error> {
    let words = shlex::split(term).ok_or_else(|| fail(format!("cannot parse {term:?}")))?;
    Ok(words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => ("_raw_params".into(), w),
        })
        .collect())
}

/// Python's `int(x, 0)`-like parsing used by the sequence lookup (decimal, 0x, 0o).
fn seq_int(s: &str) -> Result<i64, Error> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let n = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16)
    } else if let Some(o) = t.strip_prefix("0o") {
        i64::from_str_radix(o, 8)
    } else if t.len() > 1 && t.starts_with('0') && t.bytes().all(|b| b.is_ascii_digit()) {
        i64::from_str_radix(&t[1..], 8)
    } else {
        t.parse()
    }
    .map_err(|_| fail(format!("can't parse arg {s:?} as integer")))?;
    Ok(if neg { -n } else { n })
}

fn sequence(terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let mut base: Vec<(String, String)> = Vec::new();
    for k in ["start", "end", "stride", "count", "format"] {
        if let Some(v) = kwargs.get::<Option<Value>>(k)? {
            base.push((k.to_string(), py_str(&v)));
        }
    }
    let terms: Vec<Value> = if terms.is_empty() && !base.is_empty() {
        vec![Value::from("")]
    } else {
        terms.to_vec()
    };
    let mut out = Vec::new();
    for t in &terms {
        let term = py_str(t);
        let mut opts = base.clone();
        if let Some(short) = shortcut(&term) {
            opts.extend(short);
        } else if !term.trim().is_empty() {
            for (k, v) in parse_kv(&term)? {
                if !["start", "end", "stride", "count", "format"].contains(&k.as_str()) {
                    return Err(fail(format!(
                        "unrecognized arguments to with_sequence: ['{k}']"
                    )));
                }
                opts.push((k, v));
            }
        }
        let get = |k: &str| {
            opts.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        let start = get("start").map(|s| seq_int(&s)).transpose()?.unwrap_or(1);
        let stride = get("stride").map(|s| seq_int(&s)).transpose()?.unwrap_or(1);
        let format = get("format").unwrap_or_else(|| "%d".into());
        let end = match (get("count"), get("end")) {
            (None, None) => return Err(fail("must specify count or end in with_sequence")),
            (Some(_), Some(_)) => {
                return Err(fail("can't specify both count and end in with_sequence"));
            }
            (Some(c), None) => {
                let c = seq_int(&c)?;
                if c == 0 {
                    continue;
                }
                start + c * stride - 1
            }
            (None, Some(e)) => seq_int(&e)?,
        };
        if stride > 0 && end < start {
            return Err(fail("to count backwards make stride negative"));
        }
        if stride < 0 && end > start {
            return Err(fail("to count forward don't make stride negative"));
        }
        if stride == 0 {
            continue;
        }
        if format.matches('%').count() != 1 {
            return Err(fail(format!("bad formatting string: {format}")));
        }
        let adjust = if stride >= 0 { 1 } else { -1 };
        let mut i = start;
        while (stride > 0 && i < end + adjust) || (stride < 0 && i > end + adjust) {
            out.push(Value::from(super::pyformat::percent_format(
                &format,
                &[Value::from(i)],
            )?));
            i += stride;
        }
    }
    Ok(out)
}

/// The `[start-]end[/stride][:format]` shortcut (numbers may be hex).
fn shortcut(term: &str) -> Option<Vec<(String, String)>> {
    let (nums, format) = match term.split_once(':') {
        Some((n, f)) if !f.is_empty() => (n, Some(f)),
        Some(_) => return None,
        None => (term, None),
    };
    let (range, stride) = match nums.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (nums, None),
    };
    let (start, end) = match range.split_once('-') {
        Some((s, e)) => (Some(s), e),
        None => (None, range),
    };
    let is_num = |s: &str| {
        let s = s.to_ascii_lowercase();
        let s = s.strip_prefix('0').unwrap_or(&s);
        let s = s.strip_prefix('x').unwrap_or(s);
        !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()) || s.is_empty()
    };
    if !is_num(end) || end.is_empty() || !start.is_none_or(is_num) || !stride.is_none_or(is_num) {
        return None;
    }
    let mut out = vec![("end".to_string(), end.to_string())];
    if let Some(s) = start {
        out.push(("start".into(), s.to_string()));
    }
    if let Some(s) = stride {
        out.push(("stride".into(), s.to_string()));
    }
    if let Some(f) = format {
        out.push(("format".into(), f.to_string()));
    }
    Some(out)
}

/// The `password` lookup: reads the password stored at the path, or makes one from `chars`
/// of `length` and stores it there (`/dev/null`: made fresh each time, never stored).
fn password(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for t in terms {
        let term = py_str(t);
        let mut words = parse_kv(&term)?;
        let path = match words.iter().position(|(k, _)| k == "_raw_params") {
            Some(i) => words.remove(i).1,
            None => return Err(fail(format!("password lookup needs a path: {term}"))),
        };
        let mut opt = |k: &str| -> Result<Option<String>, Error> {
            if let Some(i) = words.iter().position(|(n, _)| n == k) {
                return Ok(Some(words.remove(i).1));
            }
            Ok(kwargs.get::<Option<Value>>(k)?.map(|v| py_str(&v)))
        };
        let length: usize = opt("length")?
            .map(|l| l.parse().map_err(|_| fail(format!("invalid length {l}"))))
            .transpose()?
            .unwrap_or(20);
        let chars = opt("chars")?;
        let encrypt = opt("encrypt")?;
        let _seed = opt("seed")?;
        if encrypt.is_some() {
            return Err(fail(
                "hactl's password lookup does not support encrypt= (it returns the plain password)",
            ));
        }
        if let Some((k, _)) = words.first() {
            return Err(fail(format!("Unrecognized value(s) for key(s) {k}")));
        }
        let path = if Path::new(&path).is_absolute() {
            PathBuf::from(&path)
        } else {
            base_dir(state).join(&path)
        };
        if path != Path::new("/dev/null") {
            if let Ok(content) = std::fs::read_to_string(&path) {
                let content = content.trim_end_matches(['\n', '\r']);
                let pw = content.split(" salt=").next().unwrap_or(content);
                let pw = pw.split(" ident=").next().unwrap_or(pw);
                out.push(Value::from(pw));
                continue;
            }
        }
        let alphabet = password_chars(chars.as_deref());
        let pw = random_text(&alphabet, length)?;
        if path != Path::new("/dev/null") {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
            }
            write_private(&path, &format!("{pw}\n"))?;
        }
        out.push(Value::from(pw));
    }
    Ok(out)
}

fn write_private(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))
}

/// The password alphabet: comma-separated names of Python's `string` constants or literal
/// text (`,,` is a comma); Ansible's default is letters, digits and `.,:-_`.
fn password_chars(spec: Option<&str>) -> Vec<char> {
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const DIGITS: &str = "0123456789";
    const PUNCT: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    let parts: Vec<String> = match spec {
        None => vec!["ascii_letters".into(), "digits".into(), ".,:-_".into()],
        Some(s) => {
            let s = s.replace(",,", "\u{0}");
            s.split(',').map(|p| p.replace('\u{0}', ",")).collect()
        }
    };
    let mut out = String::new();
    for p in parts {
        match p.as_str() {
            "ascii_letters" | "letters" => {
                out.push_str(LOWER);
                out.push_str(UPPER);
            }
            "ascii_lowercase" | "lowercase" => out.push_str(LOWER),
            "ascii_uppercase" | "uppercase" => out.push_str(UPPER),
            "digits" => out.push_str(DIGITS),
            "hexdigits" => out.push_str("0123456789abcdefABCDEF"),
            "octdigits" => out.push_str("01234567"),
            "punctuation" => out.push_str(PUNCT),
            other => out.push_str(other),
        }
    }
    out.chars().collect()
}

fn random_text(alphabet: &[char], len: usize) -> Result<String, Error> {
    use std::io::Read;
    if alphabet.is_empty() {
        return Err(fail("password lookup: empty chars"));
    }
    let mut f = std::fs::File::open("/dev/urandom")
        .map_err(|e| fail(format!("password lookup: no randomness: {e}")))?;
    let n = alphabet.len() as u32;
    // Rejection sampling keeps every character equally likely.
    let limit = u32::MAX - u32::MAX % n;
    let mut out = String::with_capacity(len);
    while out.chars().count() < len {
        let mut b = [0u8; 4];
        f.read_exact(&mut b)
            .map_err(|e| fail(format!("password lookup: no randomness: {e}")))?;
        let v = u32::from_le_bytes(b);
        if v < limit {
            out.push(alphabet[(v % n) as usize]);
        }
    }
    Ok(out)
}
