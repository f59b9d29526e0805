//! From statements to the model: the top level, `global_defs`, `vrrp_script`, `track_file` and
//! `vrrp_sync_group`, plus the value readers every block uses. `vrrp_instance` is in
//! [`super::instance`]; checks that need the whole file are in [`super::validate`].
//!
//! Each keyword is handled the way keepalived 2.2.7 handles it: where keepalived reports a bad
//! value and falls back (a default, or ignoring the line), the agent does the same and records a
//! [`Severity::Warning`]; where keepalived drops the object or cannot run, it is an error.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use super::error::{Diagnostic, Location, Severity};
use super::keywords;
use super::lexer::command_words;
use super::model::{
    Config, Garp, GlobalDefs, Notify, ScriptUser, SyncGroup, TrackFile, TrackFileInit, TrackRef,
    VrrpScript, VrrpVersion,
};
use super::tree::Stmt;

/// Collects diagnostics while the model is built.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub diagnostics: Vec<Diagnostic>,
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

    /// A keyword the block does not implement: a note if keepalived knows it, else a warning.
    pub fn other(&mut self, st: &Stmt, known: &[&str]) {
        let keyword = st.keyword();
        if keyword.is_empty() {
            return; // an anonymous block, already reported by the tree builder
        }
        if known.contains(&keyword) {
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
                    global_defs(ctx, block, &mut config.global);
                }
            }
            "vrrp_script" => {
                if let Some(script) = vrrp_script(ctx, st) {
                    config.scripts.push(script);
                }
            }
            "track_file" | "vrrp_track_file" => {
                if let Some(file) = track_file(ctx, st) {
                    config.track_files.push(file);
                }
            }
            "vrrp_instance" => instances.push(st),
            "vrrp_sync_group" => {
                if let Some(group) = sync_group(ctx, st) {
                    config.sync_groups.push(group);
                }
            }
            _ => ctx.other(st, keywords::TOP_LEVEL),
        }
    }
    // Instances use the global defaults and the scripts, wherever those are in the file.
    for st in instances {
        if let Some(instance) = super::instance::instance(ctx, st, &config) {
            if config.instances.iter().any(|i| i.name == instance.name) {
                ctx.error(&st.loc, format!("vrrp instance {} already defined", instance.name));
            } else {
                config.instances.push(instance);
            }
        }
    }
    config
}

fn global_defs(ctx: &mut Ctx, block: &[Stmt], g: &mut GlobalDefs) {
    // vrrp_min_garp only changes values still at their default, wherever it stands.
    let mut min_garp = false;
    let mut set = Garp { delay: Duration::MAX, repeat: u32::MAX, refresh: None, refresh_repeat: u32::MAX };
    for st in block {
        let loc = &st.loc;
        match st.keyword() {
            "router_id" => g.router_id = ctx.value(st).map(str::to_string),
            "vrrp_mcast_group4" => {
                if let Some(v) = ctx.value(st) {
                    match v.parse::<Ipv4Addr>() {
                        Ok(a) if a.is_multicast() => g.mcast_group4 = a,
                        _ => ctx.warn(loc, format!("vrrp_mcast_group4 '{v}' is not an IPv4 multicast address - ignoring")),
                    }
                }
            }
            "enable_script_security" => {
                ctx.no_block(st);
                g.enable_script_security = true;
            }
            "script_user" => {
                if let Some(user) = ctx.value(st) {
                    g.script_user = Some(ScriptUser { user: user.to_string(), group: st.arg(1).map(str::to_string) });
                }
            }
            "vrrp_version" => {
                if let Some(v) = ctx.value(st) {
                    match v {
                        "2" => g.vrrp_version = VrrpVersion::V2,
                        "3" => g.vrrp_version = VrrpVersion::V3,
                        _ => ctx.warn(loc, format!("Unknown VRRP version '{v}' - ignoring")),
                    }
                }
            }
            "vrrp_garp_master_delay" => {
                if let Some(v) = ctx.value(st).and_then(|v| number(ctx, loc, st.keyword(), v, 0, u32::MAX / 1_000_000)) {
                    set.delay = Duration::from_secs(v.into());
                }
            }
            "vrrp_garp_master_repeat" => {
                if let Some(v) = ctx.value(st).and_then(|v| number(ctx, loc, st.keyword(), v, 0, u32::MAX)) {
                    set.repeat = v;
                }
            }
            "vrrp_garp_master_refresh" => {
                if let Some(v) = ctx.value(st).and_then(|v| number(ctx, loc, st.keyword(), v, 0, u32::MAX)) {
                    g.garp.refresh = (v > 0).then(|| Duration::from_secs(v.into()));
                    set.refresh = Some(Duration::ZERO);
                }
            }
            "vrrp_garp_master_refresh_repeat" => {
                if let Some(v) = ctx.value(st).and_then(|v| number(ctx, loc, st.keyword(), v, 0, u32::MAX)) {
                    set.refresh_repeat = v;
                }
            }
            "vrrp_garp_interval" => {
                if let Some(v) = ctx.value(st) {
                    match decimal(v, Duration::from_secs(1)) {
                        Some(d) => g.garp_interval = d,
                        None => ctx.warn(loc, format!("vrrp_garp_interval '{v}' is invalid - ignoring")),
                    }
                }
            }
            "vrrp_min_garp" => match st.arg(0) {
                None | Some("true" | "on" | "yes") => min_garp = true,
                Some("false" | "off" | "no") => {}
                Some(_) => ctx.warn(loc, "Invalid value for vrrp_min_garp specified"),
            },
            "vrrp_iptables" => ctx.warn(
                loc,
                "iptables not supported, using nftables instead (keepalived 2.2.7 on Debian says \
                 so; hactl-agent manages no firewall rules)",
            ),
            kw if keywords::GLOBAL_MAIL.contains(&kw) => {}
            _ => ctx.other(st, keywords::GLOBAL),
        }
    }
    if set.delay != Duration::MAX {
        g.garp.delay = set.delay;
    }
    if set.repeat != u32::MAX {
        g.garp.repeat = set.repeat;
    }
    if set.refresh_repeat != u32::MAX {
        g.garp.refresh_repeat = set.refresh_repeat;
    }
    if min_garp {
        if set.repeat == u32::MAX {
            g.garp.repeat = 1;
        }
        if set.delay == Duration::MAX {
            g.garp.delay = Duration::ZERO;
        }
    }
}

fn vrrp_script(ctx: &mut Ctx, st: &Stmt) -> Option<VrrpScript> {
    let block = ctx.block(st)?;
    let Some(name) = st.arg(0) else {
        ctx.error(&st.loc, "vrrp_script needs a name");
        return None;
    };
    let mut script = VrrpScript {
        name: name.to_string(),
        argv: Vec::new(),
        interval: Duration::from_secs(1),
        timeout: Duration::ZERO,
        weight: 0,
        weight_reverse: false,
        rise: 1,
        fall: 1,
        user: None,
        init_fail: false,
    };
    for s in block {
        let loc = &s.loc;
        match s.keyword() {
            "script" => {
                ctx.no_block(s);
                match command_words(&s.raw) {
                    Some(argv) => script.argv = argv,
                    None => ctx.warn(loc, format!("(vrrp_script {name}) cannot split the script command line")),
                }
            }
            "interval" | "timeout" => {
                let kw = s.keyword();
                if let Some(v) = ctx.value(s).and_then(|v| number(ctx, loc, kw, v, 0, u32::MAX / 1_000_000)) {
                    let v = if v == 0 {
                        ctx.warn(loc, format!("({name}): vrrp script {kw} must be greater than 0, setting to 1"));
                        1
                    } else {
                        v
                    };
                    let d = Duration::from_secs(v.into());
                    if kw == "interval" { script.interval = d } else { script.timeout = d }
                }
            }
            "weight" => {
                if let Some(v) = ctx.value(s) {
                    match integer(v, -253, 253) {
                        Some(w) => script.weight = w,
                        None => ctx.warn(loc, format!("vrrp_script {name} weight {v} must be in [-253, 253]")),
                    }
                    match s.arg(1) {
                        None => {}
                        Some("reverse") => script.weight_reverse = true,
                        Some(o) => ctx.warn(loc, format!("vrrp_script {name} unknown weight option {o}")),
                    }
                }
            }
            "rise" | "fall" => {
                let kw = s.keyword();
                if let Some(v) = ctx.value(s) {
                    let n = match unsigned(v, 1, i32::MAX as u32) {
                        Some(n) => n,
                        None => {
                            ctx.warn(loc, format!("({name}): vrrp script {kw} value '{v}' invalid, defaulting to 1"));
                            1
                        }
                    };
                    if kw == "rise" { script.rise = n } else { script.fall = n }
                }
            }
            "user" => {
                if let Some(user) = ctx.value(s) {
                    script.user = Some(ScriptUser { user: user.to_string(), group: s.arg(1).map(str::to_string) });
                }
            }
            "init_fail" => {
                ctx.no_block(s);
                script.init_fail = true;
            }
            _ => ctx.other(s, &[]),
        }
    }
    if script.argv.is_empty() {
        ctx.warn(&st.loc, format!("No script set for vrrp_script {name} - removing"));
        return None;
    }
    if script.timeout.is_zero() {
        script.timeout = script.interval;
    }
    Some(script)
}

fn track_file(ctx: &mut Ctx, st: &Stmt) -> Option<TrackFile> {
    let block = ctx.block(st)?;
    let Some(name) = st.arg(0) else {
        ctx.error(&st.loc, format!("{} needs a name", st.keyword()));
        return None;
    };
    let mut path: Option<PathBuf> = None;
    let mut file = TrackFile { name: name.to_string(), path: PathBuf::new(), weight: 1, weight_reverse: false, init: None };
    for s in block {
        let loc = &s.loc;
        match s.keyword() {
            "file" => {
                if let Some(v) = ctx.value(s) {
                    if path.is_some() {
                        ctx.warn(loc, format!("File already set for track file {name} - ignoring {v}"));
                    } else {
                        path = Some(PathBuf::from(v));
                    }
                }
            }
            "weight" => {
                if let Some(v) = ctx.value(s) {
                    match integer(v, -254, 254) {
                        Some(w) => file.weight = w,
                        None => ctx.warn(loc, format!("Weight ({v}) for track_file {name} must be between [-254..254] inclusive. Ignoring...")),
                    }
                    match s.arg(1) {
                        None => {}
                        Some("reverse") => file.weight_reverse = true,
                        Some(o) => ctx.warn(loc, format!("track_file {name} unknown weight option {o}")),
                    }
                }
            }
            "init_file" => {
                ctx.no_block(s);
                let mut init = TrackFileInit { value: 0, overwrite: false };
                for word in &s.words[1..] {
                    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                        match integer(word, i32::MIN, i32::MAX) {
                            Some(v) => init.value = v,
                            None => ctx.warn(loc, format!("Track file {name} init value {word} is invalid")),
                        }
                    } else if word == "overwrite" {
                        init.overwrite = true;
                    } else {
                        ctx.warn(loc, format!("Unknown track file init option {word}"));
                    }
                }
                file.init = Some(init);
            }
            _ => ctx.other(s, &[]),
        }
    }
    let Some(path) = path else {
        ctx.warn(&st.loc, format!("No file set for track_file {name} - ignoring"));
        return None;
    };
    file.path = path;
    Some(file)
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
            kw if notify(ctx, s, kw, &mut group.notify) => {}
            _ => ctx.other(s, keywords::SYNC_GROUP),
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
        let mut r = TrackRef { name: name.to_string(), weight: None, reverse: false };
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
                ctx.warn(loc, format!("({owner}) unknown {what} {name} weight option {o} - ignoring"));
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

/// Reads a whole unsigned number in `min..=max`, warning (as keepalived does) when it is not.
pub(crate) fn number(ctx: &mut Ctx, loc: &Location, kw: &str, v: &str, min: u32, max: u32) -> Option<u32> {
    let n = unsigned(v, min, max);
    if n.is_none() {
        ctx.warn(loc, format!("{kw} '{v}' invalid: must be a number in [{min}, {max}] - ignoring"));
    }
    n
}

/// A decimal unsigned number in `min..=max`.
pub(crate) fn unsigned(v: &str, min: u32, max: u32) -> Option<u32> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u32>().ok().filter(|n| (min..=max).contains(n))
}

/// A decimal signed number in `min..=max`.
pub(crate) fn integer(v: &str, min: i32, max: i32) -> Option<i32> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i32>().ok().filter(|n| (min..=max).contains(n))
}

/// A number of seconds with up to 6 decimals ("1", "0.5", "2.25"), as keepalived's timers read
/// them, scaled by `unit` (pass one second for plain seconds). `None` if malformed.
pub(crate) fn decimal(v: &str, unit: Duration) -> Option<Duration> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(frac) || frac.len() > 6 {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let micros_frac: u64 = format!("{frac:0<6}").parse().ok()?;
    let micros = whole.checked_mul(1_000_000)?.checked_add(micros_frac)?;
    let unit_micros = u64::try_from(unit.as_micros()).ok()?;
    Some(Duration::from_micros(micros.checked_mul(unit_micros)? / 1_000_000))
}
