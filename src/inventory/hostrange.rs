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

/// More hosts than this from one pattern, or in one inventory, is surely a typo (Ansible would
/// try to build them all): `h[1:3][1:3]...` twenty times is 3.5 billion names.
pub const MAX_HOSTS: usize = 1_000_000;

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

/// Expands every range of `line`. Ansible expands the first `[...]` and recurses on each
/// result; since the text before a range holds no bracket, that is the product of the ranges
/// from left to right, so they are all read and checked, and the hosts counted (checked
/// arithmetic), before a single name is built. An empty range (`[3:1]`) gives no hosts, as in
/// Ansible, which then never looks at the ranges after it; found before anything is built, it
/// costs nothing (Ansible would first walk every prefix of the ranges before it).
fn expand_ranges(line: &str) -> Result<Vec<String>, String> {
    let Some(Plan {
        ranges,
        last,
        total,
    }) = plan(line)?
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(total);
    let mut index = vec![0usize; ranges.len()];
    loop {
        let mut name = String::new();
        for ((head, range), &k) in ranges.iter().zip(&index) {
            name.push_str(head);
            name.push_str(&range.item(k));
        }
        name.push_str(&last);
        out.push(name);
        // The last range turns fastest, as in Ansible's recursion.
        let mut pos = ranges.len();
        loop {
            if pos == 0 {
                return Ok(out);
            }
            pos -= 1;
            index[pos] += 1;
            if index[pos] < ranges[pos].1.len() {
                break;
            }
            index[pos] = 0;
        }
    }
}

/// A pattern read and checked: its ranges (each with the text before it), the text after the
/// last one, and how many hosts they make.
#[derive(Debug)]
struct Plan {
    ranges: Vec<(String, Range)>,
    last: String,
    total: usize,
}

/// Reads every range of `line`; `None` when one is empty (no hosts).
fn plan(line: &str) -> Result<Option<Plan>, String> {
    let mut ranges: Vec<(String, Range)> = Vec::new();
    let mut rest = line.to_string();
    let last = loop {
        let (head, range, tail) = split_range(&rest)?;
        if range.len() == 0 {
            return Ok(None);
        }
        ranges.push((head, range));
        if !tail.contains('[') {
            break tail;
        }
        rest = tail;
    };
    let total = ranges
        .iter()
        .try_fold(1usize, |n, (_, r)| {
            n.checked_mul(r.len()).filter(|&n| n <= MAX_HOSTS)
        })
        .ok_or_else(|| {
            format!(
                "host pattern {line:?} gives more than {MAX_HOSTS} hosts (the limit of one pattern)"
            )
        })?;
    Ok(Some(Plan {
        ranges,
        last,
        total,
    }))
}

/// How many hosts [`expand`] would give for `pattern`, without building them (the same
/// checks and errors).
pub fn count(pattern: &str) -> Result<usize, String> {
    let name = match parse_address(pattern) {
        Some((host, _)) => host,
        None => pattern.to_string(),
    };
    if !name.contains('[') {
        return Ok(1);
    }
    Ok(plan(&name)?.map_or(0, |p| p.total))
}

/// The items of one `[begin:end:step]`, not built until asked for.
#[derive(Debug, Clone)]
enum Range {
    Letters(Vec<char>),
    Numbers {
        begin: i128,
        step: i128,
        count: usize,
        width: Option<usize>,
    },
}

impl Range {
    fn len(&self) -> usize {
        match self {
            Range::Letters(l) => l.len(),
            Range::Numbers { count, .. } => *count,
        }
    }

    fn item(&self, k: usize) -> String {
        match self {
            Range::Letters(l) => l.get(k).map(char::to_string).unwrap_or_default(),
            Range::Numbers {
                begin, step, width, ..
            } => zfill(&(begin + k as i128 * step).to_string(), *width),
        }
    }
}

/// Ansible's first step: the text before the first range, the range, and the rest.
fn split_range(line: &str) -> Result<(String, Range, String), String> {
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
    let parsed = match (LETTERS.find(beg), LETTERS.find(end)) {
        (Some(b), Some(e)) => {
            if b > e {
                return Err("host range must have begin <= end".into());
            }
            let letters = match usize::try_from(step) {
                Ok(step) => LETTERS[b..=e].chars().step_by(step).collect(),
                Err(_) => Vec::new(),
            };
            Range::Letters(letters)
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
            let count = usize::try_from(count)
                .ok()
                .filter(|&c| c <= MAX_HOSTS)
                .ok_or_else(|| format!("host range [{range}] gives more than {MAX_HOSTS} hosts"))?;
            Range::Numbers {
                begin: b,
                step,
                count,
                width,
            }
        }
    };
    Ok((head.to_string(), parsed, tail.to_string()))
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
        assert_eq!(
            hosts("w[3:1]"),
            Vec::<String>::new(),
            "as Ansible: no hosts"
        );
        assert_eq!(hosts("w[3:1:-1]"), ["w3"], "Python's range(3, 2, -1)");
        assert_eq!(hosts("w[5:1:-2]"), ["w5", "w3"]);
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

    #[test]
    fn an_empty_range_is_found_before_anything_is_expanded() {
        assert_eq!(hosts("w[1:3:-1]"), Vec::<String>::new());
        assert_eq!(hosts("w[a:c:-1]"), Vec::<String>::new());
        // Twenty ranges of three, then an empty one: Ansible walks 3.5 billion prefixes.
        let pattern = format!("h{}[3:1]", "[1:3]".repeat(20));
        let started = std::time::Instant::now();
        assert_eq!(hosts(&pattern), Vec::<String>::new());
        // Ansible never reads the ranges after an empty one.
        assert_eq!(hosts("h[3:1][1:x]"), Vec::<String>::new());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // A bad range after good ones is found without building anything.
        assert!(expand(&format!("h{}[1:x]", "[1:3]".repeat(20))).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn too_many_hosts_are_counted_not_built() {
        let started = std::time::Instant::now();
        let err = expand(&format!("h{}", "[1:3]".repeat(20))).expect_err("3^20");
        assert!(err.contains("more than 1000000 hosts"), "{err}");
        let err = expand("h[0:9999999999999]").expect_err("huge");
        assert!(err.contains("more than 1000000"), "{err}");
        let err = expand("h[0:999][0:999][0:1]").expect_err("2 million");
        assert!(err.contains("more than 1000000"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // Exactly the limit is fine.
        assert_eq!(hosts("h[0:999]-[0:999]").len(), 1_000_000);
        assert_eq!(count("h[0:999]-[0:999]"), Ok(1_000_000));
        assert!(count(&format!("h{}", "[1:3]".repeat(20))).is_err());
        assert_eq!(count("w[3:1]"), Ok(0));
        assert_eq!(count("w[1:2]:22"), Ok(2));
    }

    #[test]
    fn ranges_expand_as_ansible_nests_them() {
        assert_eq!(hosts("a[1:2]b[x:y]c"), ["a1bxc", "a1byc", "a2bxc", "a2byc"]);
        assert_eq!(
            hosts("n[01:02].[a:b]"),
            ["n01.a", "n01.b", "n02.a", "n02.b"]
        );
        // A `]` left over after the last range stays in the name.
        assert_eq!(hosts("a[1:2]b]"), ["a1b]", "a2b]"]);
    }
}
