//! Whether a whole pattern reads as one host address, as Ansible's `parse_address` with ranges
//! allowed decides it. Only the yes/no answer matters here: a pattern that is an address (an IPv6
//! address, `name:port`, `[address]:port`, `web[1:3]`) is one term even though it has colons.

use std::sync::LazyLock;

use regex::Regex;

/// A range inside an IPv4 component: `[1:3]`, optionally with a step.
const NUMERIC_RANGE: &str = r"\[[0-9]+:[0-9]+(?::[0-9]+)?\]";
/// A range inside an IPv6 component.
const HEX_RANGE: &str = r"\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]";
/// A range inside a host name label: one letter to one letter, or numbers.
const NAME_RANGE: &str = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]";

struct Grammar {
    bracketed_port: Regex,
    port: Regex,
    ipv4: Regex,
    ipv6: Regex,
    hostname: Regex,
}

static GRAMMAR: LazyLock<Grammar> = LazyLock::new(|| {
    let v4 = format!(r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]{{1,2}}|{NUMERIC_RANGE})");
    let h = format!(r"(?:[0-9a-f]{{1,4}}|{HEX_RANGE})");
    let dotted = format!(r"(?:{h}\.){{3}}{h}");
    // Every way of writing 1 to 8 groups with or without one `::`, as Ansible spells them out
    // (which, for instance, accepts `a::b` with 7 groups in all but `::b` with at most 6).
    let v6_forms = [
        format!(r"(?:{h}:){{7}}{h}"),
        format!(r"(?:{h}:){{1,6}}:"),
        format!(r"{h}:(?::{h}){{1,6}}"),
        format!(r"(?:{h}:){{2}}(?::{h}){{1,5}}"),
        format!(r"(?:{h}:){{3}}(?::{h}){{1,4}}"),
        format!(r"(?:{h}:){{4}}(?::{h}){{1,3}}"),
        format!(r"(?:{h}:){{5}}(?::{h}){{1,2}}"),
        format!(r"(?:{h}:){{6}}:{h}"),
        format!(r":(?::{h}){{1,6}}"),
        format!(r"{h}?::"),
        format!(r"(?:0:){{6}}{dotted}"),
        format!(r"::(?:ffff:)?{dotted}"),
        format!(r"(?:0:){{5}}ffff:{dotted}"),
    ];
    // A label starts with a word character or a range and doesn't end with `_` or `-`.
    let end = format!(r"(?:[^\W_]|{NAME_RANGE})");
    let label = format!(r"(?:{end}|(?:\w|{NAME_RANGE})(?:[\w-]|{NAME_RANGE})*{end})");
    let build = |re: String| Regex::new(&re).expect("the address grammar is valid");
    Grammar {
        bracketed_port: build(r"^\[(.+)\]:([0-9]+)$".to_string()),
        port: build(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$".to_string()),
        ipv4: build(format!(r"(?i)^(?:{v4}\.){{3}}{v4}$")),
        ipv6: build(format!(r"(?i)^(?:{})$", v6_forms.join("|"))),
        hostname: build(format!(r"(?i)^{label}(?:\.{label})*$")),
    }
});

/// Whether `text` is an IPv4 address, IPv6 address or host name, each possibly with ranges and
/// a port.
pub fn is_address(text: &str) -> bool {
    let g = &*GRAMMAR;
    let mut host = text;
    // Both port forms are tried in turn, the second on what the first left.
    for port_form in [&g.bracketed_port, &g.port] {
        if let Some(inner) = port_form.captures(host).and_then(|c| c.get(1)) {
            host = inner.as_str();
        }
    }
    g.ipv4.is_match(host) || g.ipv6.is_match(host) || g.hostname.is_match(host)
}

#[cfg(test)]
mod tests {
    use super::is_address;

    #[test]
    fn addresses() {
        for yes in [
            "web1",
            "web1.example.com",
            "web[1:3].example.com",
            "db-[a:c]",
            "10.0.0.1",
            "10.0.[1:3].1",
            "10.0.0.1:22",
            "host:22",
            "[::1]:22",
            "[host]:22",
            "::1",
            "::",
            "fe80::1",
            "FE80::A",
            "1:2:3:4:5:6:7:8",
            "1::2:3:4:5:6:7",
            "::ffff:1.2.3.4",
            "_underscore",
            "ünïcode",
        ] {
            assert!(is_address(yes), "{yes} is an address");
        }
        for no in [
            "web:db",
            "web:&db",
            "web[0]",
            "web[1:]",
            "web*",
            "~web",
            "web-",
            "web_",
            "a..b",
            "::1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "[::1]",
            "",
            "a b",
        ] {
            assert!(!is_address(no), "{no} is not an address");
        }
    }
}
