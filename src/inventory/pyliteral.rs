//! Python's `ast.literal_eval` as Ansible's INI plugin applies it to every variable value, then
//! its coercion of the result to plain data (tuples and sets become lists, bytes become text,
//! complex numbers and `...` become their `str()`).
//!
//! [`eval`] returns `Ok(None)` where Python raises `ValueError`/`SyntaxError`, because Ansible
//! then keeps the raw text; it returns `Err` only where Python raises anything else (an
//! unhashable dict key), because that aborts Ansible's parse too.

use serde_json::{Map, Number, Value};

/// A value the parser produced, before coercion to JSON.
#[derive(Debug, Clone, PartialEq)]
enum Py {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Bytes(Vec<u8>),
    Ellipsis,
    List(Vec<Py>),
    Tuple(Vec<Py>),
    Set(Vec<Py>),
    Dict(Vec<(Py, Py)>),
}

/// Evaluates `text` as a Python literal. `Ok(None)`: not a literal, keep the text.
pub fn eval(text: &str) -> Result<Option<Value>, String> {
    // literal_eval strips leading spaces and tabs before parsing.
    let text = text.trim_start_matches([' ', '\t']);
    let tokens = match lex(text) {
        Some(t) => t,
        None => return Ok(None),
    };
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let value = match p.expr_list() {
        Some(v) if p.pos == p.tokens.len() => v,
        _ => return Ok(None),
    };
    to_json(value).map(Some)
}

/// Evaluates `text`, falling back to the text itself exactly as Ansible does.
pub fn eval_or_string(text: &str) -> Result<Value, String> {
    Ok(eval(text)?.unwrap_or_else(|| Value::String(text.to_string())))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Py),
    Str {
        text: String,
        bytes: bool,
        fstring: bool,
    },
    Name(String),
    Op(char),
    Ellipsis,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits Python source into tokens; `None` on anything Python's tokenizer rejects or that can
/// never be part of a literal.
fn lex(src: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\x0c' => i += 1,
            '#' => break,
            '(' | ')' | '[' | ']' | '{' | '}' | ',' | ':' | '+' | '-' => {
                out.push(Tok::Op(c));
                i += 1;
            }
            '.' if chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                let (tok, next) = lex_number(&chars, i)?;
                out.push(tok);
                i = next;
            }
            '.' if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') => {
                out.push(Tok::Ellipsis);
                i += 3;
            }
            '0'..='9' => {
                let (tok, next) = lex_number(&chars, i)?;
                out.push(tok);
                i = next;
            }
            '\'' | '"' => {
                let (tok, next) = lex_string(&chars, i, "")?;
                out.push(tok);
                i = next;
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if matches!(chars.get(i), Some('\'' | '"')) && is_string_prefix(&word) {
                    let (tok, next) = lex_string(&chars, i, &word)?;
                    out.push(tok);
                    i = next;
                } else {
                    out.push(Tok::Name(word));
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

fn is_string_prefix(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf"
    )
}

/// Lexes a number starting at `start`, following Python 3.11's grammar for integer, float and
/// imaginary literals (underscores only between digits, no leading zeros in decimal integers).
fn lex_number(chars: &[char], start: usize) -> Option<(Tok, usize)> {
    let mut i = start;
    // Digits with single underscores between them; returns the digits without underscores.
    let digit_part = |i: &mut usize, radix: u32| -> Option<String> {
        let mut s = String::new();
        while *i < chars.len() {
            let c = chars[*i];
            if c.is_digit(radix) {
                s.push(c);
                *i += 1;
            } else if c == '_'
                && !s.is_empty()
                && chars.get(*i + 1).is_some_and(|n| n.is_digit(radix))
            {
                *i += 1;
            } else {
                break;
            }
        }
        (!s.is_empty()).then_some(s)
    };
    let radix = if chars[i] == '0' {
        match chars.get(i + 1).map(char::to_ascii_lowercase) {
            Some('x') => 16,
            Some('o') => 8,
            Some('b') => 2,
            _ => 10,
        }
    } else {
        10
    };
    let value = if radix != 10 {
        i += 2;
        if chars.get(i) == Some(&'_') {
            i += 1;
        }
        let digits = digit_part(&mut i, radix)?;
        Py::Int(i128::from_str_radix(&digits, radix).ok()?)
    } else {
        let int_part = if chars[i] == '.' {
            None
        } else {
            Some(digit_part(&mut i, 10)?)
        };
        let mut is_float = false;
        let mut text = int_part.clone().unwrap_or_default();
        if chars.get(i) == Some(&'.') {
            is_float = true;
            i += 1;
            text.push('.');
            if chars.get(i).is_some_and(char::is_ascii_digit) {
                text.push_str(&digit_part(&mut i, 10)?);
            } else if int_part.is_none() {
                return None;
            }
        }
        if matches!(chars.get(i), Some('e' | 'E')) {
            let mut j = i + 1;
            let mut exp = String::from("e");
            if let Some(&s @ ('+' | '-')) = chars.get(j) {
                exp.push(s);
                j += 1;
            }
            if chars.get(j).is_some_and(char::is_ascii_digit) {
                exp.push_str(&digit_part(&mut j, 10)?);
                text.push_str(&exp);
                is_float = true;
                i = j;
            } else {
                return None;
            }
        }
        if matches!(chars.get(i), Some('j' | 'J')) {
            i += 1;
            let im: f64 = text.parse().ok()?;
            Py::Complex(0.0, im)
        } else if is_float {
            Py::Float(text.parse().ok()?)
        } else {
            // "0777" is a syntax error; "000" is fine.
            if text.len() > 1 && text.starts_with('0') && text.chars().any(|c| c != '0') {
                return None;
            }
            match text.parse::<i128>() {
                Ok(n) => Py::Int(n),
                Err(_) => Py::Float(text.parse().ok()?),
            }
        }
    };
    // "1abc", "0x1g", "1.2.3": Python's tokenizer rejects a literal glued to a name or a dot.
    if chars.get(i).is_some_and(|&c| is_ident_char(c) || c == '.') {
        return None;
    }
    Some((Tok::Num(value), i))
}

/// Lexes a quoted string whose prefix letters (already consumed) are `prefix`.
fn lex_string(chars: &[char], start: usize, prefix: &str) -> Option<(Tok, usize)> {
    let lower = prefix.to_ascii_lowercase();
    let raw = lower.contains('r');
    let bytes = lower.contains('b');
    let fstring = lower.contains('f');
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    let mut body = String::new();
    loop {
        let c = *chars.get(i)?;
        if c == quote {
            if !triple {
                i += 1;
                break;
            }
            if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                i += 3;
                break;
            }
        }
        if c == '\\' {
            let n = *chars.get(i + 1)?;
            body.push(c);
            body.push(n);
            i += 2;
            continue;
        }
        if bytes && !c.is_ascii() {
            return None;
        }
        body.push(c);
        i += 1;
    }
    let text = if raw { body } else { unescape(&body, bytes)? };
    Some((
        Tok::Str {
            text,
            bytes,
            fstring,
        },
        i,
    ))
}

/// Applies Python's backslash escapes; unknown escapes keep their backslash.
fn unescape(body: &str, bytes: bool) -> Option<String> {
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let hex = |from: usize, n: usize| -> Option<u32> {
        let s: String = chars.get(from..from + n)?.iter().collect();
        if s.chars().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&s, 16).ok()
        } else {
            None
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let n = chars[i + 1];
        i += 2;
        match n {
            '\\' | '\'' | '"' => out.push(n),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = n.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.get(i).and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(if bytes { v & 0xff } else { v })?);
            }
            'x' => {
                out.push(char::from_u32(hex(i, 2)?)?);
                i += 2;
            }
            'u' | 'U' if !bytes => {
                let n_digits = if n == 'u' { 4 } else { 8 };
                let v = hex(i, n_digits)?;
                // A lone surrogate cannot live in a Rust string; U+FFFD stands in for it.
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                if v > 0x10ffff {
                    return None;
                }
                i += n_digits;
            }
            // \N{NAME} needs the Unicode name table; treat it as not a literal.
            'N' if !bytes => return None,
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Python gives up on deeply nested literals too (with a RecursionError); we stop earlier.
const MAX_DEPTH: usize = 200;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, op: char) -> bool {
        if self.peek() == Some(&Tok::Op(op)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `a, b, c` (a tuple when a comma appears) or a single expression.
    fn expr_list(&mut self) -> Option<Py> {
        let first = self.expr()?;
        if self.peek() != Some(&Tok::Op(',')) {
            return Some(first);
        }
        let mut items = vec![first];
        while self.eat(',') {
            if self.at_end_of_list() {
                break;
            }
            items.push(self.expr()?);
        }
        Some(Py::Tuple(items))
    }

    fn at_end_of_list(&self) -> bool {
        matches!(self.peek(), None | Some(Tok::Op(')' | ']' | '}')))
    }

    /// A literal, or `number (+|-) imaginary`, the only binary operation literal_eval accepts.
    fn expr(&mut self) -> Option<Py> {
        let (left, left_kind) = self.unary()?;
        let op = match self.peek() {
            Some(Tok::Op(c @ ('+' | '-'))) => *c,
            _ => return Some(left),
        };
        self.pos += 1;
        let (right, right_kind) = self.unary()?;
        // The right side must be a bare complex constant, the left a (signed) real number.
        if right_kind != Kind::Const || matches!(self.peek(), Some(Tok::Op('+' | '-'))) {
            return None;
        }
        let Py::Complex(_, im) = right else {
            return None;
        };
        let re = match (left, left_kind) {
            (Py::Int(n), Kind::Const | Kind::Signed) => n as f64,
            (Py::Float(f), Kind::Const | Kind::Signed) => f,
            _ => return None,
        };
        Some(if op == '+' {
            Py::Complex(re + 0.0, 0.0 + im)
        } else {
            Py::Complex(re - 0.0, 0.0 - im)
        })
    }

    /// An atom, or `+`/`-` applied to a numeric constant.
    fn unary(&mut self) -> Option<(Py, Kind)> {
        let sign = match self.peek() {
            Some(Tok::Op(c @ ('+' | '-'))) => *c,
            _ => return self.atom(),
        };
        self.pos += 1;
        let (value, kind) = self.atom()?;
        if kind != Kind::Const {
            return None;
        }
        let neg = sign == '-';
        let value = match value {
            Py::Int(n) => Py::Int(if neg { -n } else { n }),
            Py::Float(f) => Py::Float(if neg { -f } else { f }),
            Py::Complex(re, im) => {
                if neg {
                    Py::Complex(-re, -im)
                } else {
                    Py::Complex(re, im)
                }
            }
            _ => return None,
        };
        Some((value, Kind::Signed))
    }

    fn atom(&mut self) -> Option<(Py, Kind)> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let result = self.atom_inner();
        self.depth -= 1;
        result
    }

    fn atom_inner(&mut self) -> Option<(Py, Kind)> {
        let tok = self.peek()?.clone();
        self.pos += 1;
        let value = match tok {
            Tok::Num(n) => n,
            Tok::Ellipsis => Py::Ellipsis,
            Tok::Name(name) => match name.as_str() {
                "True" => Py::Bool(true),
                "False" => Py::Bool(false),
                "None" => Py::None,
                // `set()` is the one call literal_eval accepts.
                "set" if self.eat('(') => {
                    if !self.eat(')') {
                        return None;
                    }
                    return Some((Py::Set(Vec::new()), Kind::Other));
                }
                _ => return None,
            },
            Tok::Str {
                text,
                bytes,
                fstring,
            } => {
                // Adjacent strings concatenate; str and bytes may not mix.
                let mut text = text;
                let mut fstring = fstring;
                while let Some(Tok::Str {
                    text: more,
                    bytes: b2,
                    fstring: f2,
                }) = self.peek().cloned()
                {
                    if b2 != bytes {
                        return None;
                    }
                    text.push_str(&more);
                    fstring |= f2;
                    self.pos += 1;
                }
                if fstring {
                    return None;
                }
                if bytes {
                    Py::Bytes(text.chars().map(|c| c as u32 as u8).collect())
                } else {
                    Py::Str(text)
                }
            }
            Tok::Op('(') => {
                if self.eat(')') {
                    return Some((Py::Tuple(Vec::new()), Kind::Other));
                }
                let inner = self.expr_list()?;
                if !self.eat(')') {
                    return None;
                }
                // Parentheses around a single value are transparent, even for `-(1)`.
                let kind = if matches!(inner, Py::Tuple(_)) {
                    Kind::Other
                } else {
                    Kind::Const
                };
                return Some((inner, kind));
            }
            Tok::Op('[') => {
                let items = self.items(']')?;
                Py::List(items)
            }
            Tok::Op('{') => return self.brace().map(|v| (v, Kind::Other)),
            Tok::Op(_) => return None,
        };
        let kind = match value {
            Py::Int(_) | Py::Float(_) | Py::Complex(..) => Kind::Const,
            _ => Kind::Other,
        };
        Some((value, kind))
    }

    /// Comma-separated expressions up to `close`, trailing comma allowed.
    fn items(&mut self, close: char) -> Option<Vec<Py>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expr()?);
            if !self.eat(',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    /// `{}` (dict), `{k: v, ...}` (dict) or `{a, b}` (set).
    fn brace(&mut self) -> Option<Py> {
        if self.eat('}') {
            return Some(Py::Dict(Vec::new()));
        }
        let first = self.expr()?;
        if self.eat(':') {
            let mut pairs = vec![(first, self.expr()?)];
            loop {
                if !self.eat(',') {
                    return self.eat('}').then_some(Py::Dict(pairs));
                }
                if self.eat('}') {
                    return Some(Py::Dict(pairs));
                }
                let k = self.expr()?;
                if !self.eat(':') {
                    return None;
                }
                pairs.push((k, self.expr()?));
            }
        }
        let mut items = vec![first];
        if self.eat(',') {
            items.extend(self.items('}')?);
        } else if !self.eat('}') {
            return None;
        }
        Some(Py::Set(items))
    }
}

/// How an operand was written: literal_eval's sign and `+ j` rules depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A bare numeric constant.
    Const,
    /// `+`/`-` applied to a numeric constant.
    Signed,
    Other,
}

/// Python's equality for hashable keys: `1`, `1.0` and `True` are the same dict key.
fn py_key_eq(a: &Py, b: &Py) -> bool {
    let num = |p: &Py| match p {
        Py::Bool(b) => Some((f64::from(u8::from(*b)), 0.0)),
        Py::Int(n) => Some((*n as f64, 0.0)),
        Py::Float(f) => Some((*f, 0.0)),
        Py::Complex(re, im) => Some((*re, *im)),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn check_hashable(p: &Py) -> Result<(), String> {
    match p {
        Py::List(_) => Err("unhashable type: 'list'".into()),
        Py::Dict(_) => Err("unhashable type: 'dict'".into()),
        Py::Set(_) => Err("unhashable type: 'set'".into()),
        Py::Tuple(items) => items.iter().try_for_each(check_hashable),
        _ => Ok(()),
    }
}

/// Removes duplicates the way a Python set or dict would, keeping the first position.
fn dedupe<T>(items: Vec<T>, key: impl Fn(&T) -> &Py, merge: impl Fn(&mut T, T)) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        match out.iter().position(|o| py_key_eq(key(o), key(&item))) {
            Some(i) => merge(&mut out[i], item),
            None => out.push(item),
        }
    }
    out
}

/// Python's hash of an integer (`sys.hash_info.modulus` is 2**61 - 1; -1 is reserved).
fn int_hash(n: i128) -> i64 {
    const P: i128 = (1 << 61) - 1;
    let h = if n >= 0 { n % P } else { -((-n) % P) };
    if h == -1 { -2 } else { h as i64 }
}

/// The order CPython 3.11 iterates a set built from `items` one by one. Only integers (and
/// booleans) hash deterministically; any other set keeps source order, since Python's own
/// order for strings changes from run to run (hash randomisation).
fn set_order(items: Vec<Py>) -> Vec<Py> {
    let hashes: Option<Vec<i64>> = items
        .iter()
        .map(|p| match p {
            Py::Int(n) => Some(int_hash(*n)),
            Py::Bool(b) => Some(i64::from(*b)),
            _ => None,
        })
        .collect();
    let Some(hashes) = hashes else { return items };
    const LINEAR_PROBES: usize = 9;
    const PERTURB_SHIFT: u32 = 5;
    // Slots hold indexes into `items`; probing as in setobject.c's set_insert_clean (the
    // items are already unique, so no equality checks are needed).
    let place = |table: &mut Vec<Option<usize>>, idx: usize, hash: i64| {
        let mask = table.len() - 1;
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for j in 0..=probes {
                if table[i + j].is_none() {
                    table[i + j] = Some(idx);
                    return;
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    };
    let mut table: Vec<Option<usize>> = vec![None; 8];
    for (used, (idx, &hash)) in hashes.iter().enumerate().enumerate() {
        place(&mut table, idx, hash);
        let used = used + 1;
        let mask = table.len() - 1;
        if used * 5 >= mask * 3 {
            let min = if used > 50_000 { used * 2 } else { used * 4 };
            let mut size = 8;
            while size <= min {
                size <<= 1;
            }
            let old = std::mem::replace(&mut table, vec![None; size]);
            for slot in old.into_iter().flatten() {
                place(&mut table, slot, hashes[slot]);
            }
        }
    }
    let mut items: Vec<Option<Py>> = items.into_iter().map(Some).collect();
    table
        .into_iter()
        .flatten()
        .filter_map(|i| items[i].take())
        .collect()
}

fn to_json(p: Py) -> Result<Value, String> {
    Ok(match p {
        Py::None => Value::Null,
        Py::Bool(b) => Value::Bool(b),
        Py::Int(n) => int_to_json(n),
        Py::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Py::Complex(re, im) => Value::String(complex_str(re, im)),
        Py::Str(s) => Value::String(s),
        // Ansible decodes bytes into a string that is not trusted as a template.
        Py::Bytes(b) => super::unsafe_value(String::from_utf8_lossy(&b).into_owned()),
        Py::Ellipsis => Value::String("...".into()),
        Py::List(items) | Py::Tuple(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Py::Set(items) => {
            items.iter().try_for_each(check_hashable)?;
            let items = set_order(dedupe(items, |p| p, |_, _| {}));
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Py::Dict(pairs) => {
            pairs.iter().try_for_each(|(k, _)| check_hashable(k))?;
            let pairs = dedupe(pairs, |(k, _)| k, |old, new| old.1 = new.1);
            let mut map = Map::new();
            for (k, v) in pairs {
                map.insert(key_string(&k)?, to_json(v)?);
            }
            Value::Object(map)
        }
    })
}

fn int_to_json(n: i128) -> Value {
    if let Ok(i) = i64::try_from(n) {
        Value::from(i)
    } else if let Ok(u) = u64::try_from(n) {
        Value::from(u)
    } else {
        // Beyond 64 bits JSON numbers lose precision here (Python keeps it): documented.
        Number::from_f64(n as f64).map_or(Value::Null, Value::Number)
    }
}

/// A dict key as Python's `json.dumps` writes it.
fn key_string(k: &Py) -> Result<String, String> {
    Ok(match k {
        Py::Str(s) => s.clone(),
        Py::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Py::Ellipsis => "...".into(),
        Py::Complex(re, im) => complex_str(*re, *im),
        Py::None => "null".into(),
        Py::Bool(b) => b.to_string(),
        Py::Int(n) => n.to_string(),
        Py::Float(f) => float_repr(*f),
        _ => return Err("keys must be str, int, float, bool or None, not tuple".into()),
    })
}

pub(crate) use crate::python::float_repr;

/// Python's `str(complex)`: `2j`, `(1+2j)`, `(-0-1j)`.
fn complex_str(re: f64, im: f64) -> String {
    let part = |f: f64| {
        let s = float_repr(f);
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if re == 0.0 && re.is_sign_positive() {
        format!("{}j", part(im))
    } else {
        let im_s = part(im);
        let im_s = if im_s.starts_with('-') {
            im_s
        } else {
            format!("+{im_s}")
        };
        format!("({}{}j)", part(re), im_s)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ev(s: &str) -> Value {
        eval_or_string(s).expect("no fatal error")
    }

    #[test]
    fn integers() {
        assert_eq!(ev("100"), json!(100));
        assert_eq!(ev("-5"), json!(-5));
        assert_eq!(ev("+5"), json!(5));
        assert_eq!(ev("0x1f"), json!(31));
        assert_eq!(ev("0o17"), json!(15));
        assert_eq!(ev("0b101"), json!(5));
        assert_eq!(ev("1_000"), json!(1000));
        assert_eq!(ev("0x_ff"), json!(255));
        assert_eq!(ev("000"), json!(0));
        assert_eq!(ev("090"), json!("090"));
        assert_eq!(ev("1__0"), json!("1__0"));
        assert_eq!(ev("1_"), json!("1_"));
        assert_eq!(ev("_1"), json!("_1"));
        assert_eq!(ev("1abc"), json!("1abc"));
    }

    #[test]
    fn floats_and_complex() {
        assert_eq!(ev("1.5"), json!(1.5));
        assert_eq!(ev("1."), json!(1.0));
        assert_eq!(ev(".5"), json!(0.5));
        assert_eq!(ev("1e3"), json!(1000.0));
        assert_eq!(ev("090.5"), json!(90.5));
        assert_eq!(ev("1.2.3"), json!("1.2.3"));
        assert_eq!(ev("2j"), json!("2j"));
        assert_eq!(ev("1+2j"), json!("(1+2j)"));
        assert_eq!(ev("1.5-2j"), json!("(1.5-2j)"));
        assert_eq!(ev("-2j"), json!("(-0-2j)"));
        assert_eq!(ev("1+2"), json!("1+2"));
        assert_eq!(ev("1+2j+3j"), json!("1+2j+3j"));
    }

    #[test]
    fn constants_and_names() {
        assert_eq!(ev("True"), json!(true));
        assert_eq!(ev("False"), json!(false));
        assert_eq!(ev("None"), Value::Null);
        assert_eq!(ev("false"), json!("false"));
        assert_eq!(ev("yes"), json!("yes"));
        assert_eq!(ev("-True"), json!("-True"));
        assert_eq!(ev("..."), json!("..."));
        assert_eq!(ev("-(1)"), json!(-1));
        assert_eq!(ev("--1"), json!("--1"));
    }

    #[test]
    fn strings() {
        assert_eq!(ev("'a'"), json!("a"));
        assert_eq!(ev(r#""a\tb""#), json!("a\tb"));
        assert_eq!(ev(r"'\d'"), json!("\\d"));
        assert_eq!(ev(r"r'\n'"), json!("\\n"));
        assert_eq!(ev(r"'\x41\101\u00e9'"), json!("AAé"));
        assert_eq!(ev("'a' 'b'"), json!("ab"));
        assert_eq!(ev("'a' b'x'"), json!("'a' b'x'"));
        assert_eq!(ev("f'x'"), json!("f'x'"));
        assert_eq!(ev("'''tri'''"), json!("tri"));
        assert_eq!(ev("'open"), json!("'open"));
        assert_eq!(ev("'a' # comment"), json!("a"));
        assert_eq!(ev("  7"), json!(7));
    }

    #[test]
    fn containers() {
        assert_eq!(ev("[1, 'a', [True]]"), json!([1, "a", [true]]));
        assert_eq!(ev("(1, 2)"), json!([1, 2]));
        assert_eq!(ev("1, 2"), json!([1, 2]));
        assert_eq!(ev("1,"), json!([1]));
        assert_eq!(ev("()"), json!([]));
        assert_eq!(ev("(1)"), json!(1));
        assert_eq!(ev("{'a': 1, 'b': [2]}"), json!({"a": 1, "b": [2]}));
        assert_eq!(ev("{1: 'x', True: 'y'}"), json!({"1": "y"}));
        assert_eq!(ev("{1, 2, 1}"), json!([1, 2]));
        assert_eq!(ev("{3, 1, 2}"), json!([1, 2, 3]));
        assert_eq!(ev("{100, 9, 8}"), json!([8, 9, 100]));
        // Orders printed by Python 3.11's ast.literal_eval.
        assert_eq!(
            ev("{-1, 5, 17, 33, 1000, 7}"),
            json!([33, 5, 7, 1000, 17, -1])
        );
        assert_eq!(ev("{True, 0, 2, 1}"), json!([0, true, 2]));
        assert_eq!(ev("{64, 0, 8, 16, 1, 9}"), json!([64, 0, 1, 8, 9, 16]));
        assert_eq!(ev("{'b', 'a'}"), json!(["b", "a"]));
        assert_eq!(ev("b'x'"), json!({"__ansible_unsafe": "x"}));
        assert_eq!(ev("set()"), json!([]));
        assert_eq!(ev("[1, 2"), json!("[1, 2"));
        assert_eq!(ev("{'a' 1}"), json!("{'a' 1}"));
        assert!(eval("{[1]: 2}").is_err());
    }

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1.5e-5), "1.5e-05");
        assert_eq!(float_repr(0.0001), "0.0001");
    }
}
