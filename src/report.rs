//! The one place that writes to the terminal: messages, warnings, errors, diffs and the
//! `--json` event stream. The output mode (human or JSON, colour or not) is set once per
//! process by the command, so every writer below agrees on it.
//!
//! Values decrypted from Ansible Vault data never reach the terminal: every message, warning,
//! error and `--json` event has them replaced by `********`, and a diff line showing one is
//! masked whatever `--show-secrets` says (see [`crate::vault::revealed`]).
//!
//! A closed pipe (`hactl inventory --list | head -1`) ends the process quietly with status
//! 141, what a shell reports for a program killed by SIGPIPE, as coreutils' are: no message,
//! no panic, and a non-zero status, because whatever was still to come (an apply's remaining
//! tasks included) did not happen. Rust ignores SIGPIPE, so the write fails instead and is
//! handled in [`emit`].

use std::io::IsTerminal;
use std::sync::OnceLock;

use crate::vault::revealed;

/// The exit status after stdout or stderr turned out to be a closed pipe: 128 + SIGPIPE (13).
pub const PIPE_CLOSED: i32 = 141;

/// Which stream a line goes to.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Writes `text` to `stream` and flushes it; a closed pipe or another write error ends the
/// process (see the module doc): there is nobody left to tell.
fn emit(stream: Stream, text: &str) {
    let result = match stream {
        Stream::Out => write_all(&mut std::io::stdout().lock(), text),
        Stream::Err => write_all(&mut std::io::stderr().lock(), text),
    };
    if let Err(e) = result {
        std::process::exit(exit_status(&e, stream));
    }
}

fn write_all(w: &mut dyn std::io::Write, text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes())?;
    w.flush()
}

/// The status to end with after a failed write: [`PIPE_CLOSED`] for a closed pipe (quietly),
/// else 1, after a word on stderr when it was stdout that failed (a full disk, say).
fn exit_status(e: &std::io::Error, stream: Stream) -> i32 {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return PIPE_CLOSED;
    }
    if matches!(stream, Stream::Out) {
        let _ = write_all(
            &mut std::io::stderr().lock(),
            &format!("ERROR: cannot write the output: {e}\n"),
        );
    }
    1
}

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
    let line = format!("{line}\n");
    match bar {
        Some(bar) => bar.suspend(|| emit(Stream::Out, &line)),
        None => emit(Stream::Out, &line),
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

static VERBOSITY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Sets how verbose the output is (the count of `-v`).
pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, std::sync::atomic::Ordering::Relaxed);
}

/// How verbose the output is: 0 by default, 1 for `-v` (module results), 3 for `-vvv` (ssh
/// command lines and scripts too).
pub fn verbosity() -> u8 {
    VERBOSITY.load(std::sync::atomic::Ordering::Relaxed)
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
    let line = if revealed::any() {
        revealed::redact_json(v).to_string()
    } else {
        v.to_string()
    };
    emit(Stream::Out, &format!("{line}\n"));
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
    emit(
        Stream::Err,
        &format!("ERROR: {}\n", redact(&format!("{err:#}"))),
    );
}

/// Prints a warning the way Ansible does.
pub fn warning(msg: &str) {
    let msg = redact(msg);
    let bar = progress::ACTIVE.lock().ok().and_then(|a| a.clone());
    let line = format!("[WARNING]: {msg}\n");
    match bar {
        Some(bar) => bar.suspend(|| emit(Stream::Err, &line)),
        None => emit(Stream::Err, &line),
    }
}

/// Prints a line of regular output (nothing in `--json` mode: the stream stays clean).
pub fn out(line: &str) {
    if !mode().json {
        print_line(&redact(line));
    }
}

/// Writes generated text (a completion script, a man page) to stdout exactly as it is.
pub fn verbatim(text: &str) {
    emit(Stream::Out, text);
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
        emit(Stream::Out, &colorize(text));
    } else {
        emit(Stream::Out, text);
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

/// Words that name a secret when they are a key (or a part of one: `vrrp_auth_pass1`,
/// `db.password`, `apiKey`, `X-Api-Key`).
const SECRET_WORDS: &[&str] = &[
    "pass",
    "passwd",
    "password",
    "passwords",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "tokens",
    "key",
    "keys",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "authpass",
    "requirepass",
    "masterauth",
    "credential",
    "credentials",
    "authorization",
];

/// Last parts that make a key about a secret rather than the secret itself: `key_file PATH`,
/// `password_file PATH`, `token_ttl 3600`, `--password-stdin`.
const ABOUT_A_SECRET: &[&str] = &[
    "file", "files", "path", "dir", "type", "ttl", "length", "len", "size", "name", "id", "format",
    "mode", "timeout", "cmd", "command", "expiry", "expires", "enabled", "stdin", "prompt",
];

/// nginx's `*_pass` directives hand requests on (`proxy_pass http://backend;`): no password.
const NGINX_PASSERS: &[&str] = &["proxy", "fastcgi", "uwsgi", "scgi", "grpc", "memcached"];

/// The lowercase parts of a key: split at anything not alphanumeric and at a lower-to-upper
/// step (`apiKey`), trailing digits dropped (`pass1`).
fn key_parts(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        let split = !c.is_alphanumeric() || (prev_lower && c.is_uppercase());
        if split && !cur.is_empty() {
            parts.push(std::mem::take(&mut cur));
        }
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts
        .into_iter()
        .map(|p| p.trim_end_matches(|c: char| c.is_ascii_digit()).to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether `word` (`auth_pass`, `--token`, `"password"`, `DB_PASSWORD`) names a secret.
fn is_secret_key(word: &str) -> bool {
    let parts = key_parts(word);
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() > 1 && NGINX_PASSERS.contains(&first.as_str()) && parts[1] == "pass" {
        return false;
    }
    if parts.len() > 1 && ABOUT_A_SECRET.contains(&last.as_str()) {
        return false;
    }
    parts.iter().any(|p| SECRET_WORDS.contains(&p.as_str()))
}

/// Whether `value` is a value at all: `authentication {` opens a block, `password:` a map.
fn is_value(value: &str) -> bool {
    !value.is_empty() && !matches!(value, "{" | "[" | "(")
}

/// 16 bits of a hash: shows that a secret changed without showing it.
fn fingerprint(value: &str) -> String {
    let digest = sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), value));
    format!("{:02x}{:02x}", digest[0], digest[1])
}

/// Masks secrets on one line of a diff, keeping a fingerprint of them.
///
/// - A line whose first word names a secret (`auth_pass x`, `password: x`, `--token x`,
///   `requirepass x`) keeps only that word: `auth_pass ******** (hidden, fingerprint 1a2b)`.
/// - Anywhere else on a line, the value after a key that names a secret (`key value`,
///   `key=value`, `key: value`, `--key value`, `--key=value`, `"key": "value"`) and the password
///   of a URL (`scheme://user:PASS@host`) become `********`, and the line ends with one
///   fingerprint of everything hidden on it.
///
/// A key names a secret when one of its parts is a word like pass, password, secret, token,
/// key or credential ([`SECRET_WORDS`]), unless its last part says it is about a secret
/// (`key_file`, `password_file`, `token_ttl`: the path or number is shown) or it is one of
/// nginx's `*_pass` directives. Over-masking is the safe side: `ssl_certificate_key PATH` is
/// masked although it is a path.
fn mask_secret(line: &str) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(b) => (b, "\n"),
        None => (line, ""),
    };
    let trimmed = body.trim_start();
    let indent = &body[..body.len() - trimmed.len()];
    let name_end = trimmed.find([' ', '=', ':', '\t']).unwrap_or(trimmed.len());
    let value = trimmed[name_end..].trim();
    let core = value.trim_start_matches([':', '=', ' ', '\t']).trim();
    if is_secret_key(&trimmed[..name_end]) && is_value(core) {
        return format!(
            "{indent}{} ******** (hidden, fingerprint {}){newline}",
            &trimmed[..name_end],
            fingerprint(value)
        );
    }
    let mut hidden = Vec::new();
    let masked = mask_inline(&mask_urls(body, &mut hidden), &mut hidden);
    if hidden.is_empty() {
        return line.to_string();
    }
    format!(
        "{masked} (hidden, fingerprint {}){newline}",
        fingerprint(&hidden.join("\0"))
    )
}

/// `scheme://user:PASS@host` -> `scheme://user:********@host`.
fn mask_urls(text: &str, hidden: &mut Vec<String>) -> String {
    static URL: OnceLock<regex::Regex> = OnceLock::new();
    let re = URL.get_or_init(|| {
        regex::Regex::new(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)([^@\s/]+)@")
            .unwrap_or_else(|_| unreachable!("a fixed, valid pattern"))
    });
    re.replace_all(text, |c: &regex::Captures<'_>| {
        hidden.push(c[2].to_string());
        format!("{}********@", &c[1])
    })
    .into_owned()
}

/// How a key and its value are joined, which says where the value ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    /// `key=value`, `key => value`, `key value`: one word (or one quoted string).
    Word,
    /// `key: value`: up to a `,`, `}` or quote (YAML and JSON flow maps, HTTP headers).
    Colon,
}

/// Masks the value after every key that names a secret, anywhere on the line.
fn mask_inline(text: &str, hidden: &mut Vec<String>) -> String {
    let b = text.as_bytes();
    let key_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    let blank = |c: u8| c == b' ' || c == b'\t';
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        if !key_char(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && key_char(b[i]) {
            i += 1;
        }
        if !is_secret_key(&text[start..i]) {
            continue;
        }
        let mut j = i;
        if j < b.len() && matches!(b[j], b'"' | b'\'') {
            j += 1; // the closing quote of a quoted key
        }
        let before_sep = j;
        while j < b.len() && blank(b[j]) {
            j += 1;
        }
        let sep = if text[j..].starts_with("=>") {
            j += 2;
            Sep::Word
        } else if j < b.len() && b[j] == b'=' {
            j += 1;
            Sep::Word
        } else if j < b.len() && b[j] == b':' {
            j += 1;
            Sep::Colon
        } else if j > before_sep {
            Sep::Word
        } else {
            continue;
        };
        while j < b.len() && blank(b[j]) {
            j += 1;
        }
        let end = value_end(text, j, sep);
        if !is_value(text[j..end].trim()) {
            continue;
        }
        hidden.push(text[j..end].to_string());
        out.push_str(&text[copied..j]);
        out.push_str("********");
        copied = end;
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the value starting at `start` ends.
fn value_end(text: &str, start: usize, sep: Sep) -> usize {
    let b = text.as_bytes();
    if let Some(&q) = b.get(start).filter(|c| matches!(c, b'"' | b'\'')) {
        return b[start + 1..]
            .iter()
            .position(|&c| c == q)
            .map_or(b.len(), |p| start + p + 2);
    }
    let stop: &[u8] = match sep {
        Sep::Word => b" \t&\"'",
        Sep::Colon => b",}\"'",
    };
    let mut end = b[start..]
        .iter()
        .position(|c| stop.contains(c))
        .map_or(b.len(), |p| start + p);
    // Punctuation that closes the statement is not part of the secret.
    while end > start && matches!(b[end - 1], b';' | b',' | b')' | b']' | b'}' | b' ' | b'\t') {
        end -= 1;
    }
    end
}

/// Whether `text` looks like it holds a secret: a line `--diff` would mask, or a private key.
/// `hactl render` writes such files 0600.
pub fn holds_secret(text: &str) -> bool {
    text.contains("PRIVATE KEY-----") || text.lines().any(|l| mask_secret(l) != l)
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

    /// The line as masked, and whether PW (the secret of every case) is gone from it.
    fn masked(line: &str) -> String {
        mask_secret(line)
    }

    #[test]
    fn secrets_anywhere_on_a_line_are_masked() {
        for line in [
            // A secret-like first word: the rest of the line goes.
            "auth_pass PW",
            "    auth_pass PW",
            "password: PW",
            "requirepass PW",
            "--token PW",
            "DB_PASSWORD=PW",
            "vrrp_auth_pass1: PW",
            // After other words.
            "ExecStart=/usr/bin/app --token PW --verbose",
            "app --token=PW",
            "app --api-key PW",
            "echo auth_pass PW >> /etc/keepalived/keepalived.conf",
            "    command: redis-cli -a x config set requirepass PW",
            "export DB_PASSWORD=PW",
            "db.password=PW",
            "opts user=app password=PW host=db",
            "settings password: PW, user: app",
            r#"{"user": "app", "password": "PW"}"#,
            r#"{"apiKey":"PW"}"#,
            "  proxy_set_header X-Api-Key PW;",
            r#"  proxy_set_header Authorization "Bearer PW";"#,
            "curl -H 'Authorization: Bearer PW' http://x/",
            "client_secret => PW",
            "masterauth PW",
            // URL credentials.
            "url = postgres://app:PW@db.example.org:5432/app",
            "  DATABASE_URL=postgres://app:PW@host/db",
            "git clone https://user:PW@git.example.org/r.git",
            "https://h/x?user=a&token=PW&x=1",
        ] {
            let out = masked(line);
            assert!(!out.contains("PW"), "{line:?} -> {out:?}");
            assert!(out.contains("(hidden, fingerprint "), "{line:?} -> {out:?}");
        }
    }

    #[test]
    fn only_the_secret_goes() {
        assert_eq!(
            masked("ExecStart=/usr/bin/app --token PW --verbose\n"),
            format!(
                "ExecStart=/usr/bin/app --token ******** --verbose (hidden, fingerprint {})\n",
                fingerprint("PW")
            )
        );
        assert_eq!(
            masked("url = postgres://app:PW@db:5432/app"),
            format!(
                "url = postgres://app:********@db:5432/app (hidden, fingerprint {})",
                fingerprint("PW")
            )
        );
        assert_eq!(
            masked("  proxy_set_header X-Api-Key PW;"),
            format!(
                "  proxy_set_header X-Api-Key ********; (hidden, fingerprint {})",
                fingerprint("PW")
            )
        );
        // The first-word form is as before: the fleet tests and snapshots rely on it.
        assert_eq!(
            masked("        auth_pass old\n"),
            "        auth_pass ******** (hidden, fingerprint cba0)\n"
        );
    }

    #[test]
    fn a_changed_secret_changes_the_fingerprint() {
        let a = masked("app --token one --verbose");
        let b = masked("app --token two --verbose");
        assert_ne!(a, b);
        assert_eq!(a, masked("app --token one --verbose"), "stable");
        let a = masked("postgres://app:one@db/x");
        let b = masked("postgres://app:two@db/x");
        assert_ne!(a, b);
    }

    #[test]
    fn ordinary_lines_stay_as_they_are() {
        for line in [
            // keepalived.conf.
            "vrrp_instance VI_1 {",
            "    authentication {",
            "        auth_type PASS",
            "    state MASTER",
            "    virtual_router_id 51",
            "    track_script {",
            r#"    script "/usr/bin/killall -0 nginx""#,
            r#"    notify_master "/etc/keepalived/notify.sh master""#,
            "keepalived",
            // Keys about a secret: the path or number is no secret (a judgment call).
            "key_file /etc/ssl/private/lb.key",
            "ssl_password_file /etc/nginx/pass.txt",
            "token_ttl 3600",
            "docker login --password-stdin --username app",
            // nginx's *_pass directives pass requests on.
            "    proxy_pass http://backend;",
            "    fastcgi_pass unix:/run/php.sock;",
            "    proxy_pass_header Server;",
            "    passenger_enabled on;",
            // URLs without a password, and words that merely contain a secret word.
            "url = https://example.org:8443/path",
            "ssh://git@example.org/repo",
            "worker_processes auto;",
            "the passive side keeps quiet",
            "keyboard layout us",
            "password:",
            "secrets {",
            "",
        ] {
            assert_eq!(masked(line), line, "{line:?}");
        }
    }

    #[test]
    fn files_with_secrets_are_recognised() {
        assert!(holds_secret("global_defs {}\n  auth_pass abc\n"));
        assert!(holds_secret("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"));
        assert!(!holds_secret(
            "worker_processes auto;\nproxy_pass http://b;\n"
        ));
    }

    #[test]
    fn a_closed_pipe_ends_quietly_with_the_sigpipe_status() {
        let closed = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(exit_status(&closed, Stream::Out), PIPE_CLOSED);
        assert_eq!(exit_status(&closed, Stream::Err), PIPE_CLOSED);
        assert_eq!(PIPE_CLOSED, 128 + 13);
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(exit_status(&full, Stream::Err), 1);
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
