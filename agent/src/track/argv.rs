//! keepalived's word splitting for script command lines, and the command built from it.
//!
//! keepalived 2.x never hands a script string to a shell. It splits the string into words
//! itself and `execve`s the first word with the rest as arguments. The rules (read from
//! keepalived 2.2.7's `alloc_strvec_quoted_escaped` in lib/parser.c, implemented here
//! independently):
//!
//! - Words are separated by runs of space, tab, newline, vertical tab, form feed or CR.
//! - `"` and `'` open a quoted part that ends at the same quote character; quoted parts join
//!   the surrounding word (`a"b c"d` is one word `ab cd`); `""` alone is an empty word.
//! - A backslash escapes in and out of quotes, *including* inside single quotes (unlike a
//!   shell): `\n \t \r \a \b \f \v`, `\E` (ESC), `\cX` (control-X), `\xHH…` (all following
//!   hex digits), `\ooo` (one to three octal digits); any other escaped character stands for
//!   itself, so `\"`, `\'`, `\\` and `\ ` are literal. Values wrap to one byte.
//! - A trailing backslash or an unclosed quote is an error; so is a string with no words.
//! - A word ends at its first NUL byte (keepalived keeps words as C strings).
//!
//! A config line is split twice with the same rules: once as a line (`notify_master "/bin/x
//! 'a b'" user`), then the script word again into argv. [`ScriptCommand::from_config_words`]
//! does the second step on the output of the first.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::CommandExt as _;
use std::process::Stdio;

use nix::unistd::{Gid, Group, Uid, User};

use super::TrackError;

/// Why a string could not be split. `column` is the 1-based byte offset in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("column {column}: missing terminating {quote} quote")]
    UnmatchedQuote { quote: char, column: usize },
    #[error("column {column}: backslash at end of string")]
    TrailingBackslash { column: usize },
    #[error("empty command")]
    Empty,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Decodes the escape whose character (after the backslash) starts `rest`; returns the byte
/// and how many input bytes it used.
fn unescape(rest: &[u8]) -> (u8, usize) {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let octal = |b: u8| (b'0'..=b'7').contains(&b).then(|| b - b'0');
    match rest {
        [b'x', h, ..] if hex(*h).is_some() => {
            let digits = rest[1..].iter().map_while(|b| hex(*b));
            let mut used = 1;
            let mut value = 0u8;
            for d in digits {
                value = value.wrapping_shl(4) | d;
                used += 1;
            }
            (value, used)
        }
        [b'c', c, ..] => (c & 0x1f, 2),
        [d, ..] if octal(*d).is_some() => {
            let mut used = 0;
            let mut value = 0u8;
            for o in rest.iter().take(3).map_while(|b| octal(*b)) {
                value = value.wrapping_shl(3).wrapping_add(o);
                used += 1;
            }
            (value, used)
        }
        [c, ..] => {
            let byte = match c {
                b'a' => 0x07,
                b'b' => 0x08,
                b'E' => 0x1b,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'v' => 0x0b,
                other => *other,
            };
            (byte, 1)
        }
        [] => (0, 0),
    }
}

/// Splits `input` into words by keepalived's rules (see the module doc).
pub fn split_words(input: &str) -> Result<Vec<OsString>, SplitError> {
    let b = input.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let mut word = Vec::new();
        let mut quote: Option<(u8, usize)> = None;
        while i < b.len() {
            let c = b[i];
            match quote {
                _ if c == b'\\' => {
                    if i + 1 == b.len() {
                        return Err(SplitError::TrailingBackslash { column: i + 1 });
                    }
                    let (byte, used) = unescape(&b[i + 1..]);
                    word.push(byte);
                    i += 1 + used;
                }
                Some((q, _)) if c == q => {
                    quote = None;
                    i += 1;
                }
                Some(_) => {
                    word.push(c);
                    i += 1;
                }
                None if c == b'"' || c == b'\'' => {
                    quote = Some((c, i));
                    i += 1;
                }
                None if is_space(c) => break,
                None => {
                    word.push(c);
                    i += 1;
                }
            }
        }
        if let Some((q, at)) = quote {
            return Err(SplitError::UnmatchedQuote {
                quote: char::from(q),
                column: at + 1,
            });
        }
        if let Some(nul) = word.iter().position(|b| *b == 0) {
            word.truncate(nul);
        }
        words.push(OsString::from_vec(word));
    }
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

/// The user and group a script runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: Uid,
    pub gid: Gid,
}

impl RunAs {
    /// Looks up `user` and optional `group` as keepalived's `set_uid_gid` does: the group
    /// defaults to the user's primary group.
    pub fn lookup(user: &str, group: Option<&str>) -> Result<Self, TrackError> {
        let u = User::from_name(user)
            .ok()
            .flatten()
            .ok_or_else(|| TrackError::UnknownUser(user.to_owned()))?;
        let gid = match group {
            Some(g) => {
                Group::from_name(g)
                    .ok()
                    .flatten()
                    .ok_or_else(|| TrackError::UnknownGroup(g.to_owned()))?
                    .gid
            }
            None => u.gid,
        };
        Ok(RunAs { uid: u.uid, gid })
    }
}

/// A script to run: argv (never empty; no shell) and, optionally, who to run it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCommand {
    argv: Vec<OsString>,
    run_as: Option<RunAs>,
}

impl ScriptCommand {
    /// A command from an explicit argv; `None` if it is empty.
    pub fn from_argv(argv: Vec<OsString>) -> Option<Self> {
        (!argv.is_empty()).then_some(ScriptCommand { argv, run_as: None })
    }

    /// Runs the script as another user (keepalived's `user` keyword).
    pub fn with_run_as(mut self, run_as: RunAs) -> Self {
        self.run_as = Some(run_as);
        self
    }

    /// The program and its arguments.
    pub fn argv(&self) -> &[OsString] {
        &self.argv
    }

    /// Who the script runs as, if not the agent's own user.
    pub fn run_as(&self) -> Option<RunAs> {
        self.run_as
    }

    /// Splits a script string (the config value, already unquoted once) into argv.
    pub fn parse(script: &str) -> Result<Self, TrackError> {
        Ok(ScriptCommand {
            argv: split_words(script)?,
            run_as: None,
        })
    }

    /// From the words after a `notify*` keyword: `[script, user?, group?]`, as keepalived's
    /// `notify_script_init` reads them.
    pub fn from_config_words(words: &[&str]) -> Result<Self, TrackError> {
        let (script, rest) = words.split_first().ok_or(SplitError::Empty)?;
        let mut cmd = ScriptCommand::parse(script)?;
        if let Some(user) = rest.first() {
            cmd.run_as = Some(RunAs::lookup(user, rest.get(1).copied())?);
        }
        Ok(cmd)
    }

    /// A printable form for logs.
    pub fn display(&self) -> String {
        self.argv
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A tokio command running this script directly (no shell), with `extra` arguments
    /// appended, stdio on /dev/null as keepalived does, in its own process group so a timeout
    /// can kill the script's children too, and killed if the handle is dropped.
    pub fn command<I, S>(&self, extra: I) -> tokio::process::Command
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        // `argv` is never empty: every constructor checks.
        let (program, args) = self
            .argv
            .split_first()
            .map_or((OsString::new(), &[][..]), |(p, a)| (p.clone(), a));
        let mut std_cmd = std::process::Command::new(program);
        std_cmd
            .args(args)
            .args(extra.into_iter().map(Into::into))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        // Unlike keepalived we do not reset supplementary groups (std has no stable API for it).
        if let Some(run_as) = self.run_as {
            std_cmd.uid(run_as.uid.as_raw()).gid(run_as.gid.as_raw());
        }
        let mut cmd = tokio::process::Command::from(std_cmd);
        cmd.kill_on_drop(true);
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Vec<u8>> {
        split_words(s)
            .expect("splits")
            .into_iter()
            .map(OsString::into_vec)
            .collect()
    }

    fn strs(s: &str) -> Vec<String> {
        words(s)
            .into_iter()
            .map(|w| String::from_utf8(w).expect("utf-8"))
            .collect()
    }

    #[test]
    fn splits_on_white_space_and_joins_quoted_parts() {
        // Worked through keepalived 2.2.7's alloc_strvec_quoted_escaped by hand; the cases
        // keepalived really ran are in tests/keepalived_golden.rs.
        let cases: &[(&str, &[&str])] = &[
            ("/bin/x a b", &["/bin/x", "a", "b"]),
            (" \t/bin/x\x0b a\x0c\rb\n", &["/bin/x", "a", "b"]),
            ("a'b c'd", &["ab cd"]),
            ("\"a\"'b'c", &["abc"]),
            ("x '' y", &["x", "", "y"]),
            ("\"\"", &[""]),
            ("'a\"b'", &["a\"b"]),
            ("\"a'b\"", &["a'b"]),
            // Backslash escapes inside single quotes too (not like a shell).
            ("'a\\'b'", &["a'b"]),
            ("a\\ b", &["a b"]),
            ("\\\\", &["\\"]),
        ];
        for (input, want) in cases {
            assert_eq!(strs(input), *want, "{input:?}");
        }
    }

    #[test]
    fn escapes() {
        let cases: &[(&str, &[u8])] = &[
            ("\\a\\b\\E\\f\\n\\r\\t\\v", b"\x07\x08\x1b\x0c\n\r\t\x0b"),
            ("\\x41", b"A"),
            ("\\x4a4", b"\xa4"), // every hex digit is taken; the value wraps to a byte
            ("\\xg", b"xg"),     // no hex digit: a plain x
            ("\\101\\0619", b"A19"),
            ("\\777", b"\xff"),
            ("\\cA\\c[", b"\x01\x1b"),
            ("\\c", b"c"), // \c at the end is a plain c
            ("\\q\\\"", b"q\""),
            ("ab\\0cd", b"ab"), // a word ends at NUL, as in C
        ];
        for (input, want) in cases {
            assert_eq!(words(input), [want.to_vec()], "{input:?}");
        }
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(
            split_words("/bin/x 'abc"),
            Err(SplitError::UnmatchedQuote {
                quote: '\'',
                column: 8
            })
        );
        assert_eq!(
            split_words("a \"b"),
            Err(SplitError::UnmatchedQuote {
                quote: '"',
                column: 3
            })
        );
        assert_eq!(
            split_words("abc\\"),
            Err(SplitError::TrailingBackslash { column: 4 })
        );
        assert_eq!(split_words("  \t "), Err(SplitError::Empty));
        assert_eq!(split_words(""), Err(SplitError::Empty));
    }

    #[test]
    fn config_words_give_user_and_group() {
        let cmd =
            ScriptCommand::from_config_words(&["/bin/x 'a b'", "root", "root"]).expect("parses");
        assert_eq!(cmd.argv(), ["/bin/x", "a b"].map(OsString::from));
        let run_as = cmd.run_as().expect("user");
        assert!(run_as.uid.is_root());
        assert!(matches!(
            ScriptCommand::from_config_words(&["/bin/x", "no-such-user-hactl"]),
            Err(TrackError::UnknownUser(_))
        ));
        assert!(matches!(
            ScriptCommand::from_config_words(&["/bin/x", "root", "no-such-group-hactl"]),
            Err(TrackError::UnknownGroup(_))
        ));
    }
}
