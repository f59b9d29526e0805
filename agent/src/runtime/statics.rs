//! `static_ipaddress`, `static_routes` and `static_rules`: set at start whatever the VRRP
//! state, brought in line with the config at reload, put back when someone else deletes them
//! (unless `no_track`), removed at stop (keepalived vrrp_daemon.c and
//! `reinstate_static_*`). Only what this run added is ever removed: an address, route or rule
//! that was already there is left alone (keepalived removes such an address at stop too).

use crate::network::route::{Deleted, KernelRoute, KernelRule, RouteManager};
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
    /// The static routes put back when deleted.
    tracked_routes: Vec<KernelRoute>,
    /// The static addresses put back when deleted.
    tracked_addresses: Vec<Vip>,
}

impl Statics {
    pub fn new(netlink: Netlink) -> Self {
        Statics {
            routes: RouteManager::new(netlink.clone()),
            netlink,
            addresses: Vec::new(),
            route_list: Vec::new(),
            rule_list: Vec::new(),
            tracked_routes: Vec::new(),
            tracked_addresses: Vec::new(),
        }
    }

    /// Adds what `spec` has and is not there yet; removes what this run added and `spec` no
    /// longer has. Rules go first on removal and last on addition, as in keepalived.
    pub async fn apply(&mut self, spec: &StaticSpec) {
        let mut want_addresses = Vec::new();
        self.tracked_addresses.clear();
        for a in &spec.addresses {
            match vip_of(a, crate::network::ifindex) {
                Ok(v) => {
                    if a.tracked {
                        self.tracked_addresses.push(v.clone());
                    }
                    want_addresses.push(v);
                }
                Err(e) => tracing::error!(addr = %a.addr, error = %e, "static address"),
            }
        }
        let want_routes = match resolve_routes(&spec.routes, crate::network::ifindex) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "static routes");
                Vec::new()
            }
        };
        self.tracked_routes = want_routes
            .iter()
            .zip(&spec.routes)
            .filter(|(_, s)| s.tracked)
            .map(|((_, r), _)| r.clone())
            .collect();
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

    /// Someone else deleted something: a static address, tracked route or tracked rule this
    /// run added is put back, as keepalived does.
    pub async fn deleted(&mut self, d: &Deleted) {
        match d {
            Deleted::Address { ifindex, addr } => {
                let Some(vip) = self
                    .addresses
                    .iter()
                    .filter(|v| self.tracked_addresses.contains(v))
                    .find(|v| v.ifindex == *ifindex && v.addr == *addr)
                    .cloned()
                else {
                    return;
                };
                tracing::warn!(addr = %vip.addr, "restoring deleted static address");
                if let Err(e) = self.netlink.add(&vip).await {
                    tracing::error!(addr = %vip.addr, error = %e, "restoring static address");
                }
            }
            Deleted::Route { .. } => {
                let found = self
                    .route_list
                    .iter()
                    .find(|(_, r)| self.tracked_routes.contains(r) && d.is_route(r))
                    .cloned();
                if let Some((text, route)) = found {
                    tracing::warn!(route = %text, "restoring deleted static route");
                    if let Err(e) = self.routes.add_route(&route).await {
                        tracing::error!(route = %text, error = %e, "restoring static route");
                    }
                }
            }
            Deleted::Rule { .. } => {
                let found = self
                    .rule_list
                    .iter()
                    .find(|(_, r)| r.protocol.is_some() && d.is_rule(r))
                    .cloned();
                if let Some((text, rule)) = found {
                    tracing::warn!(rule = %text, "restoring deleted static rule");
                    if let Err(e) = self.routes.add_rule(&rule).await {
                        tracing::error!(rule = %text, error = %e, "restoring static rule");
                    }
                }
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
