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
            let mut opts = crate::facts::Options::default();
            if let Some(v) = cx.args.get("gather_subset") {
                match crate::facts::subset::spec_of(v) {
                    Ok(spec) => opts.subset = spec,
                    Err(e) => return Ok(Outcome::failed(e)),
                }
            }
            match cx.args.get("gather_timeout") {
                None | Some(Value::Null) => {}
                Some(v) => match v
                    .as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                {
                    Some(t) => opts.timeout = Some(t),
                    None => {
                        return Ok(Outcome::failed(format!(
                            "argument 'gather_timeout' is {v} and we were unable to convert to int"
                        )));
                    }
                },
            }
            if let Some(v) = cx.args.get("fact_path").and_then(Value::as_str) {
                opts.fact_path = Some(v.to_string());
            }
            let interpreter = cx
                .vars
                .get_attr("ansible_python_interpreter")
                .ok()
                .and_then(|v| v.as_str().map(String::from));
            opts.python = crate::facts::interpreter(interpreter.as_deref());
            let plan = match crate::facts::plan(&opts) {
                Ok(p) => p,
                Err(e) => return Ok(Outcome::failed(e)),
            };
            let Some(out) = cx.exec(&plan.script, b"").await? else {
                return Ok(Outcome::offline(cx.module));
            };
            if !out.success() {
                return Ok(protocol::failed_from(&out, "gathering facts failed"));
            }
            let mut facts = match crate::facts::parse_for(
                &String::from_utf8_lossy(&out.stdout),
                &plan.collectors,
            ) {
                Ok(f) => f,
                Err(e) => return Ok(Outcome::failed(e.to_string())),
            };
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
