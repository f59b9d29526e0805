//! `pip` (ansible.builtin): Python packages with the host's pip, as ansible-core's module runs
//! it: pip is `python3 -m pip.__main__` when the host's python3 has pip (what the module's
//! own interpreter would use), else `pip3`, or `executable`, or the virtualenv's pip; a
//! missing pip fails with the module's message. `name` (with version specifiers, or
//! `version`), `requirements`, `state` (present, absent, latest, forcereinstall),
//! `extra_args`, `editable`, `chdir`, `virtualenv` (made with `virtualenv_command`,
//! `virtualenv_site_packages`, `virtualenv_python`) and `break_system_packages` as the module.
//! Changed as the module decides: pip's "Successfully installed/uninstalled", or the
//! `pip list --format=freeze` before and after for a requirements file. Check mode compares
//! the names with the installed list (==, !=, <, <=, >, >= on numeric versions; other
//! specifiers are refused in check mode rather than guessed). See pip.sh.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field, field_b64};
use super::registry::{Cx, Unreachable};
use super::{ArgError, Outcome};

const SCRIPT: &str = include_str!("pip.sh");

const PARAMS: &[&str] = &[
    "name",
    "version",
    "requirements",
    "virtualenv",
    "virtualenv_site_packages",
    "virtualenv_command",
    "virtualenv_python",
    "state",
    "extra_args",
    "editable",
    "chdir",
    "executable",
    "umask",
    "break_system_packages",
];

/// Python's `packaging` name canonicalisation.
fn canonical(name: &str) -> String {
    let re = regex::Regex::new(r"[-_.]+").expect("a valid pattern");
    re.replace_all(&name.to_lowercase(), "-").into_owned()
}

/// A requirement `name<spec>`: the canonical name and its specifiers.
fn requirement(text: &str) -> (String, Vec<(String, String)>) {
    let at = text
        .find(|c: char| "<>=!~;[ ".contains(c))
        .unwrap_or(text.len());
    let name = canonical(&text[..at]);
    let rest = text[at..].split(';').next().unwrap_or_default();
    let rest = rest.split(']').next_back().unwrap_or_default();
    let specs = rest
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let op_len = s.find(|c: char| !"<>=!~".contains(c)).unwrap_or(s.len());
            (s[..op_len].to_string(), s[op_len..].trim().to_string())
        })
        .collect();
    (name, specs)
}

/// Numeric release parts of a version, or `None` when it has other parts (pre-releases, local
/// versions) that need PEP 440's rules.
fn numeric(v: &str) -> Option<Vec<u64>> {
    v.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

/// Whether `installed` satisfies the specifiers; `Err` for what hactl does not compare.
fn satisfied(installed: &str, specs: &[(String, String)]) -> Result<bool, String> {
    for (op, want) in specs {
        let ok = if op == "==" && !want.contains('*') {
            match (numeric(installed), numeric(want)) {
                (Some(mut a), Some(mut b)) => {
                    let n = a.len().max(b.len());
                    a.resize(n, 0);
                    b.resize(n, 0);
                    a == b
                }
                _ => installed == want,
            }
        } else {
            let (Some(mut a), Some(mut b)) = (numeric(installed), numeric(want)) else {
                return Err(format!(
                    "hactl's pip cannot compare version {installed} with {op}{want} in check mode"
                ));
            };
            let n = a.len().max(b.len());
            a.resize(n, 0);
            b.resize(n, 0);
            match op.as_str() {
                "!=" => a != b,
                ">=" => a >= b,
                "<=" => a <= b,
                ">" => a > b,
                "<" => a < b,
                _ => {
                    return Err(format!(
                        "hactl's pip does not compare the specifier {op}{want} in check mode"
                    ));
                }
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `name` as the module recovers it: a list item starting with an operator belongs to the
/// previous one (a comma-separated specifier the list split).
fn recover(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        match out.last_mut() {
            Some(last) if n.starts_with(['<', '>', '=', '!', '~']) => {
                last.push(',');
                last.push_str(&n);
            }
            _ => out.push(n),
        }
    }
    out
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    match go(cx).await {
        Ok(o) => Ok(o),
        Err(Stop::Arg(e)) => Ok(Outcome::failed(e.0)),
        Err(Stop::Unreachable(u)) => Err(u),
    }
}

enum Stop {
    Arg(ArgError),
    Unreachable(Unreachable),
}

impl From<ArgError> for Stop {
    fn from(e: ArgError) -> Stop {
        Stop::Arg(e)
    }
}

impl From<Unreachable> for Stop {
    fn from(e: Unreachable) -> Stop {
        Stop::Unreachable(e)
    }
}

async fn go(cx: &Cx<'_>) -> Result<Outcome, Stop> {
    let a = Args::new("pip", &cx.args, PARAMS)?;
    if a.str(&["umask"])?.is_some() {
        return Err(ArgError("hactl's pip does not support umask yet".into()).into());
    }
    let state = a
        .choice("state", &["present", "absent", "latest", "forcereinstall"])?
        .unwrap_or_else(|| "present".into());
    let names = recover(a.list(&["name"])?);
    let version = a.str(&["version"])?;
    let requirements = a.str(&["requirements"])?;
    if !names.is_empty() && requirements.is_some() {
        return Err(ArgError("parameters are mutually exclusive: name|requirements".into()).into());
    }
    if names.is_empty() && requirements.is_none() {
        return Err(ArgError("one of the following is required: name, requirements".into()).into());
    }
    if state == "latest" && version.is_some() {
        return Err(ArgError("version is incompatible with state=latest".into()).into());
    }
    let chdir = a.str(&["chdir"])?;
    let mut env = a.str(&["virtualenv"])?;
    if let (Some(e), Some(c)) = (&env, &chdir) {
        if !e.starts_with('/') {
            env = Some(format!("{}/{e}", c.trim_end_matches('/')));
        }
    }
    let mut packages = names.clone();
    if let Some(v) = &version {
        if packages.len() > 1 {
            return Err(ArgError("'version' argument is ambiguous when installing multiple package distributions. Please specify version restrictions next to each package in 'name' argument.".into()).into());
        }
        if !requirement(&packages[0]).1.is_empty() {
            return Err(ArgError("The 'version' argument conflicts with any version specifier provided along with a package name. Please keep the version specifier, but remove the 'version' argument.".into()).into());
        }
        packages[0] = if v.starts_with(['<', '>', '=', '!', '~']) {
            format!("{}{v}", packages[0])
        } else {
            format!("{}=={v}", packages[0])
        };
    }
    let mut extra = a.str(&["extra_args"])?.unwrap_or_default();
    if a.bool(&["editable"])?.unwrap_or(false) && !extra.split(' ').any(|w| w == "-e") {
        extra = if extra.is_empty() {
            "-e".into()
        } else {
            format!("{extra} -e")
        };
    }
    let mut pip_args: Vec<String> = match state.as_str() {
        "present" => vec!["install".into()],
        "absent" => vec!["uninstall".into(), "-y".into()],
        "latest" => vec!["install".into(), "-U".into()],
        _ => vec!["install".into(), "-U".into(), "--force-reinstall".into()],
    };
    if !extra.is_empty() {
        pip_args.extend(
            shlex::split(&extra)
                .ok_or_else(|| ArgError(format!("cannot split extra_args: {extra}")))?,
        );
    }
    match &requirements {
        Some(r) if names.is_empty() => pip_args.extend(["-r".to_string(), r.clone()]),
        _ => pip_args.extend(packages.iter().cloned()),
    }
    let mut venv: Vec<String> = shlex::split(
        &a.str(&["virtualenv_command"])?
            .unwrap_or_else(|| "virtualenv".into()),
    )
    .unwrap_or_default();
    let is_venv =
        venv.iter().any(|w| w == "venv") || venv.first().is_some_and(|w| w.ends_with("pyvenv"));
    if a.bool(&["virtualenv_site_packages"])?.unwrap_or(false) {
        venv.push("--system-site-packages".into());
    }
    if let Some(py) = a.str(&["virtualenv_python"])? {
        if is_venv {
            return Err(ArgError("virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command".into()).into());
        }
        venv.push(format!("-p{py}"));
    }
    let check = cx.mode.check;
    // Check mode with nothing to compare: the module says changed without looking.
    let blind = check
        && (!extra.is_empty() || requirements.is_some() || state == "latest" || names.is_empty());
    let n_venv = venv.len().to_string();
    let env_s = env.clone().unwrap_or_default();
    let chdir_s = chdir.clone().unwrap_or_default();
    let exe = a.str(&["executable"])?.unwrap_or_default();
    let mut script = assign(
        &[
            ("env", &env_s),
            ("chdir", &chdir_s),
            ("executable", &exe),
            ("check", flag(check)),
            ("list_only", flag(check)),
            ("freeze", flag(requirements.is_some())),
            ("n_venv", &n_venv),
        ],
        SCRIPT,
    );
    if a.bool(&["break_system_packages"])?.unwrap_or(false) {
        script = format!("export PIP_BREAK_SYSTEM_PACKAGES=1\n{script}");
    }
    let words: Vec<&str> = venv.iter().chain(&pip_args).map(String::as_str).collect();
    let script = protocol::with_args(&script, &words);
    if blind && env.is_none() {
        return Ok(Outcome::changed(true));
    }
    let Some(out) = cx.exec(&script, b"").await? else {
        return Ok(Outcome::offline(cx.module));
    };
    let f = protocol::fields(&out.stdout);
    if !out.success() {
        let mut o = protocol::failed_from(&out, "pip failed");
        o.result.remove("rc");
        return Ok(o);
    }
    if blind || (check && field(&f, "venv_created").is_some()) {
        return Ok(Outcome::changed(true));
    }
    let text = |k: &str| field_b64(&f, k).unwrap_or_default();
    if check {
        let list = text("list_b64");
        let installed: Vec<(String, String)> = list
            .lines()
            .filter(|l| !l.starts_with("You are using") && !l.starts_with("You should consider"))
            .filter_map(|l| l.split_once("=="))
            .map(|(n, v)| (canonical(n), v.trim().to_string()))
            .collect();
        let mut changed = false;
        for p in &packages {
            let (name, specs) = requirement(p);
            let mut present = false;
            for (n, v) in &installed {
                if *n == name {
                    match satisfied(v, &specs) {
                        Ok(true) => present = true,
                        Ok(false) => {}
                        Err(msg) => return Ok(Outcome::failed(msg)),
                    }
                }
            }
            if (state == "present" && !present) || (state == "absent" && present) {
                changed = true;
                break;
            }
        }
        return Ok(Outcome::changed(changed)
            .with("cmd", field(&f, "list_cmd").unwrap_or_default())
            .with("stdout", list)
            .with("stderr", text("err_b64")));
    }
    let pip: Vec<String> = base64::engine::general_purpose::STANDARD
        .decode(field(&f, "pip_b64").unwrap_or_default())
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let cmd: Vec<Value> = pip.iter().chain(&pip_args).map(|w| json!(w)).collect();
    let rc = field(&f, "rc")
        .and_then(|r| r.parse::<i64>().ok())
        .unwrap_or(-1);
    let (stdout, stderr) = (text("out_b64"), text("err_b64"));
    let not_installed = rc == 1
        && state == "absent"
        && (stdout.contains("not installed") || stderr.contains("not installed"));
    if rc != 0 && !not_installed {
        let mut msg = String::new();
        if !stdout.is_empty() {
            msg.push_str(&format!("stdout: {stdout}"));
        }
        if !stderr.is_empty() {
            msg.push_str(&format!("\n:stderr: {stderr}"));
        }
        return Ok(Outcome::failed(msg).with("cmd", Value::Array(cmd)));
    }
    let changed = if state == "absent" {
        stdout.contains("Successfully uninstalled")
    } else if requirements.is_some() {
        field(&f, "freeze_changed") == Some("1")
    } else {
        stdout.contains("Successfully installed")
    } || field(&f, "venv_created").is_some();
    let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    let mut result = Map::new();
    result.insert("cmd".into(), Value::Array(cmd));
    result.insert(
        "name".into(),
        if names.is_empty() {
            Value::Null
        } else {
            json!(names)
        },
    );
    result.insert("version".into(), opt(&version));
    result.insert("state".into(), json!(state));
    result.insert("requirements".into(), opt(&requirements));
    result.insert("virtualenv".into(), opt(&env));
    result.insert("stdout".into(), json!(stdout));
    result.insert("stderr".into(), json!(stderr));
    let mut o = Outcome::changed(changed);
    o.result.extend(result);
    Ok(o)
}

#[derive(Debug)]
pub struct Pip;

impl super::registry::Module for Pip {
    fn spec(&self) -> &'static super::registry::Spec {
        static SPEC: super::registry::Spec = super::registry::Spec {
            name: "pip",
            aliases: &[],
            runs: super::registry::Runs::Host,
            free_form: false,
            params: Some(PARAMS),
            check_mode: true,
            about: "Python packages with the host's pip",
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
    use crate::modules::testutil::{CxParts, Host, args};
    use crate::modules::{Mode, Status};

    #[test]
    fn requirements_and_versions() {
        assert_eq!(
            requirement("Flask_Login>=0.6,<1"),
            (
                "flask-login".into(),
                vec![(">=".into(), "0.6".into()), ("<".into(), "1".into())]
            )
        );
        let (_, specs) = requirement("x>=0.6,<1");
        assert_eq!(satisfied("0.6.3", &specs), Ok(true));
        assert_eq!(satisfied("1.0", &specs), Ok(false));
        assert_eq!(satisfied("2.0", &requirement("x==2").1), Ok(true));
        assert!(satisfied("2.0", &requirement("x~=2.0").1).is_err());
        assert_eq!(
            recover(vec!["a>=1".into(), "<2".into(), "b".into()]),
            vec!["a>=1,<2", "b"]
        );
    }

    /// A fake pip3 (no python3 with pip first on PATH is faked away by `executable`).
    fn fake_pip(h: &Host) {
        let db = h.path("pipdb").display().to_string();
        h.recording(
            "pip3",
            &format!(
                r#"db='{db}'; touch "$db"
case "$1" in
  list) cat "$db" ;;
  install) shift; for p do case $p in -*) ;; *) n=${{p%%[=<>]*}}; grep -q "^$n==" "$db" || {{ echo "$n==1.0" >>"$db"; echo "Successfully installed $n-1.0"; }} ;; esac; done ;;
  uninstall) shift; for p do case $p in -*) ;; *) if grep -q "^$p==" "$db"; then grep -v "^$p==" "$db" >"$db.n"; mv "$db.n" "$db"; echo "Successfully uninstalled $p-1.0"; else echo "WARNING: Skipping $p as it is not installed." >&2; fi ;; esac; done ;;
esac"#
            ),
        );
    }

    #[test]
    fn installs_is_ok_again_and_removes_with_a_fake_pip() {
        let h = Host::new();
        fake_pip(&h);
        let parts = CxParts::new("pip");
        let run = |a: Value, check: bool| {
            let cx = parts.cx(&h, "pip", args(a), Mode { check, diff: false });
            futures::executor::block_on(super::run(&cx)).expect("reachable")
        };
        let a = json!({"name": ["requests"], "executable": "pip3"});
        let c = run(a.clone(), true);
        assert_eq!(c.status, Status::Changed, "{c:?}");
        assert!(
            c.result["cmd"]
                .as_str()
                .expect("cmd")
                .ends_with("pip3 list --format=freeze")
        );
        let i = run(a.clone(), false);
        assert_eq!(i.status, Status::Changed, "{i:?}");
        assert_eq!(i.result["name"], json!(["requests"]));
        assert_eq!(i.result["cmd"][1], "install");
        assert_eq!(run(a.clone(), false).status, Status::Ok);
        assert_eq!(run(a, true).status, Status::Ok);
        let gone = run(
            json!({"name": "requests", "state": "absent", "executable": "pip3"}),
            false,
        );
        assert_eq!(gone.status, Status::Changed, "{gone:?}");
        let again = run(
            json!({"name": "requests", "state": "absent", "executable": "pip3"}),
            false,
        );
        assert_eq!(again.status, Status::Ok, "{again:?}");
    }

    #[test]
    fn a_missing_pip_fails_with_the_modules_message() {
        let h = Host::new();
        let parts = CxParts::new("pip");
        let cx = parts.cx(
            &h,
            "pip",
            args(json!({"name": "x", "executable": "hactl-no-pip"})),
            Mode::default(),
        );
        let o = futures::executor::block_on(run(&cx)).expect("reachable");
        assert_eq!(
            o.msg(),
            Some("Unable to find any of hactl-no-pip to use.  pip needs to be installed.")
        );
    }
}
