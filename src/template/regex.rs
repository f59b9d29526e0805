//! Python `re` patterns and `re.sub` replacements on top of the `regex` crate.
//!
//! Ansible's regex filters and tests use Python's `re`. The common syntax is shared; this module
//! maps the differences that matter in templates: `\Z`, Python's replacement escapes
//! (`\1`, `\g<name>`) and the `ignorecase`/`multiline` flags. Look-around and backreferences in
//! patterns are not supported by the `regex` crate and give an error.

use minijinja::{Error, ErrorKind};
use regex::{Regex, RegexBuilder};

/// Compiles a Python `re` pattern.
pub fn compile(pattern: &str, ignorecase: bool, multiline: bool) -> Result<Regex, Error> {
    let translated = pattern.replace("\\Z", "\\z");
    RegexBuilder::new(&translated)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("invalid regular expression {pattern:?}: {e}"),
            )
        })
}

/// Turns a Python `re.sub` replacement (`\1`, `\g<1>`, `\g<name>`, `\n`, `\\`) into the
/// `regex` crate's syntax (`${1}`, `${name}`, literal `$$`).
pub fn python_replacement(rep: &str) -> String {
    let mut out = String::with_capacity(rep.len());
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(d) = chars
                        .peek()
                        .copied()
                        .filter(|d| d.is_ascii_digit() && num.len() < 2)
                    {
                        num.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('g') => {
                    chars.next();
                    let mut name = String::new();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        for n in chars.by_ref() {
                            if n == '>' {
                                break;
                            }
                            name.push(n);
                        }
                    }
                    out.push_str(&format!("${{{name}}}"));
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('r') => {
                    chars.next();
                    out.push('\r');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_syntax() {
        assert_eq!(
            python_replacement(r"\1-\g<2>-\g<name>"),
            "${1}-${2}-${name}"
        );
        assert_eq!(python_replacement("a$b"), "a$$b");
        assert_eq!(python_replacement(r"x\\y"), r"x\y");
    }
}
