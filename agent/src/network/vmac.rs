//! `use_vmac`: the macvlan interface an IPv4 instance runs on, with the VRRP virtual MAC
//! 00:00:5e:00:01:VRID (RFC 3768 section 7.3), as keepalived 2.2.7 makes it
//! (`netlink_link_add_vmac`, `set_interface_parameters`, `clear_rp_filter`).
//!
//! What keepalived does, and so the agent (checked against keepalived in a namespace, see
//! `tests/interop_vmac.rs`):
//! - a macvlan in mode *private* on the instance's interface, with the virtual MAC, IPv6
//!   address generation off (`addrgenmode none`) and IPv6 disabled (unless excluded addresses
//!   are IPv6), set up at start and kept up whatever the state (BACKUP too), deleted at stop;
//! - sysctls on it: `arp_ignore 1`, `accept_local 1`, `rp_filter 0`, `promote_secondaries 1`;
//!   on the base interface `arp_ignore 1` and `arp_filter 1` (keepalived 2.2.7 leaves those
//!   at 1 when it stops, and so does the agent);
//! - `net.ipv4.conf.all.rp_filter` cleared while it runs, once every interface's own
//!   `rp_filter` (and `default`) has been raised to the old `all` value, so that nothing but
//!   the VMAC changes behaviour; put back at exit ([`RpFilter`]).
//!
//! Choosing the interface ([`plan`]): an existing private macvlan on the same base with the
//! virtual MAC is taken over as it is, whatever its name; a configured name held by another
//! macvlan is deleted and made again; a configured name held by anything else is ignored with a
//! warning, as is one that is in use, and the name is made up: `PREFIX.VRID`, else
//! `PREFIX1.VRID`, `PREFIX2.VRID`... (`vmac_prefix`, default `vrrp`). IPv6 VMACs are refused
//! by the config checks.

use std::path::Path;

use futures::TryStreamExt as _;
use rtnetlink::LinkMacVlan;
use rtnetlink::packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute,
    LinkInfo, LinkMessage, MacVlanMode,
};

use super::{NetError, Netlink};

/// Linux interface names are shorter than IFNAMSIZ (16).
const IFNAMSIZ: usize = 16;

/// The IPv4 VRRP virtual MAC of `vrid` (RFC 3768 section 7.3).
pub fn virtual_mac(vrid: u8) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, 0x01, vrid]
}

/// What an instance asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacRequest {
    /// The instance, for logs.
    pub instance: String,
    /// The instance's interface.
    pub base: String,
    pub vrid: u8,
    /// `use_vmac NAME`.
    pub name: Option<String>,
    /// `vmac_prefix`, default `vrrp`.
    pub prefix: String,
    /// Names other instances of this config give their VMACs: never made up for this one.
    pub taken: Vec<String>,
    /// Excluded addresses of the other family: IPv6 stays enabled on the VMAC.
    pub ipv6: bool,
}

/// The VMAC an instance runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacLink {
    pub name: String,
    pub ifindex: u32,
    pub base: String,
    /// Made by this run (the link monitor reports it), rather than taken over.
    pub created: bool,
    /// Up and running when taken over.
    pub up: bool,
}

/// An existing interface, as far as choosing the VMAC goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExistingLink {
    pub name: String,
    pub ifindex: u32,
    /// IFLA_LINK: the interface a macvlan sits on.
    pub link: Option<u32>,
    /// `macvlan` or `ipvlan`.
    pub kind: Option<String>,
    pub macvlan_private: bool,
    pub mac: Vec<u8>,
    /// IFF_UP and IFF_RUNNING.
    pub up: bool,
}

/// What to do to get the VMAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Take over this existing interface as it is.
    Reuse(String),
    /// Delete the existing interface `ifindex` (a macvlan that does not fit) and create `name`.
    Replace { name: String, ifindex: u32 },
    /// Create `name`.
    Create(String),
}

/// keepalived's choice of the VMAC (`vrrp_vmac_handler`, `vrrp_complete_instance`,
/// `create_vmac_name`), with the warnings it prints.
pub fn plan(req: &VmacRequest, base_ifindex: u32, links: &[ExistingLink]) -> (Plan, Vec<String>) {
    let mut warnings = Vec::new();
    let inst = &req.instance;
    let by_name = |n: &str| links.iter().find(|l| l.name == n);
    let mut name = req.name.clone();
    if let Some(n) = &name {
        if by_name(n).is_some_and(|l| !l.macvlan_private) {
            warnings.push(format!(
                "({inst}) interface {n} already exists and is not a private macvlan; ignoring \
                 vmac if_name"
            ));
            name = None;
        }
    }
    let mac = virtual_mac(req.vrid);
    if let Some(found) = links
        .iter()
        .find(|l| l.link == Some(base_ifindex) && l.macvlan_private && l.mac == mac)
    {
        if let Some(n) = name.as_ref().filter(|n| **n != found.name) {
            warnings.push(format!(
                "({inst}) vmac name mismatch {n} <=> {f}. changing to {f}.",
                f = found.name
            ));
        }
        return (Plan::Reuse(found.name.clone()), warnings);
    }
    if let Some(n) = &name {
        if let Some(l) = by_name(n) {
            if matches!(l.kind.as_deref(), Some("macvlan" | "ipvlan")) {
                warnings.push(format!(
                    "({inst}) VMAC {n} already exists but is incompatible. It will be \
                     deleted/updated"
                ));
                return (
                    Plan::Replace {
                        name: n.clone(),
                        ifindex: l.ifindex,
                    },
                    warnings,
                );
            }
        }
        return (Plan::Create(n.clone()), warnings);
    }
    let free = |n: &str| by_name(n).is_none() && !req.taken.iter().any(|t| t == n);
    let mut num = 0u32;
    loop {
        let suffix = if num == 0 {
            format!(".{}", req.vrid)
        } else {
            format!("{num}.{}", req.vrid)
        };
        // keepalived shortens the prefix so that the name fits IFNAMSIZ.
        let room = (IFNAMSIZ - 1).saturating_sub(suffix.len());
        let prefix: String = req.prefix.chars().take(room).collect();
        let candidate = format!("{prefix}{suffix}");
        if free(&candidate) {
            return (Plan::Create(candidate), warnings);
        }
        num += 1;
    }
}

fn existing(msg: &LinkMessage) -> ExistingLink {
    use rtnetlink::packet_route::link::LinkFlags;
    let flags = msg.header.flags;
    let mut l = ExistingLink {
        ifindex: msg.header.index,
        up: flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::Running),
        ..ExistingLink::default()
    };
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => l.name = n.clone(),
            LinkAttribute::Link(i) => l.link = Some(*i),
            LinkAttribute::Address(a) => l.mac = a.clone(),
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    match info {
                        LinkInfo::Kind(InfoKind::MacVlan) => l.kind = Some("macvlan".into()),
                        LinkInfo::Kind(InfoKind::IpVlan) => l.kind = Some("ipvlan".into()),
                        LinkInfo::Data(InfoData::MacVlan(data)) => {
                            l.macvlan_private |= data
                                .iter()
                                .any(|d| matches!(d, InfoMacVlan::Mode(MacVlanMode::Private)));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    l.macvlan_private &= l.kind.as_deref() == Some("macvlan");
    l
}

/// Writes one sysctl under /proc/sys (the daemon's network namespace).
fn set_sysctl(path: &str, value: &str) -> Result<(), NetError> {
    std::fs::write(Path::new("/proc/sys").join(path), value)
        .map_err(|e| NetError::io("write sysctl", path, e))
}

fn get_sysctl(path: &str) -> Option<u32> {
    std::fs::read_to_string(Path::new("/proc/sys").join(path))
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl Netlink {
    async fn links(&self) -> Result<Vec<ExistingLink>, NetError> {
        let err = |source| NetError::Netlink {
            op: "dump links",
            ifindex: 0,
            source,
        };
        let mut out = Vec::new();
        let mut stream = self.handle.link().get().execute();
        while let Some(msg) = stream.try_next().await.map_err(err)? {
            out.push(existing(&msg));
        }
        Ok(out)
    }

    /// Makes (or takes over) the VMAC of `req`; the warnings keepalived would print are logged.
    pub async fn setup_vmac(&self, req: &VmacRequest) -> Result<VmacLink, NetError> {
        let base_ifindex = super::ifindex(&req.base)?;
        let links = self.links().await?;
        let (plan, warnings) = plan(req, base_ifindex, &links);
        for w in warnings {
            tracing::warn!("{w}");
        }
        let name = match plan {
            Plan::Reuse(name) => {
                tracing::info!(instance = %req.instance, vmac = %name, "using the existing VMAC");
                let found = links.iter().find(|l| l.name == name);
                return Ok(VmacLink {
                    ifindex: found.map_or(0, |l| l.ifindex),
                    up: found.is_some_and(|l| l.up),
                    name,
                    base: req.base.clone(),
                    created: false,
                });
            }
            Plan::Replace { name, ifindex } => {
                self.delete_link(ifindex).await?;
                name
            }
            Plan::Create(name) => name,
        };
        let err = |op| {
            move |source| NetError::Netlink {
                op,
                ifindex: base_ifindex,
                source,
            }
        };
        self.handle
            .link()
            .add(
                LinkMacVlan::new(&name, base_ifindex, MacVlanMode::Private)
                    .address(virtual_mac(req.vrid).to_vec())
                    .build(),
            )
            .execute()
            .await
            .map_err(err("create macvlan"))?;
        let ifindex = super::ifindex(&name)?;
        for (key, value) in [
            ("arp_ignore", "1"),
            ("accept_local", "1"),
            ("rp_filter", "0"),
            ("promote_secondaries", "1"),
        ] {
            set_sysctl(&format!("net/ipv4/conf/{name}/{key}"), value)?;
        }
        for key in ["arp_ignore", "arp_filter"] {
            let path = format!("net/ipv4/conf/{}/{key}", req.base);
            if get_sysctl(&path) != Some(1) {
                set_sysctl(&path, "1")?;
            }
        }
        let disable = if req.ipv6 { "0" } else { "1" };
        set_sysctl(&format!("net/ipv6/conf/{name}/disable_ipv6"), disable)?;
        // Not part of the creation: the kernel ignores IFLA_AF_SPEC on a new link.
        let mut gen_mode = LinkMessage::default();
        gen_mode.header.index = ifindex;
        gen_mode
            .attributes
            .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
            )]));
        self.handle
            .link()
            .set(gen_mode)
            .execute()
            .await
            .map_err(err("set addrgenmode none"))?;
        let mut up = LinkMessage::default();
        up.header.index = ifindex;
        up.header.flags = rtnetlink::packet_route::link::LinkFlags::Up;
        up.header.change_mask = rtnetlink::packet_route::link::LinkFlags::Up;
        self.handle
            .link()
            .set(up)
            .execute()
            .await
            .map_err(err("set VMAC up"))?;
        tracing::info!(instance = %req.instance, vmac = %name, "created the VMAC interface");
        Ok(VmacLink {
            name,
            ifindex,
            base: req.base.clone(),
            created: true,
            up: true,
        })
    }

    async fn delete_link(&self, ifindex: u32) -> Result<(), NetError> {
        self.handle
            .link()
            .del(ifindex)
            .execute()
            .await
            .map_err(|source| NetError::Netlink {
                op: "delete link",
                ifindex,
                source,
            })
    }

    /// Deletes the VMAC (at stop, as keepalived does, even one it took over).
    pub async fn remove_vmac(&self, link: &VmacLink) -> Result<(), NetError> {
        self.delete_link(link.ifindex).await
    }
}

/// `net.ipv4.conf.all.rp_filter` while VMACs run: keepalived's `clear_rp_filter` and
/// `restore_rp_filter`.
#[derive(Debug, Default)]
pub struct RpFilter {
    /// The old `all` value; `None`: nothing was changed.
    all: Option<u32>,
    /// The old `default` value, if it was raised.
    default: Option<u32>,
    /// Interfaces whose own value was raised, with their old value.
    raised: Vec<(String, u32)>,
}

impl RpFilter {
    /// Clears `all.rp_filter` (if set) after raising `default` and every interface but
    /// loopback (which keepalived does not track) to its value.
    pub fn clear() -> RpFilter {
        let mut saved = RpFilter::default();
        let Some(all) = get_sysctl("net/ipv4/conf/all/rp_filter").filter(|v| *v != 0) else {
            return saved;
        };
        saved.all = Some(all);
        if let Some(d) = get_sysctl("net/ipv4/conf/default/rp_filter").filter(|d| *d < all) {
            tracing::info!("setting sysctl net.ipv4.conf.default.rp_filter from {d} to {all}");
            if set_sysctl("net/ipv4/conf/default/rp_filter", &all.to_string()).is_ok() {
                saved.default = Some(d);
            }
        }
        let names = std::fs::read_dir("/sys/class/net")
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for name in names {
            let loopback = std::fs::read_to_string(format!("/sys/class/net/{name}/type"))
                .is_ok_and(|t| t.trim() == "772");
            let path = format!("net/ipv4/conf/{name}/rp_filter");
            let Some(v) = get_sysctl(&path).filter(|v| !loopback && *v < all) else {
                continue;
            };
            if set_sysctl(&path, &all.to_string()).is_ok() {
                saved.raised.push((name, v));
            }
        }
        tracing::info!("setting sysctl net.ipv4.conf.all.rp_filter from {all} to 0");
        if let Err(e) = set_sysctl("net/ipv4/conf/all/rp_filter", "0") {
            tracing::error!(error = %e, "clearing net.ipv4.conf.all.rp_filter");
        }
        saved
    }

    /// Puts back what [`RpFilter::clear`] changed, where nobody changed it since.
    pub fn restore(self) {
        let Some(all) = self.all else {
            return;
        };
        if get_sysctl("net/ipv4/conf/all/rp_filter") == Some(0) {
            tracing::info!("resetting sysctl net.ipv4.conf.all.rp_filter to {all}");
            let _ = set_sysctl("net/ipv4/conf/all/rp_filter", &all.to_string());
        }
        if let Some(d) = self.default {
            if get_sysctl("net/ipv4/conf/default/rp_filter") == Some(all) {
                tracing::info!("resetting sysctl net.ipv4.conf.default.rp_filter to {d}");
                let _ = set_sysctl("net/ipv4/conf/default/rp_filter", &d.to_string());
            }
        }
        for (name, v) in self.raised {
            let path = format!("net/ipv4/conf/{name}/rp_filter");
            if get_sysctl(&path) == Some(all) {
                let _ = set_sysctl(&path, &v.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(name: Option<&str>) -> VmacRequest {
        VmacRequest {
            instance: "VI_1".into(),
            base: "eth0".into(),
            vrid: 51,
            name: name.map(str::to_string),
            prefix: "vrrp".into(),
            taken: Vec::new(),
            ipv6: false,
        }
    }

    fn link(name: &str, ifindex: u32) -> ExistingLink {
        ExistingLink {
            name: name.into(),
            ifindex,
            ..ExistingLink::default()
        }
    }

    fn macvlan(name: &str, ifindex: u32, base: u32, mac: [u8; 6]) -> ExistingLink {
        ExistingLink {
            link: Some(base),
            kind: Some("macvlan".into()),
            macvlan_private: true,
            mac: mac.to_vec(),
            ..link(name, ifindex)
        }
    }

    #[test]
    fn the_virtual_mac_is_rfc_3768_s() {
        assert_eq!(virtual_mac(51), [0, 0, 0x5e, 0, 1, 0x33]);
        assert_eq!(virtual_mac(255), [0, 0, 0x5e, 0, 1, 0xff]);
    }

    #[test]
    fn default_names_are_prefix_dot_vrid_then_numbered() {
        let eth0 = link("eth0", 2);
        assert_eq!(
            plan(&req(None), 2, std::slice::from_ref(&eth0)).0,
            Plan::Create("vrrp.51".into())
        );
        // Taken by an interface (any kind) or by another instance's configured name.
        let mut r = req(None);
        r.taken = vec!["vrrp1.51".into()];
        let links = [eth0, link("vrrp.51", 3)];
        assert_eq!(plan(&r, 2, &links).0, Plan::Create("vrrp2.51".into()));
        // A long prefix is cut so that the name fits IFNAMSIZ.
        let mut r = req(None);
        r.prefix = "averyveryverylongprefix".into();
        let (Plan::Create(n), _) = plan(&r, 2, &[]) else {
            panic!("a name is made up")
        };
        assert_eq!(n, "averyveryver.51");
        assert_eq!(n.len(), IFNAMSIZ - 1);
    }

    #[test]
    fn an_existing_matching_macvlan_is_taken_over_whatever_its_name() {
        let links = [link("eth0", 2), macvlan("old", 7, 2, virtual_mac(51))];
        let (p, w) = plan(&req(Some("vmac51")), 2, &links);
        assert_eq!(p, Plan::Reuse("old".into()));
        assert_eq!(
            w,
            ["(VI_1) vmac name mismatch vmac51 <=> old. changing to old."]
        );
        // On another base, or with another MAC, it does not match.
        let links = [link("eth0", 2), macvlan("old", 7, 9, virtual_mac(51))];
        assert_eq!(
            plan(&req(None), 2, &links).0,
            Plan::Create("vrrp.51".into())
        );
        let links = [link("eth0", 2), macvlan("old", 7, 2, virtual_mac(52))];
        assert_eq!(
            plan(&req(None), 2, &links).0,
            Plan::Create("vrrp.51".into())
        );
    }

    #[test]
    fn a_configured_name_held_by_another_macvlan_is_replaced() {
        let links = [link("eth0", 2), macvlan("vmac51", 7, 2, virtual_mac(9))];
        let (p, w) = plan(&req(Some("vmac51")), 2, &links);
        assert_eq!(
            p,
            Plan::Replace {
                name: "vmac51".into(),
                ifindex: 7
            }
        );
        assert!(w[0].contains("already exists but is incompatible"), "{w:?}");
    }

    #[test]
    fn a_configured_name_held_by_a_non_macvlan_is_ignored() {
        let links = [link("eth0", 2), link("vmac51", 7)];
        let (p, w) = plan(&req(Some("vmac51")), 2, &links);
        assert_eq!(p, Plan::Create("vrrp.51".into()));
        assert_eq!(
            w,
            [
                "(VI_1) interface vmac51 already exists and is not a private macvlan; ignoring vmac if_name"
            ]
        );
        // A configured name that is free is used.
        assert_eq!(
            plan(&req(Some("vmac51")), 2, &[link("eth0", 2)]).0,
            Plan::Create("vmac51".into())
        );
    }
}
