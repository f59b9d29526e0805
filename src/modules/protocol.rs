//! How module scripts talk back: lines `hactl:KEY=VALUE` on stdout carry the result; anything
//! else on stdout and stderr is the command's own output. Values are single-line (binary or
//! multi-line values travel base64-encoded under a `_b64` key).

use base64::Engine as _;

use super::Outcome;
use crate::transport::ExecOutput;

/// The `hactl:` lines of a script's stdout, in order.
pub fn fields(stdout: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("hactl:"))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The value of one field.
pub fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A base64 field, decoded as text.
pub fn field_b64(fields: &[(String, String)], key: &str) -> Option<String> {
    let raw = field(fields, key)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The script's own output without the protocol lines.
pub fn plain_stdout(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    let mut out: String = text
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("hactl:"))
        .collect();
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// A failed outcome carrying the script's stderr (or `fallback`) as the message.
pub fn failed_from(out: &ExecOutput, fallback: &str) -> Outcome {
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let msg = if stderr.is_empty() {
        fallback.to_string()
    } else {
        stderr
    };
    Outcome::failed(msg).with("rc", out.code.unwrap_or(-1))
}

/// Quotes script arguments, which travel as the positional parameters of `sh -c`.
pub fn with_args(body: &str, args: &[&str]) -> String {
    let mut script = String::with_capacity(body.len() + 64);
    script.push_str("set --");
    for a in args {
        script.push(' ');
        script.push_str(&crate::transport::shell_quote(a));
    }
    script.push('\n');
    script.push_str(body);
    script
}

/// Hands a script its arguments by name: one `NAME='value'` line each (names are fixed
/// identifiers chosen by the module, values are quoted), then the body. Scripts kept in `.sh`
/// files list the names they expect in their header.
pub fn with_vars(body: &str, vars: &[(&str, &str)]) -> String {
    let mut script = String::with_capacity(body.len() + 64 * vars.len());
    for (name, value) in vars {
        debug_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        script.push_str(name);
        script.push('=');
        script.push_str(&crate::transport::shell_quote(value));
        script.push('\n');
    }
    script.push_str(body);
    script
}

/// `1` or `0`, as scripts read flags.
pub fn flag(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

/// What Ansible prints in place of a `no_log` parameter's value wherever it shows up.
pub const MASK: &str = "********";

/// Replaces every appearance of a secret (a password, `url_password`) in the result's strings
/// with [`MASK`], as Ansible's `remove_values` does for `no_log` parameters: a tool's error
/// message or an echoed URL never shows one.
pub fn scrub(outcome: &mut Outcome, secrets: &[String]) {
    fn walk(v: &mut serde_json::Value, secrets: &[&str]) {
        match v {
            serde_json::Value::String(s) => {
                for secret in secrets {
                    if s.contains(secret) {
                        *s = s.replace(secret, MASK);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, secrets)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|i| walk(i, secrets)),
            _ => {}
        }
    }
    let secrets: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    if secrets.is_empty() {
        return;
    }
    for v in outcome.result.values_mut() {
        walk(v, &secrets);
    }
    if let Some(d) = &mut outcome.diff {
        for secret in &secrets {
            d.after = d.after.replace(secret, MASK);
            if let Some(b) = &mut d.before {
                *b = b.replace(secret, MASK);
            }
        }
    }
}

/// A failed outcome from a script that ended non-zero: its stderr (or `fallback`) as `msg`,
/// and `rc` unless the script printed `hactl:norc=1` (a check of its own failed, not a tool).
pub fn failed_script(out: &ExecOutput, fallback: &str) -> Outcome {
    let fields = fields(&out.stdout);
    let mut o = failed_from(out, fallback);
    if field(&fields, "norc") == Some("1") {
        o.result.remove("rc");
    }
    o
}

/// Ansible's `add_path_info` from the fields `pathinfo.sh`'s `path_info` printed: uid, gid,
/// size as numbers; owner, group, mode, state as text (nothing when the path is missing).
pub fn with_path_info(mut o: Outcome, fields: &[(String, String)]) -> Outcome {
    for key in ["uid", "gid", "size"] {
        if let Some(v) = field(fields, key).and_then(|v| v.parse::<u64>().ok()) {
            o = o.with(key, v);
        }
    }
    for key in ["owner", "group", "mode", "state"] {
        if let Some(v) = field(fields, key) {
            o = o.with(key, v);
        }
    }
    o
}
