//! `group_by`: puts the host in a group named by `key` (with `parents`) in the run's
//! in-memory inventory, for the plays after this one. The engine applies what it returns.

use futures::future::BoxFuture;
use serde_json::Value;

use super::Outcome;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

#[derive(Debug)]
pub struct GroupBy;

static SPEC: Spec = Spec {
    name: "group_by",
    aliases: &[],
    runs: Runs::Controller,
    free_form: false,
    params: Some(&["key", "parents"]),
    check_mode: true,
    about: "put hosts in groups by a key, for later plays",
};

impl Module for GroupBy {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move {
            let Some(key) = cx.args.get("key") else {
                return Ok(Outcome::failed(
                    "the 'key' param is required when using group_by",
                ));
            };
            let key = match key {
                Value::String(s) => s.clone(),
                other => crate::template::py_str(&crate::template::to_value(other)),
            };
            let parents: Vec<String> = match cx.args.get("parents") {
                None | Some(Value::Null) => vec!["all".into()],
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                Some(other) => vec![other.to_string()],
            };
            Ok(Outcome::changed(false)
                .with("add_group", key.replace(' ', "-"))
                .with(
                    "parent_groups",
                    Value::Array(
                        parents
                            .into_iter()
                            .map(|p| Value::String(p.replace(' ', "-")))
                            .collect(),
                    ),
                ))
        })
    }
}
