//! `hostname`: the host's name, set as ansible-core's strategies set it: `systemd` (and
//! `debian`, which ansible-core maps to it) with `hostnamectl`, permanent name first; on a
//! host without systemd, Debian's `/etc/hostname` (Ansible's FileStrategy, which sets no
//! current name). Other `use` values (alpine, redhat, sles, openrc, freebsd, ...) are refused.
//! Returns `name`, `ansible_facts` (hostname, nodename, fqdn, domain) and the diff as
//! Ansible does. See hostname.sh for what runs on the host.

use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field};
use super::{ArgError, FileDiff, Mode, Outcome, Remote, Step};

const SCRIPT: &str = include_str!("hostname.sh");

const PARAMS: &[&str] = &["name", "use"];

const USES: &[&str] = &[
    "alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc",
    "redhat", "sles", "solaris", "systemd",
];

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new("hostname", args, PARAMS)?;
    let name = a.required(&["name"])?;
    let use_ = match a.choice("use", USES)?.as_deref() {
        None => "auto",
        Some("systemd" | "debian") => "systemd",
        Some(other) => {
            return Err(ArgError(format!(
                "hactl's hostname module supports use: systemd and use: debian (or no use \
                 on systemd and Debian hosts), not use: {other}"
            )));
        }
    };
    let script = assign(
        &[("name", &name), ("use", use_), ("check", flag(mode.check))],
        SCRIPT,
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            if !out.success() {
                return protocol::failed_from(&out, "hostname failed");
            }
            let f = protocol::fields(&out.stdout);
            let changed = field(&f, "changed") == Some("1");
            let current = field(&f, "current").unwrap_or_default();
            let before = if name != current {
                current
            } else {
                field(&f, "permanent").unwrap_or_default()
            };
            let fqdn = field(&f, "fqdn").unwrap_or_default().to_string();
            let domain = fqdn.split('.').skip(1).collect::<Vec<_>>().join(".");
            let short = name.split('.').next().unwrap_or_default().to_string();
            let mut o = Outcome::changed(changed).with("name", name.clone()).with(
                "ansible_facts",
                json!({"ansible_hostname": short, "ansible_nodename": name,
                       "ansible_fqdn": fqdn, "ansible_domain": domain}),
            );
            if changed && mode.diff {
                o.diff = Some(FileDiff {
                    path: "hostname".into(),
                    before: Some(format!("hostname = {before}\n")),
                    after: format!("hostname = {name}\n"),
                });
            }
            o
        }),
    }))
}

super::registry::host_module!(Hostname, "hostname", aliases: &[], free_form: false,
    params: PARAMS, about: "the host's name (hostnamectl, /etc/hostname)",
    plan: |cx| plan(&cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};

    /// A fake hostnamectl keeping its names in files of the test's folder (never the
    /// machine's own name).
    fn fake(host: &Host) {
        let dir = host.root().to_string_lossy().into_owned();
        host.recording(
            "hostnamectl",
            &format!(
                r#"d='{dir}'
case "$1 $2" in
  "--transient status") cat "$d/transient" ;;
  "--static status") cat "$d/static" ;;
  "--pretty --static") printf '%s\n' "$4" >"$d/static" ;;
  "--transient set-hostname") printf '%s\n' "$3" >"$d/transient" ;;
esac"#
            ),
        );
        host.fake("hostname", "echo web1.example.org");
        std::fs::write(host.path("transient"), "old\n").expect("write");
        std::fs::write(host.path("static"), "old\n").expect("write");
    }

    fn run(host: &Host, a: Value, check: bool) -> Outcome {
        let mode = Mode { check, diff: true };
        host.run(plan(&args(a), mode).expect("plan"))
    }

    #[test]
    fn systemd_sets_permanent_then_current_and_is_ok_again() {
        let host = Host::new();
        fake(&host);
        let a = json!({"name": "web1", "use": "systemd"});
        let out = run(&host, a.clone(), true);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(
            std::fs::read_to_string(host.path("static")).expect("r"),
            "old\n"
        );
        let out = run(&host, a.clone(), false);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        let calls = host.calls("hostnamectl");
        let sets: Vec<&Vec<String>> = calls
            .iter()
            .filter(|c| c.contains(&"set-hostname".into()))
            .collect();
        assert_eq!(
            sets[0],
            &vec!["--pretty", "--static", "set-hostname", "web1"]
        );
        assert_eq!(sets[1], &vec!["--transient", "set-hostname", "web1"]);
        let diff = out.diff.expect("diff");
        assert_eq!(diff.before.as_deref(), Some("hostname = old\n"));
        assert_eq!(
            out.result["ansible_facts"],
            json!({"ansible_hostname": "web1", "ansible_nodename": "web1",
                   "ansible_fqdn": "web1.example.org", "ansible_domain": "example.org"})
        );
        let again = run(&host, a, false);
        assert_eq!(again.status, Status::Ok, "{again:?}");
    }

    #[test]
    fn other_strategies_are_refused() {
        let err = plan(
            &args(json!({"name": "x", "use": "redhat"})),
            Mode::default(),
        )
        .expect_err("redhat");
        assert!(err.0.contains("use: redhat"), "{err}");
    }
}
