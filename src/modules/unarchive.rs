//! `unarchive` (ansible.builtin): unpacks a `.tar`, `.tar.gz`/`.tgz`, `.tar.bz2`, `.tar.xz`,
//! `.tar.zst` or `.zip` archive into an existing `dest` folder with the host's GNU tar or
//! unzip/zipinfo, picking the handler as Ansible does (zip first, then tar with each
//! compression) rather than by file name. `src` is a controller file (role `files/`, sent on
//! the script's stdin) or, with `remote_src` (or `copy: false`), a file on the host.
//!
//! Idempotence as the module decides it: `creates` skips the task when the path exists;
//! otherwise a tar archive is compared with `tar --diff` and the differences Ansible counts
//! (content, size, mtime, symlink, missing files; mode unless `mode` is set; uid/gid as root
//! unless owner/group are set). A zip archive is unpacked already when every member exists
//! in `dest` with the same type and content (Ansible also compares zip members' mtime and
//! mode; hactl does not). Returns `handler`, `dest`, `src`, `extract_results`, `files`
//! (`list_files`) and the path info of `dest`. In check mode a tar archive is skipped with
//! Ansible's message, a zip one reports whether it would unpack. URL sources are refused:
//! download with `get_url` first. See unarchive.sh.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field, field_b64};
use super::registry::{Cx, Unreachable};
use super::{ArgError, Outcome, Status};

const SCRIPT: &str = include_str!("unarchive.sh");

const PARAMS: &[&str] = &[
    "src",
    "dest",
    "remote_src",
    "copy",
    "creates",
    "list_files",
    "keep_newer",
    "exclude",
    "include",
    "extra_opts",
    "validate_certs",
    "io_buffer_size",
    "decrypt",
    "owner",
    "group",
    "mode",
    "attributes",
    "attr",
    "selevel",
    "serole",
    "setype",
    "seuser",
    "unsafe_writes",
];

#[derive(Debug)]
struct Params {
    src: String,
    dest: String,
    remote_src: bool,
    creates: String,
    list_files: bool,
    keep_newer: bool,
    exclude: Vec<String>,
    include: Vec<String>,
    extra_opts: Vec<String>,
    owner: String,
    group: String,
    mode: String,
}

fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("unarchive", args, PARAMS)?;
    let (Some(src), Some(dest)) = (a.str(&["src"])?, a.str(&["dest"])?) else {
        return Err(ArgError("src (or content) and dest are required".into()));
    };
    let remote_src = match (a.bool(&["copy"])?, a.bool(&["remote_src"])?) {
        (Some(_), Some(_)) => {
            return Err(ArgError(
                "parameters are mutually exclusive: ('copy', 'remote_src')".into(),
            ));
        }
        (Some(copy), None) => !copy,
        (None, r) => r.unwrap_or(false),
    };
    if src.contains("://") {
        return Err(ArgError(if remote_src {
            format!(
                "hactl's unarchive does not download ({src}): fetch it with get_url first, \
                 then unarchive the file with remote_src: true"
            )
        } else {
            format!(
                "Unsupported option, an URI src ({src}) is only supported when remote_src is True"
            )
        }));
    }
    let exclude = a.list(&["exclude"])?;
    let include = a.list(&["include"])?;
    if !exclude.is_empty() && !include.is_empty() {
        return Err(ArgError(
            "parameters are mutually exclusive: include|exclude".into(),
        ));
    }
    Ok(Params {
        src,
        dest,
        remote_src,
        creates: a.str(&["creates"])?.unwrap_or_default(),
        list_files: a.bool(&["list_files"])?.unwrap_or(false),
        keep_newer: a.bool(&["keep_newer"])?.unwrap_or(false),
        exclude,
        include,
        extra_opts: a.list(&["extra_opts"])?,
        owner: a.owner()?.unwrap_or_default(),
        group: a.group()?.unwrap_or_default(),
        mode: a.mode()?.unwrap_or_default(),
    })
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    // A controller archive travels on stdin.
    let (host_src, stdin) = if p.remote_src {
        (p.src.clone(), Vec::new())
    } else {
        let src = if let Some(rest) = p.src.strip_prefix("~/") {
            format!("{}/{rest}", std::env::var("HOME").unwrap_or_default())
        } else {
            p.src.clone()
        };
        let path =
            match crate::run::lookup::find(&src, "files", cx.role_path, cx.playbook_dir, "file") {
                Ok(path) => path,
                Err(e) => return Ok(Outcome::failed(format!("{e:#}"))),
            };
        if cx.offline() {
            return Ok(Outcome::offline(cx.module));
        }
        match std::fs::read(&path) {
            Ok(bytes) => (String::new(), bytes),
            Err(e) => {
                return Ok(Outcome::failed(format!(
                    "could not read {}: {e}",
                    path.display()
                )));
            }
        }
    };
    let n_opts = p.extra_opts.len().to_string();
    let n_inc = p.include.len().to_string();
    let n_exc = p.exclude.len().to_string();
    let body = format!(
        "{}{}{SCRIPT}",
        super::file::ATTRS_SH,
        super::http::PATHINFO_SH
    );
    let script = assign(
        &[
            ("src", &host_src),
            ("dest", &p.dest),
            ("creates", &p.creates),
            ("check", flag(cx.mode.check)),
            ("keep_newer", flag(p.keep_newer)),
            ("owner", &p.owner),
            ("group", &p.group),
            ("mode", &p.mode),
            ("n_opts", &n_opts),
            ("n_inc", &n_inc),
            ("n_exc", &n_exc),
        ],
        &body,
    );
    let lists: Vec<&str> = p
        .extra_opts
        .iter()
        .chain(&p.include)
        .chain(&p.exclude)
        .map(String::as_str)
        .collect();
    let script = protocol::with_args(&script, &lists);
    let Some(out) = cx.exec(&script, &stdin).await? else {
        return Ok(Outcome::offline(cx.module));
    };
    Ok(finish(&out, &p, cx.mode.check))
}

fn finish(out: &crate::transport::ExecOutput, p: &Params, check: bool) -> Outcome {
    let f = protocol::fields(&out.stdout);
    if !out.success() {
        let mut o = protocol::failed_from(out, "unarchive failed");
        o.result.remove("rc");
        return o;
    }
    if field(&f, "skipped") == Some("1") {
        let creates = field(&f, "creates").unwrap_or(&p.creates);
        return Outcome::new(Status::Skipped)
            .with("skipped", true)
            .with("msg", format!("skipped, since {creates} exists"));
    }
    if field(&f, "check_skip") == Some("1") {
        return Outcome::new(Status::Skipped).with("skipped", true).with(
            "msg",
            "remote module (ansible.legacy.unarchive) does not support check mode when using gtar",
        );
    }
    let dest = field(&f, "dest").unwrap_or(&p.dest).to_string();
    let src = field(&f, "src").unwrap_or_default().to_string();
    let unarchived = field(&f, "unarchived") == Some("1");
    let mut o = Outcome::changed(!unarchived)
        .with("handler", field(&f, "handler").unwrap_or_default())
        .with("dest", dest.clone())
        .with("src", src.clone());
    if let Some(rc) = field(&f, "rc").and_then(|v| v.parse::<i64>().ok()) {
        let args: Vec<String> = field_b64(&f, "args_b64")
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        let mut cmd = vec![json!(field(&f, "tool").unwrap_or_default())];
        cmd.extend(args.into_iter().map(Value::String));
        let results = json!({
            "cmd": cmd,
            "rc": rc,
            "out": field_b64(&f, "out_b64").unwrap_or_default(),
            "err": field_b64(&f, "err_b64").unwrap_or_default(),
        });
        if rc != 0 {
            let mut failed = Outcome::failed(format!("failed to unpack {src} to {dest}"));
            for (k, v) in o.result {
                if k != "changed" {
                    failed.result.insert(k, v);
                }
            }
            return failed.with("extract_results", results);
        }
        o = o.with("extract_results", results);
    }
    if !check && field(&f, "attrs") == Some("1") {
        o.status = Status::Changed;
        o.result.insert("changed".into(), json!(true));
    }
    if p.list_files {
        let files: Vec<Value> = f
            .iter()
            .filter(|(k, _)| k == "file_b64")
            .filter_map(|(_, v)| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .map(|b| Value::String(String::from_utf8_lossy(&b).into_owned()))
            .collect();
        o = o.with("files", Value::Array(files));
    }
    protocol::with_path_info(o, &f)
}

#[derive(Debug)]
pub struct Unarchive;

impl super::registry::Module for Unarchive {
    fn spec(&self) -> &'static super::registry::Spec {
        static SPEC: super::registry::Spec = super::registry::Spec {
            name: "unarchive",
            aliases: &[],
            runs: super::registry::Runs::Both,
            free_form: false,
            params: Some(PARAMS),
            check_mode: true,
            about: "unpack a tar or zip archive (from the controller or the host)",
        };
        &SPEC
    }

    fn run<'a>(
        &'a self,
        cx: &'a mut Cx<'_>,
    ) -> futures::future::BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}
