//! `setup` (and `gather_facts`): gathers the host's facts with one POSIX shell script (no
//! Python needed) and returns them as `ansible_facts`, which the engine adds to the host.

use futures::future::BoxFuture;
use serde_json::Value;

use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{Outcome, protocol};

#[derive(Debug)]
pub struct Setup;

static SPEC: Spec = Spec {
    name: "setup",
    aliases: &["gather_facts"],
    runs: Runs::Host,
    free_form: false,
    params: Some(&[
        "gather_subset",
        "gather_timeout",
        "filter",
        "fact_path",
        "parallel",
    ]),
    check_mode: true,
    about: "gather facts about the host",
};

impl Module for Setup {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move {
            let Some(out) = cx.exec(crate::facts::SCRIPT, b"").await? else {
                return Ok(Outcome::offline(cx.module));
            };
            if !out.success() {
                return Ok(protocol::failed_from(&out, "gathering facts failed"));
            }
            let mut facts = crate::facts::parse(&String::from_utf8_lossy(&out.stdout));
            let filters: Vec<String> = match cx.args.get("filter") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                _ => Vec::new(),
            };
            if !filters.is_empty() {
                let globs: Vec<globset::GlobMatcher> = filters
                    .iter()
                    .filter_map(|f| globset::Glob::new(f).ok().map(|g| g.compile_matcher()))
                    .collect();
                facts.retain(|k, _| globs.iter().any(|g| g.is_match(k)));
            }
            Ok(Outcome::changed(false).with("ansible_facts", Value::Object(facts)))
        })
    }
}
