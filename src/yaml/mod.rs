//! YAML 1.1 as PyYAML (and so Ansible 2.19's `AnsibleLoader`) reads it, built on
//! saphyr-parser's event stream, with a line and column on every node.
//!
//! It owns turning the text of an inventory, vars file, playbook or role file into a [`Node`]
//! tree: scalar resolution (YAML 1.1 booleans, octal, sexagesimal, ...), explicit tags,
//! Ansible's `!unsafe`, anchors, aliases, merge keys and Ansible's duplicate-key warning.
//! It does not own what the data means: inventory, playbook and role loaders do.
//!
//! Like Ansible's `from_yaml`, a file that is valid JSON is read with JSON's rules first
//! (so `1e3` is a float there, and duplicate keys are silent).
//!
//! Deliberate differences from Ansible, all rare in practice:
//! - a timestamp (`2001-12-14`, `2001-12-14 21:59:43.10 -5`) is a [`Yaml::Str`] holding what
//!   Python's `str()` prints for the `date`/`datetime` PyYAML builds, which is also what a
//!   template renders;
//! - an integer outside `i64` becomes a [`Yaml::Float`];
//! - `!vault`, `!!binary`, `!!set`, `!!omap` and `!!pairs` are refused with an error;
//! - recursive aliases (`&a [*a]`) are refused (Ansible overflows its stack on them).

mod compose;
mod error;
mod json;
mod node;
mod resolve;

use std::path::Path;

pub use error::{Error, Warning};
pub use node::{Mark, Node, Yaml};

/// A loaded file: its one document and the warnings loading it raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The document; a `Null` node at 1:1 for an empty file.
    pub root: Node,
    pub warnings: Vec<Warning>,
}

/// Loads the single YAML (or JSON) document in `src`; `file` only names it in errors.
///
/// # Errors
/// A syntax error, a second document, an unknown tag or a value its tag refuses.
pub fn parse_str(src: &str, file: &Path) -> Result<Parsed, Error> {
    let Some(json) = json::parse(src) else {
        return compose::load(src, file, compose::Mode::Yaml);
    };
    Ok(
        compose::load(src, file, compose::Mode::Json).unwrap_or_else(|_| Parsed {
            root: json::to_node(&json),
            warnings: Vec::new(),
        }),
    )
}

/// Reads and loads `path`.
///
/// # Errors
/// As [`parse_str`], plus a read error (at 1:1 of the file).
pub fn parse_file(path: &Path) -> Result<Parsed, Error> {
    let src = std::fs::read_to_string(path).map_err(|e| Error {
        file: path.to_path_buf(),
        mark: Mark::START,
        message: format!("cannot read file: {e}"),
    })?;
    parse_str(&src, path)
}
