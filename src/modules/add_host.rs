//! `add_host`: a host (with groups and variables) added to the run's in-memory inventory, for
//! the plays after this one. It runs once per batch, as Ansible's (BYPASS_HOST_LOOP); the
//! engine applies what it returns and reports `changed` when the inventory changed.

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::Outcome;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

#[derive(Debug)]
pub struct AddHost;

static SPEC: Spec = Spec {
    name: "add_host",
    aliases: &[],
    runs: Runs::Controller,
    free_form: false,
    params: None,
    check_mode: true,
    about: "add a host to the in-memory inventory",
};

impl Module for AddHost {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move { Ok(add_host(&cx.args)) })
    }
}

fn add_host(args: &Map<String, Value>) -> Outcome {
    let name = ["name", "hostname", "host"]
        .iter()
        .find_map(|k| args.get(*k).and_then(Value::as_str));
    let Some(name) = name else {
        return Outcome::failed("name, host or hostname needs to be provided");
    };
    let groups: Vec<String> = match ["groupname", "groups", "group"]
        .iter()
        .find_map(|k| args.get(*k))
    {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|g| match g {
                Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            })
            .collect(),
        Some(_) => return Outcome::failed("Groups must be specified as a list."),
    };
    let mut unique: Vec<String> = Vec::new();
    for g in groups {
        if !unique.contains(&g) {
            unique.push(g);
        }
    }
    let special = ["name", "hostname", "host", "groupname", "groups", "group"];
    let vars: Map<String, Value> = args
        .iter()
        .filter(|(k, _)| !special.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Outcome::changed(false).with(
        "add_host",
        json!({"host_name": name, "groups": unique, "host_vars": vars}),
    )
}
