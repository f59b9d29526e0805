//! `command`, `shell` and `raw`. `command` runs its words without a shell (each word is
//! quoted, so pipes and `$VAR` are literal, as in Ansible); `shell` runs the string with
//! `/bin/sh`. `chdir`, then `creates` and `removes` (one path or glob pattern each, relative to
//! `chdir`) are decided on the host, in the same round trip, in Ansible's order. In check mode
//! the command never runs: it reports what `creates`/`removes` decide, as Ansible does.

use serde_json::{Map, Value};

use super::args::Args;
use super::edit::{assign, flag};
use super::{ArgError, Mode, Outcome, Remote, Status, Step};
use crate::transport::{ExecOutput, shell_quote};

const PARAMS: &[&str] = &[
    "_raw_params",
    "cmd",
    "argv",
    "creates",
    "removes",
    "chdir",
    "executable",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
    "expand_argument_vars",
    "_uses_shell",
];

/// The line a script prints when it is about to run the command; what follows is the
/// command's own output, untouched.
const RUN_MARK: &str = "hactl:run\n";

pub fn plan(module: &str, args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new(module, args, PARAMS)?;
    let raw = a.str(&["_raw_params", "cmd"])?;
    let argv = a.list(&["argv"])?;
    let command = match (module, raw, argv.is_empty()) {
        ("command", Some(raw), true) => {
            let words = shlex::split(&raw)
                .ok_or_else(|| ArgError(format!("cannot split the command: {raw}")))?;
            words
                .iter()
                .map(|w| shell_quote(w))
                .collect::<Vec<_>>()
                .join(" ")
        }
        ("command", None, false) => argv
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" "),
        (_, Some(raw), true) => raw,
        (_, None, true) => return Err(ArgError("no command given".into())),
        _ => {
            return Err(ArgError(
                "parameters are mutually exclusive: cmd|_raw_params, argv".into(),
            ));
        }
    };
    let creates = a.str(&["creates"])?.unwrap_or_default();
    let removes = a.str(&["removes"])?.unwrap_or_default();
    let chdir = a.str(&["chdir"])?.unwrap_or_default();
    let mut stdin = a.str(&["stdin"])?.unwrap_or_default().into_bytes();
    if !stdin.is_empty() && a.bool(&["stdin_add_newline"])?.unwrap_or(true) {
        stdin.push(b'\n');
    }
    let executable = a.str(&["executable"])?.unwrap_or_else(|| "/bin/sh".into());
    // The command module's line is parsed by the host's shell (`eval`); the shell module's
    // runs as `EXECUTABLE -c LINE`.
    let shell_exe = if module == "command" {
        ""
    } else {
        executable.as_str()
    };
    let script = assign(
        &[
            ("creates", &creates),
            ("removes", &removes),
            ("chdir", &chdir),
            ("check", flag(mode.check)),
            ("hactl_cmd", &command),
            ("hactl_shell", shell_exe),
        ],
        GUARDS,
    );
    let shown = command.clone();
    let guards = Guards {
        creates,
        removes,
        check: mode.check,
    };
    Ok(Step::Remote(Remote {
        script,
        stdin,
        finish: Box::new(move |out| finish(out, shown, guards)),
    }))
}

/// What the script does before the command, in Ansible's order: `chdir`, then `creates`, then
/// `removes` (both relative to `chdir`, each one path or glob pattern as Python's
/// `glob.glob` takes it: spaces are part of the path), then check mode.
const GUARDS: &str = include_str!("command.sh");

/// `creates`/`removes` as given (for the messages) and whether this is a check run.
struct Guards {
    creates: String,
    removes: String,
    check: bool,
}

fn finish(out: ExecOutput, cmd: String, guards: Guards) -> Outcome {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if let Some(skip) = stdout.strip_prefix("hactl:skip=") {
        let shoulda = if guards.check { "Would" } else { "Did" };
        let (msg, said) = match skip.trim_end() {
            "chdir" => {
                return Outcome::failed("Unable to change directory before execution.")
                    .with("cmd", cmd);
            }
            "check" if guards.creates.is_empty() && guards.removes.is_empty() => {
                return Outcome::new(Status::Skipped)
                    .with("msg", "Command would have run if not in check mode");
            }
            // Ansible reports a command its creates/removes would let run as changed.
            "check" => {
                return Outcome::changed(true)
                    .with("msg", "Command would have run if not in check mode")
                    .with("rc", 0)
                    .with("cmd", cmd);
            }
            "exists" => (
                format!(
                    "{shoulda} not run command since '{}' exists",
                    guards.creates
                ),
                format!("skipped, since {} exists", guards.creates),
            ),
            _ => (
                format!(
                    "{shoulda} not run command since '{}' does not exist",
                    guards.removes
                ),
                format!("skipped, since {} does not exist", guards.removes),
            ),
        };
        return Outcome::changed(false)
            .with("msg", msg)
            .with("rc", 0)
            .with("cmd", cmd)
            .with("stdout_lines", vec![Value::String(said.clone())])
            .with("stdout", said)
            .with("stderr", "")
            .with("stderr_lines", Vec::<Value>::new());
    }
    let Some(output) = stdout.strip_prefix(RUN_MARK) else {
        return super::protocol::failed_from(&out, "the command could not be started");
    };
    let stdout = output.trim_end_matches(['\n', '\r']).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr)
        .trim_end_matches(['\n', '\r'])
        .to_string();
    let rc = out.code.unwrap_or(-1);
    let lines = |s: &str| -> Vec<Value> { s.lines().map(|l| Value::String(l.into())).collect() };
    let mut outcome = if rc == 0 {
        Outcome::changed(true)
    } else {
        Outcome::failed("non-zero return code").with("changed", true)
    };
    outcome = outcome
        .with("rc", rc)
        .with("cmd", cmd)
        .with("stdout_lines", lines(&stdout))
        .with("stderr_lines", lines(&stderr))
        .with("stdout", stdout)
        .with("stderr", stderr);
    outcome
}

super::registry::host_module!(Command, "command", aliases: &["win_command"], free_form: true,
    params: PARAMS, about: "run a command without a shell",
    plan: |cx| plan("command", &cx.args, cx.mode));
super::registry::host_module!(Shell, "shell", aliases: &[], free_form: true,
    params: PARAMS, about: "run a command with /bin/sh",
    plan: |cx| plan("shell", &cx.args, cx.mode));
super::registry::host_module!(Raw, "raw", aliases: &[], free_form: true,
    params: PARAMS, about: "run a command as it is, over the connection",
    plan: |cx| plan("raw", &cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testutil::{Host, args};
    use serde_json::json;

    fn run(host: &Host, module: &str, a: Value, check: bool) -> Outcome {
        let mode = Mode { check, diff: false };
        host.run(plan(module, &args(a), mode).expect("plan"))
    }

    #[test]
    fn creates_with_a_space_is_one_path() {
        let host = Host::new();
        std::fs::create_dir_all(host.path("a dir")).expect("mkdir");
        std::fs::create_dir_all(host.path("a")).expect("mkdir");
        let marker = host.path("a dir/marker").to_string_lossy().into_owned();
        let a = json!({"cmd": "touch marker", "chdir": host.path("a dir"), "creates": marker});
        // `<root>/a` exists, but the marker does not: the command runs.
        let out = run(&host, "command", a.clone(), false);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert!(host.path("a dir/marker").exists());
        let out = run(&host, "command", a, false);
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(
            out.msg(),
            Some(format!("Did not run command since '{marker}' exists").as_str())
        );
        assert_eq!(
            out.result.get("stdout"),
            Some(&json!(format!("skipped, since {marker} exists")))
        );
    }

    #[test]
    fn removes_with_a_space_is_one_path() {
        let host = Host::new();
        std::fs::create_dir_all(host.path("a")).expect("mkdir");
        let gone = host.path("a dir").to_string_lossy().into_owned();
        let out = run(
            &host,
            "shell",
            json!({"cmd": "echo ran", "removes": gone}),
            false,
        );
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(
            out.msg(),
            Some(format!("Did not run command since '{gone}' does not exist").as_str())
        );
    }

    #[test]
    fn relative_creates_and_removes_are_checked_after_chdir() {
        let host = Host::new();
        std::fs::create_dir_all(host.path("work")).expect("mkdir");
        let a = json!({"cmd": "touch done", "chdir": "work", "creates": "done"});
        assert_eq!(
            run(&host, "command", a.clone(), false).status,
            Status::Changed
        );
        assert!(host.path("work/done").exists());
        assert!(!host.path("done").exists());
        assert_eq!(run(&host, "command", a, false).status, Status::Ok);
        let a = json!({"cmd": "rm done", "chdir": "work", "removes": "done"});
        assert_eq!(
            run(&host, "command", a.clone(), false).status,
            Status::Changed
        );
        assert_eq!(run(&host, "command", a, false).status, Status::Ok);
    }

    #[test]
    fn globs_match_as_python_glob() {
        let host = Host::new();
        std::fs::create_dir_all(host.path("a dir")).expect("mkdir");
        std::fs::write(host.path("a dir/x.conf"), "").expect("write");
        std::fs::write(host.path("a[1]"), "").expect("write");
        std::fs::write(host.path("b*"), "").expect("write");
        for (pattern, exists) in [
            ("a dir/*.conf", true),
            ("a dir/*.txt", false),
            ("a dir/?.conf", true),
            ("*dir/x.[ch]*", true),
            // A pattern matches names, not itself: `a[1]` means `a1`...
            ("a[1]", false),
            // ... but a file named `b*` matches `b*`.
            ("b*", true),
            ("a dir/.*", false),
        ] {
            let out = run(
                &host,
                "command",
                json!({"cmd": "true", "creates": pattern}),
                false,
            );
            let want = if exists { Status::Ok } else { Status::Changed };
            assert_eq!(out.status, want, "{pattern}: {out:?}");
        }
    }

    #[test]
    fn check_mode_and_a_missing_chdir_read_as_in_ansible() {
        let host = Host::new();
        let out = run(
            &host,
            "command",
            json!({"cmd": "true", "creates": "nothing"}),
            true,
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(
            out.msg(),
            Some("Command would have run if not in check mode")
        );
        std::fs::write(host.path("here"), "").expect("write");
        let out = run(
            &host,
            "command",
            json!({"cmd": "true", "creates": "here"}),
            true,
        );
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(out.msg(), Some("Would not run command since 'here' exists"));
        let out = run(&host, "command", json!({"cmd": "true"}), true);
        assert_eq!(out.status, Status::Skipped, "{out:?}");
        let out = run(
            &host,
            "command",
            json!({"cmd": "true", "chdir": "-"}),
            false,
        );
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert_eq!(
            out.msg(),
            Some("Unable to change directory before execution.")
        );
    }
}
