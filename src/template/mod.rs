//! Jinja2 templates rendered with minijinja exactly as Ansible's template module renders them.
//!
//! [`Templar`] owns one minijinja [`Environment`] configured like ansible-core 2.19's: trim
//! blocks on, lstrip off, Ansible's filters and tests, Python-style printing of values,
//! strict-but-chainable undefined values, the `#jinja2:` override header and Ansible's rule for
//! trailing newlines. [`vars`] builds the variables a host sees (`hostvars`, `groups`, ...).
//!
//! It does not own finding templates on a role's search path or deciding variable precedence:
//! the playbook runner passes a path and a context. Known differences from Ansible are listed
//! in COMPATIBILITY.md under "Templates".

mod error;
mod filters;
mod jinja_tests;
mod json;
mod lazy;
mod lookup;
mod pyformat;
mod pymethods;
mod pymut;
mod pyrepr;
pub(crate) mod regex;
mod render;
mod source;
pub mod template_vars;
pub mod vars;
mod version;
mod yaml;

pub use error::TemplateError;
pub use pyrepr::{py_repr, py_str};
pub use render::Templar;
pub use vars::{Data, HostInfo, Layers, OMIT, PlayInfo, PlayVars};

/// Converts plain data (JSON from the inventory or vars files) into a template value.
pub fn to_value<T: serde::Serialize>(data: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(data))
}

/// Text that renders to `text` itself however it is templated: how a value that must never be
/// templated (`!unsafe`) is kept among values that are. Text with template markers goes in
/// `{% raw %}` blocks; every `{%` is written as an expression between them, so an
/// `{% endraw %}` inside the text cannot close a block early.
pub fn literal_template(text: &str) -> String {
    let markers = |s: &str| s.contains("{{") || s.contains("{%") || s.contains("{#");
    if !markers(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 32);
    for (i, part) in text.split("{%").enumerate() {
        if i > 0 {
            out.push_str("{{ '{%' }}");
        }
        if markers(part) || part.contains('}') {
            out.push_str("{% raw %}");
            out.push_str(part);
            out.push_str("{% endraw %}");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// `value[key]` when it exists (never an undefined placeholder).
pub(crate) trait Pick {
    fn pick(&self, key: &minijinja::Value) -> Option<minijinja::Value>;
}

impl Pick for minijinja::Value {
    fn pick(&self, key: &minijinja::Value) -> Option<minijinja::Value> {
        self.get_item(key).ok().filter(|v| !v.is_undefined())
    }
}
