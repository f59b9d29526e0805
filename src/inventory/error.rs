//! The one error type of inventory loading. Every variant names the file and, where the input
//! has one, the line, so a user can go straight to the mistake.

use std::path::PathBuf;

/// Why an inventory could not be loaded or queried.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("{}: cannot read", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A syntax or structure error at a known place in an inventory or vars file.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A problem with a whole file (no single line is to blame).
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    /// A YAML inventory or vars file that is not valid YAML.
    #[error(transparent)]
    Yaml(#[from] crate::yaml::Error),
    /// No inventory was given and none of the default places holds one.
    #[error(
        "no inventory: pass -i PATH, set HACTL_INVENTORY, or create ./inventory.ini or ./inventory/"
    )]
    NoInventory,
    /// `--host NAME` for a host the inventory does not have.
    #[error("host {0:?} is not in the inventory")]
    UnknownHost(String),
    /// `--graph GROUP` for a group the inventory does not have.
    #[error("group {0:?} is not in the inventory")]
    UnknownGroup(String),
}

impl Error {
    pub(crate) fn parse(path: &std::path::Path, line: usize, message: impl Into<String>) -> Self {
        Error::Parse {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn file(path: &std::path::Path, message: impl Into<String>) -> Self {
        Error::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
