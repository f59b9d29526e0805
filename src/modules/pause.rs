//! `pause`: wait `seconds` or `minutes` on the controller, or wait for Enter at a `prompt`,
//! returning what Ansible's pause action returns (`stdout: Paused for N seconds`, `start`,
//! `stop`, `delta`, `user_input`, `echo`, `rc`, `stderr`, `changed: false`).
//!
//! Without a terminal on stdin, a prompt without a duration is not waited for: Ansible 2.19
//! warns "Not waiting for response to prompt as stdin is not interactive" and goes on with an
//! empty `user_input`; so does hactl (the warning is in `warnings`). A duration is always
//! waited for. With a terminal, the prompt is shown on stderr and a line is read (without
//! echo when `echo: false`); with a duration, input is ignored as in Ansible.
//!
//! Ansible runs `pause` once for all hosts of the batch (`BYPASS_HOST_LOOP`). The engine
//! gives this only to tasks with `run_once`: until it treats `pause` the same way, the module
//! runs once per host, all hosts at the same time (so the play waits about one duration when
//! the hosts fit in `forks`). Timestamps are UTC (Ansible prints local time).

use std::io::IsTerminal as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::ArgError;
use super::Outcome;
use super::args::Args;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

const PARAMS: &[&str] = &["minutes", "seconds", "prompt", "echo"];

#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub seconds: Option<f64>,
    pub minutes: bool,
    pub prompt: Option<String>,
    pub echo: bool,
}

fn number(a: &Args<'_>, name: &str) -> Result<Option<f64>, ArgError> {
    match a.str(&[name])? {
        None => Ok(None),
        Some(s) => s.trim().parse::<f64>().map(Some).map_err(|_| {
            ArgError(format!(
                "argument '{name}' is of type str and we were unable to convert to int: '{s}' cannot be converted to an int"
            ))
        }),
    }
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("pause", args, PARAMS)?;
    let minutes = number(&a, "minutes")?;
    let seconds = number(&a, "seconds")?;
    if minutes.is_some() && seconds.is_some() {
        return Err(ArgError(
            "parameters are mutually exclusive: minutes|seconds".into(),
        ));
    }
    // Ansible's pause takes whole numbers (type int).
    let whole = |v: f64| v.trunc();
    Ok(Params {
        seconds: minutes.map(|m| whole(m) * 60.0).or(seconds.map(whole)),
        minutes: minutes.is_some(),
        prompt: a.str(&["prompt"])?,
        echo: a.bool(&["echo"])?.unwrap_or(true),
    })
}

/// Python's `str(round(x, 2))`.
pub fn py_round2(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    let s = format!("{r}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// `datetime.now()` as `str()` prints it (here in UTC).
fn now_text() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[derive(Debug)]
pub struct Pause;

static SPEC: Spec = Spec {
    name: "pause",
    aliases: &[],
    runs: Runs::Controller,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "wait some time, or for Enter at a prompt",
};

impl Module for Pause {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

/// Shows the prompt on stderr and reads one line from the terminal.
#[allow(clippy::print_stderr)] // the prompt is for the person at the terminal
fn ask(prompt: &str, echo: bool) -> String {
    if echo {
        eprint!("{prompt} ");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        rpassword::prompt_password(format!("{prompt} ")).unwrap_or_default()
    }
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let started = Instant::now();
    let start = now_text();
    let mut warnings = Vec::new();
    let mut user_input = String::new();
    match p.seconds {
        // hactl render and hactl lint do not wait.
        _ if cx.offline() => {}
        Some(s) => tokio::time::sleep(Duration::from_secs_f64(s.max(1.0))).await,
        None if std::io::stdin().is_terminal() => {
            let name = cx.task.name.clone().unwrap_or_else(|| "pause".into());
            let hidden = if p.echo { "" } else { " (output is hidden)" };
            let text = p
                .prompt
                .clone()
                .unwrap_or_else(|| "Press enter to continue, Ctrl+C to interrupt".into());
            let prompt = format!("[{}]\n{text}{hidden}:", name.trim());
            let echo = p.echo;
            user_input = tokio::task::spawn_blocking(move || ask(&prompt, echo))
                .await
                .unwrap_or_default();
        }
        None => warnings.push(json!(
            "Not waiting for response to prompt as stdin is not interactive"
        )),
    }
    let duration = started.elapsed().as_secs_f64();
    let (shown, unit) = if p.minutes {
        (duration / 60.0, "minutes")
    } else {
        (duration, "seconds")
    };
    let mut o = Outcome::changed(false)
        .with("rc", 0)
        .with("stderr", "")
        .with("stdout", format!("Paused for {} {unit}", py_round2(shown)))
        .with("start", start)
        .with("stop", now_text())
        .with("delta", duration as u64)
        .with("echo", p.echo)
        .with("user_input", user_input);
    if !warnings.is_empty() {
        o = o.with("warnings", Value::Array(warnings));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_python_rounding() {
        let p = params(json!({"minutes": 2}).as_object().expect("map")).expect("params");
        assert_eq!((p.seconds, p.minutes), (Some(120.0), true));
        let p = params(json!({"seconds": "3"}).as_object().expect("map")).expect("params");
        assert_eq!(p.seconds, Some(3.0));
        let err = params(
            json!({"seconds": 1, "minutes": 1})
                .as_object()
                .expect("map"),
        )
        .expect_err("exclusive");
        assert_eq!(err.0, "parameters are mutually exclusive: minutes|seconds");
        assert_eq!(py_round2(1.0), "1.0");
        assert_eq!(py_round2(1.004_9), "1.0");
        assert_eq!(py_round2(2.016), "2.02");
        assert_eq!(py_round2(0.0333), "0.03");
    }

    #[test]
    fn timestamps_look_like_pythons() {
        let t = now_text();
        assert_eq!(t.len(), "2024-01-02 03:04:05.123456".len(), "{t}");
        assert_eq!(&t[4..5], "-");
        assert_eq!(&t[10..11], " ");
    }
}
