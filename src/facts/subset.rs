//! `gather_subset`: which of Ansible's fact collectors a spec selects, computed as ansible-core's
//! `collector_classes_from_gather_subset` does (`min` is always added before the spec, `!all`
//! keeps the minimal subset, explicit names win over exclusions, dependencies are added last).
//! Checked against ansible-core's own answers in `tests/golden/facts/subsets.json`.

use std::collections::BTreeSet;

/// Every collector of ansible-core 2.19 on Linux with the fact names that select it.
const COLLECTORS: &[(&str, &[&str])] = &[
    ("apparmor", &[]),
    (
        "caps",
        &["system_capabilities", "system_capabilities_enforced"],
    ),
    ("chroot", &["is_chroot"]),
    ("cmdline", &[]),
    ("date_time", &[]),
    (
        "distribution",
        &[
            "distribution_version",
            "distribution_release",
            "distribution_major_version",
            "os_family",
        ],
    ),
    ("dns", &[]),
    ("env", &[]),
    ("facter", &["facter"]),
    ("fibre_channel_wwn", &[]),
    ("fips", &[]),
    (
        "hardware",
        &[
            "processor",
            "processor_cores",
            "processor_count",
            "mounts",
            "devices",
        ],
    ),
    ("iscsi", &[]),
    ("loadavg", &[]),
    ("local", &[]),
    ("lsb", &[]),
    (
        "network",
        &[
            "interfaces",
            "all_ipv4_addresses",
            "all_ipv6_addresses",
            "default_ipv4",
            "default_ipv6",
        ],
    ),
    ("nvme", &[]),
    ("ohai", &[]),
    ("pkg_mgr", &[]),
    (
        "platform",
        &[
            "system",
            "kernel",
            "kernel_version",
            "machine",
            "python_version",
            "architecture",
            "machine_id",
        ],
    ),
    ("python", &[]),
    ("selinux", &[]),
    ("service_mgr", &[]),
    (
        "ssh_pub_keys",
        &[
            "ssh_host_pub_keys",
            "ssh_host_key_dsa_public",
            "ssh_host_key_rsa_public",
            "ssh_host_key_ecdsa_public",
            "ssh_host_key_ed25519_public",
        ],
    ),
    ("systemd", &[]),
    (
        "user",
        &[
            "user_id",
            "user_uid",
            "user_gid",
            "user_gecos",
            "user_dir",
            "user_shell",
            "real_user_id",
            "effective_user_id",
            "effective_group_ids",
        ],
    ),
    (
        "virtual",
        &[
            "virtualization_type",
            "virtualization_role",
            "virtualization_tech_guest",
            "virtualization_tech_host",
        ],
    ),
];

/// The `setup` module's minimal subset: gathered even with `!all`.
const MINIMAL: &[&str] = &[
    "apparmor",
    "caps",
    "cmdline",
    "date_time",
    "distribution",
    "dns",
    "env",
    "fips",
    "local",
    "lsb",
    "pkg_mgr",
    "platform",
    "python",
    "selinux",
    "service_mgr",
    "ssh_pub_keys",
    "user",
];

/// Collectors (their Linux classes) that need other collectors' facts, which Ansible then runs too.
const REQUIRES: &[(&str, &[&str])] = &[
    ("hardware", &["platform"]),
    ("network", &["distribution", "platform"]),
    ("pkg_mgr", &["distribution"]),
    ("service_mgr", &["distribution", "platform"]),
];

/// Every name `gather_subset` accepts: collector names and fact names.
fn valid() -> BTreeSet<&'static str> {
    COLLECTORS
        .iter()
        .flat_map(|(name, ids)| std::iter::once(*name).chain(ids.iter().copied()))
        .collect()
}

/// The collector a name (collector or fact name) selects.
fn collector_of(name: &str) -> Option<&'static str> {
    COLLECTORS
        .iter()
        .find(|(c, ids)| *c == name || ids.contains(&name))
        .map(|(c, _)| *c)
}

/// The collectors `spec` selects, or Ansible's error for a name it does not know.
pub fn collectors(spec: &[String]) -> Result<BTreeSet<&'static str>, String> {
    let valid = valid();
    let minimal: BTreeSet<&str> = MINIMAL.iter().copied().collect();
    let spec: Vec<&str> = if spec.is_empty() {
        vec!["all"]
    } else {
        spec.iter().map(|s| s.trim()).collect()
    };
    let mut add: BTreeSet<&str> = BTreeSet::new();
    let mut exclude: BTreeSet<&str> = BTreeSet::new();
    let mut explicit: BTreeSet<&str> = BTreeSet::new();
    for subset in std::iter::once("min").chain(spec.iter().copied()) {
        match subset {
            "min" => add.extend(&minimal),
            "all" => add.extend(&valid),
            _ => {
                if let Some(name) = subset.strip_prefix('!') {
                    match name {
                        "min" => exclude.extend(&minimal),
                        "all" => exclude.extend(valid.difference(&minimal)),
                        _ => {
                            // `!hardware` also excludes the fact names that select hardware.
                            if let Some((_, ids)) = COLLECTORS.iter().find(|(c, _)| *c == name) {
                                exclude.extend(ids.iter().copied());
                            }
                            if let Some(v) = valid.get(name) {
                                exclude.insert(v);
                            }
                        }
                    }
                } else {
                    let Some(v) = valid.get(subset) else {
                        let allowed: Vec<&str> = valid.iter().copied().collect();
                        return Err(format!(
                            "Bad subset '{subset}' given to Ansible. gather_subset options allowed: all, {}",
                            allowed.join(", ")
                        ));
                    };
                    explicit.insert(v);
                    add.insert(v);
                }
            }
        }
    }
    if add.is_empty() {
        add.extend(&valid);
    }
    let drop: BTreeSet<&str> = exclude.difference(&explicit).copied().collect();
    let names: Vec<&str> = add.difference(&drop).copied().collect();
    let mut out: BTreeSet<&'static str> = names.iter().filter_map(|n| collector_of(n)).collect();
    let needed: Vec<&'static str> = REQUIRES
        .iter()
        .filter(|(c, _)| out.contains(c))
        .flat_map(|(_, deps)| deps.iter().copied())
        .collect();
    out.extend(needed);
    Ok(out)
}

/// Splits a `gather_subset` value as Ansible does: a list, or a comma-separated string.
pub fn spec_of(value: &serde_json::Value) -> Result<Vec<String>, String> {
    match value {
        serde_json::Value::String(s) => Ok(s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s.trim().to_string()),
                other => Err(format!(
                    "gather_subset entries must be strings, got {other}"
                )),
            })
            .collect(),
        serde_json::Value::Null => Ok(Vec::new()),
        other => Err(format!(
            "gather_subset must be a list or a comma-separated string, got {other}"
        )),
    }
}
