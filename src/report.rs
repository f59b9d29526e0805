//! The one place that writes to the terminal: messages, warnings and errors.

#![allow(clippy::print_stderr, clippy::print_stdout)]

/// Prints an error with its whole chain of causes.
pub fn error(err: &anyhow::Error) {
    eprintln!("ERROR: {err:#}");
}

/// Prints a warning the way Ansible does.
pub fn warning(msg: &str) {
    eprintln!("[WARNING]: {msg}");
}

/// Prints a line of regular output.
pub fn out(line: &str) {
    println!("{line}");
}

/// Prints a unified diff of a file, as `--diff` shows it. Secrets stay hidden: a `no_log`
/// task shows no content, and lines that set a password, secret, token or key are masked
/// unless `show_secrets`.
pub fn diff(path: &str, before: &str, after: &str, hide: bool, show_secrets: bool) {
    if hide {
        println!("--- before: {path}\n+++ after: {path}\n(content hidden: no_log)");
        return;
    }
    let mask = |text: &str| -> String {
        if show_secrets {
            text.to_string()
        } else {
            text.split_inclusive('\n').map(mask_secret).collect()
        }
    };
    let (before, after) = (mask(before), mask(after));
    let diff = similar::TextDiff::from_lines(&before, &after);
    print!(
        "{}",
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("before: {path}"), &format!("after: {path}"))
    );
}

/// Masks the value on a line that sets a secret (`auth_pass x`, `password: x`, `token=x`).
fn mask_secret(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let name_end = trimmed.find([' ', '=', ':', '\t']).unwrap_or(trimmed.len());
    let name = trimmed[..name_end].to_ascii_lowercase();
    let secret = ["pass", "secret", "token", "key"]
        .iter()
        .any(|w| name.contains(w));
    let has_value = !trimmed[name_end..].trim().is_empty();
    if !secret || !has_value {
        return line.to_string();
    }
    let newline = if line.ends_with('\n') { "\n" } else { "" };
    // A short fingerprint shows that a secret changed without showing it (16 bits of a hash).
    let value = trimmed[name_end..].trim();
    let digest = sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), value));
    let mark = format!("{:02x}{:02x}", digest[0], digest[1]);
    format!(
        "{indent}{} ******** (hidden, fingerprint {mark}){newline}",
        &trimmed[..name_end]
    )
}
