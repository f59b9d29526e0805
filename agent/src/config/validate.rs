//! Checks that need the whole configuration: VRID clashes, sync group membership and
//! keepalived's script security rule.
//!
//! The script checks look at the host only when given a [`Probe`] (`hactl-agent check` and
//! `run`, on the host the config is for). Without one (a config checked elsewhere) every
//! script is taken to exist and be executable.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::error::{Diagnostic, Severity};
use super::model::{Config, Instance, Notify};
use super::parse::Ctx;

/// What keepalived's `check_script_secure` finds for a script's program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// Not there (or a bare name not found as an executable in PATH): keepalived disables it.
    Missing,
    /// There but without execute permission: keepalived disables it (silently) yet still
    /// counts it as a script for the security rule.
    NotExecutable,
    Executable,
    /// `</path`: a file readability test, not a script; never counted.
    FileTest,
}

/// Looks up a script's program (its first word).
pub(crate) type Probe = fn(&str) -> Found;

pub(crate) fn validate(ctx: &mut Ctx, config: &mut Config, probe: Option<Probe>) {
    duplicate_vrids(ctx, config);
    sync_groups(ctx, config);
    script_security(ctx, config, probe);
    fixed_priority_tracking(ctx, config);
    owner_group_tracking(ctx, config);
}

/// keepalived `vrrp_complete_instance`: a member of a sync group, or an address owner, runs
/// at a fixed priority, so its own tracking cannot carry weights. A weighted interface
/// becomes a plain FAULT trigger in a group (an owner stops tracking it); a weighted script
/// is dropped; a track file at the default weight 1 becomes a FAULT trigger, one with
/// another weight is dropped. Each is reported as keepalived reports it.
fn fixed_priority_tracking(ctx: &mut Ctx, config: &mut Config) {
    let Config {
        instances,
        sync_groups,
        scripts,
        track_files,
        track_processes,
        ..
    } = config;
    for inst in instances.iter_mut() {
        // `sync_group_tracking_weight` lets members keep their weights.
        let in_group = sync_groups
            .iter()
            .any(|g| g.members.contains(&inst.name) && !g.tracking_weight);
        if !in_group && inst.priority != 255 {
            continue;
        }
        let why = if in_group {
            "SYNC group"
        } else {
            "address owner"
        };
        let name = inst.name.clone();
        let loc = inst.location.clone();
        inst.track_interfaces.retain_mut(|t| {
            if t.weight.unwrap_or(0) == 0 {
                return true;
            }
            let weight = if in_group { "weight " } else { "" };
            ctx.warn(
                &loc,
                format!(
                    "({name}) ignoring {} tracked interface {weight}due to {why}",
                    t.name
                ),
            );
            t.weight = Some(0);
            in_group
        });
        let why = if in_group {
            "SYNC group"
        } else {
            "address_owner"
        };
        inst.track_scripts.retain(|t| {
            let weight = t.weight.unwrap_or_else(|| {
                scripts
                    .iter()
                    .find(|s| s.name == t.name)
                    .map_or(0, |s| s.weight)
            });
            if weight == 0 {
                return true;
            }
            ctx.warn(
                &loc,
                format!(
                    "({name}) ignoring tracked script {} with weights due to {why}",
                    t.name
                ),
            );
            false
        });
        for t in &inst.track_processes {
            let weight = t.weight.unwrap_or_else(|| {
                track_processes
                    .iter()
                    .find(|p| p.name == t.name)
                    .map_or(0, |p| p.weight)
            });
            if weight != 0 {
                ctx.error(
                    &loc,
                    format!(
                        "({name}) tracked process {} has weight {weight}: hactl-agent does not \
                         run weighted track_process in a {}; give it weight 0",
                        t.name,
                        if in_group {
                            "sync group"
                        } else {
                            "an address owner"
                        }
                    ),
                );
            }
        }
        inst.track_files.retain_mut(|t| {
            let file = track_files.iter().find(|f| f.name == t.name);
            let weight = t.weight.unwrap_or_else(|| file.map_or(1, |f| f.weight));
            let fname = file.map_or(t.name.clone(), |f| f.path.display().to_string());
            match weight {
                0 => true,
                1 => {
                    ctx.warn(
                        &loc,
                        format!(
                            "({name}) ignoring weight from tracked file {fname} due to {why}. \
                             specify weight 0"
                        ),
                    );
                    t.weight = Some(0);
                    true
                }
                w => {
                    ctx.warn(
                        &loc,
                        format!(
                            "({name}) ignoring tracked file {fname} with weight {w} due to {why}"
                        ),
                    );
                    false
                }
            }
        });
    }
}

/// keepalived `sync_group_tracking_init`: a group's own tracking keeps its weights (they
/// apply to every member) unless a member is an address owner, whose priority cannot move.
fn owner_group_tracking(ctx: &mut Ctx, config: &mut Config) {
    let Config {
        instances,
        sync_groups,
        scripts,
        track_files,
        ..
    } = config;
    for g in sync_groups.iter_mut() {
        let has_owner = instances
            .iter()
            .any(|i| i.priority == 255 && g.members.contains(&i.name));
        if !has_owner {
            continue;
        }
        let (gname, loc) = (g.name.clone(), g.location.clone());
        for t in &mut g.track_scripts {
            let weight = t.weight.unwrap_or_else(|| {
                scripts
                    .iter()
                    .find(|s| s.name == t.name)
                    .map_or(0, |s| s.weight)
            });
            if weight != 0 {
                ctx.warn(&loc, format!("({gname}) Cannot have weighted track script '{}' with member having priority 255 - clearing weight", t.name));
                t.weight = Some(0);
            }
        }
        for t in &mut g.track_files {
            let file = track_files.iter().find(|f| f.name == t.name);
            let weight = t.weight.unwrap_or_else(|| file.map_or(1, |f| f.weight));
            if weight != 0 {
                let fname = file.map_or(t.name.clone(), |f| f.path.display().to_string());
                ctx.warn(&loc, format!("({gname}) Cannot have weighted track file '{fname}' with member having priority 255 - setting weight 0"));
                t.weight = Some(0);
            }
        }
        for t in &mut g.track_interfaces {
            if t.weight.unwrap_or(0) != 0 {
                ctx.warn(&loc, format!("({gname}) Cannot have weighted track interface '{}' with member having priority 255 - clearing weight", t.name));
                t.weight = Some(0);
            }
        }
    }
}

/// keepalived's lookup, as root: a name without `/` is searched in PATH (default
/// `/bin:/usr/bin`) for an executable regular file; a path must exist (symlinks followed).
/// Script users other than root are not taken into account.
pub(crate) fn local_probe(program: &str) -> Found {
    if let Some(rest) = program.strip_prefix('<') {
        if rest.trim_start_matches([' ', '\t']).starts_with('/') {
            return Found::FileTest;
        }
    }
    let executable = |path: &Path| {
        std::fs::metadata(path).map(|m| (m.is_file(), m.permissions().mode() & 0o111 != 0))
    };
    if !program.contains('/') {
        let path = std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".to_owned());
        let found = path.split(':').any(|dir| {
            let dir = if dir.is_empty() { "." } else { dir };
            matches!(executable(&Path::new(dir).join(program)), Ok((true, true)))
        });
        return if found {
            Found::Executable
        } else {
            Found::Missing
        };
    }
    match executable(Path::new(program)) {
        Err(_) => Found::Missing,
        Ok((_, true)) => Found::Executable,
        Ok((_, false)) => Found::NotExecutable,
    }
}

/// Two instances must not share a VRID on one interface: multicast ones always clash, unicast
/// ones clash when they send from the same address to a common peer. An IPv4 and an IPv6
/// instance never clash (keepalived `vrrp_complete_init` skips pairs of different families).
fn duplicate_vrids(ctx: &mut Ctx, config: &Config) {
    for (i, a) in config.instances.iter().enumerate() {
        for b in &config.instances[i + 1..] {
            if a.vrid == b.vrid && a.ipv6() == b.ipv6() && clash(a, b) {
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
        if group.members.is_empty() {
            // keepalived checks this on the finished config, naming no line.
            ctx.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                location: None,
                message: format!(
                    "Sync group {} has no virtual router(s). removing",
                    group.name
                ),
            });
            continue;
        }
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

/// keepalived's script security rule (`check_vrrp_script_security`): with instances, every
/// `vrrp_script` and notify command whose program exists counts as a script, and any script
/// without `enable_script_security` is a SECURITY VIOLATION (whatever user runs it). A track
/// script whose program is missing is disabled with a warning, one that is not executable
/// silently; a notify command that is missing or not executable is never run. The agent does
/// the same, saying so.
fn script_security(ctx: &mut Ctx, config: &mut Config, probe: Option<Probe>) {
    if config.instances.is_empty() {
        return;
    }
    let probe: Probe = probe.unwrap_or(|_| Found::Executable);
    let mut any_script = false;
    let mut disabled = Vec::new();
    for s in &config.scripts {
        let Some(program) = s.argv.first() else {
            continue;
        };
        let found = probe(program);
        any_script |= matches!(found, Found::NotExecutable | Found::Executable);
        match found {
            Found::Missing => {
                // keepalived names no line either: the check runs on the finished config.
                ctx.diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    location: None,
                    message: format!(
                        "Disabling track script {} since not found/accessible",
                        s.name
                    ),
                });
                disabled.push(s.name.clone());
            }
            Found::NotExecutable => {
                ctx.diagnostics.push(Diagnostic {
                    severity: Severity::Note,
                    location: None,
                    message: format!(
                        "track script {}: '{program}' is not executable; keepalived disables \
                         it without a word, and so does hactl-agent",
                        s.name
                    ),
                });
                disabled.push(s.name.clone());
            }
            Found::Executable | Found::FileTest => {}
        }
    }
    config.scripts.retain(|s| !disabled.contains(&s.name));
    for i in &mut config.instances {
        i.track_scripts.retain(|t| !disabled.contains(&t.name));
        any_script |= notify_security(ctx, &mut i.notify, &i.location, probe);
    }
    for g in &mut config.sync_groups {
        g.track_scripts.retain(|t| !disabled.contains(&t.name));
        any_script |= notify_security(ctx, &mut g.notify, &g.location, probe);
    }
    if !any_script {
        return;
    }
    let g = &config.global;
    if !g.enable_script_security {
        ctx.diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            location: None,
            message:
                "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
                    .into(),
        });
    } else if g.script_user.is_none() {
        ctx.diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            location: None,
            message: "enable_script_security without script_user: keepalived runs scripts as user \
                      'keepalived_script', which Debian does not create; set script_user"
                .into(),
        });
    }
}

/// Drops the notify commands keepalived would not run; true if any program exists.
fn notify_security(
    ctx: &mut Ctx,
    notify: &mut Notify,
    at: &super::error::Location,
    probe: Probe,
) -> bool {
    let mut any = false;
    for slot in [
        &mut notify.master,
        &mut notify.backup,
        &mut notify.fault,
        &mut notify.stop,
        &mut notify.any,
    ] {
        let Some(program) = slot.as_ref().and_then(|argv| argv.first()).cloned() else {
            continue;
        };
        let found = probe(&program);
        any |= matches!(found, Found::NotExecutable | Found::Executable);
        if found != Found::Executable {
            ctx.report(
                Severity::Note,
                at,
                format!(
                    "notify script '{program}' is not an executable file on this host; \
                     keepalived never runs it, and neither does hactl-agent"
                ),
            );
            *slot = None;
        }
    }
    any
}
