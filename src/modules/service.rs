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

const SCRIPT: &str = r#"name=$1 state=$2 enabled=$3 reload=$4 check=$5
changed=0
if [ -d /run/systemd/system ]; then
    if [ "$reload" = 1 ]; then
        [ "$check" = 1 ] || systemctl daemon-reload || exit 2
    fi
    # `systemd: daemon_reload=yes` alone: nothing else to do (Ansible reports it as ok).
    if [ -z "$name" ]; then echo "hactl:changed=0"; exit 0; fi
    # One systemctl call reads all three states (each call is a D-Bus round trip, ~7 ms).
    load= active= cur=
    while IFS='=' read -r k v; do
        case $k in LoadState) load=$v ;; ActiveState) active=$v ;; UnitFileState) cur=$v ;; esac
    done <<EOF
$(systemctl show -p LoadState -p ActiveState -p UnitFileState -- "$name" 2>/dev/null)
EOF
    if [ "$load" = not-found ] || [ -z "$load" ]; then
        echo "Could not find the requested service $name: host" >&2
        exit 3
    fi
    act() { changed=1; [ "$check" = 1 ] || systemctl "$1" -- "$name" || exit 4; }
    case $state in
        started) [ "$active" = active ] || act start ;;
        stopped) case $active in active|activating|reloading) act stop ;; esac ;;
        restarted) act restart ;;
        reloaded) if [ "$active" = active ]; then act reload; else act start; fi ;;
    esac
    if [ -n "$enabled" ]; then
        if [ "$enabled" = 1 ] && [ "$cur" != enabled ] && [ "$cur" != static ] && [ "$cur" != alias ]; then
            changed=1; [ "$check" = 1 ] || systemctl enable -- "$name" >/dev/null 2>&1 || exit 5
        elif [ "$enabled" = 0 ] && [ "$cur" = enabled ]; then
            changed=1; [ "$check" = 1 ] || systemctl disable -- "$name" >/dev/null 2>&1 || exit 5
        fi
        echo "hactl:enabled=$enabled"
    fi
    if [ "$changed" = 1 ]; then now=$(systemctl is-active -- "$name" 2>/dev/null); else now=$active; fi
else
    if [ ! -x "/etc/init.d/$name" ]; then
        echo "Could not find the requested service $name: host" >&2
        exit 3
    fi
    run() { if command -v service >/dev/null 2>&1; then service "$name" "$1"; else "/etc/init.d/$name" "$1"; fi; }
    if run status >/dev/null 2>&1; then active=active; else active=inactive; fi
    act() { changed=1; [ "$check" = 1 ] || run "$1" >/dev/null || exit 4; }
    case $state in
        started) [ "$active" = active ] || act start ;;
        stopped) [ "$active" = active ] && act stop ;;
        restarted) act restart ;;
        reloaded) act reload ;;
    esac
    if [ -n "$enabled" ]; then
        if command -v update-rc.d >/dev/null 2>&1; then
            if ls /etc/rc[2345].d/S??"$name" >/dev/null 2>&1; then cur=1; else cur=0; fi
            if [ "$cur" != "$enabled" ]; then
                changed=1
                if [ "$check" != 1 ]; then
                    if [ "$enabled" = 1 ]; then update-rc.d "$name" enable >/dev/null; else update-rc.d "$name" disable >/dev/null; fi || exit 5
                fi
            fi
        fi
        echo "hactl:enabled=$enabled"
    fi
    now=$active
fi
echo "hactl:changed=$changed"
echo "hactl:active=$now"
"#;

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
