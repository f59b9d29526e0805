//! `fail`: fails the task with a message.

use futures::future::BoxFuture;
use serde_json::Value;

use super::Outcome;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

#[derive(Debug)]
pub struct Fail;

static SPEC: Spec = Spec {
    name: "fail",
    aliases: &[],
    runs: Runs::Controller,
    free_form: false,
    params: Some(&["msg"]),
    check_mode: true,
    about: "fail with a message",
};

impl Module for Fail {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move {
            let msg = match cx.args.get("msg") {
                Some(Value::String(s)) => Value::String(s.clone()),
                Some(other) => other.clone(),
                None => Value::String("Failed as requested from task".into()),
            };
            let mut o = Outcome::failed("");
            o.result.insert("msg".into(), msg);
            Ok(o)
        })
    }
}
