//! The one place that writes to the terminal: messages, warnings, errors, diffs and the
//! `--json` event stream. The output mode (human or JSON, colour or not) is set once per
//! process by the command, so every writer below agrees on it.
//!
//! Values decrypted from Ansible Vault data never reach the terminal: every message, warning,
//! error and `--json` event has them replaced by `********`, and a diff line showing one is
//! masked whatever `--show-secrets` says (see [`crate::vault::revealed`]).

#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::io::IsTerminal;
use std::sync::OnceLock;

use crate::vault::revealed;

mod progress;
pub use progress::Progress;

/// Starts the progress display of a task on `total` hosts: on a terminal, never with `--json`
/// or for no host.
pub fn progress(task: &str, total: usize) -> Progress {
    Progress::start(
        task,
        total,
        total > 0 && !mode().json && std::io::stdout().is_terminal(),
    )
}

/// Prints a line, through the progress display when one is on screen so it never tears.
fn print_line(line: &str) {
    let bar = progress::ACTIVE.lock().ok().and_then(|a| a.clone());
    match bar {
        Some(bar) => bar.suspend(|| println!("{line}")),
        None => println!("{line}"),
    }
}

/// How output is shown, chosen once by the command before anything is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mode {
    /// stdout is a JSONL event stream: human lines are not printed.
    pub json: bool,
    /// Diffs carry ANSI colours.
    pub color: bool,
}

static MODE: OnceLock<Mode> = OnceLock::new();

/// Sets the output mode; the first call wins (one command per process).
pub fn set_mode(mode: Mode) {
    let _ = MODE.set(mode);
}

/// The output mode (human, no colour until set).
pub fn mode() -> Mode {
    MODE.get().copied().unwrap_or_default()
}

/// Whether to colour: `always`/`never` as asked; `auto` colours a terminal unless `NO_COLOR`
/// is set (https://no-color.org).
pub fn want_color(choice: &str) -> bool {
    match choice {
        "always" => true,
        "never" => false,
        _ => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Writes one JSON event as a line of the `--json` stream.
pub fn event(v: &serde_json::Value) {
    if revealed::any() {
        println!("{}", revealed::redact_json(v));
    } else {
        println!("{v}");
    }
}

/// `text` without decrypted vault values.
fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    if revealed::any() {
        std::borrow::Cow::Owned(revealed::redact(text))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Prints an error with its whole chain of causes.
pub fn error(err: &anyhow::Error) {
    eprintln!("ERROR: {}", redact(&format!("{err:#}")));
}

/// Prints a warning the way Ansible does.
pub fn warning(msg: &str) {
    let msg = redact(msg);
    let bar = progress::ACTIVE.lock().ok().and_then(|a| a.clone());
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("[WARNING]: {msg}")),
        None => eprintln!("[WARNING]: {msg}"),
    }
}

/// Prints a line of regular output (nothing in `--json` mode: the stream stays clean).
pub fn out(line: &str) {
    if !mode().json {
        print_line(&redact(line));
    }
}

/// Prints a unified diff of a file, as `--diff` shows it (see [`diff_text`]).
pub fn diff(path: &str, before: &str, after: &str, hide: bool, show_secrets: bool) {
    diff_out(&diff_text(path, before, after, hide, show_secrets));
}

/// Prints a diff made by [`diff_text`], coloured if the mode says so.
pub fn diff_out(text: &str) {
    if mode().json {
        return;
    }
    if mode().color {
        print!("{}", colorize(text));
    } else {
        print!("{text}");
    }
}

/// A unified diff of a file. Secrets stay hidden: a `no_log` task shows no content, lines
/// showing a value decrypted from the vault are always masked (see [`mask_vaulted`]), and
/// lines that set a password, secret, token or key are masked unless `show_secrets`.
pub fn diff_text(path: &str, before: &str, after: &str, hide: bool, show_secrets: bool) -> String {
    if hide {
        return format!("--- before: {path}\n+++ after: {path}\n(content hidden: no_log)\n");
    }
    let (before, after) = mask_vaulted(before, after);
    let mask = |lines: &[Line]| -> String {
        lines
            .iter()
            .map(|l| match l {
                Line::Masked(text) => text.clone(),
                Line::Plain(text) if show_secrets => (*text).to_owned(),
                Line::Plain(text) => mask_secret(text),
            })
            .collect()
    };
    let (before, after) = (mask(&before), mask(&after));
    let diff = similar::TextDiff::from_lines(&before, &after);
    diff.unified_diff()
        .context_radius(3)
        .header(&format!("before: {path}"), &format!("after: {path}"))
        .to_string()
}

/// ANSI colours for a unified diff: additions green, removals red, hunk headers cyan.
pub fn colorize(diff: &str) -> String {
    diff.split_inclusive('\n')
        .map(|line| {
            let (body, nl) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            let code = if body.starts_with("+++") || body.starts_with("---") {
                "1"
            } else if body.starts_with('+') {
                "32"
            } else if body.starts_with('-') {
                "31"
            } else if body.starts_with("@@") {
                "36"
            } else {
                return line.to_string();
            };
            format!("\x1b[{code}m{body}\x1b[0m{nl}")
        })
        .collect()
}

/// A line of a file being diffed, masked for holding a vault value or not.
enum Line<'a> {
    Plain(&'a str),
    Masked(String),
}

/// Masks every line of `after` that shows a decrypted vault value, replacing the value with
/// `********` and a short fingerprint. The old value a line of `before` held is not known to
/// be secret, so a `before` line shaped like a masked `after` line (the same text before and
/// after the secret: `url https://u:OLD@h` against `url https://u:NEW@h`) is masked too, and
/// so is any `before` line showing a decrypted value.
fn mask_vaulted<'a>(before: &'a str, after: &'a str) -> (Vec<Line<'a>>, Vec<Line<'a>>) {
    let split =
        |text: &'a str| -> Vec<Line<'a>> { text.split_inclusive('\n').map(Line::Plain).collect() };
    let (mut before, mut after) = (split(before), split(after));
    if !revealed::any() {
        return (before, after);
    }
    let mut shapes: Vec<(String, String)> = Vec::new();
    for line in &mut after {
        let Line::Plain(text) = *line else { continue };
        if let Some((start, end)) = revealed::first(text) {
            shapes.push((text[..start].to_owned(), text[end..].to_owned()));
            *line = Line::Masked(mask_span(text, start, end));
        }
    }
    for line in &mut before {
        let Line::Plain(text) = *line else { continue };
        let span = revealed::first(text).or_else(|| {
            shapes.iter().find_map(|(prefix, suffix)| {
                let fits = text.len() > prefix.len() + suffix.len()
                    && text.starts_with(prefix.as_str())
                    && text.ends_with(suffix.as_str())
                    && !(prefix.trim().is_empty() && suffix.trim().is_empty());
                fits.then(|| (prefix.len(), text.len() - suffix.len()))
            })
        });
        if let Some((start, end)) = span {
            *line = Line::Masked(mask_span(text, start, end));
        }
    }
    (before, after)
}

/// `line` with `start..end` replaced by `********` and a fingerprint of the hidden text (and
/// of any further decrypted value on the line) appended, so a change still shows.
fn mask_span(line: &str, start: usize, end: usize) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(b) => (b, "\n"),
        None => (line, ""),
    };
    let end = end.min(body.len());
    let hidden = &body[start..end];
    let rest = revealed::redact(&body[end..]);
    let digest =
        sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), hidden));
    format!(
        "{}{}{rest} (hidden vault value, fingerprint {:02x}{:02x}){newline}",
        revealed::redact(&body[..start]),
        revealed::MASK,
        digest[0],
        digest[1]
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_colours_snapshot() {
        let text = diff_text(
            "/etc/app.conf",
            "a\nworker 1\nauth_pass old\n",
            "a\nworker 2\nauth_pass new\n",
            false,
            false,
        );
        insta::assert_snapshot!(colorize(&text).replace('\x1b', "<ESC>"));
    }

    #[test]
    fn colour_choice() {
        assert!(want_color("always"));
        assert!(!want_color("never"));
    }

    #[test]
    fn vault_values_are_masked_in_diffs_even_with_show_secrets() {
        revealed::remember("Vq9-new-secret");
        let text = diff_text(
            "/etc/app.conf",
            "a\nurl https://u:Old-0ne@db/x\nmaster Old-0ne\n",
            "a\nurl https://u:Vq9-new-secret@db/x\nmaster Vq9-new-secret\n",
            false,
            true,
        );
        assert!(!text.contains("Vq9-new-secret"), "{text}");
        // The old value, on a line shaped as a masked one, is hidden too.
        assert!(!text.contains("Old-0ne"), "{text}");
        assert!(text.contains("+url https://u:********@db/x (hidden vault value, fingerprint "));
        assert!(text.contains("-url https://u:********@db/x (hidden vault value, fingerprint "));
        assert_eq!(redact("pw=Vq9-new-secret"), "pw=********");
    }

    #[test]
    fn no_log_diff_hides_content() {
        let text = diff_text("/x", "secret1\n", "secret2\n", true, false);
        assert!(!text.contains("secret1") && !text.contains("secret2"));
    }
}
