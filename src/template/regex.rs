//! Python `re` patterns and `re.sub` replacements on top of `fancy-regex`.
//!
//! Ansible's regex filters and tests and the `lineinfile` module use Python's `re`.
//! `fancy-regex` brings Python's look-around, backreferences (`\1`, `(?P=name)`) and atomic
//! groups; this module maps what still differs:
//! - `$` outside a character class also matches before a final newline (Python's `$` without
//!   `re.M`), `\Z` is the very end;
//! - `[` inside a class is literal, as are `&`, `~` and `-` runs (set operators to Rust);
//! - `re.sub` replacements (`\1`, `\g<1>`, `\g<name>`, `\n`...) with Python's errors;
//! - iteration follows Python 3.7+: an empty match right after a match is kept.

use std::fmt;

use fancy_regex::{Captures, Regex, RegexBuilder};

/// A pattern or replacement Python's `re` would refuse (or one `fancy-regex` cannot run).
#[derive(Debug, Clone, PartialEq)]
pub struct PyReError(pub String);

impl fmt::Display for PyReError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PyReError {}

impl From<PyReError> for minijinja::Error {
    fn from(e: PyReError) -> Self {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.0)
    }
}

/// A compiled Python pattern.
#[derive(Debug, Clone)]
pub struct PyRegex {
    re: Regex,
}

/// Compiles a Python `re` pattern with the `re.I`/`re.M` flags.
pub fn compile(pattern: &str, ignorecase: bool, multiline: bool) -> Result<PyRegex, PyReError> {
    build(pattern, ignorecase, multiline, false)
}

/// Compiles a pattern as Python compiles a `bytes` pattern (as `lineinfile` does): `\w`, `\d`,
/// `\s` and `\b` are ASCII-only. The text searched is still UTF-8.
pub fn compile_bytes(pattern: &str) -> Result<PyRegex, PyReError> {
    build(pattern, false, false, true)
}

fn build(
    pattern: &str,
    ignorecase: bool,
    multiline: bool,
    ascii: bool,
) -> Result<PyRegex, PyReError> {
    let mut translated = String::with_capacity(pattern.len() + 16);
    if multiline {
        translated.push_str("(?m)");
    }
    translated.push_str(&translate(pattern, ascii));
    let re = RegexBuilder::new(&translated)
        .case_insensitive(ignorecase)
        .build()
        .map_err(|e| PyReError(format!("invalid regular expression {pattern:?}: {e}")))?;
    Ok(PyRegex { re })
}

/// Rewrites the parts of Python's syntax that Rust reads differently.
fn translate(pattern: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    // Position just after `[` or `[^`, where `]` is a literal.
    let mut class_start = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let next = chars.get(i + 1).copied();
            let class = match next {
                Some('w') => Some("word"),
                Some('W') => Some("^word"),
                Some('d') => Some("digit"),
                Some('D') => Some("^digit"),
                Some('s') => Some("space"),
                Some('S') => Some("^space"),
                _ => None,
            };
            match next {
                Some('Z') if !in_class => out.push_str("\\z"),
                Some(_) if ascii && class.is_some() => {
                    let name = class.unwrap_or("word");
                    if in_class {
                        out.push_str(&format!("[:{name}:]"));
                    } else {
                        out.push_str(&format!("[[:{name}:]]"));
                    }
                }
                // An ASCII word boundary, spelled with look-around (fancy-regex has no `(?-u)`).
                Some('b') if ascii && !in_class => {
                    out.push_str("(?:(?<=[[:word:]])(?![[:word:]])|(?<![[:word:]])(?=[[:word:]]))")
                }
                Some('B') if ascii && !in_class => {
                    out.push_str("(?:(?<=[[:word:]])(?=[[:word:]])|(?<![[:word:]])(?![[:word:]]))")
                }
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' if i != class_start => {
                    in_class = false;
                    out.push(']');
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                // `--` is set difference in Rust; a single `-` is a range as in Python.
                '-' if chars.get(i + 1) == Some(&'-')
                    || chars.get(i.wrapping_sub(1)) == Some(&'-') =>
                {
                    out.push_str("\\-")
                }
                _ => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                continue;
            }
            // Python's `$`: the end, or before a newline at the end (any newline with re.M,
            // which Rust's multi-line `$` already covers).
            '$' => out.push_str("(?:$|(?=\\n\\z))"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

impl PyRegex {
    /// Number of groups, the whole match included.
    pub fn captures_len(&self) -> usize {
        self.re.captures_len()
    }

    /// `re.search(...) is not None`.
    pub fn is_match(&self, text: &str) -> Result<bool, PyReError> {
        self.re.is_match(text).map_err(run_error)
    }

    /// `re.search`: the first match.
    pub fn search<'t>(&self, text: &'t str) -> Result<Option<Captures<'t>>, PyReError> {
        self.re.captures(text).map_err(run_error)
    }

    /// `re.finditer`: every match, as Python 3.7+ finds them.
    pub fn find_all<'t>(&self, text: &'t str) -> Result<Vec<Captures<'t>>, PyReError> {
        let mut out = Vec::new();
        let mut pos = 0;
        // End of the previous empty match: another empty match there is skipped.
        let mut empty_at: Option<usize> = None;
        while pos <= text.len() {
            let Some(caps) = self.re.captures_from_pos(text, pos).map_err(run_error)? else {
                break;
            };
            let m = caps.get(0).map_or((pos, pos), |m| (m.start(), m.end()));
            if m.0 == m.1 && empty_at == Some(m.0) {
                // Try one character further.
                match text[m.0..].chars().next() {
                    Some(c) => {
                        pos = m.0 + c.len_utf8();
                        empty_at = None;
                        // A match found from the next char may start there; keep going.
                        continue;
                    }
                    None => break,
                }
            }
            empty_at = (m.0 == m.1).then_some(m.1);
            pos = m.1;
            out.push(caps);
        }
        Ok(out)
    }

    /// `re.subn(pattern, repl, text, count)`: the new text and the number of replacements.
    pub fn sub(
        &self,
        text: &str,
        repl: &Replacement,
        count: usize,
    ) -> Result<(String, usize), PyReError> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut n = 0;
        for caps in self.find_all(text)? {
            if count != 0 && n == count {
                break;
            }
            let Some(m) = caps.get(0) else { continue };
            out.push_str(&text[last..m.start()]);
            repl.expand(&caps, &mut out);
            last = m.end();
            n += 1;
        }
        out.push_str(&text[last..]);
        Ok((out, n))
    }

    /// The number of a named group.
    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.re.capture_names().position(|n| n == Some(name))
    }
}

fn run_error(e: fancy_regex::Error) -> PyReError {
    PyReError(format!("regular expression failed: {e}"))
}

/// A parsed `re.sub` replacement template.
#[derive(Debug, Clone, PartialEq)]
pub struct Replacement(Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Group(usize),
}

impl Replacement {
    /// Parses `rep` as Python's `re` does for `re`, checking group references against it.
    pub fn parse(rep: &str, re: &PyRegex) -> Result<Self, PyReError> {
        let groups = re.captures_len();
        let check = |n: usize| {
            if n < groups {
                Ok(Piece::Group(n))
            } else {
                Err(PyReError(format!("invalid group reference {n}")))
            }
        };
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let chars: Vec<char> = rep.chars().collect();
        let mut i = 0;
        let flush = |lit: &mut String, pieces: &mut Vec<Piece>| {
            if !lit.is_empty() {
                pieces.push(Piece::Text(std::mem::take(lit)));
            }
        };
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '\\' {
                lit.push(c);
                continue;
            }
            let Some(&e) = chars.get(i) else {
                return Err(PyReError("bad escape (end of pattern)".into()));
            };
            i += 1;
            match e {
                'g' => {
                    if chars.get(i) != Some(&'<') {
                        return Err(PyReError("missing <".into()));
                    }
                    let end = chars[i..]
                        .iter()
                        .position(|&c| c == '>')
                        .ok_or_else(|| PyReError("missing >, unterminated name".into()))?;
                    let name: String = chars[i + 1..i + end].iter().collect();
                    i += end + 1;
                    let piece = if !name.is_empty() && name.chars().all(|c| c.is_ascii_digit()) {
                        check(
                            name.parse().map_err(|_| {
                                PyReError(format!("invalid group reference {name}"))
                            })?,
                        )?
                    } else {
                        match re.group_index(&name) {
                            Some(n) => Piece::Group(n),
                            None if name.is_empty() => {
                                return Err(PyReError("missing group name".into()));
                            }
                            None => return Err(PyReError(format!("unknown group name '{name}'"))),
                        }
                    };
                    flush(&mut lit, &mut pieces);
                    pieces.push(piece);
                }
                '0' => {
                    // Octal escape: up to two more octal digits.
                    let mut v = 0u32;
                    let mut k = 0;
                    while k < 2 && chars.get(i).is_some_and(|c| ('0'..='7').contains(c)) {
                        v = v * 8 + chars[i].to_digit(8).unwrap_or(0);
                        i += 1;
                        k += 1;
                    }
                    lit.push(char::from_u32(v).unwrap_or('\0'));
                }
                d if d.is_ascii_digit() => {
                    let mut num = d.to_digit(10).unwrap_or(0) as usize;
                    if let Some(d2) = chars.get(i).and_then(|c| c.to_digit(10)) {
                        // Three octal digits are a character, two digits a group.
                        let d3 = chars.get(i + 1).and_then(|c| c.to_digit(8));
                        if d <= '7' && d2 < 8 && d3.is_some() {
                            let v = (d.to_digit(8).unwrap_or(0) * 64) + d2 * 8 + d3.unwrap_or(0);
                            if v > 0o377 {
                                return Err(PyReError(format!(
                                    "octal escape value \\{d}{d2}{} outside of range 0-0o377",
                                    d3.unwrap_or(0)
                                )));
                            }
                            lit.push(char::from_u32(v).unwrap_or('\0'));
                            i += 2;
                            continue;
                        }
                        num = num * 10 + d2 as usize;
                        i += 1;
                    }
                    flush(&mut lit, &mut pieces);
                    pieces.push(check(num)?);
                }
                'n' => lit.push('\n'),
                't' => lit.push('\t'),
                'r' => lit.push('\r'),
                'a' => lit.push('\x07'),
                'b' => lit.push('\x08'),
                'f' => lit.push('\x0c'),
                'v' => lit.push('\x0b'),
                '\\' => lit.push('\\'),
                e if e.is_ascii_alphabetic() => {
                    return Err(PyReError(format!("bad escape \\{e}")));
                }
                e => {
                    lit.push('\\');
                    lit.push(e);
                }
            }
        }
        flush(&mut lit, &mut pieces);
        Ok(Replacement(pieces))
    }

    fn expand(&self, caps: &Captures<'_>, out: &mut String) {
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                // An unmatched group is empty (Python 3.5+).
                Piece::Group(n) => out.push_str(caps.get(*n).map_or("", |m| m.as_str())),
            }
        }
    }
}

/// Python's `re.escape` (3.7+): every character that is special in a pattern gets a backslash.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(p: &str, r: &str, t: &str) -> String {
        let re = compile(p, false, false).expect("pattern");
        let rep = Replacement::parse(r, &re).expect("replacement");
        re.sub(t, &rep, 0).expect("sub").0
    }

    // Expected values from Python 3.11's `re`.
    #[test]
    fn python_semantics() {
        assert_eq!(sub(r"(\w+)=(\w+)", r"\2=\1", "a=b c=d"), "b=a d=c");
        assert_eq!(sub(r"(?P<k>\w+)", r"<\g<k>|\g<1>>", "ab"), "<ab|ab>");
        assert_eq!(sub("x*", "-", "abxd"), "-a-b--d-");
        assert_eq!(sub("a$", "X", "a\n"), "X\n");
        assert_eq!(sub(r"(?<=a)b", "X", "ab cb"), "aX cb");
        assert_eq!(sub(r"(a)\1", "X", "aa a"), "X a");
        assert_eq!(sub("[[]", "X", "a[b"), "aXb");
        assert_eq!(sub("$", "!", "a\n"), "a!\n!");
        let re = compile("(a)", false, false).expect("pattern");
        assert_eq!(
            Replacement::parse(r"\2", &re),
            Err(PyReError("invalid group reference 2".into()))
        );
        assert_eq!(
            Replacement::parse(r"\q", &re),
            Err(PyReError("bad escape \\q".into()))
        );
        assert!(
            compile("a$", false, false)
                .expect("p")
                .is_match("a\n")
                .expect("m")
        );
        assert!(
            !compile("a\\Z", false, false)
                .expect("p")
                .is_match("a\n")
                .expect("m")
        );
        // Python bytes patterns: ASCII classes and word boundaries.
        let b = compile_bytes(r"^\w\b[\d\s]").expect("bytes pattern");
        assert!(b.is_match("a 1").expect("m"));
        assert!(!b.is_match("é 1").expect("m"));
    }
}
