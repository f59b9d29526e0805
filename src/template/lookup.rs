//! Ansible's `lookup()`/`query()`/`q()` for the lookup plugins templates commonly use:
//! `fileglob`, `file`, `env`. Relative paths resolve against `role_path/files`, then
//! `playbook_dir/files`, then `playbook_dir`, as Ansible's search path does.

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", lookup);
    env.add_function("query", query);
    env.add_function("q", query);
}

fn lookup(state: &State, name: &str, terms: Rest<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let wantlist: bool = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    let values = run(state, name, &terms, &kwargs)?;
    kwargs.assert_all_used()?;
    if wantlist {
        return Ok(Value::from(values));
    }
    Ok(Value::from(values.join(",")))
}

fn query(state: &State, name: &str, terms: Rest<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let values = run(state, name, &terms, &kwargs)?;
    kwargs.assert_all_used()?;
    Ok(Value::from(values))
}

fn run(state: &State, name: &str, terms: &[String], kwargs: &Kwargs) -> Result<Vec<String>, Error> {
    let plugin = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    match plugin {
        "env" => {
            let default: Option<String> = kwargs.get("default")?;
            Ok(terms
                .iter()
                .map(|t| {
                    std::env::var(t)
                        .ok()
                        .or_else(|| default.clone())
                        .unwrap_or_default()
                })
                .collect())
        }
        "file" => {
            let rstrip: bool = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true);
            terms
                .iter()
                .map(|t| {
                    let path = search(state, t).ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!("could not locate file in lookup: {t}"),
                        )
                    })?;
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!("cannot read {}: {e}", path.display()),
                        )
                    })?;
                    Ok(if rstrip {
                        text.trim_end().to_string()
                    } else {
                        text
                    })
                })
                .collect()
        }
        "fileglob" => {
            let mut out = Vec::new();
            for term in terms {
                let pattern = if Path::new(term).is_absolute() {
                    term.clone()
                } else {
                    base_dirs(state)
                        .first()
                        .map(|d| d.join(term).display().to_string())
                        .unwrap_or_else(|| term.clone())
                };
                let mut found: Vec<String> = glob::glob(&pattern)
                    .map_err(|e| {
                        Error::new(ErrorKind::InvalidOperation, format!("bad glob {term}: {e}"))
                    })?
                    .filter_map(Result::ok)
                    .filter(|p| p.is_file())
                    .map(|p| p.display().to_string())
                    .collect();
                found.sort();
                out.extend(found);
            }
            Ok(out)
        }
        other => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "hactl does not support the lookup plugin '{other}' (it has env, file, fileglob)"
            ),
        )),
    }
}

/// The folders relative lookup paths are searched in.
fn base_dirs(state: &State) -> Vec<PathBuf> {
    let var = |name: &str| {
        state
            .lookup(name)
            .and_then(|v| v.as_str().map(PathBuf::from))
    };
    let mut out = Vec::new();
    if let Some(role) = var("role_path") {
        out.push(role.join("files"));
        out.push(role);
    }
    if let Some(pb) = var("playbook_dir") {
        out.push(pb.join("files"));
        out.push(pb);
    }
    out
}

fn search(state: &State, term: &str) -> Option<PathBuf> {
    let path = Path::new(term);
    if path.is_absolute() {
        return Some(path.to_path_buf());
    }
    base_dirs(state)
        .into_iter()
        .map(|d| d.join(term))
        .find(|p| p.is_file())
}
