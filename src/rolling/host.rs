//! What `--rolling` runs on a load balancer: reading its VRRP config, draining it, holding
//! the drain while the play restarts things, and undraining it. Each step is one POSIX shell
//! script over the host's connection.
//!
//! A drain must survive the play: the role restarts (or starts) the VRRP engine, which would
//! otherwise come back undrained and take its VIPs back while nginx restarts. So a drain is
//! held by a runtime systemd drop-in (under `/run`, gone at reboot) until the undrain:
//! - hactl-agent: `ExecStartPost` drains a (re)started agent again within milliseconds (it
//!   starts as BACKUP and waits a whole Master_Down_Interval before it would take over);
//! - keepalived drained by stopping it: the unit starts nothing (`ExecStart=/bin/true`) until
//!   the undrain, which starts the real keepalived with whatever config the play left;
//! - keepalived drained through a tracked file needs nothing: the file outlives restarts.

use std::fmt::Write as _;

use super::plan::FileDrain;
use crate::transport::shell_quote;

/// How a host is drained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `hactl-agent drain all`.
    Agent,
    /// A value written into a file keepalived tracks.
    File(FileDrain),
    /// `systemctl stop keepalived` (priority 0 adverts), held stopped until the undrain.
    Stop,
    /// No VRRP engine runs: nothing to drain.
    Nothing,
}

impl Method {
    /// How the plan and the ROLLING lines name it.
    pub fn describe(&self) -> String {
        match self {
            Method::Agent => "hactl-agent drain all".into(),
            Method::File(f) => format!(
                "keepalived track_file {} ({} <- {})",
                f.name, f.path, f.value
            ),
            Method::Stop => {
                "systemctl stop keepalived (no track_file to lower its priority)".into()
            }
            Method::Nothing => "nothing to drain (no VRRP engine runs)".into(),
        }
    }
}

const MARK: &str = "@@hactl-rolling ";

/// Reads the keepalived config on disk and whether each engine's unit is active.
pub const INSPECT: &str = r#"PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin
echo '@@hactl-rolling conf'
cat /etc/keepalived/keepalived.conf 2>/dev/null
echo '@@hactl-rolling end'
"#;

/// The config text of [`INSPECT`]'s output.
pub fn inspected_config(out: &str) -> String {
    let mut text = String::new();
    let mut inside = false;
    for line in out.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix(MARK) {
            inside = name.trim() == "conf";
            continue;
        }
        if inside {
            text.push_str(line);
        }
    }
    text
}

const AGENT_DROPIN: &str = "/run/systemd/system/hactl-agent.service.d/hactl-rolling.conf";
const KEEPALIVED_DROPIN: &str = "/run/systemd/system/keepalived.service.d/hactl-rolling.conf";
const HOLD_SCRIPT: &str = "/run/hactl-rolling/hold-agent.sh";

/// The agent's hold: drain a (re)started agent as soon as its socket answers.
fn agent_hold() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "mkdir -p /run/hactl-rolling {}", dir(AGENT_DROPIN));
    let _ = write!(
        s,
        "cat > {HOLD_SCRIPT} <<'HACTL_EOF'\n#!/bin/sh\n\
         # hactl apply --rolling: this host is drained; a (re)started hactl-agent is drained again.\n\
         PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin\n\
         i=0\n\
         until hactl-agent drain all >/dev/null 2>&1; do\n\
         \x20 i=$((i + 1)); [ \"$i\" -lt 200 ] || {{ echo 'hactl --rolling: the restarted agent cannot be drained' >&2; exit 1; }}\n\
         \x20 sleep 0.025\n\
         done\nHACTL_EOF\n"
    );
    let _ = writeln!(s, "chmod 0755 {HOLD_SCRIPT}");
    let _ = write!(
        s,
        "cat > {AGENT_DROPIN} <<'HACTL_EOF'\n\
         # hactl apply --rolling holds this host drained; removed by the undrain.\n\
         [Service]\nExecStartPost=/bin/sh {HOLD_SCRIPT}\nHACTL_EOF\n"
    );
    s
}

/// keepalived's hold after a stop: the unit starts nothing until the undrain.
fn keepalived_hold() -> String {
    format!(
        "mkdir -p {}\ncat > {KEEPALIVED_DROPIN} <<'HACTL_EOF'\n\
         # hactl apply --rolling holds keepalived stopped (this host is drained); removed by the\n\
         # undrain, which starts the real keepalived.\n\
         [Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=\nExecStart=/bin/true\n\
         ExecReload=\nExecReload=/bin/true\nHACTL_EOF\n",
        dir(KEEPALIVED_DROPIN)
    )
}

fn dir(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(d, _)| d)
}

/// Drains the host: sets the hold, then hands the VIPs over.
pub fn drain(method: &Method) -> String {
    let mut s = String::from("set -e\nPATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin\n");
    match method {
        Method::Agent => {
            // keepalived is held too: a play that moves the host to keepalived must not
            // start it undrained.
            s.push_str(&agent_hold());
            s.push_str(&keepalived_hold());
            s.push_str("systemctl daemon-reload\nhactl-agent drain all\n");
        }
        Method::File(f) => {
            s.push_str(&agent_hold());
            let _ = writeln!(s, "systemctl daemon-reload");
            let _ = writeln!(s, "printf '%s\\n' {} > {}", f.value, shell_quote(&f.path));
        }
        Method::Stop => {
            s.push_str("systemctl stop keepalived\n");
            s.push_str(&agent_hold());
            s.push_str(&keepalived_hold());
            // The stub runs in its place, so the unit stays active as the play found it: a
            // `state: started` task reports ok, not a change the drain made (the second run
            // of a play is changed=0 with --rolling as without).
            s.push_str("systemctl daemon-reload\nsystemctl start keepalived\n");
        }
        Method::Nothing => {
            s.push_str(&agent_hold());
            s.push_str(&keepalived_hold());
            s.push_str("systemctl daemon-reload\n");
        }
    }
    s
}

/// Undrains the host: removes the hold and puts the engine that runs now back in service.
/// Prints `@@started keepalived` when it started a keepalived held stopped.
pub fn undrain(method: &Method) -> String {
    let mut s = String::from("PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin\n");
    let held = !matches!(method, Method::File(_));
    let _ = writeln!(
        s,
        "rm -f {AGENT_DROPIN} {KEEPALIVED_DROPIN} {HOLD_SCRIPT}\n\
         rmdir {} {} /run/hactl-rolling 2>/dev/null\n\
         systemctl daemon-reload || exit 1",
        dir(AGENT_DROPIN),
        dir(KEEPALIVED_DROPIN)
    );
    if let Method::File(f) = method {
        let _ = writeln!(s, "printf '0\\n' > {} || exit 1", shell_quote(&f.path));
    }
    s.push_str(
        "if systemctl is-active --quiet hactl-agent; then\n  hactl-agent undrain all || exit 1\nfi\n",
    );
    if held {
        // The stub unit is active when the play started keepalived while it was held: the
        // real one starts now. A keepalived the drain stopped starts again unless the play
        // disabled it.
        let enabled = if matches!(method, Method::Stop) {
            " || systemctl is-enabled --quiet keepalived 2>/dev/null"
        } else {
            ""
        };
        let _ = write!(
            s,
            "if systemctl is-active --quiet keepalived{enabled}; then\n  \
             systemctl restart keepalived || exit 1\n  echo '@@started keepalived'\nfi\n",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_section() {
        let out = "@@hactl-rolling conf\nvrrp_instance VI_1 {\n}\n@@hactl-rolling end\n";
        assert_eq!(inspected_config(out), "vrrp_instance VI_1 {\n}\n");
    }

    #[test]
    fn holds_are_set_by_drain_and_removed_by_undrain() {
        let d = drain(&Method::Stop);
        let stop = d.find("systemctl stop keepalived").unwrap_or(usize::MAX);
        let hold = d.find(KEEPALIVED_DROPIN).unwrap_or(0);
        assert!(stop < hold, "stopped before the stub unit is put in place");
        assert!(d.contains("ExecStart=/bin/true"));
        let start = d.rfind("systemctl start keepalived").unwrap_or(0);
        assert!(
            hold < start,
            "the stub unit runs in its place, so the unit stays active"
        );
        assert!(drain(&Method::Agent).contains("hactl-agent drain all"));
        let f = Method::File(FileDrain {
            name: "drain".into(),
            path: "/etc/keepalived/drain".into(),
            value: 2,
        });
        assert!(drain(&f).contains("printf '%s\\n' 2 > /etc/keepalived/drain"));
        for m in [Method::Agent, Method::Stop, f.clone()] {
            let u = undrain(&m);
            assert!(u.contains(&format!("rm -f {AGENT_DROPIN} {KEEPALIVED_DROPIN}")));
            assert!(u.contains("hactl-agent undrain all"));
        }
        assert!(undrain(&f).contains("printf '0\\n' > /etc/keepalived/drain"));
        assert!(undrain(&Method::Stop).contains("systemctl restart keepalived"));
        assert!(!undrain(&f).contains("systemctl restart keepalived"));
    }
}
