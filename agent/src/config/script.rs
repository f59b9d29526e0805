//! Tracked objects defined at the top level: `vrrp_script NAME { }` and `track_file NAME { }`
//! (`vrrp_track_file` is keepalived's older name for the latter).

use std::path::PathBuf;
use std::time::Duration;

use super::lexer::command_words;
use super::model::{ParamMatch, ScriptUser, TrackFile, TrackFileInit, TrackProcess, VrrpScript};
use super::parse::Ctx;
use super::tree::Stmt;
use super::values::{integer, number, unsigned};

pub(crate) fn vrrp_script(ctx: &mut Ctx, st: &Stmt) -> Option<VrrpScript> {
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
    let mut bad_user = false;
    for s in block {
        let loc = &s.loc;
        match s.keyword() {
            "script" => {
                ctx.no_block(s);
                match command_words(&s.raw) {
                    Some(argv) => script.argv = argv,
                    None => ctx.warn(
                        loc,
                        format!("(vrrp_script {name}) cannot split the script command line"),
                    ),
                }
            }
            "interval" | "timeout" => {
                let kw = s.keyword();
                if let Some(v) = ctx
                    .value(s)
                    .and_then(|v| number(ctx, loc, kw, v, 0, u32::MAX / 1_000_000))
                {
                    let v = if v == 0 {
                        ctx.warn(
                            loc,
                            format!(
                                "({name}): vrrp script {kw} must be greater than 0, setting to 1"
                            ),
                        );
                        1
                    } else {
                        v
                    };
                    let d = Duration::from_secs(v.into());
                    if kw == "interval" {
                        script.interval = d
                    } else {
                        script.timeout = d
                    }
                }
            }
            "weight" => {
                if let Some(v) = ctx.value(s) {
                    match integer(v, -253, 253) {
                        Some(w) => script.weight = w,
                        None => ctx.warn(
                            loc,
                            format!("vrrp_script {name} weight {v} must be in [-253, 253]"),
                        ),
                    }
                    match s.arg(1) {
                        None => {}
                        Some("reverse") => script.weight_reverse = true,
                        Some(o) => {
                            ctx.warn(loc, format!("vrrp_script {name} unknown weight option {o}"))
                        }
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
                    if kw == "rise" {
                        script.rise = n
                    } else {
                        script.fall = n
                    }
                }
            }
            "user" => {
                if let Some(user) = ctx.value(s) {
                    let group = s.arg(1);
                    // keepalived drops the script, unless a later `user` line works.
                    bad_user = ctx.host && !user_exists(user, group);
                    if bad_user {
                        ctx.warn(
                            loc,
                            format!("Unable to set uid/gid for script {}", script.argv.join(" ")),
                        );
                    }
                    script.user = Some(ScriptUser {
                        user: user.to_string(),
                        group: group.map(str::to_string),
                    });
                }
            }
            "init_fail" => {
                ctx.no_block(s);
                script.init_fail = true;
            }
            _ => ctx.other(s, &super::keywords::NONE),
        }
    }
    if script.argv.is_empty() {
        ctx.warn(
            &st.loc,
            format!("No script set for vrrp_script {name} - removing"),
        );
        return None;
    }
    if bad_user {
        return None;
    }
    if script.user.is_none() && ctx.default_user_failed {
        ctx.warn(
            &st.loc,
            format!("Unable to set default user for vrrp script {name} - removing"),
        );
        return None;
    }
    if script.timeout.is_zero() {
        script.timeout = script.interval;
    }
    Some(script)
}

pub(crate) fn track_file(ctx: &mut Ctx, st: &Stmt) -> Option<TrackFile> {
    let block = ctx.block(st)?;
    let Some(name) = st.arg(0) else {
        ctx.error(&st.loc, format!("{} needs a name", st.keyword()));
        return None;
    };
    let mut path: Option<PathBuf> = None;
    let mut file = TrackFile {
        name: name.to_string(),
        path: PathBuf::new(),
        weight: 1,
        weight_reverse: false,
        init: None,
    };
    for s in block {
        let loc = &s.loc;
        match s.keyword() {
            "file" => {
                if let Some(v) = ctx.value(s) {
                    if path.is_some() {
                        ctx.warn(
                            loc,
                            format!("File already set for track file {name} - ignoring {v}"),
                        );
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
                        Some(o) => {
                            ctx.warn(loc, format!("track_file {name} unknown weight option {o}"))
                        }
                    }
                }
            }
            "init_file" => {
                ctx.no_block(s);
                let mut init = TrackFileInit {
                    value: 0,
                    overwrite: false,
                };
                for word in &s.words[1..] {
                    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                        match integer(word, i32::MIN, i32::MAX) {
                            Some(v) => init.value = v,
                            None => ctx.warn(
                                loc,
                                format!("Track file {name} init value {word} is invalid"),
                            ),
                        }
                    } else if word == "overwrite" {
                        init.overwrite = true;
                    } else {
                        ctx.warn(loc, format!("Unknown track file init option {word}"));
                    }
                }
                file.init = Some(init);
            }
            _ => ctx.other(s, &super::keywords::NONE),
        }
    }
    let Some(path) = path else {
        ctx.warn(
            &st.loc,
            format!("No file set for track_file {name} - ignoring"),
        );
        return None;
    };
    file.path = path;
    Some(file)
}

/// `vrrp_track_process NAME { }`, with keepalived 2.2.7's messages (vrrp_parser.c).
pub(crate) fn track_process(ctx: &mut Ctx, st: &Stmt) -> Option<TrackProcess> {
    let block = ctx.block(st)?;
    let Some(name) = st.arg(0) else {
        ctx.error(&st.loc, "vrrp_track_process needs a name");
        return None;
    };
    let mut p = TrackProcess {
        name: name.to_string(),
        process: String::new(),
        params: Vec::new(),
        param_match: ParamMatch::None,
        full_command: false,
        weight: 0,
        weight_reverse: false,
        quorum: 1,
        quorum_max: u32::MAX,
        fork_delay: Duration::ZERO,
        terminate_delay: Duration::ZERO,
    };
    for s in block {
        let loc = &s.loc;
        match s.keyword() {
            "process" => {
                let Some(v) = ctx.value(s) else { continue };
                if !p.process.is_empty() {
                    ctx.warn(
                        loc,
                        format!("Process already set for track process {name} - ignoring {v}"),
                    );
                    continue;
                }
                p.process = v.to_string();
                if s.words.len() > 2 {
                    p.params = s.words[2..].to_vec();
                    if p.param_match == ParamMatch::None {
                        p.param_match = ParamMatch::Exact;
                    }
                    p.full_command = true;
                }
            }
            "param_match" => {
                ctx.no_block(s);
                match s.arg(0) {
                    None => p.param_match = ParamMatch::Exact,
                    Some("initial") => p.param_match = ParamMatch::Initial,
                    Some("partial") => p.param_match = ParamMatch::Partial,
                    Some(o) => {
                        ctx.warn(loc, format!("Invalid param_match type {o} - ignoring"));
                        continue;
                    }
                }
                p.full_command = true;
            }
            "full_command" => {
                ctx.no_block(s);
                p.full_command = true;
            }
            "weight" => {
                let Some(v) = s.arg(0) else {
                    ctx.warn(
                        loc,
                        format!("No weight specified for track process {name} - ignoring"),
                    );
                    continue;
                };
                if p.weight != 0 {
                    ctx.warn(
                        loc,
                        format!("Weight already set for track process {name} - ignoring {v}"),
                    );
                    continue;
                }
                let Some(w) = integer(v, -254, 254) else {
                    ctx.warn(loc, format!("Weight ({v}) for vrrp_track_process {name} must be between [-254..254] inclusive. Ignoring..."));
                    continue;
                };
                match s.arg(1) {
                    None => {}
                    Some("reverse") => p.weight_reverse = true,
                    Some(o) => ctx.warn(
                        loc,
                        format!("vrrp_track_process {name} unknown weight option {o}"),
                    ),
                }
                p.weight = w;
            }
            "quorum" => {
                let Some(v) = ctx.value(s) else { continue };
                match unsigned(v, 1, 65535) {
                    None => ctx.warn(loc, format!("Quorum ({v}) for vrrp_track_process {name} must be between [1..65535] inclusive. Ignoring...")),
                    Some(q) if q > p.quorum_max => ctx.warn(loc, "Quorum is greater than quorum_max - ignoring"),
                    Some(q) => p.quorum = q,
                }
            }
            "quorum_max" => {
                let Some(v) = ctx.value(s) else { continue };
                match unsigned(v, 0, 65535) {
                    None => ctx.warn(loc, format!("quorum_max ({v}) for vrrp_track_process {name} must be between [0..65535] inclusive. Ignoring...")),
                    // quorum_max 0 is allowed while quorum is not set (it means: none may run).
                    Some(q) if (q != 0 || p.quorum > 1) && q < p.quorum => {
                        ctx.warn(loc, "quorum_max is less than quorum - ignoring")
                    }
                    Some(q) => {
                        p.quorum_max = q;
                        if q == 0 {
                            p.quorum = 0;
                        } else if p.quorum == 0 {
                            p.quorum = 1;
                        }
                    }
                }
            }
            kw @ ("delay" | "fork_delay" | "terminate_delay") => {
                let Some(v) = ctx.value(s) else { continue };
                let prefix = kw.strip_suffix("delay").unwrap_or_default();
                match super::values::decimal_micros(ctx, loc, v, 1, 3_600_000_000) {
                    Some(us) => {
                        let d = Duration::from_micros(us);
                        if kw != "fork_delay" {
                            p.terminate_delay = d;
                        }
                        if kw != "terminate_delay" {
                            p.fork_delay = d;
                        }
                    }
                    None => ctx.warn(loc, format!("{prefix}delay ({v}) for vrrp_track_process {name} must be between [0.000001..3600] inclusive. Ignoring...")),
                }
            }
            _ => ctx.other(s, &super::keywords::NONE),
        }
    }
    if p.process.is_empty() {
        ctx.warn(
            &st.loc,
            format!("track process '{name}' process name not specified"),
        );
        return None;
    }
    Some(p)
}

/// Whether this host has `user` (and `group`, if given), as keepalived's `set_uid_gid` looks
/// them up for scripts.
pub(crate) fn user_exists(user: &str, group: Option<&str>) -> bool {
    let user_ok = matches!(nix::unistd::User::from_name(user), Ok(Some(_)));
    let group_ok = group.is_none_or(|g| matches!(nix::unistd::Group::from_name(g), Ok(Some(_))));
    user_ok && group_ok
}
