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
//! IPv6 addresses go into a second table, `ip6 hactl_agent`, made when the first one is
//! dropped, as keepalived makes `table ip6 keepalived`: the same `in`/`out` chains, which
//! first let neighbour discovery through (`icmpv6 type @neighbor-discovery accept`: a
//! solicitation for the VIP and the host's answer still pass, so neighbours keep resolving it),
//! then send link-local addresses (`fe80::/10`) to the chains `in_link_local`/`out_link_local`,
//! then drop `@vips`. A link-local address is dropped only on its own interface: the set
//! `vips_link_local` holds address . interface index, made with its rules when the first one
//! comes; with `dont_track_primary` (and without `nftables_ifindex`) an address on the
//! instance's interface, or with `no_track`, goes into `vips_link_local_name` (address .
//! interface name) instead, as in keepalived's `nft_update_ipv6_address`.
//!
//! With `use_vmac` keepalived also sends the IGMP reports of a VMAC out of its base interface
//! (`map vmac_map` and the `dup to ... drop` rule in `out`); the agent's table has the same map
//! and rule.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    /// `nftables_ifindex`: link-local IPv6 addresses always go into the set keyed by interface
    /// index.
    pub ifindex: bool,
}

impl Default for FirewallSettings {
    fn default() -> Self {
        FirewallSettings {
            priority: -1,
            counters: false,
            ifindex: false,
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

/// One address an instance drops, as keepalived files it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dropped {
    /// `ip hactl_agent`, set `vips`.
    V4(Ipv4Addr),
    /// `ip6 hactl_agent`, set `vips`.
    V6(Ipv6Addr),
    /// A link-local address on the interface of that index (set `vips_link_local`).
    LinkLocal(Ipv6Addr, u32),
    /// A link-local address on the interface of that name (set `vips_link_local_name`).
    LinkLocalName(Ipv6Addr, String),
}

impl Dropped {
    /// How keepalived 2.2.7 files `addr` (on interface `ifindex`/`ifname`) of an instance
    /// whose interface is `instance_if`: `no_track` is `!tracked`.
    pub fn of(
        settings: FirewallSettings,
        addr: IpAddr,
        ifindex: u32,
        ifname: &str,
        tracked: bool,
        instance_if: &str,
        dont_track_primary: bool,
    ) -> Dropped {
        match addr {
            IpAddr::V4(a) => Dropped::V4(a),
            IpAddr::V6(a) if !is_link_local(a) => Dropped::V6(a),
            IpAddr::V6(a)
                if !settings.ifindex
                    && dont_track_primary
                    && (ifname == instance_if || !tracked) =>
            {
                Dropped::LinkLocalName(a, ifname.to_string())
            }
            IpAddr::V6(a) => Dropped::LinkLocal(a, ifindex),
        }
    }

    /// The `add/delete element` line.
    fn element(&self, verb: &str) -> String {
        match self {
            Dropped::V4(a) => format!("{verb} element ip {TABLE} vips {{ {a} }}\n"),
            Dropped::V6(a) => format!("{verb} element ip6 {TABLE} vips {{ {a} }}\n"),
            Dropped::LinkLocal(a, i) => {
                format!("{verb} element ip6 {TABLE} vips_link_local {{ {a} . {i} }}\n")
            }
            Dropped::LinkLocalName(a, n) => {
                format!("{verb} element ip6 {TABLE} vips_link_local_name {{ {a} . \"{n}\" }}\n")
            }
        }
    }
}

/// `fe80::/10`, as keepalived (`IN6_IS_ADDR_LINKLOCAL`) and its `goto` rules match it.
fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

#[derive(Debug, Default)]
struct State {
    /// Whether this run created the `ip` table (and so may remove it).
    created: bool,
    /// Whether this run created the `ip6` table.
    created6: bool,
    /// Whether the link-local sets (by index, by name) and their rules exist.
    link_local: bool,
    link_local_name: bool,
    /// How many MASTER instances drop each address: the element goes when the last one
    /// leaves.
    dropped: BTreeMap<Dropped, usize>,
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
        // otherwise be merged with it, doubling its rules); both run in one transaction. A
        // stale `ip6` table goes too: this run makes its own when it first needs it.
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
             }}\n\
             add table ip6 {TABLE}\n\
             delete table ip6 {TABLE}\n"
        )
    }

    /// The nft script that (re)creates the `ip6` table, without the link-local sets (see
    /// [`Self::link_local_script`]).
    pub fn table6_script(settings: FirewallSettings) -> String {
        let counter = if settings.counters { "counter " } else { "" };
        let priority = settings.priority;
        format!(
            "add table ip6 {TABLE}\n\
             delete table ip6 {TABLE}\n\
             table ip6 {TABLE} {{\n\
             \tset vips {{\n\t\ttype ipv6_addr\n\t}}\n\
             \tset neighbor-discovery {{\n\t\ttype icmpv6_type\n\t\tflags constant\n\
             \t\telements = {{ nd-neighbor-solicit, nd-neighbor-advert }}\n\t}}\n\
             \tchain out {{\n\t\ttype filter hook output priority {priority}; policy accept;\n\
             \t\ticmpv6 type @neighbor-discovery {counter}accept\n\
             \t\tip6 saddr fe80::/10 {counter}goto out_link_local\n\
             \t\tip6 saddr @vips {counter}drop\n\t}}\n\
             \tchain in {{\n\t\ttype filter hook input priority {priority}; policy accept;\n\
             \t\ticmpv6 type @neighbor-discovery {counter}accept\n\
             \t\tip6 daddr fe80::/10 {counter}goto in_link_local\n\
             \t\tip6 daddr @vips {counter}drop\n\t}}\n\
             \tchain in_link_local {{\n\t}}\n\
             \tchain out_link_local {{\n\t}}\n\
             }}\n"
        )
    }

    /// The set of link-local addresses by interface index (`by_name`: by interface name) and
    /// its two rules, as keepalived's `setup_link_local_checks` adds them.
    pub fn link_local_script(settings: FirewallSettings, by_name: bool) -> String {
        let counter = if settings.counters { "counter " } else { "" };
        let (set, ty, iif, oif) = if by_name {
            ("vips_link_local_name", "ifname", "iifname", "oifname")
        } else {
            ("vips_link_local", "iface_index", "iif", "oif")
        };
        format!(
            "add set ip6 {TABLE} {set} {{ type ipv6_addr . {ty}; }}\n\
             add rule ip6 {TABLE} in_link_local ip6 daddr . {iif} @{set} {counter}drop\n\
             add rule ip6 {TABLE} out_link_local ip6 saddr . {oif} @{set} {counter}drop\n"
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

    /// Starts dropping packets to and from `addrs`: one transaction, which also makes the
    /// `ip6` table and link-local sets the first time they are needed.
    pub async fn drop_addresses(&self, addrs: &[Dropped]) -> Result<(), FirewallError> {
        if addrs.is_empty() {
            return Ok(());
        }
        let mut state = self.state.lock().await;
        self.ensure_locked(&mut state).await?;
        let mut script = String::new();
        let (mut created6, mut ll, mut ll_name) =
            (state.created6, state.link_local, state.link_local_name);
        for a in addrs {
            if !matches!(a, Dropped::V4(_)) && !created6 {
                script.push_str(&Self::table6_script(self.settings));
                created6 = true;
                (ll, ll_name) = (false, false);
            }
            if matches!(a, Dropped::LinkLocal(..)) && !ll {
                script.push_str(&Self::link_local_script(self.settings, false));
                ll = true;
            }
            if matches!(a, Dropped::LinkLocalName(..)) && !ll_name {
                script.push_str(&Self::link_local_script(self.settings, true));
                ll_name = true;
            }
            // Another instance may drop it already: nft would refuse a second `add`
            // of the element only with `create`, so `add` is idempotent here.
            script.push_str(&a.element("add"));
        }
        nft(&script).await?;
        if created6 && !state.created6 {
            // A fresh ip6 table: counts of IPv6 addresses from an older one are void.
            state.dropped.retain(|a, _| matches!(a, Dropped::V4(_)));
        }
        (state.created6, state.link_local, state.link_local_name) = (created6, ll, ll_name);
        for a in addrs {
            *state.dropped.entry(a.clone()).or_default() += 1;
        }
        Ok(())
    }

    /// Stops dropping `addrs` (those no other instance still drops).
    pub async fn allow_addresses(&self, addrs: &[Dropped]) -> Result<(), FirewallError> {
        let mut state = self.state.lock().await;
        if !state.created {
            return Ok(());
        }
        let mut script = String::new();
        for a in addrs {
            match state.dropped.get_mut(a) {
                Some(n) if *n > 1 => *n -= 1,
                Some(_) => {
                    state.dropped.remove(a);
                    script.push_str(&a.element("delete"));
                }
                None => {}
            }
        }
        if script.is_empty() {
            return Ok(());
        }
        nft(&script).await
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
        let mut script = format!("delete table ip {TABLE}\n");
        if std::mem::take(&mut state.created6) {
            script.push_str(&format!("delete table ip6 {TABLE}\n"));
        }
        (state.link_local, state.link_local_name) = (false, false);
        nft(&script).await
    }
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
        assert!(script.ends_with("add table ip6 hactl_agent\ndelete table ip6 hactl_agent\n"));
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
            ifindex: false,
        });
        assert!(counted.contains("priority 5;") && counted.contains("ip daddr @vips counter drop"));
    }

    #[test]
    fn ip6_table_script_matches_keepalived_s_rules() {
        // The rules as `nft list table ip6 keepalived` shows them for keepalived 2.2.7
        // (checked against it by interop_strict's IPv6 test).
        let script = Firewall::table6_script(FirewallSettings::default());
        assert!(script.starts_with("add table ip6 hactl_agent\ndelete table ip6 hactl_agent\n"));
        let input = script.split("chain in {").nth(1).expect("test value");
        let input = &input[..input.find('}').expect("test value")];
        let rules: Vec<&str> = input
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            rules,
            [
                "type filter hook input priority -1; policy accept;",
                "icmpv6 type @neighbor-discovery accept",
                "ip6 daddr fe80::/10 goto in_link_local",
                "ip6 daddr @vips drop",
            ]
        );
        assert!(
            script.contains("ip6 saddr fe80::/10 goto out_link_local\n\t\tip6 saddr @vips drop")
        );
        assert!(script.contains("elements = { nd-neighbor-solicit, nd-neighbor-advert }"));
        let counted = Firewall::table6_script(FirewallSettings {
            priority: 3,
            counters: true,
            ifindex: false,
        });
        assert!(counted.contains("priority 3;"));
        assert!(counted.contains("icmpv6 type @neighbor-discovery counter accept"));
        assert!(counted.contains("ip6 daddr fe80::/10 counter goto in_link_local"));
        assert!(counted.contains("ip6 saddr @vips counter drop"));
        let ll = Firewall::link_local_script(FirewallSettings::default(), false);
        assert!(
            ll.contains(
                "add set ip6 hactl_agent vips_link_local { type ipv6_addr . iface_index; }"
            )
        );
        assert!(ll.contains("in_link_local ip6 daddr . iif @vips_link_local drop"));
        assert!(ll.contains("out_link_local ip6 saddr . oif @vips_link_local drop"));
        let by_name = Firewall::link_local_script(FirewallSettings::default(), true);
        assert!(by_name.contains("vips_link_local_name { type ipv6_addr . ifname; }"));
        assert!(by_name.contains("ip6 daddr . iifname @vips_link_local_name drop"));
    }

    #[test]
    fn addresses_are_filed_as_keepalived_files_them() {
        let d = FirewallSettings::default();
        let v4: IpAddr = "198.51.100.1".parse().expect("test value");
        let global: IpAddr = "fd00:7::1".parse().expect("test value");
        let ll: IpAddr = "fe80::7".parse().expect("test value");
        // febf:: is still fe80::/10; fec0:: is not.
        assert!(is_link_local("febf::1".parse().expect("test value")));
        assert!(!is_link_local("fec0::1".parse().expect("test value")));
        assert_eq!(
            Dropped::of(d, v4, 2, "eth0", true, "eth0", false),
            Dropped::V4("198.51.100.1".parse().expect("test value"))
        );
        assert_eq!(
            Dropped::of(d, global, 2, "eth0", true, "eth0", true),
            Dropped::V6("fd00:7::1".parse().expect("test value"))
        );
        let ll6: Ipv6Addr = "fe80::7".parse().expect("test value");
        assert_eq!(
            Dropped::of(d, ll, 2, "eth0", true, "eth0", false),
            Dropped::LinkLocal(ll6, 2)
        );
        // dont_track_primary: by name on the instance's interface, or with no_track.
        assert_eq!(
            Dropped::of(d, ll, 2, "eth0", true, "eth0", true),
            Dropped::LinkLocalName(ll6, "eth0".into())
        );
        assert_eq!(
            Dropped::of(d, ll, 3, "eth1", true, "eth0", true),
            Dropped::LinkLocal(ll6, 3)
        );
        assert_eq!(
            Dropped::of(d, ll, 3, "eth1", false, "eth0", true),
            Dropped::LinkLocalName(ll6, "eth1".into())
        );
        // nftables_ifindex: always by index.
        let ifindex = FirewallSettings { ifindex: true, ..d };
        assert_eq!(
            Dropped::of(ifindex, ll, 2, "eth0", true, "eth0", true),
            Dropped::LinkLocal(ll6, 2)
        );
        assert_eq!(
            Dropped::LinkLocal(ll6, 2).element("add"),
            "add element ip6 hactl_agent vips_link_local { fe80::7 . 2 }\n"
        );
        assert_eq!(
            Dropped::LinkLocalName(ll6, "eth0".into()).element("delete"),
            "delete element ip6 hactl_agent vips_link_local_name { fe80::7 . \"eth0\" }\n"
        );
        assert_eq!(
            Dropped::V4("198.51.100.1".parse().expect("test value")).element("add"),
            "add element ip hactl_agent vips { 198.51.100.1 }\n"
        );
    }
}
