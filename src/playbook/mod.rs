//! Playbooks and roles as Ansible loads them: plays, blocks, tasks, handlers, role search and
//! module arguments. It owns the structure; rendering lives in `template`, running in `run`.

pub mod kv;
