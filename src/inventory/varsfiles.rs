//! `group_vars/` and `host_vars/` next to each inventory source, found and merged as Ansible's
//! `host_group_vars` vars plugin does: `NAME`, `NAME.yml`, `NAME.yaml` or `NAME.json` (the first
//! that exists wins), or a folder `NAME/` whose files (no extension or one of those three,
//! not hidden, not ending in `~`) are read recursively in sorted order.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::Error;
use super::{Inventory, Vars};
use crate::yaml;

const EXTENSIONS: [&str; 3] = [".yml", ".yaml", ".json"];

/// Loads the vars files of every group and host, one source folder at a time.
pub(crate) fn load(inv: &mut Inventory, dirs: &[PathBuf]) -> Result<(), Error> {
    let n = dirs.len();
    for group in inv.groups.values_mut() {
        group.file_vars = vec![Vars::new(); n];
    }
    for (i, dir) in dirs.iter().enumerate() {
        let base = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        if let Some(listing) = Listing::read(&base.join("group_vars"))? {
            for group in inv.groups.values_mut() {
                merge_files(&mut group.file_vars[i], &listing.find(&group.name)?)?;
            }
        }
        if let Some(listing) = Listing::read(&base.join("host_vars"))? {
            for host in inv.hosts.values_mut() {
                merge_files(&mut host.file_vars, &listing.find(&host.name)?)?;
            }
        }
    }
    Ok(())
}

/// Loads `group_vars/` and `host_vars/` of `dir` (a playbook folder) into `play_vars`.
pub(crate) fn load_play(inv: &mut Inventory, dir: &Path) -> Result<(), Error> {
    let base = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if let Some(listing) = Listing::read(&base.join("group_vars"))? {
        for group in inv.groups.values_mut() {
            merge_files(&mut group.play_vars, &listing.find(&group.name)?)?;
        }
    }
    if let Some(listing) = Listing::read(&base.join("host_vars"))? {
        for host in inv.hosts.values_mut() {
            merge_files(&mut host.play_vars, &listing.find(&host.name)?)?;
        }
    }
    Ok(())
}

/// The names in one `group_vars`/`host_vars` folder, read once so that 10,000 hosts cost
/// 10,000 set lookups rather than 40,000 `stat` calls.
struct Listing {
    dir: PathBuf,
    names: HashSet<String>,
}

impl Listing {
    fn read(dir: &Path) -> Result<Option<Listing>, Error> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            // Ansible warns "Found group_vars that is not a directory, skipping"; so do we.
            Err(_) if dir.exists() && !dir.is_dir() => return Ok(None),
            Err(e) => return Err(Error::io(dir, e)),
        };
        let names = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        Ok(Some(Listing {
            dir: dir.to_path_buf(),
            names,
        }))
    }

    /// Ansible's `find_vars_files`: the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json`.
    fn find(&self, name: &str) -> Result<Vec<PathBuf>, Error> {
        // Names that are paths (`/chroot/x`) are skipped by Ansible.
        if name.starts_with('/') {
            return Ok(Vec::new());
        }
        for ext in std::iter::once("").chain(EXTENSIONS) {
            let candidate = format!("{name}{ext}");
            if !self.names.contains(&candidate) {
                continue;
            }
            let path = self.dir.join(&candidate);
            if path.is_dir() {
                let mut found = Vec::new();
                dir_files(&path, &mut found)?;
                return Ok(found);
            }
            return Ok(vec![path]);
        }
        Ok(Vec::new())
    }
}

/// Python's `os.path.splitext(name)[1]`.
fn py_ext(name: &str) -> &str {
    let stem_start = name.len() - name.trim_start_matches('.').len();
    match name[stem_start..].rfind('.') {
        Some(i) => &name[stem_start + i..],
        None => "",
    }
}

fn dir_files(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), Error> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    for name in names
        .iter()
        .filter(|n| !n.starts_with('.') && !n.ends_with('~'))
    {
        let path = dir.join(name);
        let ext = py_ext(name);
        if path.is_dir() {
            if ext.is_empty() {
                dir_files(&path, found)?;
            }
        } else if path.is_file() && (ext.is_empty() || EXTENSIONS.contains(&ext)) {
            found.push(path);
        }
    }
    Ok(())
}

/// Reads each file and merges its top-level keys over `into`; empty files are ignored.
fn merge_files(into: &mut Vars, files: &[PathBuf]) -> Result<(), Error> {
    for file in files {
        let parsed = yaml::parse_file(file)?;
        match super::yaml_inv::node_value(&parsed.root) {
            Value::Object(map) => into.extend(map),
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            Value::Array(a) if a.is_empty() => {}
            Value::Bool(false) => {}
            other => {
                let kind = match other {
                    Value::Array(_) => "list",
                    Value::String(_) => "str",
                    Value::Bool(_) => "bool",
                    _ => "number",
                };
                return Err(Error::file(
                    file,
                    format!(
                        "Could not process file: expected a mapping of variables, got a {kind}"
                    ),
                ));
            }
        }
    }
    Ok(())
}
