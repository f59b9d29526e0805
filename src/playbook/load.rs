//! Loading a playbook file: plays, their sections and roles, and the checks that need the whole
//! play (every `notify` names a handler).

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::error::Error;
use super::model::{Batch, Item, Keywords, Origin, Play, Playbook, Role, RoleUse};
use super::value::{self, boolean, string, string_list};
use crate::yaml::{self, Node, Yaml};

/// Play keywords besides the shared ones.
const PLAY_KEYWORDS: &[&str] = &[
    "hosts",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "fact_path",
    "vars_files",
    "vars_prompt",
    "roles",
    "handlers",
    "pre_tasks",
    "post_tasks",
    "tasks",
    "force_handlers",
    "max_fail_percentage",
    "serial",
    "strategy",
    "order",
];

/// A loaded playbook and the warnings loading it raised.
#[derive(Debug)]
pub struct Loaded {
    pub playbook: Playbook,
    pub warnings: Vec<String>,
}

/// Where a task list is being read from.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub file: PathBuf,
    /// The role the tasks belong to.
    pub role: Option<PathBuf>,
    /// Reading handlers, which also take `listen`.
    pub handlers: bool,
}

/// State while loading one playbook.
#[derive(Debug)]
pub(crate) struct Loader {
    pub dir: PathBuf,
    pub roles_path: Vec<PathBuf>,
    /// Where Ansible finds collections, to know a module hactl lacks from a misspelling.
    pub collections: Vec<PathBuf>,
    pub roles: IndexMap<PathBuf, Role>,
    /// Roles being loaded, to catch a dependency cycle.
    pub loading: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

/// Loads a file of tasks on its own (for `include_tasks`, which is decided while running).
pub fn load_tasks_file(
    path: &Path,
    role: Option<&Path>,
    dir: &Path,
) -> Result<(Vec<Item>, Vec<String>), Error> {
    let mut loader = Loader {
        dir: dir.to_path_buf(),
        roles_path: vec![dir.join("roles"), dir.to_path_buf()],
        collections: super::catalogue::search_paths(dir),
        roles: IndexMap::new(),
        loading: Vec::new(),
        warnings: Vec::new(),
    };
    let ctx = Context {
        file: path.to_path_buf(),
        role: role.map(Path::to_path_buf),
        handlers: false,
    };
    let items = loader.tasks_file(path, &ctx)?;
    Ok((items, loader.warnings))
}

/// Loads a playbook and every role and imported file it uses.
pub fn load(path: &Path) -> Result<Loaded, Error> {
    // `playbook_dir` is absolute in Ansible, and templates see it.
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
    let mut roles_path = vec![dir.join("roles")];
    if let Some(extra) = std::env::var_os("HACTL_ROLES_PATH") {
        roles_path.extend(std::env::split_paths(&extra));
    }
    // Ansible's roles_path (ANSIBLE_ROLES_PATH, ansible.cfg); an unreadable config was
    // reported by the command already.
    if let Some(configured) = crate::config::get()
        .ok()
        .and_then(|s| s.roles_path.as_ref())
    {
        roles_path.extend(configured.value.iter().cloned());
    }
    roles_path.push(dir.clone());
    let mut loader = Loader {
        dir: dir.clone(),
        roles_path,
        collections: super::catalogue::search_paths(&dir),
        roles: IndexMap::new(),
        loading: Vec::new(),
        warnings: Vec::new(),
    };
    let file = path.to_path_buf();
    let mut plays = Vec::new();
    loader.plays(&file, &mut plays, &mut Vec::new())?;
    for play in &plays {
        loader.check_notify(play)?;
    }
    Ok(Loaded {
        playbook: Playbook {
            path: file,
            dir,
            plays,
            roles: loader.roles,
        },
        warnings: loader.warnings,
    })
}

impl Loader {
    /// The plays of a playbook file, with those of the playbooks it imports in their place.
    /// `importing` is the chain of files being read, to catch an import cycle.
    fn plays(
        &mut self,
        file: &Path,
        out: &mut Vec<Play>,
        importing: &mut Vec<PathBuf>,
    ) -> Result<(), Error> {
        let canonical = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
        if importing.contains(&canonical) {
            return Err(Error::at(
                file,
                crate::yaml::Mark::START,
                format!(
                    "import_playbook recursion: {} imports itself through {}",
                    file.display(),
                    importing
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" -> ")
                ),
            ));
        }
        importing.push(canonical);
        let parsed = self.yaml(file)?;
        let entries = parsed.as_seq().ok_or_else(|| {
            Error::at(
                file,
                parsed.mark,
                format!("a playbook must be a list of plays, not {}", parsed.kind()),
            )
        })?;
        for entry in entries {
            let import = entry
                .get("import_playbook")
                .or_else(|| entry.get("ansible.builtin.import_playbook"));
            let Some(target) = import else {
                out.push(self.play(entry, file)?);
                continue;
            };
            self.import_playbook(entry, target, file, out, importing)?;
        }
        importing.pop();
        Ok(())
    }

    /// `- import_playbook: other.yml` (with `vars`, `tags` and `when` for its plays).
    fn import_playbook(
        &mut self,
        entry: &Node,
        target: &Node,
        file: &Path,
        out: &mut Vec<Play>,
        importing: &mut Vec<PathBuf>,
    ) -> Result<(), Error> {
        let name = string(target, file, "import_playbook")?;
        if name.contains("{{") {
            return Err(Error::at(
                file,
                target.mark,
                "import_playbook is static: its file name cannot use variables",
            ));
        }
        let base = file.parent().unwrap_or(Path::new("."));
        let path = base.join(&name);
        if !path.is_file() {
            return Err(Error::at(
                file,
                target.mark,
                format!("could not find the playbook '{name}' to import"),
            ));
        }
        let mut extra = Keywords::default();
        for (k, v) in entry.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or_default();
            match key {
                "import_playbook" | "ansible.builtin.import_playbook" | "name" => {}
                "vars" => extra.vars = value::vars(v, file, key)?,
                "tags" | "when" => self.keyword(&mut extra, key, v, file)?,
                _ => {
                    return Err(Error::at(
                        file,
                        k.mark,
                        format!("'{key}' is not a valid attribute for an import_playbook"),
                    ));
                }
            }
        }
        // Roles beside the imported playbook are found first for its plays.
        let roles_dir = path.parent().map(|d| d.join("roles"));
        if let Some(d) = &roles_dir {
            self.roles_path.insert(0, d.clone());
        }
        let mut imported = Vec::new();
        let loaded = self.plays(&path, &mut imported, importing);
        if roles_dir.is_some() {
            self.roles_path.remove(0);
        }
        loaded?;
        for mut play in imported {
            for (k, v) in &extra.vars {
                play.vars.entry(k.clone()).or_insert_with(|| v.clone());
            }
            play.keywords.tags.extend(extra.tags.iter().cloned());
            play.keywords.when.extend(extra.when.iter().cloned());
            out.push(play);
        }
        Ok(())
    }

    pub(crate) fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// Reads a YAML file, keeping its warnings.
    pub(crate) fn yaml(&mut self, path: &Path) -> Result<Node, Error> {
        let parsed = yaml::parse_file(path)?;
        for w in parsed.warnings {
            self.warnings.push(format!(
                "{}:{}:{}: {}",
                w.file.display(),
                w.mark.line,
                w.mark.col,
                w.message
            ));
        }
        Ok(parsed.root)
    }

    /// Reads a file that is a list of tasks.
    pub(crate) fn tasks_file(&mut self, path: &Path, ctx: &Context) -> Result<Vec<Item>, Error> {
        let root = self.yaml(path)?;
        let inner = Context {
            file: path.to_path_buf(),
            ..ctx.clone()
        };
        self.items(&root, &inner)
    }

    /// Finds an imported tasks file: in the role's `tasks/`, then next to the importing file,
    /// then next to the playbook.
    pub(crate) fn find_tasks_file(&self, name: &str, ctx: &Context) -> Option<PathBuf> {
        let mut candidates = Vec::new();
        if let Some(role) = &ctx.role {
            candidates.push(role.join("tasks").join(name));
        }
        if let Some(parent) = ctx.file.parent() {
            candidates.push(parent.join(name));
        }
        candidates.push(self.dir.join(name));
        candidates.into_iter().find(|p| p.is_file())
    }

    fn play(&mut self, node: &Node, file: &Path) -> Result<Play, Error> {
        if node.as_map().is_none() {
            return Err(Error::at(
                file,
                node.mark,
                format!("a play must be a mapping, not {}", node.kind()),
            ));
        }
        let hosts = node.get("hosts").ok_or_else(|| {
            Error::at(
                file,
                node.mark,
                "the field 'hosts' is required but was not set",
            )
        })?;
        let hosts = match &hosts.value {
            Yaml::Seq(items) => items
                .iter()
                .map(|i| string(i, file, "hosts"))
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            _ => string(hosts, file, "hosts")?,
        };
        let mut play = Play {
            name: hosts.clone(),
            hosts,
            keywords: Keywords::default(),
            gather_facts: true,
            gather: Default::default(),
            vars: Default::default(),
            vars_files: Vec::new(),
            roles: Vec::new(),
            pre_tasks: Vec::new(),
            tasks: Vec::new(),
            post_tasks: Vec::new(),
            handlers: Vec::new(),
            serial: Vec::new(),
            order: "inventory".into(),
            vars_prompt: Vec::new(),
            force_handlers: false,
            max_fail_percentage: None,
            origin: Origin {
                file: file.to_path_buf(),
                mark: node.mark,
            },
        };
        let ctx = Context {
            file: file.to_path_buf(),
            role: None,
            handlers: false,
        };
        for (k, v) in node.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or_default();
            match key {
                "hosts" => {}
                "name" => play.name = string(v, file, key)?,
                "gather_facts" => play.gather_facts = boolean(v, file, key)?,
                "gather_subset" => {
                    let mut spec = Vec::new();
                    for entry in string_list(v, file, key)? {
                        spec.extend(
                            entry
                                .split(',')
                                .map(str::trim)
                                .filter(|p| !p.is_empty())
                                .map(String::from),
                        );
                    }
                    literal(&spec.join(","), file, v, key)?;
                    crate::facts::subset::collectors(&spec)
                        .map_err(|e| Error::at(file, v.mark, e))?;
                    play.gather.subset = spec;
                }
                "gather_timeout" => {
                    let secs = v.as_i64().filter(|s| *s > 0).ok_or_else(|| {
                        Error::at(file, v.mark, "'gather_timeout' must be a positive integer")
                    })?;
                    play.gather.timeout = u64::try_from(secs).ok();
                }
                "fact_path" => {
                    let path = string(v, file, key)?;
                    literal(&path, file, v, key)?;
                    play.gather.fact_path = Some(path);
                }
                "vars" => play.vars = value::vars(v, file, key)?,
                "vars_files" => play.vars_files = vars_files(v, file)?,
                "roles" => play.roles = self.role_uses(v, file)?,
                "pre_tasks" => play.pre_tasks = self.items(v, &ctx)?,
                "tasks" => play.tasks = self.items(v, &ctx)?,
                "post_tasks" => play.post_tasks = self.items(v, &ctx)?,
                "handlers" => {
                    play.handlers = self.items(
                        v,
                        &Context {
                            handlers: true,
                            ..ctx.clone()
                        },
                    )?
                }
                "serial" => play.serial = serial(v, file)?,
                "order" => {
                    let order = string(v, file, key)?;
                    if !["inventory", "reverse_inventory", "sorted", "reverse_sorted"]
                        .contains(&order.as_str())
                    {
                        let msg = if order == "shuffle" {
                            "hactl does not shuffle hosts (order: shuffle); use inventory, \
                             reverse_inventory, sorted or reverse_sorted"
                                .to_string()
                        } else {
                            format!("'{order}' is not a valid order for a play")
                        };
                        return Err(Error::at(file, v.mark, msg));
                    }
                    play.order = order;
                }
                "vars_prompt" => play.vars_prompt = vars_prompt(v, file)?,
                "when" => {
                    return Err(Error::at(
                        file,
                        k.mark,
                        "'when' is not a valid attribute for a Play",
                    ));
                }
                "connection" => play.keywords.connection = Some(connection(v, file)?),
                "force_handlers" => play.force_handlers = boolean(v, file, key)?,
                "max_fail_percentage" => {
                    play.max_fail_percentage = Some(v.as_f64().ok_or_else(|| {
                        Error::at(file, v.mark, "'max_fail_percentage' must be a number")
                    })?);
                }
                "strategy" if v.as_str() != Some("linear") => self.warn(format!(
                    "{}:{}: hactl runs every play with the linear strategy",
                    file.display(),
                    v.mark.line
                )),
                _ if PLAY_KEYWORDS.contains(&key) => {}
                _ => {
                    let before = play.keywords.clone();
                    self.keyword(&mut play.keywords, key, v, file)?;
                    if play.keywords == before && !is_shared_keyword(key) {
                        let err = Error::at(
                            file,
                            k.mark,
                            format!("'{key}' is not a valid attribute for a Play"),
                        );
                        let mut all: Vec<&str> = PLAY_KEYWORDS.to_vec();
                        all.extend(super::task::shared_keywords());
                        return Err(match super::error::did_you_mean(key, &all) {
                            Some(s) => err.hint(format!("did you mean '{s}'?")),
                            None => err,
                        });
                    }
                }
            }
        }
        Ok(play)
    }

    /// Every `notify` in the play must name a handler or a `listen` topic.
    fn check_notify(&self, play: &Play) -> Result<(), Error> {
        let mut known: Vec<&str> = Vec::new();
        let mut handler_lists: Vec<&[Item]> = vec![&play.handlers];
        let mut task_lists: Vec<&[Item]> = vec![
            &play.pre_tasks,
            &play.tasks,
            &play.post_tasks,
            &play.handlers,
        ];
        for role in self.roles.values() {
            handler_lists.push(&role.handlers);
            task_lists.push(&role.tasks);
        }
        for list in handler_lists {
            walk(list, &mut |t| {
                if let Some(n) = &t.name {
                    known.push(n);
                }
                known.extend(t.listen.iter().map(String::as_str));
            });
        }
        let mut missing = None;
        for list in task_lists {
            walk(list, &mut |t| {
                for n in &t.notify {
                    let templated = n.contains("{{");
                    if !templated && !known.contains(&n.as_str()) && missing.is_none() {
                        missing = Some((t.origin.clone(), t.name.clone(), n.clone()));
                    }
                }
            });
        }
        match missing {
            None => Ok(()),
            Some((origin, task, handler)) => {
                let mut err = Error::at(
                    &origin.file,
                    origin.mark,
                    format!(
                        "notify names the handler '{handler}', but no handler has that name or listens to it"
                    ),
                );
                if let Some(s) = super::error::did_you_mean(&handler, &known) {
                    err = err.hint(format!("did you mean '{s}'?"));
                }
                Err(match task {
                    Some(t) => err.in_task(&t),
                    None => err,
                })
            }
        }
    }
}

/// A play's `connection`: a plugin name hactl has (ssh, smart, paramiko, local).
fn connection(v: &Node, file: &Path) -> Result<String, Error> {
    let name = string(v, file, "connection")?;
    if name.contains("{{") || name.contains("{%") {
        return Err(Error::at(
            file,
            v.mark,
            format!("connection '{name}' is a template; hactl reads it as written"),
        ));
    }
    match crate::transport::ConnectionKind::parse(name.trim()) {
        Some(_) => Ok(name.trim().to_string()),
        None => Err(Error::at(
            file,
            v.mark,
            format!("connection '{name}' is not supported"),
        )
        .hint(crate::transport::CONNECTIONS_HINT)),
    }
}

fn is_shared_keyword(key: &str) -> bool {
    super::task::shared_keywords().contains(&key)
}

/// Calls `f` on every task in a list, blocks included.
pub fn walk<'a>(items: &'a [Item], f: &mut impl FnMut(&'a super::model::Task)) {
    for item in items {
        match item {
            Item::Task(t) => f(t),
            Item::Block(b) => {
                walk(&b.block, f);
                walk(&b.rescue, f);
                walk(&b.always, f);
            }
        }
    }
}

fn serial(v: &Node, file: &Path) -> Result<Vec<Batch>, Error> {
    let one = |n: &Node| -> Result<Batch, Error> {
        match &n.value {
            Yaml::Int(i) if *i >= 0 => Ok(Batch::Count(i.unsigned_abs())),
            Yaml::Str(s) => {
                let t = s.trim();
                if let Some(p) = t.strip_suffix('%') {
                    p.trim().parse().map(Batch::Percent).ok()
                } else {
                    t.parse().map(Batch::Count).ok()
                }
                .ok_or_else(|| {
                    Error::at(
                        file,
                        n.mark,
                        format!("'serial' value '{s}' is not a number or a percentage"),
                    )
                })
            }
            _ => Err(Error::at(
                file,
                n.mark,
                "'serial' must be a number, a percentage or a list of them",
            )),
        }
    };
    match &v.value {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Seq(items) => items.iter().map(one).collect(),
        _ => Ok(vec![one(v)?]),
    }
}

impl Loader {
    /// The `roles:` of a play or the `dependencies:` of a role.
    pub(crate) fn role_uses(&mut self, v: &Node, file: &Path) -> Result<Vec<RoleUse>, Error> {
        let Some(entries) = v.as_seq() else {
            if v.is_null() {
                return Ok(Vec::new());
            }
            return Err(Error::at(
                file,
                v.mark,
                format!("'roles' must be a list, not {}", v.kind()),
            ));
        };
        let mut out = Vec::new();
        for entry in entries {
            out.push(self.role_use(entry, file)?);
        }
        Ok(out)
    }

    fn role_use(&mut self, entry: &Node, file: &Path) -> Result<RoleUse, Error> {
        let origin = Origin {
            file: file.to_path_buf(),
            mark: entry.mark,
        };
        let mut keywords = Keywords::default();
        let mut params = super::model::Vars::new();
        let name = match &entry.value {
            Yaml::Str(s) => s.clone(),
            Yaml::Map(pairs) => {
                let mut name = None;
                for (k, v) in pairs {
                    let key = k.as_str().unwrap_or_default();
                    match key {
                        "role" | "name" => name = Some(string(v, file, key)?),
                        _ if is_shared_keyword(key) => self.keyword(&mut keywords, key, v, file)?,
                        _ => {
                            params.insert(key.to_string(), value::value(v));
                        }
                    }
                }
                name.ok_or_else(|| {
                    Error::at(file, entry.mark, "a role entry needs 'role:' or 'name:'")
                })?
            }
            _ => {
                return Err(Error::at(
                    file,
                    entry.mark,
                    format!(
                        "a role entry must be a name or a mapping, not {}",
                        entry.kind()
                    ),
                ));
            }
        };
        let path = self.load_role(&name, &origin)?;
        Ok(RoleUse {
            name,
            path,
            params,
            keywords,
            origin,
        })
    }
}

/// `vars_files`: a file, or a list whose entries are files or lists of fallbacks.
fn vars_files(v: &Node, file: &Path) -> Result<Vec<Vec<String>>, Error> {
    match v.as_seq() {
        None => Ok(vec![vec![string(v, file, "vars_files")?]]),
        Some(items) => items
            .iter()
            .map(|i| match i.as_seq() {
                Some(_) => string_list(i, file, "vars_files"),
                None => string(i, file, "vars_files").map(|s| vec![s]),
            })
            .collect(),
    }
}

/// `vars_prompt`: each entry's `name` and `default`.
fn vars_prompt(v: &Node, file: &Path) -> Result<Vec<(String, Option<serde_json::Value>)>, Error> {
    let Some(items) = v.as_seq() else {
        return Err(Error::at(file, v.mark, "'vars_prompt' must be a list"));
    };
    items
        .iter()
        .map(|i| {
            let name = i
                .get("name")
                .ok_or_else(|| Error::at(file, i.mark, "a vars_prompt entry needs a name"))?;
            Ok((
                string(name, file, "name")?,
                i.get("default").map(value::value),
            ))
        })
        .collect()
}

/// Play keywords hactl reads before any variable exists: a template there is refused rather
/// than used as text.
fn literal(text: &str, file: &Path, node: &Node, key: &str) -> Result<(), Error> {
    if text.contains("{{") || text.contains("{%") {
        return Err(Error::at(
            file,
            node.mark,
            format!("hactl does not template the play keyword '{key}'; give it literally"),
        ));
    }
    Ok(())
}
