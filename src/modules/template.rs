//! `template`: renders a Jinja2 template on the controller and puts the result on the host
//! (see `file_put` for the host side). `copy` shares [`put`].

use futures::future::BoxFuture;

use super::registry::{Cx, Module, Rendered, Runs, Spec, Unreachable, Where};
use super::{Outcome, file_put};

#[derive(Debug)]
pub struct Template;

static SPEC: Spec = Spec {
    name: "template",
    aliases: &[],
    runs: Runs::Both,
    free_form: false,
    params: None,
    check_mode: true,
    about: "render a template on the controller and put it on the host",
};

impl Module for Template {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(put(cx, "template"))
    }
}

/// The controller side of `template` and `copy`: the bytes to put and where; then the host
/// side, or offline the rendered file.
pub async fn put(cx: &mut Cx<'_>, module: &str) -> Result<Outcome, Unreachable> {
    let (opts, src) = match file_put::options(module, &cx.args) {
        Ok(x) => x,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let offline = cx.offline();
    let content = match crate::run::lookup::put_content(
        cx.templar,
        module,
        &cx.args,
        src.as_deref(),
        cx.role_path,
        cx.playbook_dir,
        cx.vars,
        cx.host,
        !offline,
    ) {
        Ok(c) => c,
        Err(e) => return Ok(Outcome::failed(format!("{e:#}"))),
    };
    if let Where::Offline { rendered, keep } = &mut cx.at {
        let dest = dest_path(&opts.dest, &opts.name);
        if let Some(bytes) = content {
            if keep.is_none_or(|keep| keep(&dest)) {
                let name = cx
                    .task
                    .name
                    .clone()
                    .unwrap_or_else(|| cx.task.module.clone());
                rendered.push(Rendered {
                    host: cx.host.to_string(),
                    dest,
                    src,
                    mode: opts.mode.clone(),
                    task: format!("task '{name}' at {}", cx.task.origin),
                    bytes,
                });
            }
        }
        // Whether the host's file would change is unknown without the host.
        return Ok(Outcome::offline(module));
    }
    let step = file_put::plan(content.unwrap_or_default(), &opts, cx.mode);
    cx.step(step).await
}

/// Where a file goes: `dest`, or `dest/name` when `dest` is a folder (ends with `/`).
pub fn dest_path(dest: &str, name: &str) -> String {
    if dest.ends_with('/') || dest.is_empty() {
        format!("{dest}{name}")
    } else {
        dest.to_string()
    }
}
