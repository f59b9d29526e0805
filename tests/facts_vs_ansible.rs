//! Facts gathered by hactl's one-round-trip script match what Ansible's `setup` module reports
//! on the same real host, key by key: exactly where the value is the host's state, by type and
//! shape where it legitimately varies between two runs (times, free space, session ports).
//! `gather_subset` selects the same facts, and local facts from `fact_path` read the same.

mod common;

use std::collections::BTreeSet;

use common::fleet::{self, Fleet};
use hactl::transport::{self, Transport};
use serde_json::{Map, Value};

/// Facts compared exactly.
const EXACT: &[&str] = &[
    "ansible_hostname",
    "ansible_fqdn",
    "ansible_nodename",
    "ansible_domain",
    "ansible_all_ipv4_addresses",
    "ansible_all_ipv6_addresses",
    "ansible_default_ipv4",
    "ansible_default_ipv6",
    "ansible_distribution",
    "ansible_distribution_version",
    "ansible_distribution_major_version",
    "ansible_distribution_release",
    "ansible_os_family",
    "ansible_processor",
    "ansible_processor_vcpus",
    "ansible_processor_count",
    "ansible_processor_cores",
    "ansible_processor_threads_per_core",
    "ansible_flags",
    "ansible_memtotal_mb",
    "ansible_swaptotal_mb",
    "ansible_service_mgr",
    "ansible_pkg_mgr",
    "ansible_system",
    "ansible_kernel",
    "ansible_kernel_version",
    "ansible_machine",
    "ansible_machine_id",
    "ansible_architecture",
    "ansible_user_id",
    "ansible_user_uid",
    "ansible_user_gid",
    "ansible_user_gecos",
    "ansible_user_dir",
    "ansible_user_shell",
    "ansible_python",
    "ansible_python_version",
    "ansible_virtualization_type",
    "ansible_virtualization_role",
    "ansible_lsb",
    "ansible_selinux",
    "ansible_apparmor",
    "ansible_local",
];

/// Lists whose order is Python's set or directory order: compared as sets.
const UNORDERED: &[&str] = &[
    "ansible_interfaces",
    "ansible_virtualization_tech_guest",
    "ansible_virtualization_tech_host",
];

/// Environment variables that are the same in any two sessions of one user.
const STABLE_ENV: &[&str] = &["HOME", "LOGNAME", "USER", "SHELL", "PATH", "PWD"];

fn ansible_bin(tool: &str) -> std::path::PathBuf {
    let venv = std::env::var("HACTL_ANSIBLE_VENV").unwrap_or_else(|_| "/opt/ansible-venv".into());
    let bin = std::path::Path::new(&venv).join("bin").join(tool);
    assert!(
        bin.exists(),
        "{} missing: .ci/run installs ansible-core there",
        bin.display()
    );
    bin
}

/// `ansible -m setup` on f1 with `args`: its `ansible_facts`.
fn ansible_setup(state: &std::path::Path, args: &str) -> Map<String, Value> {
    let mut cmd = std::process::Command::new(ansible_bin("ansible"));
    cmd.args(["-i", "inventory.ini", "f1", "-m", "setup"]);
    if !args.is_empty() {
        cmd.args(["-a", args]);
    }
    let out = cmd
        .current_dir(state)
        .env("ANSIBLE_CONFIG", state.join("ansible.cfg"))
        .output()
        .expect("run ansible");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ansible setup {args} failed: {text}");
    let json: Value = serde_json::from_str(&text[text.find('{').expect("json")..]).expect("json");
    match &json["ansible_facts"] {
        Value::Object(m) => m.clone(),
        other => panic!("no ansible_facts: {other}"),
    }
}

/// hactl's facts for `opts` on f1, and how long the round trip took.
fn hactl_facts(
    state: &std::path::Path,
    opts: &hactl::facts::Options,
) -> (Map<String, Value>, std::time::Duration) {
    let plan = hactl::facts::plan(opts).expect("plan");
    let target = fleet::target(state, "f1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let conn = transport::connect(&target).await.expect("connect");
        conn.exec("true", b"").await.expect("warm up");
        let start = std::time::Instant::now();
        let out = conn.exec(&plan.script, b"").await.expect("gather");
        let took = start.elapsed();
        conn.close().await.expect("close");
        assert!(
            out.success(),
            "gathering failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let facts = hactl::facts::parse_for(&text, &plan.collectors).expect("parse");
        (facts, took)
    })
}

/// The fleet's Ansible runs with interpreter_python = /usr/bin/python3.
fn options(subset: &[&str]) -> hactl::facts::Options {
    hactl::facts::Options {
        subset: subset.iter().map(|s| s.to_string()).collect(),
        python: Some("/usr/bin/python3".into()),
        ..Default::default()
    }
}

fn sorted(v: Option<&Value>) -> Option<BTreeSet<String>> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.to_string()).collect())
}

fn compare_all(ours: &Map<String, Value>, theirs: &Map<String, Value>) {
    for key in EXACT {
        assert!(theirs.contains_key(*key), "ansible reported no {key}");
        assert_eq!(ours.get(*key), theirs.get(*key), "fact {key}");
    }
    for key in UNORDERED {
        assert!(theirs.contains_key(*key), "ansible reported no {key}");
        assert_eq!(
            sorted(ours.get(*key)),
            sorted(theirs.get(*key)),
            "fact {key}"
        );
    }
    // Every interface's dict, from the same /sys/class/net and `ip` as Ansible reads.
    for name in theirs["ansible_interfaces"].as_array().expect("interfaces") {
        let key = format!("ansible_{}", name.as_str().expect("name"));
        assert_eq!(ours.get(&key), theirs.get(&key), "fact {key}");
    }
    // Free memory moves between two runs; its type and bounds do not.
    let free = ours["ansible_memfree_mb"].as_u64().expect("memfree_mb");
    assert!(theirs["ansible_memfree_mb"].is_u64());
    assert!(free <= ours["ansible_memtotal_mb"].as_u64().expect("memtotal"));

    date_time(&ours["ansible_date_time"], &theirs["ansible_date_time"]);
    mounts(&ours["ansible_mounts"], &theirs["ansible_mounts"]);

    let (our_env, their_env) = (&ours["ansible_env"], &theirs["ansible_env"]);
    for k in STABLE_ENV {
        assert!(their_env.get(*k).is_some(), "ansible's env has no {k}");
        assert_eq!(our_env.get(*k), their_env.get(*k), "ansible_env.{k}");
    }
    // Same session kind: the same variables, apart from a terminal Ansible asks for and the
    // locale its controller forwards.
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .expect("env")
            .keys()
            .filter(|k| !["SSH_TTY", "TERM", "LC_CTYPE", "LANG", "LC_ALL"].contains(&k.as_str()))
            .cloned()
            .collect()
    };
    assert_eq!(keys(our_env), keys(their_env), "ansible_env's variables");
}

fn date_time(ours: &Value, theirs: &Value) {
    let (o, t) = (
        ours.as_object().expect("date_time"),
        theirs.as_object().expect("date_time"),
    );
    let okeys: BTreeSet<&String> = o.keys().collect();
    let tkeys: BTreeSet<&String> = t.keys().collect();
    assert_eq!(okeys, tkeys, "ansible_date_time keys");
    for k in ["tz", "tz_dst", "tz_offset"] {
        assert_eq!(o[k], t[k], "ansible_date_time.{k}");
    }
    let shapes = [
        ("date", r"^\d{4}-\d\d-\d\d$"),
        ("day", r"^\d\d$"),
        ("epoch", r"^\d+$"),
        ("epoch_int", r"^\d+$"),
        ("hour", r"^\d\d$"),
        ("iso8601", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
        ("iso8601_basic", r"^\d{8}T\d{12}$"),
        ("iso8601_basic_short", r"^\d{8}T\d{6}$"),
        ("iso8601_micro", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"),
        ("minute", r"^\d\d$"),
        ("month", r"^\d\d$"),
        ("second", r"^\d\d$"),
        ("time", r"^\d\d:\d\d:\d\d$"),
        ("weekday", r"^[A-Z][a-z]+day$"),
        ("weekday_number", r"^[0-6]$"),
        ("weeknumber", r"^\d\d$"),
        ("year", r"^\d{4}$"),
    ];
    for (k, re) in shapes {
        let re = regex::Regex::new(re).expect("regex");
        for (who, v) in [("hactl", &o[k]), ("ansible", &t[k])] {
            let s = v
                .as_str()
                .unwrap_or_else(|| panic!("{who}: {k} not a string"));
            assert!(re.is_match(s), "{who}: ansible_date_time.{k} = {s:?}");
        }
    }
    let epoch = |m: &Map<String, Value>| -> i64 {
        m["epoch"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("epoch")
    };
    assert!(
        (epoch(o) - epoch(t)).abs() < 300,
        "clocks: {} vs {}",
        o["epoch"],
        t["epoch"]
    );
    // Each of ours agrees with its own epoch.
    let utc = chrono::DateTime::from_timestamp(epoch(o), 0).expect("utc");
    assert_eq!(
        o["iso8601"].as_str(),
        Some(utc.format("%Y-%m-%dT%H:%M:%SZ").to_string().as_str())
    );
}

fn mounts(ours: &Value, theirs: &Value) {
    let (o, t) = (
        ours.as_array().expect("mounts"),
        theirs.as_array().expect("mounts"),
    );
    let fixed = |m: &Value| -> Value {
        let mut m = m.as_object().expect("mount").clone();
        // Free space moves while other programs write; the rest is the mount table's.
        for k in [
            "size_available",
            "block_available",
            "block_used",
            "inode_available",
            "inode_used",
        ] {
            let v = m.remove(k);
            assert!(v.as_ref().is_some_and(Value::is_u64), "{k} of {m:?}");
        }
        Value::Object(m)
    };
    let o: Vec<Value> = o.iter().map(fixed).collect();
    let t: Vec<Value> = t.iter().map(fixed).collect();
    assert!(!t.is_empty());
    assert_eq!(o, t, "ansible_mounts");
}

#[test]
fn facts_match_ansible_setup() {
    let Some(state) = fleet::inside() else {
        ansible_bin("ansible");
        let fleet = Fleet::up(&["f1"]);
        fleet.rerun_inside("facts_match_ansible_setup");
        return;
    };
    let theirs = ansible_setup(&state, "");
    let (ours, took) = hactl_facts(&state, &options(&[]));
    // One round trip: far below Ansible's default gather_timeout.
    assert!(
        took < std::time::Duration::from_secs(5),
        "gathering took {took:?}"
    );
    compare_all(&ours, &theirs);
}

/// The facts hactl gathers (all of them, keyed as `setup` reports them).
fn implemented(facts: &Map<String, Value>) -> BTreeSet<String> {
    facts.keys().cloned().collect()
}

#[test]
fn gather_subset_selects_what_ansible_selects() {
    let Some(state) = fleet::inside() else {
        ansible_bin("ansible");
        let fleet = Fleet::up(&["f1"]);
        fleet.rerun_inside("gather_subset_selects_what_ansible_selects");
        return;
    };
    let (all, _) = hactl_facts(&state, &options(&[]));
    let ours_all = implemented(&all);
    for spec in [
        "!all",
        "min",
        "!all,network",
        "!all,hardware",
        "!all,virtual",
        "!all,!min,network",
        "!all,!min,virtual",
        "network,!hardware",
    ] {
        let theirs = ansible_setup(&state, &format!("gather_subset={spec}"));
        let parts: Vec<&str> = spec.split(',').collect();
        let (ours, _) = hactl_facts(&state, &options(&parts));
        // Of the facts hactl gathers at all, the same ones are reported.
        let want: BTreeSet<String> = theirs
            .keys()
            .filter(|k| ours_all.contains(*k))
            .cloned()
            .collect();
        let got = implemented(&ours);
        assert_eq!(got, want, "gather_subset={spec}");
    }
}

#[test]
fn local_facts_match_ansible() {
    let Some(state) = fleet::inside() else {
        ansible_bin("ansible");
        let fleet = Fleet::up(&["f1"]);
        let setup = fleet.ssh(
            "f1",
            r#"set -e
for d in /etc/ansible/facts.d /tmp/hf-local; do
  mkdir -p $d
  printf '{"role": "web", "ports": [80, 443], "nested": {"a": null}}\n' > $d/app.fact
  printf '[general]\nName = db\nport: 5432\n[DEFAULT]\nzone = eu\n[paths]\nhome = /srv\ndata = %%(home)s/data\n' > $d/site.fact
  printf '#!/bin/sh\necho "{\\"from\\": \\"script\\", \\"pid_free\\": true}"\n' > $d/run.fact
  printf '#!/bin/sh\necho broken >&2\nexit 3\n' > $d/fail.fact
  printf 'not json and no section\n' > $d/bad.fact
  printf '' > $d/empty.fact
  chmod +x $d/run.fact $d/fail.fact
done
printf '{"only": "here"}' > /tmp/hf-local/other.fact
"#,
        );
        assert!(
            setup.status.success(),
            "{}",
            String::from_utf8_lossy(&setup.stderr)
        );
        fleet.rerun_inside("local_facts_match_ansible");
        return;
    };
    let theirs = ansible_setup(&state, "gather_subset=!all");
    let (ours, _) = hactl_facts(&state, &options(&["!all"]));
    assert!(
        theirs["ansible_local"]["site"]["paths"]["data"] == "/srv/data",
        "{:?}",
        theirs["ansible_local"]
    );
    assert_eq!(
        ours["ansible_local"], theirs["ansible_local"],
        "ansible_local"
    );

    let theirs = ansible_setup(&state, "gather_subset=!all fact_path=/tmp/hf-local");
    let mut opts = options(&["!all"]);
    opts.fact_path = Some("/tmp/hf-local".into());
    let (ours, _) = hactl_facts(&state, &opts);
    assert_eq!(theirs["ansible_local"]["other"]["only"], "here");
    assert_eq!(
        ours["ansible_local"], theirs["ansible_local"],
        "ansible_local from fact_path"
    );
}
