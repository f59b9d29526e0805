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
