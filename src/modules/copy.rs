//! `copy`: puts a controller file (from the role's `files/`) or literal `content` on the host.

use futures::future::BoxFuture;

use super::Outcome;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

#[derive(Debug)]
pub struct Copy;

static SPEC: Spec = Spec {
    name: "copy",
    aliases: &[],
    runs: Runs::Both,
    free_form: false,
    params: None,
    check_mode: true,
    about: "put a file or literal content on the host",
};

impl Module for Copy {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(super::template::put(cx, "copy"))
    }
}
