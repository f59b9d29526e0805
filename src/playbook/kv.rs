//! Ansible's free-form module arguments: `src=a.j2 dest="/etc/x y" mode=0644`.
//!
//! Splitting follows `ansible.parsing.splitter`: whitespace separates words, except inside
//! quotes and inside Jinja2 `{{ }}`, `{% %}` and `{# #}` blocks, so quotes and templates survive
//! intact. Newlines are kept (they matter to `shell`). Then each word with an unescaped `=` is a
//! `key=value` option (the value unquoted once); the rest joins into `_raw_params`, which is the
//! command of `command`/`shell`/`raw`.

use indexmap::IndexMap;

/// Why a free-form argument string could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed at splitting arguments, either an unbalanced jinja2 block or quotes: {0}")]
pub struct SplitError(pub String);

/// Options a `command`-like module takes from a free-form string; any other `k=v` word is part
/// of the command itself.
const RAW_MODULE_OPTIONS: &[&str] = &[
    "creates",
    "removes",
    "chdir",
    "executable",
    "warn",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

/// Jinja2 block depths while splitting.
#[derive(Default)]
struct Depths {
    print: usize,
    block: usize,
    comment: usize,
}

impl Depths {
    fn any(&self) -> bool {
        self.print > 0 || self.block > 0 || self.comment > 0
    }
}

/// Adjusts `depth` by the difference of openers and closers in `token`; true if it changed.
fn count_blocks(token: &str, depth: &mut usize, open: &str, close: &str) -> bool {
    let opens = token.matches(open).count();
    let closes = token.matches(close).count();
    if opens == closes {
        return false;
    }
    let before = *depth;
    *depth = (*depth + opens).saturating_sub(closes);
    *depth != before
}

/// The quote still open after `token`, given the one open before it.
fn quote_state(token: &str, mut quote: Option<char>) -> Option<char> {
    let mut prev = None;
    for c in token.chars() {
        if (c == '"' || c == '\'') && prev != Some('\\') {
            match quote {
                Some(q) if q == c => quote = None,
                Some(_) => {}
                None => quote = Some(c),
            }
        }
        prev = Some(c);
    }
    quote
}

/// Splits a free-form argument string into words the way Ansible's `split_args` does.
pub fn split_args(args: &str) -> Result<Vec<String>, SplitError> {
    let mut params: Vec<String> = Vec::new();
    if args.is_empty() {
        return Ok(params);
    }
    let lines: Vec<&str> = args.split('\n').collect();
    let mut quote: Option<char> = None;
    let mut depths = Depths::default();
    for (line_idx, line) in lines.iter().enumerate() {
        let mut continuation = false;
        for (idx, token) in line.split(' ').enumerate() {
            if token.is_empty() && idx != 0 {
                last(&mut params).push(' ');
                continue;
            }
            let inside_before = quote.is_some();
            if token == "\\" && !inside_before {
                continuation = true;
                continue;
            }
            quote = quote_state(token, quote);
            let inside = quote.is_some();
            let mut appended = false;
            if inside && !inside_before && !depths.any() {
                params.push(token.to_string());
                appended = true;
            } else if depths.any() || inside || inside_before {
                let tail = last(&mut params);
                if idx > 0 {
                    tail.push(' ');
                }
                tail.push_str(token);
                appended = true;
            }
            for (depth, open, close) in [
                (&mut depths.print, "{{", "}}"),
                (&mut depths.block, "{%", "%}"),
                (&mut depths.comment, "{#", "#}"),
            ] {
                if count_blocks(token, depth, open, close) && !appended {
                    params.push(token.to_string());
                    appended = true;
                }
            }
            if !depths.any() && !inside && !appended && !token.is_empty() {
                params.push(token.to_string());
            }
        }
        if lines.len() > 1 && line_idx != lines.len() - 1 && !continuation {
            last(&mut params).push('\n');
        }
    }
    if depths.any() || quote.is_some() {
        return Err(SplitError(args.to_string()));
    }
    Ok(params)
}

/// The last word, made if there is none yet.
fn last(params: &mut Vec<String>) -> &mut String {
    if params.is_empty() {
        params.push(String::new());
    }
    let n = params.len() - 1;
    &mut params[n]
}

/// Joins words back, keeping the newlines `split_args` kept.
pub fn join_args(words: &[String]) -> String {
    let mut out = String::new();
    for w in words {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Removes one pair of matching outer quotes, as Ansible's `unquote` does.
pub fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    let quoted = b.len() > 1
        && b[0] == b[b.len() - 1]
        && (b[0] == b'"' || b[0] == b'\'')
        && b[b.len() - 2] != b'\\';
    if quoted { &s[1..s.len() - 1] } else { s }
}

/// Decodes the Python string escapes Ansible decodes in free-form words (`\n`, `\t`, `\x41`,
/// `\u00e9`, ...). Unknown escapes stay as written.
fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let rest = &s[i + 1..];
        let simple = match rest.chars().next() {
            Some('\\') => Some('\\'),
            Some('\'') => Some('\''),
            Some('"') => Some('"'),
            Some('a') => Some('\x07'),
            Some('b') => Some('\x08'),
            Some('f') => Some('\x0c'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            Some('v') => Some('\x0b'),
            _ => None,
        };
        if let Some(decoded) = simple {
            out.push(decoded);
            chars.next();
            continue;
        }
        let hex_len = match rest.chars().next() {
            Some('x') => 2,
            Some('u') => 4,
            Some('U') => 8,
            _ => 0,
        };
        let digits = rest.get(1..1 + hex_len).filter(|d| {
            hex_len > 0 && d.len() == hex_len && d.bytes().all(|b| b.is_ascii_hexdigit())
        });
        match digits
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .and_then(char::from_u32)
        {
            Some(decoded) => {
                out.push(decoded);
                for _ in 0..=hex_len {
                    chars.next();
                }
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Parses a free-form argument string into options, as Ansible's `parse_kv`. With `check_raw`
/// (the `command` family), only the command options are taken as `k=v`; every other word is part
/// of `_raw_params`.
pub fn parse_kv(args: &str, check_raw: bool) -> Result<IndexMap<String, String>, SplitError> {
    let mut options = IndexMap::new();
    let mut raw: Vec<String> = Vec::new();
    for word in split_args(args)? {
        let decoded = decode_escapes(&word);
        let Some(pos) = unescaped_equals(&decoded) else {
            if decoded.contains('=') {
                raw.push(decoded.replace("\\=", "="));
            } else {
                raw.push(word);
            }
            continue;
        };
        let (key, value) = (&decoded[..pos], &decoded[pos + 1..]);
        if check_raw && !RAW_MODULE_OPTIONS.contains(&key) {
            raw.push(word);
        } else {
            options.insert(key.trim().to_string(), unquote(value.trim()).to_string());
        }
    }
    if !raw.is_empty() {
        options.insert("_raw_params".to_string(), join_args(&raw));
    }
    Ok(options)
}

/// The first `=` after position 0 that is not escaped with a backslash.
fn unescaped_equals(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (1..b.len()).find(|&i| b[i] == b'=' && b[i - 1] != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(s: &str) -> Vec<(String, String)> {
        parse_kv(s, false).expect("parse").into_iter().collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn seed_template_line() {
        assert_eq!(
            kv("src=keepalived.conf.j2 dest=/etc/keepalived/keepalived.conf"),
            pairs(&[
                ("src", "keepalived.conf.j2"),
                ("dest", "/etc/keepalived/keepalived.conf")
            ])
        );
    }

    #[test]
    fn quotes_and_jinja_survive() {
        assert_eq!(
            kv(r#"name={{ item }} state=started msg="a b  c" other='{{ x | default("y z") }}'"#),
            pairs(&[
                ("name", "{{ item }}"),
                ("state", "started"),
                ("msg", "a b  c"),
                ("other", r#"{{ x | default("y z") }}"#),
            ])
        );
        assert_eq!(
            split_args("a={{ b | join(' ') }} c").expect("split"),
            vec!["a={{ b | join(' ') }}", "c"]
        );
    }

    #[test]
    fn raw_params_for_commands() {
        let opts = parse_kv("ntpdate -u pool.example creates=/tmp/x foo=bar", true).expect("ok");
        assert_eq!(opts["creates"], "/tmp/x");
        assert_eq!(opts["_raw_params"], "ntpdate -u pool.example foo=bar");
    }

    #[test]
    fn newlines_are_kept_for_shell() {
        let words = split_args("echo a\necho b").expect("split");
        assert_eq!(join_args(&words), "echo a\necho b");
    }

    #[test]
    fn unbalanced_is_an_error() {
        assert!(split_args("a={{ b").is_err());
        assert!(split_args("a='b").is_err());
    }

    #[test]
    fn unquote_rules() {
        assert_eq!(unquote("'a'"), "a");
        assert_eq!(unquote("\"a\""), "a");
        assert_eq!(unquote("'a\""), "'a\"");
        assert_eq!(unquote("'"), "'");
        assert_eq!(unquote(r"'a\'"), r"'a\'");
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(kv(r"msg=a\tb"), pairs(&[("msg", "a\tb")]));
        assert_eq!(kv(r"msg=\x41\u00e9"), pairs(&[("msg", "Aé")]));
    }
}
