//! Lexing of keepalived.conf lines, following keepalived 2.2.7's reader.
//!
//! keepalived reads a config line by line: it strips comments (`!` or `#` outside double quotes),
//! splits every `{` and `}` onto a "line" of its own, and cuts what is left into words at blanks,
//! keeping a double-quoted string as one word without its quotes. Script command lines are then
//! cut again with a shell-like tokenizer ([`command_words`]). This module does exactly that and
//! nothing else: it does not know keywords, files or blocks.

/// One logical line: a keyword with its arguments, or a lone `{` or `}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The words, with double quotes removed.
    pub words: Vec<String>,
    /// The text the words came from (comments stripped), for keywords that re-tokenize it.
    pub raw: String,
}

/// What one physical line of a config file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Nothing but blanks and comments.
    Blank,
    /// `include PATTERN`: a glob pattern, taken verbatim (keepalived does not unquote it).
    Include(String),
    /// keepalived's parameter substitution (`$NAME=`), conditional (`@id`) or sequence (`~SEQ`)
    /// lines, which hactl-agent does not implement. The string names the feature.
    Unsupported(&'static str),
    /// Keywords and braces.
    Pieces(Vec<Piece>),
}

/// A problem the lexer found; keepalived reports both as config errors and carries on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexProblem {
    UnterminatedQuote(String),
}

impl std::fmt::Display for LexProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The line is echoed to help find the quote, except a password's.
            LexProblem::UnterminatedQuote(s) if s.trim_start().starts_with("auth_pass") => {
                f.write_str("Unterminated quote in an auth_pass line")
            }
            LexProblem::UnterminatedQuote(s) => write!(f, "Unterminated quote '{s}'"),
        }
    }
}

const BLANKS: &[char] = &[' ', '\t'];

/// Lexes one physical line (without its line terminator).
pub fn lex_line(physical: &str) -> (Line, Vec<LexProblem>) {
    let mut problems = Vec::new();
    let text = decomment(physical, &mut problems);
    if text.is_empty() {
        return (Line::Blank, problems);
    }
    if let Some(pattern) = include_pattern(&text) {
        return (Line::Include(pattern.to_string()), problems);
    }
    if text.starts_with('@') {
        return (
            Line::Unsupported("conditional configuration ('@' lines)"),
            problems,
        );
    }
    if text.starts_with("~SEQ") || text.starts_with("~LST") {
        return (Line::Unsupported("~SEQ/~LST sequences"), problems);
    }
    if is_definition(&text) {
        return (
            Line::Unsupported("parameter definitions ('$NAME=')"),
            problems,
        );
    }
    let mut pieces = Vec::new();
    for raw in split_braces(&text) {
        let words = words(&raw, &mut problems);
        if !words.is_empty() {
            pieces.push(Piece { words, raw });
        }
    }
    if pieces.is_empty() {
        return (Line::Blank, problems);
    }
    (Line::Pieces(pieces), problems)
}

/// Strips leading blanks, the comment and trailing blanks. `\#` and `\!` outside quotes stand
/// for a literal `#` or `!`; inside double quotes nothing is a comment.
fn decomment(line: &str, problems: &mut Vec<LexProblem>) -> String {
    let line = line.trim_start_matches(BLANKS);
    let mut out = String::with_capacity(line.len());
    let mut in_quote = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_quote = !in_quote;
                out.push(c);
            }
            '\\' => match chars.peek().copied() {
                Some(next @ ('#' | '!')) if !in_quote => {
                    out.push(next);
                    chars.next();
                }
                Some(next) => {
                    out.push(c);
                    out.push(next);
                    chars.next();
                }
                None => out.push(c),
            },
            '!' | '#' if !in_quote => break,
            _ => out.push(c),
        }
    }
    if in_quote {
        problems.push(LexProblem::UnterminatedQuote(out.clone()));
    }
    out.trim_end_matches(BLANKS).to_string()
}

/// keepalived treats `include`, and `includer`/`includem`/... variants, followed by a blank as
/// an include directive. The variants only change how missing files are reported.
fn include_pattern(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("include")?;
    let rest = match rest.chars().next()? {
        ' ' | '\t' => rest,
        'r' | 'm' | 'w' | 'b' | 'a' if rest[1..].starts_with(BLANKS) => &rest[1..],
        _ => return None,
    };
    Some(rest.trim_start_matches(BLANKS))
}

fn is_definition(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('$') else {
        return false;
    };
    let name_len = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .count();
    name_len > 0 && rest[name_len..].trim_start_matches(BLANKS).starts_with('=')
}

/// Puts every `{` and `}` that is not inside double quotes on a piece of its own.
fn split_braces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = if rest.starts_with(['{', '}']) {
            1
        } else {
            first_brace(rest).unwrap_or(rest.len())
        };
        out.push(rest[..cut].trim_end_matches(BLANKS).to_string());
        rest = rest[cut..].trim_start_matches(BLANKS);
    }
    out
}

fn first_brace(text: &str) -> Option<usize> {
    let mut in_quote = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            '{' | '}' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// Cuts a piece into words at blanks; a double-quoted string is one word without its quotes.
/// A word also ends where a quote starts. An unterminated quote drops the rest of the line.
fn words(raw: &str, problems: &mut Vec<LexProblem>) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = raw;
    loop {
        rest = rest.trim_start_matches(is_space);
        if rest.is_empty() {
            break;
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => {
                    out.push(quoted[..end].to_string());
                    rest = &quoted[end + 1..];
                }
                None => {
                    if !problems
                        .iter()
                        .any(|p| matches!(p, LexProblem::UnterminatedQuote(_)))
                    {
                        problems.push(LexProblem::UnterminatedQuote(raw.to_string()));
                    }
                    break;
                }
            }
        } else {
            let end = rest
                .find(|c: char| is_space(c) || c == '"')
                .unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// The argv keepalived builds for a script keyword (`script`, `notify_*`): the raw line is cut
/// with a shell-like tokenizer (single and double quotes, backslash escapes), the word after the
/// keyword is taken, and that word is cut again the same way. No shell is involved, so
/// `"cmd && exit 1"` runs `cmd` with `&&`, `exit`, `1` as arguments. Words after the first
/// argument are ignored, as keepalived ignores them. `None` when there is no command or a quote
/// is not closed.
pub fn command_words(raw: &str) -> Option<Vec<String>> {
    let argv = quoted_escaped(&command_line(raw)?)?;
    if argv.is_empty() { None } else { Some(argv) }
}

/// The command of a script keyword line before it is cut into words: the line's second word
/// after the first pass of [`command_words`] (`hactl lint` looks at its quoting).
pub fn command_line(raw: &str) -> Option<String> {
    quoted_escaped(raw)?.into_iter().nth(1)
}

/// keepalived's quoted-and-escaped tokenizer.
fn quoted_escaped(src: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = src.chars().peekable();
    loop {
        while chars.next_if(|c| is_space(*c)).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (quote, c) {
                (_, '\\') => {
                    chars.next();
                    word.push(unescape(&mut chars)?);
                }
                (Some(q), c) if c == q => {
                    chars.next();
                    quote = None;
                }
                (Some(_), c) => {
                    chars.next();
                    word.push(c);
                }
                (None, '"' | '\'') => {
                    chars.next();
                    quote = Some(c);
                }
                (None, c) if is_space(c) => break,
                (None, c) => {
                    chars.next();
                    word.push(c);
                }
            }
        }
        if quote.is_some() {
            return None;
        }
        out.push(word);
    }
    Some(out)
}

fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
    let c = chars.next()?;
    Some(match c {
        'a' => '\x07',
        'b' => '\x08',
        'E' => '\x1b',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        'x' if chars.peek().is_some_and(char::is_ascii_hexdigit) => {
            let mut value: u32 = 0;
            while let Some(d) = chars.next_if(char::is_ascii_hexdigit) {
                value = (value << 4 | d.to_digit(16).unwrap_or(0)) & 0xff;
            }
            char::from_u32(value).unwrap_or('?')
        }
        'c' if chars.peek().is_some() => {
            let ctl = chars.next().map_or(0, |c| u32::from(c) & 0x1f);
            char::from_u32(ctl).unwrap_or('?')
        }
        '0'..='7' => {
            let mut value = c.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                match chars.next_if(|d| ('0'..='7').contains(d)) {
                    Some(d) => value = (value << 3 | d.to_digit(8).unwrap_or(0)) & 0xff,
                    None => break,
                }
            }
            char::from_u32(value).unwrap_or('?')
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(line: &str) -> Vec<Vec<String>> {
        match lex_line(line).0 {
            Line::Pieces(p) => p.into_iter().map(|p| p.words).collect(),
            other => panic!("expected pieces, got {other:?}"),
        }
    }

    #[test]
    fn comments_are_stripped_outside_quotes() {
        assert_eq!(lex_line("  ! a comment").0, Line::Blank);
        assert_eq!(lex_line("# another").0, Line::Blank);
        assert_eq!(
            pieces("priority 100 # trailing"),
            vec![vec!["priority", "100"]]
        );
        assert_eq!(pieces("router_id a!b"), vec![vec!["router_id", "a"]]);
        assert_eq!(
            pieces(r#"notify "/x.sh # not a comment""#),
            vec![vec!["notify", "/x.sh # not a comment"]]
        );
        assert_eq!(pieces(r"router_id a\#b"), vec![vec!["router_id", "a#b"]]);
    }

    #[test]
    fn braces_become_pieces_of_their_own() {
        assert_eq!(
            pieces("vrrp_instance VI_1 {"),
            vec![vec!["vrrp_instance", "VI_1"], vec!["{"]]
        );
        assert_eq!(
            pieces("virtual_ipaddress { 198.51.100.1 }"),
            vec![
                vec!["virtual_ipaddress"],
                vec!["{"],
                vec!["198.51.100.1"],
                vec!["}"]
            ]
        );
        assert_eq!(pieces("}}"), vec![vec!["}"], vec!["}"]]);
        assert_eq!(pieces(r#"script "a { b""#), vec![vec!["script", "a { b"]]);
    }

    #[test]
    fn quotes_make_one_word_and_end_a_word() {
        assert_eq!(pieces(r#"a "b c" d"#), vec![vec!["a", "b c", "d"]]);
        assert_eq!(pieces(r#"a"b c""#), vec![vec!["a", "b c"]]);
        let (line, problems) = lex_line(r#"notify "/x.sh"#);
        assert_eq!(
            line,
            Line::Pieces(vec![Piece {
                words: vec!["notify".into()],
                raw: "notify \"/x.sh".into()
            }])
        );
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn a_password_is_not_echoed_in_a_quote_problem() {
        let (_, problems) = lex_line(r#"  auth_pass "hunter2"#);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["Unterminated quote in an auth_pass line"]);
    }

    #[test]
    fn include_lines() {
        assert_eq!(
            lex_line("include conf.d/*.conf").0,
            Line::Include("conf.d/*.conf".into())
        );
        assert_eq!(
            lex_line("  includer  a.conf # c").0,
            Line::Include("a.conf".into())
        );
        assert_eq!(pieces("includes x"), vec![vec!["includes", "x"]]);
        assert_eq!(pieces("include"), vec![vec!["include"]]);
    }

    #[test]
    fn unsupported_preprocessor_lines() {
        assert!(matches!(lex_line("$IF=eth0").0, Line::Unsupported(_)));
        assert!(matches!(
            lex_line("@lb1 priority 100").0,
            Line::Unsupported(_)
        ));
        assert!(matches!(lex_line("~SEQ(i,1,3) x").0, Line::Unsupported(_)));
    }

    #[test]
    fn command_words_follow_keepalived_not_a_shell() {
        let raw = r#"script "/bin/bash -c '[[ -f /etc/keepalived/down ]]' && exit 1 || exit 0""#;
        assert_eq!(
            command_words(raw).unwrap_or_default(),
            vec![
                "/bin/bash",
                "-c",
                "[[ -f /etc/keepalived/down ]]",
                "&&",
                "exit",
                "1",
                "||",
                "exit",
                "0"
            ]
        );
        assert_eq!(
            command_words("script /bin/true ignored").unwrap_or_default(),
            vec!["/bin/true"]
        );
        // The escape is decoded by the first pass, so the second pass cuts at the tab.
        assert_eq!(
            command_words(r#"notify "a\tb""#).unwrap_or_default(),
            vec!["a", "b"]
        );
        assert_eq!(command_words("script"), None);
        assert_eq!(command_words(r#"script "a 'b""#), None);
    }
}
