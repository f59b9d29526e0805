//! `tempfile` (ansible.builtin): creates a file (mode 0600) or folder (0700) with a random
//! name under `path` (default: the host's `$TMPDIR`, `$TEMP`, `$TMP`, else `/tmp`, as
//! Python's `gettempdir`), named PREFIX + 8 characters + SUFFIX, and returns its `path` with
//! Ansible's path info (uid, gid, owner, group, mode, state, size). Always `changed`; like
//! Ansible's module it has no check mode (skipped there). See tempfile.sh.

use serde_json::{Map, Value};

use super::args::Args;
use super::edit::assign;
use super::protocol::{self, field};
use super::{ArgError, Outcome, Remote, Step};

const SCRIPT: &str = include_str!("tempfile.sh");

const PARAMS: &[&str] = &["state", "path", "prefix", "suffix"];

pub fn plan(args: &Map<String, Value>) -> Result<Step, ArgError> {
    let a = Args::new("tempfile", args, PARAMS)?;
    let state = a
        .choice("state", &["file", "directory"])?
        .unwrap_or_else(|| "file".into());
    let prefix = a.str(&["prefix"])?.unwrap_or_else(|| "ansible.".into());
    let suffix = a.str(&["suffix"])?.unwrap_or_default();
    for (name, v) in [("prefix", &prefix), ("suffix", &suffix)] {
        if !v.is_empty() && v.contains('/') {
            return Err(ArgError(format!(
                "{name} must be a valid file name component, got '{v}'"
            )));
        }
    }
    // type='path': a leading `~` is expanded on the host (expand_home.sh).
    let dir = a.str(&["path"])?.unwrap_or_default();
    let body = format!(
        "{}{}{SCRIPT}",
        super::stat::EXPAND_HOME,
        super::http::PATHINFO_SH
    );
    let script = assign(
        &[
            ("path", &dir),
            ("state", &state),
            ("prefix", &prefix),
            ("suffix", &suffix),
        ],
        &body,
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(|out| {
            if !out.success() {
                let mut o = protocol::failed_from(&out, "tempfile failed");
                o.result.remove("rc");
                return o;
            }
            let f = protocol::fields(&out.stdout);
            let path = field(&f, "path").unwrap_or_default().to_string();
            protocol::with_path_info(Outcome::changed(true).with("path", path), &f)
        }),
    }))
}

super::registry::host_module!(Tempfile, "tempfile", aliases: &[], free_form: false,
    params: PARAMS, check_mode: false, about: "create a temporary file or folder",
    plan: |cx| plan(&cx.args));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args, mode_of};
    use serde_json::json;

    #[test]
    fn makes_a_private_file_or_folder_with_prefix_and_suffix() {
        let host = Host::new();
        let dir = host.root().display().to_string();
        let out = host.run(
            plan(&args(
                json!({"path": dir, "prefix": "x.", "suffix": ".tmp"}),
            ))
            .expect("plan"),
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        let path = out.result["path"].as_str().expect("path").to_string();
        let name = path.rsplit('/').next().expect("name");
        assert!(
            name.starts_with("x.") && name.ends_with(".tmp") && name.len() == 14,
            "{name}"
        );
        assert_eq!(mode_of(std::path::Path::new(&path)), 0o600);
        assert_eq!(out.result["state"], "file");
        assert_eq!(out.result["mode"], "0600");
        assert_eq!(out.result["size"], 0);
        std::fs::create_dir(host.path("sub")).expect("mkdir");
        let d = host.run(plan(&args(json!({"path": "sub", "state": "directory"}))).expect("plan"));
        let dpath = d.result["path"].as_str().expect("path").to_string();
        assert!(
            dpath.starts_with('/') && dpath.contains("/ansible."),
            "{dpath}"
        );
        assert_eq!(mode_of(std::path::Path::new(&dpath)), 0o700);
        assert_eq!(d.result["state"], "directory");
    }

    #[test]
    fn a_missing_folder_fails_as_python() {
        let host = Host::new();
        let out = host
            .run(plan(&args(json!({"path": "/nonexistent-hactl", "prefix": "p"}))).expect("plan"));
        assert_eq!(out.status, Status::Failed);
        let msg = out.msg().expect("msg");
        assert!(
            msg.starts_with("[Errno 2] No such file or directory: '/nonexistent-hactl/p"),
            "{msg}"
        );
        let err = plan(&args(json!({"prefix": "a/b"}))).expect_err("prefix");
        assert_eq!(
            err.0,
            "prefix must be a valid file name component, got 'a/b'"
        );
    }
}
