//! Diagnostics and errors of the keepalived.conf parser.
//!
//! Every finding carries the file and line it is about. keepalived sorts its findings into
//! "cannot run" and "runs, but the config has problems" (`keepalived -t` exits non-zero for
//! both); hactl-agent adds a third, milder class for things keepalived accepts silently but the
//! agent ignores. [`Severity`] names the three.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a finding is: a config file and a 1-based line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// keepalived accepts this silently; hactl-agent mentions what it does differently
    /// (for example a keepalived keyword the agent does not implement and ignores).
    Note,
    /// keepalived reports this and carries on (`keepalived -t` exits non-zero); the agent
    /// carries on the same way, with the same fallback.
    Warning,
    /// The agent cannot run this configuration.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding about a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// `None` for findings about the configuration as a whole.
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{loc}: {}: {}", self.severity, self.message),
            None => write!(f, "{}: {}", self.severity, self.message),
        }
    }
}

/// Why a configuration could not be turned into a [`super::Config`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The top-level file could not be read (included files that cannot be read are skipped
    /// with a note, as keepalived does).
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but has errors. `diagnostics` holds every finding in source order;
    /// at least one is an [`Severity::Error`].
    #[error("{}", render_errors(diagnostics))]
    Invalid { diagnostics: Vec<Diagnostic> },
}

impl ConfigError {
    /// Every finding, errors and warnings alike (empty for [`ConfigError::Read`]).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { diagnostics } => diagnostics,
        }
    }
}

fn render_errors(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    errors.join("\n")
}
