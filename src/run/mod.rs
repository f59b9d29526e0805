//! Running playbooks: the variables each task sees ([`context`]), and the offline pass that
//! renders every template for every host ([`render`]). Applying a playbook over SSH builds on
//! the same pieces.

pub mod adhoc;
pub mod agent;
pub mod context;
pub mod interrupt;
pub mod lookup;
pub mod render;
pub mod target;
