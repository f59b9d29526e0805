use super::*;

/// What script.sh printed on a Debian 12 fleet host (a systemd-nspawn container), trimmed.
const DEBIAN: &str = include_str!("../../tests/fixtures/facts/debian12-nspawn.txt");

#[test]
fn debian_host() {
    let f = parse(DEBIAN);
    assert_eq!(f["ansible_hostname"], "f1");
    assert_eq!(f["ansible_kernel_version"], "#1 SMP PREEMPT_DYNAMIC @0");
    assert_eq!(f["ansible_distribution"], "Debian");
    assert_eq!(f["ansible_distribution_version"], "12.11");
    assert_eq!(f["ansible_distribution_major_version"], "12");
    assert_eq!(f["ansible_distribution_release"], "bookworm");
    assert_eq!(f["ansible_os_family"], "Debian");
    assert_eq!(f["ansible_processor_vcpus"], 2);
    assert_eq!(f["ansible_processor_count"], 1);
    assert_eq!(f["ansible_processor_cores"], 2);
    assert_eq!(f["ansible_service_mgr"], "systemd");
    assert_eq!(f["ansible_pkg_mgr"], "apt");
    assert_eq!(f["ansible_user_id"], "root");
    assert_eq!(f["ansible_user_uid"], 0);
    assert_eq!(f["ansible_user_shell"], "/bin/bash");
    assert_eq!(f["ansible_python_version"], "3.11.2");
    assert_eq!(
        f["ansible_python"]["version_info"],
        json!([3, 11, 2, "final", 0])
    );
    assert_eq!(f["ansible_python"]["executable"], "/usr/bin/python3");
    // pid 1's container= comes before /run/systemd/container in Ansible's checks.
    assert_eq!(f["ansible_virtualization_type"], "container");
    assert_eq!(f["ansible_virtualization_role"], "guest");
    assert_eq!(
        f["ansible_virtualization_tech_guest"],
        json!(["container", "docker", "systemd-nspawn"])
    );
    assert_eq!(f["ansible_lsb"]["codename"], "bookworm");
    assert_eq!(f["ansible_lsb"]["major_release"], "12");
    assert_eq!(f["ansible_selinux"], json!({"status": "disabled"}));
    assert_eq!(f["ansible_apparmor"], json!({"status": "disabled"}));
    assert_eq!(f["ansible_env"]["HOME"], "/root");
    assert_eq!(f["ansible_local"], json!({}));
    let d = &f["ansible_default_ipv4"];
    assert_eq!(d["address"], "198.51.100.11");
    assert_eq!(d["interface"], "eth0");
    assert_eq!(d["gateway"], "198.51.100.2");
    assert_eq!(d["netmask"], "255.255.255.0");
    assert_eq!(d["network"], "198.51.100.0");
    assert_eq!(d["prefix"], "24");
    assert_eq!(d["broadcast"], "");
    assert_eq!(f["ansible_default_ipv6"], json!({}));
    assert_eq!(f["ansible_lo"]["ipv4"]["address"], "127.0.0.1");
    assert_eq!(f["ansible_lo"]["type"], "loopback");
    assert!(f["ansible_lo"].get("macaddress").is_none());
    assert_eq!(f["ansible_eth0"]["ipv6"][0]["scope"], "link");
    let mounts = f["ansible_mounts"].as_array().expect("mounts");
    let root = mounts
        .iter()
        .find(|m| m["mount"] == "/run/host/incoming")
        .expect("bind mount");
    // findmnt marks it a bind mount; the later mtab line wins, in the first line's place.
    assert!(
        root["options"]
            .as_str()
            .expect("options")
            .starts_with("rw,")
    );
    assert!(
        root["options"]
            .as_str()
            .expect("options")
            .ends_with(",bind")
    );
    assert_eq!(root["uuid"], "N/A");
    assert_eq!(
        mounts
            .iter()
            .filter(|m| m["mount"] == "/run/host/incoming")
            .count(),
        1
    );
    let dt = &f["ansible_date_time"];
    assert_eq!(dt["tz"], "UTC");
    assert_eq!(dt["tz_dst"], "UTC");
    assert_eq!(dt["epoch"], dt["epoch_int"]);
}

#[test]
fn date_time_utc_fields_come_from_the_epoch() {
    let mut f = Map::new();
    date_time(
        &[
            "2024 07 Monday 1 27 01 14 30 05 1719837005 123456789 CEST +0200".into(),
            "+0100 CET".into(),
            "+0200 CEST".into(),
        ],
        &mut f,
    );
    let d = &f["ansible_date_time"];
    assert_eq!(d["iso8601"], "2024-07-01T12:30:05Z");
    assert_eq!(d["iso8601_micro"], "2024-07-01T12:30:05.123456Z");
    assert_eq!(d["iso8601_basic"], "20240701T143005123456");
    assert_eq!(d["tz"], "CEST");
    assert_eq!(d["tz_dst"], "CEST");
    // Southern hemisphere: DST is January's zone.
    let mut f = Map::new();
    date_time(
        &[
            "2024 07 Monday 1 27 01 22 30 05 1719837005 123456789 AEST +1000".into(),
            "+1100 AEDT".into(),
            "+1000 AEST".into(),
        ],
        &mut f,
    );
    assert_eq!(f["ansible_date_time"]["tz_dst"], "AEDT");
}

#[test]
fn python_versions_as_sys_version_info() {
    for (banner, info) in [
        ("Python 3.11.2", json!([3, 11, 2, "final", 0])),
        ("Python 3.12.0rc1", json!([3, 12, 0, "candidate", 1])),
        ("Python 3.13.0a2", json!([3, 13, 0, "alpha", 2])),
        ("Python 3.13.0b1+", json!([3, 13, 0, "beta", 1])),
    ] {
        let out = format!("@@ python\n/usr/bin/python3\n{banner}\n@@ end\n");
        let f = parse(&out);
        assert_eq!(f["ansible_python"]["version_info"], info, "{banner}");
    }
    // No interpreter: no python facts (Ansible could not run setup there at all).
    let f = parse("@@ end\n");
    assert!(f.get("ansible_python").is_none());
    assert!(f.get("ansible_python_version").is_none());
}

#[test]
fn processors_count_as_ansible_counts_them() {
    // Two sockets, 4 cores each, 2 threads per core: 16 vCPUs.
    let mut text = String::from("@@ files\n");
    for cpu in 0..16 {
        let socket = cpu / 8;
        for l in [
            format!("processor\t: {cpu}"),
            "vendor_id\t: GenuineIntel".into(),
            "model name\t: Xeon".into(),
            format!("physical id\t: {socket}"),
            "siblings\t: 8".into(),
            format!("core id\t\t: {}", (cpu % 8) / 2),
            "cpu cores\t: 4".into(),
        ] {
            text.push_str(&format!("/proc/cpuinfo:{l}\n"));
        }
    }
    text.push_str("@@ uname\nx86_64\n@@ end\n");
    let f = parse(&text);
    assert_eq!(f["ansible_processor_count"], 2);
    assert_eq!(f["ansible_processor_cores"], 4);
    assert_eq!(f["ansible_processor_threads_per_core"], 2);
    assert_eq!(f["ansible_processor_vcpus"], 16);
}

#[test]
fn gather_subset_matches_ansible_core() {
    let text = include_str!("../../tests/golden/facts/subsets.json");
    let cases: Vec<Value> = serde_json::from_str(text).expect("golden");
    assert!(cases.len() > 30);
    for case in cases {
        let spec: Vec<String> = serde_json::from_value(case["spec"].clone()).expect("spec");
        match (subset::collectors(&spec), case.get("error")) {
            (Ok(got), None) => {
                let want: BTreeSet<String> =
                    serde_json::from_value(case["collectors"].clone()).expect("collectors");
                let got: BTreeSet<String> = got.into_iter().map(String::from).collect();
                assert_eq!(got, want, "{spec:?}");
            }
            (Err(e), Some(want)) => assert_eq!(e, want.as_str().unwrap_or_default(), "{spec:?}"),
            (got, want) => panic!("{spec:?}: hactl {got:?}, ansible {want:?}"),
        }
    }
}

#[test]
fn subsets_limit_the_reported_facts() {
    let only_network =
        subset::collectors(&["!all".into(), "!min".into(), "network".into()]).expect("collectors");
    let f = parse_for(DEBIAN, &only_network).expect("parse");
    assert!(f.contains_key("ansible_default_ipv4"));
    assert!(f.contains_key("ansible_distribution"));
    assert!(f.contains_key("ansible_python_version"));
    for absent in [
        "ansible_env",
        "ansible_mounts",
        "ansible_python",
        "ansible_date_time",
    ] {
        assert!(!f.contains_key(absent), "{absent}");
    }
    let planned = plan(&Options {
        subset: vec!["!all".into()],
        timeout: Some(3),
        fact_path: Some("/srv/my facts".into()),
        python: None,
    })
    .expect("plan");
    assert!(planned.script.starts_with("hf_want='apparmor caps"));
    assert!(planned.script.contains("hf_timeout=3\n"));
    assert!(planned.script.contains("hf_factpath='/srv/my facts'\n"));
    assert!(
        plan(&Options {
            subset: vec!["bogus".into()],
            ..Default::default()
        })
        .is_err()
    );
}

#[test]
fn local_ini_reads_as_python_configparser() {
    let text = include_str!("../../tests/golden/facts/local.json");
    let cases: Vec<Value> = serde_json::from_str(text).expect("golden");
    for case in cases {
        let input = case["text"].as_str().expect("text");
        match (local::ini(input), case.get("fact"), case.get("error")) {
            (Ok(got), Some(want), None) => {
                let got = serde_json::to_value(&got).expect("json");
                assert_eq!(&got, want, "{input:?}");
            }
            (Err(local::IniError::Interpolation(_)), None, Some(e)) => {
                assert!(
                    e.as_str().unwrap_or_default().starts_with("Interpolation"),
                    "{input:?}"
                );
            }
            (Err(local::IniError::Parse), None, Some(e)) => {
                assert!(
                    !e.as_str().unwrap_or_default().starts_with("Interpolation"),
                    "{input:?}"
                );
            }
            (got, want, err) => panic!("{input:?}: hactl {got:?}, python {want:?} {err:?}"),
        }
    }
}

#[test]
fn local_facts_files_scripts_and_failures() {
    let sources = vec![
        local::Source::Run {
            path: "/etc/ansible/facts.d/b.fact".into(),
            rc: 2,
            out: Vec::new(),
            err: b"boom\n".to_vec(),
        },
        local::Source::File {
            path: "/etc/ansible/facts.d/a.fact".into(),
            bytes: b"  {\"x\": 1}\n".to_vec(),
        },
        local::Source::File {
            path: "/etc/ansible/facts.d/c.fact".into(),
            bytes: b"garbage\n".to_vec(),
        },
        local::Source::File {
            path: "/etc/ansible/facts.d/d.fact".into(),
            bytes: vec![0xff, 0xfe],
        },
    ];
    let got = local::collect(&sources).expect("collect");
    assert_eq!(
        Value::Object(got),
        json!({
            "a": {"x": 1},
            "b": "Failure executing fact script (/etc/ansible/facts.d/b.fact), rc: 2, err: boom\n",
            "c": "error loading facts as JSON or ini - please check content: /etc/ansible/facts.d/c.fact",
            "d": {},
        })
    );
}

#[test]
fn garbage_never_panics() {
    for input in [
        "",
        "@@",
        "@@ addr1\n2: eth0 inet /x",
        "@@ net-order\neth0\n@@ addr1\n1: eth0: <>\n    inet 1.2.3.4/99\n    inet6 x\n",
        "@@ files\n/proc/meminfo:MemTotal: x",
        "@@ date\n1 2 3",
        "@@ python\n/x\nPython 3",
        "@@ statvfs\n1 2 3\n@@ files\n/etc/mtab:/dev/x /\\0 ext4 rw 0 0",
        "@@ local-run x\n@@ local-err\nzz",
    ] {
        let _ = parse(input);
    }
}

#[test]
fn environment_reads_dash_and_bash_export_lists() {
    let dash = [
        "export A='plain'".to_string(),
        "export B='it'\"'\"'s'".into(),
        "export C='two".into(),
        "lines'".into(),
        "export UNSET".into(),
    ];
    let env = environment(&dash);
    assert_eq!(env["A"], "plain");
    assert_eq!(env["B"], "it's");
    assert_eq!(env["C"], "two\nlines");
    assert!(!env.contains_key("UNSET"));
    let bash = [
        "export D=\"a \\\"q\\\" \\$x\"".to_string(),
        "export E=\"\"".into(),
    ];
    let env = environment(&bash);
    assert_eq!(env["D"], "a \"q\" $x");
    assert_eq!(env["E"], "");
}
