//! `debug`: prints a message or a variable's value on the controller.

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::Outcome;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

#[derive(Debug)]
pub struct Debug;

static SPEC: Spec = Spec {
    name: "debug",
    aliases: &[],
    runs: Runs::Controller,
    free_form: false,
    params: Some(&["msg", "var", "verbosity"]),
    check_mode: true,
    about: "print a message or a variable",
};

impl Module for Debug {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move { Ok(debug(cx).with("_ansible_verbose_always", true)) })
    }
}

fn debug(cx: &Cx<'_>) -> Outcome {
    if cx.args.contains_key("msg") && cx.args.contains_key("var") {
        return Outcome::failed("parameters are mutually exclusive: msg|var");
    }
    if let Some(var) = cx.args.get("var").and_then(Value::as_str) {
        let value = cx
            .templar
            .template_value(&format!("{{{{ {var} }}}}"), "debug", cx.vars, cx.host)
            .map(|v| serde_json::to_value(&v).unwrap_or(Value::Null))
            .unwrap_or_else(|_| json!("VARIABLE IS NOT DEFINED!"));
        return Outcome::changed(false).with(var, value);
    }
    let msg = cx
        .args
        .get("msg")
        .cloned()
        .unwrap_or_else(|| json!("Hello world!"));
    Outcome::changed(false).with("msg", msg)
}
