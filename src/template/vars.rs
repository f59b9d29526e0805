//! The variables a template sees: layered scopes, `hostvars` and Ansible's magic variables.
//!
//! Nothing here copies a host's variables per task or per host: every host's inventory
//! variables become one shared [`Value`] when the play starts, `hostvars` is a view over those,
//! and a host's context is a [`Layers`] object holding a few reference-counted layers. Rendering
//! for 1,000 hosts therefore costs no more memory than the inventory itself.
//!
//! Precedence between playbook sources (play vars, `vars_files`, role vars, task vars) is the
//! playbook runner's business: it passes them as extra layers in increasing precedence.

use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

use super::Pick;

/// The placeholder `omit` renders to; the playbook runner drops task arguments equal to it.
pub const OMIT: &str = "__omit_place_holder__hactl";

/// The ansible-core release hactl follows, as `ansible_version` gives it to templates.
pub const ANSIBLE_VERSION: &str = "2.19.0";

/// A scope made of maps searched from the last (highest precedence) to the first.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    layers: Vec<Value>,
}

impl Layers {
    pub fn new(layers: Vec<Value>) -> Self {
        Layers { layers }
    }

    /// The scope as a template value.
    pub fn into_value(self) -> Value {
        Value::from_object(self)
    }
}

impl Layers {
    /// The value of `key` as stored, looking through nested scopes without rendering it, and
    /// whether it may hold Jinja to render (false for [`Data`] layers).
    fn raw(&self, key: &Value) -> Option<(Value, bool)> {
        self.layers.iter().rev().find_map(|layer| {
            if let Some(inner) = layer.downcast_object_ref::<Layers>() {
                inner.raw(key)
            } else if let Some(data) = layer.downcast_object_ref::<Data>() {
                data.0.pick(key).map(|v| (v, false))
            } else {
                layer.pick(key).map(|v| (v, true))
            }
        })
    }
}

/// A layer of values that came from a host or from running a task (gathered facts,
/// `register` and `set_fact` results, loop items): read as they are, never templated again.
/// ansible-core marks such values unsafe for the same reason: a host that prints
/// `{{ lookup('env', 'SECRET') }}` must not make the controller evaluate it.
#[derive(Debug)]
pub struct Data(Value);

impl Data {
    /// `map` as a layer whose values are never templated.
    pub fn layer(map: Value) -> Value {
        Value::from_object(Data(map))
    }
}

impl Object for Data {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.pick(key)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.0.try_iter() {
            Ok(keys) => Enumerator::Values(keys.collect()),
            Err(_) => Enumerator::Empty,
        }
    }
}

impl Object for Layers {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (found, templated) = self.raw(key)?;
        if !templated {
            return Some(found);
        }
        // Jinja inside a variable's value is rendered when used, once, in this (the outermost)
        // scope's context: a nested scope hands over its raw value.
        Some(super::lazy::resolve(
            found,
            &Value::from_dyn_object(self.clone()),
        ))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: IndexMap<Value, ()> = IndexMap::new();
        for layer in &self.layers {
            if let Ok(iter) = layer.try_iter() {
                keys.extend(iter.map(|k| (k, ())));
            }
        }
        Enumerator::Values(keys.into_keys().collect())
    }
}

/// `hostvars`: every host of the inventory, by name, each with its inventory and magic variables.
#[derive(Debug)]
struct HostVars {
    hosts: IndexMap<String, Value>,
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.hosts.get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.hosts.keys().map(|k| Value::from(k.as_str())).collect())
    }
}

/// One inventory host as the playbook runner hands it over.
#[derive(Debug, Clone, Default)]
pub struct HostInfo {
    pub name: String,
    /// The host's merged inventory variables (group vars, then host vars).
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Facts gathered from the host (or read with `--facts`): above its inventory variables,
    /// never templated.
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// Ansible's `group_names`: the host's groups, sorted, without `all`.
    pub group_names: Vec<String>,
}

/// Facts about the play the magic variables report.
#[derive(Debug, Clone, Default)]
pub struct PlayInfo {
    /// `ansible_play_hosts`/`play_hosts`: the play's hosts, in inventory order.
    pub hosts: Vec<String>,
    pub playbook_dir: String,
    pub check_mode: bool,
    /// `hactl render`/`hactl lint` (and apply's lint gate) walk the play without hosts: the
    /// magic variable `hactl_offline`, so a role can skip checks that only matter before
    /// something is installed (the shipped role's agent architecture check).
    pub offline: bool,
    /// Per host, the connection variables a task sees unless it has a variable of that name
    /// (see `run::target::connection_vars`): under every other layer, and not in `hostvars`.
    pub connection: std::collections::HashMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// The variables shared by every host of one play, built once.
#[derive(Debug, Clone)]
pub struct PlayVars {
    hostvars: Arc<HostVars>,
    /// Magic variables identical for every host (`groups`, `hostvars`, `omit`, ...).
    common: Value,
    /// Per host, [`PlayInfo::connection`].
    connection: std::collections::HashMap<String, Value>,
}

impl PlayVars {
    /// Builds `hostvars` and the play-wide magic variables. `groups` maps every group name
    /// (including `all` and `ungrouped`) to all its hosts, children's hosts included.
    pub fn new(
        hosts: &[HostInfo],
        groups: &IndexMap<String, Vec<String>>,
        play: &PlayInfo,
    ) -> Self {
        let groups_value = super::to_value(groups);
        let mut per_host = IndexMap::with_capacity(hosts.len());
        for host in hosts {
            let short = host.name.split('.').next().unwrap_or(&host.name);
            let magic = Value::from_pairs([
                ("inventory_hostname", Value::from(host.name.as_str())),
                ("inventory_hostname_short", Value::from(short)),
                ("group_names", super::to_value(&host.group_names)),
            ]);
            let layers = Layers::new(vec![
                super::to_value(&host.vars),
                Data::layer(super::to_value(&host.facts)),
                magic,
            ]);
            per_host.insert(host.name.clone(), layers.into_value());
        }
        let hostvars = Arc::new(HostVars { hosts: per_host });
        let play_hosts = super::to_value(&play.hosts);
        let agent = crate::run::agent::magic_vars()
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)));
        let common = Value::from_pairs(
            [
                ("hostvars", Value::from_dyn_object(hostvars.clone())),
                ("groups", groups_value),
                ("ansible_play_hosts", play_hosts.clone()),
                ("ansible_play_hosts_all", play_hosts.clone()),
                ("ansible_play_batch", play_hosts.clone()),
                ("play_hosts", play_hosts),
                ("playbook_dir", Value::from(play.playbook_dir.as_str())),
                ("ansible_check_mode", Value::from(play.check_mode)),
                // `-v` count, as Ansible's (willshersystems.sshd: `no_log: "{{
                // ansible_verbosity < 3 }}"`).
                ("ansible_verbosity", Value::from(crate::report::verbosity())),
                ("hactl_offline", Value::from(play.offline)),
                // Roles gate on the controller's version (`ansible_version.full is
                // version('2.16', '>=')`, nginxinc.nginx_config): hactl answers with the
                // ansible-core release whose behaviour it follows.
                (
                    "ansible_version",
                    Value::from_pairs([
                        ("full", Value::from(ANSIBLE_VERSION)),
                        ("string", Value::from(ANSIBLE_VERSION)),
                        ("major", Value::from(2)),
                        ("minor", Value::from(19)),
                        ("revision", Value::from(0)),
                    ]),
                ),
                ("omit", Value::from(OMIT)),
            ]
            .into_iter()
            .chain(agent),
        );
        let connection = play
            .connection
            .iter()
            .map(|(h, vars)| (h.clone(), super::to_value(vars)))
            .collect();
        PlayVars {
            hostvars,
            common,
            connection,
        }
    }

    /// The context for templating on `host`: its inventory variables, then `extra` layers in
    /// increasing precedence (play vars, `vars_files`, role vars such as `role_path`, task vars),
    /// then the magic variables. `None` when the host is not in the inventory.
    pub fn host_context(&self, host: &str, extra: &[Value]) -> Option<Value> {
        self.host_context_layered(host, &[], extra)
    }

    /// As [`PlayVars::host_context`], with `below` layers under the inventory variables (role
    /// defaults are the only variables Ansible ranks lower).
    pub fn host_context_layered(
        &self,
        host: &str,
        below: &[Value],
        extra: &[Value],
    ) -> Option<Value> {
        let own = self.hostvars.hosts.get(host)?;
        let mut layers = Vec::with_capacity(below.len() + extra.len() + 4);
        layers.extend(self.connection.get(host).cloned());
        layers.extend(below.iter().cloned());
        layers.push(own.clone());
        layers.extend(extra.iter().cloned());
        // Magic variables win over anything a user sets, as in Ansible.
        layers.push(self.common.clone());
        if let Some(magic) = own
            .downcast_object_ref::<Layers>()
            .and_then(|l| l.layers.last())
        {
            layers.push(magic.clone());
        }
        Some(Layers::new(layers).into_value())
    }
}
