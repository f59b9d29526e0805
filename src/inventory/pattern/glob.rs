//! Shell globs as Python's `fnmatch.translate` reads them, which is how Ansible matches a host
//! pattern without `~` against group and host names.
//!
//! The rules that differ from a Unix shell: `*` and `?` match any character including `/` and
//! `.`; matching is case-sensitive; `[!...]` negates a set; a `]` right after `[` or `[!` is a
//! member; a `[` without a closing `]` is a literal; a reversed range such as `z-a` is dropped
//! together with its two ends; `\` has no special meaning.

/// One element of a compiled glob.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// `*`: any run of characters (consecutive stars are one).
    Star,
    /// `?` and the negated empty set `[!]`-like forms: any single character.
    Any,
    Literal(char),
    /// A bracket set: inclusive ranges (a single member is a range of one).
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled glob, matched against a whole name.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles a glob. Every string is a valid glob.
    pub fn new(pattern: &str) -> Self {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => match set_end(&chars, i) {
                    Some(end) => {
                        tokens.push(set_token(&chars[i..end]));
                        i = end + 1;
                    }
                    None => tokens.push(Token::Literal('[')),
                },
                other => tokens.push(Token::Literal(other)),
            }
        }
        Glob { tokens }
    }

    /// Whether the glob matches all of `name`.
    pub fn matches(&self, name: &str) -> bool {
        let text: Vec<char> = name.chars().collect();
        // Classic two-pointer wildcard matching: every token but `*` eats exactly one character,
        // so on a mismatch it is enough to let the most recent `*` eat one more.
        let (mut t, mut p) = (0, 0);
        let mut backtrack: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::Star) => {
                    backtrack = Some((p, t));
                    p += 1;
                }
                Some(tok) if single_matches(tok, text[t]) => {
                    p += 1;
                    t += 1;
                }
                _ => match backtrack {
                    Some((star, from)) => {
                        p = star + 1;
                        t = from + 1;
                        backtrack = Some((star, from + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|tok| *tok == Token::Star)
    }
}

fn single_matches(token: &Token, c: char) -> bool {
    match token {
        Token::Star => false,
        Token::Any => true,
        Token::Literal(l) => *l == c,
        Token::Set { negated, ranges } => {
            ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
    }
}

/// Where the `]` closing a set opened just before `start` is, if anywhere.
fn set_end(chars: &[char], start: usize) -> Option<usize> {
    let mut j = start;
    if chars.get(j) == Some(&'!') {
        j += 1;
    }
    // A `]` first in the set is a member, not the end.
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    chars[j.min(chars.len())..]
        .iter()
        .position(|c| *c == ']')
        .map(|off| j + off)
}

/// Builds a set from what is between `[` and `]`, as Python's `fnmatch.translate` does.
///
/// Python cuts the set into chunks at the hyphens that make ranges, drops reversed ranges with
/// both of their ends, and only then looks for a leading `!`: so a `!` that becomes first when a
/// reversed range vanishes negates the set (`[--!!a]` is `[^a]`).
fn set_token(body: &[char]) -> Token {
    let mut chunks = if body.contains(&'-') {
        range_chunks(body)
    } else {
        vec![body.to_vec()]
    };
    let negated = chunks.first().is_some_and(|c| c.first() == Some(&'!'));
    if negated {
        chunks[0].remove(0);
    }
    if chunks.iter().all(Vec::is_empty) {
        // `[z-a]` never matches; `[!z-a]` matches any one character.
        return if negated {
            Token::Any
        } else {
            Token::Set {
                negated,
                ranges: Vec::new(),
            }
        };
    }
    // Consecutive chunks are joined by a range from the last character of one to the first of
    // the next; all other characters are single members. (Should a negating `!` ever be alone in
    // its chunk, Python's class would read `[^-...`, where the hyphen is a plain member.)
    let mut ranges = Vec::new();
    for (idx, chunk) in chunks.iter().enumerate() {
        let mut members = chunk.as_slice();
        if idx > 0 {
            match (chunks[idx - 1].last(), members.split_first()) {
                (Some(lo), Some((hi, rest))) => {
                    ranges.push((*lo, *hi));
                    members = rest;
                }
                _ => ranges.push(('-', '-')),
            }
        }
        if idx + 1 < chunks.len() && !chunks[idx + 1].is_empty() {
            members = members.split_last().map_or(members, |(_, rest)| rest);
        }
        ranges.extend(members.iter().map(|c| (*c, *c)));
    }
    Token::Set { negated, ranges }
}

/// Cuts a set with hyphens into chunks joined by range hyphens, reversed ranges removed.
fn range_chunks(body: &[char]) -> Vec<Vec<char>> {
    // A hyphen first in the set (after a `!`) is a member, and so is one right after a range
    // (`a-c-e` is `a` to `c`, `-` and `e`).
    let mut chunks: Vec<Vec<char>> = Vec::new();
    let mut chunk_start = 0;
    let mut search = if body.first() == Some(&'!') { 2 } else { 1 };
    while let Some(off) = body
        .get(search..)
        .and_then(|rest| rest.iter().position(|c| *c == '-'))
    {
        let hyphen = search + off;
        chunks.push(body[chunk_start..hyphen].to_vec());
        chunk_start = hyphen + 1;
        search = hyphen + 3;
    }
    let tail = body.get(chunk_start..).unwrap_or_default();
    match chunks.last_mut() {
        Some(last) if tail.is_empty() => last.push('-'),
        _ => chunks.push(tail.to_vec()),
    }
    // A reversed range drops both of its ends (Python's "remove empty ranges").
    let mut k = chunks.len();
    while k > 1 {
        k -= 1;
        if let (Some(a), Some(b)) = (chunks[k - 1].last(), chunks[k].first()) {
            if a > b {
                let next = chunks.remove(k);
                chunks[k - 1].pop();
                chunks[k - 1].extend_from_slice(&next[1..]);
            }
        }
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::Glob;

    fn m(pattern: &str, name: &str) -> bool {
        Glob::new(pattern).matches(name)
    }

    #[test]
    fn stars_and_questions() {
        assert!(m("*.example.com", "web1.example.com"));
        assert!(!m("*.example.com", "example.com"));
        assert!(m("db-*", "db-"));
        assert!(m("*", ""));
        assert!(m("a**b", "ab"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("w?b", "web"));
        assert!(!m("w?b", "wb"));
        assert!(m("*/x", "a/b/x"), "star crosses slashes");
        assert!(!m("WEB", "web"), "case-sensitive");
    }

    #[test]
    fn sets() {
        assert!(m("web[12]", "web1"));
        assert!(!m("web[12]", "web3"));
        assert!(m("web[!12]", "web3"));
        assert!(!m("web[!12]", "web1"));
        assert!(m("web[1-3]", "web2"));
        assert!(m("[]a]", "]"));
        assert!(m("[!]a]", "b"));
        assert!(!m("[!]a]", "]"));
        assert!(m("[a-]", "-"));
        assert!(m("[-a]", "-"));
        assert!(m("[a-c-e]", "-"));
        assert!(m("[a-c-e]", "e"));
        assert!(!m("[a-c-e]", "d"));
        assert!(m(r"[\]", r"\"));
    }

    #[test]
    fn unclosed_bracket_is_literal() {
        assert!(m("web[1", "web[1"));
        assert!(!m("web[1", "web1"));
        assert!(m("[!]", "[!]"));
    }

    #[test]
    fn reversed_ranges_drop_their_ends() {
        // Python turns `[z-a]` into a set that never matches, and `[!z-a]` into any character.
        assert!(!m("[z-a]", "z"));
        assert!(!m("[z-a]", "a"));
        assert!(m("[!z-a]", "q"));
        // `[z-ab-c]` keeps only `b-c`.
        assert!(m("[z-ab-c]", "c"));
        assert!(!m("[z-ab-c]", "z"));
    }

    #[test]
    fn a_bang_left_first_by_a_dropped_range_negates() {
        // `--!` is a reversed range; what follows decides.
        assert!(m("[--!a]", "a"));
        assert!(!m("[--!a]", "b"));
        assert!(m("[--!!a]", "b"));
        assert!(!m("[--!!a]", "a"));
        assert!(m("[--!!]", "x"));
        // `!--!` is a negation and a reversed range, leaving `[^b-c]`.
        assert!(m("[!--!b-c]", "-"));
        assert!(!m("[!--!b-c]", "b"));
    }
}
