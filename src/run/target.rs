//! How to reach each host: the inventory's connection variables (`ansible_connection`,
//! `ansible_host`, `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`,
//! `ansible_ssh_common_args`) over the command line's defaults, as Ansible resolves them.

use std::time::Duration;

use serde_json::Value;

use crate::cli::ConnectionArgs;
use crate::inventory::Inventory;
use crate::playbook::{Play, Vars};
use crate::transport::{CONNECTIONS_HINT, ConnectionKind, Target, parse_ssh_args};

/// Whether host keys are checked: yes, unless `--no-host-key-checking` or Ansible's
/// `ANSIBLE_HOST_KEY_CHECKING=False` says otherwise.
pub fn check_host_keys(args: &ConnectionArgs) -> bool {
    if args.no_host_key_checking {
        return false;
    }
    match std::env::var("ANSIBLE_HOST_KEY_CHECKING") {
        Ok(v) => crate::playbook::value::bool_str(&v).unwrap_or(true),
        Err(_) => true,
    }
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
    let port = match text(&["ansible_port", "ansible_ssh_port"]) {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("{host}: ansible_port '{p}' is not a port"))?,
        ),
        None => None,
    };
    let mut ssh_options = Vec::new();
    for args_text in [
        args.ssh_common_args.clone(),
        text(&["ansible_ssh_common_args"]),
        text(&["ansible_ssh_extra_args"]),
    ]
    .into_iter()
    .flatten()
    {
        ssh_options.extend(parse_ssh_args(&args_text).map_err(|e| format!("{host}: {e}"))?);
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
        connect_timeout: Some(Duration::from_secs(args.timeout.max(1))),
        ssh_options,
        check_host_key: check_host_keys(args),
        persist: Some(Duration::from_secs(args.ssh_persist)),
    })
}

/// Wraps a script so it runs as `user` through sudo, without a password prompt.
pub fn become_script(script: &str, user: &str) -> String {
    format!(
        "sudo -H -n -u {} -- sh -c {}",
        crate::transport::shell_quote(user),
        crate::transport::shell_quote(script)
    )
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
}
