//! `cron`: a job (or, with `env`, a variable) in a user's crontab or in a `cron_file`, named by
//! the `#Ansible: NAME` line above it exactly as ansible-core writes it, with its rules for
//! finding, adding, updating and removing (a `cron_file` left empty is deleted). The crontab is
//! read in one round trip (`crontab -l`, with `-u USER` when the user is not the one running,
//! or the file), edited on the controller, and written back with `crontab FILE` or, for a
//! `cron_file`, through `file_put`. Returns `jobs`, `envs`, `cron_file`, `backup_file` and
//! the diff as Ansible does.

use base64::Engine as _;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::ArgError;
use super::args::Args;
use super::edit::{self, assign};
use super::file_put::PutOptions;
use super::protocol::{self, field};
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{FileDiff, Outcome, Status};

const PARAMS: &[&str] = &[
    "name",
    "user",
    "job",
    "value",
    "cron_file",
    "state",
    "backup",
    "minute",
    "hour",
    "day",
    "dom",
    "month",
    "weekday",
    "dow",
    "special_time",
    "disabled",
    "env",
    "insertafter",
    "insertbefore",
];

const MARK: &str = "#Ansible: ";

/// Reads the crontab: `hactl:rc=N`, then the crontab after a `hactl:crontab` line.
/// Arguments: `user` (may be empty), `file` (a cron_file, or empty).
const READ_SH: &str = include_str!("cron_read.sh");

/// Installs the crontab from stdin (`crontab [-u USER] FILE`), first saving the old one to a
/// backup file when `backup_b64` is set.
const WRITE_SH: &str = include_str!("cron_write.sh");

#[derive(Debug, Clone, Default)]
pub struct Params {
    pub name: String,
    pub user: Option<String>,
    pub job: Option<String>,
    pub cron_file: Option<String>,
    /// `cron_file` as the task gave it (what Ansible returns).
    pub cron_file_arg: Option<String>,
    pub present: bool,
    pub backup: bool,
    pub minute: String,
    pub hour: String,
    pub day: String,
    pub month: String,
    pub weekday: String,
    pub special_time: Option<String>,
    pub disabled: bool,
    pub env: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("cron", args, PARAMS)?;
    let state = a
        .choice("state", &["present", "absent"])?
        .unwrap_or_else(|| "present".into());
    let special_time = a.choice(
        "special_time",
        &[
            "reboot", "yearly", "annually", "monthly", "weekly", "daily", "hourly",
        ],
    )?;
    let star = |names: &[&str]| -> Result<String, ArgError> {
        Ok(a.str(names)?.unwrap_or_else(|| "*".into()))
    };
    let p = Params {
        name: a.required(&["name"])?,
        user: a.str(&["user"])?,
        job: a.str(&["job", "value"])?,
        cron_file: a.str(&["cron_file"])?.map(|f| {
            if f.starts_with('/') {
                f
            } else {
                format!("/etc/cron.d/{f}")
            }
        }),
        cron_file_arg: a.str(&["cron_file"])?,
        present: state == "present",
        backup: a.bool(&["backup"])?.unwrap_or(false),
        minute: star(&["minute"])?,
        hour: star(&["hour"])?,
        day: star(&["day", "dom"])?,
        month: star(&["month"])?,
        weekday: star(&["weekday", "dow"])?,
        special_time,
        disabled: a.bool(&["disabled"])?.unwrap_or(false),
        env: a.bool(&["env"])?.unwrap_or(false),
        insertafter: a.str(&["insertafter"])?,
        insertbefore: a.str(&["insertbefore"])?,
    };
    if p.insertafter.is_some() && p.insertbefore.is_some() {
        return Err(ArgError(
            "parameters are mutually exclusive: insertafter|insertbefore".into(),
        ));
    }
    if p.cron_file.as_deref() == Some("/etc/crontab") {
        return Err(ArgError(
            "Will not manage /etc/crontab via cron_file, see documentation.".into(),
        ));
    }
    let times = [&p.minute, &p.hour, &p.day, &p.month, &p.weekday];
    if p.special_time.is_some() && times.iter().any(|t| *t != "*") {
        return Err(ArgError(
            "You cannot combine special_time with any of the time or day/date parameters.".into(),
        ));
    }
    if p.present {
        if p.cron_file.is_some() && p.user.is_none() {
            return Err(ArgError(
                "To use cron_file=... parameter you must specify user=... as well".into(),
            ));
        }
        if p.job.is_none() {
            return Err(ArgError(
                "You must specify 'job' to install a new cron job or variable".into(),
            ));
        }
        if (p.insertafter.is_some() || p.insertbefore.is_some()) && !p.env {
            return Err(ArgError(
                "Insertafter and insertbefore parameters are valid only with env=yes".into(),
            ));
        }
    }
    if p.env && p.name.contains(' ') {
        return Err(ArgError("Invalid name for environment variable".into()));
    }
    Ok(p)
}

/// A crontab as ansible-core's `CronTab` holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CronTab {
    pub lines: Vec<String>,
    /// The text as read (without the header lines `crontab -l` adds on some systems).
    pub existing: String,
    pub cron_file: bool,
}

fn starts_with_name(l: &str, name: &str) -> bool {
    // `re.match(r'^%s=' % name, l)`: the name is a pattern; env names are plain words.
    l.strip_prefix(name).is_some_and(|r| r.starts_with('='))
}

impl CronTab {
    /// A crontab from what `crontab -l` printed (or a cron_file's text).
    pub fn read(text: &str, cron_file: bool) -> CronTab {
        let mut t = CronTab {
            cron_file,
            existing: text.to_string(),
            ..CronTab::default()
        };
        let all: Vec<&str> = text.lines().collect();
        for (count, l) in all.iter().enumerate() {
            let header = !cron_file
                && count <= 2
                && (l.starts_with("# DO NOT EDIT THIS FILE - edit the master and reinstall.")
                    || (l.starts_with("# (/tmp/")
                        && l.contains("installed on")
                        && l.ends_with(')'))
                    || (l.starts_with("# (") && l.contains("version")));
            if header {
                for eol in ["\r\n", "\n", "\r", ""] {
                    let with = format!("{l}{eol}");
                    if let Some(at) = t.existing.find(&with) {
                        t.existing.replace_range(at..at + with.len(), "");
                        break;
                    }
                }
            } else {
                t.lines.push((*l).to_string());
            }
        }
        t
    }

    pub fn render(&self) -> String {
        let r = self.lines.join("\n");
        if r.is_empty() {
            r
        } else {
            format!("{}\n", r.trim_end_matches(['\r', '\n']))
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.iter().all(|l| l.trim().is_empty())
    }

    fn find_job(&mut self, name: &str, job: Option<&str>) -> Vec<String> {
        let mut comment: Option<String> = None;
        for l in &self.lines {
            if let Some(c) = &comment {
                if c == name {
                    return vec![c.clone(), l.clone()];
                }
                comment = None;
            } else if let Some(rest) = l.strip_prefix(MARK) {
                comment = Some(rest.to_string());
            }
        }
        if let Some(job) = job {
            for i in 0..self.lines.len() {
                if self.lines[i] != job {
                    continue;
                }
                // Python's lines[i - 1] at i = 0 is the last line.
                let prev = if i == 0 { self.lines.len() - 1 } else { i - 1 };
                if !self.lines[prev].starts_with(MARK) {
                    self.lines.insert(i, format!("{MARK}{name}"));
                    return vec![self.lines[i].clone(), job.to_string(), String::new()];
                } else if !name.is_empty() && self.lines[prev] == format!("{MARK}None") {
                    self.lines[prev] = format!("{MARK}{name}");
                    return vec![self.lines[prev].clone(), job.to_string(), String::new()];
                }
            }
        }
        Vec::new()
    }

    fn update_job(&mut self, name: &str, job: Option<&str>) {
        let mark = format!("{MARK}{name}");
        let mut out = Vec::new();
        let mut comment: Option<String> = None;
        for l in self.lines.drain(..) {
            if let Some(c) = comment.take() {
                if let Some(job) = job {
                    out.push(c);
                    out.push(job.to_string());
                }
            } else if l == mark {
                comment = Some(l);
            } else {
                out.push(l);
            }
        }
        self.lines = out;
    }

    fn find_env(&self, name: &str) -> Option<(usize, String)> {
        self.lines
            .iter()
            .enumerate()
            .find(|(_, l)| starts_with_name(l, name))
            .map(|(i, l)| (i, l.clone()))
    }

    fn update_env(&mut self, name: &str, decl: Option<&str>) {
        let mut out = Vec::new();
        for l in self.lines.drain(..) {
            if starts_with_name(&l, name) {
                if let Some(d) = decl {
                    out.push(d.to_string());
                }
            } else {
                out.push(l);
            }
        }
        self.lines = out;
    }

    pub fn jobnames(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix(MARK).map(str::to_string))
            .collect()
    }

    pub fn envnames(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter(|l| {
                l.split_once('=')
                    .is_some_and(|(k, _)| !k.is_empty() && !k.contains(char::is_whitespace))
            })
            .map(|l| l.split('=').next().unwrap_or_default().to_string())
            .collect()
    }
}

/// The job line as ansible-core writes it.
pub fn job_line(p: &Params) -> String {
    let job = p
        .job
        .as_deref()
        .unwrap_or_default()
        .trim_matches(['\r', '\n']);
    let prefix = if p.disabled { "#" } else { "" };
    let user = match (&p.cron_file, &p.user) {
        (Some(_), Some(u)) => format!(" {u}"),
        _ => String::new(),
    };
    match &p.special_time {
        Some(s) => format!("{prefix}@{s}{user} {job}"),
        None => format!(
            "{prefix}{} {} {} {} {}{user} {job}",
            p.minute, p.hour, p.day, p.month, p.weekday
        ),
    }
}

/// What the edit does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Write (or not) the new crontab.
    Write { changed: bool },
    /// A cron_file left with nothing in it: delete it.
    RemoveFile,
}

pub fn edit(t: &mut CronTab, p: &Params) -> Result<Edit, String> {
    let mut changed = false;
    if p.env {
        let decl = format!("{}=\"{}\"", p.name, p.job.as_deref().unwrap_or_default());
        let old = t.find_env(&p.name);
        if p.present {
            match old {
                None => {
                    match (&p.insertafter, &p.insertbefore) {
                        (None, None) => t.lines.insert(0, decl),
                        (a, b) => {
                            let other = a.as_deref().or(b.as_deref()).unwrap_or_default();
                            let Some((i, _)) = t.find_env(other) else {
                                return Err(format!("Variable named '{other}' not found."));
                            };
                            let at = if a.is_some() { i + 1 } else { i };
                            t.lines.insert(at, decl);
                        }
                    }
                    changed = true;
                }
                Some((_, line)) if line != decl => {
                    t.update_env(&p.name, Some(&decl));
                    changed = true;
                }
                Some(_) => {}
            }
        } else if old.is_some() {
            t.update_env(&p.name, None);
            changed = true;
        }
    } else if p.present {
        let job = job_line(p);
        let old = t.find_job(&p.name, Some(&job));
        if old.is_empty() {
            t.lines.push(format!("{MARK}{}", p.name));
            t.lines.push(job.clone());
            changed = true;
        }
        if old.len() > 1 && old[1] != job || old.len() > 2 {
            t.update_job(&p.name, Some(&job));
            changed = true;
        }
    } else if !t.find_job(&p.name, None).is_empty() {
        t.update_job(&p.name, None);
        changed = true;
        if t.cron_file && t.is_empty() {
            return Ok(Edit::RemoveFile);
        }
    }
    if !changed && !t.existing.is_empty() && !t.existing.ends_with(['\r', '\n']) {
        changed = true;
    }
    Ok(Edit::Write { changed })
}

#[derive(Debug)]
pub struct Cron;

static SPEC: Spec = Spec {
    name: "cron",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "a job or variable in a crontab or a cron_file",
};

impl Module for Cron {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

fn header(p: &Params) -> String {
    match (&p.cron_file, &p.user) {
        (Some(f), _) => f.clone(),
        (None, Some(u)) => format!("crontab for user \"{u}\""),
        (None, None) => "crontab".into(),
    }
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let file = p.cron_file.clone().unwrap_or_default();
    let user = p.user.clone().unwrap_or_default();
    let script = assign(&[("user", &user), ("file", &file)], READ_SH);
    let Some(out) = cx.exec(&script, b"").await? else {
        return Ok(Outcome::offline(cx.module));
    };
    if !out.success() {
        return Ok(protocol::failed_from(&out, "Unable to read crontab"));
    }
    let marker = b"hactl:crontab\n";
    let text = out
        .stdout
        .windows(marker.len())
        .position(|w| w == marker)
        .map(|at| String::from_utf8_lossy(&out.stdout[at + marker.len()..]).into_owned())
        .unwrap_or_default();
    let mut t = CronTab::read(&text, p.cron_file.is_some());
    let backup_text = t.render();
    let before = t.existing.clone();
    let edit = match edit(&mut t, &p) {
        Ok(e) => e,
        Err(msg) => return Ok(Outcome::failed(msg)),
    };
    let changed = match edit {
        Edit::RemoveFile => {
            let existed = out.stdout.starts_with(marker);
            let mut o = Outcome::changed(existed);
            if !cx.mode.check {
                let rm = assign(
                    &[("path", &file), ("check", "0"), ("msg", "")],
                    edit::REMOVE_SH,
                );
                if let Some(r) = cx.exec(&rm, b"").await? {
                    if !r.success() {
                        o = Outcome::changed(false);
                    }
                }
            }
            if cx.mode.diff && o.status == Status::Changed {
                o.diff = Some(FileDiff {
                    path: file.clone(),
                    before: Some(before),
                    after: String::new(),
                });
            }
            return Ok(o
                .with("cron_file", p.cron_file_arg.clone().unwrap_or_default())
                .with("state", "absent"));
        }
        Edit::Write { changed } => changed,
    };
    let mut o = Outcome::changed(changed);
    if changed && !cx.mode.check {
        let rendered = t.render().into_bytes();
        let wrote = if let Some(f) = &p.cron_file {
            let put = PutOptions {
                dest: f.clone(),
                backup: false,
                ..PutOptions::default()
            };
            let existed = out.stdout.starts_with(marker);
            edit::write(cx, &put, existed, rendered, true).await?
        } else {
            let b64 = if p.backup {
                base64::engine::general_purpose::STANDARD.encode(backup_text.as_bytes())
            } else {
                String::new()
            };
            let script = assign(&[("user", &user), ("backup_b64", &b64)], WRITE_SH);
            match cx.exec(&script, &rendered).await? {
                None => return Ok(Outcome::offline(cx.module)),
                Some(w) if !w.success() => return Ok(protocol::failed_from(&w, "crontab failed")),
                Some(w) => {
                    let f = protocol::fields(&w.stdout);
                    let mut o = Outcome::changed(true);
                    if let Some(b) = field(&f, "backup_file") {
                        o = o.with("backup_file", b);
                    }
                    o
                }
            }
        };
        if wrote.status == Status::Failed {
            return Ok(wrote);
        }
        if let Some(b) = wrote.result.get("backup_file") {
            o = o.with("backup_file", b.clone());
        }
    }
    if changed && cx.mode.diff {
        o.diff = Some(FileDiff {
            path: header(&p),
            before: Some(before),
            after: t.render(),
        });
    }
    let mut o = o
        .with("jobs", json!(t.jobnames()))
        .with("envs", json!(t.envnames()));
    if let Some(f) = &p.cron_file_arg {
        o = o.with("cron_file", f.clone());
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: Value) -> Params {
        params(v.as_object().expect("map")).expect("params")
    }

    #[test]
    fn adds_updates_and_removes_jobs_with_ansibles_markers() {
        let mut t = CronTab::read("MAILTO=x\n", false);
        let job = p(json!({"name": "backup", "minute": "0", "hour": "2", "job": "/bin/backup"}));
        assert_eq!(edit(&mut t, &job), Ok(Edit::Write { changed: true }));
        assert_eq!(
            t.render(),
            "MAILTO=x\n#Ansible: backup\n0 2 * * * /bin/backup\n"
        );
        assert_eq!(t.jobnames(), vec!["backup".to_string()]);
        assert_eq!(t.envnames(), vec!["MAILTO".to_string()]);
        let mut again = CronTab::read(&t.render(), false);
        assert_eq!(edit(&mut again, &job), Ok(Edit::Write { changed: false }));
        let moved = p(
            json!({"name": "backup", "special_time": "daily", "job": "/bin/backup", "disabled": true}),
        );
        assert_eq!(edit(&mut again, &moved), Ok(Edit::Write { changed: true }));
        assert_eq!(
            again.render(),
            "MAILTO=x\n#Ansible: backup\n#@daily /bin/backup\n"
        );
        let gone = p(json!({"name": "backup", "state": "absent"}));
        assert_eq!(edit(&mut again, &gone), Ok(Edit::Write { changed: true }));
        assert_eq!(again.render(), "MAILTO=x\n");
    }

    #[test]
    fn cron_files_name_the_user_and_go_when_empty() {
        let mut t = CronTab::read("", true);
        let job = p(json!({"name": "x", "job": "true", "cron_file": "hactl", "user": "root"}));
        assert_eq!(job.cron_file.as_deref(), Some("/etc/cron.d/hactl"));
        edit(&mut t, &job).expect("edit");
        assert_eq!(t.render(), "#Ansible: x\n* * * * * root true\n");
        let mut t = CronTab::read(&t.render(), true);
        let gone = p(json!({"name": "x", "cron_file": "hactl", "state": "absent"}));
        assert_eq!(edit(&mut t, &gone), Ok(Edit::RemoveFile));
    }

    #[test]
    fn an_unmarked_identical_job_is_adopted() {
        let mut t = CronTab::read("0 2 * * * /bin/backup\n", false);
        let job = p(json!({"name": "backup", "minute": "0", "hour": "2", "job": "/bin/backup"}));
        assert_eq!(edit(&mut t, &job), Ok(Edit::Write { changed: true }));
        assert_eq!(t.render(), "#Ansible: backup\n0 2 * * * /bin/backup\n");
    }

    #[test]
    fn env_variables() {
        let mut t = CronTab::read("A=1\n", false);
        let v = p(json!({"name": "B", "job": "2", "env": true, "insertafter": "A"}));
        edit(&mut t, &v).expect("edit");
        assert_eq!(t.render(), "A=1\nB=\"2\"\n");
        let v = p(json!({"name": "C", "job": "3", "env": true}));
        edit(&mut t, &v).expect("edit");
        assert_eq!(t.render(), "C=\"3\"\nA=1\nB=\"2\"\n");
    }

    #[test]
    fn headers_of_crontab_l_are_dropped() {
        let t = CronTab::read(
            "# DO NOT EDIT THIS FILE - edit the master and reinstall.\n# (/tmp/crontab.X installed on Mon)\n# (Cron version -- $Id$)\n#Ansible: a\n* * * * * x\n",
            false,
        );
        assert_eq!(
            t.lines,
            vec!["#Ansible: a".to_string(), "* * * * * x".to_string()]
        );
        assert_eq!(t.existing, "#Ansible: a\n* * * * * x\n");
    }

    #[test]
    fn argument_errors() {
        let err = params(
            json!({"name": "x", "job": "y", "cron_file": "f"})
                .as_object()
                .expect("map"),
        )
        .expect_err("user");
        assert_eq!(
            err.0,
            "To use cron_file=... parameter you must specify user=... as well"
        );
        let err = params(
            json!({"name": "x", "job": "y", "special_time": "daily", "hour": "1"})
                .as_object()
                .expect("map"),
        )
        .expect_err("special");
        assert!(err.0.starts_with("You cannot combine special_time"));
    }

    use crate::modules::testutil::Host;

    #[test]
    fn scripts_read_and_install_with_crontab() {
        let host = Host::new();
        let store = host.path("tab").to_string_lossy().into_owned();
        host.recording(
            "crontab",
            &format!(
                r#"store='{store}'
for a in "$@"; do last=$a; done
if [ "$last" = -l ]; then [ -f "$store" ] || {{ echo "no crontab for x" >&2; exit 1; }}; cat "$store"; exit 0; fi
cp "$last" "$store""#
            ),
        );
        let read = assign(&[("user", ""), ("file", "")], READ_SH);
        let out = host.exec(&read, b"");
        assert!(out.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hactl:crontab\n");
        let write = assign(
            &[("user", "someone-else"), ("backup_b64", "b2xkCg==")],
            WRITE_SH,
        );
        let out = host.exec(&write, b"#Ansible: a\n* * * * * x\n");
        assert!(out.success(), "{out:?}");
        assert_eq!(
            std::fs::read_to_string(host.path("tab")).expect("tab"),
            "#Ansible: a\n* * * * * x\n"
        );
        let calls = host.calls("crontab");
        assert_eq!(
            &calls[1][..2],
            &["-u".to_string(), "someone-else".to_string()]
        );
        let fields = protocol::fields(&out.stdout);
        let backup = field(&fields, "backup_file").expect("backup").to_string();
        assert_eq!(std::fs::read_to_string(&backup).expect("backup"), "old\n");
        let _ = std::fs::remove_file(backup);
    }
}
