//! Rules about one file: track scripts that need a shell keepalived does not give them,
//! scripts whose unquoted arguments keepalived drops, over-long `auth_pass`, and the agent
//! parser's own findings.
//!
//! keepalived 2.x runs a `vrrp_script` as an argv, without a shell: the line is cut into words
//! (quotes respected) and exec'd. Shell syntax there is passed as plain arguments; the seed's
//! `script "/bin/bash -c '[[ -f /etc/keepalived/down ]]' && exit 1 || exit 0"` runs only
//! `[[ -f ... ]]` in bash, with `&&`, `exit`, ... as its `$0`, `$1`..., so the check reports
//! healthy exactly while the down file exists. An unquoted `script /usr/bin/killall -0 nginx`
//! runs `/usr/bin/killall` alone. Both checked on keepalived 2.2.7: its SIGUSR1 dump shows
//! `Command = '/usr/bin/killall'` and `Command = '/usr/bin/bash' '-c' '[[ -f ... ]]' '&&' 'exit' ...`.

use hactl_agent::config::Severity as ParserSeverity;
use hactl_agent::config::lexer::{command_line, command_words};

use super::model::{Parsed, walk};
use super::{Finding, Severity};

pub const SCRIPT_SHELL: &str = "script-needs-shell";
pub const SCRIPT_WORDS: &str = "script-unquoted";
pub const AUTH_PASS: &str = "auth-pass-length";
pub const AUTH_PASS_READABLE: &str = "auth-pass-world-readable";
pub const PARSE_ERROR: &str = "parse-error";
pub const PARSE_WARNING: &str = "parse-warning";

/// keepalived's buffer for `auth_pass`.
const AUTH_PASS_MAX: usize = 8;
const SHELLS: &[&str] = &["sh", "bash", "dash", "ksh", "zsh", "ash"];
/// Words that only mean something to a shell (`!` is not one: `/usr/bin/test ! -f FILE`
/// works without a shell).
const SHELL_WORDS: &[&str] = &["[[", "]]", "exit", "&&", "||", ";", "|", ">", ">>", "<"];

pub fn check(p: &Parsed<'_>, out: &mut Vec<Finding>) {
    let finding = |rule, severity, line: u32, message: String, hint: Option<String>| Finding {
        rule,
        severity,
        host: p.host.to_string(),
        file: p.file.to_string(),
        line,
        message,
        hint,
    };
    for d in &p.diagnostics {
        let (rule, severity) = match d.severity {
            ParserSeverity::Error => (PARSE_ERROR, Severity::Error),
            ParserSeverity::Warning => (PARSE_WARNING, Severity::Warning),
            ParserSeverity::Note => continue,
        };
        // The auth_pass rule says this better.
        if d.message.starts_with("Truncating auth_pass") {
            continue;
        }
        let line = d.location.as_ref().map_or(0, |l| l.line);
        out.push(finding(rule, severity, line, d.message.clone(), None));
    }
    let mut all = Vec::new();
    walk(&p.statements, &mut all);
    let mut told_readable = false;
    for (st, parent) in all {
        let parent_kw = parent.map(|s| s.keyword());
        match (st.keyword(), parent_kw) {
            ("script", Some("vrrp_script")) => {
                let name = parent.and_then(|s| s.arg(0)).unwrap_or("?");
                if let Some((rule, message, hint)) = script(name, &st.raw, st.words.len()) {
                    out.push(finding(
                        rule,
                        Severity::Error,
                        st.loc.line,
                        message,
                        Some(hint),
                    ));
                }
            }
            ("auth_pass", Some("authentication")) => {
                if let Some(task) = p.task.filter(|_| !told_readable) {
                    if let Some((message, hint)) = readable(task, p.mode) {
                        told_readable = true;
                        out.push(finding(
                            AUTH_PASS_READABLE,
                            Severity::Warning,
                            st.loc.line,
                            message,
                            Some(hint),
                        ));
                    }
                }
                let len = st.arg(0).map_or(0, str::len);
                if len > AUTH_PASS_MAX {
                    out.push(finding(
                        AUTH_PASS,
                        Severity::Warning,
                        st.loc.line,
                        format!(
                            "auth_pass is {len} characters; keepalived and hactl-agent use only the \
                             first {AUTH_PASS_MAX}"
                        ),
                        Some(format!(
                            "shorten it to {AUTH_PASS_MAX} characters: peers whose passwords \
                             differ only after the {AUTH_PASS_MAX}th still accept each other"
                        )),
                    ));
                }
            }
            _ => {}
        }
    }
}

/// Whether a file holding `auth_pass`, written by `task` with `mode`, is readable by every
/// user of the host: with no `mode:` a new file gets 0644 (umask 022) and an existing one keeps
/// its mode; a symbolic mode is applied to 0644. The message and hint, if so.
fn readable(task: &str, mode: Option<&str>) -> Option<(String, String)> {
    let hint = "add mode: \"0640\" (or \"0600\") to the task: only root (and the group) need \
                to read the VRRP password"
        .to_string();
    match mode {
        None => Some((
            format!(
                "auth_pass is in a file that {task} writes without a mode: a new file is 0644, \
                 readable by every user of the host"
            ),
            hint,
        )),
        Some(m) => {
            let bits = crate::run::render::parse_mode(m, 0o644).ok()?;
            (bits & 0o004 != 0).then(|| {
                (
                    format!(
                        "auth_pass is in a file that {task} writes with mode {m}: readable by \
                         every user of the host"
                    ),
                    hint,
                )
            })
        }
    }
}

/// Checks one `script` line; `words` is how many words keepalived's reader saw on it.
fn script(name: &str, raw: &str, words: usize) -> Option<(&'static str, String, String)> {
    let argv = command_words(raw)?;
    let line = command_line(raw)?;
    if words > 2 {
        let rest: Vec<&str> = raw.split_whitespace().skip(2).collect();
        return Some((
            SCRIPT_WORDS,
            format!(
                "vrrp_script {name}: keepalived runs only '{}'; the unquoted words after it \
                 ('{}') are dropped",
                argv.join(" "),
                rest.join(" ")
            ),
            format!(
                "quote the whole command: script \"{}\"",
                raw.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
            ),
        ));
    }
    let program = argv[0].rsplit('/').next().unwrap_or_default();
    if SHELLS.contains(&program) && argv.get(1).map(String::as_str) == Some("-c") {
        // `sh -c 'CMD' ARG...` is fine as long as the extra words are meant as arguments.
        let extra = &argv[argv.len().min(3)..];
        if extra.iter().any(|w| shellish(w)) {
            let inner = argv.get(2).map_or("", String::as_str);
            let whole = format!("{inner} {}", extra.join(" "));
            return Some((
                SCRIPT_SHELL,
                format!(
                    "vrrp_script {name}: only '{inner}' runs in {program}; '{}' are passed to it \
                     as $0, $1..., which it ignores (keepalived 2.x runs scripts without a shell)",
                    extra.join(" ")
                ),
                hint(&argv[0], &whole),
            ));
        }
        return None;
    }
    let unquoted = unquoted_specials(&line);
    let words: Vec<&String> = argv
        .iter()
        .filter(|w| SHELL_WORDS.contains(&w.as_str()))
        .collect();
    if unquoted.is_empty() && words.is_empty() {
        return None;
    }
    let mut what: Vec<String> = unquoted.iter().map(|c| format!("'{c}'")).collect();
    what.extend(words.iter().map(|w| format!("'{w}'")));
    what.dedup();
    let shell = if line.contains("[[") {
        "/bin/bash"
    } else {
        "/bin/sh"
    };
    Some((
        SCRIPT_SHELL,
        format!(
            "vrrp_script {name}: shell syntax ({}), but keepalived 2.x runs '{}' without a \
             shell: it gets them as plain arguments",
            what.join(", "),
            argv[0]
        ),
        hint(shell, &line),
    ))
}

/// The fix: the whole command as the one argument of `SHELL -c`.
fn hint(shell: &str, command: &str) -> String {
    if command.contains('\'') {
        format!("wrap the whole command in {shell} -c '...' as one argument, or use track_file")
    } else {
        format!("script \"{shell} -c '{command}'\"")
    }
}

fn shellish(word: &str) -> bool {
    SHELL_WORDS.contains(&word) || word.contains("$(") || word.contains('`')
}

/// Shell operators outside quotes in a command line (quoted ones reach the program as meant).
fn unquoted_specials(line: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let op = match (quote, c) {
            (_, '\\') => {
                chars.next();
                None
            }
            (Some(q), c) if c == q => {
                quote = None;
                None
            }
            (Some(_), _) => None,
            (None, '"' | '\'') => {
                quote = Some(c);
                None
            }
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                Some("&&".to_string())
            }
            (None, '|') if chars.peek() == Some(&'|') => {
                chars.next();
                Some("||".to_string())
            }
            (None, '$') if chars.peek() == Some(&'(') => Some("$(".to_string()),
            (None, ';' | '|' | '>' | '<' | '`' | '*' | '&') => Some(c.to_string()),
            _ => None,
        };
        if let Some(op) = op {
            if !found.contains(&op) {
                found.push(op);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(raw: &str) -> Option<&'static str> {
        let words = hactl_agent::config::lexer::lex_line(raw);
        let n = match words.0 {
            hactl_agent::config::lexer::Line::Pieces(p) => p[0].words.len(),
            _ => 0,
        };
        script("chk", raw, n).map(|(r, _, _)| r)
    }

    #[test]
    fn the_seeds_chk_down_is_caught_with_a_fix() {
        let raw = r#"script "/bin/bash -c '[[ -f /etc/keepalived/down ]]' && exit 1 || exit 0""#;
        let (id, message, hint) = script("chk_down", raw, 2).expect("a finding");
        assert_eq!(id, SCRIPT_SHELL);
        assert!(
            message.contains("only '[[ -f /etc/keepalived/down ]]' runs in bash"),
            "{message}"
        );
        assert_eq!(
            hint,
            r#"script "/bin/bash -c '[[ -f /etc/keepalived/down ]] && exit 1 || exit 0'""#
        );
    }

    #[test]
    fn good_scripts_pass() {
        for raw in [
            r#"script "/bin/bash -c '[[ ! -f /etc/keepalived/down ]]'""#,
            r#"script "/usr/bin/killall -0 nginx""#,
            r#"script "/bin/sh -c 'test -f $1' sh /etc/x""#,
            r#"script "/usr/bin/pgrep -f 'nginx: master.*'""#,
            "script /usr/local/bin/check",
            r#"script "/usr/bin/test ! -f /etc/keepalived/down""#,
        ] {
            assert_eq!(rule(raw), None, "{raw}");
        }
    }

    #[test]
    fn shell_syntax_without_a_shell_is_caught() {
        for raw in [
            r#"script "/usr/bin/curl -sf http://localhost/ > /dev/null""#,
            r#"script "/usr/bin/test -f /etc/down || exit 1""#,
            r#"script "pidof nginx; true""#,
            r#"script "/usr/bin/test -e /run/*.pid""#,
            r#"script "[[ -f /etc/down ]]""#,
            r#"script "/bin/kill -0 $(cat /run/nginx.pid)""#,
        ] {
            assert_eq!(rule(raw), Some(SCRIPT_SHELL), "{raw}");
        }
    }

    #[test]
    fn unquoted_words_are_dropped() {
        assert_eq!(rule("script /usr/bin/killall -0 nginx"), Some(SCRIPT_WORDS));
    }

    #[test]
    fn operators_inside_quotes_are_the_programs_business() {
        assert!(unquoted_specials("pgrep -f 'a|b*'").is_empty());
        assert_eq!(unquoted_specials("a && b | c"), ["&&", "|"]);
    }
}
