//! Source rewrites that give minijinja Ansible's strictness and escaping before compiling.
//!
//! minijinja's chainable undefined lets `foo.bar | default(x)` work as in Ansible but treats a
//! missing variable as false in `{% if %}` and as empty in `{% for %}`, where Ansible fails.
//! Wrapping those expressions in the `__strict` filter restores the failure:
//! `{% if X %}` becomes `{% if (X)|__strict %}`. Lines never move, so error lines stay right.
//!
//! For strings from YAML (task arguments), Ansible also doubles backslashes in string literals
//! inside `{{ }}` so `'\1'` reaches `regex_replace` as a backslash and a digit.
//! Text inside `{% raw %}` and comments is left alone.

/// Rewrites `src`; `escape_backslashes` as Ansible applies it to templates from YAML.
pub fn prepare(src: &str, escape_backslashes: bool) -> String {
    let mut out = String::with_capacity(src.len() + 32);
    let mut rest = src;
    while let Some(start) = rest.find('{') {
        let after = &rest[start..];
        let (open, close) = match after.get(..2) {
            Some("{{") => ("{{", "}}"),
            Some("{%") => ("{%", "%}"),
            Some("{#") => ("{#", "#}"),
            _ => {
                out.push_str(&rest[..start + 1]);
                rest = &rest[start + 1..];
                continue;
            }
        };
        out.push_str(&rest[..start]);
        let body_start = start + 2;
        let Some(len) = (if open == "{#" {
            rest[body_start..].find(close)
        } else {
            find_close(&rest[body_start..], close)
        }) else {
            // Unterminated: let minijinja report the syntax error.
            out.push_str(&rest[start..]);
            return out;
        };
        let body = &rest[body_start..body_start + len];
        let end = body_start + len + 2;
        match open {
            "{{" => {
                out.push_str("{{");
                let body = if escape_backslashes {
                    escape_strings(body)
                } else {
                    body.to_string()
                };
                let body = percent_ops(&builtin_names(&body));
                let (lead, expr, trail) = split_controls(&body);
                out.push_str(&silent_else(&format!(
                    "{lead}{}{trail}",
                    strict_compare(expr)
                )));
                out.push_str("}}");
            }
            "{%" => {
                if tag_name(body) == Some("raw") {
                    // Jinja never trims the newline after `{% raw %}`; `+%}` tells minijinja so.
                    let raw_tag = if body.ends_with(['-', '+']) {
                        format!("{{%{body}%}}")
                    } else {
                        format!("{{%{body}+%}}")
                    };
                    // Copy everything up to and including the matching endraw tag verbatim.
                    let raw_end = find_endraw(&rest[end..]).map_or(rest.len(), |n| end + n);
                    out.push_str(&raw_tag);
                    out.push_str(&rest[end..raw_end]);
                    rest = &rest[raw_end..];
                    continue;
                }
                out.push_str("{%");
                out.push_str(&strict_tag(&mutable_literals(&percent_ops(
                    &builtin_names(body),
                ))));
                out.push_str("%}");
            }
            _ => out.push_str(&rest[start..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `{{ x if c }}` prints nothing when `c` is false; minijinja's strict formatter would see an
/// undefined value there, so a missing top-level `else` becomes `else ''`.
fn silent_else(body: &str) -> String {
    let (lead, expr, trail) = split_controls(body);
    let words = top_level_words(expr);
    let Some(last_if) = words.iter().rposition(|(_, w)| *w == "if") else {
        return body.to_string();
    };
    if words[last_if..].iter().any(|(_, w)| *w == "else") {
        return body.to_string();
    }
    let trimmed = expr.trim_end();
    format!("{lead}{trimmed} else ''{}{trail}", &expr[trimmed.len()..])
}

/// Offset of `close` in `s`, skipping string literals.
fn find_close(s: &str, close: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if s[i..].starts_with(close) => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

/// Offset just past the `{% endraw %}` tag in `s`.
fn find_endraw(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("{%") {
        let tag = from + i + 2;
        let close = s[tag..].find("%}")?;
        if tag_name(&s[tag..tag + close]) == Some("endraw") {
            return Some(tag + close + 2);
        }
        from = tag;
    }
    None
}

/// The statement keyword of a tag body such as `- if x -`.
fn tag_name(body: &str) -> Option<&str> {
    let body = body.trim_start_matches(['-', '+']).trim_start();
    body.split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .filter(|s| !s.is_empty())
}

/// Splits a tag body into leading whitespace control, the statement, and trailing control.
fn split_controls(body: &str) -> (&str, &str, &str) {
    let lead = body.len() - body.trim_start_matches(['-', '+']).len();
    let inner_end = body.trim_end_matches(['-', '+']).len().max(lead);
    (&body[..lead], &body[lead..inner_end], &body[inner_end..])
}

/// Wraps the condition of `if`/`elif` and the iterable of `for` in `(...)|__strict`.
fn strict_tag(body: &str) -> String {
    let (lead, stmt, trail) = split_controls(body);
    let trimmed = stmt.trim_start();
    let indent = &stmt[..stmt.len() - trimmed.len()];
    let keyword = tag_name(trimmed).unwrap_or("");
    let wrapped = match keyword {
        "if" | "elif" => {
            let expr = trimmed[keyword.len()..].trim_end();
            if expr.trim().is_empty() {
                None
            } else {
                let tail = &trimmed[keyword.len() + expr.len()..];
                Some(format!(
                    "{keyword} ({})|__strict{tail}",
                    strict_compare(expr.trim_start())
                ))
            }
        }
        "for" => strict_for(trimmed),
        _ => None,
    };
    match wrapped {
        Some(w) => format!("{lead}{indent}{w}{trail}"),
        None => body.to_string(),
    }
}

/// `for T in X [if C] [recursive]` → `for T in (X)|__strict [if C] [recursive]`.
fn strict_for(stmt: &str) -> Option<String> {
    let words = top_level_words(stmt);
    let in_at = words.iter().find(|(_, w)| *w == "in")?.0;
    let iter_start = in_at + 2;
    let iter_end = words
        .iter()
        .filter(|(i, w)| *i > iter_start && (*w == "if" || *w == "recursive"))
        .map(|(i, _)| *i)
        .next()
        .unwrap_or(stmt.trim_end().len());
    let iter = stmt[iter_start..iter_end].trim();
    if iter.is_empty() {
        return None;
    }
    let rest = &stmt[iter_end..];
    let gap = if rest.starts_with(char::is_whitespace) || rest.is_empty() {
        ""
    } else {
        " "
    };
    Some(format!(
        "{} ({iter})|__strict{gap}{rest}",
        &stmt[..iter_start]
    ))
}

/// Bare words outside string literals and brackets, with their byte offsets.
fn top_level_words(s: &str) -> Vec<(usize, &str)> {
    let bytes = s.as_bytes();
    let mut words = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ if (b.is_ascii_alphabetic() || b == b'_')
                && (i == 0 || !is_word_byte(bytes[i - 1])) =>
            {
                let start = i;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                if depth == 0 && (start == 0 || bytes[start - 1] != b'.') {
                    words.push((start, &s[start..i]));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    words
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Doubles backslashes inside string literals of an expression.
fn escape_strings(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' {
                    out.push_str("\\\\");
                    // The escaped character (maybe the quote) stays part of the literal.
                    if let Some(next) = chars.next() {
                        if next == '\\' {
                            out.push_str("\\\\");
                        } else if next == q {
                            // Jinja keeps both the backslash and the quote: `'it\'s'` is `it\'s`.
                            out.push('\\');
                            out.push(next);
                        } else {
                            out.push(next);
                        }
                    }
                    continue;
                }
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_conditions_and_iterables() {
        assert_eq!(
            prepare("{% if a %}x{%- elif b.c -%}y{% endif %}", false),
            "{% if (a)|__strict %}x{%- elif (b.c)|__strict -%}y{% endif %}"
        );
        assert_eq!(
            prepare("{% for k, v in d.items() if v recursive %}", false),
            "{% for k, v in (d.items())|__strict if v recursive %}"
        );
        assert_eq!(
            prepare("{% for x in ['in', 'if'] %}", false),
            "{% for x in (['in', 'if'])|__strict %}"
        );
    }

    #[test]
    fn leaves_raw_and_comments_alone() {
        let src = "{% raw -%}{% if a %}{% endraw %}{# {% if b %} #}";
        assert_eq!(prepare(src, true), src);
        assert_eq!(
            prepare("{% raw %}\n{{ x }}{% endraw %}", true),
            "{% raw +%}\n{{ x }}{% endraw %}"
        );
    }

    #[test]
    fn inline_if_without_else_prints_nothing() {
        assert_eq!(
            prepare("{{ ',' if not loop.last -}}", false),
            "{{ ',' if not loop.last else '' -}}"
        );
        assert_eq!(
            prepare("{{ a if b else c }}{{ f(a if b) }}", false),
            "{{ a if b else c }}{{ f(a if b) }}"
        );
    }

    #[test]
    fn escapes_backslashes_in_expression_strings() {
        assert_eq!(
            prepare(r"{{ x | regex_replace('(a)', '\1') }}\n", true),
            r"{{ x | regex_replace('(a)', '\\1') }}\n"
        );
        assert_eq!(prepare(r"{{ 'it\'s' }}", true), r"{{ 'it\\\'s' }}");
    }
}

/// `{% set x = [] %}` and `{% set x = {} %}`: the literal becomes a list or dict that methods
/// may change in place (`x.append(1)`), as in Python (see `pymut`).
fn mutable_literals(body: &str) -> String {
    let (lead, stmt, trail) = split_controls(body);
    let trimmed = stmt.trim_start();
    if tag_name(trimmed) != Some("set") {
        return body.to_string();
    }
    let b = trimmed.as_bytes();
    // The top-level `=` of the assignment (not `==`, not inside brackets or strings).
    let mut i = 3;
    let mut eq = None;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = literal_end(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                i = group_end(b, i);
                continue;
            }
            b'=' if b.get(i + 1) != Some(&b'=') => {
                eq = Some(i);
                break;
            }
            _ => {}
        }
        i += 1;
    }
    let Some(eq) = eq else {
        return body.to_string();
    };
    let rhs = trimmed[eq + 1..].trim();
    let rb = rhs.as_bytes();
    let wrapper = match rb.first() {
        Some(b'[') => "__pylist",
        Some(b'{') => "__pydict",
        _ => return body.to_string(),
    };
    if group_end(rb, 0) != rb.len() {
        return body.to_string();
    }
    let indent = &stmt[..stmt.len() - trimmed.len()];
    let tail = &trimmed[eq + 1..];
    let tail_ws = &tail[tail.trim_end().len()..];
    format!(
        "{lead}{indent}{} {wrapper}({rhs}){tail_ws}{trail}",
        &trimmed[..=eq]
    )
}

/// `x | ansible.builtin.to_json` and `x is ansible.builtin.match`: Ansible's fully qualified
/// names of its own filters and tests are the short names here.
pub(crate) fn builtin_names(expr: &str) -> String {
    const NS: &str = "ansible.builtin.";
    if !expr.contains(NS) {
        return expr.to_string();
    }
    let b = expr.as_bytes();
    let mut out = String::with_capacity(expr.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => i = literal_end(b, i),
            _ if expr[i..].starts_with(NS)
                && (i == 0 || !(is_word_byte(b[i - 1]) || b[i - 1] == b'.')) =>
            {
                out.push_str(&expr[last..i]);
                i += NS.len();
                last = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&expr[last..]);
    out
}

/// End (exclusive) of the string literal starting at `i` (a quote).
fn literal_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        if b[j] == b'\\' {
            j += 1;
        }
        j += 1;
    }
    (j + 1).min(b.len())
}

/// End (exclusive) of the bracket group opened at `i`, skipping literals.
fn group_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0i32;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'\'' | b'"' => {
                j = literal_end(b, j);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    b.len()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn word_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_word_byte(b[i]) {
        i += 1;
    }
    i
}

/// End of the right operand of `%` starting at `i`: a unary expression with its attribute,
/// item, call and filter suffixes, as Jinja parses it.
fn operand_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = skip_ws(b, i);
    while j < b.len() && (b[j] == b'-' || b[j] == b'+') {
        j = skip_ws(b, j + 1);
    }
    let c = *b.get(j)?;
    j = match c {
        b'\'' | b'"' => literal_end(b, j),
        b'(' | b'[' | b'{' => group_end(b, j),
        c if c.is_ascii_digit() => {
            let mut k = j;
            while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'.' || b[k] == b'_') {
                k += 1;
            }
            k
        }
        c if c.is_ascii_alphabetic() || c == b'_' => word_end(b, j),
        _ => return None,
    };
    loop {
        let k = skip_ws(b, j);
        match b.get(k) {
            Some(b'.')
                if b.get(k + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                j = word_end(b, k + 1)
            }
            Some(b'.') if b.get(k + 1).is_some_and(u8::is_ascii_digit) => j = word_end(b, k + 1),
            Some(b'[' | b'(') => j = group_end(b, k),
            Some(b'|') => {
                let n = skip_ws(b, k + 1);
                let mut e = word_end(b, n);
                while b.get(e) == Some(&b'.') {
                    e = word_end(b, e + 1);
                }
                if e == n {
                    return Some(j);
                }
                j = e;
            }
            _ => return Some(j),
        }
    }
}

/// Whether `(...)` holds a tuple: a comma outside nested brackets and literals.
fn is_tuple(group: &[u8]) -> bool {
    let inner = &group[1..group.len().saturating_sub(1)];
    let mut depth = 0;
    let mut j = 0;
    if inner.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    while j < inner.len() {
        match inner[j] {
            b'\'' | b'"' => {
                j = literal_end(inner, j);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => return true,
            _ => {}
        }
        j += 1;
    }
    false
}

/// Python's printf-style `'fmt' % args` (a string literal on the left), which minijinja lacks:
/// `'%s:%d' % (a, b)` becomes `'%s:%d'|__pymod(a, b)` and `'%s' % x` becomes
/// `'%s'|__pymod1(x)`. A filter binds tighter than any operator, as `%` does here.
pub(crate) fn percent_ops(expr: &str) -> String {
    if !expr.contains('%') {
        return expr.to_string();
    }
    let b = expr.as_bytes();
    let mut out = String::with_capacity(expr.len() + 16);
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\'' && b[i] != b'"' {
            i += 1;
            continue;
        }
        let lit_end = literal_end(b, i);
        let op = skip_ws(b, lit_end);
        if b.get(op) != Some(&b'%') {
            i = lit_end;
            continue;
        }
        let Some(end) = operand_end(b, op + 1) else {
            i = lit_end;
            continue;
        };
        let operand = expr[op + 1..end].trim();
        out.push_str(&expr[last..lit_end]);
        let ob = operand.as_bytes();
        let whole_group = ob.first() == Some(&b'(') && group_end(ob, 0) == ob.len();
        if whole_group && is_tuple(ob) {
            let inner = percent_ops(&operand[1..operand.len() - 1]);
            let inner = inner.trim().trim_end_matches(',');
            out.push_str(&format!("|__pymod({inner})"));
        } else {
            out.push_str(&format!("|__pymod1({})", percent_ops(operand)));
        }
        // Keep the text's length of lines: the operand had no newlines of its own to lose
        // other than inside brackets, which are copied.
        last = end;
        i = end;
    }
    out.push_str(&expr[last..]);
    out
}

#[cfg(test)]
mod percent_tests {
    use super::percent_ops;

    #[test]
    fn rewrites_printf_operator() {
        assert_eq!(percent_ops(" '%s:%d' % (a, b) "), " '%s:%d'|__pymod(a, b) ");
        assert_eq!(percent_ops("'%s' % s | upper"), "'%s'|__pymod1(s | upper)");
        assert_eq!(
            percent_ops("'x' ~ '%s' % n ~ 'y'"),
            "'x' ~ '%s'|__pymod1(n) ~ 'y'"
        );
        assert_eq!(percent_ops("'%s' % (a)"), "'%s'|__pymod1((a))");
        assert_eq!(percent_ops("'%s' % x.y[0]"), "'%s'|__pymod1(x.y[0])");
        assert_eq!(percent_ops("n % 2"), "n % 2");
        assert_eq!(percent_ops("'%d%%' % 50"), "'%d%%'|__pymod1(50)");
        assert_eq!(
            super::mutable_literals(" set g = [] -"),
            " set g = __pylist([]) -"
        );
        assert_eq!(
            super::mutable_literals("- set ns.d = {'a': 1}"),
            "- set ns.d = __pydict({'a': 1})"
        );
        assert_eq!(
            super::mutable_literals(" set g = [] + x"),
            " set g = [] + x"
        );
        assert_eq!(
            super::builtin_names("x | ansible.builtin.to_json ~ 'ansible.builtin.x'"),
            "x | to_json ~ 'ansible.builtin.x'"
        );
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    Boundary,
    Compare,
    Other,
}

/// Ansible 2.19 fails when an operand of a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`,
/// `not in`) is undefined; minijinja's chainable undefined compares as a value. Each operand
/// becomes `(operand)|__strict`, which fails on an undefined value and passes anything else.
pub(crate) fn strict_compare(expr: &str) -> String {
    let b = expr.as_bytes();
    let mut toks: Vec<(Tok, String)> = Vec::new();
    let mut i = 0;
    let mut other = String::new();
    let flush = |other: &mut String, toks: &mut Vec<(Tok, String)>| {
        if !other.is_empty() {
            toks.push((Tok::Other, std::mem::take(other)));
        }
    };
    while i < b.len() {
        let c = b[i];
        let word_start = (c.is_ascii_alphabetic() || c == b'_')
            && (i == 0 || !(is_word_byte(b[i - 1]) || b[i - 1] == b'.'));
        match c {
            b'\'' | b'"' => {
                let end = literal_end(b, i);
                other.push_str(&expr[i..end]);
                i = end;
            }
            b'(' | b'[' | b'{' => {
                let end = group_end(b, i);
                let close = if end > i + 1 && matches!(b[end - 1], b')' | b']' | b'}') {
                    end - 1
                } else {
                    end
                };
                other.push(c as char);
                other.push_str(&strict_compare(&expr[i + 1..close]));
                other.push_str(&expr[close..end]);
                i = end;
            }
            b',' | b':' => {
                flush(&mut other, &mut toks);
                toks.push((Tok::Boundary, (c as char).to_string()));
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = expr.get(i..i + 2).unwrap_or("");
                let op_len = if matches!(two, "==" | "!=" | "<=" | ">=") {
                    2
                } else if matches!(c, b'<' | b'>') {
                    1
                } else {
                    // `=` of a keyword argument or `set`: a boundary.
                    flush(&mut other, &mut toks);
                    toks.push((Tok::Boundary, expr[i..i + 1].to_string()));
                    i += 1;
                    continue;
                };
                flush(&mut other, &mut toks);
                toks.push((Tok::Compare, expr[i..i + op_len].to_string()));
                i += op_len;
            }
            _ if word_start => {
                let end = word_end(b, i);
                let word = &expr[i..end];
                match word {
                    // `is not`: part of a test, not a boundary.
                    "not" if ends_with_word(&other, "is") => other.push_str(word),
                    "not" => {
                        // `not in` is one comparison; a lone `not` ends an operand.
                        let next = skip_ws(b, end);
                        if expr[next..].starts_with("in")
                            && !b.get(next + 2).is_some_and(|c| is_word_byte(*c))
                        {
                            flush(&mut other, &mut toks);
                            toks.push((Tok::Compare, expr[i..next + 2].to_string()));
                            i = next + 2;
                            continue;
                        }
                        flush(&mut other, &mut toks);
                        toks.push((Tok::Boundary, word.to_string()));
                    }
                    "and" | "or" | "if" | "else" => {
                        flush(&mut other, &mut toks);
                        toks.push((Tok::Boundary, word.to_string()));
                    }
                    // `x is in(l)` names the `in` test.
                    "in" if ends_with_word(&other, "is")
                        || other.trim_end().ends_with(" is not") =>
                    {
                        other.push_str(word)
                    }
                    "in" => {
                        flush(&mut other, &mut toks);
                        toks.push((Tok::Compare, word.to_string()));
                    }
                    _ => other.push_str(word),
                }
                i = end;
            }
            _ => {
                let ch = expr[i..].chars().next().unwrap_or(' ');
                other.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    flush(&mut other, &mut toks);
    if !toks.iter().any(|(t, _)| *t == Tok::Compare) {
        return toks.into_iter().map(|(_, s)| s).collect();
    }
    let wrap = |s: &str| -> String {
        let t = s.trim();
        if t.is_empty() {
            return s.to_string();
        }
        let lead = &s[..s.len() - s.trim_start().len()];
        let trail = &s[s.trim_end().len()..];
        format!("{lead}({t})|__strict{trail}")
    };
    let mut out = String::with_capacity(expr.len() + 32);
    // Operands between boundaries; a run with a comparison has every operand wrapped.
    let mut run: Vec<(Tok, String)> = Vec::new();
    let emit = |run: &mut Vec<(Tok, String)>, out: &mut String| {
        if run.iter().any(|(t, _)| *t == Tok::Compare) {
            let mut operand = String::new();
            for (t, s) in run.drain(..) {
                if t == Tok::Compare {
                    out.push_str(&wrap(&operand));
                    operand.clear();
                    out.push_str(&s);
                } else {
                    operand.push_str(&s);
                }
            }
            out.push_str(&wrap(&operand));
        } else {
            for (_, s) in run.drain(..) {
                out.push_str(&s);
            }
        }
    };
    for (t, s) in toks {
        if t == Tok::Boundary {
            emit(&mut run, &mut out);
            out.push_str(&s);
        } else {
            run.push((t, s));
        }
    }
    emit(&mut run, &mut out);
    out
}

/// Whether `s` ends with the word `w` (before trailing whitespace).
fn ends_with_word(s: &str, w: &str) -> bool {
    let t = s.trim_end();
    t.ends_with(w)
        && t[..t.len() - w.len()]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'))
}

#[cfg(test)]
mod compare_tests {
    use super::strict_compare;

    #[test]
    fn wraps_comparison_operands() {
        assert_eq!(
            strict_compare(" a == 'x' "),
            " (a)|__strict == ('x')|__strict "
        );
        assert_eq!(
            strict_compare("x is defined and x.y != 1"),
            "x is defined and (x.y)|__strict != (1)|__strict"
        );
        assert_eq!(
            strict_compare("'a' not in l or not b"),
            "('a')|__strict not in (l)|__strict or not b"
        );
        assert_eq!(strict_compare("x is not none"), "x is not none");
        assert_eq!(
            strict_compare("f(a > 1, k=v) | default(0)"),
            "f((a)|__strict > (1)|__strict, k=v) | default(0)"
        );
        assert_eq!(strict_compare("l | length"), "l | length");
        assert_eq!(strict_compare("'a' is in(l)"), "'a' is in(l)");
        assert_eq!(strict_compare("'a' is not in(l)"), "'a' is not in(l)");
    }
}
