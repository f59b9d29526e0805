//! Ansible inventories: the data model, the INI and YAML parsers, `group_vars`/`host_vars`,
//! variable merging, host patterns and the `ansible-inventory`-style output.
//!
//! It owns everything Ansible's `InventoryManager` does for static inventories. It does not own
//! playbook variables (play vars, facts, extra vars): those layer on top in `playbook`.
//!
//! Entry points: [`resolve_sources`] (where the inventory is), [`load`] (read it),
//! [`Inventory::host_vars`] (one host's merged variables), [`output`] (what
//! `hactl inventory` prints).

pub mod error;
mod hostrange;
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

pub use error::Error;
pub use loader::{Loaded, load, resolve_sources};
pub use model::{Group, Host, Inventory, Vars};
