//! Ansible's Jinja tests (`is defined`, `is match`, ...), registered over minijinja's built-ins.
//!
//! `defined`/`undefined` see through chains (`foo.bar is defined` with `foo` missing is false),
//! `match`/`search`/`regex` use Python `re` semantics, and `number` counts booleans as
//! Python does (`bool` is a subclass of `int`).

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error, State};

use super::filters::defined;
use super::pyrepr::py_str;
use super::regex::compile;

/// Registers the Ansible tests on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_test("defined", |v: &Value| !v.is_undefined());
    env.add_test("undefined", |v: &Value| v.is_undefined());
    strict_builtins(env);
    env.add_test("none", |v: &Value| defined(v).map(|()| v.is_none()));
    // Task results, as Ansible's `changed`/`failed`/`succeeded`/`skipped` tests read them.
    env.add_test("changed", |v: &Value| result_flag(v, "changed", "changed"));
    env.add_test("change", |v: &Value| result_flag(v, "changed", "change"));
    env.add_test("failed", |v: &Value| result_flag(v, "failed", "failed"));
    env.add_test("failure", |v: &Value| result_flag(v, "failed", "failure"));
    env.add_test("succeeded", |v: &Value| {
        result_flag(v, "failed", "succeeded").map(|f| !f)
    });
    env.add_test("success", |v: &Value| {
        result_flag(v, "failed", "success").map(|f| !f)
    });
    env.add_test("skipped", |v: &Value| result_flag(v, "skipped", "skipped"));
    env.add_test("skip", |v: &Value| result_flag(v, "skipped", "skip"));
    env.add_test("string", |v: &Value| {
        defined(v).map(|()| v.kind() == ValueKind::String)
    });
    env.add_test("number", |v: &Value| {
        defined(v).map(|()| matches!(v.kind(), ValueKind::Number | ValueKind::Bool))
    });
    env.add_test("version", super::version::version_test);
    env.add_test("version_compare", super::version::version_test);
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

/// minijinja's built-in tests, failing on an undefined value as every Ansible 2.19 test but
/// `defined`/`undefined` does (`x.missing is mapping` is an error, not false).
fn strict_builtins(env: &mut Environment<'static>) {
    use minijinja::tests as t;
    macro_rules! unary {
        ($($name:literal => $f:expr),* $(,)?) => {$(
            env.add_test($name, |v: &Value| defined(v).map(|()| $f(v)));
        )*};
    }
    macro_rules! binary {
        ($($name:literal => $f:expr),* $(,)?) => {$(
            env.add_test($name, |v: &Value, o: &Value| {
                defined(v)?;
                defined(o)?;
                Ok::<_, Error>($f(v, o))
            });
        )*};
    }
    unary!(
        "boolean" => t::is_boolean,
        "integer" => t::is_integer,
        "int" => t::is_integer,
        "float" => t::is_float,
        "sequence" => t::is_sequence,
        "iterable" => t::is_iterable,
        "mapping" => t::is_mapping,
        "lower" => t::is_lower,
        "upper" => t::is_upper,
        "true" => t::is_true,
        "false" => t::is_false,
        "safe" => t::is_safe,
        "escaped" => t::is_safe,
        "odd" => |v: &Value| t::is_odd(v.clone()),
        "even" => |v: &Value| t::is_even(v.clone()),
    );
    binary!(
        "eq" => t::is_eq,
        "equalto" => t::is_eq,
        "==" => t::is_eq,
        "ne" => t::is_ne,
        "!=" => t::is_ne,
        "lt" => t::is_lt,
        "lessthan" => t::is_lt,
        "<" => t::is_lt,
        "le" => t::is_le,
        "<=" => t::is_le,
        "gt" => t::is_gt,
        "greaterthan" => t::is_gt,
        ">" => t::is_gt,
        "ge" => t::is_ge,
        ">=" => t::is_ge,
        "sameas" => t::is_sameas,
        "divisibleby" => t::is_divisibleby,
    );
    env.add_test("in", |state: &State, v: &Value, o: &Value| {
        defined(v)?;
        defined(o)?;
        t::is_in(state, v, o)
    });
    env.add_test("startingwith", |v: &Value, o: &Value| {
        defined(v)?;
        Ok::<_, Error>(py_str(v).starts_with(&py_str(o)))
    });
    env.add_test("endingwith", |v: &Value, o: &Value| {
        defined(v)?;
        Ok::<_, Error>(py_str(v).ends_with(&py_str(o)))
    });
}

/// A registered result's flag, true when set. A loop's result counts as changed if any item
/// changed, as Ansible's `changed` test does. Anything but a mapping is an error, as in Ansible.
fn result_flag(result: &Value, key: &str, test: &str) -> Result<bool, Error> {
    defined(result)?;
    if result.kind() != ValueKind::Map {
        return Err(Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("the '{test}' test expects a dictionary"),
        ));
    }
    let own = result.get_attr(key).map(|v| v.is_true()).unwrap_or(false);
    if own || key != "changed" {
        return Ok(own);
    }
    let items = result.get_attr("results").unwrap_or_default();
    Ok(items
        .try_iter()
        .is_ok_and(|mut it| it.any(|r| r.get_attr("changed").is_ok_and(|c| c.is_true()))))
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
    Ok(compile(&pattern, ignorecase, multiline)?.is_match(&text)?)
}
