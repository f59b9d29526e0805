//! Turning inventory sources (files, folders, `host1,host2,` lists) into one [`Inventory`], the
//! way Ansible's `InventoryManager` does: which file is read by which parser, in which order a
//! folder is read, and the `group_vars/`/`host_vars/` next to each source.
//!
//! Where Ansible warns and skips a source it cannot parse, this returns an error: a silently
//! smaller inventory is worse than a stopped run (see COMPATIBILITY.md, "Inventory").

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::error::Error;
use super::{Host, Inventory, ini, varsfiles, yaml_inv};

/// An inventory and the warnings Ansible would have printed while reading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub inventory: Inventory,
    pub warnings: Vec<String>,
}

/// Where the inventory comes from: `-i` (all of them, in order), else `configured` (Ansible's
/// `inventory` setting: `ANSIBLE_INVENTORY`, else ansible.cfg), else `HACTL_INVENTORY`, else
/// `./inventory.ini`, else `./inventory/`.
pub fn resolve_sources(
    cli: &[PathBuf],
    configured: Option<&[PathBuf]>,
) -> Result<Vec<PathBuf>, Error> {
    if !cli.is_empty() {
        return Ok(cli.to_vec());
    }
    if let Some(paths) = configured.filter(|p| !p.is_empty()) {
        return Ok(paths.to_vec());
    }
    if let Some(env) = std::env::var_os("HACTL_INVENTORY").filter(|v| !v.is_empty()) {
        return Ok(vec![PathBuf::from(env)]);
    }
    for candidate in ["inventory.ini", "inventory"] {
        let path = PathBuf::from(candidate);
        if (candidate == "inventory.ini" && path.is_file()) || path.is_dir() {
            return Ok(vec![path]);
        }
    }
    Err(Error::NoInventory)
}

/// Reads every source into one inventory, then adds the `group_vars/` and `host_vars/` next to
/// each source.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, Error> {
    load_with_playbook_dir(paths, None)
}

/// As [`load`], plus the `group_vars/` and `host_vars/` of `playbook_dir`, which Ansible layers
/// just above the inventory's (`ansible-inventory` uses the current directory).
pub fn load_with_playbook_dir(
    paths: &[PathBuf],
    playbook_dir: Option<&Path>,
) -> Result<Loaded, Error> {
    let mut inv = Inventory::default();
    let mut warnings = Vec::new();
    let mut var_dirs = Vec::new();
    for source in paths {
        let text = source.to_string_lossy();
        if text.contains(',') && !source.exists() {
            host_list(&mut Builder::new(&mut inv, &mut warnings, None), &text)?;
            continue;
        }
        let abs = absolute(source);
        let meta = std::fs::metadata(&abs).map_err(|e| Error::io(source, e))?;
        if meta.is_dir() {
            load_dir(&mut inv, &mut warnings, &abs)?;
            var_dirs.push(abs);
        } else {
            load_file(&mut inv, &mut warnings, &abs)?;
            var_dirs.push(abs.parent().map(Path::to_path_buf).unwrap_or_default());
        }
    }
    reconcile(&mut inv)?;
    varsfiles::load(&mut inv, &var_dirs)?;
    if let Some(dir) = playbook_dir {
        varsfiles::load_play(&mut inv, dir)?;
    }
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    Ok(Loaded {
        inventory: inv,
        warnings,
    })
}

/// Parses INI inventory text as if it were the file `path` (which is not read), including the
/// final reconciliation but no `group_vars/`. For tests and fuzzing.
pub fn parse_ini(text: &str, path: &Path) -> Result<Loaded, Error> {
    let mut inv = Inventory::default();
    let mut warnings = Vec::new();
    ini::parse(
        &mut Builder::new(&mut inv, &mut warnings, Some(path)),
        path,
        text,
    )?;
    reconcile(&mut inv)?;
    Ok(Loaded {
        inventory: inv,
        warnings,
    })
}

/// Ansible's `unfrackpath(follow=False)`: absolute and normalised, symlinks kept.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Names Ansible skips in an inventory folder: hidden, `group_vars`/`host_vars`/`vars_plugins`,
/// and the extensions of `INVENTORY_IGNORE_EXTS`.
fn ignored(name: &str) -> bool {
    const EXTS: [&str; 12] = [
        ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg",
        ".retry",
    ];
    name.starts_with('.')
        || matches!(name, "host_vars" | "group_vars" | "vars_plugins")
        || EXTS.iter().any(|e| name.ends_with(e))
}

fn load_dir(inv: &mut Inventory, warnings: &mut Vec<String>, dir: &Path) -> Result<(), Error> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    for name in names.iter().filter(|n| !ignored(n)) {
        let path = dir.join(name);
        if path.is_dir() {
            load_dir(inv, warnings, &path)?;
        } else {
            load_file(inv, warnings, &path)?;
        }
    }
    Ok(())
}

/// One file: YAML first when the extension allows it (`.yml`, `.yaml`, `.json`, none), then INI,
/// keeping the first that parses, as Ansible's plugin chain does.
fn load_file(inv: &mut Inventory, warnings: &mut Vec<String>, path: &Path) -> Result<(), Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
    if ext.as_deref() == Some("toml") {
        return Err(Error::file(path, "TOML inventories are not supported"));
    }
    let yaml_first = matches!(ext.as_deref(), None | Some("yml" | "yaml" | "json"));
    let mut yaml_error = None;
    if yaml_first {
        // A failed attempt must not leave half a YAML inventory behind for the INI attempt.
        let mut attempt = inv.clone();
        let mut attempt_warnings = Vec::new();
        let result = yaml_inv::parse(
            &mut Builder::new(&mut attempt, &mut attempt_warnings, Some(path)),
            path,
        );
        match result {
            Ok(()) => {
                *inv = attempt;
                warnings.extend(attempt_warnings);
                return Ok(());
            }
            Err(e) => yaml_error = Some(e),
        }
    }
    let text = decode(path, &bytes)?;
    let mut attempt = inv.clone();
    let mut attempt_warnings = Vec::new();
    match ini::parse(
        &mut Builder::new(&mut attempt, &mut attempt_warnings, Some(path)),
        path,
        &text,
    ) {
        Ok(()) => {
            *inv = attempt;
            warnings.extend(attempt_warnings);
            Ok(())
        }
        // A file named like YAML failed as YAML: that error is the one the user needs.
        Err(ini_error) => match yaml_error {
            Some(y) if ext.is_some() => Err(y),
            _ => Err(ini_error),
        },
    }
}

/// UTF-8, except that undecodable comment lines are tolerated (Ansible issue 17593).
fn decode(path: &Path, bytes: &[u8]) -> Result<String, Error> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let mut out = String::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(l) => out.push_str(l),
            Err(_) if matches!(line.first(), Some(b'#' | b';')) => {}
            Err(_) => return Err(Error::parse(path, i + 1, "line is not valid UTF-8")),
        }
        out.push('\n');
    }
    Ok(out)
}

/// `-i 'web1,web2:2222,'`: Ansible's `host_list` plugin.
fn host_list(b: &mut Builder<'_>, text: &str) -> Result<(), Error> {
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let expanded =
            super::hostrange::expand(item).map_err(|m| Error::file(Path::new(text), m))?;
        for host in &expanded.hosts {
            b.add_host(host, "ungrouped", expanded.port)
                .map_err(|m| Error::file(Path::new(text), m))?;
        }
    }
    Ok(())
}

/// Ansible's `reconcile_inventory`: parentless groups go under `all`, hosts with no group into
/// `ungrouped`, and `ungrouped` loses hosts that have another group.
fn reconcile(inv: &mut Inventory) -> Result<(), Error> {
    let orphans: Vec<String> = inv
        .groups
        .values()
        .filter(|g| g.name != "all" && g.parents.is_empty())
        .map(|g| g.name.clone())
        .collect();
    for g in orphans {
        checked_add_child(inv, "all", &g).map_err(|m| Error::file(Path::new("inventory"), m))?;
    }
    let mut to_ungrouped = Vec::new();
    let mut from_ungrouped = Vec::new();
    for host in inv.hosts.values() {
        let others = host.groups.iter().any(|g| g != "all" && g != "ungrouped");
        if host.groups.iter().any(|g| g == "ungrouped") {
            if others {
                from_ungrouped.push(host.name.clone());
            }
        } else if !others {
            to_ungrouped.push(host.name.clone());
        }
    }
    let leaving: std::collections::HashSet<&String> = from_ungrouped.iter().collect();
    if let Some(g) = inv.groups.get_mut("ungrouped") {
        g.hosts.retain(|h| !leaving.contains(h));
    }
    for name in &from_ungrouped {
        if let Some(h) = inv.hosts.get_mut(name) {
            h.groups.retain(|g| g != "ungrouped");
        }
    }
    // These hosts have no group yet, so no membership check is needed.
    for name in to_ungrouped {
        if let Some(h) = inv.hosts.get_mut(&name) {
            h.groups.push("ungrouped".into());
        }
        if let Some(g) = inv.groups.get_mut("ungrouped") {
            g.hosts.push(name);
        }
    }
    Ok(())
}

/// `add_child` with Ansible's loop checks.
pub(crate) fn checked_add_child(
    inv: &mut Inventory,
    parent: &str,
    child: &str,
) -> Result<(), String> {
    if parent == child {
        return Err(format!("can't add group '{child}' to itself"));
    }
    let already = inv
        .groups
        .get(parent)
        .is_some_and(|p| p.children.iter().any(|c| c == child));
    if !already && inv.is_ancestor_or_self(child, parent) {
        return Err(format!(
            "Adding group '{child}' as child to '{parent}' creates a recursive dependency loop."
        ));
    }
    inv.add_child(parent, child);
    Ok(())
}

/// What a parser may do to the inventory: Ansible's `InventoryData` methods, with its side
/// effects (`inventory_file`, priorities, group name warnings).
#[derive(Debug)]
pub(crate) struct Builder<'a> {
    pub inv: &'a mut Inventory,
    warnings: &'a mut Vec<String>,
    source: Option<&'a Path>,
    /// (group, host) pairs already linked: `Inventory::add_host` checks membership with a
    /// linear scan, which is quadratic for a group of 10,000 hosts.
    members: std::collections::HashSet<(usize, usize)>,
}

impl<'a> Builder<'a> {
    pub fn new(
        inv: &'a mut Inventory,
        warnings: &'a mut Vec<String>,
        source: Option<&'a Path>,
    ) -> Self {
        let mut members = std::collections::HashSet::new();
        for (gi, g) in inv.groups.values().enumerate() {
            for h in &g.hosts {
                if let Some(hi) = inv.hosts.get_index_of(h) {
                    members.insert((gi, hi));
                }
            }
        }
        Builder {
            inv,
            warnings,
            source,
            members,
        }
    }

    pub fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    pub fn warn_all(&mut self, messages: impl IntoIterator<Item = String>) {
        self.warnings.extend(messages);
    }

    /// Ansible's `to_safe_group_name` with its default `never`: keep the name, but warn.
    pub fn safe_group_name(&mut self, name: &str) -> String {
        let mut chars = name.chars();
        let word = |c: char| c == '_' || c.is_alphanumeric();
        let bad_first = chars.next().is_some_and(|c| c.is_numeric() || !word(c));
        if bad_first || !name.chars().all(word) {
            self.warnings.push(
                "Invalid characters were found in group names but not replaced, use -vvvv to see details"
                    .into(),
            );
        }
        name.to_string()
    }

    pub fn add_group(&mut self, name: &str) {
        self.safe_group_name(name);
        self.inv.add_group(name);
    }

    pub fn add_child(&mut self, parent: &str, child: &str) -> Result<(), String> {
        checked_add_child(self.inv, parent, child)
    }

    /// Adds a host to `group`. A new host gets `ansible_port` (if a non-zero port was given),
    /// then `inventory_file` and `inventory_dir`, in that order, as Ansible sets them.
    pub fn add_host(&mut self, name: &str, group: &str, port: Option<u64>) -> Result<(), String> {
        if name.is_empty() {
            return Err("Invalid empty host name provided: ".into());
        }
        if !self.inv.groups.contains_key(group) {
            return Err(format!("Could not find group {group} in inventory"));
        }
        let is_new = !self.inv.hosts.contains_key(name);
        if is_new && self.inv.hosts.len() >= super::hostrange::MAX_HOSTS {
            return Err(format!(
                "the inventory would have more than {} hosts (the limit of one inventory; \
                 '{name}' is one too many)",
                super::hostrange::MAX_HOSTS
            ));
        }
        if is_new {
            self.inv.hosts.insert(
                name.to_string(),
                Host {
                    name: name.to_string(),
                    ..Host::default()
                },
            );
        }
        let gi = self.inv.groups.get_index_of(group).unwrap_or(usize::MAX);
        let hi = self.inv.hosts.get_index_of(name).unwrap_or(usize::MAX);
        if self.members.insert((gi, hi)) {
            if let Some(h) = self.inv.hosts.get_mut(name) {
                h.groups.push(group.to_string());
            }
            if let Some(g) = self.inv.groups.get_mut(group) {
                g.hosts.push(name.to_string());
            }
        }
        if is_new {
            if let Some(host) = self.inv.hosts.get_mut(name) {
                if let Some(port) = port.filter(|&p| p != 0) {
                    host.vars.insert("ansible_port".into(), Value::from(port));
                }
                let (file, dir) = match self.source {
                    Some(p) => (
                        Value::String(p.to_string_lossy().into_owned()),
                        Value::String(p.parent().unwrap_or(p).to_string_lossy().into_owned()),
                    ),
                    None => (Value::Null, Value::Null),
                };
                host.vars.insert("inventory_file".into(), file);
                host.vars.insert("inventory_dir".into(), dir);
            }
        }
        Ok(())
    }

    pub fn set_host_var(&mut self, host: &str, key: &str, value: Value) {
        if let Some(h) = self.inv.hosts.get_mut(host) {
            h.vars.insert(key.to_string(), value);
        }
    }

    /// Sets a group variable; `ansible_group_priority` becomes the group's priority instead.
    pub fn set_group_var(&mut self, group: &str, key: &str, value: Value) -> Result<(), String> {
        let Some(g) = self.inv.groups.get_mut(group) else {
            return Err(format!("Could not identify group or host named {group}"));
        };
        if key == "ansible_group_priority" {
            g.priority = Some(py_int(&value).ok_or_else(|| match &value {
                Value::String(s) => format!("invalid literal for int() with base 10: '{s}'"),
                other => format!("int() argument must be a string or a real number, not {other}"),
            })?);
        } else {
            g.vars.insert(key.to_string(), value);
        }
        Ok(())
    }
}

/// Python's `int(value)` for the values an inventory can hold.
fn py_int(value: &Value) -> Option<i64> {
    match value {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
