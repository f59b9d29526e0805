//! `ping`: checks that a script runs on the host (no Python needed, unlike Ansible's).

use futures::future::BoxFuture;

use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{Outcome, Remote, Step, protocol};

#[derive(Debug)]
pub struct Ping;

static SPEC: Spec = Spec {
    name: "ping",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: Some(&["data"]),
    check_mode: true,
    about: "check that the host runs scripts",
};

impl Module for Ping {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move {
            let data = cx
                .args
                .get("data")
                .and_then(|v| v.as_str())
                .unwrap_or("pong")
                .to_string();
            if data == "crash" {
                return Ok(Outcome::failed("boom"));
            }
            cx.step(Step::Remote(Remote {
                script: "echo pong".into(),
                stdin: Vec::new(),
                finish: Box::new(move |out| {
                    if out.success() {
                        Outcome::changed(false).with("ping", data)
                    } else {
                        protocol::failed_from(&out, "ping failed")
                    }
                }),
            }))
            .await
        })
    }
}
