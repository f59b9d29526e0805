//! No accept mode (`no_accept`, strict mode): while a non-owner instance is MASTER, this host
//! drops packets addressed to its VIPs (and packets it would send from them), as keepalived
//! 2.2.7 does with its nftables rules.
//!
//! keepalived (built with NFTABLES on Debian) creates `table ip keepalived` with a set `vips`
//! and two base chains at priority `filter - 1` (`nftables_priority`): `in` on the input hook
//! (`ip daddr @vips drop`) and `out` on the output hook (`ip saddr @vips drop`). A MASTER puts
//! its VIPs and excluded addresses into the set before adding them to the interface, and takes
//! them out after removing them; the table goes at exit. The agent builds the same chains in a
//! table of its own, `ip hactl_agent`, with `nft -f -` (one atomic transaction per change), so
//! it never touches keepalived's table or anyone else's. It removes only that table, and only
//! if this run created it. A table of that name left by a killed run is replaced when the
//! agent first needs it.
//!
//! With `use_vmac` keepalived also sends the IGMP reports of a VMAC out of its base interface
//! (`map vmac_map` and the `dup to ... drop` rule in `out`); the agent's table has the same map
//! and rule.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::process::Stdio;

use tokio::io::AsyncWriteExt as _;
use tokio::sync::Mutex;

/// The agent's own nftables table (family `ip`).
pub const TABLE: &str = "hactl_agent";

/// What the drop rules look like (`global_defs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirewallSettings {
    /// `nftables_priority`: the chains' priority on their hooks; keepalived's default -1.
    pub priority: i32,
    /// `nftables_counters`: count what the rules drop.
    pub counters: bool,
}

impl Default for FirewallSettings {
    fn default() -> Self {
        FirewallSettings {
            priority: -1,
            counters: false,
        }
    }
}

/// Why a firewall change failed.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("cannot run nft (the nftables package is needed for no_accept and strict mode): {0}")]
    Spawn(#[source] std::io::Error),
    #[error("nft failed ({status}): {stderr}")]
    Nft { status: String, stderr: String },
}

/// The drop rules of every instance of this daemon, shared by the instance tasks.
#[derive(Debug)]
pub struct Firewall {
    settings: FirewallSettings,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Whether this run created the table (and so may remove it).
    created: bool,
    /// How many MASTER instances drop each address: the element goes when the last one
    /// leaves.
    dropped: BTreeMap<Ipv4Addr, usize>,
}

impl Firewall {
    pub fn new(settings: FirewallSettings) -> Self {
        Firewall {
            settings,
            state: Mutex::new(State::default()),
        }
    }

    pub fn settings(&self) -> FirewallSettings {
        self.settings
    }

    /// The nft script that (re)creates the table with an empty set.
    pub fn table_script(settings: FirewallSettings) -> String {
        let counter = if settings.counters { "counter " } else { "" };
        let priority = settings.priority;
        // `add` then `delete` clears a table left by a killed run (a fresh one would
        // otherwise be merged with it, doubling its rules); both run in one transaction.
        format!(
            "add table ip {TABLE}\n\
             delete table ip {TABLE}\n\
             table ip {TABLE} {{\n\
             \tset vips {{\n\t\ttype ipv4_addr\n\t}}\n\
             \tmap vmac_map {{\n\t\ttype iface_index : iface_index\n\t}}\n\
             \tchain out {{\n\t\ttype filter hook output priority {priority}; policy accept;\n\
             \t\tip saddr @vips {counter}drop\n\
             \t\tip protocol igmp meta oifkind \"macvlan\" dup to ip daddr device oif map @vmac_map drop\n\t}}\n\
             \tchain in {{\n\t\ttype filter hook input priority {priority}; policy accept;\n\
             \t\tip daddr @vips {counter}drop\n\t}}\n\
             }}\n"
        )
    }

    /// Creates the table (empty set) unless this run already did.
    pub async fn ensure(&self) -> Result<(), FirewallError> {
        let mut state = self.state.lock().await;
        self.ensure_locked(&mut state).await
    }

    async fn ensure_locked(&self, state: &mut State) -> Result<(), FirewallError> {
        if !state.created {
            nft(&Self::table_script(self.settings)).await?;
            state.created = true;
            state.dropped.clear();
        }
        Ok(())
    }

    /// Starts dropping packets to and from `addrs`.
    pub async fn drop_addresses(&self, addrs: &[Ipv4Addr]) -> Result<(), FirewallError> {
        if addrs.is_empty() {
            return Ok(());
        }
        let mut state = self.state.lock().await;
        self.ensure_locked(&mut state).await?;
        nft(&format!(
            "add element ip {TABLE} vips {{ {} }}\n",
            list(addrs)
        ))
        .await?;
        for a in addrs {
            *state.dropped.entry(*a).or_default() += 1;
        }
        Ok(())
    }

    /// Stops dropping `addrs` (those no other instance still drops).
    pub async fn allow_addresses(&self, addrs: &[Ipv4Addr]) -> Result<(), FirewallError> {
        let mut state = self.state.lock().await;
        if !state.created {
            return Ok(());
        }
        let mut gone = Vec::new();
        for a in addrs {
            match state.dropped.get_mut(a) {
                Some(n) if *n > 1 => *n -= 1,
                Some(_) => {
                    state.dropped.remove(a);
                    gone.push(*a);
                }
                None => {}
            }
        }
        if gone.is_empty() {
            return Ok(());
        }
        nft(&format!(
            "delete element ip {TABLE} vips {{ {} }}\n",
            list(&gone)
        ))
        .await
    }

    /// `use_vmac`: IGMP reports that would leave by `vmac` (with the virtual MAC as source,
    /// which would teach the switches that MAC on a BACKUP's port) leave by `base` instead,
    /// as keepalived's `vmac_map` rule makes them.
    pub async fn add_vmac(&self, vmac: &str, base: &str) -> Result<(), FirewallError> {
        let mut state = self.state.lock().await;
        self.ensure_locked(&mut state).await?;
        nft(&format!(
            "add element ip {TABLE} vmac_map {{ \"{vmac}\" : \"{base}\" }}\n"
        ))
        .await
    }

    /// Takes `vmac` out of the map (before it is deleted: the map holds interface indexes).
    pub async fn remove_vmac(&self, vmac: &str, base: &str) -> Result<(), FirewallError> {
        let state = self.state.lock().await;
        if !state.created {
            return Ok(());
        }
        nft(&format!(
            "delete element ip {TABLE} vmac_map {{ \"{vmac}\" : \"{base}\" }}\n"
        ))
        .await
    }

    /// Removes the table, if this run created it (at exit).
    pub async fn remove(&self) -> Result<(), FirewallError> {
        let mut state = self.state.lock().await;
        if !state.created {
            return Ok(());
        }
        state.created = false;
        state.dropped.clear();
        nft(&format!("delete table ip {TABLE}\n")).await
    }
}

fn list(addrs: &[Ipv4Addr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `nft -f -` with `script` on stdin.
async fn nft(script: &str) -> Result<(), FirewallError> {
    let mut child = tokio::process::Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(FirewallError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .await
            .map_err(FirewallError::Spawn)?;
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(FirewallError::Spawn)?;
    if output.status.success() {
        Ok(())
    } else {
        Err(FirewallError::Nft {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_script_matches_keepalived_s_rules() {
        let script = Firewall::table_script(FirewallSettings::default());
        assert!(script.starts_with("add table ip hactl_agent\ndelete table ip hactl_agent\n"));
        assert!(script.contains("type filter hook input priority -1; policy accept;"));
        assert!(script.contains("ip daddr @vips drop"));
        assert!(script.contains("type filter hook output priority -1; policy accept;"));
        assert!(script.contains("ip saddr @vips drop"));
        assert!(script.contains(
            "ip protocol igmp meta oifkind \"macvlan\" dup to ip daddr device oif map @vmac_map drop"
        ));
        let counted = Firewall::table_script(FirewallSettings {
            priority: 5,
            counters: true,
        });
        assert!(counted.contains("priority 5;") && counted.contains("ip daddr @vips counter drop"));
    }

    #[test]
    fn address_lists_are_comma_separated() {
        assert_eq!(
            list(&[
                Ipv4Addr::new(198, 51, 100, 1),
                Ipv4Addr::new(203, 0, 113, 9)
            ]),
            "198.51.100.1, 203.0.113.9"
        );
    }
}
