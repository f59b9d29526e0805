//! Python's string formatting in templates: `'%s:%d' % (a, b)` (printf-style) and
//! `'{}-{name}'.format(...)` (format-spec mini-language), with Python's `str()`/`repr()`
//! of values and its number formatting (`%e` exponents, `%g`, rounding).

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::pyrepr::{py_repr, py_str};

fn type_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// A parsed conversion: flags, width, precision and type.
#[derive(Debug, Default, Clone)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn as_int(v: &Value, conv: char) -> Result<i128, Error> {
    match v.kind() {
        ValueKind::Bool => Ok(i128::from(v.is_true())),
        ValueKind::Number if v.is_integer() => {
            i128::try_from(v.clone()).map_err(|e| type_error(e.to_string()))
        }
        ValueKind::Number if matches!(conv, 'd' | 'i' | 'u') => f64::try_from(v.clone())
            .map(|f| f.trunc() as i128)
            .map_err(|e| type_error(e.to_string())),
        _ => Err(type_error(format!(
            "%{conv} format: {} is required, not {}",
            if matches!(conv, 'd' | 'i' | 'u') {
                "a real number"
            } else {
                "an integer"
            },
            super::filters::python_type(v)
        ))),
    }
}

fn as_float(v: &Value) -> Result<f64, Error> {
    match v.kind() {
        ValueKind::Bool => Ok(if v.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(v.clone()).map_err(|e| type_error(e.to_string())),
        _ => Err(type_error(format!(
            "must be real number, not {}",
            super::filters::python_type(v)
        ))),
    }
}

/// Python's `%e` text: at least two exponent digits with a sign.
fn exp_form(x: f64, prec: usize, upper: bool, alt: bool) -> String {
    let s = format!("{x:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut mant = mant.to_string();
    if alt && prec == 0 {
        mant.push('.');
    }
    let e = if upper { 'E' } else { 'e' };
    format!(
        "{mant}{e}{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// Python's `%g`: fixed or exponent form by the exponent, trailing zeros removed unless `#`.
fn general_form(x: f64, prec: usize, upper: bool, alt: bool) -> String {
    let p = prec.max(1);
    if x == 0.0 {
        return if alt {
            format!("{:.*}", p - 1, 0.0)
        } else {
            "0".into()
        };
    }
    let sci = format!("{:.*e}", p - 1, x);
    let exp: i32 = sci
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let strip = |s: String| {
        if alt || !s.contains('.') {
            s
        } else {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    };
    if exp >= -4 && exp < p as i32 {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip(format!("{x:.decimals$}"))
    } else {
        let s = exp_form(x, p - 1, upper, alt);
        let (m, e) = s.split_at(s.find(['e', 'E']).unwrap_or(s.len()));
        format!("{}{e}", strip(m.to_string()))
    }
}

fn special_float(x: f64, upper: bool) -> Option<String> {
    let s = if x.is_nan() {
        "nan"
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }
    } else {
        return None;
    };
    Some(if upper { s.to_uppercase() } else { s.into() })
}

fn group(digits: &str, sep: char, every: usize) -> String {
    let mut out = String::new();
    let n = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i) % every == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Formats a number's magnitude for `ty`; the sign is handled by the caller.
fn number_body(v: &Value, spec: &Spec, printf: bool) -> Result<(bool, String), Error> {
    let ty = spec.ty.unwrap_or('d');
    let is_float_value = v.kind() == ValueKind::Number && !v.is_integer();
    match ty {
        'd' | 'i' | 'u' | 'n' | 'x' | 'X' | 'o' | 'b' | 'c' => {
            if is_float_value && !printf {
                return Err(type_error(format!(
                    "Unknown format code '{ty}' for object of type 'float'"
                )));
            }
            let n = as_int(v, ty)?;
            let neg = n < 0;
            let m = n.unsigned_abs();
            let body = match ty {
                'x' => format!("{}{m:x}", if spec.alt { "0x" } else { "" }),
                'X' => format!("{}{m:X}", if spec.alt { "0X" } else { "" }),
                'o' => format!("{}{m:o}", if spec.alt { "0o" } else { "" }),
                'b' => format!("{}{m:b}", if spec.alt { "0b" } else { "" }),
                'c' => char::from_u32(m as u32)
                    .map(String::from)
                    .unwrap_or_default(),
                _ => match spec.grouping {
                    Some(sep) => group(&m.to_string(), sep, 3),
                    None => m.to_string(),
                },
            };
            let body = match (printf, spec.precision) {
                // `%.3d` pads with zeros to the precision.
                (true, Some(p)) if body.len() < p => {
                    format!("{}{body}", "0".repeat(p - body.len()))
                }
                _ => body,
            };
            Ok((neg, body))
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' => {
            let mut x = as_float(v)?;
            if ty == '%' {
                x *= 100.0;
            }
            let upper = ty.is_ascii_uppercase();
            let neg = x.is_sign_negative() && !x.is_nan();
            let m = x.abs();
            if let Some(s) = special_float(m, upper) {
                return Ok((neg, s));
            }
            let p = spec.precision.unwrap_or(6);
            let mut body = match ty {
                'e' | 'E' => exp_form(m, p, upper, spec.alt),
                'g' | 'G' => general_form(m, p, upper, spec.alt),
                _ => {
                    let mut s = format!("{m:.p$}");
                    if spec.alt && p == 0 {
                        s.push('.');
                    }
                    s
                }
            };
            if let Some(sep) = spec.grouping.filter(|_| matches!(ty, 'f' | 'F' | '%')) {
                let (int, frac) = body.split_at(body.find('.').unwrap_or(body.len()));
                body = format!("{}{frac}", group(int, sep, 3));
            }
            if ty == '%' {
                body.push('%');
            }
            Ok((neg, body))
        }
        other => Err(type_error(format!(
            "unsupported format character '{other}'"
        ))),
    }
}

/// Pads `sign + body` to the width as the spec says (`=` puts the padding after the sign).
fn pad(sign: &str, body: &str, spec: &Spec, default_align: char) -> String {
    let len = sign.chars().count() + body.chars().count();
    if spec.width <= len {
        return format!("{sign}{body}");
    }
    let n = spec.width - len;
    let (fill, align) = if spec.zero && spec.align.is_none() {
        ('0', '=')
    } else {
        (
            spec.fill.unwrap_or(' '),
            spec.align.unwrap_or(default_align),
        )
    };
    let f = |k: usize| fill.to_string().repeat(k);
    match align {
        '<' => format!("{sign}{body}{}", f(n)),
        '^' => format!("{}{sign}{body}{}", f(n / 2), f(n - n / 2)),
        '=' => format!("{sign}{}{body}", f(n)),
        _ => format!("{}{sign}{body}", f(n)),
    }
}

fn format_number(v: &Value, spec: &Spec, printf: bool) -> Result<String, Error> {
    let (neg, body) = number_body(v, spec, printf)?;
    let sign = if neg {
        "-"
    } else {
        match spec.sign {
            Some('+') => "+",
            Some(' ') => " ",
            _ => "",
        }
    };
    Ok(pad(sign, &body, spec, '>'))
}

// ---- printf-style (`%`) ----

/// `fmt % args`: `args` is the tuple's items, or one value (a dict gives `%(name)s`).
pub fn percent_format(fmt: &str, args: &[Value]) -> Result<String, Error> {
    let mapping = match args {
        [one] if one.kind() == ValueKind::Map => Some(one.clone()),
        _ => None,
    };
    let mut next = 0usize;
    let mut take = |what: &str| -> Result<Value, Error> {
        let v = args
            .get(next)
            .cloned()
            .ok_or_else(|| type_error(format!("not enough arguments for format string{what}")))?;
        next += 1;
        Ok(v)
    };
    let mut out = String::with_capacity(fmt.len() + 16);
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut used_mapping = false;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut key = None;
        if chars.get(i) == Some(&'(') {
            let end = chars[i..]
                .iter()
                .position(|&c| c == ')')
                .ok_or_else(|| type_error("incomplete format key"))?;
            key = Some(chars[i + 1..i + end].iter().collect::<String>());
            i += end + 1;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => spec.align = Some('<'),
                '+' => spec.sign = Some('+'),
                ' ' => {
                    if spec.sign.is_none() {
                        spec.sign = Some(' ')
                    }
                }
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        let read_num = |i: &mut usize,
                        take: &mut dyn FnMut(&str) -> Result<Value, Error>|
         -> Result<Option<usize>, Error> {
            if chars.get(*i) == Some(&'*') {
                *i += 1;
                let v = take("")?;
                return Ok(Some(
                    usize::try_from(v).map_err(|_| type_error("* wants int"))?,
                ));
            }
            let start = *i;
            while chars.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            if *i == start {
                return Ok(None);
            }
            Ok(chars[start..*i].iter().collect::<String>().parse().ok())
        };
        spec.width = read_num(&mut i, &mut take)?.unwrap_or(0);
        if chars.get(i) == Some(&'.') {
            i += 1;
            spec.precision = Some(read_num(&mut i, &mut take)?.unwrap_or(0));
        }
        // Length modifiers are accepted and ignored, as in Python.
        while chars.get(i).is_some_and(|c| matches!(c, 'h' | 'l' | 'L')) {
            i += 1;
        }
        let Some(&ty) = chars.get(i) else {
            return Err(type_error("incomplete format"));
        };
        i += 1;
        if ty == '%' {
            out.push('%');
            continue;
        }
        let value = match &key {
            Some(k) => {
                let m = mapping
                    .as_ref()
                    .ok_or_else(|| type_error("format requires a mapping"))?;
                used_mapping = true;
                m.get_item(&Value::from(k.as_str()))
                    .ok()
                    .filter(|v| !v.is_undefined())
                    .ok_or_else(|| {
                        type_error(format!("KeyError: {}", py_repr(&Value::from(k.as_str()))))
                    })?
            }
            None => take("")?,
        };
        let text = match ty {
            's' | 'r' | 'a' => {
                let mut s = if ty == 's' {
                    py_str(&value)
                } else {
                    py_repr(&value)
                };
                if let Some(p) = spec.precision {
                    s = s.chars().take(p).collect();
                }
                spec.zero = false;
                pad("", &s, &spec, '>')
            }
            'c' => {
                let ch = match value.as_str() {
                    Some(s) if s.chars().count() == 1 => s.to_string(),
                    _ => char::from_u32(as_int(&value, 'c')? as u32)
                        .map(String::from)
                        .ok_or_else(|| type_error("%c arg not in range(0x110000)"))?,
                };
                spec.zero = false;
                pad("", &ch, &spec, '>')
            }
            _ => {
                spec.ty = Some(ty);
                if spec.align == Some('<') {
                    spec.zero = false;
                }
                format_number(&value, &spec, true)?
            }
        };
        out.push_str(&text);
    }
    if mapping.is_none() && next < args.len() {
        return Err(type_error(
            "not all arguments converted during string formatting",
        ));
    }
    let _ = used_mapping;
    Ok(out)
}

// ---- str.format ----

fn parse_format_spec(s: &str) -> Result<Spec, Error> {
    let chars: Vec<char> = s.chars().collect();
    let mut spec = Spec::default();
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        spec.fill = Some(chars[0]);
        spec.align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|&c| is_align(c)) {
        spec.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c) = chars.get(i).filter(|c| matches!(c, '+' | '-' | ' ')) {
        spec.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        spec.alt = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        spec.zero = true;
        i += 1;
    }
    let start = i;
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    spec.width = chars[start..i]
        .iter()
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    if let Some(&c) = chars.get(i).filter(|c| matches!(c, ',' | '_')) {
        spec.grouping = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        let start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        spec.precision = Some(
            chars[start..i]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| type_error("Format specifier missing precision"))?,
        );
    }
    if let Some(&c) = chars.get(i) {
        spec.ty = Some(c);
        i += 1;
    }
    if i != chars.len() {
        return Err(type_error("Invalid format specifier"));
    }
    Ok(spec)
}

/// `format(value, spec)` as Python's built-in types implement `__format__`.
fn format_with_spec(value: &Value, spec_text: &str) -> Result<String, Error> {
    let spec = parse_format_spec(spec_text)?;
    match value.kind() {
        ValueKind::Number | ValueKind::Bool if spec.ty != Some('s') => {
            let mut spec = spec;
            if spec.ty.is_none() {
                if value.kind() == ValueKind::Bool && spec_text.is_empty() {
                    return Ok(py_str(value));
                }
                if value.is_integer() || value.kind() == ValueKind::Bool {
                    spec.ty = Some('d');
                } else if spec.precision.is_none() {
                    let (neg, body) = {
                        let x = as_float(value)?;
                        (x.is_sign_negative(), py_str(&Value::from(x.abs())))
                    };
                    let sign = if neg {
                        "-"
                    } else {
                        match spec.sign {
                            Some('+') => "+",
                            Some(' ') => " ",
                            _ => "",
                        }
                    };
                    return Ok(pad(sign, &body, &spec, '>'));
                } else {
                    spec.ty = Some('g');
                }
            }
            format_number(value, &spec, false)
        }
        _ => {
            if spec.ty.is_some_and(|t| t != 's') {
                return Err(type_error(format!(
                    "Unknown format code '{}' for object of type '{}'",
                    spec.ty.unwrap_or('s'),
                    super::filters::python_type(value)
                )));
            }
            if spec.sign.is_some() {
                return Err(type_error("Sign not allowed in string format specifier"));
            }
            let mut s = py_str(value);
            if let Some(p) = spec.precision {
                s = s.chars().take(p).collect();
            }
            let mut spec = spec;
            if spec.zero && spec.align.is_none() {
                spec.zero = false;
                spec.fill = Some('0');
                spec.align = Some('<');
            }
            Ok(pad("", &s, &spec, '<'))
        }
    }
}

/// `fmt.format(*args, **kwargs)`.
pub fn str_format(fmt: &str, args: &[Value], kwargs: &[(String, Value)]) -> Result<String, Error> {
    let mut out = String::with_capacity(fmt.len() + 16);
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut auto = 0usize;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '{' if chars.get(i) == Some(&'{') => {
                out.push('{');
                i += 1;
            }
            '}' if chars.get(i) == Some(&'}') => {
                out.push('}');
                i += 1;
            }
            '}' => return Err(type_error("Single '}' encountered in format string")),
            '{' => {
                // The field runs to the matching `}` (a spec may nest one level of `{}`).
                let mut depth = 1;
                let start = i;
                while i < chars.len() && depth > 0 {
                    match chars[i] {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                if depth != 0 {
                    return Err(type_error("expected '}' before end of string"));
                }
                let field: String = chars[start..i - 1].iter().collect();
                let (name_conv, spec) = match field.find(':') {
                    Some(k) => (&field[..k], &field[k + 1..]),
                    None => (field.as_str(), ""),
                };
                let (name, conv) = match name_conv.find('!') {
                    Some(k) => (&name_conv[..k], Some(&name_conv[k + 1..])),
                    None => (name_conv, None),
                };
                let first_end = name.find(['.', '[']).unwrap_or(name.len());
                let (head, mut path) = name.split_at(first_end);
                let mut value = if head.is_empty() {
                    let v = args.get(auto).cloned().ok_or_else(|| {
                        type_error(format!(
                            "Replacement index {auto} out of range for positional args tuple"
                        ))
                    })?;
                    auto += 1;
                    v
                } else if let Ok(n) = head.parse::<usize>() {
                    args.get(n).cloned().ok_or_else(|| {
                        type_error(format!(
                            "Replacement index {n} out of range for positional args tuple"
                        ))
                    })?
                } else {
                    kwargs
                        .iter()
                        .find(|(k, _)| k == head)
                        .map(|(_, v)| v.clone())
                        .ok_or_else(|| type_error(format!("KeyError: '{head}'")))?
                };
                while !path.is_empty() {
                    if let Some(rest) = path.strip_prefix('.') {
                        let end = rest.find(['.', '[']).unwrap_or(rest.len());
                        value = value.get_attr(&rest[..end])?;
                        path = &rest[end..];
                    } else if let Some(rest) = path.strip_prefix('[') {
                        let end = rest
                            .find(']')
                            .ok_or_else(|| type_error("Missing ']' in format string"))?;
                        let key = &rest[..end];
                        value = match key.parse::<i64>() {
                            Ok(n) => value.get_item(&Value::from(n))?,
                            Err(_) => value.get_item(&Value::from(key))?,
                        };
                        path = &rest[end + 1..];
                    } else {
                        return Err(type_error(
                            "Only '.' or '[' may follow ']' in format field specifier",
                        ));
                    }
                    if value.is_undefined() {
                        return Err(type_error(format!("no such field in {name}")));
                    }
                }
                let value = match conv {
                    None => value,
                    Some("s") => Value::from(py_str(&value)),
                    Some("r") | Some("a") => Value::from(py_repr(&value)),
                    Some(other) => {
                        return Err(type_error(format!("Unknown conversion specifier {other}")));
                    }
                };
                let spec = if spec.contains('{') {
                    str_format(spec, args, kwargs)?
                } else {
                    spec.to_string()
                };
                out.push_str(&format_with_spec(&value, &spec)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(fmt: &str, args: Vec<Value>) -> String {
        percent_format(fmt, &args).expect("format")
    }

    // Expected values from Python 3.11.
    #[test]
    fn printf_like_python() {
        assert_eq!(pf("%s:%d", vec![Value::from("h"), Value::from(80)]), "h:80");
        assert_eq!(pf("%-10s|", vec![Value::from("ab")]), "ab        |");
        assert_eq!(pf("%05.2f", vec![Value::from(3.14259)]), "03.14");
        assert_eq!(pf("%e", vec![Value::from(12345.678)]), "1.234568e+04");
        assert_eq!(
            pf(
                "%g|%g|%g",
                vec![Value::from(0.0001), Value::from(1e20), Value::from(2.5)]
            ),
            "0.0001|1e+20|2.5"
        );
        assert_eq!(
            pf(
                "%+d|%x|%#o",
                vec![Value::from(4), Value::from(255), Value::from(8)]
            ),
            "+4|ff|0o10"
        );
        assert!(percent_format("%s %s", &[Value::from(1)]).is_err());
    }

    #[test]
    fn str_format_like_python() {
        let a = [Value::from("a"), Value::from(1)];
        assert_eq!(str_format("{}-{}", &a, &[]).expect("f"), "a-1");
        assert_eq!(
            str_format(
                "{:>5}|{:^5}|{:05.2f}",
                &[Value::from("a"), Value::from("c"), Value::from(3.14259)],
                &[]
            )
            .expect("f"),
            "    a|  c  |03.14"
        );
        assert_eq!(
            str_format("{!r}", &[Value::from("q")], &[]).expect("f"),
            "'q'"
        );
        assert_eq!(
            str_format("{:,}", &[Value::from(1234567)], &[]).expect("f"),
            "1,234,567"
        );
    }
}
