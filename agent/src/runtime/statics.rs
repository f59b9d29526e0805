//! `static_ipaddress`, `static_routes` and `static_rules`: set at start whatever the VRRP
//! state, brought in line with the config at reload, removed at stop (keepalived
//! vrrp_daemon.c). Only what this run added is ever removed: an identical address, route or
//! rule that was already there is left alone, as keepalived leaves it.

use crate::network::route::{KernelRoute, KernelRule, RouteManager};
use crate::network::{AddressIo, InterfaceAddress, Netlink, Vip};

use super::instance::{resolve_routes, vip_of};
use super::spec::StaticSpec;

/// What this run added.
#[derive(Debug)]
pub struct Statics {
    netlink: Netlink,
    addresses: Vec<Vip>,
    routes: RouteManager,
    route_list: Vec<(String, KernelRoute)>,
    rule_list: Vec<(String, KernelRule)>,
}

impl Statics {
    pub fn new(netlink: Netlink) -> Self {
        Statics {
            routes: RouteManager::new(netlink.clone()),
            netlink,
            addresses: Vec::new(),
            route_list: Vec::new(),
            rule_list: Vec::new(),
        }
    }

    /// Adds what `spec` has and is not there yet; removes what this run added and `spec` no
    /// longer has. Rules go first on removal and last on addition, as in keepalived.
    pub async fn apply(&mut self, spec: &StaticSpec) {
        let mut want_addresses = Vec::new();
        for a in &spec.addresses {
            match vip_of(a) {
                Ok(v) => want_addresses.push(v),
                Err(e) => tracing::error!(addr = %a.addr, error = %e, "static address"),
            }
        }
        let want_routes = match resolve_routes(&spec.routes) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "static routes");
                Vec::new()
            }
        };
        let want_rules: Vec<(String, KernelRule)> = spec
            .rules
            .iter()
            .map(|r| (r.text.clone(), r.rule.clone()))
            .collect();

        for (text, rule) in std::mem::take(&mut self.rule_list) {
            if want_rules.iter().any(|(_, r)| *r == rule) {
                self.rule_list.push((text, rule));
            } else if let Err(e) = self.routes.remove_rule(&rule).await {
                tracing::error!(rule = %text, error = %e, "removing static rule");
            }
        }
        for (text, route) in std::mem::take(&mut self.route_list) {
            if want_routes.iter().any(|(_, r)| *r == route) {
                self.route_list.push((text, route));
            } else if let Err(e) = self.routes.remove_route(&route).await {
                tracing::error!(route = %text, error = %e, "removing static route");
            }
        }
        for vip in std::mem::take(&mut self.addresses) {
            if want_addresses.contains(&vip) {
                self.addresses.push(vip);
            } else {
                self.remove_address(&vip).await;
            }
        }

        for vip in want_addresses {
            if self.addresses.contains(&vip) {
                continue;
            }
            let present = match self.netlink.list(vip.ifindex).await {
                Ok(list) => list.iter().any(|a| a.matches(&vip)),
                Err(e) => {
                    tracing::error!(addr = %vip.addr, error = %e, "static address");
                    continue;
                }
            };
            if present {
                tracing::warn!(addr = %vip.addr, "static address already present: left to its owner");
                continue;
            }
            match self.netlink.add(&vip).await {
                Ok(()) => self.addresses.push(vip),
                Err(e) => tracing::error!(addr = %vip.addr, error = %e, "adding static address"),
            }
        }
        for (text, route) in want_routes {
            if self.routes.owns_route(&route) {
                continue;
            }
            match self.routes.add_route(&route).await {
                Ok(true) => self.route_list.push((text, route)),
                Ok(false) => {
                    tracing::warn!(route = %text, "static route already present: left to its owner")
                }
                Err(e) => tracing::error!(route = %text, error = %e, "adding static route"),
            }
        }
        for (text, rule) in want_rules {
            if self.routes.owns_rule(&rule) {
                continue;
            }
            match self.routes.add_rule(&rule).await {
                Ok(true) => self.rule_list.push((text, rule)),
                Ok(false) => {
                    tracing::warn!(rule = %text, "static rule already present: left to its owner")
                }
                Err(e) => tracing::error!(rule = %text, error = %e, "adding static rule"),
            }
        }
    }

    /// Removes everything this run added: rules, routes, then addresses.
    pub async fn clear(&mut self) {
        self.apply(&StaticSpec::default()).await;
    }

    async fn remove_address(&self, vip: &Vip) {
        let target = InterfaceAddress {
            ifindex: vip.ifindex,
            addr: vip.addr,
            prefix_len: vip.prefix_len,
            label: vip.label.clone(),
        };
        if let Err(e) = self.netlink.del(&target).await {
            tracing::error!(addr = %vip.addr, error = %e, "removing static address");
        }
    }
}
