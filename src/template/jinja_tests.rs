//! Ansible's Jinja tests (`is defined`, `is match`, ...), registered over minijinja's built-ins.
//!
//! `defined`/`undefined` see through chains (`foo.bar is defined` with `foo` missing is false),
//! `match`/`search`/`regex` use Python `re` semantics, and `number` counts booleans as
//! Python does (`bool` is a subclass of `int`).

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error};

use super::filters::defined;
use super::pyrepr::py_str;
use super::regex::compile;

/// Registers the Ansible tests on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_test("defined", |v: &Value| !v.is_undefined());
    env.add_test("undefined", |v: &Value| v.is_undefined());
    env.add_test("none", |v: &Value| v.is_none());
    env.add_test("string", |v: &Value| v.kind() == ValueKind::String);
    env.add_test("number", |v: &Value| {
        matches!(v.kind(), ValueKind::Number | ValueKind::Bool)
    });
    env.add_test("match", |v: &Value, p: String, k: Kwargs| {
        regex_test(v, &p, k, Mode::Match)
    });
    env.add_test("search", |v: &Value, p: String, k: Kwargs| {
        regex_test(v, &p, k, Mode::Search)
    });
    env.add_test("regex", |v: &Value, p: String, k: Kwargs| {
        let mode = if k.get::<Option<String>>("match_type")?.as_deref() == Some("match") {
            Mode::Match
        } else {
            Mode::Search
        };
        regex_test(v, &p, k, mode)
    });
}

#[derive(Clone, Copy)]
enum Mode {
    Match,
    Search,
}

fn regex_test(value: &Value, pattern: &str, kwargs: Kwargs, mode: Mode) -> Result<bool, Error> {
    defined(value)?;
    let ignorecase = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let multiline = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let text = py_str(value);
    let pattern = match mode {
        // re.match anchors at the start only.
        Mode::Match => format!("\\A(?:{pattern})"),
        Mode::Search => pattern.to_string(),
    };
    Ok(compile(&pattern, ignorecase, multiline)?.is_match(&text))
}
