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
//! - `!vault` (and JSON's `__ansible_vault`), `!!binary`, `!!set`, `!!omap` and `!!pairs` are
//!   refused with an error;
//! - JSON with Python's `NaN`/`Infinity` extensions is read as YAML (serde_json refuses them);
//! - duplicate keys always warn: honouring `DUPLICATE_YAML_DICT_KEY=error|ignore` is the
//!   caller's choice, from [`Parsed::warnings`];
//! - recursive aliases (`&a [*a]`) are refused (Ansible overflows its stack on them), as are
//!   nesting deeper than 256 levels and aliases expanding to over a million nodes;
//! - flow content at column 0 inside a block mapping (`key: [` then `1]` unindented) is a
//!   syntax error here (saphyr follows YAML 1.2), though PyYAML takes it;
//! - syntax error messages are saphyr's words, at PyYAML's position where they agree (the
//!   golden tests check the positions); duplicate-key warnings come in source order, not in
//!   PyYAML's breadth-first order.
//!
//! Matched on purpose, surprising as they are: `!unsafe '123'` is the integer 123 (Ansible
//! resolves the tagged scalar as if plain); merging a list `<<: [*a, *b]` lets `b` win, as
//! PyYAML 6.0.4 does, except for one-character keys where `a` wins; in a JSON file, keys are
//! `!unsafe` strings.

mod compose;
mod error;
mod json;
mod node;
mod resolve;
mod syntax;

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
    match compose::load(src, file, compose::Mode::Json) {
        Ok(parsed) => Ok(parsed),
        // JSON the YAML parser refuses: take serde_json's reading, without positions. If that
        // is refused too, the composer's error has the better position.
        Err(error) => json::to_node(&json)
            .map(|root| Parsed {
                root,
                warnings: Vec::new(),
            })
            .map_err(|_| error),
    }
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

#[cfg(test)]
mod tests;
