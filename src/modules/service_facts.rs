//! `service_facts` (ansible.builtin): `ansible_facts.services`, each service's name, state,
//! status and source as the module reports it: from `service --status-all` (SysV, source
//! `sysv`) and, on a host systemd manages, `systemctl list-units` and `list-unit-files`
//! (source `systemd`; a unit file without a loaded unit gets its ActiveState from
//! `systemctl show`). The host sends the raw outputs in one round trip (service_facts.sh) and
//! the controller parses them as the module does. Hosts with upstart's `initctl`, Red Hat's
//! `chkconfig` or OpenRC are refused (hactl does not read those yet).

use serde_json::{Map, Value, json};

use super::args::Args;
use super::protocol::{self, field, field_b64};
use super::{ArgError, Outcome, Remote, Status, Step};

const SCRIPT: &str = include_str!("service_facts.sh");

const PARAMS: &[&str] = &[];

const BAD_STATES: &[&str] = &["not-found", "masked", "failed"];

pub fn plan(args: &Map<String, Value>) -> Result<Step, ArgError> {
    Args::new("service_facts", args, PARAMS)?;
    Ok(Step::Remote(Remote {
        script: SCRIPT.to_string(),
        stdin: Vec::new(),
        finish: Box::new(|out| {
            if !out.success() {
                return protocol::failed_from(&out, "service_facts failed");
            }
            finish(&protocol::fields(&out.stdout))
        }),
    }))
}

/// The services from the script's fields, as the module gathers them.
pub fn finish(f: &[(String, String)]) -> Outcome {
    let tools: Vec<&str> = field(f, "tools")
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let has = |t: &str| tools.contains(&t);
    if has("initctl") || has("chkconfig") || (has("rc-status") && has("rc-update")) {
        return Outcome::failed(
            "hactl's service_facts reads systemd and SysV (service --status-all) services; this \
             host has upstart, chkconfig or OpenRC tools, which hactl does not read yet",
        );
    }
    let mut services = Map::new();
    let mut warnings = Vec::new();
    if let Some(rc) = field(f, "sysv_rc") {
        let text = field_b64(f, "sysv_b64").unwrap_or_default();
        let skip = rc == "4" && field(f, "initd").is_none();
        if !skip {
            if rc != "0" {
                warnings.push(json!(format!("Unable to query 'service' tool ({rc}): ")));
            }
            for line in text.lines() {
                // `^\s*\[ (\+|\-) \]\s+(.+)$`
                let l = line.trim_start();
                let Some(rest) = l.strip_prefix("[ ") else {
                    continue;
                };
                let mut chars = rest.chars();
                let state = match chars.next() {
                    Some('+') => "running",
                    Some('-') => "stopped",
                    _ => continue,
                };
                let Some(after) = chars.as_str().strip_prefix(" ]") else {
                    continue;
                };
                if !after.starts_with(char::is_whitespace) {
                    continue;
                }
                let name = after.trim_start();
                if name.is_empty() {
                    continue;
                }
                services.insert(
                    name.to_string(),
                    json!({"name": name, "state": state, "source": "sysv"}),
                );
            }
        }
    }
    if field(f, "systemd") == Some("1") {
        if field(f, "units_rc") == Some("0") {
            let units = field_b64(f, "units_b64").unwrap_or_default();
            for line in units.lines().filter(|l| l.contains(".service")) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() < 4 {
                    continue;
                }
                let head = &fields[..fields.len() - 1];
                let status = BAD_STATES
                    .iter()
                    .find(|b| head.contains(b))
                    .copied()
                    .unwrap_or(fields[2]);
                let state = if fields[3] == "running" {
                    "running"
                } else {
                    "stopped"
                };
                services.insert(
                    fields[0].to_string(),
                    json!({"name": fields[0], "state": state, "status": status, "source": "systemd"}),
                );
            }
        } else if field(f, "units_rc").is_some() {
            warnings.push(json!(format!(
                "Could not list units from systemd: {}",
                field_b64(f, "units_b64").unwrap_or_default()
            )));
        }
        if field(f, "files_rc") == Some("0") {
            let files = field_b64(f, "files_b64").unwrap_or_default();
            let shown: Vec<(&str, &str, &str)> = f
                .iter()
                .filter(|(k, _)| k == "show")
                .filter_map(|(_, v)| {
                    let mut p = v.splitn(3, '\t');
                    Some((p.next()?, p.next()?, p.next().unwrap_or_default()))
                })
                .collect();
            for line in files.lines().filter(|l| l.contains(".service")) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(name), Some(status)) = (fields.first(), fields.get(1)) else {
                    return Outcome::failed(format!(
                        "Malformed output discovered from systemd list-unit-files: {line}"
                    ));
                };
                match services.get_mut(*name) {
                    None => {
                        let state = shown
                            .iter()
                            .find(|(n, _, _)| n == name)
                            .filter(|(_, rc, out)| *rc == "0" && !out.is_empty())
                            .map_or("unknown".to_string(), |(_, _, out)| {
                                out.replace("ActiveState=", "").trim_end().to_string()
                            });
                        services.insert(
                            name.to_string(),
                            json!({"name": name, "state": state, "status": status, "source": "systemd"}),
                        );
                    }
                    Some(s) => {
                        let bad = s["status"]
                            .as_str()
                            .is_some_and(|st| BAD_STATES.contains(&st));
                        if !bad {
                            s["status"] = json!(status);
                        }
                    }
                }
            }
        } else if field(f, "files_rc").is_some() {
            warnings.push(json!(format!(
                "Could not get unit files data from systemd: {}",
                field_b64(f, "files_b64").unwrap_or_default()
            )));
        }
    }
    let mut o = if services.is_empty() {
        Outcome::new(Status::Skipped).with("skipped", true).with(
            "msg",
            "Failed to find any services. This can be due to privileges or some other \
             configuration issue.",
        )
    } else {
        Outcome::changed(false).with("ansible_facts", json!({"services": services}))
    };
    if !warnings.is_empty() {
        o = o.with("warnings", Value::Array(warnings));
    }
    o
}

super::registry::host_module!(ServiceFacts, "service_facts", aliases: &[], free_form: false,
    params: PARAMS, about: "the host's services as facts (systemd, SysV)",
    plan: |cx| plan(&cx.args));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testutil::{Host, args};

    /// A systemd host, mocked: canary folder via a fake `head` is not possible, so the fields
    /// are given as the script would print them.
    #[test]
    fn systemd_units_and_unit_files_as_the_module() {
        use base64::Engine as _;
        let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let units = "ssh.service loaded active running OpenBSD Secure Shell server\n\
                     nginx.service loaded failed failed A high performance web server\n\
                     gone.service not-found inactive dead gone.service\n";
        let files = "UNIT FILE STATE VENDOR PRESET\nssh.service enabled enabled\n\
                     nginx.service enabled enabled\ngetty@.service enabled enabled\n\
                     rsync.service disabled enabled\n\n4 unit files listed.\n";
        let f: Vec<(String, String)> = [
            ("tools", " service"),
            ("sysv_rc", "0"),
            (
                "sysv_b64",
                &b(" [ + ]  ssh\n [ - ]  rsync\n [ ? ]  hwclock.sh\n"),
            ),
            ("initd", "1"),
            ("systemd", "1"),
            ("units_rc", "0"),
            ("units_b64", &b(units)),
            ("files_rc", "0"),
            ("files_b64", &b(files)),
            ("show", "getty@.service\t1\t"),
            ("show", "rsync.service\t0\tActiveState=inactive"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let o = finish(&f);
        let s = &o.result["ansible_facts"]["services"];
        assert_eq!(
            s["ssh"],
            json!({"name": "ssh", "state": "running", "source": "sysv"})
        );
        assert_eq!(
            s["ssh.service"],
            json!({"name": "ssh.service", "state": "running", "status": "enabled", "source": "systemd"})
        );
        assert_eq!(s["nginx.service"]["status"], "failed");
        assert_eq!(s["gone.service"]["status"], "not-found");
        assert_eq!(s["getty@.service"]["state"], "unknown");
        assert_eq!(s["rsync.service"]["state"], "inactive");
        assert_eq!(s["rsync.service"]["status"], "disabled");
        assert!(s.get("hwclock.sh").is_none());
    }

    #[test]
    fn the_script_reads_sysv_services_through_fake_tools() {
        let h = Host::new();
        h.fake("service", "printf ' [ + ]  cron\\n [ - ]  nginx\\n'");
        h.fake("systemctl", "exit 1");
        h.fake("chkconfig", "exit 1");
        let o = h.run(plan(&args(json!({}))).expect("plan"));
        // chkconfig present: refused, never half read.
        assert_eq!(o.status, Status::Failed, "{o:?}");
        let h = Host::new();
        h.fake("service", "printf ' [ + ]  cron\\n [ - ]  nginx\\n'");
        let o = h.run(plan(&args(json!({}))).expect("plan"));
        let s = &o.result["ansible_facts"]["services"];
        assert_eq!(s["cron"]["state"], "running", "{o:?}");
        assert_eq!(s["nginx"]["state"], "stopped");
    }
}
