//! Python's `shlex.split(line, comments=True)` (POSIX mode), which Ansible's INI plugin uses to
//! cut a host line into the host pattern and its `key=value` words.
//!
//! Differences from a POSIX shell that matter here, all kept: `#` starts a comment even in the
//! middle of a word (`a#b` is `a`); inside double quotes a backslash only escapes `"` and `\`.

/// Why a line could not be split; the texts are Python's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    NoClosingQuotation,
    NoEscapedCharacter,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SplitError::NoClosingQuotation => "No closing quotation",
            SplitError::NoEscapedCharacter => "No escaped character",
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Between,
    Word,
    Quote(char),
    Escape { from: Escaped },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Escaped {
    Word,
    DoubleQuote,
}

const WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// Splits `line` into words.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut token = String::new();
    // A word that had quotes is kept even when empty (`''`).
    let mut quoted = false;
    let mut state = State::Between;
    let mut finish = |token: &mut String, quoted: &mut bool| {
        if !token.is_empty() || *quoted {
            words.push(std::mem::take(token));
        }
        *quoted = false;
    };
    for c in line.chars() {
        match state {
            State::Between | State::Word => {
                if WHITESPACE.contains(&c) {
                    finish(&mut token, &mut quoted);
                    state = State::Between;
                } else if c == '#' {
                    // The rest of the line is a comment.
                    finish(&mut token, &mut quoted);
                    return Ok(words);
                } else if c == '\\' {
                    state = State::Escape {
                        from: Escaped::Word,
                    };
                } else if c == '\'' || c == '"' {
                    state = State::Quote(c);
                } else {
                    token.push(c);
                    state = State::Word;
                }
            }
            State::Quote(q) => {
                quoted = true;
                if c == q {
                    state = State::Word;
                } else if c == '\\' && q == '"' {
                    state = State::Escape {
                        from: Escaped::DoubleQuote,
                    };
                } else {
                    token.push(c);
                }
            }
            State::Escape { from } => {
                if from == Escaped::DoubleQuote && c != '"' && c != '\\' {
                    token.push('\\');
                }
                token.push(c);
                state = match from {
                    Escaped::Word => State::Word,
                    Escaped::DoubleQuote => State::Quote('"'),
                };
            }
        }
    }
    match state {
        State::Quote(_) => Err(SplitError::NoClosingQuotation),
        State::Escape { .. } => Err(SplitError::NoEscapedCharacter),
        State::Between | State::Word => {
            finish(&mut token, &mut quoted);
            Ok(words)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line).expect("splits")
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(s("host a=1  b='x y'"), ["host", "a=1", "b=x y"]);
        assert_eq!(s(r#"h x="a \"q\" \n""#), ["h", r#"x=a "q" \n"#]);
        assert_eq!(s(r"h x=a\ b"), ["h", "x=a b"]);
        assert_eq!(s("h x=''"), ["h", "x="]);
        assert_eq!(s("h ''"), ["h", ""]);
        assert_eq!(s(r#"h x="'1'""#), ["h", "x='1'"]);
    }

    #[test]
    fn comments() {
        assert_eq!(s("h a=1 # c"), ["h", "a=1"]);
        assert_eq!(s("h a=1#c"), ["h", "a=1"]);
        assert_eq!(s("h a='1#c'"), ["h", "a=1#c"]);
    }

    #[test]
    fn errors() {
        assert_eq!(split("h a='1"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("h a=\\"), Err(SplitError::NoEscapedCharacter));
    }
}
