//! The typed configuration the agent runs, with keepalived 2.2.7's defaults filled in.
//!
//! Everything here is resolved: defaults applied, names of tracked scripts checked, values
//! clamped the way keepalived clamps them. Consumers never see a half-parsed value. An instance
//! runs over IPv4 or, when its virtual addresses are IPv6 (or `native_ipv6` is given), over
//! IPv6 with VRRPv3, as keepalived does.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use super::error::Location;

/// A whole keepalived.conf (with its includes).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    pub global: GlobalDefs,
    pub scripts: Vec<VrrpScript>,
    pub track_files: Vec<TrackFile>,
    pub track_processes: Vec<TrackProcess>,
    pub instances: Vec<Instance>,
    pub sync_groups: Vec<SyncGroup>,
    /// `static_ipaddress`: added at start whatever the VRRP state, removed at stop.
    pub static_addresses: Vec<VirtualIp>,
    /// `static_routes`: installed at start, removed at stop.
    pub static_routes: Vec<Route>,
    /// `static_rules`: installed at start, removed at stop.
    pub static_rules: Vec<Rule>,
}

/// `global_defs { }`: the parts that change VRRP behaviour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalDefs {
    pub router_id: Option<String>,
    /// `vrrp_mcast_group4`, default 224.0.0.18 (RFC 3768).
    pub mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6`, default ff02::12 (RFC 5798).
    pub mcast_group6: Ipv6Addr,
    pub enable_script_security: bool,
    pub script_user: Option<ScriptUser>,
    /// `vrrp_version`: the default for instances that do not set `version`.
    pub vrrp_version: VrrpVersion,
    /// `vrrp_garp_master_*`: the default for instances that do not set `garp_master_*`.
    pub garp: Garp,
    /// `vrrp_garp_interval`: pause between gratuitous ARPs, default 0.
    pub garp_interval: Duration,
    /// `vrrp_gna_interval`: pause between unsolicited NA rounds (IPv6), default 0.
    pub gna_interval: Duration,
    /// `vrrp_check_unicast_src`: every unicast instance drops adverts from non-peers.
    pub check_unicast_src: bool,
    /// `vrrp_lower_prio_no_advert`: the default for instances.
    pub lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert`: the default for instances.
    pub higher_prio_send_advert: bool,
    /// `vrrp_skip_check_adv_addr` (whatever its argument, as in keepalived 2.2.7): every
    /// instance skips the address check of its current master's adverts.
    pub skip_check_adv_addr: bool,
    /// `vrrp_strict`: the default of every instance's `strict_mode`.
    pub vrrp_strict: bool,
    /// `nftables_priority`: the priority of the agent's drop chains relative to the filter
    /// hook (keepalived's default -1: just before the usual filter chains).
    pub nftables_priority: i32,
    /// `nftables_counters`: the drop rules count what they drop.
    pub nftables_counters: bool,
    /// `nftables_ifindex`: link-local IPv6 drop rules match the interface index even with
    /// `dont_track_primary`.
    pub nftables_ifindex: bool,
    /// `vrrp_garp_extra_if` (old name `vrrp_vmac_garp_intvl`): the default of the instances'
    /// `garp_extra_if` delay (0: none) and its `all`.
    pub garp_extra_if: u32,
    pub garp_extra_if_all: bool,
    /// `notify_fifo` and `notify_fifo_script`: every state change, VRRP and LVS (the agent
    /// has only VRRP ones).
    pub notify_fifo: NotifyFifo,
    /// `vrrp_notify_fifo` and `vrrp_notify_fifo_script`: every VRRP state change.
    pub vrrp_notify_fifo: NotifyFifo,
    /// `vmac_prefix`: the start of the VMAC names the agent makes up (`PREFIX.VRID`);
    /// `None`: keepalived's `vrrp`.
    pub vmac_prefix: Option<String>,
}

/// A FIFO keepalived writes a line to on every state change (`INSTANCE "VI_1" MASTER 100`,
/// `GROUP "G" BACKUP 0`), created if missing, and the script it starts to read it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NotifyFifo {
    /// `notify_fifo PATH`; `None`: no FIFO (a script alone is not started).
    pub path: Option<PathBuf>,
    /// `notify_fifo PATH [USER [GROUP]]`: who owns the FIFO keepalived creates.
    pub owner: Option<ScriptUser>,
    /// `notify_fifo_script SCRIPT [USER [GROUP]]`: started with the FIFO's path appended.
    pub script: Option<Vec<String>>,
    pub script_user: Option<ScriptUser>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            enable_script_security: false,
            script_user: None,
            vrrp_version: VrrpVersion::V2,
            garp: Garp::default(),
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
            check_unicast_src: false,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            skip_check_adv_addr: false,
            vrrp_strict: false,
            nftables_priority: -1,
            nftables_counters: false,
            nftables_ifindex: false,
            garp_extra_if: 0,
            garp_extra_if_all: false,
            notify_fifo: NotifyFifo::default(),
            vrrp_notify_fifo: NotifyFifo::default(),
            vmac_prefix: None,
        }
    }
}

/// `script_user USER [GROUP]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptUser {
    pub user: String,
    pub group: Option<String>,
}

/// Gratuitous ARP (IPv4) / unsolicited NA (IPv6) timing: keepalived's `garp_*` keywords, as
/// read from the config and as the state machine runs them (one type for both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Garp {
    /// Delay before the second burst (`garp_master_delay`, whole seconds; 0: none), default 5 s.
    pub delay: Duration,
    /// ARPs per burst (`garp_master_repeat`), default 5.
    pub repeat: u32,
    /// Periodic refresh while master (`garp_master_refresh`), default off.
    pub refresh: Option<Duration>,
    /// ARPs per refresh (`garp_master_refresh_repeat`), default 1 (0 after `vrrp_min_garp`).
    pub refresh_repeat: u32,
    /// `garp_extra_if DELAY all` (or `vrrp_garp_extra_if`): while master, one gratuitous ARP
    /// every DELAY seconds for the first address on each interface other than the instance's
    /// own (checked at each advert, as keepalived does). Set only when keepalived would send
    /// them (see `complete.rs`).
    pub extra_if: Option<Duration>,
    /// Delay of the second burst after a lower-priority advert (`garp_lower_prio_delay`; 0:
    /// none). Unset, the global `vrrp_garp_lower_prio_delay`, else the global
    /// `vrrp_garp_master_delay` (not the instance's, as keepalived 2.2.7 does).
    pub lower_prio_delay: Duration,
    /// ARPs per burst after a lower-priority advert (`garp_lower_prio_repeat`; 0: none).
    /// Unset, the global `vrrp_garp_lower_prio_repeat`, else the global
    /// `vrrp_garp_master_repeat`.
    pub lower_prio_repeat: u32,
}

impl Default for Garp {
    fn default() -> Self {
        Garp {
            delay: Duration::from_secs(5),
            repeat: 5,
            refresh: None,
            refresh_repeat: 1,
            extra_if: None,
            lower_prio_delay: Duration::from_secs(5),
            lower_prio_repeat: 5,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VrrpVersion {
    /// RFC 3768: whole-second advert intervals, optional simple-password authentication.
    V2,
    /// RFC 5798: centisecond advert intervals, no authentication.
    V3,
}

/// `vrrp_script NAME { }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpScript {
    pub name: String,
    /// The command, split as keepalived splits it (no shell).
    pub argv: Vec<String>,
    /// Default 1 s.
    pub interval: Duration,
    /// Default: the interval.
    pub timeout: Duration,
    /// Added to the priority while the script succeeds (>0) or fails (<0); default 0.
    pub weight: i32,
    pub weight_reverse: bool,
    /// Successes needed to count as up, default 1.
    pub rise: u32,
    /// Failures needed to count as down, default 1.
    pub fall: u32,
    /// `user USER [GROUP]`; `None`: `global_defs`' `script_user`.
    pub user: Option<ScriptUser>,
    /// `init_fail`: start in the failed state.
    pub init_fail: bool,
}

/// `track_file NAME { }` (or the older `vrrp_track_file`): a file holding a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackFile {
    pub name: String,
    pub path: PathBuf,
    /// Default 1: the number in the file is multiplied by this.
    pub weight: i32,
    pub weight_reverse: bool,
    /// `init_file [VALUE] [overwrite]`: create the file with VALUE at start.
    pub init: Option<TrackFileInit>,
}

/// How a `vrrp_track_process`'s parameters must match a process's command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamMatch {
    /// Parameters are not looked at.
    None,
    /// `param_match` (the default with parameters): exactly these parameters.
    Exact,
    /// `param_match initial`: these parameters first, the last one possibly cut short.
    Initial,
    /// `param_match partial`: these complete parameters first, maybe more after.
    Partial,
}

/// `vrrp_track_process NAME { }`: how many processes of a name run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrackProcess {
    pub name: String,
    /// `process NAME [PARAMS...]`: the process name (`/proc/PID/stat`'s, at most 15
    /// characters) or, with `full_command` or parameters, the command's argv[0].
    pub process: String,
    pub params: Vec<String>,
    pub param_match: ParamMatch,
    /// Match argv[0] from `/proc/PID/cmdline` rather than the process name.
    pub full_command: bool,
    /// Default 0: FAULT while the quorum is not met.
    pub weight: i32,
    pub weight_reverse: bool,
    /// Up while `quorum <= running <= quorum_max`; default 1 and unlimited.
    pub quorum: u32,
    pub quorum_max: u32,
    /// `fork_delay`/`delay`: how long the quorum must have been gained before it counts.
    pub fork_delay: Duration,
    /// `terminate_delay`/`delay`: how long the quorum must have been lost before it counts.
    pub terminate_delay: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackFileInit {
    pub value: i32,
    /// Overwrite an existing file too.
    pub overwrite: bool,
}

/// Where an instance starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitialState {
    Master,
    Backup,
}

/// `vrrp_instance NAME { }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub name: String,
    /// The `vrrp_instance` line.
    pub location: Location,
    pub initial_state: InitialState,
    /// `None` only for unicast instances with a `unicast_src_ip`.
    pub interface: Option<String>,
    pub vrid: u8,
    /// 1..=255; 255 means address owner. Default 100, or 255 with `state MASTER`.
    pub priority: u8,
    /// Default 1 s. Whole seconds on VRRPv2, multiples of 10 ms on VRRPv3.
    pub advert_int: Duration,
    pub version: VrrpVersion,
    pub nopreempt: bool,
    pub preempt_delay: Duration,
    pub auth: Option<Auth>,
    pub vips: Vec<VirtualIp>,
    /// `virtual_ipaddress_excluded`: added and removed with the VIPs, not in adverts.
    pub excluded_vips: Vec<VirtualIp>,
    /// `mcast_src_ip` or `unicast_src_ip`: the source address of adverts (of the instance's
    /// address family).
    pub src_ip: Option<IpAddr>,
    /// `mcast_dst_ip`: the multicast group of this instance's adverts (sent and joined);
    /// `None`: the global `vrrp_mcast_group4` (or `vrrp_mcast_group6`).
    pub mcast_dst: Option<IpAddr>,
    /// Non-empty: adverts go to these peers by unicast instead of to the multicast group.
    pub unicast_peers: Vec<UnicastPeer>,
    /// Unicast adverts from a source that is not in `unicast_peers`, or with a TTL outside
    /// that peer's range, are dropped. Set by `check_unicast_src`, by `vrrp_check_unicast_src`
    /// in `global_defs`, or by a peer's `min_ttl`/`max_ttl`, as in keepalived. Only
    /// meaningful with unicast peers.
    pub check_unicast_src: bool,
    /// `unicast_ttl`: the TTL of unicast adverts; `None`: 255.
    pub unicast_ttl: Option<u8>,
    pub track_scripts: Vec<TrackRef>,
    pub track_interfaces: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    /// `track_process`: `vrrp_track_process` names.
    pub track_processes: Vec<TrackRef>,
    pub notify: Notify,
    pub garp: Garp,
    /// `lower_prio_no_advert`: as MASTER, do not answer a lower-priority advert with one.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: as MASTER, send one advert before yielding to a higher one.
    pub higher_prio_send_advert: bool,
    /// `promote_secondaries`: set the sysctl of that name on the instance's interface while
    /// running (the value found is put back at exit).
    pub promote_secondaries: bool,
    /// `dont_track_primary`: the instance's own interface going down does not put it in
    /// FAULT (its `track_interface` entries still do).
    pub dont_track_primary: bool,
    /// `skip_check_adv_addr` (or the global one, which an instance cannot turn off): adverts
    /// from the master this instance already follows are not checked against its address
    /// list.
    pub skip_check_adv_addr: bool,
    /// `strict_mode` (or `vrrp_strict`): the RFC rules keepalived enforces (checked in
    /// `complete`, which also applies their effects to the other fields).
    pub strict: bool,
    /// Accept mode: as non-owner MASTER, this host accepts packets addressed to the VIPs.
    /// Off (`no_accept`, or strict mode without `accept` on VRRPv3), the agent drops them
    /// with nftables rules while MASTER; always on for the address owner.
    pub accept: bool,
    /// `virtual_routes`: installed as MASTER, removed on leaving MASTER.
    pub routes: Vec<Route>,
    /// `virtual_rules`: installed as MASTER, removed on leaving MASTER.
    pub rules: Vec<Rule>,
    /// `use_vmac`: the instance runs on a macvlan interface with the VRRP virtual MAC.
    pub vmac: Option<Vmac>,
}

/// `use_vmac [NAME]` and `vmac_xmit_base` (IPv4 instances): keepalived creates a private-mode
/// macvlan on the instance's interface with MAC 00:00:5e:00:01:VRID, puts the VIPs of the
/// instance's interface on it, and sends adverts from it (from the base interface with
/// `vmac_xmit_base`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vmac {
    /// `use_vmac NAME`; `None`: a name made up at start (`vrrp.VRID`, or `vmac_prefix`).
    pub name: Option<String>,
    /// `vmac_xmit_base`: adverts are sent and received on the base interface.
    pub xmit_base: bool,
}

impl Instance {
    /// Whether the instance runs over IPv6 (VRRPv3, RFC 5798). keepalived takes the family
    /// from the first address of `virtual_ipaddress`, `mcast_src_ip`/`unicast_src_ip`,
    /// `unicast_peer`, `mcast_dst_ip` or `native_ipv6`, and skips VIPs of the other family;
    /// an instance without VIPs is IPv4 (an IPv6 one needs VRRPv3, which needs VIPs).
    pub fn ipv6(&self) -> bool {
        self.vips.first().is_some_and(|v| v.addr.is_ipv6())
    }
}

/// One `virtual_routes`/`static_routes` entry (IPv4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The entry as written, for logs.
    pub text: String,
    pub location: Location,
    pub kind: RouteKind,
    pub dst: Ipv4Addr,
    pub dst_len: u8,
    pub via: Option<Ipv4Addr>,
    /// `src`: the preferred source address.
    pub src: Option<Ipv4Addr>,
    pub dev: Option<String>,
    /// Default 254 (main).
    pub table: u32,
    pub metric: Option<u32>,
    /// `None`: universe (keepalived sets no other scope by itself, even without `via`).
    pub scope: Option<u8>,
    /// keepalived's own (18) unless `protocol` is given with `no_track`.
    pub protocol: u8,
    pub onlink: bool,
    /// Tracked (the default when `dev` is given, unless `no_track`): the instance also
    /// tracks `dev`, going to FAULT while it is down.
    pub tracked: bool,
    pub mode: RouteMode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
}

/// How a route joins others to the same destination: keepalived's default prepends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteMode {
    Prepend,
    /// `add`: fail if the route exists.
    Add,
    Append,
}

/// One `virtual_rules`/`static_rules` entry (IPv4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub text: String,
    pub location: Location,
    pub from: Option<(Ipv4Addr, u8)>,
    pub to: Option<(Ipv4Addr, u8)>,
    pub action: RuleAction,
    /// Given, or counted down from 16384 as keepalived does (with its warning).
    pub priority: u32,
    pub iif: Option<String>,
    pub oif: Option<String>,
    /// `not`.
    pub invert: bool,
    /// Tracked (unless `no_track`): installed with protocol 18, and the instance tracks
    /// `iif`/`oif`.
    pub tracked: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    Table(u32),
    Blackhole,
    Unreachable,
    Prohibit,
}

/// One `unicast_peer` entry: `ADDR [min_ttl N] [max_ttl N]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    /// Default 0.
    pub min_ttl: u8,
    /// Default 255.
    pub max_ttl: u8,
}

impl UnicastPeer {
    /// A peer with keepalived's default TTL range (any TTL).
    pub fn new(addr: impl Into<IpAddr>) -> Self {
        UnicastPeer {
            addr: addr.into(),
            min_ttl: 0,
            max_ttl: u8::MAX,
        }
    }
}

/// VRRPv2 authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    pub kind: AuthType,
    /// At most 8 bytes (keepalived truncates longer passwords).
    pub pass: Secret,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    /// Simple text password in the advert (RFC 2338 type 1).
    Pass,
    /// IPsec AH (RFC 2338 type 2).
    Ah,
}

/// A password that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The password, for the packet codec. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// One `virtual_ipaddress` line: `ADDR[/PREFIX] [dev IF] [brd ADDR] [label L] [scope S]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualIp {
    pub addr: IpAddr,
    /// Default 32 (128 for IPv6).
    pub prefix: u8,
    /// Default: the instance's interface.
    pub dev: Option<String>,
    pub brd: Option<Ipv4Addr>,
    pub label: Option<String>,
    pub scope: Option<String>,
    /// `no_track`: its deletion by someone else is ignored (otherwise a MASTER goes BACKUP
    /// and takes over again; a static address is put back).
    pub no_track: bool,
}

/// A `track_script`, `track_interface` or `track_file` entry of an instance or sync group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackRef {
    pub name: String,
    /// `weight N`; `None`: the tracked object's own weight (0 for interfaces: down means FAULT).
    pub weight: Option<i32>,
    pub reverse: bool,
}

/// Notification commands, each split as keepalived splits it (no shell).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Notify {
    pub master: Option<Vec<String>>,
    pub backup: Option<Vec<String>>,
    pub fault: Option<Vec<String>>,
    pub stop: Option<Vec<String>>,
    /// `notify`: called with `INSTANCE|GROUP NAME STATE PRIORITY` appended.
    pub any: Option<Vec<String>>,
}

impl Notify {
    pub fn is_empty(&self) -> bool {
        self.master.is_none()
            && self.backup.is_none()
            && self.fault.is_none()
            && self.stop.is_none()
            && self.any.is_none()
    }
}

/// `vrrp_sync_group NAME { group { ... } }`: instances that change state together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroup {
    pub name: String,
    /// The `vrrp_sync_group` line.
    pub location: Location,
    pub members: Vec<String>,
    pub track_scripts: Vec<TrackRef>,
    pub track_interfaces: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    pub notify: Notify,
    /// `sync_group_tracking_weight` (or the deprecated `global_tracking`): members keep the
    /// weights of their own tracking.
    pub tracking_weight: bool,
}
