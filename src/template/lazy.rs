//! Ansible renders Jinja found inside variable values when they are used: with a group var
//! `vip: "{{ net }}.100"`, `{{ vip }}` prints `10.0.0.100`. This module does that for values
//! read through a [`Layers`](super::Layers) scope, in that scope's own context.
//!
//! The environment comes from the [`Templar`](super::Templar) that is rendering on this thread
//! (set for the duration of each render), so variables stay plain data that needs no Templar
//! to be built.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, ErrorKind};

/// Nesting limit for variables that refer to variables (Ansible stops at a similar depth).
const MAX_DEPTH: usize = 32;

thread_local! {
    static ENV: RefCell<Option<Arc<Environment<'static>>>> = const { RefCell::new(None) };
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Makes `env` the environment for lazy variables until dropped.
#[derive(Debug)]
pub struct ActiveEnv {
    previous: Option<Arc<Environment<'static>>>,
}

impl ActiveEnv {
    pub fn enter(env: &Arc<Environment<'static>>) -> Self {
        let previous = ENV.with(|e| e.borrow_mut().replace(env.clone()));
        ActiveEnv { previous }
    }
}

impl Drop for ActiveEnv {
    fn drop(&mut self) {
        ENV.with(|e| *e.borrow_mut() = self.previous.take());
    }
}

fn has_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

fn needs_resolving(v: &Value) -> bool {
    match v.kind() {
        ValueKind::String => v.as_str().is_some_and(has_template),
        ValueKind::Seq => v
            .try_iter()
            .is_ok_and(|mut it| it.any(|x| needs_resolving(&x))),
        // Only plain maps: scopes resolve their own values, and `hostvars` must stay lazy.
        ValueKind::Map
            if v.downcast_object_ref::<indexmap::IndexMap<Value, Value>>()
                .is_some() =>
        {
            v.try_iter()
                .is_ok_and(|mut it| it.any(|k| v.get_item(&k).is_ok_and(|x| needs_resolving(&x))))
        }
        _ => false,
    }
}

/// `value` with every string that holds Jinja rendered in `ctx`.
pub fn resolve(value: Value, ctx: &Value) -> Value {
    if !needs_resolving(&value) {
        return value;
    }
    let Some(env) = ENV.with(|e| e.borrow().clone()) else {
        return value;
    };
    let depth = DEPTH.with(|d| d.get());
    if depth >= MAX_DEPTH {
        return Value::from(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            "recursive loop detected in template: a variable refers to itself",
        ));
    }
    DEPTH.with(|d| d.set(depth + 1));
    let out = resolve_in(&env, value, ctx);
    DEPTH.with(|d| d.set(depth));
    out
}

fn resolve_in(env: &Environment<'static>, value: Value, ctx: &Value) -> Value {
    match value.kind() {
        ValueKind::String => {
            let src = value.as_str().unwrap_or_default();
            match super::render::render_variable(env, src, ctx) {
                Ok(v) => v,
                // An undefined reference makes the variable undefined, so `default()` still works.
                Err(e) if e.kind() == ErrorKind::UndefinedError => Value::UNDEFINED,
                Err(e) => Value::from(e),
            }
        }
        ValueKind::Seq => Value::from(
            value
                .try_iter()
                .map(|it| it.map(|x| resolve_in(env, x, ctx)).collect::<Vec<_>>())
                .unwrap_or_default(),
        ),
        ValueKind::Map => Value::from_pairs(
            value
                .try_iter()
                .map(|it| {
                    it.map(|k| {
                        let v = value.get_item(&k).unwrap_or_default();
                        (k, resolve_in(env, v, ctx))
                    })
                    .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        ),
        _ => value,
    }
}
