//! `hactl render`: every `template` task (and the `content:` of every `copy` task), loops
//! included, rendered for every targeted host into `DIR/<inventory_hostname>/<dest>`, without
//! touching any host. It walks plays the way a run would (roles and their dependencies,
//! blocks, `when`, `include_tasks`, `include_role`, `set_fact`), but runs nothing else.
//!
//! A `dest` is taken as a path under `DIR/<host>/` and never leaves it: `..` is resolved
//! first and a path that climbs out is refused, as is one that passes through a symlink to
//! somewhere outside DIR. Files get the task's `mode:` (octal or symbolic), else 0600 when
//! they look like they hold a secret (the lines `--diff` masks, or a private key), else the
//! default of a new file (0666 less the umask).

use std::collections::HashSet;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Component, Path, PathBuf};

use minijinja::Value;
use serde_json::{Map, Value as Json};

use super::context::{self, Dynamic, Facts, Scope, play_roles, play_vars};
use super::lookup;
use crate::inventory::Inventory;
use crate::inventory::pattern;
use crate::playbook::{Item, Play, Playbook, Role, RoleUse, Task, Vars};
use crate::template::{OMIT, PlayInfo, PlayVars, Templar, to_value};

/// What to render and where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write files under `out/<host>/`; `None` keeps them in [`Report::files`] instead.
    pub out: Option<PathBuf>,
    pub limit: Option<String>,
    pub extra_vars: Vars,
    pub facts: Facts,
    /// Render only the files whose destination path passes this test (`hactl lint` renders
    /// keepalived configs only, so a broken nginx template does not hide them).
    pub only: Option<fn(&str) -> bool>,
}

/// A file rendered in memory.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub host: String,
    /// The destination path on the host.
    pub dest: String,
    /// The task's `src`, when it has one.
    pub src: Option<String>,
    /// The task's `mode:` argument, as written (`0640`, `u=rw,g=r`), when it has one.
    pub mode: Option<String>,
    /// Which task wrote it: `task 'NAME' at FILE:LINE`.
    pub task: String,
    pub bytes: Vec<u8>,
}

/// What a render did: files written, and per-host errors (other hosts carry on).
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    /// With no `out` folder: the rendered files, in render order.
    pub files: Vec<Rendered>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Renders every template of `pb` for every host its plays target.
pub fn render(inv: &Inventory, pb: &Playbook, opts: &Options) -> Result<Report, anyhow::Error> {
    let templar = Templar::new();
    let mut report = Report::default();
    for play in &pb.plays {
        let selection = pattern::select(inv, &play.hosts, opts.limit.as_deref())?;
        report.warnings.extend(selection.warnings);
        let info = PlayInfo {
            hosts: selection.hosts.clone(),
            playbook_dir: pb.dir.display().to_string(),
            check_mode: false,
        };
        let pv = play_vars(inv, &opts.facts, &info);
        let roles = play_roles(pb, play);
        for host in &selection.hosts {
            let mut walk = Walk {
                pb,
                play,
                templar: &templar,
                pv: &pv,
                roles: &roles,
                host,
                opts,
                facts: Map::new(),
                play_layers: Vec::new(),
                done_roles: HashSet::new(),
                written: Vec::new(),
                files: Vec::new(),
            };
            match walk.play() {
                Ok(()) => {
                    report.written.extend(walk.written);
                    report.files.extend(walk.files);
                }
                Err(e) => report.errors.push(format!("{host}: {e:#}")),
            }
        }
    }
    Ok(report)
}

/// One host's walk through one play.
struct Walk<'a> {
    pb: &'a Playbook,
    play: &'a Play,
    templar: &'a Templar,
    pv: &'a PlayVars,
    roles: &'a [&'a Role],
    host: &'a str,
    opts: &'a Options,
    /// `set_fact` results so far.
    facts: Map<String, Json>,
    /// Play `vars` and `vars_files`, built once per host.
    play_layers: Vec<Value>,
    done_roles: HashSet<(PathBuf, String)>,
    written: Vec<PathBuf>,
    files: Vec<Rendered>,
}

impl<'a> Walk<'a> {
    fn play(&mut self) -> anyhow::Result<()> {
        let (pv, pb, roles, host) = (self.pv, self.pb, self.roles, self.host);
        let (facts, extra) = (&self.facts, &self.opts.extra_vars);
        self.play_layers = context::play_layers(self.templar, pb, self.play, host, |layers| {
            let dynamic = Dynamic {
                play_layers: layers,
                facts,
                extra_vars: extra,
                item: None,
            };
            context::task_context(pv, pb, roles, host, &Scope::default(), None, dynamic)
        })?;
        let root = Scope::default();
        self.items(&self.play.pre_tasks, &root)?;
        for role_use in &self.play.roles {
            self.role(role_use, &root)?;
        }
        self.items(&self.play.tasks, &root)?;
        self.items(&self.play.post_tasks, &root)
    }

    fn role(&mut self, role_use: &'a RoleUse, outer: &Scope<'a>) -> anyhow::Result<()> {
        let Some(role) = self.pb.roles.get(&role_use.path) else {
            anyhow::bail!("role '{}' was not loaded", role_use.name);
        };
        let key = (
            role.path.clone(),
            serde_json::to_string(&role_use.params).unwrap_or_default(),
        );
        if !role.allow_duplicates && !self.done_roles.insert(key) {
            return Ok(());
        }
        let mut scope = outer.clone();
        scope.when.extend(role_use.keywords.when.iter().cloned());
        scope.vars.push(to_value(&role_use.keywords.vars));
        for dep in &role.dependencies {
            self.role(dep, &scope)?;
        }
        scope.role = Some(role);
        scope.params = Some(&role_use.params);
        self.items(&role.tasks, &scope)
    }

    fn items(&mut self, items: &[Item], scope: &Scope<'a>) -> anyhow::Result<()> {
        for item in items {
            match item {
                Item::Block(b) => {
                    let mut inner = scope.clone();
                    inner.when.extend(b.keywords.when.iter().cloned());
                    inner.vars.push(to_value(&b.keywords.vars));
                    // A render runs nothing that can fail, so `rescue` never runs.
                    self.items(&b.block, &inner)?;
                    self.items(&b.always, &inner)?;
                }
                Item::Task(t) => self.task(t, scope)?,
            }
        }
        Ok(())
    }

    /// The variables `task` sees, with `item` set when looping.
    fn context(
        &self,
        scope: &Scope<'a>,
        task: Option<&Task>,
        item: Option<(&str, &Json)>,
    ) -> anyhow::Result<Value> {
        let dynamic = Dynamic {
            play_layers: &self.play_layers,
            facts: &self.facts,
            extra_vars: &self.opts.extra_vars,
            item,
        };
        context::task_context(
            self.pv, self.pb, self.roles, self.host, scope, task, dynamic,
        )
    }

    fn task(&mut self, task: &Task, scope: &Scope<'a>) -> anyhow::Result<()> {
        if !matches!(
            task.module.as_str(),
            "template" | "copy" | "set_fact" | "include_tasks" | "include_role" | "import_role"
        ) {
            return Ok(());
        }
        let at = |e: anyhow::Error| e.context(task_label(task));
        let items = self.loop_items(task, scope).map_err(at)?;
        let loop_var = task.loop_control.loop_var.as_deref().unwrap_or("item");
        match items {
            None => self.task_once(task, scope, None).map_err(at),
            Some(items) => {
                for item in &items {
                    self.task_once(task, scope, Some((loop_var, item)))
                        .map_err(at)?;
                }
                Ok(())
            }
        }
    }

    fn loop_items(&self, task: &Task, scope: &Scope<'a>) -> anyhow::Result<Option<Vec<Json>>> {
        let ctx = self.context(scope, Some(task), None)?;
        context::loop_items(self.templar, task, &ctx, self.host)
    }

    fn task_once(
        &mut self,
        task: &Task,
        scope: &Scope<'a>,
        item: Option<(&str, &Json)>,
    ) -> anyhow::Result<()> {
        let ctx = self.context(scope, Some(task), item)?;
        let conds = scope.when.iter().chain(task.keywords.when.iter());
        if !context::conditions_hold(self.templar, conds, &ctx, self.host)? {
            return Ok(());
        }
        let args = match self
            .template_json(&Json::Object(task.args.clone().into_iter().collect()), &ctx)?
        {
            Json::Object(m) => m,
            _ => Map::new(),
        };
        let args: Map<String, Json> = args
            .into_iter()
            .filter(|(_, v)| v.as_str() != Some(OMIT))
            .collect();
        let role_path = scope.role.map(|r| r.path.as_path());
        match task.module.as_str() {
            "template" | "copy" => {
                let (opts, src) = crate::modules::file_put::options(&task.module, &args)?;
                let dest = dest_path(&opts.dest, &opts.name);
                if self.opts.only.is_some_and(|only| !only(&dest)) {
                    return Ok(());
                }
                let content = lookup::put_content(
                    self.templar,
                    &task.module,
                    &args,
                    src.as_deref(),
                    role_path,
                    &self.pb.dir,
                    &ctx,
                    self.host,
                    false,
                )?;
                match content {
                    Some(bytes) => self.write(Rendered {
                        host: self.host.to_string(),
                        dest,
                        src,
                        mode: opts.mode,
                        task: task_label(task),
                        bytes,
                    }),
                    None => Ok(()),
                }
            }
            "set_fact" => {
                for (k, v) in args {
                    if k != "cacheable" {
                        self.facts.insert(k, v);
                    }
                }
                Ok(())
            }
            "include_tasks" => {
                let file = args
                    .get("_raw_params")
                    .or_else(|| args.get("file"))
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                let path = lookup::find(file, "tasks", role_path, &self.pb.dir, "tasks file")?;
                let (items, _) = crate::playbook::load_tasks_file(&path, role_path, &self.pb.dir)?;
                self.items(&items, scope)
            }
            _ => {
                let name = args.get("name").and_then(Json::as_str).unwrap_or_default();
                let Some(role) = self.pb.roles.values().find(|r| r.name == name) else {
                    anyhow::bail!("the role '{name}' was not found");
                };
                let mut inner = scope.clone();
                inner.role = Some(role);
                self.items(&role.tasks, &inner)
            }
        }
    }

    fn template_json(&self, value: &Json, ctx: &Value) -> anyhow::Result<Json> {
        context::template_json(self.templar, value, ctx, self.host)
    }

    /// Writes one rendered file under `DIR/<host>/`, or keeps it when there is no folder.
    fn write(&mut self, file: Rendered) -> anyhow::Result<()> {
        let Some(out) = &self.opts.out else {
            self.files.push(file);
            return Ok(());
        };
        let path = inside(out, self.host, &file.dest)?;
        let mode = file_mode(file.mode.as_deref(), &file.bytes);
        write_file(out, &path, &file.bytes, &mode)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        self.written.push(path);
        Ok(())
    }
}

/// `task 'NAME' at FILE:LINE`, as errors and lint findings name a task.
fn task_label(task: &Task) -> String {
    let name = task.name.clone().unwrap_or_else(|| task.module.clone());
    format!("task '{name}' at {}", task.origin)
}

/// Why a rendered file cannot be written where its task says.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("the host name {host:?} cannot be a folder name under {out}")]
    Host { host: String, out: String },
    #[error("dest {dest:?} leaves the output folder {folder} (render writes only inside it)")]
    Escapes { dest: String, folder: String },
    #[error("dest {dest:?} names no file")]
    Empty { dest: String },
    #[error(
        "dest {dest:?} goes through the symlink {link}, which points outside the output folder {out}"
    )]
    Symlink {
        dest: String,
        link: String,
        out: String,
    },
}

/// Where `dest` of `host` goes under `out`: `out/host/dest` with `.` and `..` resolved by
/// name, refused if it climbs out of `out/host` or passes through a symlink that leads out
/// of `out`. The last part may be a symlink: the file replaces it and does not follow it.
pub fn inside(out: &Path, host: &str, dest: &str) -> Result<PathBuf, PathError> {
    let mut host_parts = Path::new(host).components();
    match (host_parts.next(), host_parts.next()) {
        (Some(Component::Normal(_)), None) => {}
        _ => {
            return Err(PathError::Host {
                host: host.to_string(),
                out: out.display().to_string(),
            });
        }
    }
    let folder = out.join(host);
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in Path::new(dest).components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(PathError::Escapes {
                        dest: dest.to_string(),
                        folder: folder.display().to_string(),
                    });
                }
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    if parts.is_empty() {
        return Err(PathError::Empty {
            dest: dest.to_string(),
        });
    }
    // Symlinks already in the folder (from an earlier render, or planted) must stay inside.
    let real_out = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    let mut at = folder.clone();
    let dirs = std::iter::once(None).chain(parts[..parts.len() - 1].iter().map(Some));
    for part in dirs {
        if let Some(p) = part {
            at.push(p);
        }
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            break;
        };
        if meta.file_type().is_symlink() {
            let leads_in = std::fs::canonicalize(&at).is_ok_and(|t| t.starts_with(&real_out));
            if !leads_in {
                return Err(PathError::Symlink {
                    dest: dest.to_string(),
                    link: at.display().to_string(),
                    out: out.display().to_string(),
                });
            }
        }
    }
    let mut path = folder;
    path.extend(parts);
    Ok(path)
}

/// The mode a rendered file gets.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileMode {
    /// The task's `mode:`.
    Asked(String),
    /// 0600: the content looks secret.
    Private,
    /// What a new file gets: 0666 less the umask.
    Default,
}

fn file_mode(asked: Option<&str>, bytes: &[u8]) -> FileMode {
    match asked {
        Some(m) => FileMode::Asked(m.to_string()),
        None if crate::report::holds_secret(&String::from_utf8_lossy(bytes)) => FileMode::Private,
        None => FileMode::Default,
    }
}

/// Writes `bytes` to `path` through a new file beside it, renamed over it: the rename replaces
/// a symlink in the last place rather than writing through it, and the mode is set before any
/// byte is written, so a secret is never readable by others, not even for a moment.
fn write_file(out: &Path, path: &Path, bytes: &[u8], mode: &FileMode) -> anyhow::Result<()> {
    let parent = path.parent().unwrap_or(out);
    std::fs::create_dir_all(parent)?;
    // Belt and braces: whatever was created must have landed inside the output folder.
    let real_out = std::fs::canonicalize(out)?;
    if !std::fs::canonicalize(parent)?.starts_with(&real_out) {
        anyhow::bail!("{} is outside {}", parent.display(), out.display());
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(
        ".{}.hactl-render-{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> anyhow::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&tmp)?;
        let default = f.metadata()?.permissions().mode() & 0o7777;
        let want = match mode {
            FileMode::Asked(m) => parse_mode(m, default)?,
            FileMode::Private => 0o600,
            FileMode::Default => default,
        };
        f.set_permissions(std::fs::Permissions::from_mode(want))?;
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A `mode:` as chmod reads it: octal (`0640`, `640`), or symbolic (`u=rw,g=r,o=`, `a+x`)
/// applied to `base` (the mode a new file would get).
pub(crate) fn parse_mode(mode: &str, base: u32) -> anyhow::Result<u32> {
    let bad = || anyhow::anyhow!("mode {mode:?} is neither octal nor symbolic (like u=rw,g=r)");
    if !mode.is_empty() && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let m = u32::from_str_radix(mode, 8).map_err(|_| bad())?;
        return if m <= 0o7777 { Ok(m) } else { Err(bad()) };
    }
    let mut current = base;
    for clause in mode.split(',') {
        let who_end = clause.find(['+', '-', '=']).ok_or_else(bad)?;
        let who = &clause[..who_end];
        let mut mask = 0;
        for c in who.chars() {
            mask |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return Err(bad()),
            };
        }
        if who.is_empty() {
            mask = 0o7777;
        }
        let mut rest = &clause[who_end..];
        while let Some(op) = rest.chars().next() {
            let perms_end = rest[1..]
                .find(['+', '-', '='])
                .map_or(rest.len(), |i| i + 1);
            let mut bits = 0;
            for c in rest[1..perms_end].chars() {
                bits |= match c {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    // Execute if it is already executable by someone (a file is no folder).
                    'X' if current & 0o111 != 0 => 0o111,
                    'X' => 0,
                    's' => 0o6000,
                    't' => 0o1000,
                    _ => return Err(bad()),
                };
            }
            let bits = bits & mask;
            current = match op {
                '+' => current | bits,
                '-' => current & !bits,
                '=' => (current & !(mask & 0o0777)) | bits,
                _ => return Err(bad()),
            };
            rest = &rest[perms_end..];
        }
    }
    Ok(current)
}

/// Where a file goes: `dest`, or `dest/name` when `dest` is a folder (ends with `/`).
fn dest_path(dest: &str, name: &str) -> String {
    if dest.ends_with('/') || dest.is_empty() {
        format!("{dest}{name}")
    } else {
        dest.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_host_folder() {
        let out = Path::new("/nonexistent-hactl-render-out");
        let ok = |dest: &str| inside(out, "lb1", dest).map_err(|e| e.to_string());
        assert_eq!(
            ok("/etc/keepalived/keepalived.conf"),
            Ok(out.join("lb1/etc/keepalived/keepalived.conf"))
        );
        assert_eq!(ok("/etc/a/../b/./c"), Ok(out.join("lb1/etc/b/c")));
        assert_eq!(ok("relative/x"), Ok(out.join("lb1/relative/x")));
        for dest in [
            "../x",
            "/etc/../../x",
            "a/../../x",
            "/../../../../etc/passwd",
        ] {
            let err = ok(dest).expect_err(dest);
            assert!(err.contains(&format!("dest {dest:?} leaves")), "{err}");
        }
        assert!(ok("/").is_err() && ok("/etc/..").is_err());
        for host in ["..", ".", "a/b", ""] {
            assert!(inside(out, host, "/etc/x").is_err(), "{host:?}");
        }
    }

    #[test]
    fn modes_octal_and_symbolic() {
        assert_eq!(parse_mode("0640", 0o644).ok(), Some(0o640));
        assert_eq!(parse_mode("600", 0o644).ok(), Some(0o600));
        assert_eq!(parse_mode("u=rw,g=r,o=", 0o644).ok(), Some(0o640));
        assert_eq!(parse_mode("go-rwx", 0o644).ok(), Some(0o600));
        assert_eq!(parse_mode("a+x", 0o644).ok(), Some(0o755));
        assert_eq!(parse_mode("u+x,g+X", 0o640).ok(), Some(0o750));
        assert_eq!(
            parse_mode("o+X", 0o640).ok(),
            Some(0o640),
            "X needs an x already"
        );
        assert_eq!(parse_mode("u=rwx,go=rx", 0).ok(), Some(0o755));
        assert!(parse_mode("q=rw", 0o644).is_err());
        assert!(parse_mode("u=z", 0o644).is_err());
        assert!(parse_mode("77777", 0o644).is_err());
    }

    #[test]
    fn the_mode_follows_the_task_then_the_content() {
        assert_eq!(
            file_mode(Some("0644"), b"auth_pass x\n"),
            FileMode::Asked("0644".into())
        );
        assert_eq!(file_mode(None, b"  auth_pass x\n"), FileMode::Private);
        assert_eq!(file_mode(None, b"password: x\n"), FileMode::Private);
        assert_eq!(file_mode(None, b"worker_processes 2;\n"), FileMode::Default);
    }
}
