//! `find` (ansible.builtin): files, folders or links under `paths` chosen by name (glob
//! patterns as Python's `fnmatch`, or Python regexes with `use_regex`; `excludes`), age,
//! size, mode and content, returning `files` (each with Ansible's stat-like dict), `matched`,
//! `examined`, `skipped_paths` and `msg` as the module does.
//!
//! The host lists the folders once with GNU `find` (find.sh); the controller walks the listing
//! as Python's `os.walk` does (each folder's files, then its subfolders, in directory order;
//! hidden entries skipped from matching but walked; `depth` and `limit` as the module counts
//! them) and filters. `contains` and `get_checksum` take a second round trip for the
//! candidate files only (find_read.sh); `contains` is a Python regex matched from the start
//! of each line (or searched in the whole file with `read_whole_file`). Refused rather than
//! approximated: `follow: true` (os.walk's lstat of followed links), a symbolic `mode`, an
//! `encoding` other than UTF-8.

use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, python_regex};
use super::protocol::{self, field};
use super::registry::{Cx, Unreachable};
use super::{ArgError, Outcome};

const SCRIPT: &str = include_str!("find.sh");
const READ_SH: &str = include_str!("find_read.sh");

const PARAMS: &[&str] = &[
    "paths",
    "name",
    "path",
    "patterns",
    "pattern",
    "excludes",
    "exclude",
    "contains",
    "read_whole_file",
    "file_type",
    "age",
    "age_stamp",
    "size",
    "recurse",
    "hidden",
    "follow",
    "get_checksum",
    "checksum_algorithm",
    "checksum",
    "checksum_algo",
    "use_regex",
    "depth",
    "mode",
    "exact_mode",
    "encoding",
    "limit",
];

/// A name filter: Python's `fnmatch` (translated to a regex) or `re.match`.
#[derive(Debug)]
struct Pattern(regex::Regex);

impl Pattern {
    fn matches(&self, name: &str) -> bool {
        // `re.match`: a match that starts at the beginning (the leftmost match does when any does).
        self.0.find(name).is_some_and(|m| m.start() == 0)
    }
}

/// Python's `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`, the whole name.
fn fnmatch_regex(pat: &str) -> Result<regex::Regex, String> {
    let chars: Vec<char> = pat.chars().collect();
    let mut re = String::from("(?s)^(?:");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    re.push_str("\\[");
                } else {
                    let mut set: String = chars[i..j].iter().collect();
                    i = j + 1;
                    let negate = set.starts_with('!');
                    if negate {
                        set.remove(0);
                    }
                    let body: String = set
                        .chars()
                        .map(|ch| match ch {
                            '\\' | '[' | '&' | '~' | '|' | '^' => format!("\\{ch}"),
                            _ => ch.to_string(),
                        })
                        .collect();
                    re.push('[');
                    if negate {
                        re.push('^');
                    }
                    re.push_str(&body);
                    re.push(']');
                }
            }
            _ => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push_str(")$");
    regex::Regex::new(&re).map_err(|e| format!("hactl cannot use the pattern '{pat}': {e}"))
}

#[derive(Debug, Clone)]
pub struct Params {
    paths: Vec<String>,
    patterns: Vec<String>,
    excludes: Vec<String>,
    use_regex: bool,
    contains: Option<String>,
    read_whole_file: bool,
    file_type: String,
    age: Option<i64>,
    age_stamp: String,
    size: Option<i64>,
    recurse: bool,
    hidden: bool,
    get_checksum: bool,
    algo: String,
    depth: Option<i64>,
    mode: Option<u32>,
    exact_mode: bool,
    limit: Option<i64>,
}

fn int(a: &Args<'_>, name: &str) -> Result<Option<i64>, ArgError> {
    match a.str(&[name])? {
        None => Ok(None),
        Some(s) => s.trim().parse::<i64>().map(Some).map_err(|_| {
            ArgError(format!(
                "argument '{name}' is of type str and we were unable to convert to int: \
                 invalid literal for int() with base 10: '{s}'"
            ))
        }),
    }
}

/// `age` (`-?N[smhdw]`) in seconds or `size` (`-?N[bkmgt]`) in bytes.
fn amount(text: &str, units: &[(char, i64)], what: &str) -> Result<i64, ArgError> {
    let t = text.to_lowercase();
    let (num, unit) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&t[..t.len() - 1], Some(c)),
        _ => (t.as_str(), None),
    };
    let digits = num.strip_prefix('-').unwrap_or(num);
    let factor = match unit {
        None => Some(1),
        Some(u) => units.iter().find(|(c, _)| *c == u).map(|(_, f)| *f),
    };
    match (
        digits.chars().all(|c| c.is_ascii_digit()) && !digits.is_empty(),
        factor,
    ) {
        (true, Some(f)) => num
            .parse::<i64>()
            .map(|n| n * f)
            .map_err(|_| ArgError(format!("failed to process {what}"))),
        _ => Err(ArgError(format!("failed to process {what}"))),
    }
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("find", args, PARAMS)?;
    let paths = a.list(&["paths", "name", "path"])?;
    if paths.is_empty() {
        return Err(ArgError("missing required arguments: paths".into()));
    }
    if a.bool(&["follow"])?.unwrap_or(false) {
        return Err(ArgError(
            "hactl's find does not support follow: true (Ansible reports followed links by \
             their own lstat, which hactl's listing does not give)"
                .into(),
        ));
    }
    if let Some(enc) = a.str(&["encoding"])? {
        if !matches!(
            enc.to_lowercase().replace('_', "-").as_str(),
            "utf-8" | "utf8"
        ) {
            return Err(ArgError(format!(
                "hactl's find reads contents as UTF-8 only, not encoding: {enc}"
            )));
        }
    }
    let mode = match args.get("mode").filter(|v| !v.is_null()) {
        None => None,
        Some(Value::String(s)) => Some(
            u32::from_str_radix(s, 8).map_err(|_| {
                ArgError(format!(
                    "hactl's find takes an octal mode, not the symbolic mode '{s}'"
                ))
            })? & 0o7777,
        ),
        Some(other) => {
            return Err(ArgError(format!(
                "argument 'mode' is not a string and conversion is not allowed, value is of \
                 type {}",
                match other {
                    Value::Number(n) if n.is_i64() => "int",
                    Value::Number(_) => "float",
                    Value::Bool(_) => "bool",
                    Value::Array(_) => "list",
                    _ => "dict",
                }
            )));
        }
    };
    let algo = a
        .str(&["checksum_algorithm", "checksum", "checksum_algo"])?
        .unwrap_or_else(|| "sha1".into());
    if !["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].contains(&algo.as_str()) {
        return Err(ArgError(format!(
            "value of checksum_algorithm must be one of: md5, sha1, sha224, sha256, sha384, \
             sha512, got: {algo}"
        )));
    }
    let age = match a.str(&["age"])? {
        None => None,
        Some(t) => Some(amount(
            &t,
            &[
                ('s', 1),
                ('m', 60),
                ('h', 3600),
                ('d', 86400),
                ('w', 604_800),
            ],
            "age",
        )?),
    };
    let size = match a.str(&["size"])? {
        None => None,
        Some(t) => Some(amount(
            &t,
            &[
                ('b', 1),
                ('k', 1024),
                ('m', 1024 * 1024),
                ('g', 1024 * 1024 * 1024),
                ('t', 1024_i64.pow(4)),
            ],
            "size",
        )?),
    };
    let limit = int(&a, "limit")?;
    if let Some(l) = limit {
        if l <= 0 {
            return Err(ArgError(format!(
                "limit cannot be {l} (use None for unlimited)"
            )));
        }
    }
    let use_regex = a.bool(&["use_regex"])?.unwrap_or(false);
    let mut patterns = a.list(&["patterns", "pattern"])?;
    if patterns.is_empty() {
        patterns.push(if use_regex { ".*" } else { "*" }.into());
    }
    Ok(Params {
        paths,
        patterns,
        excludes: a.list(&["excludes", "exclude"])?,
        use_regex,
        contains: a.str(&["contains"])?,
        read_whole_file: a.bool(&["read_whole_file"])?.unwrap_or(false),
        file_type: a
            .choice("file_type", &["any", "directory", "file", "link"])?
            .unwrap_or_else(|| "file".into()),
        age,
        age_stamp: a
            .choice("age_stamp", &["atime", "ctime", "mtime"])?
            .unwrap_or_else(|| "mtime".into()),
        size,
        recurse: a.bool(&["recurse"])?.unwrap_or(false),
        hidden: a.bool(&["hidden"])?.unwrap_or(false),
        get_checksum: a.bool(&["get_checksum"])?.unwrap_or(false),
        algo,
        depth: int(&a, "depth")?,
        mode,
        exact_mode: a.bool(&["exact_mode"])?.unwrap_or(true),
        limit,
    })
}

/// One entry of the listing.
#[derive(Debug, Clone)]
struct Entry {
    kind: char,
    followed: char,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    inode: u64,
    dev: u64,
    nlink: u64,
    atime: f64,
    mtime: f64,
    ctime: f64,
    user: String,
    group: String,
    name: String,
    children: Vec<usize>,
}

/// A path of the task as the host found it.
#[derive(Debug)]
enum Top {
    NotDir(String),
    Dir { path: String, children: Vec<usize> },
}

#[derive(Debug, Default)]
struct Listing {
    now: f64,
    tops: Vec<Top>,
    entries: Vec<Entry>,
}

fn parse_listing(stdout: &[u8]) -> Listing {
    let mut l = Listing::default();
    let mut tokens = stdout
        .split(|b| *b == 0)
        .map(|t| String::from_utf8_lossy(t).into_owned());
    while let Some(t) = tokens.next() {
        match t.as_str() {
            "T" => l.now = tokens.next().and_then(|v| v.parse().ok()).unwrap_or(0.0),
            "N" => l.tops.push(Top::NotDir(tokens.next().unwrap_or_default())),
            "P" => {
                let path = tokens.next().unwrap_or_default();
                let mut children = Vec::new();
                // stack[d - 1]: the last entry seen at depth d.
                let mut stack: Vec<usize> = Vec::new();
                for rec in tokens.by_ref() {
                    if rec == "E" {
                        break;
                    }
                    let f: Vec<&str> = rec.splitn(16, '|').collect();
                    if f.len() != 16 {
                        continue;
                    }
                    let n = |i: usize| f[i].parse::<u64>().unwrap_or(0);
                    let t = |i: usize| f[i].parse::<f64>().unwrap_or(0.0);
                    let depth = n(14) as usize;
                    let idx = l.entries.len();
                    l.entries.push(Entry {
                        kind: f[0].chars().next().unwrap_or('U'),
                        followed: f[1].chars().next().unwrap_or('U'),
                        mode: u32::from_str_radix(f[2], 8).unwrap_or(0),
                        uid: n(3),
                        gid: n(4),
                        size: n(5),
                        inode: n(6),
                        dev: n(7),
                        nlink: n(8),
                        atime: t(9),
                        mtime: t(10),
                        ctime: t(11),
                        // find prints the number for an id without a name; Python gives "".
                        user: if f[12] == f[3] {
                            String::new()
                        } else {
                            f[12].into()
                        },
                        group: if f[13] == f[4] {
                            String::new()
                        } else {
                            f[13].into()
                        },
                        name: f[15].into(),
                        children: Vec::new(),
                    });
                    if depth == 0 {
                        continue;
                    }
                    stack.truncate(depth - 1);
                    match stack.last() {
                        Some(parent) if depth > 1 => l.entries[*parent].children.push(idx),
                        _ => children.push(idx),
                    }
                    stack.push(idx);
                }
                l.tops.push(Top::Dir { path, children });
            }
            _ => {}
        }
    }
    l
}

/// Python's `posixpath.normpath`.
fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let initial = if p.starts_with("//") && !p.starts_with("///") {
        2
    } else if p.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        if c.is_empty() || c == "." {
            continue;
        }
        if c != ".." || (initial == 0 && parts.is_empty()) || parts.last() == Some(&"..") {
            parts.push(c);
        } else if !parts.is_empty() {
            parts.pop();
        }
    }
    let s = format!("{}{}", "/".repeat(initial), parts.join("/"));
    if s.is_empty() { ".".into() } else { s }
}

/// Python's `os.path.join` of two parts.
fn join(a: &str, b: &str) -> String {
    if b.starts_with('/') {
        b.into()
    } else if a.is_empty() || a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// The module's `statinfo` for one entry.
fn statinfo(e: &Entry) -> Map<String, Value> {
    let fmt = match e.kind {
        'd' => 0o040000,
        'c' => 0o020000,
        'b' => 0o060000,
        'f' => 0o100000,
        'p' => 0o010000,
        'l' => 0o120000,
        's' => 0o140000,
        _ => 0,
    };
    let m = e.mode;
    let bit = |b: u32| json!(m & b != 0);
    let mut s = Map::new();
    s.insert("mode".into(), json!(format!("{:04o}", m & 0o7777)));
    for (k, f) in [
        ("isdir", 0o040000),
        ("ischr", 0o020000),
        ("isblk", 0o060000),
        ("isreg", 0o100000),
        ("isfifo", 0o010000),
        ("islnk", 0o120000),
        ("issock", 0o140000),
    ] {
        s.insert(k.into(), json!(fmt == f));
    }
    s.insert("uid".into(), json!(e.uid));
    s.insert("gid".into(), json!(e.gid));
    s.insert("size".into(), json!(e.size));
    s.insert("inode".into(), json!(e.inode));
    s.insert("dev".into(), json!(e.dev));
    s.insert("nlink".into(), json!(e.nlink));
    s.insert("atime".into(), json!(e.atime));
    s.insert("mtime".into(), json!(e.mtime));
    s.insert("ctime".into(), json!(e.ctime));
    s.insert("gr_name".into(), json!(e.group));
    s.insert("pw_name".into(), json!(e.user));
    for (k, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        s.insert(k.into(), bit(b));
    }
    s
}

/// A match before `contains` and checksums: its path, its dict, and whether those apply.
struct Candidate {
    info: Map<String, Value>,
    path: String,
    needs_content: bool,
    needs_sum: bool,
}

struct Walk {
    candidates: Vec<Candidate>,
    examined: usize,
    skipped: Map<String, Value>,
    warnings: Vec<Value>,
    limit_reached: bool,
}

fn walk(p: &Params, l: &Listing, denied: &[String]) -> Result<Walk, String> {
    let compile = |pats: &[String]| -> Result<Vec<Pattern>, String> {
        pats.iter()
            .map(|s| {
                if p.use_regex {
                    python_regex(s, false, false)
                } else {
                    fnmatch_regex(s)
                }
                .map(Pattern)
            })
            .collect()
    };
    let patterns = compile(&p.patterns)?;
    let excludes = compile(&p.excludes)?;
    let name_ok = |name: &str| {
        patterns.iter().any(|pat| pat.matches(name)) && !excludes.iter().any(|e| e.matches(name))
    };
    let age_ok = |e: &Entry| match p.age {
        None => true,
        Some(age) => {
            let t = match p.age_stamp.as_str() {
                "atime" => e.atime,
                "ctime" => e.ctime,
                _ => e.mtime,
            };
            let d = l.now - t;
            if age >= 0 {
                d >= age as f64
            } else {
                d <= (-age) as f64
            }
        }
    };
    let size_ok = |e: &Entry| match p.size {
        None => true,
        Some(s) if s >= 0 => e.size as i64 >= s,
        Some(s) => e.size as i64 <= -s,
    };
    let mode_ok = |e: &Entry| match p.mode {
        None => true,
        Some(m) if p.exact_mode => e.mode & 0o7777 == m,
        Some(m) => e.mode & m != 0,
    };
    let mut w = Walk {
        candidates: Vec::new(),
        examined: 0,
        skipped: Map::new(),
        warnings: Vec::new(),
        limit_reached: false,
    };
    let limit = p.limit.map(|n| n as usize);
    for top in &l.tops {
        let (npath, children) = match top {
            Top::NotDir(path) => {
                let why = format!("'{path}' is not a directory");
                w.warnings.push(json!(format!(
                    "Skipped '{path}' path due to this access issue: {why}\n"
                )));
                w.skipped.insert(path.clone(), json!(why));
                continue;
            }
            Top::Dir { path, children } => (path, children),
        };
        let wpath_seps = format!("{}/", npath.trim_end_matches('/'))
            .matches('/')
            .count();
        // os.walk, top-down: (folder path, its entries).
        let mut queue: Vec<(String, &Vec<usize>)> = vec![(npath.clone(), children)];
        while let Some((root, kids)) = queue.pop() {
            if denied.contains(&root) {
                w.skipped.insert(
                    root.clone(),
                    json!(format!("[Errno 13] Permission denied: '{root}'")),
                );
                if !p.recurse {
                    break;
                }
                continue;
            }
            let (dirs, files): (Vec<usize>, Vec<usize>) =
                kids.iter().partition(|i| l.entries[**i].followed == 'd');
            w.examined += kids.len();
            let mut descend = true;
            for &i in files.iter().chain(dirs.iter()) {
                let e = &l.entries[i];
                let fsname = normpath(&join(&root, &e.name));
                if let Some(d) = p.depth.filter(|d| *d != 0) {
                    let depth = fsname.matches('/').count() as i64 - wpath_seps as i64 + 1;
                    if depth > d {
                        descend = false;
                        continue;
                    }
                }
                if e.name.starts_with('.') && !p.hidden {
                    continue;
                }
                let common = name_ok(&e.name) && age_ok(e) && mode_ok(e);
                let reg = e.kind == 'f';
                let take = match p.file_type.as_str() {
                    "any" => common && (!reg || size_ok(e)),
                    "directory" => e.kind == 'd' && common,
                    "file" => reg && common && size_ok(e),
                    _ => e.kind == 'l' && common,
                };
                if take {
                    let mut info = Map::new();
                    info.insert("path".into(), json!(fsname));
                    info.extend(statinfo(e));
                    w.candidates.push(Candidate {
                        info,
                        path: fsname,
                        needs_content: p.file_type == "file" && p.contains.is_some(),
                        needs_sum: reg && p.get_checksum,
                    });
                }
                // Without `contains` a candidate is a match: the limit counts it now.
                if p.contains.is_none() && limit == Some(w.candidates.len()) {
                    w.limit_reached = true;
                    break;
                }
            }
            if !p.recurse || w.limit_reached {
                break;
            }
            if descend {
                // Pushed in reverse so the first subfolder is walked first.
                for &i in dirs.iter().rev() {
                    let e = &l.entries[i];
                    if e.kind == 'd' {
                        queue.push((join(&root, &e.name), &e.children));
                    }
                }
            }
        }
        if w.limit_reached {
            break;
        }
    }
    Ok(w)
}

/// The folders `find` could not read, from its stderr (`find: 'PATH': Permission denied`).
fn denied(stderr: &[u8], l: &Listing) -> Vec<String> {
    let tops: Vec<&String> = l
        .tops
        .iter()
        .filter_map(|t| match t {
            Top::Dir { path, .. } => Some(path),
            Top::NotDir(_) => None,
        })
        .collect();
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("find: '")?;
            let path = rest.strip_suffix("': Permission denied")?;
            // find was given `TOP/`: give the path as os.walk joins it.
            let top = tops.iter().find(|t| {
                let base = format!("{}/", t.trim_end_matches('/'));
                path == base || path.starts_with(&base)
            })?;
            let base = format!("{}/", top.trim_end_matches('/'));
            let rel = path.strip_prefix(&base).unwrap_or_default();
            Some(if rel.is_empty() {
                (*top).clone()
            } else {
                join(top, rel)
            })
        })
        .collect()
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => {
            let mut o = Outcome::failed(e.0.clone());
            // The module returns the value it could not read with the message.
            for key in ["age", "size"] {
                if e.0 == format!("failed to process {key}") {
                    if let Some(v) = cx.args.get(key) {
                        o = o.with(key, v.clone());
                    }
                }
            }
            return Ok(o);
        }
    };
    let maxdepth = if !p.recurse {
        "1".to_string()
    } else {
        match p.depth.filter(|d| *d > 0) {
            // One level more: os.walk lists it (counted as examined) before the depth check.
            Some(d) => (d + 1).to_string(),
            None => String::new(),
        }
    };
    let paths: Vec<&str> = p.paths.iter().map(String::as_str).collect();
    let script = protocol::with_args(&assign(&[("maxdepth", &maxdepth)], SCRIPT), &paths);
    let Some(out) = cx.exec(&script, b"").await? else {
        return Ok(Outcome::offline(cx.module));
    };
    if !out.success() {
        return Ok(protocol::failed_from(&out, "find failed"));
    }
    let listing = parse_listing(&out.stdout);
    let denied = denied(&out.stderr, &listing);
    let mut w = match walk(&p, &listing, &denied) {
        Ok(w) => w,
        Err(msg) => return Ok(Outcome::failed(msg)),
    };
    let more: Vec<usize> = (0..w.candidates.len())
        .filter(|i| w.candidates[*i].needs_content || w.candidates[*i].needs_sum)
        .collect();
    let mut read = Vec::new();
    if !more.is_empty() {
        let names: Vec<&str> = more
            .iter()
            .map(|i| w.candidates[*i].path.as_str())
            .collect();
        let algo = if p.get_checksum { p.algo.as_str() } else { "" };
        let content = super::edit::flag(p.contains.is_some());
        let script = protocol::with_args(
            &assign(&[("algo", algo), ("content", content)], READ_SH),
            &names,
        );
        let Some(r) = cx.exec(&script, b"").await? else {
            return Ok(Outcome::offline(cx.module));
        };
        read = protocol::fields(&r.stdout);
    }
    let contains = match &p.contains {
        Some(c) => match python_regex(c, false, false) {
            Ok(r) => Some(r),
            Err(msg) => return Ok(Outcome::failed(msg)),
        },
        None => None,
    };
    let mut files = Vec::new();
    let mut limit_reached = w.limit_reached;
    for (i, c) in w.candidates.drain(..).enumerate() {
        let k = more.iter().position(|m| *m == i);
        if c.needs_content {
            let text = k
                .and_then(|k| protocol::field_b64(&read, &format!("data_{k}")))
                .unwrap_or_default();
            let hit = k.is_some_and(|k| field(&read, &format!("data_{k}")).is_some())
                && contains.as_ref().is_some_and(|re| {
                    if p.read_whole_file {
                        re.is_match(&text)
                    } else {
                        text.split_inclusive('\n')
                            .any(|line| re.find(line).is_some_and(|m| m.start() == 0))
                    }
                });
            if !hit {
                continue;
            }
        }
        let mut info = c.info;
        if c.needs_sum {
            if let Some(sum) = k.and_then(|k| field(&read, &format!("sum_{k}"))) {
                info.insert("checksum".into(), json!(sum));
            }
        }
        files.push(Value::Object(info));
        if p.limit.map(|n| n as usize) == Some(files.len()) {
            limit_reached = true;
            break;
        }
    }
    let msg = if !w.warnings.is_empty() {
        "Not all paths examined, check warnings for details"
    } else if limit_reached {
        "Limit of matches reached"
    } else {
        "All paths examined"
    };
    let matched = files.len();
    let mut o = Outcome::changed(false)
        .with("files", Value::Array(files))
        .with("msg", msg)
        .with("matched", matched)
        .with("examined", w.examined)
        .with("skipped_paths", Value::Object(w.skipped));
    if !w.warnings.is_empty() {
        o = o.with("warnings", Value::Array(w.warnings));
    }
    Ok(o)
}

#[derive(Debug)]
pub struct Find;

impl super::registry::Module for Find {
    fn spec(&self) -> &'static super::registry::Spec {
        static SPEC: super::registry::Spec = super::registry::Spec {
            name: "find",
            aliases: &[],
            runs: super::registry::Runs::Host,
            free_form: false,
            params: Some(PARAMS),
            check_mode: true,
            about: "files chosen by name, age, size, mode or content",
        };
        &SPEC
    }

    fn run<'a>(
        &'a self,
        cx: &'a mut Cx<'_>,
    ) -> futures::future::BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}
