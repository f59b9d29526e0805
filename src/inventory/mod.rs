//! Ansible inventories: the data model, the INI and YAML parsers, `group_vars`/`host_vars`,
//! variable merging, host patterns and the `ansible-inventory`-style output.
//!
//! It owns everything Ansible's `InventoryManager` does for static inventories. It does not own
//! playbook variables (play vars, facts, extra vars): those layer on top in `playbook`.

pub mod model;
pub mod pattern;

pub use model::{Group, Host, Inventory, Vars};
