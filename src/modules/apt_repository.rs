//! `apt_repository` (ansible.builtin): adds or removes a one-line apt source (`deb`/`deb-src`)
//! in `/etc/apt/sources.list` or `/etc/apt/sources.list.d/*.list`, as the module's
//! SourcesList does: every file parsed into (enabled, source, comment) lines, a present source
//! re-enabled where it is (commented out) or appended to `filename.list` (default: a name made
//! from the URL), an absent one removed where enabled; `changed` when the normalised dump of
//! the files differs, and then every file is written back normalised (an emptied file is
//! removed), new files with `mode`. `update_cache` runs `apt-get update` with the module's
//! retries and puts the files back if it keeps failing. Returns `repo`, `state`,
//! `sources_added`, `sources_removed` and the diff. python-apt is not needed. PPAs
//! (`ppa:...`, which need Launchpad for the signing key) are refused.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value, json};

use super::args::Args;
use super::edit::assign;
use super::file_put::{self, PutOptions};
use super::protocol::{self, field};
use super::registry::{Cx, Unreachable};
use super::{FileDiff, Outcome, Status, Step};

const READ_SH: &str = include_str!("apt_repository_read.sh");
const UPDATE_SH: &str = include_str!("apt_update.sh");

const PARAMS: &[&str] = &[
    "repo",
    "state",
    "mode",
    "update_cache",
    "update-cache",
    "update_cache_retries",
    "update_cache_retry_max_delay",
    "filename",
    "install_python_apt",
    "validate_certs",
    "codename",
];

const VALID: &[&str] = &["deb", "deb-src"];

/// One line of a sources file: (valid, enabled, source, comment).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    valid: bool,
    enabled: bool,
    source: String,
    comment: String,
}

/// The module's `_parse`.
pub fn parse_line(raw: &str) -> Line {
    let mut line = raw.trim().to_string();
    let mut enabled = true;
    if let Some(rest) = line.strip_prefix('#') {
        enabled = false;
        line = rest.to_string();
    }
    let mut comment = String::new();
    if let Some(i) = line.find('#').filter(|i| *i > 0) {
        comment = line[i + 1..].trim().to_string();
        line.truncate(i);
    }
    let mut source = line.trim().to_string();
    let mut valid = false;
    if !source.is_empty() {
        let chunks: Vec<&str> = source.split_whitespace().collect();
        if VALID.contains(&chunks[0]) {
            valid = true;
            source = chunks.join(" ");
        }
    }
    Line {
        valid,
        enabled,
        source,
        comment,
    }
}

/// The module's `dump` of one file's lines.
fn dump(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| {
            let mut s = String::new();
            if !l.enabled {
                s.push_str("# ");
            }
            s.push_str(&l.source);
            if !l.comment.is_empty() {
                s.push_str(" # ");
                s.push_str(&l.comment);
            }
            s.push('\n');
            s
        })
        .collect()
}

/// The module's `_suggest_filename`.
pub fn suggest_filename(source: &str, filename: Option<&str>) -> String {
    if let Some(f) = filename {
        return format!("{f}.list");
    }
    let bracket = regex::Regex::new(r"\[[^\]]+\]").expect("a valid pattern");
    let scheme = regex::Regex::new(r"\w+://").expect("a valid pattern");
    let line = bracket.replace_all(source, "");
    let line = scheme.replace_all(&line, "");
    let parts: Vec<&str> = line
        .split_whitespace()
        .filter(|p| !VALID.contains(p))
        .collect();
    let first = parts.first().copied().unwrap_or_default();
    let first = first.split_once('@').map_or(first, |(_, host)| host);
    let cleaned: String = first
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    format!(
        "{}.list",
        cleaned.split_whitespace().collect::<Vec<_>>().join("_")
    )
}

struct File {
    path: String,
    link: Option<String>,
    raw: String,
    lines: Vec<Line>,
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    run_at(cx, "/etc/apt").await
}

/// As [`run`], with the apt folder elsewhere (tests).
pub async fn run_at(cx: &Cx<'_>, etc_apt: &str) -> Result<Outcome, Unreachable> {
    let a = match Args::new("apt_repository", &cx.args, PARAMS) {
        Ok(a) => a,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let params = (|| {
        Ok::<_, super::ArgError>((
            a.required(&["repo"])?,
            a.choice("state", &["absent", "present"])?
                .unwrap_or_else(|| "present".into()),
            a.mode()?,
            a.bool(&["update_cache", "update-cache"])?.unwrap_or(true),
            a.str(&["update_cache_retries"])?
                .unwrap_or_else(|| "5".into()),
            a.str(&["update_cache_retry_max_delay"])?
                .unwrap_or_else(|| "12".into()),
            a.str(&["filename"])?,
        ))
    })();
    let (repo, state, mode, update, retries, max_delay, filename) = match params {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    if repo.is_empty() {
        return Ok(Outcome::failed(
            "Please set argument 'repo' to a non-empty value",
        ));
    }
    if repo.starts_with("ppa:") {
        return Ok(Outcome::failed(format!(
            "hactl's apt_repository does not add PPAs ({repo}: the module asks Launchpad for \
             the signing key); add the deb line and its key (apt_key, or a signed-by keyring) \
             instead"
        )));
    }
    let wanted = parse_line(&repo);
    if !wanted.valid || !wanted.enabled {
        let mut shown = repo.trim().to_string();
        if let Some(i) = shown.find('#').filter(|i| *i > 0) {
            shown.truncate(i);
        }
        return Ok(Outcome::failed(format!(
            "Invalid repository string: {}",
            shown.trim_start_matches('#')
        )));
    }
    let Some(out) = cx
        .exec(&assign(&[("etc_apt", etc_apt)], READ_SH), b"")
        .await?
    else {
        return Ok(Outcome::offline(cx.module));
    };
    if !out.success() {
        return Ok(protocol::failed_from(
            &out,
            "could not read the apt sources",
        ));
    }
    let f = protocol::fields(&out.stdout);
    if field(&f, "unsupported").is_some() {
        return Ok(Outcome::failed(
            "Module apt_repository is not supported on target.",
        ));
    }
    let mut files: Vec<File> = Vec::new();
    for (k, v) in &f {
        match k.as_str() {
            "file" => files.push(File {
                path: v.clone(),
                link: None,
                raw: String::new(),
                lines: Vec::new(),
            }),
            "link" => {
                if let Some(last) = files.last_mut() {
                    last.link = Some(v.clone());
                }
            }
            "content_b64" => {
                if let Some(last) = files.last_mut() {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(v)
                        .unwrap_or_default();
                    last.raw = String::from_utf8_lossy(&bytes).into_owned();
                    last.lines = last.raw.split_inclusive('\n').map(parse_line).collect();
                }
            }
            _ => {}
        }
    }
    let dumps = |files: &[File]| -> BTreeMap<String, String> {
        files
            .iter()
            .filter(|f| !f.lines.is_empty())
            .map(|f| (f.path.clone(), dump(&f.lines)))
            .collect()
    };
    let before = dumps(&files);
    let mut new_files = Vec::new();
    if state == "present" {
        let mut found = false;
        for file in &mut files {
            for l in &mut file.lines {
                if l.valid && l.source == wanted.source {
                    l.enabled = true;
                    found = true;
                }
            }
        }
        if !found {
            let name = suggest_filename(&wanted.source, filename.as_deref());
            let path = if name.contains('/') {
                name
            } else {
                format!("{etc_apt}/sources.list.d/{name}")
            };
            let line = Line {
                valid: true,
                enabled: true,
                source: wanted.source.clone(),
                comment: String::new(),
            };
            match files.iter_mut().find(|f| f.path == path) {
                Some(file) => file.lines.push(line),
                None => files.push(File {
                    path: path.clone(),
                    link: None,
                    raw: String::new(),
                    lines: vec![line],
                }),
            }
            new_files.push(path);
        }
    } else {
        for file in &mut files {
            file.lines
                .retain(|l| !(l.valid && l.enabled && l.source == wanted.source));
        }
    }
    let after = dumps(&files);
    let changed = before != after;
    let added: Vec<String> = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    let removed: Vec<String> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    let mut diff = Vec::new();
    if changed && cx.mode.diff {
        for name in added.iter().chain(&removed) {
            diff.push(json!({
                "before": before.get(name).cloned().unwrap_or_default(),
                "after": after.get(name).cloned().unwrap_or_default(),
                "before_header": if before.contains_key(name) { name.as_str() } else { "/dev/null" },
                "after_header": if after.contains_key(name) { name.as_str() } else { "/dev/null" },
            }));
        }
    }
    let mut o = Outcome::changed(changed);
    if changed && !cx.mode.check {
        // save(): every file written back as dumped, an emptied one removed.
        for file in &files {
            let text = dump(&file.lines);
            let is_new = !before.contains_key(&file.path) && !file.lines.is_empty();
            if !file.lines.is_empty() && text == file.raw && !is_new {
                continue;
            }
            let dest = match &file.link {
                Some(t) if t.starts_with('/') => t.clone(),
                Some(t) => std::path::Path::new(&file.path)
                    .parent()
                    .map(|d| d.join(t).display().to_string())
                    .unwrap_or_else(|| t.clone()),
                None => file.path.clone(),
            };
            let step = if file.lines.is_empty() {
                let rm = assign(
                    &[("path", dest.as_str()), ("check", "0"), ("msg", "")],
                    super::edit::REMOVE_SH,
                );
                match cx.exec(&rm, b"").await? {
                    Some(r) if !r.success() => {
                        return Ok(protocol::failed_from(&r, "could not remove the file"));
                    }
                    _ => continue,
                }
            } else {
                let put = PutOptions {
                    dest: dest.clone(),
                    mode: if new_files.contains(&file.path) {
                        mode.clone()
                    } else {
                        None
                    },
                    name: dest.rsplit('/').next().unwrap_or_default().to_string(),
                    ..PutOptions::default()
                };
                let mut step = file_put::plan(text.into_bytes(), &put, super::Mode::default());
                if let Step::Remote(r) = &mut step {
                    r.script = assign(&[("hactl_parents", "1")], &r.script);
                }
                step
            };
            let wrote = cx.step(step).await?;
            if wrote.status == Status::Failed {
                return Ok(wrote);
            }
        }
        if update {
            let script = assign(
                &[
                    ("retries", retries.as_str()),
                    ("max_delay", max_delay.as_str()),
                ],
                UPDATE_SH,
            );
            if let Some(u) = cx.exec(&script, b"").await? {
                let warnings: Vec<Value> = protocol::fields(&u.stdout)
                    .into_iter()
                    .filter(|(k, _)| k == "warning")
                    .map(|(_, v)| json!(v))
                    .collect();
                if !u.success() {
                    // revert_sources_list: new files go, the others get their old text back.
                    for file in &files {
                        let dest = file.path.clone();
                        let old = before.get(&file.path);
                        let script = match old {
                            None => assign(
                                &[("path", dest.as_str()), ("check", "0"), ("msg", "")],
                                super::edit::REMOVE_SH,
                            ),
                            Some(_) if file.raw.is_empty() => continue,
                            Some(_) => {
                                let put = PutOptions {
                                    dest: dest.clone(),
                                    name: dest.rsplit('/').next().unwrap_or_default().into(),
                                    ..PutOptions::default()
                                };
                                if let Step::Remote(r) = file_put::plan(
                                    file.raw.clone().into_bytes(),
                                    &put,
                                    super::Mode::default(),
                                ) {
                                    cx.exec(&r.script, &r.stdin).await?;
                                }
                                continue;
                            }
                        };
                        cx.exec(&script, b"").await?;
                    }
                    let mut failed = protocol::failed_from(&u, "apt-get update failed");
                    failed.result.remove("rc");
                    if !warnings.is_empty() {
                        failed = failed.with("warnings", Value::Array(warnings));
                    }
                    return Ok(failed);
                }
                if !warnings.is_empty() {
                    o = o.with("warnings", Value::Array(warnings));
                }
            }
        }
    }
    if cx.mode.diff && changed {
        if let Some(d) = diff.first() {
            o.diff = Some(FileDiff {
                path: d["after_header"].as_str().unwrap_or_default().to_string(),
                before: Some(d["before"].as_str().unwrap_or_default().to_string()),
                after: d["after"].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    Ok(o.with("repo", repo)
        .with("sources_added", added)
        .with("sources_removed", removed)
        .with("state", state)
        .with("diff", Value::Array(diff)))
}

#[derive(Debug)]
pub struct AptRepository;

impl super::registry::Module for AptRepository {
    fn spec(&self) -> &'static super::registry::Spec {
        static SPEC: super::registry::Spec = super::registry::Spec {
            name: "apt_repository",
            aliases: &[],
            runs: super::registry::Runs::Host,
            free_form: false,
            params: Some(PARAMS),
            check_mode: true,
            about: "one-line apt sources in sources.list(.d)",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Mode;
    use crate::modules::testutil::{CxParts, Host, args};

    #[test]
    fn lines_and_file_names_as_the_module() {
        let l = parse_line("deb  http://x/debian   bookworm main # mine\n");
        assert_eq!(
            (l.valid, l.enabled, l.source.as_str(), l.comment.as_str()),
            (true, true, "deb http://x/debian bookworm main", "mine")
        );
        let c = parse_line("#deb-src http://x/ b m\n");
        assert!(c.valid && !c.enabled);
        assert_eq!(
            dump(&[parse_line("#comment\n"), parse_line("\n")]),
            "# comment\n\n"
        );
        assert_eq!(
            suggest_filename(
                "deb [signed-by=/k.gpg] https://user:pw@packages.nginx.org/nginx/debian bookworm nginx",
                None
            ),
            "packages_nginx_org_nginx_debian.list"
        );
        assert_eq!(
            suggest_filename("deb http://x/ a b", Some("nginx")),
            "nginx.list"
        );
    }

    #[test]
    fn adds_then_is_ok_then_removes_in_a_temp_apt_folder() {
        let h = Host::new();
        let apt = h.path("etc/apt");
        std::fs::create_dir_all(apt.join("sources.list.d")).expect("mkdir");
        std::fs::write(
            apt.join("sources.list"),
            "#deb http://old/ x main\ndeb http://deb.debian.org/debian bookworm main\n",
        )
        .expect("w");
        h.recording("apt-get", "");
        let apt = apt.display().to_string();
        let parts = CxParts::new("apt_repository");
        let run = |a: serde_json::Value, check: bool| {
            let cx = parts.cx(&h, "apt_repository", args(a), Mode { check, diff: true });
            futures::executor::block_on(run_at(&cx, &apt)).expect("reachable")
        };
        let repo = "deb [signed-by=/usr/share/keyrings/n.gpg] https://packages.nginx.org/nginx/debian bookworm nginx";
        let check = run(
            json!({"repo": repo, "filename": "nginx", "mode": "0640"}),
            true,
        );
        assert_eq!(check.status, Status::Changed, "{check:?}");
        assert!(!h.path("etc/apt/sources.list.d/nginx.list").exists());
        let add = run(
            json!({"repo": repo, "filename": "nginx", "mode": "0640"}),
            false,
        );
        assert_eq!(add.status, Status::Changed, "{add:?}");
        let new = h.path("etc/apt/sources.list.d/nginx.list");
        assert_eq!(
            std::fs::read_to_string(&new).expect("r"),
            format!("{repo}\n")
        );
        assert_eq!(crate::modules::testutil::mode_of(&new), 0o640);
        assert_eq!(
            add.result["sources_added"],
            json!([new.display().to_string()])
        );
        assert_eq!(h.calls("apt-get"), vec![vec!["update", "-q"]]);
        // sources.list was rewritten normalised, as the module's save() does.
        assert_eq!(
            std::fs::read_to_string(h.path("etc/apt/sources.list")).expect("r"),
            "# deb http://old/ x main\ndeb http://deb.debian.org/debian bookworm main\n"
        );
        let again = run(json!({"repo": repo, "filename": "nginx"}), false);
        assert_eq!(again.status, Status::Ok, "{again:?}");
        // A commented-out source is enabled where it is.
        let old = run(
            json!({"repo": "deb http://old/ x main", "update_cache": false}),
            false,
        );
        assert_eq!(old.status, Status::Changed);
        assert!(
            std::fs::read_to_string(h.path("etc/apt/sources.list"))
                .expect("r")
                .starts_with("deb http://old/ x main\n")
        );
        let gone = run(
            json!({"repo": repo, "state": "absent", "update_cache": false}),
            false,
        );
        assert_eq!(gone.status, Status::Changed, "{gone:?}");
        assert!(!new.exists());
        assert_eq!(
            gone.result["sources_removed"],
            json!([new.display().to_string()])
        );
        let ppa = run(json!({"repo": "ppa:vbernat/haproxy-2.8"}), false);
        assert!(ppa.msg().expect("msg").contains("does not add PPAs"));
        let bad = run(json!({"repo": "xdeb http://x/ a"}), false);
        assert_eq!(
            bad.msg(),
            Some("Invalid repository string: xdeb http://x/ a")
        );
    }

    #[test]
    fn a_failing_update_puts_the_files_back() {
        let h = Host::new();
        let apt = h.path("etc/apt");
        std::fs::create_dir_all(apt.join("sources.list.d")).expect("mkdir");
        h.fake("apt-get", "echo 'E: Failed to fetch' >&2; exit 100");
        h.fake("sleep", "true");
        let apt = apt.display().to_string();
        let parts = CxParts::new("apt_repository");
        let cx = parts.cx(
            &h,
            "apt_repository",
            args(json!({"repo": "deb http://x/ a b", "update_cache_retries": 2})),
            Mode::default(),
        );
        let o = futures::executor::block_on(run_at(&cx, &apt)).expect("reachable");
        assert_eq!(o.status, Status::Failed, "{o:?}");
        assert_eq!(
            o.msg(),
            Some("Failed to update apt cache after 2 retries: E: Failed to fetch")
        );
        assert!(!h.path("etc/apt/sources.list.d/x.list").exists());
    }
}
