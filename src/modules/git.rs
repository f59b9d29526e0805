//! `git` (ansible.builtin): `repo` checked out at `version` (HEAD, a branch, a tag or a SHA)
//! in `dest` with the host's git, following the module: a clone when dest has no repository
//! (`--origin`, `--bare`, `--depth` for HEAD/branches/tags, `--single-branch`); otherwise,
//! with `update`, local changes refused (or reset with `force`), the remote URL set, a fetch,
//! and the switch to the version; submodules updated with `recursive`. Check mode asks the
//! remote with `git ls-remote`. Returns `before`, `after`, `changed`, `remote_url_changed`,
//! `msg` and `submodules_changed` as the module does. `key_file`, `ssh_opts`,
//! `accept_hostkey` and `accept_newhostkey` become `GIT_SSH_COMMAND`. Refused: `refspec`,
//! `reference`, `separate_git_dir`, `verify_commit`, `archive`, `track_submodules`, `umask`.
//! See git.sh.

use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field};
use super::{ArgError, Mode, Outcome, Remote, Step};

const SCRIPT: &str = include_str!("git.sh");

const PARAMS: &[&str] = &[
    "repo",
    "name",
    "dest",
    "version",
    "remote",
    "depth",
    "clone",
    "update",
    "force",
    "bare",
    "recursive",
    "single_branch",
    "accept_hostkey",
    "accept_newhostkey",
    "ssh_opts",
    "key_file",
    "executable",
    "refspec",
    "reference",
    "separate_git_dir",
    "verify_commit",
    "gpg_whitelist",
    "gpg_allowlist",
    "archive",
    "archive_prefix",
    "track_submodules",
    "umask",
];

const REFUSED: &[&str] = &[
    "refspec",
    "reference",
    "separate_git_dir",
    "verify_commit",
    "archive",
    "track_submodules",
    "umask",
];

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new("git", args, PARAMS)?;
    for p in REFUSED {
        let set = match args.get(*p) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !s.is_empty(),
            _ => true,
        };
        if set {
            return Err(ArgError(format!(
                "hactl's git module does not support {p} yet"
            )));
        }
    }
    let repo = a.required(&["repo", "name"])?;
    let clone = a.bool(&["clone"])?.unwrap_or(true);
    let dest = a.str(&["dest"])?.unwrap_or_default();
    if dest.is_empty() && clone {
        return Err(ArgError(
            "the destination directory must be specified unless clone=no".into(),
        ));
    }
    if dest.is_empty() {
        return Err(ArgError(
            "hactl's git module needs dest (clone=no without dest only asks the remote)".into(),
        ));
    }
    let depth = match a.str(&["depth"])? {
        None => String::new(),
        Some(d) => match d.parse::<u32>() {
            Ok(n) if n > 0 => n.to_string(),
            _ => return Err(ArgError("depth must be a positive integer".into())),
        },
    };
    let mut ssh: Vec<String> = Vec::new();
    if let Some(k) = a.str(&["key_file"])? {
        ssh.push(format!(
            "-i {} -o IdentitiesOnly=yes",
            crate::transport::shell_quote(&k)
        ));
    }
    let mut opts = a.str(&["ssh_opts"])?.unwrap_or_default();
    for (flag_name, value) in [
        ("accept_hostkey", "no"),
        ("accept_newhostkey", "accept-new"),
    ] {
        if a.bool(&[flag_name])?.unwrap_or(false)
            && !opts.contains("-o StrictHostKeyChecking=no")
            && !opts.contains("-o StrictHostKeyChecking=accept-new")
        {
            opts = format!("{opts} -o StrictHostKeyChecking={value}")
                .trim()
                .to_string();
        }
    }
    if !opts.is_empty() {
        ssh.push(opts);
    }
    let ssh_cmd = if ssh.is_empty() {
        String::new()
    } else {
        format!("ssh {}", ssh.join(" "))
    };
    let version = a.str(&["version"])?.unwrap_or_else(|| "HEAD".into());
    let script = assign(
        &[
            ("repo", &repo),
            ("dest", &dest),
            ("version", &version),
            (
                "remote",
                &a.str(&["remote"])?.unwrap_or_else(|| "origin".into()),
            ),
            ("depth", &depth),
            ("clone", flag(clone)),
            ("update", flag(a.bool(&["update"])?.unwrap_or(true))),
            ("force", flag(a.bool(&["force"])?.unwrap_or(false))),
            ("bare", flag(a.bool(&["bare"])?.unwrap_or(false))),
            ("recursive", flag(a.bool(&["recursive"])?.unwrap_or(true))),
            (
                "single_branch",
                flag(a.bool(&["single_branch"])?.unwrap_or(false)),
            ),
            ("check", flag(mode.check)),
            ("ssh_cmd", &ssh_cmd),
        ],
        SCRIPT,
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            let f = protocol::fields(&out.stdout);
            let sha = |k: &str| match field(&f, k) {
                None | Some("") => Value::Null,
                Some(v) => json!(v),
            };
            let warnings: Vec<Value> = f
                .iter()
                .filter(|(k, _)| k == "warning")
                .map(|(_, v)| json!(v))
                .collect();
            if out.code == Some(5) {
                if let Some(cmd) = field(&f, "cmd") {
                    // run_command(check_rc=True): the command, its output, stderr as msg.
                    let text = |k: &str| protocol::field_b64(&f, k).unwrap_or_default();
                    let (stdout, stderr) = (text("stdout_b64"), text("stderr_b64"));
                    let lines = |t: &str| json!(t.lines().collect::<Vec<_>>());
                    let rc = field(&f, "rc").and_then(|r| r.parse::<i64>().ok());
                    return Outcome::failed(stderr.trim_end().to_string())
                        .with("cmd", cmd)
                        .with("rc", rc)
                        .with("stdout_lines", lines(&stdout))
                        .with("stderr_lines", lines(&stderr))
                        .with("stdout", stdout)
                        .with("stderr", stderr);
                }
            }
            if !out.success() {
                let mut o = protocol::failed_from(&out, "git failed");
                o.result.remove("rc");
                if field(&f, "before").is_some() {
                    o = o.with("before", sha("before"));
                }
                return o;
            }
            let mut o = Outcome::changed(field(&f, "changed") == Some("1"))
                .with("before", sha("before"))
                .with("after", sha("after"));
            if let Some(v) = field(&f, "remote_url_changed") {
                o = o.with("remote_url_changed", v == "1");
            }
            if let Some(m) = field(&f, "msg") {
                o = o.with("msg", m);
            }
            if field(&f, "submodules_changed").is_some() {
                o = o.with("submodules_changed", true);
            }
            if !warnings.is_empty() {
                o = o.with("warnings", Value::Array(warnings));
            }
            o
        }),
    }))
}

/// The module; its result in check mode has no `check_mode` key, as Ansible's.
#[derive(Debug)]
pub struct Git;

impl super::registry::Module for Git {
    fn spec(&self) -> &'static super::registry::Spec {
        static SPEC: super::registry::Spec = super::registry::Spec {
            name: "git",
            aliases: &[],
            runs: super::registry::Runs::Host,
            free_form: false,
            params: Some(PARAMS),
            check_mode: true,
            about: "check out a git repository at a version (host's git)",
        };
        &SPEC
    }

    fn run<'a>(
        &'a self,
        cx: &'a mut super::registry::Cx<'_>,
    ) -> futures::future::BoxFuture<'a, Result<Outcome, super::registry::Unreachable>> {
        Box::pin(async move {
            match plan(&cx.args, cx.mode) {
                Err(e) => Ok(Outcome::failed(e.0)),
                Ok(Step::Done(o)) => Ok(o),
                Ok(Step::Remote(r)) => match cx.exec(&r.script, &r.stdin).await? {
                    None => Ok(Outcome::offline(cx.module)),
                    Some(out) => Ok((r.finish)(out)),
                },
            }
        })
    }
}
