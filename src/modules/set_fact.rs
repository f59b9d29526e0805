//! `set_fact`: sets variables on the host, for the rest of the play. The values are data from
//! then on: they were rendered once, and are never templated again.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::Outcome;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

#[derive(Debug)]
pub struct SetFact;

static SPEC: Spec = Spec {
    name: "set_fact",
    aliases: &[],
    runs: Runs::Controller,
    free_form: false,
    params: None,
    check_mode: true,
    about: "set host variables",
};

impl Module for SetFact {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move {
            let facts: Map<String, Value> = cx
                .args
                .iter()
                .filter(|(k, _)| k.as_str() != "cacheable")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if facts.is_empty() {
                return Ok(Outcome::failed(
                    "No key/value pairs provided, at least one is required for this action to succeed",
                ));
            }
            Ok(Outcome::changed(false).with("ansible_facts", Value::Object(facts)))
        })
    }
}
