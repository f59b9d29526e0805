//! Ansible inventories: the data model, the INI and YAML parsers, `group_vars`/`host_vars`,
//! variable merging, host patterns and the `ansible-inventory`-style output.
//!
//! It owns everything Ansible's `InventoryManager` does for static inventories. It does not own
//! playbook variables (play vars, facts, extra vars): those layer on top in `playbook`.
//!
//! Entry points: [`resolve_sources`] (where the inventory is), [`load`] (read it),
//! [`Inventory::host_vars`] (one host's merged variables), [`output`] (what
//! `hactl inventory` prints).
//!
//! Strings Ansible will never template (`!unsafe` in YAML, bytes literals in INI) are kept in
//! Ansible's own JSON form, `{"__ansible_unsafe": "text"}`, which is also what
//! `ansible-inventory --list` prints for them; [`unsafe_text`] recognises it.

pub mod error;
pub mod hostrange;
mod ini;
mod loader;
pub mod model;
pub mod output;
pub mod pattern;
pub mod pyliteral;
mod shlex;
mod vars;
mod varsfiles;
mod yaml_inv;

use serde_json::Value;

pub use error::Error;
pub use loader::{Loaded, load, load_with_playbook_dir, parse_ini, resolve_sources};
pub use model::{Group, Host, Inventory, Vars};

/// Key of Ansible's JSON form of a string that must never be templated.
pub const UNSAFE_KEY: &str = "__ansible_unsafe";

/// Wraps `text` as a never-templated string.
pub fn unsafe_value(text: String) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(UNSAFE_KEY.to_string(), Value::String(text));
    Value::Object(map)
}

/// The text of a never-templated string, if `value` is one.
pub fn unsafe_text(value: &Value) -> Option<&str> {
    match value {
        Value::Object(map) if map.len() == 1 => map.get(UNSAFE_KEY)?.as_str(),
        _ => None,
    }
}
