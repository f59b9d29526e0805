//! Real public roles (the corpus in /work/shared/corpus, read in place) render byte-identical
//! with `hactl render` and with ansible-playbook 2.19's template module.
//!
//! Each case builds a throwaway playbook folder whose role links the corpus role's
//! `defaults/`, `vars/` and `templates/` and has its own `tasks/main.yml` with only the role's
//! template tasks (writing under a temporary folder); the example variables come from the
//! role's own molecule/test files. Both programs run that playbook on localhost; the files
//! must be equal. Skipped (reported, not failed) when the corpus or ansible-core is absent.

// The skip notice goes to stderr, where cargo test shows it.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

const CORPUS: &str = "/work/shared/corpus";
const ANSIBLE: &str = "/opt/ansible-venv/bin";

struct Case {
    role: &'static str,
    /// Variable files of the role's own tests, relative to the role.
    vars_files: &'static [&'static str],
    /// The `vars:` of the first include_role task of a molecule converge.yml, if any.
    converge: Option<&'static str>,
    /// Extra variables (facts the templates read), as JSON.
    extra: &'static str,
    /// The tasks/main.yml put in the role; `{{ out }}` is the output folder.
    tasks: &'static str,
}

const CASES: &[Case] = &[
    Case {
        role: "oefenweb.haproxy",
        vars_files: &["tests/vars/_default.yml", "tests/vars/main.yml"],
        converge: None,
        extra: r#"{"ansible_os_family": "Debian"}"#,
        tasks: r#"
- name: haproxy.cfg
  template:
    src: "{{ haproxy_conf_template }}"
    dest: "{{ out }}/haproxy.cfg"
"#,
    },
    Case {
        role: "geerlingguy.ntp",
        vars_files: &["vars/Debian.yml"],
        converge: None,
        extra: r#"{"ntp_enabled": false, "ntp_manage_config": true}"#,
        tasks: r#"
- name: Set the ntp_driftfile variable (the role's own task)
  set_fact:
    ntp_driftfile: "{{ __ntp_driftfile }}"
  when: ntp_driftfile is not defined
- name: ntp.conf
  template:
    src: ntp.conf.j2
    dest: "{{ out }}/ntp.conf"
- name: chrony.conf
  template:
    src: chrony.conf.j2
    dest: "{{ out }}/chrony.conf"
"#,
    },
    Case {
        role: "nginxinc.nginx_config",
        vars_files: &[],
        converge: Some("molecule/reverse_proxy/converge.yml"),
        extra: "{}",
        tasks: r#"
- name: nginx.conf
  template:
    src: "{{ nginx_config_main_template['template_file'] | default('nginx.conf.j2') }}"
    dest: "{{ out }}/nginx.conf"
  when: nginx_config_main_template_enable | bool
- name: http
  template:
    src: "{{ item['template_file'] | default('http/default.conf.j2') }}"
    dest: "{{ out }}/{{ item['deployment_location'] | default('default.conf') | regex_replace('/', '_') }}"
  loop: "{{ nginx_config_http_template }}"
  when: nginx_config_http_template_enable | bool
- name: stream
  template:
    src: "{{ item['template_file'] | default('stream/default.conf.j2') }}"
    dest: "{{ out }}/{{ item['deployment_location'] | default('stream.conf') | regex_replace('/', '_') }}"
  loop: "{{ nginx_config_stream_template }}"
  when: nginx_config_stream_template_enable | bool
"#,
    },
    Case {
        role: "nginxinc.nginx_config",
        vars_files: &[],
        converge: Some("molecule/web_server/converge.yml"),
        extra: "{}",
        tasks: r#"
- name: nginx.conf
  template:
    src: "{{ nginx_config_main_template['template_file'] | default('nginx.conf.j2') }}"
    dest: "{{ out }}/nginx.conf"
  when: nginx_config_main_template_enable | bool
- name: http
  template:
    src: "{{ item['template_file'] | default('http/default.conf.j2') }}"
    dest: "{{ out }}/{{ item['deployment_location'] | default('default.conf') | regex_replace('/', '_') }}"
  loop: "{{ nginx_config_http_template }}"
  when: nginx_config_http_template_enable | bool
- name: stream
  template:
    src: "{{ item['template_file'] | default('stream/default.conf.j2') }}"
    dest: "{{ out }}/{{ item['deployment_location'] | default('stream.conf') | regex_replace('/', '_') }}"
  loop: "{{ nginx_config_stream_template }}"
  when: nginx_config_stream_template_enable | bool
"#,
    },
    Case {
        role: "nginxinc.nginx_config",
        vars_files: &[],
        converge: Some("molecule/default/converge.yml"),
        extra: "{}",
        tasks: r#"
- name: nginx.conf
  template:
    src: "{{ nginx_config_main_template['template_file'] | default('nginx.conf.j2') }}"
    dest: "{{ out }}/nginx.conf"
  when: nginx_config_main_template_enable | bool
- name: http
  template:
    src: "{{ item['template_file'] | default('http/default.conf.j2') }}"
    dest: "{{ out }}/{{ item['deployment_location'] | default('default.conf') | regex_replace('/', '_') }}"
  loop: "{{ nginx_config_http_template }}"
  when: nginx_config_http_template_enable | bool
- name: stream
  template:
    src: "{{ item['template_file'] | default('stream/default.conf.j2') }}"
    dest: "{{ out }}/{{ item['deployment_location'] | default('stream.conf') | regex_replace('/', '_') }}"
  loop: "{{ nginx_config_stream_template }}"
  when: nginx_config_stream_template_enable | bool
"#,
    },
    Case {
        role: "robertdebock.keepalived",
        vars_files: &[],
        converge: None,
        extra: r#"{"keepalived_vrrp_instances": [{"name": "VI_1", "state": "MASTER", "interface": "eth0",
            "unicast_src_ip": "198.51.100.6", "secondary_private_ip": "198.51.100.7",
            "virtual_router_id": 51, "priority": 255,
            "authentication": {"auth_type": "PASS", "auth_pass": "12345"},
            "virtual_ipaddresses": [{"name": "198.51.100.8", "cidr": 24}]}]}"#,
        tasks: r#"
- name: keepalived.conf
  template:
    src: keepalived.conf.j2
    dest: "{{ out }}/keepalived.conf"
"#,
    },
    Case {
        role: "mrlesmithjr.keepalived",
        vars_files: &[],
        converge: None,
        extra: r#"{"keepalived_config": true, "keepalived_router_info": [{"name": "vrrp_1",
            "master_node": "localhost", "router_id": 50, "router_pri_backup": 100,
            "router_pri_master": 150, "vip_int": "eth0", "vip_addresses": ["198.51.100.100"]},
            {"name": "vrrp_2", "master_node": "other", "router_id": 51, "router_pri_backup": 90,
            "router_pri_master": 140, "vip_int": "eth1", "vip_addresses": ["203.0.113.10"],
            "nopreempt": true}]}"#,
        tasks: r#"
- name: keepalived.conf
  template:
    src: etc/keepalived/keepalived.conf.j2
    dest: "{{ out }}/keepalived.conf"
- name: the one script the role's variables can render
  template:
    src: "opt/scripts/{{ item }}.j2"
    dest: "{{ out }}/{{ item }}"
  loop: [primary-backup.sh]
"#,
    },
    Case {
        role: "hifis-net.keepalived",
        vars_files: &[],
        converge: None,
        extra: r#"{"keepalived_unicast_peers": ["198.51.100.3", "198.51.100.4"],
            "keepalived_virtual_ip_address": "198.51.100.20",
            "ansible_default_ipv4": {"interface": "eth0", "address": "198.51.100.2"}}"#,
        tasks: r#"
- name: keepalived.conf
  template:
    src: keepalived.conf.j2
    dest: "{{ out }}/keepalived.conf"
- name: keepalived.service
  template:
    src: keepalived.service.j2
    dest: "{{ out }}/keepalived.service"
"#,
    },
    Case {
        role: "geerlingguy.firewall",
        vars_files: &[],
        converge: None,
        extra: r#"{"firewall_allowed_tcp_ports": ["22", "80", "443"],
            "firewall_forwarded_tcp_ports": [{"src": "22", "dest": "2222"}],
            "firewall_additional_rules": ["iptables -A INPUT -p tcp --dport 8080 -j ACCEPT"]}"#,
        tasks: r#"
- name: firewall
  template:
    src: "{{ item }}.j2"
    dest: "{{ out }}/{{ item }}"
  loop: [firewall.bash, firewall.unit, firewall.init]
"#,
    },
    Case {
        role: "geerlingguy.security",
        vars_files: &["vars/Debian.yml"],
        converge: None,
        extra: "{}",
        tasks: r#"
- name: security
  template:
    src: "{{ item }}.j2"
    dest: "{{ out }}/{{ item }}"
  loop: [fail2ban.local, 50unattended-upgrades, 10periodic]
"#,
    },
    Case {
        role: "nginxinc.nginx",
        vars_files: &[],
        converge: None,
        extra: r#"{"nginx_service_restart": "on-failure", "nginx_service_timeoutstopsec": "90s",
            "ansible_facts": {"os_family": "Debian"}}"#,
        tasks: r#"
- name: logrotate
  template:
    src: logrotate/nginx.j2
    dest: "{{ out }}/logrotate-nginx"
- name: keepalived
  template:
    src: keepalived/keepalived.conf.tmpl.j2
    dest: "{{ out }}/keepalived.conf"
- name: systemd override (the role names it by role_path)
  template:
    src: "{{ role_path }}/templates/services/nginx.service.override.conf.j2"
    dest: "{{ out }}/override.conf"
"#,
    },
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The include_role `vars:` of a converge play as JSON, read with Ansible's own Python.
fn converge_vars(path: &Path) -> String {
    let script = "import json, sys, yaml\n\
        play = yaml.safe_load(open(sys.argv[1]))\n\
        for task in play[0].get('tasks', []):\n\
        \x20   if 'vars' in task:\n\
        \x20       print(json.dumps(task['vars']))\n\
        \x20       break\n";
    let out = Command::new(format!("{ANSIBLE}/python"))
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Writes the playbook folder for `case`; returns (folder, ansible's output folder).
fn build(case: &Case, dir: &Path) -> PathBuf {
    let corpus = Path::new(CORPUS).join(case.role);
    let role = dir.join("roles").join(case.role);
    std::fs::create_dir_all(role.join("tasks")).expect("mkdir");
    for sub in ["defaults", "vars", "templates"] {
        if corpus.join(sub).is_dir() {
            std::os::unix::fs::symlink(corpus.join(sub), role.join(sub)).expect("symlink");
        }
    }
    std::fs::write(role.join("tasks/main.yml"), case.tasks).expect("tasks");
    let out = dir.join("ansible-out");
    let mut vars_files: Vec<String> = case
        .vars_files
        .iter()
        .map(|f| corpus.join(f).display().to_string())
        .collect();
    if let Some(c) = case.converge {
        std::fs::write(dir.join("converge.json"), converge_vars(&corpus.join(c))).expect("vars");
        vars_files.push(dir.join("converge.json").display().to_string());
    }
    let mut extra: serde_json::Value = serde_json::from_str(case.extra).expect("extra JSON");
    extra["out"] = serde_json::Value::from(out.display().to_string());
    std::fs::write(dir.join("extra.json"), extra.to_string()).expect("extra");
    vars_files.push(dir.join("extra.json").display().to_string());
    let play = serde_json::json!([{
        "hosts": "all",
        "gather_facts": false,
        "vars_files": vars_files,
        "roles": [case.role],
    }]);
    std::fs::write(dir.join("play.yml"), play.to_string()).expect("play");
    std::fs::write(
        dir.join("inv.ini"),
        format!("localhost ansible_connection=local ansible_python_interpreter={ANSIBLE}/python\n"),
    )
    .expect("inventory");
    std::fs::create_dir_all(&out).expect("out");
    out
}

#[test]
fn corpus_roles_render_like_ansible() {
    if !Path::new(CORPUS).is_dir() || !Path::new(ANSIBLE).join("ansible-playbook").exists() {
        eprintln!("skipped: needs {CORPUS} and ansible-core in {ANSIBLE}");
        return;
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut files_compared = 0;
    let mut summary = Vec::new();
    for case in CASES {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        let out = build(case, dir);
        let ansible = Command::new(format!("{ANSIBLE}/ansible-playbook"))
            .current_dir(dir)
            .args(["-i", "inv.ini", "play.yml"])
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCALHOST_WARNING", "False")
            .output()
            .expect("ansible-playbook");
        let hout = dir.join("hactl-out");
        let hactl = Command::new(env!("CARGO_BIN_EXE_hactl"))
            .current_dir(dir)
            .args(["render", "-i", "inv.ini", "play.yml", "--out"])
            .arg(&hout)
            .output()
            .expect("hactl");
        // A role that Ansible 2.19 itself cannot render (stricter undefined handling than
        // older releases) must fail in hactl too.
        summary.push(format!(
            "{} {}: ansible {}, hactl {}, {} files",
            case.role,
            case.converge.unwrap_or(""),
            ansible.status,
            hactl.status,
            files(&out).len()
        ));
        if !ansible.status.success() {
            compared += 1;
            if hactl.status.success() {
                failures.push(format!(
                    "{} ({}): ansible-playbook failed, hactl render did not:\n{}",
                    case.role,
                    case.converge.unwrap_or(""),
                    String::from_utf8_lossy(&ansible.stdout)
                ));
            }
            continue;
        }
        if !hactl.status.success() {
            failures.push(format!(
                "{}: hactl render failed:\n{}",
                case.role,
                String::from_utf8_lossy(&hactl.stderr)
            ));
            continue;
        }
        let want = files(&out);
        assert!(!want.is_empty(), "{}: Ansible wrote nothing", case.role);
        for w in want {
            let rel = w.strip_prefix("/").expect("absolute");
            let got = hout.join("localhost").join(rel);
            let (a, h) = (
                std::fs::read(&w).expect("ansible file"),
                std::fs::read(&got).unwrap_or_default(),
            );
            compared += 1;
            files_compared += 1;
            if a != h {
                let diff = similar::TextDiff::from_lines(
                    String::from_utf8_lossy(&a).as_ref(),
                    String::from_utf8_lossy(&h).as_ref(),
                )
                .unified_diff()
                .header("ansible", "hactl")
                .to_string();
                failures.push(format!("{} {}:\n{diff}", case.role, w.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        files_compared >= 18,
        "only {files_compared} files compared:\n{}",
        summary.join("\n")
    );
}
