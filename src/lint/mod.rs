//! `hactl lint`: checks the keepalived.conf each host would get, before anything is pushed.
//!
//! Configs are parsed by the agent's own parser (`hactl_agent::config::parse_standalone`), so
//! lint and the agent never disagree on what a file says; findings point at the line of the
//! rendered file. Rules (ids are stable; see [`RULES`]):
//!
//! - per file ([`single`]): track scripts that keepalived 2.x runs without a shell although
//!   they are written for one, `auth_pass` longer than keepalived keeps, `auth_pass` in a file
//!   its task writes without a `mode:` or readable by others, and the parser's own errors and
//!   warnings;
//! - across the hosts of a VRID ([`pairs`]): one VRID with different VIPs on one segment, two
//!   MASTERs at the same priority, priority gaps that track weights cannot cross, and
//!   `advert_int`/`version` mismatches.
//!
//! Getting the rendered configs is [`source`]'s job; the terminal is `report`'s.

pub mod gate;
mod model;
pub mod output;
mod pairs;
mod single;
pub mod source;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use model::HostConfig;

/// How bad a finding is: errors stop `hactl apply`, warnings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding, about one line of one host's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub host: String,
    pub file: String,
    pub line: u32,
    pub message: String,
    pub hint: Option<String>,
}

/// Every rule: id, severity, what it catches.
pub const RULES: &[(&str, Severity, &str)] = &[
    (
        single::SCRIPT_SHELL,
        Severity::Error,
        "a track script written for a shell; keepalived 2.x runs it without one",
    ),
    (
        single::SCRIPT_WORDS,
        Severity::Error,
        "an unquoted track script: keepalived runs only its first word",
    ),
    (
        pairs::VRID_VIPS,
        Severity::Error,
        "one VRID with different VIPs on one segment",
    ),
    (
        pairs::DUAL_MASTER,
        Severity::Error,
        "two hosts start as MASTER of one VRID at the same priority",
    ),
    (
        pairs::WEIGHT_GAP,
        Severity::Error,
        "a track weight too small to cross the priority gap: the VIP never moves",
    ),
    (
        single::AUTH_PASS,
        Severity::Warning,
        "auth_pass longer than the 8 characters keepalived keeps",
    ),
    (
        single::AUTH_PASS_READABLE,
        Severity::Warning,
        "auth_pass in a file its template/copy task writes without a mode, or world-readable",
    ),
    (
        pairs::MISMATCH,
        Severity::Error,
        "advert_int or version differ between the hosts of one VRID",
    ),
    (
        single::PARSE_ERROR,
        Severity::Error,
        "the file does not parse (hactl-agent would not run it)",
    ),
    (
        single::PARSE_WARNING,
        Severity::Warning,
        "keepalived -t would report this line",
    ),
];

/// Lints the configs of every host together; findings sorted by host order, file, line.
pub fn check(configs: &[HostConfig]) -> Vec<Finding> {
    let parsed: Vec<model::Parsed> = configs.iter().map(model::Parsed::new).collect();
    let mut out = Vec::new();
    for p in &parsed {
        single::check(p, &mut out);
    }
    pairs::check(&parsed, &mut out);
    let order = |host: &str| configs.iter().position(|c| c.host == host);
    out.sort_by(|a, b| {
        (order(&a.host), &a.file, a.line, a.rule).cmp(&(order(&b.host), &b.file, b.line, b.rule))
    });
    out.dedup();
    out
}

/// Whether any finding stops a run.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
