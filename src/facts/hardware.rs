//! The `hardware` collector's processor, memory and mount facts, computed from /proc/cpuinfo,
//! /proc/meminfo, the mount table, `findmnt`, `lsblk`, udev and one `stat -f` as Ansible's
//! LinuxHardware computes them (its quirks included: vCPUs are sockets × cores × threads, a
//! mount point listed twice keeps its first place and its last line).

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::Raw;

/// Python's round(): halves go to the even neighbour.
fn py_round(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        (r - x.signum()) as i64
    } else {
        r as i64
    }
}

/// Processor facts (`get_cpu_facts`).
pub fn cpu(raw: &Raw, architecture: &str, f: &mut Map<String, Value>) {
    let Some(lines) = raw.files.get("/proc/cpuinfo") else {
        return;
    };
    let xen = raw.exists.iter().any(|p| p == "/proc/xen")
        || raw.file("/sys/hypervisor/type").as_deref() == Some("xen");
    let mut xen_paravirt = false;
    let mut processor: Vec<String> = Vec::new();
    let (mut vendor_n, mut model_n, mut proc_n) = (0i64, 0i64, 0i64);
    let mut i: i64 = 0;
    let mut physid = String::from("0");
    let mut coreid = String::from("0");
    let mut sockets: IndexMap<String, i64> = IndexMap::new();
    let mut cores: IndexMap<String, i64> = IndexMap::new();
    let (mut zp, mut zmt) = (0i64, 0i64);
    let mut flags: Option<Vec<String>> = None;
    for line in lines {
        let (key, val) = match line.split_once(':') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (line.trim(), ""),
        };
        if xen && key == "flags" && !val.contains("vme") {
            xen_paravirt = true;
        }
        if key == "flags" {
            flags = Some(val.split_whitespace().map(String::from).collect());
        }
        match key {
            "model name" | "Processor" | "vendor_id" | "cpu" | "Vendor" | "processor" => {
                processor.push(val.to_string());
                match key {
                    "vendor_id" => vendor_n += 1,
                    "model name" => model_n += 1,
                    "processor" => proc_n += 1,
                    _ => {}
                }
                i += 1;
            }
            "physical id" => {
                physid = val.to_string();
                sockets.entry(physid.clone()).or_insert(1);
            }
            "core id" => {
                coreid = val.to_string();
                // Ansible checks `sockets` here, not `cores`: kept as it is.
                if !sockets.contains_key(&coreid) {
                    cores.insert(coreid.clone(), 1);
                }
            }
            "cpu cores" => {
                if let Ok(n) = val.parse() {
                    sockets.insert(physid.clone(), n);
                }
            }
            "siblings" => {
                if let Ok(n) = val.parse() {
                    cores.insert(coreid.clone(), n);
                }
            }
            "# processors" => zp = val.parse().unwrap_or(0),
            "max thread id" => zmt = val.parse::<i64>().unwrap_or(0) + 1,
            "ncpus active" => i = val.parse().unwrap_or(i),
            _ => {}
        }
    }
    if let Some(flags) = flags {
        f.insert("ansible_flags".into(), json!(flags));
    }
    f.insert("ansible_processor".into(), json!(processor));
    if vendor_n > 0 && vendor_n == model_n {
        i = vendor_n;
    }
    if ["armv", "aarch", "ppc"]
        .iter()
        .any(|p| architecture.starts_with(p))
    {
        i = proc_n;
    }
    let (count, cores_n, threads, vcpus);
    if architecture == "s390x" {
        count = 1;
        cores_n = if zmt == 0 {
            0
        } else {
            py_round(zp as f64 / zmt as f64)
        };
        threads = zmt;
        vcpus = zp;
    } else if xen_paravirt {
        count = i;
        cores_n = i;
        threads = 1;
        vcpus = i;
    } else {
        count = if sockets.is_empty() {
            i
        } else {
            sockets.len() as i64
        };
        cores_n = match sockets.values().next() {
            Some(&v) if v != 0 => v,
            _ => 1,
        };
        threads = match cores.values().next() {
            Some(&v) => py_round(v as f64 / cores_n as f64),
            None => py_round(1.0 / cores_n as f64),
        };
        vcpus = threads * count * cores_n;
    }
    f.insert("ansible_processor_count".into(), json!(count));
    f.insert("ansible_processor_cores".into(), json!(cores_n));
    f.insert("ansible_processor_threads_per_core".into(), json!(threads));
    f.insert("ansible_processor_vcpus".into(), json!(vcpus));
}

/// `memtotal_mb`, `memfree_mb`, `swaptotal_mb`, `swapfree_mb`.
pub fn memory(raw: &Raw, f: &mut Map<String, Value>) {
    for line in raw.files.get("/proc/meminfo").into_iter().flatten() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let name = match key {
            "MemTotal" => "ansible_memtotal_mb",
            "MemFree" => "ansible_memfree_mb",
            "SwapTotal" => "ansible_swaptotal_mb",
            "SwapFree" => "ansible_swapfree_mb",
            _ => continue,
        };
        if let Some(kb) = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
        {
            f.insert(name.into(), json!(kb / 1024));
        }
    }
}

/// Python's `\\[0-9]{3}` → chr(int(octal)).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..=i + 3].iter().all(u8::is_ascii_digit) {
            let text = &s[i + 1..=i + 3];
            if let Some(c) = u32::from_str_radix(text, 8).ok().and_then(char::from_u32) {
                out.push(c);
                i += 4;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// `ansible_mounts`.
pub fn mounts(raw: &Raw, f: &mut Map<String, Value>) {
    let mtab_path = raw.get("mtab-path").first().cloned().unwrap_or_default();
    let mtab = raw.files.get(&mtab_path).cloned().unwrap_or_default();
    // findmnt's SOURCE column ends in "]" for bind mounts.
    let binds: BTreeSet<String> = raw
        .get("findmnt")
        .iter()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 2 && w[1].ends_with(']')).then(|| w[0].to_string())
        })
        .collect();
    let mut uuids: BTreeMap<String, String> = BTreeMap::new();
    for line in raw.get("lsblk") {
        let line = line.trim();
        if let Some((dev, uuid)) = line.rsplit_once(char::is_whitespace) {
            uuids
                .entry(dev.trim().to_string())
                .or_insert_with(|| uuid.trim().to_string());
        }
    }
    let mut sizes: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for line in raw.get("statvfs") {
        let mut words = line.splitn(7, ' ');
        let nums: Vec<u64> = (0..6)
            .filter_map(|_| words.next().and_then(|w| w.parse().ok()))
            .collect();
        let (Some(name), [frsize, blocks, bavail, bsize, files, favail]) =
            (words.next(), nums.as_slice())
        else {
            continue;
        };
        let mut m = Map::new();
        m.insert("size_total".into(), json!(frsize * blocks));
        m.insert("size_available".into(), json!(frsize * bavail));
        m.insert("block_size".into(), json!(bsize));
        m.insert("block_total".into(), json!(blocks));
        m.insert("block_available".into(), json!(bavail));
        m.insert("block_used".into(), json!(blocks.saturating_sub(*bavail)));
        m.insert("inode_total".into(), json!(files));
        m.insert("inode_available".into(), json!(favail));
        m.insert("inode_used".into(), json!(files.saturating_sub(*favail)));
        sizes.insert(name.to_string(), m);
    }
    // `timeout` ends stat with 124 when a mount did not answer in gather_timeout.
    let timed_out = raw.section_names.iter().any(|s| s == "statvfs-rc 124");
    let udev: BTreeMap<String, String> = raw
        .section_names
        .iter()
        .filter_map(|s| s.strip_prefix("udev "))
        .map(|dev| {
            let uuid = raw
                .get(&format!("udev {dev}"))
                .iter()
                .find_map(|l| l.strip_prefix("ID_FS_UUID=").map(String::from))
                .unwrap_or_else(|| "N/A".into());
            (dev.to_string(), uuid)
        })
        .collect();
    let mut out: IndexMap<String, Map<String, Value>> = IndexMap::new();
    for line in &mtab {
        let fields: Vec<String> = line.split_whitespace().map(unescape).collect();
        if fields.len() < 4 {
            continue;
        }
        let (device, mount, fstype, options) = (&fields[0], &fields[1], &fields[2], &fields[3]);
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        if (!device.starts_with('/') && !device.starts_with('\\') && !device.contains(":/"))
            || fstype == "none"
        {
            continue;
        }
        let mut info = Map::new();
        info.insert("mount".into(), json!(mount));
        info.insert("device".into(), json!(device));
        info.insert("fstype".into(), json!(fstype));
        let mut options = options.clone();
        // Ansible's pattern for "already a bind mount" ends in a stray quote, so it never
        // matches options as mtab writes them: kept as it is.
        if binds.contains(mount) && !(options.contains("bind") && options.contains('"')) {
            options.push_str(",bind");
        }
        info.insert("options".into(), json!(options));
        info.insert("dump".into(), json!(num(4)));
        info.insert("passno".into(), json!(num(5)));
        if let Some(size) = sizes.get(mount) {
            info.extend(size.clone());
        }
        if timed_out && !sizes.contains_key(mount) {
            info.insert(
                "note".into(),
                json!("Could not get extra information due to timeout"),
            );
        } else {
            let uuid = uuids
                .get(device)
                .cloned()
                .or_else(|| udev.get(device).cloned())
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "N/A".into());
            info.insert("uuid".into(), json!(uuid));
        }
        // A mount point listed again keeps its place and takes the later line.
        out.insert(mount.clone(), info);
    }
    f.insert(
        "ansible_mounts".into(),
        Value::Array(out.into_values().map(Value::Object).collect()),
    );
}
