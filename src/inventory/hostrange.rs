//! Host patterns in inventory files: an optional `:port` (Ansible's `parse_address`) and the
//! `[01:10]`, `[a:f]`, `[0:10:2]` ranges (Ansible's `expand_hostname_range`).
//!
//! Ansible only takes the port off when the rest is a valid host name or IP address; otherwise
//! the whole text, colon and all, is expanded as the host name. Both quirks are kept so that
//! the same inventory yields the same hosts.

use std::net::Ipv6Addr;

/// Hosts from one pattern: the names, and the port if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub hosts: Vec<String>,
    pub port: Option<u64>,
}

/// More hosts than this from one pattern is surely a typo (Ansible would try to build them all).
const MAX_HOSTS: usize = 1_000_000;

/// Splits off the port and expands ranges.
pub fn expand(pattern: &str) -> Result<Expanded, String> {
    let (name, port) = match parse_address(pattern) {
        Some((host, port)) => (host, port),
        None => (pattern.to_string(), None),
    };
    let hosts = if name.contains('[') {
        expand_ranges(&name)?
    } else {
        vec![name]
    };
    Ok(Expanded { hosts, port })
}

/// `host`, `host:22`, `[host]:22`, `[::1]:22`: the address and port, or `None` if what is
/// left after taking the port off is not a valid address.
fn parse_address(address: &str) -> Option<(String, Option<u64>)> {
    let mut address = address.to_string();
    let mut port = None;
    if let Some((host, p)) = bracketed_hostport(&address) {
        address = host;
        port = Some(p);
    }
    if let Some((host, p)) = hostport(&address) {
        address = host;
        port = Some(p);
    }
    (is_hostname(&address) || is_ipv6(&address)).then(|| (address, port.filter(|&p| p != 0)))
}

fn parse_port(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Absurd ports saturate; Python would keep the big integer.
    Some(digits.parse().unwrap_or(u64::MAX))
}

/// `^\[(.+)\]:([0-9]+)$`
fn bracketed_hostport(s: &str) -> Option<(String, u64)> {
    let rest = s.strip_prefix('[')?;
    let (inner, port) = rest.rsplit_once("]:")?;
    if inner.is_empty() {
        return None;
    }
    Some((inner.to_string(), parse_port(port)?))
}

/// `^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`: a port after a colon that is outside brackets.
fn hostport(s: &str) -> Option<(String, u64)> {
    let mut in_bracket = false;
    for (i, c) in s.char_indices() {
        match c {
            '[' if !in_bracket => in_bracket = true,
            ']' if in_bracket => in_bracket = false,
            ']' => return None,
            ':' if !in_bracket => return Some((s[..i].to_string(), parse_port(&s[i + 1..])?)),
            _ => {}
        }
    }
    None
}

/// Python's `\w` under `re.UNICODE`.
fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Dot-separated labels of word characters, `-` and ranges; a label starts with a word
/// character or a range and does not end with `-` or `_`. (IPv4 addresses pass too.)
fn is_hostname(s: &str) -> bool {
    s.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let chars: Vec<char> = label.chars().collect();
    if chars.is_empty() {
        return false;
    }
    let mut i = 0;
    let mut last = ' ';
    while i < chars.len() {
        let c = chars[i];
        if c == '[' {
            match alnum_range_len(&chars[i..]) {
                Some(n) => {
                    i += n;
                    last = ']';
                    continue;
                }
                None => return false,
            }
        }
        if !(is_word(c) || (c == '-' && i > 0)) {
            return false;
        }
        last = c;
        i += 1;
    }
    last != '-' && last != '_'
}

/// Length of `[a:z]`, `[0:9]` or either with `:step`, at the start of `chars`.
fn alnum_range_len(chars: &[char]) -> Option<usize> {
    let end = chars.iter().position(|&c| c == ']')?;
    let inner: String = chars[1..end].iter().collect();
    let parts: Vec<&str> = inner.split(':').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let letter = |s: &str| s.len() == 1 && s.bytes().all(|b| b.is_ascii_alphabetic());
    let bounds_ok = parts.len() >= 2
        && ((digits(parts[0]) && digits(parts[1])) || (letter(parts[0]) && letter(parts[1])));
    let step_ok = match parts.len() {
        2 => true,
        3 => digits(parts[2]),
        _ => false,
    };
    (bounds_ok && step_ok).then_some(end + 1)
}

/// IPv6, where any group may be a hexadecimal range like `[0:ff]`.
fn is_ipv6(s: &str) -> bool {
    let mut plain = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        plain.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(']') else {
            return false;
        };
        let inner = &rest[open + 1..open + close];
        let parts: Vec<&str> = inner.split(':').collect();
        let hex = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit());
        let ok = (parts.len() == 2
            || (parts.len() == 3 && parts[2].bytes().all(|b| b.is_ascii_digit())))
            && hex(parts[0])
            && hex(parts[1]);
        // A range stands for a whole group, so it must sit between colons.
        let before_ok = plain.is_empty() || plain.ends_with(':');
        let after = &rest[open + close + 1..];
        if !ok || !before_ok || !(after.is_empty() || after.starts_with(':')) {
            return false;
        }
        plain.push('0');
        rest = after;
    }
    plain.push_str(rest);
    plain.contains(':') && plain.parse::<Ipv6Addr>().is_ok()
}

/// Expands the first `[...]` in `line`, then recurses on each result that still has one.
fn expand_ranges(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    expand_into(line, &mut out)?;
    Ok(out)
}

fn expand_into(line: &str, out: &mut Vec<String>) -> Result<(), String> {
    // Ansible replaces the first `[` and the first `]` with `|` and splits on `|`.
    let replaced = line.replacen('[', "|", 1).replacen(']', "|", 1);
    let parts: Vec<&str> = replaced.split('|').collect();
    let [head, range, tail] = parts[..] else {
        return Err(format!(
            "unclosed or malformed range in host pattern {line:?}"
        ));
    };
    let bounds: Vec<&str> = range.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err("host range must be begin:end or begin:end:step".into());
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    let step = bounds.get(2).copied().unwrap_or("1");
    if end.is_empty() {
        return Err("host range must specify end value".into());
    }
    let width = (beg.starts_with('0') && beg.len() > 1).then_some(beg.chars().count());
    if let Some(w) = width {
        if w != end.chars().count() {
            return Err("host range must specify equal-length begin and end formats".into());
        }
    }
    let step = py_int(step).ok_or_else(|| format!("invalid step {step:?} in host range"))?;
    if step == 0 {
        return Err("host range step must not be zero".into());
    }
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let seq: Vec<String> = match (LETTERS.find(beg), LETTERS.find(end)) {
        (Some(b), Some(e)) => {
            if b > e {
                return Err("host range must have begin <= end".into());
            }
            if step < 0 {
                Vec::new()
            } else {
                LETTERS[b..=e]
                    .chars()
                    .step_by(step as usize)
                    .map(String::from)
                    .collect()
            }
        }
        _ => {
            let b = py_int(beg)
                .ok_or_else(|| format!("invalid range start {beg:?} in host pattern"))?;
            let e =
                py_int(end).ok_or_else(|| format!("invalid range end {end:?} in host pattern"))?;
            let (b, e, step) = (i128::from(b), i128::from(e), i128::from(step));
            let count = if step > 0 {
                ceil_div((e + 1 - b).max(0), step)
            } else {
                ceil_div((b - (e + 1)).max(0), -step)
            };
            if count > MAX_HOSTS as i128 || out.len() as i128 + count > MAX_HOSTS as i128 {
                return Err(format!(
                    "host range in {line:?} gives more than {MAX_HOSTS} hosts"
                ));
            }
            (0..count)
                .map(|k| zfill(&(b + k * step).to_string(), width))
                .collect()
        }
    };
    for item in seq {
        let name = format!("{head}{item}{tail}");
        if name.contains('[') {
            expand_into(&name, out)?;
        } else {
            out.push(name);
        }
        if out.len() > MAX_HOSTS {
            return Err(format!(
                "host range in {line:?} gives more than {MAX_HOSTS} hosts"
            ));
        }
    }
    Ok(())
}

fn ceil_div(n: i128, d: i128) -> i128 {
    (n + d - 1) / d
}

/// Python's `int(str)` for the plain cases: surrounding blanks, a sign, `_` between digits.
fn py_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if !clean.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = clean.parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `str.zfill`.
fn zfill(s: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return s.to_string();
    };
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s),
    };
    format!("{sign}{}{digits}", "0".repeat(width - len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(p: &str) -> Vec<String> {
        expand(p).expect("expands").hosts
    }

    #[test]
    fn numeric_ranges() {
        assert_eq!(hosts("web[1:3]"), ["web1", "web2", "web3"]);
        assert_eq!(hosts("web[01:03].x"), ["web01.x", "web02.x", "web03.x"]);
        assert_eq!(hosts("w[0:6:2]"), ["w0", "w2", "w4", "w6"]);
        assert_eq!(hosts("w[:2]"), ["w0", "w1", "w2"]);
        assert_eq!(hosts("w[3:1]"), Vec::<String>::new());
    }

    #[test]
    fn alpha_and_multiple_ranges() {
        assert_eq!(hosts("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(hosts("[a:b][1:2]"), ["a1", "a2", "b1", "b2"]);
        assert_eq!(hosts("x[A:C:2]"), ["xA", "xC"]);
    }

    #[test]
    fn ports() {
        assert_eq!(expand("h:2222").expect("ok").port, Some(2222));
        assert_eq!(expand("[h]:22").expect("ok").port, Some(22));
        assert_eq!(
            expand("[::1]:22").expect("ok"),
            Expanded {
                hosts: vec!["::1".into()],
                port: Some(22)
            }
        );
        assert_eq!(
            expand("fe80::1").expect("ok"),
            Expanded {
                hosts: vec!["fe80::1".into()],
                port: None
            }
        );
        assert_eq!(expand("w[1:2]:22").expect("ok").hosts, ["w1", "w2"]);
        // Not a valid name once the port is off: Ansible keeps the colon in the name.
        assert_eq!(expand("w[:1]:22").expect("ok").hosts, ["w0:22", "w1:22"]);
        assert_eq!(expand("h:0").expect("ok").port, None);
    }

    #[test]
    fn range_errors() {
        assert!(expand("web[01:10").is_err());
        assert!(expand("web[1:]").is_err());
        assert!(expand("web[01:100]").is_err());
        assert!(expand("web[1:2:0]").is_err());
        assert!(expand("web[c:a]").is_err());
        assert!(expand("web[1:2:3:4]").is_err());
        assert!(expand("web[1:x]").is_err());
    }
}
