//! Where linted configs come from: `hactl render`'s machinery, limited to the template (and
//! `copy content:`) tasks whose destination is a keepalived config, rendered in memory.
//!
//! Without hosts to ask, facts come from `--facts DIR` (as for `hactl render`) or else from
//! placeholders, per host: `ansible_hostname` (the inventory name up to the first dot),
//! `ansible_nodename` and `ansible_fqdn` (the inventory name), `ansible_default_ipv4` with
//! `address` (`ansible_host` when it is an IPv4 address) and `interface` `eth0`.

use serde_json::{Map, Value, json};

use super::HostConfig;
use crate::inventory::{Inventory, pattern};
use crate::playbook::{Playbook, Vars};
use crate::run::context::Facts;
use crate::run::render;

/// Whether a destination is a keepalived config: named `keepalived.conf`, or a `.conf` under
/// `/etc/keepalived/`.
pub fn is_keepalived_conf(dest: &str) -> bool {
    let base = dest.rsplit('/').next().unwrap_or(dest);
    base == "keepalived.conf" || (dest.starts_with("/etc/keepalived/") && dest.ends_with(".conf"))
}

/// The facts lint renders with: `given` (from `--facts` or from the hosts), and placeholders
/// for every other host of the inventory.
pub fn with_placeholders(inv: &Inventory, mut given: Facts) -> Facts {
    let hosts = pattern::select(inv, "all", None)
        .map(|s| s.hosts)
        .unwrap_or_default();
    for host in hosts {
        if given.contains_key(&host) {
            continue;
        }
        given.insert(host.clone(), placeholder(inv, &host));
    }
    given
}

fn placeholder(inv: &Inventory, host: &str) -> Map<String, Value> {
    let short = host.split('.').next().unwrap_or(host);
    let address = inv
        .host_vars(host)
        .get("ansible_host")
        .and_then(Value::as_str)
        .filter(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
        .map(String::from);
    let mut ipv4 = json!({ "interface": "eth0" });
    if let Some(a) = address {
        ipv4["address"] = Value::String(a);
    }
    let mut m = Map::new();
    m.insert("ansible_hostname".into(), json!(short));
    m.insert("ansible_nodename".into(), json!(host));
    m.insert("ansible_fqdn".into(), json!(host));
    m.insert("ansible_default_ipv4".into(), ipv4);
    m
}

/// The keepalived configs of every host the playbook targets, and the hosts whose render
/// failed (`host: error`).
#[derive(Debug, Default)]
pub struct Configs {
    pub configs: Vec<HostConfig>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Renders the keepalived configs of `pb` in memory.
pub fn render(
    inv: &Inventory,
    pb: &Playbook,
    limit: Option<&str>,
    extra_vars: &Vars,
    facts: Facts,
) -> anyhow::Result<Configs> {
    let opts = render::Options {
        out: None,
        limit: limit.map(String::from),
        extra_vars: extra_vars.clone(),
        facts,
        only: Some(is_keepalived_conf),
    };
    let report = render::render(inv, pb, &opts)?;
    let configs = report
        .files
        .into_iter()
        .map(|f| HostConfig {
            host: f.host,
            file: f.dest,
            src: f.src,
            task: Some(f.task),
            mode: f.mode,
            text: String::from_utf8_lossy(&f.bytes).into_owned(),
        })
        .collect();
    Ok(Configs {
        configs,
        errors: report.errors,
        warnings: report.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_destinations() {
        assert!(is_keepalived_conf("/etc/keepalived/keepalived.conf"));
        assert!(is_keepalived_conf("/opt/lb/keepalived.conf"));
        assert!(is_keepalived_conf("/etc/keepalived/conf.d/vi_1.conf"));
        assert!(!is_keepalived_conf("/etc/keepalived/notify.sh"));
        assert!(!is_keepalived_conf("/etc/nginx/nginx.conf"));
    }

    #[test]
    fn placeholders_fill_only_missing_hosts() {
        let mut inv = Inventory::default();
        inv.add_group("lb");
        inv.add_child("all", "lb");
        inv.add_host("lb1.example.org", "lb");
        inv.add_host("lb2", "lb");
        let mut given = Facts::new();
        given.insert("lb2".into(), Map::new());
        let facts = with_placeholders(&inv, given);
        assert_eq!(facts["lb1.example.org"]["ansible_hostname"], "lb1");
        assert_eq!(
            facts["lb1.example.org"]["ansible_default_ipv4"]["interface"],
            "eth0"
        );
        assert!(facts["lb2"].is_empty(), "given facts are kept as they are");
    }
}
