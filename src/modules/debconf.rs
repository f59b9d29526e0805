//! `debconf`: one debconf answer for a package, read with `debconf-show` and set with
//! `debconf-set-selections`, as Ansible's module does (booleans compared lowercased,
//! `multiselect` lists compared sorted, a password compared on the host so the stored one
//! never travels); results `current`, `previous`, `msg` and the diff as Ansible's.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, field_b64, flag, with_vars};
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{ArgError, FileDiff, Outcome};

const PARAMS: &[&str] = &[
    "name",
    "pkg",
    "question",
    "selection",
    "setting",
    "vtype",
    "value",
    "answer",
    "unseen",
];

const SCRIPT: &str = include_str!("debconf.sh");

#[derive(Debug, Clone)]
struct Params {
    pkg: String,
    question: Option<String>,
    vtype: String,
    /// The value as text (a list joined with `, `), and a list's items sorted.
    value: String,
    list: Option<Vec<String>>,
    unseen: bool,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("debconf", args, PARAMS)?;
    let pkg = a.required(&["name", "pkg"])?;
    if pkg.is_empty() || pkg.starts_with('-') || pkg.contains(char::is_whitespace) {
        return Err(ArgError(format!("not a package name: '{pkg}'")));
    }
    let question = a.str(&["question", "selection", "setting"])?;
    let vtype = a
        .choice(
            "vtype",
            &[
                "boolean",
                "error",
                "multiselect",
                "note",
                "password",
                "seen",
                "select",
                "string",
                "text",
                "title",
            ],
        )?
        .unwrap_or_default();
    let raw = ["value", "answer"]
        .iter()
        .find_map(|k| args.get(*k).filter(|v| !v.is_null()));
    let given = [question.is_some(), !vtype.is_empty(), raw.is_some()];
    if given.iter().any(|g| *g) && !given.iter().all(|g| *g) {
        return Err(ArgError(
            "parameters are required together: question, vtype, value".into(),
        ));
    }
    let (mut value, list) = match raw {
        Some(Value::Array(items)) if vtype == "multiselect" => {
            let mut l: Vec<String> = items.iter().map(text).collect();
            l.sort();
            (l.join(", "), Some(l))
        }
        Some(v) => (text(v), None),
        None => (String::new(), None),
    };
    if vtype == "boolean" {
        value = value.to_lowercase();
    }
    if value.contains('\n')
        || question
            .as_deref()
            .is_some_and(|q| q.contains(char::is_whitespace))
    {
        return Err(ArgError(
            "a debconf question is one word and its value one line".into(),
        ));
    }
    Ok(Params {
        pkg,
        question,
        vtype,
        value,
        list,
        unseen: a.bool(&["unseen"])?.unwrap_or(false),
    })
}

/// `get_selections`: `debconf-show` lines as question → value.
fn selections(shown: &str) -> Map<String, Value> {
    let mut m = Map::new();
    for line in shown.lines() {
        if let Some((k, v)) = line.split_once(':') {
            m.insert(
                k.trim_matches('*').trim().to_string(),
                Value::String(v.trim().to_string()),
            );
        }
    }
    m
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let secrets: Vec<String> = if p.vtype == "password" {
        vec![p.value.clone()]
    } else {
        Vec::new()
    };
    let question = p.question.clone().unwrap_or_default();
    let vars = |step: &str| {
        with_vars(
            SCRIPT,
            &[
                ("step", step),
                ("pkg", &p.pkg),
                ("question", &question),
                ("vtype", &p.vtype),
                ("unseen", flag(p.unseen)),
            ],
        )
    };
    let stdin = format!("{}\n", p.value);
    let Some(read) = cx.exec(&vars("read"), stdin.as_bytes()).await? else {
        return Ok(Outcome::offline(cx.module));
    };
    if !read.success() {
        let mut o = protocol::failed_from(&read, "debconf-show failed");
        o.result.remove("rc");
        return Ok(o);
    }
    let f = protocol::fields(&read.stdout);
    let mut prev = selections(&field_b64(&f, "shown_b64").unwrap_or_default());
    let mut changed = false;
    if p.question.is_some() {
        match prev.get(&question).and_then(Value::as_str) {
            None => changed = true,
            Some(existing) => {
                changed = match (p.vtype.as_str(), &p.list) {
                    ("boolean", _) => existing.to_lowercase() != p.value,
                    ("password", _) => field(&f, "pw_same") != Some("1"),
                    ("multiselect", Some(list)) => {
                        let mut e: Vec<String> =
                            existing.split(',').map(|i| i.trim().to_string()).collect();
                        e.sort();
                        &e != list
                    }
                    _ => existing != p.value,
                }
            }
        }
    }
    if !changed {
        return Ok(Outcome::changed(false)
            .with("msg", "")
            .with("current", Value::Object(prev)));
    }
    let mut msg = String::new();
    if !cx.mode.check {
        let line = format!("{} {} {} {}\n", p.pkg, question, p.vtype, p.value);
        let Some(set) = cx.exec(&vars("set"), line.as_bytes()).await? else {
            return Ok(Outcome::offline(cx.module));
        };
        if !set.success() {
            let mut o = protocol::failed_from(&set, "debconf-set-selections failed");
            o.result.remove("rc");
            protocol::scrub(&mut o, &secrets);
            return Ok(o);
        }
        msg = field_b64(&protocol::fields(&set.stdout), "msg_b64").unwrap_or_default();
    }
    let current_value = match &p.list {
        Some(l) => Value::Array(l.iter().cloned().map(Value::String).collect()),
        None => Value::String(p.value.clone()),
    };
    let mut curr = Map::new();
    curr.insert(question.clone(), current_value);
    prev = match prev.remove(&question) {
        Some(v) => [(question.clone(), v)].into_iter().collect(),
        None => [(question.clone(), Value::String(String::new()))]
            .into_iter()
            .collect(),
    };
    let mut o = Outcome::changed(true)
        .with("msg", msg)
        .with("current", Value::Object(curr.clone()))
        .with("previous", Value::Object(prev.clone()));
    if cx.mode.diff {
        let mut after = prev.clone();
        after.extend(curr);
        let show = |m: &Map<String, Value>| {
            m.iter()
                .map(|(k, v)| format!("{k}: {}\n", text(v)))
                .collect::<String>()
        };
        o.diff = Some(FileDiff {
            path: format!("debconf {}", p.pkg),
            before: Some(show(&prev)),
            after: show(&after),
        });
    }
    protocol::scrub(&mut o, &secrets);
    Ok(o)
}

#[derive(Debug)]
pub struct Debconf;

static SPEC: Spec = Spec {
    name: "debconf",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "set a debconf answer (debconf-set-selections)",
};

impl Module for Debconf {
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
    use crate::modules::testutil::{Host, args};
    use serde_json::json;

    #[test]
    fn reads_debconf_show_and_checks_arguments() {
        let m = selections("* tzdata/Areas: Europe\n  locales/default: en_US.UTF-8\n");
        assert_eq!(m["tzdata/Areas"], "Europe");
        assert_eq!(m["locales/default"], "en_US.UTF-8");
        let err = params(&args(json!({"name": "x", "question": "x/q"}))).expect_err("together");
        assert!(err.0.contains("required together"), "{err}");
        let p = params(&args(
            json!({"name": "x", "question": "x/q", "vtype": "multiselect",
                                    "value": ["b", "a"]}),
        ))
        .expect("params");
        assert_eq!(p.value, "a, b");
        let p = params(&args(
            json!({"name": "x", "question": "x/q", "vtype": "boolean",
                                    "value": true}),
        ))
        .expect("params");
        assert_eq!(p.value, "true");
    }

    #[test]
    fn the_password_is_compared_on_the_host() {
        let h = Host::new();
        h.fake("debconf-show", "echo '* x/pw: (password omitted)'");
        h.fake("debconf-set-selections", "cat > set.in");
        h.fake(
            "debconf-get-selections",
            "printf 'x\\tx/pw\\tpassword\\ts3cret\\n'",
        );
        let script = |v: &str| {
            with_vars(
                SCRIPT,
                &[
                    ("step", "read"),
                    ("pkg", "x"),
                    ("question", "x/pw"),
                    ("vtype", "password"),
                    ("unseen", "0"),
                ],
            )
            .replace("__", v)
        };
        let out = h.exec(&script(""), b"s3cret\n");
        let f = protocol::fields(&out.stdout);
        assert_eq!(field(&f, "pw_same"), Some("1"), "{out:?}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cret"));
        let out = h.exec(&script(""), b"other\n");
        assert_eq!(field(&protocol::fields(&out.stdout), "pw_same"), Some("0"));
    }
}
