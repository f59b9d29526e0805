//! The variables a task sees on a host, layered in Ansible's order of precedence, and the
//! inventory-wide pieces (`hostvars`, `groups`) built once per play.
//!
//! Lowest to highest: role defaults, inventory variables (with facts above them), play `vars`,
//! `vars_files`, role `vars` and parameters, block `vars`, task `vars`, `set_fact`/`register`,
//! extra vars; the magic variables sit on top.

use std::collections::BTreeSet;
use std::path::Path;

use indexmap::IndexMap;
use minijinja::Value;
use serde_json::Map;

use crate::inventory::Inventory;
use crate::inventory::pattern::group_hosts;
use crate::playbook::{Playbook, Role, Vars};
use crate::template::{Data, HostInfo, PlayInfo, PlayVars, to_value};

/// Per-host facts, from gathering or from `--facts DIR`.
pub type Facts = IndexMap<String, Map<String, serde_json::Value>>;

/// Reads `DIR/<host>.json` files: either Ansible's `setup` output (`{"ansible_facts": ...}`) or
/// a plain mapping of facts.
pub fn load_facts_dir(dir: &Path) -> anyhow::Result<Facts> {
    let mut out = Facts::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the facts folder {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))?;
        let facts = json.get("ansible_facts").cloned().unwrap_or(json);
        let serde_json::Value::Object(map) = facts else {
            anyhow::bail!("{}: facts must be a JSON object", path.display());
        };
        let host = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.insert(host, map);
    }
    Ok(out)
}

/// `group_names`: every group the host is in, directly or through children, sorted, without
/// `all`.
pub fn group_names(inv: &Inventory, host: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = inv
        .hosts
        .get(host)
        .map(|h| h.groups.clone())
        .unwrap_or_default();
    while let Some(g) = todo.pop() {
        if g == "all" || !out.insert(g.clone()) {
            continue;
        }
        if let Some(group) = inv.groups.get(&g) {
            todo.extend(group.parents.iter().cloned());
        }
    }
    out.into_iter().collect()
}

/// The inventory keeps `!unsafe` (and INI `b'...'`) strings as `{"__ansible_unsafe": text}`;
/// templates must see the text, never rendered.
fn never_templated(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    if let Some(text) = crate::inventory::unsafe_text(&v) {
        return Json::String(crate::template::literal_template(text));
    }
    match v {
        Json::Array(items) => Json::Array(items.into_iter().map(never_templated).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k, never_templated(v)))
                .collect(),
        ),
        other => other,
    }
}

/// A host's facts as templates see them: each `ansible_X` fact, and all of them again in the
/// `ansible_facts` dict under their names without the prefix (`ansible_facts.os_family`).
pub fn facts_view(facts: &Map<String, serde_json::Value>) -> Map<String, serde_json::Value> {
    let mut out = facts.clone();
    let mut dict = match facts.get("ansible_facts") {
        Some(serde_json::Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    for (k, v) in facts {
        if let Some(short) = k.strip_prefix("ansible_").filter(|s| *s != "facts") {
            dict.entry(short.to_string()).or_insert_with(|| v.clone());
        }
    }
    if !dict.is_empty() {
        out.insert("ansible_facts".into(), serde_json::Value::Object(dict));
    }
    out
}

/// Builds `hostvars`, `groups` and the play's magic variables.
pub fn play_vars(inv: &Inventory, facts: &Facts, play: &PlayInfo) -> PlayVars {
    let hosts: Vec<HostInfo> = inv
        .hosts
        .keys()
        .map(|name| {
            let vars: Map<String, serde_json::Value> = inv
                .host_vars(name)
                .into_iter()
                .map(|(k, v)| (k, never_templated(v)))
                .collect();
            HostInfo {
                name: name.clone(),
                vars,
                facts: facts.get(name).map(facts_view).unwrap_or_default(),
                group_names: group_names(inv, name),
            }
        })
        .collect();
    let groups: IndexMap<String, Vec<String>> = inv
        .groups
        .keys()
        .map(|g| (g.clone(), group_hosts(inv, g)))
        .collect();
    PlayVars::new(&hosts, &groups, play)
}

/// The role-level layers of a task: defaults (below the inventory) and vars (above play vars).
#[derive(Debug, Clone, Default)]
pub struct RoleLayers {
    pub defaults: Vec<Value>,
    pub vars: Vec<Value>,
}

impl RoleLayers {
    /// Every role of the play makes its defaults and vars visible to the whole play (Ansible's
    /// default, `private_role_vars = False`); the task's own role goes on top.
    pub fn for_task(
        pb: &Playbook,
        play_roles: &[&Role],
        own: Option<&Role>,
        params: Option<&Vars>,
    ) -> Self {
        let mut layers = RoleLayers::default();
        for role in play_roles {
            layers.defaults.push(to_value(&role.defaults));
            layers.vars.push(to_value(&role.vars));
        }
        if let Some(role) = own {
            layers.defaults.push(to_value(&role.defaults));
            layers.vars.push(to_value(&role.vars));
            let magic = Value::from_pairs([
                ("role_name", Value::from(role.name.as_str())),
                ("role_path", Value::from(role.path.display().to_string())),
            ]);
            layers.vars.push(magic);
        }
        if let Some(p) = params {
            layers.vars.push(to_value(p));
        }
        let _ = pb;
        layers
    }
}

/// Every role a play uses, dependencies first, each once.
pub fn play_roles<'a>(pb: &'a Playbook, play: &crate::playbook::Play) -> Vec<&'a Role> {
    fn add<'a>(pb: &'a Playbook, uses: &[crate::playbook::RoleUse], out: &mut Vec<&'a Role>) {
        for u in uses {
            if let Some(role) = pb.roles.get(&u.path) {
                add(pb, &role.dependencies, out);
                if !out.iter().any(|r| r.path == role.path) {
                    out.push(role);
                }
            }
        }
    }
    let mut out = Vec::new();
    add(pb, &play.roles, &mut out);
    out
}

/// Where a task sits: its role and what enclosing roles and blocks add to it.
#[derive(Debug, Clone, Default)]
pub struct Scope<'a> {
    pub role: Option<&'a Role>,
    pub params: Option<&'a Vars>,
    pub when: Vec<crate::playbook::Condition>,
    pub vars: Vec<Value>,
    pub tags: Vec<String>,
    /// `any_errors_fatal` of the innermost enclosing block or role that sets it.
    pub any_errors_fatal: Option<bool>,
    /// What the enclosing play, roles and blocks set for their tasks (`become`,
    /// `ignore_errors`, `environment`, `module_defaults`, ...).
    pub keywords: crate::playbook::Keywords,
    /// How many includes deep the task is (a file that includes itself is caught).
    pub include_depth: u16,
}

/// The layers of one task's variables that change while a play runs on a host.
#[derive(Debug, Clone)]
pub struct Dynamic<'a> {
    /// Play `vars` and `vars_files`.
    pub play_layers: &'a [Value],
    /// `include_vars` results: trusted files, rendered when read.
    pub included: &'a Map<String, serde_json::Value>,
    /// `set_fact` and `register` results and facts from tasks (a map value): data, never
    /// templated.
    pub data: &'a Value,
    pub extra_vars: &'a Vars,
    /// The loop item's layer (a [`Data`] layer), inside a loop.
    pub item: Option<Value>,
}

/// The variables `task` sees on `host`, in Ansible's precedence.
pub fn task_context(
    pv: &PlayVars,
    pb: &Playbook,
    roles: &[&Role],
    host: &str,
    scope: &Scope<'_>,
    task: Option<&crate::playbook::Task>,
    dynamic: Dynamic<'_>,
) -> anyhow::Result<Value> {
    let layers = RoleLayers::for_task(pb, roles, scope.role, scope.params);
    let mut above: Vec<Value> = dynamic.play_layers.to_vec();
    above.extend(layers.vars);
    above.extend(scope.vars.iter().cloned());
    if let Some(t) = task {
        above.push(to_value(&t.keywords.vars));
    }
    if !dynamic.included.is_empty() {
        above.push(to_value(dynamic.included));
    }
    // `set_fact`/`register` results and loop items came from running tasks: data, never
    // templated again (a host's output must not be evaluated on the controller).
    above.push(Data::layer(dynamic.data.clone()));
    above.push(to_value(dynamic.extra_vars));
    if let Some(item) = dynamic.item {
        above.push(item);
    }
    pv.host_context_layered(host, &layers.defaults, &above)
        .ok_or_else(|| anyhow::anyhow!("host {host} is not in the inventory"))
}

/// Play `vars` then each `vars_files` file (its name templated), as layers.
pub fn play_layers(
    templar: &crate::template::Templar,
    pb: &Playbook,
    play: &crate::playbook::Play,
    host: &str,
    ctx: impl Fn(&[Value]) -> anyhow::Result<Value>,
) -> anyhow::Result<Vec<Value>> {
    let mut layers = vec![to_value(&play.vars)];
    for candidates in &play.vars_files {
        // An entry that is a list names fallbacks: the first file that exists is read.
        let mut names = Vec::new();
        for file in candidates {
            names.push(templar.render_str(file, "vars_files", &ctx(&layers)?, host)?);
        }
        let Some(path) = names.iter().map(|n| pb.dir.join(n)).find(|p| p.is_file()) else {
            anyhow::bail!(
                "{}: vars file {} was not found",
                play.origin,
                names.join(" or ")
            );
        };
        let parsed = crate::yaml::parse_file(&path)?;
        let vars = crate::playbook::value::vars(&parsed.root, &path, "a vars file")?;
        layers.push(to_value(&vars));
    }
    Ok(layers)
}

/// Templates every string inside a value; a string that is one expression keeps its type.
pub fn template_json(
    templar: &crate::template::Templar,
    value: &serde_json::Value,
    ctx: &Value,
    host: &str,
) -> anyhow::Result<serde_json::Value> {
    use serde_json::Value as Json;
    Ok(match value {
        Json::String(s) if s.contains("{{") || s.contains("{%") => {
            let v = templar.template_value(s, "task argument", ctx, host)?;
            serde_json::to_value(&v)?
        }
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|v| template_json(templar, v, ctx, host))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), template_json(templar, v, ctx, host)?)))
                .collect::<anyhow::Result<_>>()?,
        ),
        other => other.clone(),
    })
}

/// Whether every condition holds (`when:` of the task and of what encloses it).
pub fn conditions_hold<'c>(
    templar: &crate::template::Templar,
    conditions: impl IntoIterator<Item = &'c crate::playbook::Condition>,
    ctx: &Value,
    host: &str,
) -> anyhow::Result<bool> {
    for cond in conditions {
        let holds = match cond {
            crate::playbook::Condition::Const(b) => *b,
            crate::playbook::Condition::Expr(e) => templar.eval_condition(e, ctx, host)?,
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}
