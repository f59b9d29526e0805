//! Playbooks and roles as Ansible loads them: plays, blocks, tasks, handlers, role search and
//! module arguments. It owns the structure; rendering lives in `template`, running in `run`.

pub mod catalogue;
mod error;
pub mod extra_vars;
pub mod kv;
mod load;
pub mod model;
mod role;
mod task;
pub mod value;

pub use error::Error;
pub use load::{Loaded, load, load_tasks_file, walk};
pub use model::*;
pub use task::short_module;
