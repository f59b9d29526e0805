//! `service` and `systemd`: started/stopped/restarted/reloaded, `enabled`, `daemon_reload`.
//! systemd when the host runs it, else SysV `service` and `update-rc.d`/`chkconfig`.

use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, with_args};
use super::{ArgError, Mode, Outcome, Remote, Step};

const PARAMS: &[&str] = &[
    "name",
    "state",
    "enabled",
    "daemon_reload",
    "daemon_reexec",
    "masked",
    "scope",
    "force",
    "no_block",
    "pattern",
    "sleep",
    "runlevel",
    "arguments",
    "args",
    "use",
];

const SCRIPT: &str = include_str!("service.sh");

pub fn plan(module: &str, args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new(module, args, PARAMS)?;
    let daemon_reload = a.bool(&["daemon_reload"])?.unwrap_or(false);
    // The systemd module may only reload systemd's configuration, with no unit named.
    let reload_only = module != "service"
        && daemon_reload
        && ["name", "state", "enabled"]
            .iter()
            .all(|k| !args.contains_key(*k));
    let name = if reload_only {
        String::new()
    } else {
        a.required(&["name"])?
    };
    let state = a
        .choice("state", &["started", "stopped", "restarted", "reloaded"])?
        .unwrap_or_default();
    let enabled = a.bool(&["enabled"])?;
    if state.is_empty() && enabled.is_none() && !daemon_reload {
        return Err(ArgError(
            "one of the following is required: state, enabled".into(),
        ));
    }
    let flag = |b: bool| if b { "1" } else { "0" };
    let enabled_arg = enabled.map(flag).unwrap_or_default();
    let script = with_args(
        SCRIPT,
        &[
            &name,
            &state,
            enabled_arg,
            flag(daemon_reload),
            flag(mode.check),
        ],
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            if !out.success() {
                return protocol::failed_from(&out, "service operation failed").with("name", name);
            }
            let fields = protocol::fields(&out.stdout);
            let changed = field(&fields, "changed") == Some("1");
            let mut outcome = Outcome::changed(changed).with("name", name);
            if !state.is_empty() {
                outcome = outcome.with("state", state);
            }
            if let Some(e) = enabled {
                outcome = outcome.with("enabled", e);
            }
            outcome
        }),
    }))
}

super::registry::host_module!(Service, "service", aliases: &["sysvinit"], free_form: false,
    params: PARAMS, about: "start, stop, restart, enable or disable a service",
    plan: |cx| plan("service", &cx.args, cx.mode));
super::registry::host_module!(Systemd, "systemd", aliases: &["systemd_service"], free_form: false,
    params: PARAMS, about: "manage a systemd unit (also daemon_reload)",
    plan: |cx| plan("systemd", &cx.args, cx.mode));
