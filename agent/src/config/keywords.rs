//! keepalived 2.2.7 keywords that hactl-agent knows but does not implement.
//!
//! keepalived accepts these silently, so the agent must not call them unknown (that would make
//! `hactl-agent check` fail where `keepalived -t` passes): it ignores them with a note instead.
//! Keywords the agent implements are matched in the parser, not listed here.

/// Top-level blocks and keywords (LVS, BFD, static routes, namespaces...).
pub const TOP_LEVEL: &[&str] = &[
    "bfd_instance", "child_wait_time", "garp_group", "instance", "interface_up_down_delays",
    "linkbeat_interfaces", "linkbeat_use_polling", "namespace_with_ipsets", "net_namespace",
    "net_namespace_ipvs", "static_ipaddress", "static_routes", "static_rules", "track_group",
    "use_pid_dir", "virtual_server", "virtual_server_group", "vrrp_track_process",
];

/// `global_defs` keywords.
pub const GLOBAL: &[&str] = &[
    "bfd_cpu_affinity", "bfd_no_swap", "bfd_priority", "bfd_process_name", "bfd_rlimit_rtime",
    "bfd_rlimit_rttime", "bfd_rt_priority", "checker_cpu_affinity", "checker_log_all_failures",
    "checker_no_swap", "checker_priority", "checker_process_name", "checker_rlimit_rtime",
    "checker_rlimit_rttime", "checker_rt_priority", "config_save_dir", "data_use_instance",
    "dbus_service_name", "default_interface", "disable_local_igmp", "dynamic_interfaces",
    "enable_dbus", "enable_snmp_checker", "enable_snmp_keepalived", "enable_snmp_rfc",
    "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_vrrp", "enable_traps",
    "fifo_write_vrrp_states_on_reload", "include_check", "log_unknown_vrids", "lvs_flush",
    "lvs_flush_on_stop", "lvs_flush_onstop", "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force", "lvs_notify_fifo", "lvs_notify_fifo_script",
    "lvs_process_name", "lvs_sync_daemon", "lvs_timeouts", "max_auto_priority",
    "min_auto_priority_delay", "nftables", "nftables_counters", "nftables_ifindex",
    "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "nftables_priority",
    "no_checker_emails", "no_email_faults", "notify_fifo", "notify_fifo_script",
    "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force", "process_name",
    "process_names", "random_seed", "reload_check_config", "reload_file", "reload_repeat",
    "reload_time_file", "rs_init_notifies", "shutdown_script", "shutdown_script_timeout",
    "snmp_socket", "startup_script", "startup_script_timeout", "tmp_config_directory", "umask",
    "vmac_addr_prefix", "vmac_prefix", "vrrp_check_unicast_src", "vrrp_cpu_affinity",
    "vrrp_down_timer_adverts", "vrrp_garp_extra_if", "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat", "vrrp_gna_interval", "vrrp_higher_prio_send_advert",
    "vrrp_ipsets", "vrrp_lower_prio_no_advert", "vrrp_mcast_group6", "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force", "vrrp_no_swap", "vrrp_notify_fifo",
    "vrrp_notify_fifo_script", "vrrp_notify_priority_changes", "vrrp_priority",
    "vrrp_process_name", "vrrp_rlimit_rtime", "vrrp_rlimit_rttime", "vrrp_rt_priority",
    "vrrp_rx_bufs_multiplier", "vrrp_rx_bufs_policy", "vrrp_skip_check_adv_addr",
    "vrrp_startup_delay", "vrrp_strict", "vrrp_vmac_garp_intvl",
];

/// `global_defs` keywords about e-mail alerts: accepted and ignored without a note, since the
/// agent's notify scripts do the mailing in the setups it targets.
pub const GLOBAL_MAIL: &[&str] = &[
    "notification_email", "notification_email_from", "smtp_server", "smtp_connect_timeout",
    "smtp_helo_name", "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker",
];

/// `vrrp_instance` keywords.
pub const INSTANCE: &[&str] = &[
    "use_vmac", "use_vmac_addr", "vmac_xmit_base", "use_ipvlan", "unicast_fault_no_peer",
    "check_unicast_src", "old_unicast_checksum", "native_ipv6", "vrf", "dont_track_primary",
    "track_process", "track_bfd", "mcast_dst_ip", "track_src_ip", "unicast_ttl",
    "virtual_ipaddress_excluded", "promote_secondaries", "linkbeat_use_polling",
    "virtual_routes", "virtual_rules", "accept", "no_accept", "skip_check_adv_addr",
    "strict_mode", "debug", "notify_deleted", "notify_master_rx_lower_pri", "smtp_alert",
    "notify_priority_changes", "lvs_sync_daemon_interface",
    "garp_lower_prio_delay", "garp_lower_prio_repeat", "down_timer_adverts", "garp_extra_if",
    "vmac_garp_intvl", "lower_prio_no_advert", "higher_prio_send_advert", "kernel_rx_buf_size",
];

/// `vrrp_sync_group` keywords.
pub const SYNC_GROUP: &[&str] = &[
    "track_process", "track_bfd", "smtp_alert", "global_tracking", "sync_group_tracking_weight",
    "notify_priority_changes",
];
