//! Facts, named as Ansible's `setup` module names them, gathered in one round trip by a POSIX
//! shell script (`script.sh`) and parsed here. Hosts need no Python.
//!
//! Only what the script prints is parsed here; running it is the transport's job. The parser is
//! pure, so it is tested on captured outputs. Each fact belongs to one of Ansible's collectors
//! ([`subset`]); `gather_subset` decides which run on the host and which facts are reported.

mod hardware;
pub mod local;
mod network;
pub mod subset;
mod virt;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// The script that prints everything [`parse`] reads. Run as it is, it gathers every
/// collector; [`script`] puts the play's `gather_subset`, `gather_timeout` and `fact_path`
/// in front of it.
pub const SCRIPT: &str = include_str!("script.sh");

/// What a play or a `setup` task asks of fact gathering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// `gather_subset` (empty: `all`).
    pub subset: Vec<String>,
    /// `gather_timeout` in seconds (Ansible's default is 10).
    pub timeout: Option<u64>,
    /// `fact_path` (Ansible's default is /etc/ansible/facts.d).
    pub fact_path: Option<String>,
    /// The host's configured `ansible_python_interpreter`, when it names a path.
    pub python: Option<String>,
}

/// The interpreter path to report in `ansible_python` for a host whose
/// `ansible_python_interpreter` is `value`: a literal path is used as Ansible uses it;
/// `auto*`, templates and no value leave it to Ansible's discovery, which the script repeats.
pub fn interpreter(value: Option<&str>) -> Option<String> {
    let v = value?.trim();
    if v.is_empty() || v.starts_with("auto") || v.contains("{{") || v.contains("{%") {
        return None;
    }
    Some(v.to_string())
}

/// The script for `opts` and the collectors it runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub collectors: BTreeSet<&'static str>,
    pub script: String,
}

/// Builds the gathering script for `opts`, or Ansible's error for a bad `gather_subset`.
pub fn plan(opts: &Options) -> Result<Plan, String> {
    let collectors = subset::collectors(&opts.subset)?;
    let q = crate::transport::shell_quote;
    let want: Vec<&str> = collectors.iter().copied().collect();
    let mut script = format!("hf_want={}\n", q(&want.join(" ")));
    if let Some(t) = opts.timeout {
        script.push_str(&format!("hf_timeout={t}\n"));
    }
    if let Some(p) = &opts.fact_path {
        script.push_str(&format!("hf_factpath={}\n", q(p)));
    }
    if let Some(p) = &opts.python {
        script.push_str(&format!("hf_py={}\n", q(p)));
    }
    script.push_str(SCRIPT);
    Ok(Plan { collectors, script })
}

/// The script's output, cut into sections.
pub(crate) struct Raw {
    /// Sections in order, by the text after "@@ ".
    list: Vec<(String, Vec<String>)>,
    pub(crate) section_names: Vec<String>,
    /// The small files the script read with grep, by path.
    pub(crate) files: BTreeMap<String, Vec<String>>,
    /// Paths the script found to exist.
    pub(crate) exists: Vec<String>,
}

impl Raw {
    fn new(output: &str) -> Raw {
        let mut list: Vec<(String, Vec<String>)> = Vec::new();
        for line in output.lines() {
            if let Some(name) = line.strip_prefix("@@ ") {
                list.push((name.trim().to_string(), Vec::new()));
            } else if let Some((_, lines)) = list.last_mut() {
                lines.push(line.to_string());
            }
        }
        let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut exists = Vec::new();
        for (name, lines) in &list {
            match name.as_str() {
                "files" => {
                    for l in lines {
                        if let Some((path, text)) = l.split_once(':') {
                            files.entry(path.into()).or_default().push(text.into());
                        }
                    }
                }
                "exists" => exists.extend(lines.iter().cloned()),
                _ => {}
            }
        }
        Raw {
            section_names: list.iter().map(|(n, _)| n.clone()).collect(),
            list,
            files,
            exists,
        }
    }

    pub(crate) fn section(&self, name: &str) -> Option<&Vec<String>> {
        self.list.iter().find(|(n, _)| n == name).map(|(_, l)| l)
    }

    pub(crate) fn get(&self, name: &str) -> &[String] {
        self.section(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// A file's text, stripped as Ansible's get_file_content strips it.
    pub(crate) fn file(&self, path: &str) -> Option<String> {
        self.files
            .get(path)
            .map(|lines| lines.join("\n").trim().to_string())
    }
}

/// Why gathered output could not become facts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Local(#[from] local::Unsupported),
}

/// Parses the output of the full [`SCRIPT`] into `ansible_*` facts of every collector hactl
/// implements. A local fact hactl cannot read as Ansible would is left out.
pub fn parse(output: &str) -> Map<String, Value> {
    let all: BTreeSet<&str> = subset::collectors(&[]).unwrap_or_default();
    match parse_for(output, &all) {
        Ok(f) => f,
        Err(_) => {
            let mut without: BTreeSet<&str> = all;
            without.remove("local");
            parse_for(output, &without).unwrap_or_default()
        }
    }
}

/// Parses the script's output into the facts of `collectors`.
pub fn parse_for(output: &str, collectors: &BTreeSet<&str>) -> Result<Map<String, Value>, Error> {
    let raw = Raw::new(output);
    let want = |c: &str| collectors.contains(c);
    let mut f = Map::new();
    let env = environment(raw.get("env"));
    if want("platform") {
        platform(&raw, &mut f);
    }
    if want("distribution") {
        let os_release = raw
            .files
            .get("/etc/os-release")
            .or_else(|| raw.files.get("/usr/lib/os-release"))
            .cloned()
            .unwrap_or_default();
        let debian: Vec<String> = raw.file("/etc/debian_version").into_iter().collect();
        distribution(&mut f, &os_release, &debian);
    }
    python(&raw, &mut f, want("python"), want("platform"));
    if want("env") && raw.section("env").is_some() {
        f.insert(
            "ansible_env".into(),
            Value::Object(env.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
        );
    }
    if want("user") {
        user(&raw, &env, &mut f);
    }
    if want("date_time") {
        date_time(raw.get("date"), &mut f);
    }
    if want("lsb") {
        lsb(&raw, &mut f);
    }
    if want("selinux") {
        selinux(&raw, &mut f);
    }
    if want("apparmor") {
        let on = raw
            .exists
            .iter()
            .any(|p| p == "/sys/kernel/security/apparmor");
        f.insert(
            "ansible_apparmor".into(),
            json!({"status": if on { "enabled" } else { "disabled" }}),
        );
    }
    if want("service_mgr") {
        service_mgr(raw.get("init"), &mut f);
    }
    if want("pkg_mgr") {
        let pkg = raw
            .get("pkg")
            .first()
            .map(|p| if p == "apt-get" { "apt" } else { p.as_str() });
        f.insert("ansible_pkg_mgr".into(), json!(pkg.unwrap_or("unknown")));
    }
    if want("hardware") {
        let arch = raw.get("uname").first().cloned().unwrap_or_default();
        hardware::cpu(&raw, &arch, &mut f);
        hardware::memory(&raw, &mut f);
        hardware::mounts(&raw, &mut f);
    }
    if want("network") {
        network::collect(&raw, &mut f);
    }
    if want("virtual") {
        virt::collect(&raw, &mut f);
    }
    if want("local") {
        let local = local::collect(&local_sources(&raw))?;
        f.insert("ansible_local".into(), Value::Object(local));
    }
    for (tool, prefix) in [("facter", "facter_"), ("ohai", "ohai_")] {
        if !want(tool) {
            continue;
        }
        let text = raw.get(tool).join("\n");
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&text) {
            for (k, v) in m {
                f.insert(format!("{prefix}{k}"), v);
            }
        }
    }
    Ok(f)
}

/// `ansible_env` from the shell's `export -p` (dash: `export K='v'`, bash in POSIX mode:
/// `export K="v"`), read with the shell's quoting rules.
fn environment(lines: &[String]) -> BTreeMap<String, String> {
    let text = lines.join("\n");
    let mut out = BTreeMap::new();
    let mut rest = text.as_str();
    loop {
        rest = rest.trim_start();
        let Some(r) = rest.strip_prefix("export ") else {
            break;
        };
        let r = r.trim_start_matches(' ');
        let name_end = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(r.len());
        let (name, after) = r.split_at(name_end);
        let Some(after) = after.strip_prefix('=') else {
            // Exported but unset: not in the environment.
            rest = after;
            continue;
        };
        let (value, after) = shell_word(after);
        if !name.is_empty() {
            out.insert(name.to_string(), value);
        }
        rest = after;
    }
    out
}

/// One shell word at the start of `s` (quotes removed) and what follows it.
fn shell_word(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            '\'' => {
                chars.next();
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                chars.next();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&(_, n)) if matches!(n, '"' | '\\' | '$' | '`') => {
                                out.push(n);
                                chars.next();
                            }
                            Some(&(_, '\n')) => {
                                chars.next();
                            }
                            _ => out.push('\\'),
                        },
                        _ => out.push(c),
                    }
                }
            }
            '\\' => {
                chars.next();
                if let Some((_, n)) = chars.next() {
                    if n != '\n' {
                        out.push(n);
                    }
                }
            }
            c if c.is_whitespace() => return (out, &s[i..]),
            _ => {
                out.push(c);
                chars.next();
            }
        }
    }
    (out, "")
}

/// The `platform` collector: uname's fields, names, and the machine id.
fn platform(raw: &Raw, f: &mut Map<String, Value>) {
    let uname = raw.get("uname");
    let machine = uname.first().cloned().unwrap_or_default();
    // Linux: /proc/sys/kernel; elsewhere the script ran uname for each field.
    let field = |path: &str, i: usize| {
        raw.file(path)
            .or_else(|| uname.get(i).cloned())
            .unwrap_or_default()
    };
    let nodename = field("/proc/sys/kernel/hostname", 1);
    let system = field("/proc/sys/kernel/ostype", 2);
    let kernel = field("/proc/sys/kernel/osrelease", 3);
    let version = field("/proc/sys/kernel/version", 4);
    let fqdn = raw
        .get("fqdn")
        .first()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| nodename.clone());
    f.insert("ansible_system".into(), json!(system));
    f.insert("ansible_kernel".into(), json!(kernel));
    f.insert("ansible_kernel_version".into(), json!(version));
    f.insert("ansible_machine".into(), json!(machine));
    f.insert("ansible_fqdn".into(), json!(fqdn));
    f.insert(
        "ansible_hostname".into(),
        json!(nodename.split('.').next().unwrap_or_default()),
    );
    f.insert("ansible_nodename".into(), json!(nodename));
    f.insert(
        "ansible_domain".into(),
        json!(fqdn.split_once('.').map(|(_, d)| d).unwrap_or_default()),
    );
    let i86 = regex::Regex::new(r"i([3456]86|86pc)").ok();
    let arch = if machine != "x86_64" && i86.is_some_and(|r| r.is_match(&machine)) {
        "i386".to_string()
    } else {
        machine.clone()
    };
    f.insert("ansible_architecture".into(), json!(arch));
    let machine_id = raw
        .file("/var/lib/dbus/machine-id")
        .filter(|s| !s.is_empty())
        .or_else(|| raw.file("/etc/machine-id"))
        .filter(|s| !s.is_empty());
    if let Some(id) = machine_id {
        f.insert(
            "ansible_machine_id".into(),
            json!(id.lines().next().unwrap_or_default()),
        );
    }
}

/// `ansible_python` (and `ansible_python_version` with the platform facts) from the
/// interpreter's `-V`, when the host has one.
fn python(raw: &Raw, f: &mut Map<String, Value>, python: bool, platform: bool) {
    let lines = raw.get("python");
    let (Some(executable), Some(banner)) = (lines.first(), lines.get(1)) else {
        return;
    };
    let Some(version) = banner.strip_prefix("Python ").map(str::trim) else {
        return;
    };
    let version = version.split_whitespace().next().unwrap_or_default();
    // "3.11.2", "3.12.0rc1", "3.13.0a2", "3.13.0b1+"
    let core = version.trim_end_matches('+');
    let digits_end = core
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(core.len(), |(i, _)| i);
    let (numbers, tail) = core.split_at(digits_end);
    let parts: Vec<i64> = numbers.split('.').filter_map(|p| p.parse().ok()).collect();
    let [major, minor, micro] = parts.as_slice() else {
        return;
    };
    let (level, serial) = if let Some(n) = tail.strip_prefix("rc") {
        ("candidate", n)
    } else if let Some(n) = tail.strip_prefix('a') {
        ("alpha", n)
    } else if let Some(n) = tail.strip_prefix('b') {
        ("beta", n)
    } else if tail.is_empty() {
        ("final", "0")
    } else {
        return;
    };
    let Ok(serial) = serial.parse::<i64>() else {
        return;
    };
    let kind = if lines.iter().any(|l| l.contains("PyPy")) {
        "pypy"
    } else {
        "cpython"
    };
    if python {
        f.insert(
            "ansible_python".into(),
            json!({
                "executable": executable,
                // Not imported on the host (60 ms); every CPython 3 built with OpenSSL has it.
                "has_sslcontext": true,
                "type": kind,
                "version": {
                    "major": major, "micro": micro, "minor": minor,
                    "releaselevel": level, "serial": serial,
                },
                "version_info": [major, minor, micro, level, serial],
            }),
        );
    }
    if platform {
        f.insert("ansible_python_version".into(), json!(version));
    }
}

/// The `user` collector from the passwd entry; `user_id` as Python's getpass.getuser() finds it.
fn user(raw: &Raw, env: &BTreeMap<String, String>, f: &mut Map<String, Value>) {
    let Some(entry) = raw.get("passwd").first() else {
        return;
    };
    let fields: Vec<&str> = entry.split(':').collect();
    let [name, _, uid, gid, gecos, dir, shell] = fields.as_slice() else {
        return;
    };
    let login = ["LOGNAME", "USER", "LNAME", "USERNAME"]
        .iter()
        .find_map(|k| env.get(*k).filter(|v| !v.is_empty()))
        .cloned()
        .unwrap_or_else(|| (*name).to_string());
    let (Ok(uid), Ok(gid)) = (uid.parse::<u64>(), gid.parse::<u64>()) else {
        return;
    };
    f.insert("ansible_user_id".into(), json!(login));
    f.insert("ansible_user_uid".into(), json!(uid));
    f.insert("ansible_user_gid".into(), json!(gid));
    f.insert("ansible_user_gecos".into(), json!(gecos));
    f.insert("ansible_user_dir".into(), json!(dir));
    f.insert("ansible_user_shell".into(), json!(shell));
}

/// `ansible_date_time` from one `date` call: local fields as printed, UTC ones from its epoch.
fn date_time(lines: &[String], f: &mut Map<String, Value>) {
    let Some(now) = lines.first() else { return };
    let w: Vec<&str> = now.split(' ').collect();
    let [
        year,
        month,
        weekday,
        wnum,
        weeknumber,
        day,
        hour,
        minute,
        second,
        epoch,
        nanos,
        tz,
        offset,
    ] = w.as_slice()
    else {
        return;
    };
    let Ok(secs) = epoch.parse::<i64>() else {
        return;
    };
    // %N is not in every date(1); without it the microseconds are not known.
    let micros: String = if nanos.len() >= 6 && nanos.bytes().all(|b| b.is_ascii_digit()) {
        nanos[..6].to_string()
    } else {
        return;
    };
    let Some(utc) = chrono::DateTime::from_timestamp(secs, 0) else {
        return;
    };
    // Python's time.tzname[1] (see the script): the zone name at the larger UTC offset of
    // January and July, July's when they are equal.
    let tz_dst = match (lines.get(1), lines.get(2)) {
        (Some(jan), Some(jul)) => {
            let parse = |l: &str| -> Option<(i64, String)> {
                let (off, name) = l.split_once(' ')?;
                let sign = if off.starts_with('-') { -1 } else { 1 };
                let digits = off.trim_start_matches(['+', '-']);
                let h: i64 = digits.get(..2)?.parse().ok()?;
                let m: i64 = digits.get(2..4)?.parse().ok()?;
                Some((sign * (h * 60 + m), name.to_string()))
            };
            match (parse(jan), parse(jul)) {
                (Some((jo, jn)), Some((uo, un))) => {
                    if jo > uo {
                        jn
                    } else {
                        un
                    }
                }
                _ => return,
            }
        }
        _ => (*tz).to_string(),
    };
    let u = utc.format("%Y-%m-%dT%H:%M:%S").to_string();
    f.insert(
        "ansible_date_time".into(),
        json!({
            "date": format!("{year}-{month}-{day}"),
            "day": day,
            "epoch": epoch,
            "epoch_int": secs.to_string(),
            "hour": hour,
            "iso8601": format!("{u}Z"),
            "iso8601_basic": format!("{year}{month}{day}T{hour}{minute}{second}{micros}"),
            "iso8601_basic_short": format!("{year}{month}{day}T{hour}{minute}{second}"),
            "iso8601_micro": format!("{u}.{micros}Z"),
            "minute": minute,
            "month": month,
            "second": second,
            "time": format!("{hour}:{minute}:{second}"),
            "tz": tz,
            "tz_dst": tz_dst,
            "tz_offset": offset,
            "weekday": weekday,
            "weekday_number": wnum,
            "weeknumber": weeknumber,
            "year": year,
        }),
    );
}

/// `ansible_lsb`: `lsb_release -a` when the host has it, else /etc/lsb-release.
fn lsb(raw: &Raw, f: &mut Map<String, Value>) {
    let mut m: Map<String, Value> = Map::new();
    for line in raw.get("lsb") {
        let Some((_, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let key = if line.contains("LSB Version:") || line.contains("Release:") {
            "release"
        } else if line.contains("Distributor ID:") {
            "id"
        } else if line.contains("Description:") {
            "description"
        } else if line.contains("Codename:") {
            "codename"
        } else {
            continue;
        };
        m.insert(key.into(), json!(value));
    }
    if raw.section("lsb-minimal").is_some() {
        m = lsb_minimal(raw);
    }
    if m.is_empty() {
        for line in raw.files.get("/etc/lsb-release").into_iter().flatten() {
            let Some((_, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim();
            let key = if line.contains("DISTRIB_ID") {
                "id"
            } else if line.contains("DISTRIB_RELEASE") {
                "release"
            } else if line.contains("DISTRIB_DESCRIPTION") {
                "description"
            } else if line.contains("DISTRIB_CODENAME") {
                "codename"
            } else {
                continue;
            };
            m.insert(key.into(), json!(value));
        }
    }
    if let Some(release) = m.get("release").and_then(Value::as_str) {
        let major = release.split('.').next().unwrap_or_default().to_string();
        m.insert("major_release".into(), json!(major));
    }
    for v in m.values_mut() {
        if let Value::String(s) = v {
            if !s.is_empty() {
                *s = s.trim_matches(['\'', '"', '\\']).to_string();
            }
        }
    }
    f.insert("ansible_lsb".into(), Value::Object(m));
}

/// What Debian's lsb-release-minimal `lsb_release -a` prints, read as Ansible reads it: the
/// os-release fields, ID capitalized (or NAME when they differ only in case), "n/a" for
/// empty ones.
fn lsb_minimal(raw: &Raw) -> Map<String, Value> {
    let lines = raw
        .files
        .get("/etc/os-release")
        .or_else(|| raw.files.get("/usr/lib/os-release"))
        .cloned()
        .unwrap_or_default();
    let kv: BTreeMap<String, String> = lines
        .iter()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .collect();
    let field = |k: &str| kv.get(k).cloned().unwrap_or_default();
    let id = field("ID");
    let mut chars = id.chars();
    let mut id: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if let Some(name) = kv.get("NAME") {
        if id.to_lowercase() == name.to_lowercase() {
            id = name.clone();
        }
    }
    let or_na = |v: String| if v.is_empty() { "n/a".to_string() } else { v };
    let mut m = Map::new();
    m.insert("id".into(), json!(or_na(id)));
    m.insert("description".into(), json!(or_na(field("PRETTY_NAME"))));
    m.insert("release".into(), json!(or_na(field("VERSION_ID"))));
    m.insert("codename".into(), json!(or_na(field("VERSION_CODENAME"))));
    m
}

/// `ansible_selinux` from the kernel's selinuxfs and /etc/selinux/config, as Ansible reports
/// it with Python's selinux bindings present.
fn selinux(raw: &Raw, f: &mut Map<String, Value>) {
    let Some(enforce) = raw.file("/sys/fs/selinux/enforce") else {
        f.insert("ansible_selinux".into(), json!({"status": "disabled"}));
        return;
    };
    let mode = |v: &str| match v {
        "1" | "enforcing" => "enforcing",
        "0" | "permissive" => "permissive",
        "-1" | "disabled" => "disabled",
        _ => "unknown",
    };
    let config: BTreeMap<String, String> = raw
        .files
        .get("/etc/selinux/config")
        .into_iter()
        .flatten()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let policyvers = raw
        .file("/sys/fs/selinux/policyvers")
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(json!("unknown"), |v| json!(v));
    f.insert(
        "ansible_selinux".into(),
        json!({
            "status": "enabled",
            "policyvers": policyvers,
            "config_mode": config.get("SELINUX").map_or("unknown", |v| mode(v)),
            "mode": mode(&enforce),
            "type": config.get("SELINUXTYPE").map_or("unknown", String::as_str),
        }),
    );
}

fn service_mgr(init: &[String], f: &mut Map<String, Value>) {
    let systemd = init.iter().any(|l| l.contains("systemd"));
    let mgr = if systemd {
        "systemd"
    } else if init.first().is_some_and(|l| l.trim() == "init") {
        "sysvinit"
    } else {
        init.first().map_or("service", |s| s.trim())
    };
    f.insert("ansible_service_mgr".into(), json!(mgr));
}

/// Hex dump lines of `od -An -v -tx1` back to bytes.
fn unhex(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| l.split_whitespace())
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

/// The `.fact` files the script reported.
fn local_sources(raw: &Raw) -> Vec<local::Source> {
    let mut out = Vec::new();
    let mut iter = raw.list.iter().peekable();
    while let Some((name, lines)) = iter.next() {
        if let Some(path) = name.strip_prefix("local-file ") {
            out.push(local::Source::File {
                path: path.to_string(),
                bytes: unhex(lines),
            });
        } else if let Some(rest) = name.strip_prefix("local-run ") {
            let (rc, path) = rest.split_once(' ').unwrap_or((rest, ""));
            let err = match iter.peek() {
                Some((n, l)) if n == "local-err" => {
                    let e = unhex(l);
                    iter.next();
                    e
                }
                _ => Vec::new(),
            };
            out.push(local::Source::Run {
                path: path.to_string(),
                rc: rc.parse().unwrap_or(-1),
                out: unhex(lines),
                err,
            });
        } else if let Some(path) = name.strip_prefix("local-fail ") {
            out.push(local::Source::Failed {
                path: path.to_string(),
            });
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

#[cfg(test)]
mod tests;
