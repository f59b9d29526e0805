//! `yum_repository`: one `[repo]` section of a `.repo` file in `reposdir`, written as
//! Ansible's module writes it with Python's `RawConfigParser`: the section is replaced as a
//! whole (its keys sorted, booleans as `0`/`1`, `baseurl`/`gpgkey` lists on continuation
//! lines, `exclude`/`includepkgs` joined with spaces), other sections kept in their order,
//! comments dropped (as configparser drops them), the file removed when no section is left.
//! Changed is decided by comparing the sorted dump, as Ansible does, so a second run is
//! `ok`. The file is read in one round trip and written through `file_put` (atomic, owner,
//! group, mode); `--diff` shows the dumps.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::args::Args;
use super::file_put::{self, PutOptions};
use super::lineinfile::{Found, parse_read, read_script};
use super::protocol;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{ArgError, FileDiff, Outcome, Status, Step};

const BOOLS: &[&str] = &[
    "async",
    "countme",
    "enabled",
    "enablegroups",
    "gpgcheck",
    "keepalive",
    "module_hotfixes",
    "protect",
    "repo_gpgcheck",
    "s3_enabled",
    "skip_if_unavailable",
    "ssl_check_cert_permissions",
    "sslverify",
];

const STRINGS: &[&str] = &[
    "bandwidth",
    "cost",
    "deltarpm_metadata_percentage",
    "deltarpm_percentage",
    "failovermethod",
    "gpgcakey",
    "http_caching",
    "include",
    "ip_resolve",
    "keepcache",
    "metadata_expire",
    "metadata_expire_filter",
    "metalink",
    "mirrorlist",
    "mirrorlist_expire",
    "password",
    "priority",
    "proxy",
    "proxy_password",
    "proxy_username",
    "retries",
    "sslcacert",
    "sslclientcert",
    "sslclientkey",
    "throttle",
    "timeout",
    "ui_repoid_vars",
    "username",
];

const OTHER: &[&str] = &[
    "name",
    "description",
    "baseurl",
    "gpgkey",
    "exclude",
    "excludepkgs",
    "includepkgs",
    "file",
    "reposdir",
    "state",
    "ca_cert",
    "client_cert",
    "client_key",
    "validate_certs",
    "mode",
    "owner",
    "group",
    "seuser",
    "serole",
    "selevel",
    "setype",
    "attributes",
    "unsafe_writes",
];

/// A repo file as configparser holds it: sections in order, each with its keys in order.
pub type Ini = Vec<(String, Vec<(String, String)>)>;

/// Reads INI text as `RawConfigParser.read` does, for the shapes repo files have: keys
/// lowercased, `=` or `:`, continuation lines (indented) joined with `\n`, comments dropped.
pub fn parse_ini(text: &str) -> Ini {
    let mut ini: Ini = Vec::new();
    let mut last_key: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.is_empty() {
            last_key = None;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let (Some(i), Some((_, keys))) = (last_key, ini.last_mut()) {
                let v = &mut keys[i].1;
                v.push('\n');
                v.push_str(trimmed);
                continue;
            }
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            match ini.iter().position(|(n, _)| n == name) {
                // A repeated section: configparser refuses it; the later one wins here.
                Some(_) => {}
                None => ini.push((name.to_string(), Vec::new())),
            }
            last_key = None;
            continue;
        }
        let at = trimmed.find(['=', ':']);
        let (k, v) = match at {
            Some(i) => (trimmed[..i].trim(), trimmed[i + 1..].trim()),
            None => (trimmed, ""),
        };
        if let Some((_, keys)) = ini.last_mut() {
            let k = k.to_lowercase();
            match keys.iter().position(|(n, _)| *n == k) {
                Some(i) => {
                    keys[i].1 = v.to_string();
                    last_key = Some(i);
                }
                None => {
                    keys.push((k, v.to_string()));
                    last_key = Some(keys.len() - 1);
                }
            }
        }
    }
    ini
}

/// `RawConfigParser.write`.
pub fn write_ini(ini: &Ini) -> String {
    let mut out = String::new();
    for (name, keys) in ini {
        out.push_str(&format!("[{name}]\n"));
        for (k, v) in keys {
            out.push_str(&format!("{k} = {}\n", v.replace('\n', "\n\t")));
        }
        out.push('\n');
    }
    out
}

/// The module's `dump`: sections and keys sorted.
pub fn dump(ini: &Ini) -> String {
    let mut sections: Vec<&(String, Vec<(String, String)>)> = ini.iter().collect();
    sections.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (name, keys) in sections {
        out.push_str(&format!("[{name}]\n"));
        let mut keys: Vec<&(String, String)> = keys.iter().collect();
        keys.sort();
        for (k, v) in keys {
            out.push_str(&format!("{k} = {v}\n"));
        }
        out.push('\n');
    }
    out
}

/// What the task asks for.
#[derive(Debug, Clone)]
pub struct Params {
    pub repo: String,
    pub present: bool,
    pub dest: String,
    /// The section's keys, sorted.
    pub keys: Vec<(String, String)>,
    pub put: PutOptions,
    pub secrets: Vec<String>,
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let all: Vec<&str> = BOOLS.iter().chain(STRINGS).chain(OTHER).copied().collect();
    let a = Args::new("yum_repository", args, &all)?;
    let repo = a.required(&["name"])?;
    let state = a
        .choice("state", &["present", "absent"])?
        .unwrap_or_else(|| "present".into());
    let present = state == "present";
    let mut keys: Vec<(String, String)> = Vec::new();
    for b in BOOLS {
        let names: &[&str] = if *b == "sslverify" {
            &["sslverify", "validate_certs"]
        } else {
            std::slice::from_ref(b)
        };
        if let Some(v) = a.bool(names)? {
            keys.push((b.to_string(), if v { "1" } else { "0" }.into()));
        }
    }
    for s in STRINGS {
        let names: Vec<&str> = match *s {
            "sslcacert" => vec!["sslcacert", "ca_cert"],
            "sslclientcert" => vec!["sslclientcert", "client_cert"],
            "sslclientkey" => vec!["sslclientkey", "client_key"],
            other => vec![other],
        };
        if let Some(v) = a.str(&names)? {
            keys.push((s.to_string(), v));
        }
    }
    for (k, names, sep) in [
        ("baseurl", &["baseurl"][..], "\n"),
        ("gpgkey", &["gpgkey"][..], "\n"),
        ("exclude", &["exclude", "excludepkgs"][..], " "),
        ("includepkgs", &["includepkgs"][..], " "),
    ] {
        if args.keys().any(|n| names.contains(&n.as_str()))
            && names
                .iter()
                .any(|n| args.get(*n).is_some_and(|v| !v.is_null()))
        {
            keys.push((k.to_string(), a.list(names)?.join(sep)));
        }
    }
    let description = a.str(&["description"])?;
    if let Some(d) = &description {
        keys.push(("name".into(), d.clone()));
    }
    if present {
        if !["baseurl", "mirrorlist", "metalink"]
            .iter()
            .any(|k| keys.iter().any(|(n, _)| n == k))
        {
            return Err(ArgError(
                "state is present but any of the following are missing: baseurl, mirrorlist, metalink"
                    .into(),
            ));
        }
        if description.is_none() {
            return Err(ArgError(
                "state is present but all of the following are missing: description".into(),
            ));
        }
    }
    keys.sort();
    let reposdir = a
        .str(&["reposdir"])?
        .unwrap_or_else(|| "/etc/yum.repos.d".into());
    let file = a.str(&["file"])?.unwrap_or_else(|| repo.clone());
    let dest = format!("{}/{file}.repo", reposdir.trim_end_matches('/'));
    let secrets = ["password", "proxy_password"]
        .iter()
        .filter_map(|p| a.str(&[p]).ok().flatten())
        .collect();
    Ok(Params {
        repo,
        present,
        put: PutOptions {
            dest: dest.clone(),
            mode: a.mode()?,
            owner: a.owner()?,
            group: a.group()?,
            ..PutOptions::default()
        },
        dest,
        keys,
        secrets,
    })
}

/// The file after the task: (before dump, after dump, new file text or `None` to remove it).
pub fn edit(before: &str, p: &Params) -> (String, String, Option<String>) {
    let mut ini = parse_ini(before);
    let dump_before = dump(&ini);
    ini.retain(|(n, _)| *n != p.repo);
    if p.present {
        ini.push((p.repo.clone(), p.keys.clone()));
    }
    let dump_after = dump(&ini);
    let text = (!ini.is_empty()).then(|| write_ini(&ini));
    (dump_before, dump_after, text)
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let dir = std::path::Path::new(&p.dest)
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let probe = super::edit::assign(&[("dir", &dir)], include_str!("yum_repository_dir.sh"));
    let script = format!("{probe}{}", read_script(&p.dest));
    let Some(read) = cx.exec(&script, b"").await? else {
        return Ok(Outcome::offline(cx.module));
    };
    if !read.success() {
        let mut o = protocol::failed_from(&read, "could not read the repo file");
        o.result.remove("rc");
        return Ok(o);
    }
    let before = match parse_read(&read.stdout) {
        Found::File(b) => String::from_utf8_lossy(b).into_owned(),
        Found::Nothing => String::new(),
        Found::Folder => {
            return Ok(Outcome::failed(format!(
                "Problems handling file '{}'.",
                p.dest
            )));
        }
    };
    let existed = matches!(parse_read(&read.stdout), Found::File(_));
    let (d_before, d_after, text) = edit(&before, &p);
    let changed = d_before != d_after;
    let state = if p.present { "present" } else { "absent" };
    let mut diff = Map::new();
    diff.insert("before_header".into(), p.dest.clone().into());
    diff.insert("before".into(), d_before.clone().into());
    diff.insert("after_header".into(), p.dest.clone().into());
    diff.insert("after".into(), d_after.clone().into());
    let file_diff = (cx.mode.diff && changed).then(|| FileDiff {
        path: p.dest.clone(),
        before: Some(d_before.clone()),
        after: d_after.clone(),
    });
    let attrs = p.put.mode.is_some() || p.put.owner.is_some() || p.put.group.is_some();
    let mut o = match text {
        // The last section went: the file goes.
        None if existed && changed => {
            let msg = format!("Cannot remove empty repo file {}.", p.dest);
            let rm = super::edit::assign(
                &[
                    ("path", p.dest.as_str()),
                    ("check", protocol::flag(cx.mode.check)),
                    ("msg", &msg),
                ],
                super::edit::REMOVE_SH,
            );
            match cx.exec(&rm, b"").await? {
                Some(out) if !out.success() => {
                    return Ok(protocol::failed_from(
                        &out,
                        "could not remove the repo file",
                    ));
                }
                _ => Outcome::changed(true),
            }
        }
        None => Outcome::changed(changed),
        Some(text) if changed || (existed && attrs) => {
            let step = file_put::plan(text.into_bytes(), &p.put, cx.mode);
            // Unchanged content but different attributes: file_put compares by hash and
            // only fixes the attributes. Changed content: written, as Ansible writes it.
            let wrote = match step {
                Step::Remote(r) => cx.step(Step::Remote(r)).await?,
                Step::Done(o) => o,
            };
            if wrote.status == Status::Failed {
                return Ok(wrote);
            }
            Outcome::changed(changed || wrote.status == Status::Changed)
        }
        Some(_) => Outcome::changed(false),
    };
    o = o
        .with("repo", p.repo.clone())
        .with("state", state)
        .with("diff", Value::Object(diff));
    o.diff = file_diff;
    protocol::scrub(&mut o, &p.secrets);
    Ok(o)
}

#[derive(Debug)]
pub struct YumRepository;

static SPEC: Spec = Spec {
    name: "yum_repository",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: None,
    check_mode: true,
    about: "add or remove a yum/dnf repository (.repo file)",
};

impl Module for YumRepository {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testutil::args;
    use serde_json::json;

    #[test]
    fn writes_as_configparser_and_is_idempotent() {
        let p = params(&args(json!({
            "name": "epel", "description": "EPEL YUM repo",
            "baseurl": ["https://a.example/$basearch", "https://b.example/"],
            "gpgcheck": true, "enabled": "no", "exclude": ["a", "b"]
        })))
        .expect("params");
        let before = "# managed\n[base]\nName=Base\nbaseurl=http://x/\n";
        let (b, a, text) = edit(before, &p);
        assert_ne!(b, a);
        let text = text.expect("text");
        assert_eq!(
            text,
            "[base]\nname = Base\nbaseurl = http://x/\n\n[epel]\nbaseurl = https://a.example/$basearch\n\thttps://b.example/\nenabled = 0\nexclude = a b\ngpgcheck = 1\nname = EPEL YUM repo\n\n"
        );
        let (b2, a2, _) = edit(&text, &p);
        assert_eq!(b2, a2, "a second run changes nothing");
        let gone = params(&args(json!({"name": "epel", "state": "absent"}))).expect("params");
        let (_, _, t) = edit(&text, &gone);
        assert_eq!(
            t.as_deref(),
            Some("[base]\nname = Base\nbaseurl = http://x/\n\n")
        );
        let (_, _, t) = edit("[epel]\nname = x\n", &gone);
        assert_eq!(t, None);
    }

    #[test]
    fn required_arguments_as_ansible_words_them() {
        let err = params(&args(json!({"name": "x", "description": "d"}))).expect_err("no url");
        assert!(err.0.contains("baseurl, mirrorlist, metalink"), "{err}");
    }
}
