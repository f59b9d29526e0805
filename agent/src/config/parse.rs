//! From statements to the model: the top level and `vrrp_sync_group`, plus what several blocks
//! share (the diagnostics collector, notify commands, track lists). The other blocks have modules
//! of their own (`global`, `script`, `instance`); checks that need the whole file are in
//! `validate`.
//!
//! Each keyword is handled the way keepalived 2.2.7 handles it: where keepalived reports a bad
//! value and falls back (a default, or ignoring the line), the agent does the same and records a
//! [`Severity::Warning`]; where keepalived drops the object or cannot run, it is an error.

use super::error::{Diagnostic, Location, Severity};
use super::keywords;
use super::lexer::command_words;
use super::model::{Config, Notify, SyncGroup, TrackRef};
use super::tree::Stmt;
use super::values::integer;

/// Collects diagnostics while the model is built.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub diagnostics: Vec<Diagnostic>,
    /// keepalived's preference for the next rule that names none (file order).
    pub next_rule_priority: u32,
    /// Checking on the host the config is for: script users are looked up here.
    pub host: bool,
    /// `script_user` names a user or group this host does not have: keepalived then drops
    /// every vrrp_script without a `user` of its own.
    pub default_user_failed: bool,
    /// `vrrp_garp_lower_prio_delay`/`_repeat` were given: they no longer follow the global
    /// `vrrp_garp_master_*`.
    pub global_lower_prio_delay_set: bool,
    pub global_lower_prio_repeat_set: bool,
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx {
            diagnostics: Vec::new(),
            next_rule_priority: super::route::RULE_START_PRIORITY,
            host: false,
            default_user_failed: false,
            global_lower_prio_delay_set: false,
            global_lower_prio_repeat_set: false,
        }
    }
}

impl Ctx {
    pub fn report(&mut self, severity: Severity, loc: &Location, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            severity,
            location: Some(loc.clone()),
            message: message.into(),
        });
    }

    pub fn warn(&mut self, loc: &Location, message: impl Into<String>) {
        self.report(Severity::Warning, loc, message);
    }

    pub fn error(&mut self, loc: &Location, message: impl Into<String>) {
        self.report(Severity::Error, loc, message);
    }

    /// The first argument of a keyword that needs one. keepalived aborts on a missing value.
    pub fn value<'a>(&mut self, st: &'a Stmt) -> Option<&'a str> {
        self.no_block(st);
        let value = st.arg(0);
        if value.is_none() {
            self.error(&st.loc, format!("'{}' needs a value", st.keyword()));
        }
        value
    }

    /// A keyword without a block must not be followed by `{`.
    pub fn no_block(&mut self, st: &Stmt) {
        if st.block.is_some() {
            self.error(&st.loc, format!("Unexpected '{{' after '{}'", st.keyword()));
        }
    }

    /// The block of a keyword that needs one.
    pub fn block<'a>(&mut self, st: &'a Stmt) -> Option<&'a [Stmt]> {
        let block = st.block.as_deref();
        if block.is_none() {
            self.error(&st.loc, format!("Missing '{{' after '{}'", st.keyword()));
        }
        block
    }

    /// A keyword the block does not implement: an error if it changes what keepalived does
    /// to failover or the host, a note if keepalived knows it otherwise, else a warning
    /// (keepalived's "Unknown keyword").
    pub fn other(&mut self, st: &Stmt, known: &keywords::Known) {
        let keyword = st.keyword();
        if keyword.is_empty() {
            return; // an anonymous block, already reported by the tree builder
        }
        if let Some(would) = known.refused(keyword) {
            self.error(&st.loc, keywords::refusal(keyword, would));
        } else if known.notes.contains(&keyword) {
            self.report(
                Severity::Note,
                &st.loc,
                format!("'{keyword}' is not supported by hactl-agent; ignored"),
            );
        } else {
            self.warn(&st.loc, format!("Unknown keyword '{keyword}'"));
        }
    }
}

/// Parses the top level of a config.
pub(crate) fn config(ctx: &mut Ctx, stmts: &[Stmt]) -> Config {
    let mut config = Config::default();
    let mut instances = Vec::new();
    for st in stmts {
        match st.keyword() {
            "global_defs" => {
                if let Some(block) = ctx.block(st) {
                    super::global::global_defs(ctx, block, &mut config.global);
                }
            }
            "vrrp_script" => {
                if let Some(script) = super::script::vrrp_script(ctx, st) {
                    config.scripts.push(script);
                }
            }
            "track_file" | "vrrp_track_file" => {
                if let Some(file) = super::script::track_file(ctx, st) {
                    config.track_files.push(file);
                }
            }
            "vrrp_track_process" => {
                if let Some(p) = super::script::track_process(ctx, st) {
                    config.track_processes.push(p);
                }
            }
            // Instances and static entries are read once the scripts and globals are known,
            // in file order (rules without a preference are numbered in that order).
            "vrrp_instance" | "static_ipaddress" | "static_routes" | "static_rules" => {
                instances.push(st)
            }
            "vrrp_sync_group" => {
                if let Some(group) = sync_group(ctx, st) {
                    config.sync_groups.push(group);
                }
            }
            _ => ctx.other(st, &keywords::TOP_LEVEL),
        }
    }
    // Instances use the global defaults and the scripts, wherever those are in the file.
    for st in instances {
        match st.keyword() {
            "static_ipaddress" => {
                for e in ctx.block(st).unwrap_or_default() {
                    ctx.no_block(e);
                    if let Some(a) = super::vip::vip(ctx, e) {
                        if a.dev.is_none() {
                            ctx.error(&e.loc, format!("static address {}: keepalived would put it on its default interface; hactl-agent needs 'dev'", e.keyword()));
                        }
                        config.static_addresses.push(a);
                    }
                }
                continue;
            }
            "static_routes" => {
                for e in ctx.block(st).unwrap_or_default() {
                    ctx.no_block(e);
                    if let Some(r) = super::route::route(ctx, e) {
                        config.static_routes.push(r);
                    }
                }
                continue;
            }
            "static_rules" => {
                for e in ctx.block(st).unwrap_or_default() {
                    ctx.no_block(e);
                    let mut next = ctx.next_rule_priority;
                    if let Some(r) = super::route::rule(ctx, e, &mut next) {
                        config.static_rules.push(r);
                    }
                    ctx.next_rule_priority = next;
                }
                continue;
            }
            _ => {}
        }
        if let Some(instance) = super::instance::instance(ctx, st, &config) {
            if config.instances.iter().any(|i| i.name == instance.name) {
                ctx.error(
                    &st.loc,
                    format!("vrrp instance {} already defined", instance.name),
                );
            } else {
                config.instances.push(instance);
            }
        }
    }
    config
}

fn sync_group(ctx: &mut Ctx, st: &Stmt) -> Option<SyncGroup> {
    let block = ctx.block(st)?;
    let Some(name) = st.arg(0) else {
        ctx.error(&st.loc, "vrrp_sync_group needs a name");
        return None;
    };
    let mut group = SyncGroup {
        name: name.to_string(),
        location: st.loc.clone(),
        members: Vec::new(),
        track_scripts: Vec::new(),
        track_interfaces: Vec::new(),
        track_files: Vec::new(),
        notify: Notify::default(),
        tracking_weight: false,
    };
    for s in block {
        match s.keyword() {
            "group" => {
                if let Some(entries) = ctx.block(s) {
                    for e in entries {
                        ctx.no_block(e);
                        group.members.extend(e.words.iter().cloned());
                    }
                }
            }
            "track_script" => group.track_scripts = track_refs(ctx, s, name, 253),
            "track_interface" => group.track_interfaces = track_refs(ctx, s, name, 254),
            "track_file" => group.track_files = track_refs(ctx, s, name, 254),
            "sync_group_tracking_weight" => {
                ctx.no_block(s);
                group.tracking_weight = true;
            }
            "global_tracking" => {
                ctx.no_block(s);
                ctx.warn(&s.loc, format!("({name}) global_tracking is deprecated. Use track_interface/script/file on the sync group"));
                group.tracking_weight = true;
            }
            kw if notify(ctx, s, kw, &mut group.notify) => {}
            _ => ctx.other(s, &keywords::SYNC_GROUP),
        }
    }
    Some(group)
}

/// `notify_master|backup|fault|stop` and `notify`; false if `kw` is none of those.
pub(crate) fn notify(ctx: &mut Ctx, st: &Stmt, kw: &str, notify: &mut Notify) -> bool {
    let slot = match kw {
        "notify_master" => &mut notify.master,
        "notify_backup" => &mut notify.backup,
        "notify_fault" => &mut notify.fault,
        "notify_stop" => &mut notify.stop,
        "notify" => &mut notify.any,
        _ => return false,
    };
    ctx.no_block(st);
    match command_words(&st.raw) {
        Some(argv) => *slot = Some(argv),
        None => ctx.warn(&st.loc, format!("Unable to parse {kw} script")),
    }
    true
}

/// Entries of a `track_script|track_interface|track_file { NAME [weight N [reverse]] }` block.
pub(crate) fn track_refs(ctx: &mut Ctx, st: &Stmt, owner: &str, max_weight: i32) -> Vec<TrackRef> {
    let Some(entries) = ctx.block(st) else {
        return Vec::new();
    };
    let what = st.keyword();
    let mut out: Vec<TrackRef> = Vec::new();
    for e in entries {
        ctx.no_block(e);
        let loc = &e.loc;
        let name = e.keyword();
        let mut r = TrackRef {
            name: name.to_string(),
            weight: None,
            reverse: false,
        };
        match (e.arg(0), e.arg(1)) {
            (None, _) => {}
            (Some("weight"), None) => {
                ctx.warn(loc, format!("({owner}) weight without value specified for {what} {name} - ignoring"));
                continue;
            }
            (Some("weight"), Some(v)) => match integer(v, -max_weight, max_weight) {
                Some(w) => r.weight = Some(w),
                None => ctx.warn(loc, format!("({owner}) {what} {name}: weight must be between [-{max_weight}..{max_weight}] inclusive, ignoring...")),
            },
            (Some(o), _) => {
                ctx.warn(loc, format!("({owner}) unknown {what} option {o} - ignoring"));
                continue;
            }
        }
        match e.arg(2) {
            None => {}
            Some("reverse") => r.reverse = true,
            Some("noreverse") => {}
            Some(o) => {
                ctx.warn(
                    loc,
                    format!("({owner}) unknown {what} {name} weight option {o} - ignoring"),
                );
                continue;
            }
        }
        if out.iter().any(|x| x.name == r.name) {
            ctx.warn(loc, format!("({owner}) duplicate {what} {name} - ignoring"));
            continue;
        }
        out.push(r);
    }
    out
}
