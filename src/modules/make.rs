//! `community.general.make`: runs `make` in `chdir` with `target`/`targets`, `params`
//! (`NAME=VALUE`, or `NAME` for a null value), `file` and `jobs`, as the collection's module:
//! `make -q` first, and make runs only when that says the targets are not up to date (in
//! check mode it only reports that). Returns stdout, stderr (trailing newlines stripped),
//! target(s), params, chdir, file, jobs and the shell-quoted `command`. The tool is `make`
//! (the parameter), else `gmake`, else `make` on the host's PATH. See make.sh.

use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field, field_b64};
use super::{ArgError, Mode, Outcome, Remote, Step};
use crate::transport::shell_quote;

const SCRIPT: &str = include_str!("make.sh");

const PARAMS: &[&str] = &[
    "target", "targets", "params", "chdir", "file", "make", "jobs",
];

/// Python's `str()` of a parameter value.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => crate::template::py_str(&crate::template::to_value(other)),
    }
}

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new("make", args, PARAMS)?;
    let chdir = a.required(&["chdir"])?;
    let target = a.str(&["target"])?;
    let targets = match args.get("targets").filter(|v| !v.is_null()) {
        Some(_) => Some(a.list(&["targets"])?),
        None => None,
    };
    if target.is_some() && targets.is_some() {
        return Err(ArgError(
            "parameters are mutually exclusive: target|targets".into(),
        ));
    }
    let params = match args.get("params").filter(|v| !v.is_null()) {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            return Err(ArgError(
                "argument 'params' is of type str and we were unable to convert to dict".into(),
            ));
        }
    };
    let jobs = match a.str(&["jobs"])? {
        None => None,
        Some(j) => Some(j.parse::<i64>().map_err(|_| {
            ArgError(format!(
                "argument 'jobs' is of type str and we were unable to convert to int: \
                 invalid literal for int() with base 10: '{j}'"
            ))
        })?),
    };
    let file = a.str(&["file"])?;
    let mut words: Vec<String> = Vec::new();
    if let Some(j) = jobs {
        words.extend(["-j".into(), j.to_string()]);
    }
    if let Some(f) = &file {
        words.extend(["-f".into(), f.clone()]);
    }
    match (&target, &targets) {
        (Some(t), _) if !t.is_empty() => words.push(t.clone()),
        (_, Some(ts)) => words.extend(ts.iter().cloned()),
        _ => {}
    }
    for (k, v) in params.iter().flatten() {
        words.push(match v {
            Value::Null => k.clone(),
            v => format!("{k}={}", py_str(v)),
        });
    }
    let tool = a.str(&["make"])?.unwrap_or_default();
    let script = assign(
        &[
            ("make", &tool),
            ("chdir", &chdir),
            ("check", flag(mode.check)),
        ],
        SCRIPT,
    );
    let argv: Vec<&str> = words.iter().map(String::as_str).collect();
    let script = protocol::with_args(&script, &argv);
    let echo = json!({
        "target": target, "targets": targets, "params": params, "chdir": chdir,
        "file": file, "jobs": jobs,
    });
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            if !out.success() {
                return protocol::failed_from(&out, "make failed");
            }
            let f = protocol::fields(&out.stdout);
            let tool = field(&f, "tool").unwrap_or("make").to_string();
            let command: Vec<String> = std::iter::once(tool)
                .chain(words.iter().cloned())
                .map(|w| shell_quote(&w))
                .collect();
            let command = command.join(" ");
            let raw_out = field_b64(&f, "out_b64").unwrap_or_default();
            let raw_err = field_b64(&f, "err_b64").unwrap_or_default();
            let q_ok = field(&f, "q_rc") == Some("0");
            if let Some(rc) = field(&f, "rc").and_then(|r| r.parse::<i64>().ok()) {
                if rc != 0 {
                    // run_command(check_rc=True): the raw output, stderr as the message.
                    return Outcome::failed(raw_err.trim_end().to_string())
                        .with("cmd", command)
                        .with("rc", rc)
                        .with("stdout", raw_out)
                        .with("stderr", raw_err);
                }
            }
            let strip = |s: &str| s.trim_end_matches(['\r', '\n']).to_string();
            let mut o = Outcome::changed(!q_ok)
                .with("stdout", strip(&raw_out))
                .with("stderr", strip(&raw_err));
            if let Value::Object(m) = &echo {
                for (k, v) in m {
                    o = o.with(k, v.clone());
                }
            }
            o.with("command", command)
        }),
    }))
}

super::registry::host_module!(Make, "make", aliases: &["community.general.make"],
    free_form: false, params: PARAMS, about: "run make targets unless `make -q` says they are up to date",
    plan: |cx| plan(&cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};

    fn makefile(h: &Host) {
        std::fs::create_dir_all(h.path("src")).expect("mkdir");
        std::fs::write(
            h.path("src/Makefile"),
            "all: out.txt\nout.txt:\n\techo $(GREETING) > out.txt\n",
        )
        .expect("write");
    }

    #[test]
    fn runs_when_not_up_to_date_then_is_ok() {
        let h = Host::new();
        makefile(&h);
        let a = json!({"chdir": "src", "target": "all", "params": {"GREETING": "hi", "Q": true}, "jobs": 2});
        let check = h.run(
            plan(
                &args(a.clone()),
                Mode {
                    check: true,
                    diff: false,
                },
            )
            .expect("plan"),
        );
        assert_eq!(check.status, Status::Changed, "{check:?}");
        assert!(!h.path("src/out.txt").exists());
        let run = h.run(plan(&args(a.clone()), Mode::default()).expect("plan"));
        assert_eq!(run.status, Status::Changed, "{run:?}");
        assert_eq!(
            std::fs::read_to_string(h.path("src/out.txt")).expect("made"),
            "hi\n"
        );
        assert_eq!(run.result["stdout"], "echo hi > out.txt");
        assert!(
            run.result["command"]
                .as_str()
                .expect("command")
                .ends_with("make -j 2 all GREETING=hi Q=True"),
            "{run:?}"
        );
        let again = h.run(plan(&args(a), Mode::default()).expect("plan"));
        assert_eq!(again.status, Status::Ok, "{again:?}");
    }

    #[test]
    fn a_failing_target_fails_with_its_stderr() {
        let h = Host::new();
        std::fs::write(h.path("Makefile"), "bad:\n\t@echo oops >&2; exit 1\n").expect("write");
        let o = h.run(
            plan(
                &args(json!({"chdir": ".", "target": "bad"})),
                Mode::default(),
            )
            .expect("plan"),
        );
        assert_eq!(o.status, Status::Failed, "{o:?}");
        let msg = o.msg().expect("msg");
        assert!(
            msg.starts_with("oops\n") && msg.ends_with(": *** [Makefile:2: bad] Error 1"),
            "{msg}"
        );
        let e = plan(
            &args(json!({"chdir": ".", "target": "a", "targets": ["b"]})),
            Mode::default(),
        )
        .expect_err("exclusive");
        assert_eq!(e.0, "parameters are mutually exclusive: target|targets");
    }
}
