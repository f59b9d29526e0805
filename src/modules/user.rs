//! `user`: a local account present (created with `useradd`, brought in line with `usermod`)
//! or absent (`userdel`), as Ansible's Linux `User` class does it, deciding on the host from
//! `getent` what must change, so a second run is `ok`. The password is a crypt hash (as
//! Ansible's); it reaches the host on the script's stdin and is set with `chpasswd -e`, so it
//! is in no command line, no result and no message. Parameters for other platforms or for
//! features hactl does not have (`generate_ssh_key`, `password_expire_*`, `local`, SELinux)
//! are refused with an error rather than ignored.

use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, field_b64, flag, with_vars};
use super::{ArgError, Mode, Outcome, Remote, Step};

const PARAMS: &[&str] = &[
    "name",
    "user",
    "state",
    "uid",
    "non_unique",
    "group",
    "groups",
    "append",
    "comment",
    "home",
    "create_home",
    "createhome",
    "shell",
    "password",
    "update_password",
    "system",
    "remove",
    "force",
    "move_home",
    "expires",
    "skeleton",
    "umask",
    // Accepted for compatibility, refused when set (see `unsupported`).
    "generate_ssh_key",
    "ssh_key_bits",
    "ssh_key_type",
    "ssh_key_file",
    "ssh_key_comment",
    "ssh_key_passphrase",
    "password_lock",
    "password_expire_max",
    "password_expire_min",
    "password_expire_warn",
    "password_expire_account_disable",
    "local",
    "seuser",
    "login_class",
    "hidden",
    "profile",
    "authorization",
    "role",
    "uid_min",
    "uid_max",
];

const SCRIPT: &str = include_str!("user.sh");

/// Parameters hactl takes but cannot carry out: set to anything but their default, the task
/// fails naming them.
fn unsupported(a: &Args<'_>, args: &Map<String, Value>) -> Result<(), ArgError> {
    for p in [
        "generate_ssh_key",
        "password_lock",
        "local",
        "hidden",
        "ssh_key_passphrase",
    ] {
        if a.bool(&[p]).ok().flatten() == Some(true)
            || (p == "ssh_key_passphrase" && args.contains_key(p))
        {
            return Err(ArgError(format!(
                "hactl's user module does not support {p}"
            )));
        }
    }
    for p in [
        "password_expire_max",
        "password_expire_min",
        "password_expire_warn",
        "password_expire_account_disable",
        "seuser",
        "login_class",
        "profile",
        "authorization",
        "role",
        "uid_min",
        "uid_max",
    ] {
        if args.get(p).is_some_and(|v| !v.is_null()) {
            return Err(ArgError(format!(
                "hactl's user module does not support {p}"
            )));
        }
    }
    Ok(())
}

/// An integer parameter, as Ansible's `int` type reads it.
pub(crate) fn int(a: &Args<'_>, names: &[&str]) -> Result<Option<i64>, ArgError> {
    match a.str(names)? {
        None => Ok(None),
        Some(s) => s.trim().parse::<i64>().map(Some).map_err(|_| {
            ArgError(format!(
                "argument '{}' is of type str and we were unable to convert to int: invalid literal for int() with base 10: '{s}'",
                names[0]
            ))
        }),
    }
}

/// `expires` (seconds since the epoch, a float) as `useradd -e` takes it: `never` for a
/// negative value (Ansible passes `-e ''`), else the UTC date `YYYY-MM-DD`.
fn expires_date(secs: f64) -> String {
    if secs < 0.0 {
        return "never".into();
    }
    let days = (secs / 86400.0).floor() as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new("user", args, PARAMS)?;
    unsupported(&a, args)?;
    let name = a.required(&["name", "user"])?;
    let state = a
        .choice("state", &["absent", "present"])?
        .unwrap_or_else(|| "present".into());
    let uid = int(&a, &["uid"])?
        .map(|u| u.to_string())
        .unwrap_or_default();
    let groups_set = args.get("groups").is_some_and(|v| !v.is_null());
    let groups = a.list(&["groups"])?.join(",");
    let expires = match a.str(&["expires"])? {
        None => String::new(),
        Some(s) => expires_date(s.trim().parse::<f64>().map_err(|_| {
            ArgError(format!(
                "argument 'expires' is of type str and we were unable to convert to float: could not convert string to float: '{s}'"
            ))
        })?),
    };
    let update_password = a
        .choice("update_password", &["always", "on_create"])?
        .unwrap_or_else(|| "always".into());
    let password = a.str(&["password"])?;
    if password.as_deref().is_some_and(|p| p.contains(['\n', ':'])) {
        return Err(ArgError(
            "password must be a crypt hash (no ':' or newline)".into(),
        ));
    }
    let comment = a.str(&["comment"])?;
    let b = |n: &[&str], d: bool| a.bool(n).map(|v| flag(v.unwrap_or(d)));
    let vars = [
        ("name", name.as_str()),
        ("state", state.as_str()),
        ("uid", uid.as_str()),
        ("non_unique", b(&["non_unique"], false)?),
        ("group", &a.str(&["group"])?.unwrap_or_default()),
        ("groups_set", flag(groups_set)),
        ("groups", &groups),
        ("append", b(&["append"], false)?),
        ("comment_set", flag(comment.is_some())),
        ("comment", &comment.unwrap_or_default()),
        ("home", &a.str(&["home"])?.unwrap_or_default()),
        ("create_home", b(&["create_home", "createhome"], true)?),
        ("shell", &a.str(&["shell"])?.unwrap_or_default()),
        ("system", b(&["system"], false)?),
        ("remove", b(&["remove"], false)?),
        ("force", b(&["force"], false)?),
        ("move_home", b(&["move_home"], false)?),
        ("expires", &expires),
        ("skeleton", &a.str(&["skeleton"])?.unwrap_or_default()),
        ("umask", &a.str(&["umask"])?.unwrap_or_default()),
        ("update_password", &update_password),
        ("password_set", flag(password.is_some())),
        ("check", flag(mode.check)),
    ];
    let script = with_vars(SCRIPT, &vars);
    let stdin = password
        .as_ref()
        .map(|p| format!("{p}\n").into_bytes())
        .unwrap_or_default();
    let secrets: Vec<String> = password.into_iter().collect();
    let groups_result = groups_set.then_some(groups);
    Ok(Step::Remote(Remote {
        script,
        stdin,
        finish: Box::new(move |out| {
            let mut o = finish(&out, &name, groups_result);
            protocol::scrub(&mut o, &secrets);
            o
        }),
    }))
}

fn finish(out: &crate::transport::ExecOutput, name: &str, groups: Option<String>) -> Outcome {
    if !out.success() {
        return protocol::failed_script(out, "user operation failed").with("name", name);
    }
    let f = protocol::fields(&out.stdout);
    let changed = field(&f, "changed") == Some("1");
    // Ansible leaves a check run that would create or remove the user with `changed` only.
    if field(&f, "only_changed") == Some("1") {
        return Outcome::changed(true);
    }
    let mut o = Outcome::changed(changed);
    for key in ["name", "state", "password"] {
        if let Some(v) = field(&f, key) {
            o = o.with(key, v);
        }
    }
    for key in [
        "force",
        "remove",
        "system",
        "create_home",
        "append",
        "move_home",
    ] {
        if let Some(v) = field(&f, key) {
            o = o.with(key, v == "1");
        }
    }
    for key in ["stdout", "stderr"] {
        if let Some(v) = field_b64(&f, &format!("{key}_b64")) {
            o = o.with(key, v);
        }
    }
    for key in ["uid", "group"] {
        if let Some(v) = field(&f, key).and_then(|v| v.parse::<u64>().ok()) {
            o = o.with(key, v);
        }
    }
    if let Some(c) = field_b64(&f, "comment_b64") {
        o = o.with("comment", c);
    }
    for key in ["home", "shell"] {
        if let Some(v) = field(&f, key) {
            o = o.with(key, v);
        }
    }
    if let (Some(g), true) = (groups, o.result.contains_key("uid")) {
        o = o.with("groups", g);
    }
    o
}

super::registry::host_module!(User, "user", aliases: &[], free_form: false,
    params: PARAMS, about: "manage a local user account (useradd/usermod/userdel)",
    plan: |cx| plan(&cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};
    use serde_json::json;

    #[test]
    fn expiry_dates_are_utc_days() {
        assert_eq!(expires_date(0.0), "1970-01-01");
        assert_eq!(expires_date(1_700_000_000.0), "2023-11-14");
        assert_eq!(expires_date(951_782_400.0), "2000-02-29");
        assert_eq!(expires_date(-1.0), "never");
    }

    /// A host whose account database is fake: `getent` answers from files in the root, the
    /// tools record their calls and edit those files as the real ones would, roughly.
    fn host(passwd: &str, group: &str, shadow: &str) -> Host {
        let h = Host::new();
        std::fs::write(h.path("passwd"), passwd).expect("passwd");
        std::fs::write(h.path("group"), group).expect("group");
        std::fs::write(h.path("shadow"), shadow).expect("shadow");
        h.fake(
            "getent",
            r#"db=$1; shift; [ "$1" = -- ] && shift
if [ $# = 0 ]; then cat "$db"; exit 0; fi
awk -F: -v k="$1" '$1 == k || $3 == k { print; f = 1 } END { exit !f }' "$db" || exit 2"#,
        );
        h.recording(
            "useradd",
            r#"for a; do n=$a; done; echo "$n:x:1001:1001::/home/$n:/bin/sh" >> passwd; echo "$n:*:1::::::" >> shadow"#,
        );
        h.recording("usermod", "exit 0");
        h.recording("userdel", "echo gone");
        h.recording("chpasswd", "cat > chpasswd.in");
        h
    }

    fn run(h: &Host, a: Value, check: bool) -> Outcome {
        let mode = Mode { check, diff: false };
        match plan(&args(a), mode) {
            Ok(step) => h.run(step),
            Err(e) => Outcome::failed(e.0),
        }
    }

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000:Bob:/nonexistent:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nbob:x:1000:\nadm:x:4:bob\nsudo:x:27:\n";
    const SHADOW: &str = "root:*:1::::::\nbob:$6$old:1::::::\n";

    #[test]
    fn creates_with_the_options_ansible_passes_and_hides_the_password() {
        let h = host(PASSWD, GROUP, SHADOW);
        let a = json!({"name": "ann", "groups": ["adm", "27"], "shell": "/bin/bash",
                       "comment": "Ann", "password": "$6$secret", "create_home": false});
        let out = run(&h, a, false);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        let calls = h.calls("useradd");
        assert_eq!(
            calls,
            vec![vec![
                "-G",
                "adm,sudo",
                "-c",
                "Ann",
                "-s",
                "/bin/bash",
                "-M",
                "--",
                "ann"
            ]],
            "{calls:?}"
        );
        assert_eq!(
            std::fs::read_to_string(h.path("chpasswd.in")).expect("chpasswd"),
            "ann:$6$secret\n"
        );
        assert_eq!(out.result["password"], "NOT_LOGGING_PASSWORD");
        assert_eq!(out.result["uid"], 1001);
        assert_eq!(out.result["groups"], "adm,27");
        assert_eq!(out.result["create_home"], false);
        assert!(!format!("{out:?}").contains("secret"), "{out:?}");
    }

    #[test]
    fn an_account_as_asked_is_ok_and_a_difference_is_one_usermod() {
        let h = host(PASSWD, GROUP, SHADOW);
        let same = json!({"name": "bob", "groups": "adm", "shell": "/bin/sh", "comment": "Bob",
                          "password": "$6$old", "create_home": false});
        let out = run(&h, same, false);
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert!(h.calls("usermod").is_empty());
        assert!(!h.path("chpasswd.in").exists());
        let out = run(
            &h,
            json!({"name": "bob", "groups": "sudo", "append": true, "shell": "/bin/bash",
                   "password": "$6$new", "create_home": false}),
            false,
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(
            h.calls("usermod"),
            vec![vec!["-a", "-G", "sudo", "-s", "/bin/bash", "--", "bob"]]
        );
        assert_eq!(
            std::fs::read_to_string(h.path("chpasswd.in")).expect("chpasswd"),
            "bob:$6$new\n"
        );
        assert_eq!(out.result["append"], true);
    }

    #[test]
    fn check_mode_changes_nothing() {
        let h = host(PASSWD, GROUP, SHADOW);
        let out = run(&h, json!({"name": "bob", "shell": "/bin/zsh"}), true);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert!(h.calls("usermod").is_empty());
        let out = run(&h, json!({"name": "ann"}), true);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(out.result.len(), 1, "{out:?}");
        assert!(h.calls("useradd").is_empty());
        let out = run(&h, json!({"name": "bob", "state": "absent"}), true);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert!(h.calls("userdel").is_empty());
    }

    #[test]
    fn removal_and_missing_groups() {
        let h = host(PASSWD, GROUP, SHADOW);
        let out = run(
            &h,
            json!({"name": "bob", "state": "absent", "remove": true}),
            false,
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(h.calls("userdel"), vec![vec!["-r", "--", "bob"]]);
        assert_eq!(out.result["stdout"], "gone");
        assert_eq!(out.result["remove"], true);
        let out = run(&h, json!({"name": "nobody2", "state": "absent"}), false);
        assert_eq!(out.status, Status::Ok, "{out:?}");
        let out = run(&h, json!({"name": "bob", "groups": "wheel"}), false);
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert_eq!(out.msg(), Some("Group wheel does not exist"));
        assert!(!out.result.contains_key("rc"));
    }

    #[test]
    fn unsupported_features_are_refused() {
        let err = plan(
            &args(json!({"name": "x", "generate_ssh_key": true})),
            Mode::default(),
        )
        .expect_err("refused");
        assert!(err.0.contains("generate_ssh_key"), "{err}");
    }
}
