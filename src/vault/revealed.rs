//! The values decrypted from vault data in this process, so that no output shows them:
//! [`crate::report`] masks every diff line holding one and replaces them in every message and
//! `--json` event.
//!
//! A value is found by substring, except short ones (under [`MIN_SUBSTRING`] characters): those
//! are only found as a whole word, lest every line with a `1` in it be hidden.

use std::sync::RwLock;

/// Values shorter than this are matched as whole words only.
pub const MIN_SUBSTRING: usize = 4;
/// What a secret is replaced with in messages.
pub const MASK: &str = "********";

static VALUES: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a decrypted value (and each of its lines, for a multi-line value, and its
/// JSON-escaped spelling, which JSON output such as `hactl inventory --list` shows).
pub fn remember(value: &str) {
    let mut parts: Vec<&str> = vec![value];
    if value.contains('\n') {
        parts.extend(value.lines());
    }
    let quoted = serde_json::to_string(value).unwrap_or_default();
    let escaped = quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default();
    if escaped != value {
        parts.push(escaped);
    }
    let Ok(mut values) = VALUES.write() else {
        return;
    };
    for part in parts {
        // Surrounding blanks are not part of what a line shows of the secret.
        let part = part.trim();
        if !part.is_empty() && !values.iter().any(|v| v == part) {
            values.push(part.to_owned());
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

/// Whether any value was decrypted (a quick test before scanning output).
pub fn any() -> bool {
    VALUES.read().is_ok_and(|v| !v.is_empty())
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The byte ranges where `value` occurs in `text` (whole words only when it is short).
fn find(text: &str, value: &str) -> Vec<(usize, usize)> {
    let short = value.chars().count() < MIN_SUBSTRING;
    text.match_indices(value)
        .filter(|(i, _)| {
            !short
                || (!text[..*i].chars().next_back().is_some_and(is_word)
                    && !text[i + value.len()..].chars().next().is_some_and(is_word))
        })
        .map(|(i, _)| (i, i + value.len()))
        .collect()
}

/// Where the first decrypted value in `text` is (the longest one, at its first place).
pub fn first(text: &str) -> Option<(usize, usize)> {
    let values = VALUES.read().ok()?;
    values.iter().find_map(|v| find(text, v).first().copied())
}

/// Whether `line` shows a decrypted value.
pub fn contains(line: &str) -> bool {
    let Ok(values) = VALUES.read() else {
        return false;
    };
    values.iter().any(|v| !find(line, v).is_empty())
}

/// `text` with every decrypted value in it replaced by [`MASK`].
pub fn redact(text: &str) -> String {
    let Ok(values) = VALUES.read() else {
        return text.to_owned();
    };
    let mut out = text.to_owned();
    for v in values.iter() {
        let hits = find(&out, v);
        if hits.is_empty() {
            continue;
        }
        let mut next = String::with_capacity(out.len());
        let mut at = 0;
        for (start, end) in hits {
            next.push_str(&out[at..start]);
            next.push_str(MASK);
            at = end;
        }
        next.push_str(&out[at..]);
        out = next;
    }
    out
}

/// A JSON value with every decrypted value in its strings (and keys) replaced by [`MASK`].
pub fn redact_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(redact(s)),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (redact(k), redact_json(v)))
                .collect(),
        ),
        // A number equal to a decrypted value (a vaulted PIN) is hidden too.
        Value::Number(n) if contains(&n.to_string()) => Value::String(MASK.to_owned()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test, since the registry is process-wide.
    #[test]
    fn values_are_found_and_masked() {
        remember("s3cr3t-pass");
        remember("ab");
        remember("line one\n  line two  \n");
        remember("q\"uo\\ted");
        assert_eq!(redact(r#"{"k": "q\"uo\\ted"}"#), r#"{"k": "********"}"#);
        assert!(contains("auth_pass s3cr3t-pass"));
        assert!(contains("url=https://u:s3cr3t-pass@h/"));
        assert!(contains("x = ab"));
        assert!(!contains("x = abc"), "a short value is only a whole word");
        assert!(contains("  line two"));
        assert_eq!(redact("pw s3cr3t-pass, ab!"), "pw ********, ********!");
        assert_eq!(redact("tab abba"), "tab abba");
        let j = redact_json(&serde_json::json!({"k": ["s3cr3t-pass"], "n": 1}));
        assert_eq!(j, serde_json::json!({"k": ["********"], "n": 1}));
    }
}
