//! How findings read: `FILE:LINE: host HOST: SEVERITY [RULE] MESSAGE`, a `hint:` line under
//! it, and a closing count; or one JSON document. Nothing here prints (that is `report`'s
//! job) and nothing here can show a password: findings never carry one.

use serde_json::{Value, json};

use super::{Finding, Severity};

/// The lines of the text form, findings in order, then the count.
pub fn lines(findings: &[Finding], configs: usize) -> Vec<String> {
    let mut out = Vec::new();
    for f in findings {
        // Line 0: a finding about the whole file.
        let at = if f.line == 0 {
            f.file.clone()
        } else {
            format!("{}:{}", f.file, f.line)
        };
        out.push(format!(
            "{at}: host {}: {} [{}] {}",
            f.host,
            f.severity.name(),
            f.rule,
            f.message
        ));
        if let Some(h) = &f.hint {
            out.push(format!("    hint: {h}"));
        }
    }
    out.push(summary(findings, configs));
    out
}

/// `lint: 2 errors, 1 warning in 3 keepalived configs`.
pub fn summary(findings: &[Finding], configs: usize) -> String {
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "lint: {}, {} in {}",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(configs, "keepalived config")
    )
}

/// The `--json` document.
pub fn json(findings: &[Finding], configs: usize, render_errors: &[String]) -> Value {
    json!({
        "configs": configs,
        "errors": findings.iter().filter(|f| f.severity == Severity::Error).count(),
        "warnings": findings.iter().filter(|f| f.severity == Severity::Warning).count(),
        "findings": findings,
        "render_errors": render_errors,
    })
}
