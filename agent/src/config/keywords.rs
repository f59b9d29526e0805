//! keepalived 2.2.7 keywords that hactl-agent knows but does not implement.
//!
//! Two kinds, per block:
//! - *refused*: keepalived would do something that changes failover or the host (add routes,
//!   run a FIFO reader, LVS, other timers...). Ignoring such a keyword would leave the
//!   host doing less than the operator asked, silently, so `hactl-agent check` and `run`
//!   refuse the config with an error that says what keepalived would do.
//! - *notes*: keepalived accepts them silently and they only tune keepalived's own process or
//!   its reporting (process names, rlimits, SNMP, D-Bus, buffer sizes), or only matter together
//!   with a refused feature. The agent ignores them with a note and still runs the config.
//!
//! Keywords the agent implements are matched in the parser, not listed here.

/// What a block knows beyond the keywords its parser implements.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// `(keyword, what keepalived would do)`: an error.
    pub refused: &'static [(&'static str, &'static str)],
    /// Ignored with a note.
    pub notes: &'static [&'static str],
}

impl Known {
    /// What keepalived would do with `keyword`, if the agent refuses it.
    pub fn refused(&self, keyword: &str) -> Option<&'static str> {
        self.refused
            .iter()
            .find(|(k, _)| *k == keyword)
            .map(|(_, would)| *would)
    }
}

/// A block without keepalived keywords beyond those the parser implements.
pub const NONE: Known = Known {
    refused: &[],
    notes: &[],
};

const LINKBEAT: &str = "poll the interface's link state (MII/ethtool) instead of relying on \
                        netlink, so a NIC that reports no carrier change still causes FAULT";
const DOWN_TIMER_ADVERTS: &str = "wait for that many missed adverts (instead of 3) before a \
                                  BACKUP takes over";
const NOTIFY_FIFO: &str = "write every state change to this FIFO (and start the script that \
                           reads it)";
const TRACK_PROCESS: &str = "watch processes and change priority or go to FAULT when they stop";
const TRACK_BFD: &str = "follow BFD sessions and change priority or go to FAULT when one goes \
                         down";
const LVS: &str = "configure IPVS load balancing (LVS) on this host, with its health checkers";

/// Top-level blocks and keywords (LVS, BFD, static routes, namespaces...).
pub const TOP_LEVEL: Known = Known {
    refused: &[
        (
            "bfd_instance",
            "run a BFD session with a neighbour (instances that track it follow it)",
        ),
        (
            "garp_group",
            "pace gratuitous ARPs per interface as the group says",
        ),
        (
            "interface_up_down_delays",
            "delay its reaction to interface up/down events",
        ),
        ("linkbeat_interfaces", LINKBEAT),
        ("linkbeat_use_polling", LINKBEAT),
        (
            "namespace_with_ipsets",
            "use ipsets inside its network namespace",
        ),
        (
            "net_namespace",
            "run in that network namespace: its interfaces, VIPs and adverts are there, not \
             here",
        ),
        ("net_namespace_ipvs", LVS),
        (
            "track_group",
            "tie static addresses and routes to the state of a group of VRRP instances",
        ),
        ("virtual_server", LVS),
        ("virtual_server_group", LVS),
    ],
    notes: &["child_wait_time", "instance", "use_pid_dir"],
};

/// `global_defs` keywords.
pub const GLOBAL: Known = Known {
    refused: &[
        (
            "default_interface",
            "use that interface for instances and addresses that name none",
        ),
        (
            "disable_local_igmp",
            "set net.ipv4.igmp_link_local_mcast_reports to 0 on this host",
        ),
        (
            "dynamic_interfaces",
            "start instances whose interface does not exist yet, and run them once it appears",
        ),
        ("lvs_flush", "flush the host's IPVS table at start"),
        ("lvs_flush_on_stop", "flush the host's IPVS table at stop"),
        ("lvs_flush_onstop", "flush the host's IPVS table at stop"),
        ("lvs_notify_fifo", NOTIFY_FIFO),
        ("lvs_notify_fifo_script", NOTIFY_FIFO),
        (
            "lvs_sync_daemon",
            "run the IPVS connection synchronisation daemon",
        ),
        ("lvs_timeouts", "set the host's IPVS timeouts"),
        ("shutdown_script", "run this script when it stops"),
        ("startup_script", "run this script when it starts"),
        ("vrrp_down_timer_adverts", DOWN_TIMER_ADVERTS),
        (
            "vrrp_startup_delay",
            "wait that long after starting before running its VRRP instances",
        ),
    ],
    notes: &[
        "bfd_cpu_affinity",
        "bfd_no_swap",
        "bfd_priority",
        "bfd_process_name",
        "bfd_rlimit_rtime",
        "bfd_rlimit_rttime",
        "bfd_rt_priority",
        "checker_cpu_affinity",
        "checker_log_all_failures",
        "checker_no_swap",
        "checker_priority",
        "checker_process_name",
        "checker_rlimit_rtime",
        "checker_rlimit_rttime",
        "checker_rt_priority",
        "config_save_dir",
        "data_use_instance",
        "dbus_service_name",
        "enable_dbus",
        "enable_snmp_checker",
        "enable_snmp_keepalived",
        "enable_snmp_rfc",
        "enable_snmp_rfcv2",
        "enable_snmp_rfcv3",
        "enable_snmp_vrrp",
        "enable_traps",
        "fifo_write_vrrp_states_on_reload",
        "include_check",
        "log_unknown_vrids",
        "lvs_netlink_cmd_rcv_bufs",
        "lvs_netlink_cmd_rcv_bufs_force",
        "lvs_netlink_monitor_rcv_bufs",
        "lvs_netlink_monitor_rcv_bufs_force",
        "lvs_process_name",
        "max_auto_priority",
        "min_auto_priority_delay",
        // keepalived's table name: the agent's drop rules live in tables of its own,
        // `ip hactl_agent` and `ip6 hactl_agent`, so that it never touches keepalived's or
        // anyone else's.
        "nftables",
        "nftables_ipvs",
        "nftables_ipvs_priority",
        "nftables_ipvs_start_fwmark",
        "no_checker_emails",
        "no_email_faults",
        "process_monitor_rcv_bufs",
        "process_monitor_rcv_bufs_force",
        "process_name",
        "process_names",
        "random_seed",
        "reload_check_config",
        "reload_file",
        "reload_repeat",
        "reload_time_file",
        "rs_init_notifies",
        "shutdown_script_timeout",
        "snmp_socket",
        "startup_script_timeout",
        "tmp_config_directory",
        "umask",
        // Names the VMACs of use_vmac_addr and per-address use_vmac, which are refused.
        "vmac_addr_prefix",
        "vrrp_cpu_affinity",
        "vrrp_ipsets",
        "vrrp_netlink_cmd_rcv_bufs",
        "vrrp_netlink_cmd_rcv_bufs_force",
        "vrrp_netlink_monitor_rcv_bufs",
        "vrrp_netlink_monitor_rcv_bufs_force",
        "vrrp_no_swap",
        // Priority changes go to the notify FIFO only, which is refused.
        "vrrp_notify_priority_changes",
        "vrrp_priority",
        "vrrp_process_name",
        "vrrp_rlimit_rtime",
        "vrrp_rlimit_rttime",
        "vrrp_rt_priority",
        "vrrp_rx_bufs_multiplier",
        "vrrp_rx_bufs_policy",
    ],
};

/// `global_defs` keywords about e-mail alerts: accepted and ignored without a note, since the
/// agent's notify scripts do the mailing in the setups it targets.
pub const GLOBAL_MAIL: &[&str] = &[
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_connect_timeout",
    "smtp_helo_name",
    "smtp_alert",
    "smtp_alert_vrrp",
    "smtp_alert_checker",
];

/// `vrrp_instance` keywords.
pub const INSTANCE: Known = Known {
    refused: &[
        (
            "use_vmac_addr",
            "also create VMACs for the VIPs on other interfaces and move those VIPs onto them",
        ),
        (
            "use_ipvlan",
            "create an ipvlan interface and move the VIPs onto it",
        ),
        (
            "unicast_fault_no_peer",
            "keep the instance in FAULT while it has no unicast peer",
        ),
        (
            "old_unicast_checksum",
            "checksum VRRPv3 unicast adverts over the multicast group address (pre-2.2 style)",
        ),
        ("vrf", "bind the instance's sockets to that VRF"),
        ("track_bfd", TRACK_BFD),
        ("linkbeat_use_polling", LINKBEAT),
        (
            "notify_deleted",
            "call the notify scripts with DELETED instead of STOP when the instance is removed",
        ),
        (
            "notify_master_rx_lower_pri",
            "run this script when, as MASTER, it hears a lower-priority advert",
        ),
        (
            "lvs_sync_daemon_interface",
            "run the IPVS connection synchronisation daemon on this interface",
        ),
        ("down_timer_adverts", DOWN_TIMER_ADVERTS),
    ],
    notes: &[
        "debug",
        "smtp_alert",
        // Priority changes go to the notify FIFO only, which is refused.
        "notify_priority_changes",
        "kernel_rx_buf_size",
        // keepalived 2.2.7 documents it (FAULT when the configured source address is
        // deleted) but never acts on it: its check compares the address with the sockaddr
        // that holds it, so it never matches. Measured: agent/tests/interop_iface.rs.
        "track_src_ip",
    ],
};

/// `vrrp_sync_group` keywords.
pub const SYNC_GROUP: Known = Known {
    refused: &[("track_process", TRACK_PROCESS), ("track_bfd", TRACK_BFD)],
    notes: &["smtp_alert", "notify_priority_changes"],
};

/// The error for a refused keyword, worded the same everywhere.
pub fn refusal(keyword: &str, would: &str) -> String {
    format!(
        "keepalived would {would}; hactl-agent does not support '{keyword}'; run keepalived on \
         this host"
    )
}
