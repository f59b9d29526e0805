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
