//! ansible.cfg and `ANSIBLE_*` read by hactl as ansible-core reads them: for the same file and
//! environment, every setting hactl honours has the value (and the origin: file or
//! environment) that `ansible-config dump --only-changed` shows, for the core settings and
//! the ssh connection plugin's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use hactl::config::{Origin, Setting, Settings};

fn venv() -> PathBuf {
    PathBuf::from(
        std::env::var("HACTL_ANSIBLE_VENV").unwrap_or_else(|_| "/opt/ansible-venv".into()),
    )
}

/// `NAME(origin) = value` lines of `ansible-config dump --only-changed`, by section (`""`
/// for the core settings, `ssh` for the ssh plugin's).
fn dump(
    dir: &Path,
    env: &BTreeMap<String, String>,
) -> BTreeMap<(String, String), (String, String)> {
    let mut cmd = Command::new(venv().join("bin/ansible-config"));
    cmd.args(["dump", "--only-changed", "-t", "all"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("ansible-config");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut section = String::new();
    let mut map = BTreeMap::new();
    let mut last: Option<(String, String)> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            last = None;
            continue;
        }
        if let Some(name) = line.strip_suffix(':').filter(|l| !l.contains('(')) {
            section = name.to_string();
            last = None;
            continue;
        }
        let Some((head, value)) = line.split_once(") = ") else {
            // A value that goes on over several lines (ssh_args with a continuation line).
            if let Some(k) = &last {
                if let Some(v) = map.get_mut(k) {
                    let (_, v): &mut (String, String) = v;
                    v.push('\n');
                    v.push_str(line);
                }
            }
            continue;
        };
        let Some((name, origin)) = head.split_once('(') else {
            continue;
        };
        let key = (section.clone(), name.to_string());
        map.insert(key.clone(), (origin.to_string(), value.to_string()));
        last = Some(key);
    }
    map
}

fn origin_text(o: &Origin) -> String {
    match o {
        Origin::Env(name) => format!("env: {name}"),
        Origin::File { path, .. } => path.display().to_string(),
    }
}

fn py_list(paths: &[PathBuf]) -> String {
    let items: Vec<String> = paths.iter().map(|p| format!("'{}'", p.display())).collect();
    format!("[{}]", items.join(", "))
}

fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.into()
}

/// What hactl read, as ansible-config prints it, under ansible-config's names. Host key
/// checking and the timeout are the ssh plugin's (which also reads `ANSIBLE_SSH_*` names).
fn ours(s: &Settings) -> BTreeMap<(String, String), (String, String)> {
    let mut m = BTreeMap::new();
    let mut put = |section: &str, name: &str, origin: &Origin, value: String| {
        m.insert(
            (section.to_string(), name.to_string()),
            (origin_text(origin), value),
        );
    };
    let text =
        |o: &Option<Setting<String>>| o.as_ref().map(|s| (s.origin.clone(), s.value.clone()));
    if let Some(x) = &s.inventory {
        put("", "DEFAULT_HOST_LIST", &x.origin, py_list(&x.value));
    }
    if let Some((o, v)) = text(&s.remote_user) {
        put("", "DEFAULT_REMOTE_USER", &o, v.clone());
        put("ssh", "remote_user", &o, v);
    }
    if let Some(x) = &s.remote_port {
        put("", "DEFAULT_REMOTE_PORT", &x.origin, x.value.to_string());
        put("ssh", "port", &x.origin, x.value.to_string());
    }
    if let Some(x) = &s.private_key_file {
        put(
            "ssh",
            "private_key_file",
            &x.origin,
            x.value.display().to_string(),
        );
    }
    if let Some(x) = &s.forks {
        put("", "DEFAULT_FORKS", &x.origin, x.value.to_string());
    }
    if let Some(x) = &s.host_key_checking {
        put("ssh", "host_key_checking", &x.origin, py_bool(x.value));
    }
    if let Some(x) = &s.timeout {
        put("ssh", "timeout", &x.origin, x.value.to_string());
    }
    if let Some(x) = &s.roles_path {
        put("", "DEFAULT_ROLES_PATH", &x.origin, py_list(&x.value));
    }
    if let Some(x) = &s.vault_password_file {
        put(
            "",
            "DEFAULT_VAULT_PASSWORD_FILE",
            &x.origin,
            x.value.display().to_string(),
        );
    }
    if let Some(x) = &s.become_ {
        put("", "DEFAULT_BECOME", &x.origin, py_bool(x.value));
    }
    if let Some((o, v)) = text(&s.become_user) {
        put("", "DEFAULT_BECOME_USER", &o, v);
    }
    if let Some((o, v)) = text(&s.become_method) {
        put("", "DEFAULT_BECOME_METHOD", &o, v);
    }
    for (name, o) in [
        ("ssh_args", &s.ssh_args),
        ("ssh_common_args", &s.ssh_common_args),
        ("ssh_extra_args", &s.ssh_extra_args),
    ] {
        if let Some((o, v)) = text(o) {
            put("ssh", name, &o, v);
        }
    }
    if let Some(x) = &s.control_path_dir {
        put(
            "ssh",
            "control_path_dir",
            &x.origin,
            x.value.display().to_string(),
        );
    }
    m
}

#[test]
fn settings_match_ansible_config_dump() {
    if !venv().join("bin/ansible-config").exists() {
        panic!(
            "ansible-core is needed at {} (HACTL_ANSIBLE_VENV)",
            venv().display()
        );
    }
    let dir = tempfile::tempdir().expect("tmp");
    let cwd = dir.path().join("project");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::write(
        cwd.join("ansible.cfg"),
        "[defaults]\ninventory = hosts.ini, other/ ; a comment\nremote_user = \"deploy\"\n\
         private_key_file = ~/keys/id\nforks = 12\nhost_key_checking = no\ntimeout = 7\n\
         roles_path = roles:/srv/roles\nvault_password_file = pw.txt\nremote_port = 2222\n\n\
         [privilege_escalation]\nbecome = True\nbecome_user = app\nbecome_method = sudo\n\n\
         [ssh_connection]\nssh_args = -C\n  -o ControlPersist=30s\n\
         ssh_common_args = -F ssh_config\nssh_extra_args: -o ServerAliveInterval=5\n\
         control_path_dir = cp\npipelining = True\n",
    )
    .expect("cfg");
    let base: BTreeMap<String, String> = [("HOME", home.display().to_string())]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut with_env = base.clone();
    for (k, v) in [
        ("ANSIBLE_FORKS", "3"),
        ("ANSIBLE_SSH_COMMON_ARGS", "-J bastion"),
        ("ANSIBLE_INVENTORY", "a.ini,b.ini"),
        ("ANSIBLE_SSH_HOST_KEY_CHECKING", "yes"),
        ("ANSIBLE_BECOME_USER", "svc"),
    ] {
        with_env.insert(k.into(), v.into());
    }
    for env in [&base, &with_env] {
        let settings = hactl::config::load(env, &cwd).expect("hactl reads it");
        let theirs = dump(&cwd, env);
        let ours = ours(&settings);
        for (key, value) in &ours {
            // ansible-config prints the ssh plugin's control_path_dir as written; the plugin
            // resolves it against the working folder, as hactl does.
            let want = theirs.get(key).cloned().map(|(o, v)| {
                if key.1 == "control_path_dir" && !v.starts_with('/') {
                    (o, cwd.join(v).display().to_string())
                } else {
                    (o, v)
                }
            });
            assert_eq!(Some(value.clone()), want, "{key:?} with {env:?}");
        }
        // And nothing ansible-config shows for these names is missing here.
        for key in theirs.keys() {
            let names = [
                "DEFAULT_HOST_LIST",
                "DEFAULT_REMOTE_USER",
                "DEFAULT_FORKS",
                "DEFAULT_ROLES_PATH",
                "DEFAULT_VAULT_PASSWORD_FILE",
                "DEFAULT_BECOME",
                "DEFAULT_BECOME_USER",
                "DEFAULT_BECOME_METHOD",
                "DEFAULT_REMOTE_PORT",
            ];
            if key.0.is_empty() && names.contains(&key.1.as_str()) {
                assert!(ours.contains_key(key), "{key:?} missing with {env:?}");
            }
        }
    }
}
