//! Template errors: what failed, in which template, at which line, for which host.

use std::path::PathBuf;

/// Why a template, a templated string or a condition could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Syntax error, undefined variable or failing filter while rendering.
    #[error("{host}: {name}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Render {
        host: String,
        /// Template name: the file's path, or the name the caller gave a string.
        name: String,
        line: Option<usize>,
        message: String,
    },
    #[error("could not read template {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `#jinja2:` header Ansible would reject, or one hactl does not support.
    #[error("{name}:1: invalid '#jinja2:' override header: {message}")]
    Header { name: String, message: String },
    /// A `when:` that is empty or does not evaluate to a boolean (Ansible 2.19 rejects both).
    #[error("{host}: conditional {expr:?}: {message}")]
    Conditional {
        host: String,
        expr: String,
        message: String,
    },
}

impl TemplateError {
    /// Converts a minijinja error, describing undefined values as Ansible does ("'x' is undefined").
    pub(crate) fn from_minijinja(err: &minijinja::Error, name: &str, host: &str) -> Self {
        TemplateError::Render {
            host: host.to_string(),
            // Expressions compile under minijinja's "<expression>" name; they are line 1 of ours.
            name: err
                .name()
                .filter(|n| *n != "<expression>")
                .unwrap_or(name)
                .to_string(),
            line: err.line().or(Some(1)).filter(|_| !name.is_empty()),
            message: describe(err),
        }
    }
}

/// Attached to the undefined error of `mandatory` without a message: Ansible says
/// "Mandatory variable 'x' not defined." there.
#[derive(Debug)]
pub(crate) struct MandatoryMarker;

impl std::fmt::Display for MandatoryMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mandatory")
    }
}

impl std::error::Error for MandatoryMarker {}

/// The one-line message of a minijinja error and its causes.
pub(crate) fn describe(err: &minijinja::Error) -> String {
    let mandatory = std::error::Error::source(err).is_some_and(|s| s.is::<MandatoryMarker>());
    if mandatory {
        let name = undefined_message(err.detail());
        let name = name.strip_suffix(" is undefined").unwrap_or("");
        let name = if name.starts_with('\'') {
            format!("{name} ")
        } else {
            String::new()
        };
        return format!("Mandatory variable {name}not defined.");
    }
    let mut message = match (err.kind(), err.detail()) {
        (minijinja::ErrorKind::UndefinedError, detail) => undefined_message(detail),
        (kind, Some(detail)) => format!("{kind}: {detail}"),
        (kind, None) => kind.to_string(),
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(&format!(" ({cause})"));
        source = cause.source();
    }
    message
}

/// minijinja (debug mode) says "undefined value: `foo.bar` is undefined" style details; Ansible
/// says "'foo' is undefined". Keep the expression minijinja names.
fn undefined_message(detail: Option<&str>) -> String {
    match detail {
        Some(d) => {
            if let Some(start) = d.find('`') {
                if let Some(len) = d[start + 1..].find('`') {
                    return format!("'{}' is undefined", &d[start + 1..start + 1 + len]);
                }
            }
            d.to_string()
        }
        None => "undefined variable".to_string(),
    }
}
