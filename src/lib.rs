//! hactl: run Ansible-style playbooks and roles for highly available front ends, fast.
//!
//! The binary is thin; everything lives here. One folder per concern:
//! - [`inventory`]: Ansible inventories (INI, YAML, folders) and host patterns;
//! - [`yaml`]: YAML 1.1 as PyYAML reads it, with positions for error messages;
//! - [`template`]: Jinja2 templates rendered as Ansible's template module renders them;
//! - [`lint`]: checks of rendered keepalived configs (`hactl lint`, and `hactl apply`);
//! - [`status`]: the VRRP state of a whole fleet (`hactl status`);
//! - [`commands`]: one function per subcommand, called by `main`;
//! - [`vault`]: Ansible Vault, encrypted files and `!vault` values;
//! - [`lab`]: local labs of real hosts (`hactl lab`), booted by the test fleet's script;
//! - [`report`]: the one place that writes to the terminal.

pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub mod facts;
pub mod inventory;
pub mod lab;
pub mod lint;
pub mod modules;
pub mod playbook;
pub mod python;
pub mod report;
pub mod rolling;
pub mod run;
pub mod status;
pub mod template;
pub mod transport;
pub mod vault;
pub mod yaml;
