//! YAML 1.1 as PyYAML (and so Ansible 2.19's `AnsibleLoader`) reads it, built on
//! saphyr-parser's event stream, with a line and column on every node.
//!
//! It owns turning the text of an inventory, vars file, playbook or role file into a [`Node`]
//! tree: scalar resolution (YAML 1.1 booleans, octal, sexagesimal, ...), explicit tags,
//! Ansible's `!unsafe`, anchors, aliases, merge keys and Ansible's duplicate-key warning.
//! It does not own what the data means: inventory, playbook and role loaders do.
//!
//! Vault: a file that is vault-encrypted as a whole is decrypted and then read; its string
//! and number values are remembered as secrets ([`crate::vault::revealed`]). A `!vault` value
//! becomes an `!unsafe` string (Ansible 2.19 never templates a decrypted value), also
//! remembered. The passwords are those [`crate::vault::install`]ed, or given to
//! [`parse_str_with`].
//!
//! Like Ansible's `from_yaml`, a file that is valid JSON is read with JSON's rules first
//! (so `1e3` is a float there, and duplicate keys are silent).
//!
//! Deliberate differences from Ansible, all rare in practice:
//! - a timestamp (`2001-12-14`, `2001-12-14 21:59:43.10 -5`) is a [`Yaml::Str`] holding what
//!   Python's `str()` prints for the `date`/`datetime` PyYAML builds, which is also what a
//!   template renders;
//! - an integer outside `i64` becomes a [`Yaml::Float`];
//! - `!!binary`, `!!set`, `!!omap` and `!!pairs` are refused with an error;
//! - a `!vault` value (and JSON's `__ansible_vault`) is decrypted when it is loaded, not when
//!   first used as Ansible 2.19 does, so an unused one still needs its password;
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

use crate::vault::{self, VaultSecrets};

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
    parse_str_with(src, file, vault::installed())
}

/// As [`parse_str`], decrypting vault data with `secrets`.
///
/// # Errors
/// As [`parse_str`], plus vault data that `secrets` cannot decrypt.
pub fn parse_str_with(src: &str, file: &Path, secrets: &VaultSecrets) -> Result<Parsed, Error> {
    if !vault::is_encrypted(src.as_bytes()) {
        return parse_plain(src, file, secrets);
    }
    let plain = vault::decrypt_text(src, secrets).map_err(|e| Error {
        file: file.to_path_buf(),
        mark: Mark::START,
        message: e.to_string(),
    })?;
    let parsed = parse_plain(&plain, file, secrets)?;
    remember_values(&parsed.root);
    Ok(parsed)
}

/// Every scalar value (not key) of a decrypted file is taken for a secret.
fn remember_values(node: &Node) {
    match &node.value {
        Yaml::Str(s) | Yaml::Unsafe(s) => vault::revealed::remember(s),
        Yaml::Int(i) => vault::revealed::remember(&i.to_string()),
        Yaml::Float(f) => vault::revealed::remember(&crate::python::float_repr(*f)),
        Yaml::Seq(items) => items.iter().for_each(remember_values),
        Yaml::Map(pairs) => pairs.iter().for_each(|(_, v)| remember_values(v)),
        Yaml::Null | Yaml::Bool(_) => {}
    }
}

fn parse_plain(src: &str, file: &Path, secrets: &VaultSecrets) -> Result<Parsed, Error> {
    let Some(json) = json::parse(src) else {
        return compose::load(src, file, compose::Mode::Yaml, secrets);
    };
    match compose::load(src, file, compose::Mode::Json, secrets) {
        Ok(parsed) => Ok(parsed),
        // JSON the YAML parser refuses: take serde_json's reading, without positions. If that
        // is refused too, the composer's error has the better position.
        Err(error) => json::to_node(&json, secrets)
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
