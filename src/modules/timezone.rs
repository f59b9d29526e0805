//! `community.general.timezone` on Linux: `name` and `hwclock` (local, UTC) as the collection
//! sets them: with `timedatectl` when it works (systemd), else on Debian through
//! `/etc/timezone`, the `/etc/localtime` link, `dpkg-reconfigure tzdata`, `/etc/default/rcS`,
//! `/etc/adjtime` and `hwclock --systohc`. Before/after values, `changed`, the diff and the
//! `msg` of executed commands are the module's. Other hosts (no timedatectl and no
//! dpkg-reconfigure: RHEL without systemd, Alpine, Gentoo, BSD) are refused. See timezone.sh.

use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field};
use super::{ArgError, FileDiff, Mode, Outcome, Remote, Step};

const SCRIPT: &str = include_str!("timezone.sh");

const PARAMS: &[&str] = &["name", "hwclock", "rtc"];

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    plan_at(args, mode, "/etc", "/usr/share/zoneinfo")
}

/// As [`plan`], with the host's `/etc` and zoneinfo folders elsewhere (tests).
pub fn plan_at(
    args: &Map<String, Value>,
    mode: Mode,
    etc: &str,
    zoneinfo: &str,
) -> Result<Step, ArgError> {
    let a = Args::new("timezone", args, PARAMS)?;
    let name = a.str(&["name"])?;
    let hwclock = match a.str(&["hwclock", "rtc"])? {
        None => None,
        Some(h) if h == "local" || h == "UTC" => Some(h),
        Some(h) => {
            return Err(ArgError(format!(
                "value of hwclock must be one of: local, UTC, got: {h}"
            )));
        }
    };
    if name.is_none() && hwclock.is_none() {
        return Err(ArgError(
            "one of the following is required: hwclock, name".into(),
        ));
    }
    let keys: Vec<&'static str> = [("hwclock", hwclock.is_some()), ("name", name.is_some())]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .collect();
    let script = assign(
        &[
            ("name", name.as_deref().unwrap_or_default()),
            ("hwclock", hwclock.as_deref().unwrap_or_default()),
            ("check", flag(mode.check)),
            ("etc", etc),
            ("zoneinfo", zoneinfo),
        ],
        SCRIPT,
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            let f = protocol::fields(&out.stdout);
            if !out.success() {
                let mut o = protocol::failed_from(&out, "timezone failed");
                if let Some(cmd) = field(&f, "cmd") {
                    // run_command(check_rc=True)'s failure.
                    o = o
                        .with("cmd", cmd)
                        .with("stdout", "")
                        .with("stderr", String::from_utf8_lossy(&out.stderr).into_owned());
                    if let Some(rc) = field(&f, "rc").and_then(|r| r.parse::<i64>().ok()) {
                        o = o.with("rc", rc);
                    }
                } else {
                    o.result.remove("rc");
                }
                return o;
            }
            let mut before = Map::new();
            let mut after = Map::new();
            for k in &keys {
                before.insert(
                    (*k).into(),
                    json!(field(&f, &format!("before_{k}")).unwrap_or_default()),
                );
                after.insert(
                    (*k).into(),
                    json!(field(&f, &format!("after_{k}")).unwrap_or_default()),
                );
            }
            let changed = before != after;
            let show = |m: &Map<String, Value>| {
                let sorted: std::collections::BTreeMap<&String, &Value> = m.iter().collect();
                serde_json::to_string_pretty(&sorted).unwrap_or_default() + "\n"
            };
            let mut o =
                Outcome::changed(changed).with("diff", json!({"before": before, "after": after}));
            let msgs: Vec<&str> = f
                .iter()
                .filter(|(k, _)| k == "msg")
                .map(|(_, v)| v.as_str())
                .collect();
            if !msgs.is_empty() {
                o = o.with("msg", msgs.join("\n"));
            }
            if mode.diff && changed {
                o.diff = Some(FileDiff {
                    path: String::new(),
                    before: Some(show(&before)),
                    after: show(&after),
                });
            }
            o
        }),
    }))
}

super::registry::host_module!(Timezone, "timezone", aliases: &["community.general.timezone"],
    free_form: false, params: PARAMS, about: "the host's time zone and hardware clock (timedatectl, Debian)",
    plan: |cx| plan(&cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};

    /// Zone files in the test's folder: the machine's own zone is never read or changed.
    fn zones(h: &Host) -> (String, String) {
        let zi = h.path("usr/share/zoneinfo");
        std::fs::create_dir_all(zi.join("Europe")).expect("mkdir");
        std::fs::write(zi.join("Europe/Paris"), "PARIS").expect("zone");
        std::fs::write(zi.join("UTC"), "UTC").expect("zone");
        let etc = h.path("etc");
        std::fs::create_dir_all(etc.join("default")).expect("mkdir");
        (etc.display().to_string(), zi.display().to_string())
    }

    fn run(h: &Host, a: Value, check: bool, etc: &str, zi: &str) -> Outcome {
        h.run(plan_at(&args(a), Mode { check, diff: true }, etc, zi).expect("plan"))
    }

    #[test]
    fn systemd_sets_zone_and_rtc_with_timedatectl() {
        let h = Host::new();
        let (etc, zi) = zones(&h);
        let state = h.path("tdc").display().to_string();
        std::fs::write(h.path("tdc.zone"), "UTC").expect("w");
        std::fs::write(h.path("tdc.rtc"), "no").expect("w");
        h.recording(
            "timedatectl",
            &format!(
                r#"s='{state}'
case "$1" in
  ''|status) printf '               Local time: Wed\n                Time zone: %s (CET, +0100)\n          RTC in local TZ: %s\n' "$(cat $s.zone)" "$(cat $s.rtc)" ;;
  set-timezone) printf '%s' "$2" >$s.zone ;;
  set-local-rtc) printf '%s' "$2" >$s.rtc ;;
esac"#
            ),
        );
        let a = json!({"name": "Europe/Paris", "hwclock": "local"});
        let check = run(&h, a.clone(), true, &etc, &zi);
        assert_eq!(check.status, Status::Changed, "{check:?}");
        assert_eq!(
            check.result["diff"],
            json!({"before": {"hwclock": "UTC", "name": "UTC"}, "after": {"hwclock": "local", "name": "Europe/Paris"}})
        );
        assert_eq!(
            std::fs::read_to_string(h.path("tdc.zone")).expect("r"),
            "UTC"
        );
        let set = run(&h, a.clone(), false, &etc, &zi);
        assert_eq!(set.status, Status::Changed, "{set:?}");
        assert_eq!(
            std::fs::read_to_string(h.path("tdc.zone")).expect("r"),
            "Europe/Paris"
        );
        let msg = set.msg().expect("msg");
        assert!(
            msg.contains("set-local-rtc yes`\nexecuted `")
                && msg.ends_with("set-timezone Europe/Paris`"),
            "{msg}"
        );
        let again = run(&h, a, false, &etc, &zi);
        assert_eq!(again.status, Status::Ok, "{again:?}");
        let bad = run(&h, json!({"name": "Mars/Olympus"}), false, &etc, &zi);
        assert_eq!(
            bad.msg(),
            Some("Error message:\ngiven timezone \"Mars/Olympus\" is not available")
        );
    }

    #[test]
    fn debian_without_systemd_edits_the_files() {
        let h = Host::new();
        let (etc, zi) = zones(&h);
        h.fake("timedatectl", "exit 1");
        h.recording("dpkg-reconfigure", "");
        // hwclock --systohc records the clock's kind in /etc/adjtime, which the module reads.
        h.recording(
            "hwclock",
            &format!(
                "[ \"$2\" = --localtime ] && printf '0.0 0 0.0\\n0\\nLOCAL\\n' >'{etc}/adjtime'"
            ),
        );
        std::fs::write(h.path("etc/timezone"), "UTC\n").expect("w");
        std::fs::write(h.path("etc/default/rcS"), "# rcS\nUTC=yes\n").expect("w");
        std::os::unix::fs::symlink(format!("{zi}/UTC"), h.path("etc/localtime")).expect("link");
        let a = json!({"name": "Europe/Paris", "hwclock": "local"});
        let set = run(&h, a.clone(), false, &etc, &zi);
        assert_eq!(set.status, Status::Changed, "{set:?}");
        assert_eq!(
            std::fs::read_to_string(h.path("etc/timezone")).expect("r"),
            "Europe/Paris\n"
        );
        assert_eq!(
            std::fs::read_to_string(h.path("etc/default/rcS")).expect("r"),
            "# rcS\nUTC=no\n"
        );
        assert_eq!(
            std::fs::read_link(h.path("etc/localtime")).expect("link"),
            std::path::PathBuf::from(format!("{zi}/Europe/Paris"))
        );
        assert_eq!(
            h.calls("dpkg-reconfigure"),
            vec![vec!["--frontend", "noninteractive", "tzdata"]]
        );
        assert_eq!(h.calls("hwclock"), vec![vec!["--systohc", "--localtime"]]);
        assert_eq!(
            set.result["diff"]["before"],
            json!({"hwclock": "UTC", "name": "UTC"})
        );
        let again = run(&h, a, false, &etc, &zi);
        assert_eq!(again.status, Status::Ok, "{again:?}");
    }
}
