//! How to reach each host: the inventory's connection variables (`ansible_connection`,
//! `ansible_host`, `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`,
//! `ansible_ssh_args`, `ansible_ssh_common_args`, `ansible_ssh_extra_args`) over the command
//! line, the environment and ansible.cfg, as Ansible resolves them; and become (sudo, with
//! `-K`'s password on standard input).

use std::time::Duration;

use serde_json::Value;

use crate::cli::ConnectionArgs;
use crate::inventory::Inventory;
use crate::playbook::{Play, Vars};
use crate::transport::{CONNECTIONS_HINT, ConnectionKind, SshArgs, SshArgsKind, Target};

/// Whether host keys are checked: yes, unless `--no-host-key-checking` or Ansible's
/// host_key_checking (ansible.cfg, `ANSIBLE_HOST_KEY_CHECKING`, applied by
/// [`crate::commands`]) says otherwise.
pub fn check_host_keys(args: &ConnectionArgs) -> bool {
    !args.no_host_key_checking
}

/// The backend `value` (of `ansible_connection`, set in `source`) names for `host`.
fn connection_kind(host: &str, source: &str, value: &Value) -> Result<ConnectionKind, String> {
    // `!unsafe` text is never templated: it is taken as written.
    let never_templated = crate::inventory::unsafe_text(value);
    let text = match (value, never_templated) {
        (_, Some(s)) => s.to_string(),
        (Value::String(s), None) => s.clone(),
        (other, None) => other.to_string(),
    };
    let why = match (value, never_templated) {
        (Value::String(s), None) if s.contains("{{") || s.contains("{%") => {
            "is a template, which hactl does not render here"
        }
        (Value::String(_), None) | (_, Some(_)) => match ConnectionKind::parse(text.trim()) {
            Some(kind) => return Ok(kind),
            None => "is not supported",
        },
        _ => "is not a connection name",
    };
    Err(format!(
        "{host}: ansible_connection '{text}' (from the {source}) {why}; {CONNECTIONS_HINT}"
    ))
}

/// The connection target for `host` in `play`. Ansible's precedence: `ansible_connection`
/// from extra vars, then the play's `vars`, then the inventory, then the play's `connection`
/// keyword, then ssh.
pub fn play_target(
    inv: &Inventory,
    host: &str,
    args: &ConnectionArgs,
    play: &Play,
    extra_vars: &Vars,
) -> Result<Target, String> {
    let mut t = target(inv, host, args)?;
    let key = "ansible_connection";
    if let Some(v) = extra_vars.get(key) {
        t.connection = connection_kind(host, "extra vars", v)?;
    } else if let Some(v) = play.vars.get(key) {
        t.connection = connection_kind(host, "play vars", v)?;
    } else if inv.host_vars(host).get(key).is_none() {
        if let Some(name) = &play.keywords.connection {
            // The loader has checked the name; an unknown one here would be a loader bug.
            t.connection = ConnectionKind::parse(name)
                .ok_or_else(|| format!("{host}: play connection '{name}': {CONNECTIONS_HINT}"))?;
        }
    }
    Ok(t)
}

/// The connection target for `host`, from the inventory and the command line.
pub fn target(inv: &Inventory, host: &str, args: &ConnectionArgs) -> Result<Target, String> {
    let vars = inv.host_vars(host);
    let connection = match vars.get("ansible_connection") {
        Some(v) => connection_kind(host, "inventory", v)?,
        None => ConnectionKind::Ssh,
    };
    let text = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| match vars.get(*k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    // hactl becomes with sudo only: another method named for the host is refused, not ignored.
    if let Some(m) = text(&["ansible_become_method"]) {
        if m.strip_prefix("ansible.builtin.").unwrap_or(&m) != "sudo" {
            return Err(format!(
                "{host}: ansible_become_method '{m}' is not supported: hactl becomes with sudo only"
            ));
        }
    }
    let port = match text(&["ansible_port", "ansible_ssh_port"]) {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("{host}: ansible_port '{p}' is not a port"))?,
        ),
        None => args.from_config.remote_port,
    };
    // Each of Ansible's three settings: the host's variable wins over the command line, which
    // wins over the environment and ansible.cfg (merged into `args` by the command).
    let origin = |key: &'static str, flag: &str| {
        args.from_config
            .origins
            .get(key)
            .cloned()
            .unwrap_or_else(|| flag.to_string())
    };
    let mut ssh_args = Vec::new();
    for (kind, var, given, source) in [
        (
            SshArgsKind::Base,
            "ansible_ssh_args",
            args.from_config.ssh_args.clone(),
            origin("ssh_args", "ssh_args"),
        ),
        (
            SshArgsKind::Common,
            "ansible_ssh_common_args",
            args.ssh_common_args.clone(),
            origin("ssh_common_args", "--ssh-common-args"),
        ),
        (
            SshArgsKind::Extra,
            "ansible_ssh_extra_args",
            args.ssh_extra_args.clone(),
            origin("ssh_extra_args", "--ssh-extra-args"),
        ),
    ] {
        let (value, source) = match text(&[var]) {
            Some(v) => (v, var.to_string()),
            None => match given {
                Some(v) => (v, source),
                None => continue,
            },
        };
        ssh_args.push(SshArgs::parse(kind, &value, &source).map_err(|e| format!("{host}: {e}"))?);
    }
    Ok(Target {
        name: host.to_string(),
        connection,
        address: text(&["ansible_host", "ansible_ssh_host"]).unwrap_or_else(|| host.to_string()),
        port,
        user: text(&["ansible_user", "ansible_ssh_user"]).or_else(|| args.user.clone()),
        private_key: text(&["ansible_ssh_private_key_file", "ansible_private_key_file"])
            .map(Into::into)
            .or_else(|| args.private_key.clone()),
        connect_timeout: Some(Duration::from_secs(args.timeout_secs().max(1))),
        ssh_args,
        check_host_key: check_host_keys(args),
        persist: Some(Duration::from_secs(args.ssh_persist)),
        control_path_dir: args.from_config.control_path_dir.clone(),
    })
}

/// The connection variables Ansible adds to a task's variables for `t` where the task has no
/// variable of that name (`PlayContext.update_vars`): `ansible_connection` (with the plugin's
/// name, `ssh` or `local`), the address, user and port, the timeout, the shell and
/// pipelining. `hostvars` does not have them. Checked against ansible-playbook 2.19 in
/// tests/connection_vars.rs.
pub fn connection_vars(t: &Target) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let name = match t.connection {
        ConnectionKind::Ssh => "ssh",
        ConnectionKind::Local => "local",
    };
    out.insert("ansible_connection".into(), Value::from(name));
    for k in ["ansible_host", "ansible_ssh_host"] {
        out.insert(k.into(), Value::from(t.address.as_str()));
    }
    if let Some(user) = &t.user {
        for k in ["ansible_user", "ansible_ssh_user"] {
            out.insert(k.into(), Value::from(user.as_str()));
        }
    }
    if let Some(port) = t.port {
        for k in ["ansible_port", "ansible_ssh_port"] {
            out.insert(k.into(), Value::from(port));
        }
    }
    let timeout = t.connect_timeout.map_or(10, |d| d.as_secs());
    for k in ["ansible_timeout", "ansible_ssh_timeout"] {
        out.insert(k.into(), Value::from(timeout));
    }
    out.insert("ansible_shell_executable".into(), Value::from("/bin/sh"));
    for k in ["ansible_pipelining", "ansible_ssh_pipelining"] {
        out.insert(k.into(), Value::from(false));
    }
    out
}

/// The sudo password `-K` asked for, for this process.
static BECOME_PASSWORD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Keeps the sudo password for every become of this run. It is masked in every output from
/// now on (like a vault value), and only ever sent on a script's standard input.
pub fn set_become_password(password: String) {
    crate::vault::revealed::remember(&password);
    let _ = BECOME_PASSWORD.set(password);
}

/// Wraps a script so it runs as `user` through sudo. Without a password (`-K`), sudo must
/// not ask for one (`-n`). With one, the wrapper reads it from the first line of its standard
/// input (see [`become_stdin`]), hands it to `sudo -S -v` through a pipe (`printf` is a shell
/// builtin: the password is in no process's arguments or environment), then runs the script
/// with `sudo -n` on the credentials just validated, with the rest of standard input. sudo
/// never reads the script's own input as a password, whether or not it asks for one.
pub fn become_script(script: &str, user: &str) -> String {
    let run = format!(
        "sudo -H -n -u {} -- sh -c {}",
        crate::transport::shell_quote(user),
        crate::transport::shell_quote(script)
    );
    if BECOME_PASSWORD.get().is_none() {
        return run;
    }
    format!(
        "IFS= read -r hactl_pw || exit 1\n\
         if ! printf '%s\\n' \"$hactl_pw\" | sudo -S -p '' -v 2>/dev/null; then\n\
         hactl_pw=; echo 'sudo: incorrect become password (-K), or sudo refused' >&2; exit 1\n\
         fi\n\
         hactl_pw=\n\
         {run}"
    )
}

/// The script and standard input to send for `script` run as `become_user` (if any).
pub fn wrap(script: &str, stdin: &[u8], become_user: Option<&str>) -> (String, Vec<u8>) {
    match become_user {
        Some(user) => (
            become_script(script, user),
            become_stdin(stdin).into_owned(),
        ),
        None => (script.to_string(), stdin.to_vec()),
    }
}

/// The standard input for a script made by [`become_script`]: the password line first when
/// `-K` gave one.
pub fn become_stdin(stdin: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match BECOME_PASSWORD.get() {
        Some(p) => {
            let mut v = Vec::with_capacity(p.len() + 1 + stdin.len());
            v.extend_from_slice(p.as_bytes());
            v.push(b'\n');
            v.extend_from_slice(stdin);
            std::borrow::Cow::Owned(v)
        }
        None => std::borrow::Cow::Borrowed(stdin),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::inventory::parse_ini;

    fn inventory(ini: &str) -> Inventory {
        parse_ini(ini, Path::new("/inv/hosts.ini"))
            .expect("inventory")
            .inventory
    }

    fn play(yaml: &str) -> Play {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("site.yml");
        std::fs::write(&path, yaml).expect("write");
        let loaded = crate::playbook::load(&path).expect("playbook");
        loaded.playbook.plays.into_iter().next().expect("a play")
    }

    fn kind(inv: &str, pb: &str, extra: &[(&str, &str)]) -> Result<ConnectionKind, String> {
        let extra: Vars = extra
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        play_target(
            &inventory(inv),
            "h1",
            &ConnectionArgs::default(),
            &play(pb),
            &extra,
        )
        .map(|t| t.connection)
    }

    const PLAIN: &str = "- hosts: h1\n  tasks: []\n";
    const KEYWORD: &str = "- hosts: h1\n  connection: local\n  tasks: []\n";
    const PLAY_VARS: &str = "- hosts: h1\n  vars:\n    ansible_connection: local\n  tasks: []\n";

    #[test]
    fn the_inventory_and_the_play_choose_the_backend() {
        use ConnectionKind::{Local, Ssh};
        assert_eq!(kind("h1\n", PLAIN, &[]), Ok(Ssh));
        assert_eq!(kind("h1 ansible_connection=local\n", PLAIN, &[]), Ok(Local));
        for ssh in ["ssh", "smart", "paramiko", "ansible.builtin.ssh"] {
            let inv = format!("h1 ansible_connection={ssh}\n");
            assert_eq!(kind(&inv, PLAIN, &[]), Ok(Ssh), "{ssh}");
        }
        assert_eq!(
            kind(
                "[all:vars]\nansible_connection=local\n[g]\nh1\n",
                PLAIN,
                &[]
            ),
            Ok(Local)
        );
        assert_eq!(kind("h1\n", KEYWORD, &[]), Ok(Local));
        // A variable beats the keyword, as in Ansible.
        assert_eq!(kind("h1 ansible_connection=ssh\n", KEYWORD, &[]), Ok(Ssh));
        // Play vars beat the inventory; extra vars beat both.
        assert_eq!(
            kind("h1 ansible_connection=ssh\n", PLAY_VARS, &[]),
            Ok(Local)
        );
        let extra = [("ansible_connection", "ssh")];
        assert_eq!(kind("h1\n", PLAY_VARS, &extra), Ok(Ssh));
    }

    #[test]
    fn other_connections_are_refused_naming_host_and_value() {
        let err = kind("h1 ansible_connection=docker\n", PLAIN, &[]).expect_err("docker");
        assert!(
            err.starts_with(
                "h1: ansible_connection 'docker' (from the inventory) is not supported"
            ),
            "{err}"
        );
        let err = kind("h1\n", PLAIN, &[("ansible_connection", "winrm")]).expect_err("winrm");
        assert!(err.contains("'winrm' (from the extra vars)"), "{err}");
        let err = kind("h1 ansible_connection='{{ c }}'\n", PLAIN, &[]).expect_err("template");
        assert!(err.contains("is a template"), "{err}");
        // `hactl run` and `hactl status` read the inventory the same way.
        let inv = inventory("h1 ansible_connection=podman\n");
        let err = target(&inv, "h1", &ConnectionArgs::default()).expect_err("podman");
        assert!(err.contains("h1: ansible_connection 'podman'"), "{err}");
    }

    #[test]
    fn host_variables_win_over_the_command_line_and_ansible_cfg() {
        let inv =
            inventory("h1 ansible_ssh_common_args='-o ProxyJump=bastion' ansible_port=2200\nh2\n");
        let mut args = ConnectionArgs {
            ssh_common_args: Some("-C".into()),
            ssh_extra_args: Some("-o ServerAliveInterval=5".into()),
            ..ConnectionArgs::default()
        };
        args.from_config.ssh_args = Some("-o ControlMaster=auto".into());
        args.from_config.remote_port = Some(2222);
        args.from_config
            .origins
            .insert("ssh_args", "ssh_args (/p/ansible.cfg:9)".into());
        let words = |t: &Target| -> Vec<(SshArgsKind, String, String)> {
            t.ssh_args
                .iter()
                .map(|a| (a.kind, a.source.clone(), a.words.join(" ")))
                .collect()
        };
        let h1 = target(&inv, "h1", &args).expect("h1");
        assert_eq!(h1.port, Some(2200));
        assert_eq!(
            words(&h1),
            [
                (
                    SshArgsKind::Base,
                    "ssh_args (/p/ansible.cfg:9)".to_string(),
                    "-o ControlMaster=auto".to_string()
                ),
                (
                    SshArgsKind::Common,
                    "ansible_ssh_common_args".into(),
                    "-o ProxyJump=bastion".into()
                ),
                (
                    SshArgsKind::Extra,
                    "--ssh-extra-args".into(),
                    "-o ServerAliveInterval=5".into()
                ),
            ]
        );
        let h2 = target(&inv, "h2", &args).expect("h2");
        assert_eq!(h2.port, Some(2222), "remote_port when the host has none");
        assert_eq!(
            words(&h2)[1],
            (SshArgsKind::Common, "--ssh-common-args".into(), "-C".into())
        );
        // A bad word names the host and where it came from.
        let inv = inventory("h3 ansible_ssh_extra_args='-M'\n");
        let err = target(&inv, "h3", &args).expect_err("-M");
        assert!(
            err.starts_with("h3: ansible_ssh_extra_args: the ssh option -M cannot be used"),
            "{err}"
        );
    }
}
