//! Roles: finding a role folder on the search path and loading its `tasks/`, `handlers/`,
//! `defaults/`, `vars/` and `meta/` (dependencies), once per folder.

use std::path::{Path, PathBuf};

use super::error::Error;
use super::load::{Context, Loader};
use super::model::{Origin, Role, Vars};
use super::value;
use crate::yaml::Node;

/// The file names Ansible tries for `main` in a role folder, in order.
const MAIN_NAMES: &[&str] = &["main.yml", "main.yaml", "main.json", "main"];

impl Loader {
    /// Finds and loads a role (and its dependencies); returns its key in the role table.
    pub(crate) fn load_role(&mut self, name: &str, used_at: &Origin) -> Result<PathBuf, Error> {
        let path = self.find_role(name).ok_or_else(|| {
            let searched: Vec<String> = self
                .roles_path
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            Error::at(
                &used_at.file,
                used_at.mark,
                format!("the role '{name}' was not found"),
            )
            .hint(format!("searched {}", searched.join(", ")))
        })?;
        if self.roles.contains_key(&path) {
            return Ok(path);
        }
        if self.loading.contains(&path) {
            return Err(Error::at(
                &used_at.file,
                used_at.mark,
                format!("role '{name}' depends on itself"),
            ));
        }
        self.loading.push(path.clone());
        let role = self.read_role(name, &path)?;
        self.loading.pop();
        self.roles.insert(path.clone(), role);
        Ok(path)
    }

    fn find_role(&self, name: &str) -> Option<PathBuf> {
        let direct = Path::new(name);
        if (direct.is_absolute() || name.contains('/')) && direct.is_dir() {
            return Some(direct.to_path_buf());
        }
        self.roles_path
            .iter()
            .map(|p| p.join(name))
            .find(|p| p.is_dir())
    }

    fn read_role(&mut self, name: &str, path: &Path) -> Result<Role, Error> {
        let mut role = Role {
            name: name.to_string(),
            path: path.to_path_buf(),
            defaults: Vars::new(),
            vars: Vars::new(),
            tasks: Vec::new(),
            handlers: Vec::new(),
            dependencies: Vec::new(),
            allow_duplicates: false,
        };
        if let Some(meta) = main_file(&path.join("meta")) {
            let root = self.yaml(&meta)?;
            if let Some(deps) = root.get("dependencies") {
                role.dependencies = self.role_uses(deps, &meta)?;
            }
            if let Some(dup) = root.get("allow_duplicates") {
                role.allow_duplicates = value::boolean(dup, &meta, "allow_duplicates")?;
            }
        }
        role.defaults = self.vars_dir(&path.join("defaults"))?;
        role.vars = self.vars_dir(&path.join("vars"))?;
        let ctx = Context {
            file: path.to_path_buf(),
            role: Some(path.to_path_buf()),
            handlers: false,
        };
        if let Some(tasks) = main_file(&path.join("tasks")) {
            role.tasks = self.tasks_file(&tasks, &ctx)?;
        }
        if let Some(handlers) = main_file(&path.join("handlers")) {
            role.handlers = self.tasks_file(
                &handlers,
                &Context {
                    handlers: true,
                    ..ctx
                },
            )?;
        }
        Ok(role)
    }

    /// `defaults/` or `vars/`: `main.yml` (or `.yaml`, `.json`, no extension), or a `main/`
    /// folder whose files merge in name order.
    fn vars_dir(&mut self, dir: &Path) -> Result<Vars, Error> {
        let mut out = Vars::new();
        if let Some(file) = main_file(dir) {
            out.extend(self.vars_file(&file)?);
        }
        let folder = dir.join("main");
        if folder.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
                .map_err(|e| Error::at(&folder, crate::yaml::Mark::START, e.to_string()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_vars_file(p))
                .collect();
            files.sort();
            for file in files {
                out.extend(self.vars_file(&file)?);
            }
        }
        Ok(out)
    }

    /// A file of variables: a mapping (or nothing).
    pub(crate) fn vars_file(&mut self, file: &Path) -> Result<Vars, Error> {
        let root: Node = self.yaml(file)?;
        value::vars(&root, file, "a vars file")
    }
}

fn is_vars_file(p: &Path) -> bool {
    p.is_file()
        && matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml" | "json") | None
        )
}

fn main_file(dir: &Path) -> Option<PathBuf> {
    MAIN_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}
