//! `command`, `shell` and `raw`. `command` runs its words without a shell (each word is
//! quoted, so pipes and `$VAR` are literal, as in Ansible); `shell` runs the string with
//! `/bin/sh`. `creates`, `removes` and `chdir` are decided on the host, in the same round trip.
//! In check mode the command does not run unless `creates`/`removes` settle it.

use serde_json::{Map, Value};

use super::args::Args;
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
    let run = if module == "command" {
        format!("exec {command}")
    } else {
        format!(
            "exec {} -c {}",
            shell_quote(&executable),
            shell_quote(&command)
        )
    };
    let check = if mode.check { "1" } else { "0" };
    // Globs in creates/removes expand on the host, as Ansible's glob() does.
    let script = format!(
        "set -- {} {} {} {check}\n\
         if [ -n \"$1\" ]; then for f in $1; do [ -e \"$f\" ] && {{ echo \"hactl:skip=exists:$1\"; exit 0; }}; done; fi\n\
         if [ -n \"$2\" ]; then found=0; for f in $2; do [ -e \"$f\" ] && found=1; done; \
         [ $found = 0 ] && {{ echo \"hactl:skip=missing:$2\"; exit 0; }}; fi\n\
         [ \"$4\" = 1 ] && {{ echo hactl:skip=check; exit 0; }}\n\
         if [ -n \"$3\" ]; then cd \"$3\" || exit 2; fi\n\
         printf 'hactl:run\\n'\n{run}\n",
        shell_quote(&creates),
        shell_quote(&removes),
        shell_quote(&chdir),
    );
    let shown = command.clone();
    Ok(Step::Remote(Remote {
        script,
        stdin,
        finish: Box::new(move |out| finish(out, shown)),
    }))
}

fn finish(out: ExecOutput, cmd: String) -> Outcome {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if let Some(skip) = stdout.strip_prefix("hactl:skip=") {
        let skip = skip.trim_end();
        if skip == "check" {
            return Outcome::new(Status::Skipped)
                .with("msg", "Command would have run if not in check mode");
        }
        let (why, path) = skip.split_once(':').unwrap_or((skip, ""));
        let msg = if why == "exists" {
            format!("Did not run command since '{path}' exists")
        } else {
            format!("Did not run command since '{path}' does not exist")
        };
        return Outcome::changed(false)
            .with("msg", msg)
            .with("rc", 0)
            .with("cmd", cmd);
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
