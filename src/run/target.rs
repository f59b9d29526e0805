//! How to reach each host: the inventory's connection variables (`ansible_host`,
//! `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`, `ansible_ssh_common_args`)
//! over the command line's defaults, as Ansible resolves them.

use std::time::Duration;

use serde_json::Value;

use crate::cli::ConnectionArgs;
use crate::inventory::Inventory;
use crate::transport::{Target, parse_ssh_args};

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

/// The connection target for `host`.
pub fn target(inv: &Inventory, host: &str, args: &ConnectionArgs) -> Result<Target, String> {
    let vars = inv.host_vars(host);
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
