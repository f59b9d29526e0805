//! The `network` collector: interfaces from /sys/class/net (in the kernel's directory order, as
//! Python's glob walks it), their addresses from `ip addr show primary|secondary`, and the
//! default routes from `ip route get`, combined exactly as Ansible's LinuxNetwork does.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::Raw;

const V4_PROBE: &str = "8.8.8.8";
const V6_PROBE: &str = "2404:6800:400a:800::1012";

/// `interface`, `address` and `gateway` of `ip route get PROBE`'s first line.
fn default_route(lines: &[String], probe: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(first) = lines.first() else {
        return out;
    };
    let words: Vec<&str> = first.split_whitespace().collect();
    if words.first() != Some(&probe) {
        return out;
    }
    for i in 0..words.len().saturating_sub(1) {
        match words[i] {
            "dev" => {
                out.insert("interface".into(), json!(words[i + 1]));
            }
            "src" => {
                out.insert("address".into(), json!(words[i + 1]));
            }
            "via" if words[i + 1] != probe => {
                out.insert("gateway".into(), json!(words[i + 1]));
            }
            _ => {}
        }
    }
    out
}

/// `ip addr show` output cut at its "N: name: <...>" lines, by device name.
fn by_device(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in lines {
        if !line.starts_with(' ') {
            let mut parts = line.splitn(3, ": ");
            if let (Some(index), Some(name)) = (parts.next(), parts.next()) {
                if index.trim().parse::<u32>().is_ok() {
                    let name = name.split('@').next().unwrap_or(name).to_string();
                    out.entry(name.clone()).or_default();
                    current = Some(name);
                    continue;
                }
            }
        }
        if let Some(dev) = &current {
            out.entry(dev.clone()).or_default().push(line.clone());
        }
    }
    out
}

fn netmask_of(prefix: u32) -> u32 {
    // Python: (1 << 32) - (1 << 32 >> prefix)
    ((1u64 << 32) - ((1u64 << 32) >> prefix.min(32))) as u32
}

/// Adds the network facts.
pub fn collect(raw: &Raw, f: &mut Map<String, Value>) {
    let Some(batch) = raw.section("ipbatch") else {
        return;
    };
    if batch.is_empty() {
        // No `ip` on the host: Ansible reports no network facts at all.
        return;
    }
    // The two `route get` answers come before the first "N: name:" line of `addr show`.
    let first_link = batch
        .iter()
        .position(|l| {
            l.split_once(": ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .unwrap_or(batch.len());
    let (routes, addrs) = batch.split_at(first_link);
    let route = |probe: &str| -> Vec<String> {
        routes
            .iter()
            .filter(|l| l.split_whitespace().next() == Some(probe))
            .take(1)
            .cloned()
            .collect()
    };
    let mut default4 = default_route(&route(V4_PROBE), V4_PROBE);
    let mut default6 = default_route(&route(V6_PROBE), V6_PROBE);
    // `ip addr show primary` and `... secondary` as one listing: secondary IPv4 addresses say
    // "secondary", IPv6 ones (the same kernel flag) "temporary".
    let all = by_device(addrs);
    let is_secondary = |l: &String| {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w.first() {
            Some(&"inet") => w.contains(&"secondary"),
            Some(&"inet6") => w.contains(&"temporary"),
            _ => false,
        }
    };
    let primary: BTreeMap<String, Vec<String>> = all
        .iter()
        .map(|(d, ls)| {
            (
                d.clone(),
                ls.iter().filter(|l| !is_secondary(l)).cloned().collect(),
            )
        })
        .collect();
    let secondary: BTreeMap<String, Vec<String>> = all
        .iter()
        .map(|(d, ls)| {
            (
                d.clone(),
                ls.iter().filter(|l| is_secondary(l)).cloned().collect(),
            )
        })
        .collect();
    let exists: BTreeSet<&str> = raw.exists.iter().map(String::as_str).collect();
    let (devices, links) = net_ls(raw.get("net-ls"));
    let mut interfaces: indexmap::IndexMap<String, Map<String, Value>> = indexmap::IndexMap::new();
    let mut all4: Vec<String> = Vec::new();
    let mut all6: Vec<String> = Vec::new();
    for device in &devices {
        let base = format!("/sys/class/net/{device}");
        let file = |name: &str| raw.file(&format!("{base}/{name}"));
        let mut me = Map::new();
        me.insert("device".into(), json!(device));
        // Python keeps the last address it read in a variable; default_ipv4 takes it from there.
        let macaddress = file("address").unwrap_or_default();
        if !macaddress.is_empty() && macaddress != "00:00:00:00:00:00" {
            me.insert("macaddress".into(), json!(macaddress));
        }
        let mtu = file("mtu").and_then(|m| m.parse::<i64>().ok());
        if let Some(m) = mtu {
            me.insert("mtu".into(), json!(m));
        }
        if let Some(state) = file("operstate") {
            me.insert("active".into(), json!(state != "down"));
        }
        if let Some(module) = links.get(&format!("{base}/device/driver/module")) {
            me.insert("module".into(), json!(module));
        }
        if let Some(t) = file("type") {
            let kind = match t.as_str() {
                "1" => "ether",
                "32" => "infiniband",
                "512" => "ppp",
                "772" => "loopback",
                "65534" => "tunnel",
                _ => "unknown",
            };
            me.insert("type".into(), json!(kind));
        }
        if exists.contains(format!("{base}/bridge").as_str()) {
            me.insert("type".into(), json!("bridge"));
            let prefix = format!("{base}/brif/");
            let ports: Vec<&str> = raw
                .exists
                .iter()
                .filter_map(|p| p.strip_prefix(&prefix))
                .collect();
            me.insert("interfaces".into(), json!(ports));
            if let Some(id) = file("bridge/bridge_id") {
                me.insert("id".into(), json!(id));
            }
            if let Some(stp) = file("bridge/stp_state") {
                me.insert("stp".into(), json!(stp == "1"));
            }
        }
        if exists.contains(format!("{base}/bonding").as_str()) {
            me.insert("type".into(), json!("bonding"));
            let words = |n: &str| -> Vec<String> {
                file(n)
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(String::from)
                    .collect()
            };
            me.insert("slaves".into(), json!(words("bonding/slaves")));
            for key in ["mode", "miimon", "lacp_rate"] {
                if let Some(first) = words(&format!("bonding/{key}")).into_iter().next() {
                    me.insert(key.into(), json!(first));
                }
            }
            if let Some(primary) = file("bonding/primary").filter(|p| !p.is_empty()) {
                me.insert("primary".into(), json!(primary));
                if let Some(a) = file("bonding/all_slaves_active") {
                    me.insert("all_slaves_active".into(), json!(a == "1"));
                }
            }
        }
        if exists.contains(format!("{base}/bonding_slave").as_str()) {
            me.insert(
                "perm_macaddress".into(),
                json!(file("bonding_slave/perm_hwaddr").unwrap_or_default()),
            );
        }
        if let Some(pciid) = links.get(&format!("{base}/device")) {
            me.insert("pciid".into(), json!(pciid));
        }
        if let Some(speed) = file("speed").and_then(|s| s.parse::<i64>().ok()) {
            me.insert("speed".into(), json!(speed));
        }
        if let Some(flags) =
            file("flags").and_then(|s| i64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        {
            me.insert("promisc".into(), json!(flags & 0x0100 > 0));
        }
        interfaces.insert(device.clone(), me);

        let ctx = Ctx {
            device,
            macaddress: &macaddress,
        };
        if let Some(lines) = primary.get(device) {
            parse_ip(
                lines,
                false,
                &ctx,
                &mut interfaces,
                &mut default4,
                &mut default6,
                &mut all4,
                &mut all6,
            );
        }
        if let Some(lines) = secondary.get(device) {
            parse_ip(
                lines,
                true,
                &ctx,
                &mut interfaces,
                &mut default4,
                &mut default6,
                &mut all4,
                &mut all6,
            );
        }
    }
    let mut names = Vec::new();
    for (name, data) in interfaces {
        let name = name.replace(':', "_");
        names.push(name.clone());
        f.insert(format!("ansible_{name}"), Value::Object(data));
    }
    f.insert("ansible_interfaces".into(), json!(names));
    f.insert("ansible_default_ipv4".into(), Value::Object(default4));
    f.insert("ansible_default_ipv6".into(), Value::Object(default6));
    f.insert("ansible_all_ipv4_addresses".into(), json!(all4));
    f.insert("ansible_all_ipv6_addresses".into(), json!(all6));
}

struct Ctx<'a> {
    device: &'a str,
    macaddress: &'a str,
}

/// Ansible's `parse_ip_output` for one device's lines.
#[allow(clippy::too_many_arguments)]
fn parse_ip(
    lines: &[String],
    secondary: bool,
    ctx: &Ctx<'_>,
    interfaces: &mut indexmap::IndexMap<String, Map<String, Value>>,
    default4: &mut Map<String, Value>,
    default6: &mut Map<String, Value>,
    all4: &mut Vec<String>,
    all6: &mut Vec<String>,
) {
    let device = ctx.device;
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = words.first() else { continue };
        if *first == "inet" {
            let Some(w1) = words.get(1) else { continue };
            let (address, prefix) = match w1.split_once('/') {
                Some((a, p)) => (a, p),
                None => (*w1, "32"),
            };
            let broadcast = if w1.contains('/') && words.len() > 3 && words[2] == "brd" {
                words[3]
            } else {
                ""
            };
            let (Ok(ip), Ok(bits)) = (address.parse::<std::net::Ipv4Addr>(), prefix.parse::<u32>())
            else {
                continue;
            };
            let mask = netmask_of(bits);
            let netmask = std::net::Ipv4Addr::from(mask).to_string();
            let network = std::net::Ipv4Addr::from(u32::from(ip) & mask).to_string();
            let entry = json!({
                "address": address,
                "broadcast": broadcast,
                "netmask": netmask,
                "network": network,
                "prefix": prefix,
            });
            let iface = words.last().copied().unwrap_or(device).to_string();
            if iface != device {
                interfaces.insert(iface.clone(), Map::new());
            }
            let target = interfaces.entry(iface.clone()).or_default();
            if !secondary && !target.contains_key("ipv4") {
                target.insert("ipv4".into(), entry.clone());
            } else {
                push(target, "ipv4_secondaries", entry.clone());
            }
            if secondary {
                let own = interfaces.entry(device.to_string()).or_default();
                if !own.contains_key("ipv4_secondaries") {
                    own.insert("ipv4_secondaries".into(), json!([]));
                }
                if device != iface {
                    push(own, "ipv4_secondaries", entry.clone());
                }
            }
            if default4.get("address").and_then(Value::as_str) == Some(address) {
                let own = interfaces.get(device).cloned().unwrap_or_default();
                default4.insert("broadcast".into(), json!(broadcast));
                default4.insert("netmask".into(), json!(netmask));
                default4.insert("network".into(), json!(network));
                default4.insert("prefix".into(), json!(prefix));
                default4.insert("macaddress".into(), json!(ctx.macaddress));
                default4.insert("mtu".into(), own.get("mtu").cloned().unwrap_or(Value::Null));
                default4.insert(
                    "type".into(),
                    own.get("type").cloned().unwrap_or(json!("unknown")),
                );
                default4.insert("alias".into(), json!(iface));
            }
            if !address.starts_with("127.") {
                all4.push(address.to_string());
            }
        } else if *first == "inet6" {
            let (address, prefix, scope) = if words.get(2) == Some(&"peer") {
                let prefix = words
                    .get(3)
                    .and_then(|w| w.split_once('/'))
                    .map_or("", |(_, p)| p);
                (
                    words.get(1).copied().unwrap_or_default(),
                    prefix,
                    words.get(5).copied().unwrap_or_default(),
                )
            } else {
                let (a, p) = words
                    .get(1)
                    .and_then(|w| w.split_once('/'))
                    .unwrap_or_default();
                (a, p, words.get(3).copied().unwrap_or_default())
            };
            let own = interfaces.entry(device.to_string()).or_default();
            push(
                own,
                "ipv6",
                json!({"address": address, "prefix": prefix, "scope": scope}),
            );
            if default6.get("address").and_then(Value::as_str) == Some(address) {
                let own = interfaces.get(device).cloned().unwrap_or_default();
                default6.insert("prefix".into(), json!(prefix));
                default6.insert("scope".into(), json!(scope));
                default6.insert("macaddress".into(), json!(ctx.macaddress));
                default6.insert("mtu".into(), own.get("mtu").cloned().unwrap_or(Value::Null));
                default6.insert(
                    "type".into(),
                    own.get("type").cloned().unwrap_or(json!("unknown")),
                );
            }
            if address != "::1" {
                all6.push(address.to_string());
            }
        }
    }
}

fn push(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.get_mut(key) {
        Some(Value::Array(items)) => items.push(value),
        _ => {
            map.insert(key.into(), json!([value]));
        }
    }
}

/// `ls -lU /sys/class/net/ MODULE-LINKS...`: the interfaces in directory order, and by path
/// the last component of what `device` (the parent of the class link's ".../net/NAME") and
/// `device/driver/module` point to.
fn net_ls(lines: &[String]) -> (Vec<String>, BTreeMap<String, String>) {
    let mut devices = Vec::new();
    let mut links = BTreeMap::new();
    // With module links given too, ls lists them first and the folder under a header.
    let header = lines
        .iter()
        .position(|l| l.starts_with('/') && l.ends_with(':'));
    for (i, l) in lines.iter().enumerate() {
        let in_dir = header.is_none_or(|h| i > h);
        let Some((left, target)) = l.split_once(" -> ") else {
            continue;
        };
        let Some(path) = left.rsplit(' ').next() else {
            continue;
        };
        if in_dir {
            devices.push(path.to_string());
            // ../../devices/pci0000:00/.../virtio2/net/eth0: a real device is the parent of
            // "net"; virtual ones live under devices/virtual and have no `device` link.
            let parts: Vec<&str> = target.trim_end_matches('/').split('/').collect();
            if !target.contains("/devices/virtual/") && parts.len() >= 3 {
                let parent = parts[parts.len() - 3];
                if parts[parts.len() - 2] == "net" && parent != ".." && parent != "devices" {
                    links.insert(format!("/sys/class/net/{path}/device"), parent.to_string());
                }
            }
        } else if let Some(last) = target.trim_end_matches('/').rsplit('/').next() {
            links.insert(path.to_string(), last.to_string());
        }
    }
    (devices, links)
}
