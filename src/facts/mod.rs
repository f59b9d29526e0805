//! Facts, named as Ansible's `setup` module names them, gathered in one round trip by a POSIX
//! shell script (`script.sh`) and parsed here. Hosts need no Python.
//!
//! Only what the script prints is parsed here; running it is the transport's job. The parser is
//! pure, so it is tested on captured outputs.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The script that prints everything [`parse`] reads.
pub const SCRIPT: &str = include_str!("script.sh");

/// Parses the script's output into `ansible_*` facts.
pub fn parse(output: &str) -> Map<String, Value> {
    let sections = sections(output);
    let get = |name: &str| sections.get(name).map(Vec::as_slice).unwrap_or_default();
    let mut f = Map::new();

    let uname = get("uname");
    let nodename = uname.first().cloned().unwrap_or_default();
    let fqdn = get("fqdn")
        .first()
        .cloned()
        .unwrap_or_else(|| nodename.clone());
    f.insert("ansible_nodename".into(), json!(nodename));
    f.insert(
        "ansible_hostname".into(),
        json!(nodename.split('.').next().unwrap_or_default()),
    );
    f.insert("ansible_fqdn".into(), json!(fqdn));
    f.insert(
        "ansible_domain".into(),
        json!(fqdn.split_once('.').map(|(_, d)| d).unwrap_or_default()),
    );
    for (i, key) in ["ansible_system", "ansible_kernel", "ansible_machine"]
        .iter()
        .enumerate()
    {
        f.insert(
            (*key).into(),
            json!(uname.get(i + 1).cloned().unwrap_or_default()),
        );
    }
    f.insert(
        "ansible_architecture".into(),
        json!(uname.get(3).cloned().unwrap_or_default()),
    );

    distribution(&mut f, get("os-release"), get("debian_version"));

    let cpus: u64 = get("cpus")
        .first()
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(1);
    f.insert("ansible_processor_vcpus".into(), json!(cpus));
    for line in get("meminfo") {
        let mut words = line.split_whitespace();
        let (Some(key), Some(kb)) = (
            words.next(),
            words.next().and_then(|k| k.parse::<u64>().ok()),
        ) else {
            continue;
        };
        let name = match key {
            "MemTotal:" => "ansible_memtotal_mb",
            "MemFree:" => "ansible_memfree_mb",
            "SwapTotal:" => "ansible_swaptotal_mb",
            _ => continue,
        };
        f.insert(name.into(), json!(kb / 1024));
    }

    let init = get("init");
    let systemd = init
        .iter()
        .any(|l| l.trim() == "systemd" || l.contains("systemd"));
    let mgr = if systemd {
        "systemd"
    } else if init.first().is_some_and(|l| l.trim() == "init") {
        "sysvinit"
    } else {
        init.first().map_or("service", |s| s.trim())
    };
    f.insert("ansible_service_mgr".into(), json!(mgr));
    let pkg = get("pkg")
        .first()
        .map(|p| if p == "apt-get" { "apt" } else { p.as_str() });
    f.insert("ansible_pkg_mgr".into(), json!(pkg.unwrap_or("unknown")));
    f.insert(
        "ansible_user_id".into(),
        json!(get("user").first().cloned().unwrap_or_default()),
    );

    network(&mut f, get("addr"), get("link"), get("route"));
    f
}

/// Splits the output at `@@ NAME` lines.
fn sections(output: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("@@ ") {
            current = Some(name.trim().to_string());
            out.entry(name.trim().to_string()).or_default();
        } else if let Some(name) = &current {
            out.entry(name.clone()).or_default().push(line.to_string());
        }
    }
    out
}

/// `ansible_distribution*` and `ansible_os_family` from os-release, as Ansible names them.
fn distribution(f: &mut Map<String, Value>, os_release: &[String], debian_version: &[String]) {
    let kv: BTreeMap<&str, String> = os_release
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim().trim_matches('"').to_string()))
        .collect();
    let id = kv.get("ID").cloned().unwrap_or_default();
    let name = match id.as_str() {
        "debian" => "Debian",
        "ubuntu" => "Ubuntu",
        "centos" => "CentOS",
        "rhel" => "RedHat",
        "rocky" => "Rocky",
        "almalinux" => "AlmaLinux",
        "fedora" => "Fedora",
        "opensuse-leap" | "opensuse" => "openSUSE Leap",
        "alpine" => "Alpine",
        "arch" => "Archlinux",
        _ => kv.get("NAME").map_or("Unknown", String::as_str),
    }
    .to_string();
    let family = match name.as_str() {
        "Debian" | "Ubuntu" => "Debian",
        "CentOS" | "RedHat" | "Rocky" | "AlmaLinux" | "Fedora" => "RedHat",
        "openSUSE Leap" => "Suse",
        "Alpine" => "Alpine",
        "Archlinux" => "Archlinux",
        other => other,
    }
    .to_string();
    // Debian's point release lives in /etc/debian_version, not in os-release.
    let version = match (name.as_str(), debian_version.first()) {
        ("Debian", Some(v)) if v.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
            v.trim().to_string()
        }
        _ => kv.get("VERSION_ID").cloned().unwrap_or_default(),
    };
    let major = version.split('.').next().unwrap_or_default().to_string();
    f.insert("ansible_distribution".into(), json!(name));
    f.insert("ansible_distribution_version".into(), json!(version));
    f.insert("ansible_distribution_major_version".into(), json!(major));
    f.insert(
        "ansible_distribution_release".into(),
        json!(kv.get("VERSION_CODENAME").cloned().unwrap_or_default()),
    );
    f.insert("ansible_os_family".into(), json!(family));
}

/// One IPv4 address from `ip -o -4 addr show`.
struct Addr {
    dev: String,
    address: String,
    prefix: u8,
    broadcast: String,
}

/// Interfaces, addresses and `ansible_default_ipv4` from `ip -o` output.
fn network(f: &mut Map<String, Value>, addr: &[String], link: &[String], route: &[String]) {
    let addrs: Vec<Addr> = addr.iter().filter_map(|l| parse_addr(l)).collect();
    let mut interfaces = Vec::new();
    let mut links: BTreeMap<String, (String, u64, String)> = BTreeMap::new();
    for line in link {
        // "2: eth0@if4: <...> mtu 1500 ... link/ether aa:bb:.. brd ..."
        let mut parts = line.splitn(3, ": ");
        let (Some(_), Some(name)) = (parts.next(), parts.next()) else {
            continue;
        };
        let name = name.split('@').next().unwrap_or(name).to_string();
        let words: Vec<&str> = line.split_whitespace().collect();
        let after = |key: &str| {
            words
                .iter()
                .position(|w| *w == key)
                .and_then(|i| words.get(i + 1))
        };
        let mtu = after("mtu").and_then(|m| m.parse().ok()).unwrap_or(0);
        let (kind, mac) = match words.iter().find(|w| w.starts_with("link/")) {
            Some(w) => {
                let kind = w.trim_start_matches("link/");
                let kind = if kind == "loopback" { "loopback" } else { kind };
                (
                    kind.to_string(),
                    after(w).map(|m| (*m).to_string()).unwrap_or_default(),
                )
            }
            None => (String::new(), String::new()),
        };
        interfaces.push(name.clone());
        links.insert(name, (mac, mtu, kind));
    }
    f.insert("ansible_interfaces".into(), json!(interfaces));
    let all: Vec<&str> = addrs
        .iter()
        .filter(|a| !a.address.starts_with("127."))
        .map(|a| a.address.as_str())
        .collect();
    f.insert("ansible_all_ipv4_addresses".into(), json!(all));

    let route = route.first().map(String::as_str).unwrap_or_default();
    let words: Vec<&str> = route.split_whitespace().collect();
    let after = |key: &str| {
        words
            .iter()
            .position(|w| *w == key)
            .and_then(|i| words.get(i + 1))
    };
    let mut default = Map::new();
    if let (Some(dev), Some(src)) = (after("dev"), after("src")) {
        if let Some(a) = addrs.iter().find(|a| a.dev == *dev && a.address == *src) {
            let (mac, mtu, kind) = links.get(*dev).cloned().unwrap_or_default();
            let mask = netmask(a.prefix);
            default.insert("address".into(), json!(a.address));
            default.insert("alias".into(), json!(a.dev));
            default.insert("broadcast".into(), json!(a.broadcast));
            default.insert(
                "gateway".into(),
                json!(after("via").copied().unwrap_or_default()),
            );
            default.insert("interface".into(), json!(dev));
            default.insert("macaddress".into(), json!(mac));
            default.insert("mtu".into(), json!(mtu));
            default.insert("netmask".into(), json!(mask.to_string()));
            default.insert("network".into(), json!(network_of(&a.address, a.prefix)));
            default.insert("prefix".into(), json!(a.prefix.to_string()));
            default.insert("type".into(), json!(kind));
        }
    }
    f.insert("ansible_default_ipv4".into(), Value::Object(default));
}

fn parse_addr(line: &str) -> Option<Addr> {
    // "2: eth0    inet 198.51.100.11/24 brd 198.51.100.255 scope global eth0\ ..."
    let words: Vec<&str> = line.split_whitespace().collect();
    let dev = words.get(1)?.to_string();
    let i = words.iter().position(|w| *w == "inet")?;
    let (address, prefix) = words.get(i + 1)?.split_once('/')?;
    let broadcast = words
        .iter()
        .position(|w| *w == "brd")
        .and_then(|b| words.get(b + 1))
        .map(|b| (*b).to_string())
        .unwrap_or_default();
    Some(Addr {
        dev,
        address: address.to_string(),
        prefix: prefix.parse().ok()?,
        broadcast,
    })
}

fn netmask(prefix: u8) -> std::net::Ipv4Addr {
    let bits = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    std::net::Ipv4Addr::from(bits)
}

fn network_of(address: &str, prefix: u8) -> String {
    let ip: std::net::Ipv4Addr = address.parse().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
    std::net::Ipv4Addr::from(u32::from(ip) & u32::from(netmask(prefix))).to_string()
}

#[cfg(test)]
mod tests;
