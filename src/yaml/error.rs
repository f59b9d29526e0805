//! The error and warning types of the YAML loader: both name the file, line and column.

use std::fmt;
use std::path::PathBuf;

use super::node::Mark;

/// A YAML file that could not be loaded: a syntax error, an unknown tag, a value its tag
/// rejects, or a read error. `mark` points where PyYAML would point (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{mark}: {message}", file.display())]
pub struct Error {
    pub file: PathBuf,
    pub mark: Mark,
    pub message: String,
}

/// Something Ansible warns about but accepts, such as a duplicate mapping key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: PathBuf,
    pub mark: Mark,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.mark, self.message)
    }
}
