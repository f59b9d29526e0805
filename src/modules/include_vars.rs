//! `include_vars`: loads variables from a YAML or JSON file (or every such file of a folder)
//! on the controller into the host's variables. Unlike `set_fact` results these are trusted
//! values from files beside the playbook, so Jinja inside them is rendered when they are read,
//! as Ansible does.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::args::Args;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{ArgError, Outcome};

#[derive(Debug)]
pub struct IncludeVars;

const PARAMS: &[&str] = &[
    "_raw_params",
    "file",
    "dir",
    "name",
    "depth",
    "files_matching",
    "ignore_files",
    "extensions",
    "ignore_unknown_extensions",
    "hash_behaviour",
];

static SPEC: Spec = Spec {
    name: "include_vars",
    aliases: &[],
    runs: Runs::Controller,
    free_form: true,
    params: Some(PARAMS),
    check_mode: true,
    about: "load variables from a file or folder on the controller",
};

impl Module for IncludeVars {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move {
            Ok(match include(cx) {
                Ok(o) => o,
                Err(e) => Outcome::failed(e.0),
            })
        })
    }
}

fn include(cx: &Cx<'_>) -> Result<Outcome, ArgError> {
    let a = Args::new("include_vars", &cx.args, PARAMS)?;
    let file = a.str(&["_raw_params", "file"])?;
    let dir = a.str(&["dir"])?;
    let files = match (file, dir) {
        (Some(_), Some(_)) => {
            return Err(ArgError(
                "You are mixing file only and dir only arguments, these are incompatible".into(),
            ));
        }
        (Some(f), None) => vec![find(cx, &f, false)?],
        (None, Some(d)) => {
            let root = find(cx, &d, true)?;
            let exts = match a.list(&["extensions"])? {
                e if e.is_empty() => vec!["yaml".into(), "yml".into(), "json".into()],
                e => e,
            };
            let ignore = a.list(&["ignore_files"])?;
            let matching = match a.str(&["files_matching"])? {
                Some(p) => Some(
                    regex::Regex::new(&p).map_err(|e| ArgError(format!("files_matching: {e}")))?,
                ),
                None => None,
            };
            let depth = a
                .str(&["depth"])?
                .map(|d| {
                    d.parse::<usize>()
                        .map_err(|_| ArgError("depth must be an integer".into()))
                })
                .transpose()?
                .unwrap_or(0);
            let ignore_unknown = a.bool(&["ignore_unknown_extensions"])?.unwrap_or(false);
            let mut out = Vec::new();
            walk(&root, 1, depth, &mut out).map_err(|e| ArgError(e.to_string()))?;
            let mut kept = Vec::new();
            for path in out {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if ignore.iter().any(|i| i == &name) {
                    continue;
                }
                if matching.as_ref().is_some_and(|re| !re.is_match(&name)) {
                    continue;
                }
                let ext = path
                    .extension()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if !exts.contains(&ext) {
                    if ignore_unknown {
                        continue;
                    }
                    return Err(ArgError(format!(
                        "{} does not have a valid extension: {}",
                        path.display(),
                        exts.join(", ")
                    )));
                }
                kept.push(path);
            }
            kept
        }
        (None, None) => return Err(ArgError("one of file or dir is required".into())),
    };
    let mut vars = Map::new();
    for path in &files {
        let parsed = crate::yaml::parse_file(path).map_err(|e| ArgError(e.to_string()))?;
        if parsed.root.is_null() {
            continue;
        }
        if parsed.root.as_map().is_none() {
            return Err(ArgError(format!(
                "{} must be stored as a dictionary/hash",
                path.display()
            )));
        }
        let loaded = crate::playbook::value::vars(&parsed.root, path, "a vars file")
            .map_err(|e| ArgError(e.to_string()))?;
        vars.extend(loaded);
    }
    let facts = match a.str(&["name"])? {
        Some(name) => {
            let mut m = Map::new();
            m.insert(name, Value::Object(vars));
            m
        }
        None => vars,
    };
    let included: Vec<Value> = files
        .iter()
        .map(|p| Value::String(p.display().to_string()))
        .collect();
    Ok(Outcome::changed(false)
        .with("ansible_facts", Value::Object(facts))
        .with("ansible_included_var_files", Value::Array(included)))
}

/// The file or folder `name`, searched as Ansible does: the role's `vars/`, the role, the
/// playbook's `vars/`, the playbook's folder.
fn find(cx: &Cx<'_>, name: &str, folder: bool) -> Result<PathBuf, ArgError> {
    let path = Path::new(name);
    let mut candidates = Vec::new();
    if path.is_absolute() {
        candidates.push(path.to_path_buf());
    } else {
        if let Some(role) = cx.role_path {
            candidates.push(role.join("vars").join(path));
            candidates.push(role.join(path));
        }
        candidates.push(cx.playbook_dir.join("vars").join(path));
        candidates.push(cx.playbook_dir.join(path));
    }
    candidates
        .into_iter()
        .find(|p| if folder { p.is_dir() } else { p.is_file() })
        .ok_or_else(|| {
            ArgError(format!(
                "Could not find or access '{name}' on the Ansible Controller."
            ))
        })
}

/// Every file under `dir`, sorted by name in each folder, down to `max` levels (0: all).
fn walk(dir: &Path, level: usize, max: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) = entries.into_iter().partition(|p| p.is_dir());
    out.extend(files);
    if max == 0 || level < max {
        for d in dirs {
            walk(&d, level + 1, max, out)?;
        }
    }
    Ok(())
}
