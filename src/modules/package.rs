//! `package` and its aliases `apt`, `yum`, `dnf`: names present, absent or latest, checked
//! with the package database on the host (`dpkg-query`, `rpm -q`) so nothing runs when
//! nothing would change. `package` picks the host's manager; `apt`/`yum`/`dnf` insist on theirs.
//!
//! apt's `update_cache` and `cache_valid_time` work as in Ansible's apt module: the cache is
//! updated first (retried as `update_cache_retries`/`update_cache_retry_max_delay` say) when it
//! is older than `cache_valid_time` seconds (default 0: always), and `cache_valid_time` alone
//! asks for the update too. The cache's age is the mtime of
//! /var/lib/apt/periodic/update-success-stamp, else of /var/lib/apt/lists, in whole seconds.

use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, with_args};
use super::{ArgError, Mode, Outcome, Remote, Step};

const PARAMS: &[&str] = &[
    "name",
    "pkg",
    "state",
    "update_cache",
    "cache_valid_time",
    "update_cache_retries",
    "update_cache_retry_max_delay",
    "install_recommends",
    "use",
    "allow_downgrade",
    "autoremove",
    "purge",
    "enablerepo",
    "disablerepo",
    "disable_gpg_check",
    "force",
    "default_release",
    "only_upgrade",
];

// Names arrive as positional parameters, one word each, already checked by [`check_name`];
// they go to the tools as separate quoted arguments after `--`, and nothing is globbed.
const SCRIPT: &str = include_str!("package.sh");
/// `apt-get update` with retries, shared with apt_repository; here the function `apt_update`.
const UPDATE_SH: &str = include_str!("apt_update.sh");

pub fn plan(
    module: &str,
    args: &Map<String, Value>,
    mode: Mode,
    facts: &Map<String, Value>,
) -> Result<Step, ArgError> {
    let a = Args::new(module, args, PARAMS)?;
    let names = a.list(&["name", "pkg"])?;
    let int =
        |name: &str, default: i64| super::user::int(&a, &[name]).map(|v| v.unwrap_or(default));
    let valid = int("cache_valid_time", 0)?;
    let retries = int("update_cache_retries", 5)?;
    let max_delay = int("update_cache_retry_max_delay", 12)?;
    // Ansible's apt updates when either is set (`if p['update_cache'] or p['cache_valid_time']`).
    let update = a.bool(&["update_cache"])?.unwrap_or(false) || valid > 0;
    if names.is_empty() && !update {
        return Err(ArgError("missing required arguments: name".into()));
    }
    let state = a
        .choice(
            "state",
            &["present", "installed", "absent", "removed", "latest"],
        )?
        .unwrap_or_else(|| "present".into());
    let mgr = match module {
        "apt" => "apt".to_string(),
        "yum" | "dnf" => "dnf".to_string(),
        _ => match facts.get("ansible_pkg_mgr").and_then(Value::as_str) {
            Some(m) if m != "unknown" => m.to_string(),
            _ => "auto".to_string(),
        },
    };
    let removing = matches!(state.as_str(), "absent" | "removed");
    let mut wanted: Vec<&str> = Vec::with_capacity(names.len());
    for name in &names {
        match check_name(&mgr, &state, name)? {
            Name::Valid => wanted.push(name),
            // A name no package can have is not installed: removing it changes nothing, as
            // Ansible reports; installing it fails with Ansible's words, before any tool runs.
            Name::Invalid if removing => {}
            Name::Invalid => return Ok(Step::Done(no_such_package(&mgr, name))),
        }
    }
    let flag = |b: bool| if b { "1" } else { "0" };
    let mut argv: Vec<&str> = vec![&mgr, &state, flag(mode.check), flag(update)];
    argv.extend(wanted);
    let body = format!("apt_update() (\n{UPDATE_SH}\n)\n{SCRIPT}");
    let script = protocol::with_vars(
        &with_args(&body, &argv),
        &[
            ("valid", &valid.to_string()),
            ("retries", &retries.to_string()),
            ("max_delay", &max_delay.to_string()),
        ],
    );
    let module = module.to_string();
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            let fields = protocol::fields(&out.stdout);
            if let Some(m) = field(&fields, "missing_manager") {
                return missing_manager(&module, m);
            }
            let warnings: Vec<Value> = fields
                .iter()
                .filter(|(k, _)| k == "warning")
                .map(|(_, v)| Value::String(v.clone()))
                .collect();
            if !out.success() {
                let mut failed =
                    protocol::failed_from(&out, "package operation failed").with("changed", false);
                if !warnings.is_empty() {
                    failed = failed.with("warnings", Value::Array(warnings));
                }
                return failed;
            }
            let changed = field(&fields, "changed") == Some("1");
            let mut outcome = Outcome::changed(changed);
            if let Some(u) = field(&fields, "cache_updated") {
                outcome = outcome.with("cache_updated", u == "1");
            }
            if let Some(t) = field(&fields, "cache_update_time").and_then(|t| t.parse::<i64>().ok())
            {
                outcome = outcome.with("cache_update_time", t);
            }
            if let Some(p) = field(&fields, "packages") {
                let list: Vec<Value> = p
                    .split_whitespace()
                    .map(|s| Value::String(s.into()))
                    .collect();
                outcome = outcome.with("packages", list);
            }
            outcome
        }),
    }))
}

/// What a name in `name:` is, for the package tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    /// A package name (with `:arch` or `=version` where apt takes them): safe as one argument.
    Valid,
    /// No package can have this name (`--help`, words with spaces or shell characters).
    Invalid,
}

/// Checks a name against the package name syntax of the manager (`auto`: a name valid for
/// both apt and dnf). Forms the real modules accept but hactl cannot check on the host
/// (patterns, version comparisons, files, URLs, groups) are refused with an error.
fn check_name(mgr: &str, state: &str, spec: &str) -> Result<Name, ArgError> {
    let unsupported = |what: &str| {
        Err(ArgError(format!(
            "hactl does not support {what} in package names yet: '{spec}'"
        )))
    };
    if spec.contains("://") || spec.starts_with('/') || spec.starts_with("./") {
        return unsupported("a file or URL");
    }
    if spec.contains(['*', '?', '[']) {
        return unsupported("a pattern");
    }
    if spec.contains(['<', '>']) || spec.contains(" = ") {
        return unsupported("a version comparison");
    }
    if mgr != "apt" && spec.starts_with('@') {
        return unsupported("a group or module");
    }
    if mgr == "auto" && spec.contains('=') {
        return unsupported(
            "a version when the package manager is not known (gather facts or use apt)",
        );
    }
    let (name, version) = match spec.split_once('=') {
        Some((n, v)) if mgr == "apt" => (n, Some(v)),
        _ => (spec, None),
    };
    if version.is_some() && state == "latest" {
        return Err(ArgError(format!(
            "hactl does not support a version with state=latest: '{spec}'"
        )));
    }
    let ok = if mgr == "apt" {
        debian_name(name) && version.is_none_or(debian_version)
    } else {
        rpm_name(name)
    };
    Ok(if ok { Name::Valid } else { Name::Invalid })
}

/// Debian policy 5.6.1: lowercase letters, digits, `+ - .`, starting with a letter or digit;
/// apt also takes `:arch`.
fn debian_name(s: &str) -> bool {
    let (name, arch) = match s.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (s, None),
    };
    let lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    name.starts_with(lower)
        && name.chars().all(|c| lower(c) || "+-.".contains(c))
        && arch.is_none_or(|a| !a.is_empty() && a.chars().all(|c| lower(c) || c == '-'))
}

/// Debian policy 5.6.12: `[epoch:]upstream[-revision]`, letters, digits and `. + ~ : -`.
fn debian_version(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~:-".contains(c))
}

/// An RPM name, optionally with `-version-release.arch` (and an epoch `N:`), as `rpm -q` and
/// `dnf install` take it.
fn rpm_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-~^:".contains(c))
}

/// Ansible's failure for a name no package has (apt names the part before `=`).
fn no_such_package(mgr: &str, spec: &str) -> Outcome {
    let msg = match mgr {
        "apt" => {
            let name = spec.split_once('=').map_or(spec, |(n, _)| n);
            let name = name.strip_suffix('>').unwrap_or(name);
            format!("No package matching '{name}' is available")
        }
        "auto" => format!("No package matching '{spec}' is available"),
        _ => format!("No package {spec} available."),
    };
    Outcome::failed(msg).with("changed", false)
}

/// The failure Ansible reports when a manager-specific module meets a host without it.
fn missing_manager(module: &str, mgr: &str) -> Outcome {
    let msg = match mgr {
        "dnf" | "yum" => format!(
            "Could not import the dnf python module. Please install `python3-dnf` package or \
             ensure you have specified the correct ansible_python_interpreter. ({module} on a \
             host without dnf)"
        ),
        "apt" => "Could not import python modules: apt, apt_pkg. Please install python3-apt \
                  package. (apt on a host without apt)"
            .to_string(),
        _ => format!("Could not find a package manager on the host ({module})"),
    };
    Outcome::failed(msg).with("changed", false)
}

super::registry::host_module!(Package, "package", aliases: &[], free_form: false,
    params: PARAMS, about: "install or remove packages with the host's package manager",
    plan: |cx| plan("package", &cx.args, cx.mode, cx.facts));
super::registry::host_module!(Apt, "apt", aliases: &[], free_form: false,
    params: PARAMS, about: "install or remove packages with apt",
    plan: |cx| plan("apt", &cx.args, cx.mode, cx.facts));
super::registry::host_module!(Yum, "yum", aliases: &[], free_form: false,
    params: PARAMS, about: "install or remove packages with yum",
    plan: |cx| plan("yum", &cx.args, cx.mode, cx.facts));
super::registry::host_module!(Dnf, "dnf", aliases: &[], free_form: false,
    params: PARAMS, about: "install or remove packages with dnf",
    plan: |cx| plan("dnf", &cx.args, cx.mode, cx.facts));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};
    use serde_json::json;

    /// A Debian host where `installed` names are installed at version 1.2 and `apt-get`
    /// records its calls.
    fn apt_host(installed: &[&str]) -> Host {
        let host = Host::new();
        let cases: String = installed.iter().map(|n| format!("{n}|")).collect();
        host.recording(
            "dpkg-query",
            &format!(
                "for a; do n=$a; done\ncase $n in {cases}__none__) echo 'install ok installed 1.2' ;; *) exit 1 ;; esac"
            ),
        );
        host.recording("apt-get", "exit 0");
        host.recording("apt-cache", "exit 0");
        host.recording("apt-mark", "exit 0");
        host
    }

    fn run(host: &Host, module: &str, a: Value) -> Outcome {
        match plan(module, &args(a), Mode::default(), &Map::new()) {
            Ok(step) => host.run(step),
            Err(e) => Outcome::failed(e.0),
        }
    }

    #[test]
    fn an_option_in_a_name_never_reaches_apt_get() {
        let host = apt_host(&[]);
        let name = "x.deb -oDPkg::Pre-Invoke::=touch${IFS}/tmp/PWN";
        let out = run(&host, "apt", json!({"name": name}));
        assert_eq!(out.status, Status::Failed, "{out:?}");
        // Ansible's apt splits `name=version` first and names the part before `=`.
        assert_eq!(
            out.msg(),
            Some("No package matching 'x.deb -oDPkg::Pre-Invoke::' is available")
        );
        assert_eq!(host.calls("apt-get"), Vec::<Vec<String>>::new());
    }

    #[test]
    fn a_name_like_an_option_fails_as_in_ansible() {
        let host = apt_host(&[]);
        let out = run(&host, "apt", json!({"name": "--help"}));
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert_eq!(out.msg(), Some("No package matching '--help' is available"));
        assert!(host.calls("apt-get").is_empty());
        // Removing it: no such package is installed, which Ansible reports as ok.
        let out = run(&host, "apt", json!({"name": "--help", "state": "absent"}));
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert!(host.calls("apt-get").is_empty());
        assert!(host.calls("dpkg-query").is_empty());
    }

    #[test]
    fn names_reach_the_tool_after_double_dash_one_word_each() {
        let host = apt_host(&["curl"]);
        // Files in the working directory that a glob of a name would pick up.
        std::fs::write(host.path("nginx-common"), "").expect("write");
        let out = run(
            &host,
            "apt",
            json!({"name": ["nginx", "curl", "libc6:amd64", "g++"]}),
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(
            out.result.get("packages"),
            Some(&json!(["nginx", "libc6:amd64", "g++"]))
        );
        let calls = host.calls("apt-get");
        assert_eq!(calls.len(), 1, "{calls:?}");
        let tail: Vec<&str> = calls[0].iter().map(String::as_str).collect();
        assert!(
            tail.ends_with(&["--", "nginx", "libc6:amd64", "g++"]),
            "{tail:?}"
        );
        for call in host.calls("dpkg-query") {
            assert_eq!(call[call.len() - 2], "--", "{call:?}");
        }
    }

    /// Ansible's apt runs `apt-mark manual` on every named package after an install, even
    /// when all were installed already (a dependency named in a task is no longer auto);
    /// not in check mode, not when removing.
    #[test]
    fn named_packages_are_marked_manual_as_ansible_does() {
        let host = apt_host(&["dirmngr"]);
        let out = run(&host, "apt", json!({"name": ["dirmngr", "haproxy=2.6"]}));
        assert_eq!(out.status, Status::Changed, "{out:?}");
        let out = run(&host, "apt", json!({"name": "dirmngr", "state": "latest"}));
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(
            host.calls("apt-mark"),
            vec![
                vec!["manual", "--", "dirmngr", "haproxy"],
                vec!["manual", "--", "dirmngr"]
            ]
        );
        run(&host, "apt", json!({"name": "dirmngr", "state": "absent"}));
        let check = Mode {
            check: true,
            diff: false,
        };
        let step = plan("apt", &args(json!({"name": "dirmngr"})), check, &Map::new());
        host.run(step.expect("plan"));
        assert_eq!(host.calls("apt-mark").len(), 2);
    }

    #[test]
    fn a_version_is_compared_with_the_installed_one() {
        let host = apt_host(&["nginx"]);
        let out = run(&host, "apt", json!({"name": "nginx=1.2"}));
        assert_eq!(out.status, Status::Ok, "{out:?}");
        let out = run(&host, "apt", json!({"name": "nginx=1.3"}));
        assert_eq!(out.status, Status::Changed, "{out:?}");
        let calls = host.calls("apt-get");
        assert!(calls[0].ends_with(&["--".to_string(), "nginx=1.3".to_string()]));
        // Removing a version that is not the installed one changes nothing.
        let out = run(
            &host,
            "apt",
            json!({"name": "nginx=1.3", "state": "absent"}),
        );
        assert_eq!(out.status, Status::Ok, "{out:?}");
        let out = run(
            &host,
            "apt",
            json!({"name": "nginx=1.2", "state": "absent"}),
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        let calls = host.calls("apt-get");
        assert!(calls[1].ends_with(&["--".to_string(), "nginx".to_string()]));
    }

    #[test]
    fn what_hactl_cannot_do_is_refused() {
        for (module, name, words) in [
            ("apt", "nginx*", "pattern"),
            ("apt", "nginx>=1.0", "version comparison"),
            ("dnf", "/tmp/x.rpm", "file or URL"),
            ("dnf", "https://example.org/x.rpm", "file or URL"),
            ("dnf", "@core", "group"),
            ("dnf", "nginx >= 1.0", "version comparison"),
            ("package", "nginx=1.2", "version"),
        ] {
            let err = plan(
                module,
                &args(json!({"name": name})),
                Mode::default(),
                &Map::new(),
            )
            .expect_err(name);
            assert!(err.0.contains(words), "{name}: {err}");
            assert!(err.0.contains(name), "{name}: {err}");
        }
        let err = plan(
            "apt",
            &args(json!({"name": "nginx=1.2", "state": "latest"})),
            Mode::default(),
            &Map::new(),
        )
        .expect_err("version with latest");
        assert!(err.0.contains("latest"), "{err}");
    }

    #[test]
    fn dnf_names_are_checked_too() {
        let host = Host::new();
        host.recording("rpm", "exit 1");
        host.recording("dnf", "exit 0");
        let out = run(&host, "dnf", json!({"name": ["NetworkManager", "-y"]}));
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert_eq!(out.msg(), Some("No package -y available."));
        assert!(host.calls("dnf").is_empty());
        let out = run(
            &host,
            "dnf",
            json!({"name": ["NetworkManager", "perl-Data-Dumper"]}),
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        let calls = host.calls("dnf");
        assert!(
            calls[0].ends_with(&[
                "--".to_string(),
                "NetworkManager".to_string(),
                "perl-Data-Dumper".to_string()
            ]),
            "{calls:?}"
        );
    }

    /// An apt host whose cache was last updated `age` seconds ago (the update-success stamp's
    /// mtime, through a fake `stat`); `apt-get update` records its call and moves the stamp
    /// to now.
    fn aged_apt_host(installed: &[&str], age: i64) -> Host {
        let host = apt_host(installed);
        let stamp = host.path("stamp");
        let stamp = crate::transport::shell_quote(&stamp.to_string_lossy());
        std::fs::write(host.path("stamp"), format!("{}", now() - age)).expect("stamp");
        host.fake("stat", &format!("cat {stamp}"));
        host.recording(
            "apt-get",
            &format!("[ \"$1\" = update ] && date +%s >{stamp}; exit 0"),
        );
        host
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    }

    fn updates(host: &Host) -> usize {
        host.calls("apt-get")
            .iter()
            .filter(|c| c.first().map(String::as_str) == Some("update"))
            .count()
    }

    #[test]
    fn cache_valid_time_skips_a_fresh_cache_as_ansible_does() {
        // Fresh (100 s old, valid 3600): no update, nothing installed, ok.
        let host = aged_apt_host(&["curl"], 100);
        let a = json!({"name": "curl", "update_cache": true, "cache_valid_time": 3600});
        let out = run(&host, "apt", a);
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(updates(&host), 0);
        assert_eq!(out.result.get("cache_updated"), Some(&json!(false)));
        // Stale (7200 s old): updated first, even though curl needs nothing, and the task
        // stays ok (Ansible: changed comes from the packages when there are any).
        let host = aged_apt_host(&["curl"], 7200);
        let a = json!({"name": "curl", "update_cache": true, "cache_valid_time": "3600"});
        let out = run(&host, "apt", a);
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(updates(&host), 1);
        assert_eq!(out.result.get("cache_updated"), Some(&json!(true)));
        // cache_valid_time alone asks for the update too; update_cache without it always
        // updates (valid 0).
        let host = aged_apt_host(&["curl"], 7200);
        run(
            &host,
            "apt",
            json!({"name": "curl", "cache_valid_time": 3600}),
        );
        assert_eq!(updates(&host), 1);
        let host = aged_apt_host(&["curl"], 5);
        run(&host, "apt", json!({"name": "curl", "update_cache": true}));
        assert_eq!(updates(&host), 1);
        // The update comes before the install.
        let host = aged_apt_host(&[], 7200);
        let a = json!({"name": "nginx", "update_cache": true, "cache_valid_time": 60});
        let out = run(&host, "apt", a);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        let calls = host.calls("apt-get");
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0][0], "update");
        assert_eq!(calls[1][0], "install");
    }

    #[test]
    fn an_update_alone_is_the_change() {
        let host = aged_apt_host(&[], 7200);
        let out = run(&host, "apt", json!({"update_cache": true}));
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(updates(&host), 1);
        let out = run(
            &host,
            "apt",
            json!({"update_cache": true, "cache_valid_time": 3600}),
        );
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(updates(&host), 1);
        // Check mode updates nothing but says it would.
        let host = aged_apt_host(&[], 7200);
        let check = Mode {
            check: true,
            diff: false,
        };
        let step = plan(
            "apt",
            &args(json!({"update_cache": true})),
            check,
            &Map::new(),
        );
        let out = host.run(step.expect("plan"));
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(updates(&host), 0);
    }

    #[test]
    fn a_failing_update_fails_the_task_before_any_install() {
        let host = apt_host(&[]);
        host.fake("stat", "echo 0");
        host.recording(
            "apt-get",
            "[ \"$1\" = update ] && { echo 'E: Failed to fetch http://x/ Network is unreachable' >&2; exit 100; }; exit 0",
        );
        let a = json!({"name": "nginx", "update_cache": true, "update_cache_retries": 1});
        let out = run(&host, "apt", a);
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert!(
            out.msg()
                .is_some_and(|m| m
                    .starts_with("Failed to update apt cache after 1 retries: E: Failed to fetch")),
            "{out:?}"
        );
        let calls = host.calls("apt-get");
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0][0], "update");
    }

    /// An index apt-get could not fetch is only a warning to apt-get (exit 0) but a failed
    /// update to python-apt, and so to Ansible's apt: an offline host fails the same way.
    #[test]
    fn an_index_that_cannot_be_fetched_fails_the_update_as_in_ansible() {
        let host = apt_host(&["curl"]);
        host.fake("stat", "echo 0");
        host.recording(
            "apt-get",
            "[ \"$1\" = update ] && { echo \"W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'\" >&2; echo 'W: Some index files failed to download. They have been ignored, or old ones used instead.' >&2; }; exit 0",
        );
        let a = json!({"name": "curl", "update_cache": true, "update_cache_retries": 2});
        let out = run(&host, "apt", a);
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert!(
            out.msg()
                .is_some_and(|m| m
                    .starts_with("Failed to update apt cache after 2 retries: W: Failed to fetch")),
            "{out:?}"
        );
        assert_eq!(updates(&host), 2);
    }

    #[test]
    fn the_real_dpkg_query_reads_as_expected() {
        // Only on a Debian machine; check mode, so nothing is installed or removed.
        if !std::path::Path::new("/usr/bin/dpkg-query").exists() {
            return;
        }
        let host = Host::new();
        let check = Mode {
            check: true,
            diff: false,
        };
        let go = |a: Value| host.run(plan("apt", &args(a), check, &Map::new()).expect("plan"));
        assert_eq!(go(json!({"name": "dpkg"})).status, Status::Ok);
        let out = go(json!({"name": "dpkg=0.0-hactl"}));
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(out.result.get("packages"), Some(&json!(["dpkg=0.0-hactl"])));
        let out = go(json!({"name": "hactl-no-such-package", "state": "absent"}));
        assert_eq!(out.status, Status::Ok, "{out:?}");
    }
}
