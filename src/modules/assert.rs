//! `assert`: evaluates conditions on the controller; the first false one fails the task.

use futures::future::BoxFuture;
use serde_json::Value;

use super::Outcome;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

#[derive(Debug)]
pub struct Assert;

static SPEC: Spec = Spec {
    name: "assert",
    aliases: &[],
    runs: Runs::Controller,
    free_form: false,
    params: Some(&["that", "fail_msg", "msg", "success_msg", "quiet"]),
    check_mode: true,
    about: "check conditions",
};

impl Module for Assert {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move { Ok(assert(cx)) })
    }
}

fn assert(cx: &Cx<'_>) -> Outcome {
    let that: Vec<String> = match cx.args.get("that") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Bool(b)) => vec![if *b { "True" } else { "False" }.to_string()],
        _ => return Outcome::failed("missing required arguments: that"),
    };
    for cond in &that {
        match cx.templar.eval_condition(cond, cx.vars, cx.host) {
            Ok(true) => {}
            Ok(false) => {
                let msg = cx
                    .args
                    .get("fail_msg")
                    .or_else(|| cx.args.get("msg"))
                    .cloned()
                    .unwrap_or_else(|| Value::String("Assertion failed".into()));
                let mut o = Outcome::failed("")
                    .with("assertion", cond.as_str())
                    .with("evaluated_to", false);
                o.result.insert("msg".into(), msg);
                return o;
            }
            Err(e) => return Outcome::failed(e.to_string()),
        }
    }
    let msg = cx
        .args
        .get("success_msg")
        .cloned()
        .unwrap_or_else(|| Value::String("All assertions passed".into()));
    let mut o = Outcome::changed(false);
    o.result.insert("msg".into(), msg);
    o
}
