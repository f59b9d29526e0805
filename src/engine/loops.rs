//! A task's loop: `loop:` and the `with_*` lookups, turned into the list of items, and the
//! variables each item adds (`loop_control`: `loop_var`, `index_var`, `extended`).

use std::path::{Path, PathBuf};

use minijinja::Value;
use serde_json::{Map, Value as Json, json};

use crate::playbook::{Loop, Playbook, Task};
use crate::run::context::{self, Scope};
use crate::template::{Data, Templar, to_value};

/// The `with_*` forms hactl runs; the loader refuses any other.
pub const WITH_LOOKUPS: &[&str] = &[
    "items",
    "list",
    "flattened",
    "dict",
    "indexed_items",
    "together",
    "nested",
    "cartesian",
    "subelements",
    "sequence",
    "fileglob",
    "first_found",
    "lines",
    "file",
    "inventory_hostnames",
];

/// The loop's items, if the task loops.
pub fn items(
    templar: &Templar,
    pb: &Playbook,
    scope: &Scope<'_>,
    task: &Task,
    ctx: &Value,
    host: &str,
) -> anyhow::Result<Option<Vec<Json>>> {
    let Some(Loop::Items { lookup, value }) = &task.looping else {
        return Ok(None);
    };
    let rendered = context::template_json(templar, value, ctx, host)?;
    let role = scope.role.map(|r| r.path.as_path());
    let list = |v: Json| -> anyhow::Result<Vec<Json>> {
        match v {
            Json::Array(items) => Ok(items),
            other if lookup.is_none() => anyhow::bail!(
                "Invalid data passed to 'loop', it requires a list, got this instead: {other}. \
                 Hint: If you passed a list/dict of just one element, try adding wantlist=True \
                 to your lookup invocation or use q/query instead of lookup."
            ),
            other => Ok(vec![other]),
        }
    };
    let terms = || list(rendered.clone());
    Ok(Some(match lookup.as_deref() {
        None | Some("list") => terms()?,
        Some("items") => terms()?.into_iter().flat_map(flatten_one).collect(),
        Some("flattened") => {
            let mut out = Vec::new();
            flatten_all(Json::Array(terms()?), &mut out);
            out
        }
        Some("indexed_items") => terms()?
            .into_iter()
            .flat_map(flatten_one)
            .enumerate()
            .map(|(i, v)| json!([i, v]))
            .collect(),
        Some("dict") => match &rendered {
            Json::Object(m) => m
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect(),
            other => anyhow::bail!("with_dict expects a dict, got {other}"),
        },
        Some("together") => {
            let lists: Vec<Vec<Json>> = terms()?.into_iter().map(as_list).collect();
            let n = lists.iter().map(Vec::len).max().unwrap_or(0);
            (0..n)
                .map(|i| {
                    Json::Array(
                        lists
                            .iter()
                            .map(|l| l.get(i).cloned().unwrap_or(Json::Null))
                            .collect(),
                    )
                })
                .collect()
        }
        Some("nested" | "cartesian") => {
            let lists: Vec<Vec<Json>> = terms()?.into_iter().map(as_list).collect();
            let mut out: Vec<Vec<Json>> = vec![Vec::new()];
            for l in lists {
                out = out
                    .into_iter()
                    .flat_map(|prefix| {
                        l.iter().map(move |x| {
                            let mut p = prefix.clone();
                            p.push(x.clone());
                            p
                        })
                    })
                    .collect();
            }
            out.into_iter().map(Json::Array).collect()
        }
        Some("subelements") => subelements(terms()?)?,
        Some("sequence") => {
            let mut out = Vec::new();
            for t in terms()? {
                out.extend(sequence(t.as_str().unwrap_or_default())?);
            }
            out
        }
        Some("fileglob") => {
            let mut out = Vec::new();
            for t in terms()? {
                let pattern = t.as_str().unwrap_or_default();
                out.extend(fileglob(pattern, role, &pb.dir));
            }
            out
        }
        Some("first_found") => vec![first_found(&rendered, task, role, &pb.dir)?],
        Some("lines") => {
            let mut out = Vec::new();
            for t in terms()? {
                let cmd = t.as_str().unwrap_or_default();
                let run = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .current_dir(&pb.dir)
                    .output()?;
                if !run.status.success() {
                    anyhow::bail!(
                        "lookup_plugin.lines(\"{cmd}\") returned {}",
                        run.status.code().unwrap_or(-1)
                    );
                }
                out.extend(
                    String::from_utf8_lossy(&run.stdout)
                        .lines()
                        .map(|l| Json::String(l.to_string())),
                );
            }
            out
        }
        Some("file") => {
            let mut out = Vec::new();
            for t in terms()? {
                let name = t.as_str().unwrap_or_default();
                let path = crate::run::lookup::find(name, "files", role, &pb.dir, "file")?;
                let text = std::fs::read_to_string(&path)?;
                out.push(Json::String(text.trim_end_matches('\n').to_string()));
            }
            out
        }
        Some(other) => anyhow::bail!(
            "hactl does not support with_{other}; it runs with_{}",
            WITH_LOOKUPS.join(", with_")
        ),
    }))
}

fn flatten_one(v: Json) -> Vec<Json> {
    match v {
        Json::Array(inner) => inner,
        other => vec![other],
    }
}

fn flatten_all(v: Json, out: &mut Vec<Json>) {
    match v {
        Json::Array(items) => items.into_iter().for_each(|i| flatten_all(i, out)),
        other => out.push(other),
    }
}

fn as_list(v: Json) -> Vec<Json> {
    match v {
        Json::Array(a) => a,
        other => vec![other],
    }
}

/// `with_subelements: [LIST, 'key', {skip_missing: true}]`: each element paired with each
/// item of its `key` list.
fn subelements(terms: Vec<Json>) -> anyhow::Result<Vec<Json>> {
    let mut it = terms.into_iter();
    let (Some(list), Some(Json::String(key))) = (it.next(), it.next()) else {
        anyhow::bail!("subelements lookup expects a list, a key, and optionally a dict of flags");
    };
    let skip_missing = it
        .next()
        .and_then(|f| f.get("skip_missing").and_then(Json::as_bool))
        .unwrap_or(false);
    let elements = match list {
        Json::Array(a) => a,
        Json::Object(m) => m.into_values().collect(),
        other => anyhow::bail!("the first term of subelements must be a list, not {other}"),
    };
    let keys: Vec<&str> = key.split('.').collect();
    let mut out = Vec::new();
    for mut el in elements {
        // As Ansible's lookup: the last key is taken out of the element it pairs.
        let found = pop_path(&mut el, &keys);
        match found {
            Some(Json::Array(subs)) => {
                for s in subs {
                    out.push(json!([el.clone(), s]));
                }
            }
            Some(other) => anyhow::bail!("the key {key} should point to a list, got '{other}'"),
            None if skip_missing => {}
            None => anyhow::bail!("could not find '{key}' key in iterated item '{el}'"),
        }
    }
    Ok(out)
}

/// Removes and returns the value at `keys` (a path of mapping keys) from `v`.
fn pop_path(v: &mut Json, keys: &[&str]) -> Option<Json> {
    let (last, parents) = keys.split_last()?;
    let mut cur = v;
    for k in parents {
        cur = cur.get_mut(*k)?;
    }
    cur.as_object_mut()?.remove(*last)
}

/// `with_sequence: start=1 end=5 stride=1 format=web%02d` (or `count=N`, or `1-5/2`).
fn sequence(spec: &str) -> anyhow::Result<Vec<Json>> {
    let (mut start, mut end, mut stride, mut count, mut format) = (1i64, None, 1i64, None, None);
    let parse = |v: &str| -> anyhow::Result<i64> {
        let v = v.trim();
        if let Some(h) = v.strip_prefix("0x") {
            return Ok(i64::from_str_radix(h, 16)?);
        }
        if let Some(o) = v
            .strip_prefix("0o")
            .or_else(|| v.strip_prefix('0').filter(|r| !r.is_empty()))
        {
            return Ok(i64::from_str_radix(o, 8)?);
        }
        Ok(v.parse()?)
    };
    let words: Vec<&str> = spec.split_whitespace().collect();
    if words.len() == 1 && !words[0].contains('=') {
        // Short form: [start-]end[/stride][:format]
        let (rest, fmt) = match words[0].split_once(':') {
            Some((r, f)) => (r, Some(f.to_string())),
            None => (words[0], None),
        };
        format = fmt;
        let (range, st) = match rest.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (rest, None),
        };
        match range.split_once('-') {
            Some((a, b)) => {
                start = parse(a)?;
                end = Some(parse(b)?);
            }
            None => end = Some(parse(range)?),
        }
        if let Some(s) = st {
            stride = parse(s)?;
        }
    } else {
        for w in words {
            let Some((k, v)) = w.split_once('=') else {
                anyhow::bail!("can't parse arg {w} in sequence");
            };
            match k {
                "start" => start = parse(v)?,
                "end" => end = Some(parse(v)?),
                "stride" => stride = parse(v)?,
                "count" => count = Some(parse(v)?),
                "format" => format = Some(v.to_string()),
                _ => anyhow::bail!("unrecognized arguments to with_sequence: {k}"),
            }
        }
    }
    let end = match (end, count) {
        (Some(_), Some(_)) => anyhow::bail!("can't specify both count and end in with_sequence"),
        (Some(e), None) => e,
        (None, Some(0)) => return Ok(Vec::new()),
        (None, Some(c)) => start + (c - 1) * stride,
        (None, None) => anyhow::bail!("must specify count or end in with_sequence"),
    };
    if stride == 0 {
        return Ok(Vec::new());
    }
    if (stride > 0 && end < start) || (stride < 0 && end > start) {
        anyhow::bail!("to count backwards make stride negative");
    }
    let format = format.unwrap_or_else(|| "%d".to_string());
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(Json::String(printf_int(&format, i)));
        i += stride;
        if out.len() > 1_000_000 {
            anyhow::bail!("with_sequence gives more than 1,000,000 items");
        }
    }
    Ok(out)
}

/// `with_fileglob`: the files matching each pattern (relative patterns in the role's or the
/// playbook's `files/`), as absolute paths, sorted.
fn fileglob(pattern: &str, role: Option<&Path>, playbook_dir: &Path) -> Vec<Json> {
    let bases: Vec<PathBuf> = if Path::new(pattern).is_absolute() {
        vec![PathBuf::new()]
    } else {
        let mut b = Vec::new();
        if let Some(r) = role {
            b.push(r.join("files"));
            b.push(r.to_path_buf());
        }
        b.push(playbook_dir.join("files"));
        b.push(playbook_dir.to_path_buf());
        b
    };
    for base in bases {
        let full = base.join(pattern);
        let Ok(paths) = glob::glob(&full.to_string_lossy()) else {
            continue;
        };
        let mut found: Vec<String> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        if !found.is_empty() {
            found.sort();
            return found.into_iter().map(Json::String).collect();
        }
    }
    Vec::new()
}

/// `with_first_found`: the first file that exists, searched where Ansible searches for the
/// task's kind of file (`vars/` for include_vars, `templates/` for template, else `files/`).
fn first_found(
    terms: &Json,
    task: &Task,
    role: Option<&Path>,
    playbook_dir: &Path,
) -> anyhow::Result<Json> {
    let mut files: Vec<String> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut skip = false;
    let split = |s: &str| -> Vec<String> {
        s.split([',', ';'])
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    let mut add = |t: &Json| match t {
        Json::String(s) => files.push(s.clone()),
        Json::Object(m) => {
            for f in str_list(m.get("files")) {
                files.extend(split(&f));
            }
            for p in str_list(m.get("paths")) {
                paths.extend(split(&p));
            }
            skip |= m.get("skip").and_then(Json::as_bool).unwrap_or(false);
        }
        _ => {}
    };
    match terms {
        Json::Array(a) => a.iter().for_each(&mut add),
        other => add(other),
    }
    let sub = match crate::modules::registry::canonical(&task.module) {
        Some("include_vars") => "vars",
        Some("template") => "templates",
        _ => "files",
    };
    for f in &files {
        let fpath = Path::new(f);
        let mut candidates = Vec::new();
        if fpath.is_absolute() {
            candidates.push(fpath.to_path_buf());
        } else if !paths.is_empty() {
            for p in &paths {
                let p = Path::new(p);
                let base = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    role.unwrap_or(playbook_dir).join(p)
                };
                candidates.push(base.join(fpath));
            }
        } else {
            if let Some(r) = role {
                candidates.push(r.join(sub).join(fpath));
                candidates.push(r.join(fpath));
            }
            candidates.push(playbook_dir.join(sub).join(fpath));
            candidates.push(playbook_dir.join(fpath));
        }
        if let Some(found) = candidates.into_iter().find(|c| c.exists()) {
            return Ok(Json::String(found.display().to_string()));
        }
    }
    if skip {
        return Ok(Json::Array(Vec::new()));
    }
    anyhow::bail!(
        "No file was found when using first_found (searched for {})",
        files.join(", ")
    )
}

fn str_list(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// The variables one item adds: the loop variable, `index_var`, `ansible_loop_var`,
/// `ansible_index_var`, and with `extended` the `ansible_loop` dict. Data: never templated.
pub fn item_layer(task: &Task, item: &Json, index: usize, all: &[Json]) -> Value {
    let lc = &task.loop_control;
    let loop_var = lc.loop_var.as_deref().unwrap_or("item");
    let mut m = Map::new();
    m.insert(loop_var.to_string(), item.clone());
    m.insert("ansible_loop_var".into(), json!(loop_var));
    if let Some(iv) = &lc.index_var {
        m.insert(iv.clone(), json!(index));
        m.insert("ansible_index_var".into(), json!(iv));
    }
    if lc.extended {
        let n = all.len();
        let mut l = Map::new();
        l.insert("index".into(), json!(index + 1));
        l.insert("index0".into(), json!(index));
        l.insert("revindex".into(), json!(n - index));
        l.insert("revindex0".into(), json!(n - index - 1));
        l.insert("first".into(), json!(index == 0));
        l.insert("last".into(), json!(index + 1 == n));
        l.insert("length".into(), json!(n));
        l.insert("allitems".into(), Json::Array(all.to_vec()));
        if index > 0 {
            l.insert("previtem".into(), all[index - 1].clone());
        }
        if index + 1 < n {
            l.insert("nextitem".into(), all[index + 1].clone());
        }
        m.insert("ansible_loop".into(), Json::Object(l));
    }
    Data::layer(to_value(m))
}

/// Python's `format % number` for the one conversion `with_sequence` formats take (`%d`,
/// `%02d`, `%-3d`, `%x`, `%X`, `%o`, `%s`), with text around it and `%%`.
fn printf_int(format: &str, n: i64) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut done = false;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let (mut left, mut zero, mut width) = (false, false, 0usize);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' if width == 0 => zero = true,
                d if d.is_ascii_digit() => width = width * 10 + (d as usize - '0' as usize),
                _ => break,
            }
            chars.next();
        }
        let conv = chars.next().unwrap_or('d');
        let body = if done {
            String::new()
        } else {
            match conv {
                'x' => format!("{n:x}"),
                'X' => format!("{n:X}"),
                'o' => format!("{n:o}"),
                _ => n.to_string(),
            }
        };
        done = true;
        let pad = width.saturating_sub(body.chars().count());
        if left {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', pad));
        } else if zero {
            let (sign, digits) = body
                .strip_prefix('-')
                .map_or(("", body.as_str()), |d| ("-", d));
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', pad));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&body);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_as_ansible_counts_them() {
        let s = |spec: &str| -> Vec<String> {
            sequence(spec)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        assert_eq!(s("start=1 end=3"), ["1", "2", "3"]);
        assert_eq!(s("count=3 start=0 stride=2"), ["0", "2", "4"]);
        assert_eq!(s("start=1 end=2 format=web%02d"), ["web01", "web02"]);
        assert_eq!(s("4-8/2"), ["4", "6", "8"]);
        assert_eq!(s("2:host%x"), ["host1", "host2"]);
        assert_eq!(s("start=5 end=1 stride=-2"), ["5", "3", "1"]);
        assert!(sequence("start=5 end=1").is_err());
        assert!(s("count=0").is_empty());
    }

    #[test]
    fn python_int_formats() {
        assert_eq!(printf_int("%d", 7), "7");
        assert_eq!(printf_int("%03d", 7), "007");
        assert_eq!(printf_int("%-3d|", 7), "7  |");
        assert_eq!(printf_int("%x%%", 255), "ff%");
        assert_eq!(printf_int("%03d", -7), "-07");
    }

    #[test]
    fn subelements_pairs_each_element_with_its_items() {
        let terms = vec![
            json!([{"name": "a", "keys": [1, 2]}, {"name": "b"}]),
            json!("keys"),
            json!({"skip_missing": true}),
        ];
        let out = subelements(terms).unwrap_or_default();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1][1], json!(2));
        let strict = subelements(vec![json!([{"name": "b"}]), json!("keys")]);
        assert!(strict.is_err());
    }
}
