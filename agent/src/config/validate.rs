//! Checks that need the whole configuration: VRID clashes, sync group membership and
//! keepalived's script security rule.

use super::error::{Diagnostic, Severity};
use super::model::{Config, Instance, ScriptUser};
use super::parse::Ctx;

pub(crate) fn validate(ctx: &mut Ctx, config: &mut Config) {
    duplicate_vrids(ctx, config);
    sync_groups(ctx, config);
    script_security(ctx, config);
}

/// Two instances must not share a VRID on one interface: multicast ones always clash, unicast
/// ones clash when they send from the same address to a common peer.
fn duplicate_vrids(ctx: &mut Ctx, config: &Config) {
    for (i, a) in config.instances.iter().enumerate() {
        for b in &config.instances[i + 1..] {
            if a.vrid == b.vrid && clash(a, b) {
                ctx.error(
                    &b.location,
                    format!(
                        "({}) duplicate VRID conflict with {} VRID {}",
                        a.name, b.name, a.vrid
                    ),
                );
            }
        }
    }
}

fn clash(a: &Instance, b: &Instance) -> bool {
    let unicast = (!a.unicast_peers.is_empty(), !b.unicast_peers.is_empty());
    match unicast {
        (false, false) => a.interface == b.interface,
        (true, true) => {
            let same_if = match (&a.interface, &b.interface) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            };
            let same_src = matches!((a.src_ip, b.src_ip), (Some(x), Some(y)) if x == y);
            same_if
                && same_src
                && a.unicast_peers
                    .iter()
                    .any(|p| b.unicast_peers.iter().any(|q| q.addr == p.addr))
        }
        _ => false,
    }
}

fn sync_groups(ctx: &mut Ctx, config: &mut Config) {
    let mut taken: Vec<String> = Vec::new();
    let mut keep = Vec::new();
    for mut group in std::mem::take(&mut config.sync_groups) {
        let loc = group.location.clone();
        let mut members = Vec::new();
        for m in std::mem::take(&mut group.members) {
            if !config.instances.iter().any(|i| i.name == m) {
                ctx.warn(
                    &loc,
                    format!(
                        "Virtual router {m} specified in sync group {} doesn't exist - ignoring",
                        group.name
                    ),
                );
            } else if taken.contains(&m) {
                ctx.warn(
                    &loc,
                    format!(
                        "Virtual router {m} cannot exist in more than one sync group; ignoring {}",
                        group.name
                    ),
                );
            } else {
                taken.push(m.clone());
                members.push(m);
            }
        }
        group.members = members;
        match group.members.len() {
            0 => ctx.warn(&loc, format!("Sync group {}, no matching virtual router found in group declaration - removing", group.name)),
            1 => {
                ctx.warn(&loc, format!("Sync group {} has only 1 virtual router(s) - this probably isn't what you want", group.name));
                keep.push(group);
            }
            _ => keep.push(group),
        }
    }
    config.sync_groups = keep;
}

/// keepalived refuses to run scripts as root unless `enable_script_security` is set, and with it
/// set but no `script_user` it looks for a user `keepalived_script`, which Debian does not create.
fn script_security(ctx: &mut Ctx, config: &Config) {
    if config.instances.is_empty() {
        return;
    }
    let notify_scripts = config.instances.iter().any(|i| !i.notify.is_empty())
        || config.sync_groups.iter().any(|g| !g.notify.is_empty());
    let any_script = !config.scripts.is_empty() || notify_scripts;
    if !any_script {
        return;
    }
    let g = &config.global;
    let as_root = |user: Option<&ScriptUser>| user.is_none_or(|u| u.user == "root");
    if !g.enable_script_security {
        let root_script = config
            .scripts
            .iter()
            .any(|s| as_root(s.user.as_ref().or(g.script_user.as_ref())))
            || (notify_scripts && as_root(g.script_user.as_ref()));
        if root_script {
            ctx.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                location: None,
                message: "SECURITY VIOLATION - scripts are being executed but script_security not enabled.".into(),
            });
        }
    } else if g.script_user.is_none()
        && (notify_scripts || config.scripts.iter().any(|s| s.user.is_none()))
    {
        ctx.diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            location: None,
            message: "enable_script_security without script_user: keepalived runs scripts as user \
                      'keepalived_script', which Debian does not create; set script_user"
                .into(),
        });
    }
}
