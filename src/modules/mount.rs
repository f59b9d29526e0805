//! `ansible.posix.mount` on Linux: the mount point's line in `fstab` (default `/etc/fstab`)
//! and its mount state, as the collection's module edits and decides them: `present` writes
//! the line (fields escaped as `\040`, `\046`, `\134`; a matching line with any field
//! different is rewritten, one with a missing dump/passno always is), `mounted` also mounts
//! (making the folder; remounting when the line changed; the old fstab and new folders put
//! back when mounting fails), `unmounted` unmounts, `absent` removes the line, unmounts and
//! removes the folder, `absent_from_fstab` only removes the line, `remounted` remounts,
//! `ephemeral` mounts without fstab. `boot: false` adds `noauto`. Whether a path is mounted
//! comes from `/proc/self/mountinfo`. Returns the module's `name`, `src`, `fstype`, `opts`,
//! `dump`, `passno`, `fstab`, `boot` and `backup_file`. See mount.sh.

use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field};
use super::{ArgError, Mode, Outcome, Remote, Step};

const SCRIPT: &str = include_str!("mount.sh");

const PARAMS: &[&str] = &[
    "path",
    "name",
    "src",
    "fstype",
    "opts",
    "dump",
    "passno",
    "state",
    "fstab",
    "boot",
    "backup",
    "opts_no_log",
];

const STATES: &[&str] = &[
    "absent",
    "absent_from_fstab",
    "mounted",
    "present",
    "unmounted",
    "remounted",
    "ephemeral",
];

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    plan_at(args, mode, "/proc/self/mountinfo")
}

/// As [`plan`], reading the mounts from `mountinfo` (tests).
pub fn plan_at(args: &Map<String, Value>, mode: Mode, mountinfo: &str) -> Result<Step, ArgError> {
    let a = Args::new("mount", args, PARAMS)?;
    let name = a.required(&["path", "name"])?;
    let state = a
        .choice("state", STATES)?
        .ok_or_else(|| ArgError("missing required arguments: state".into()))?;
    let src = a.str(&["src"])?;
    let fstype = a.str(&["fstype"])?;
    if matches!(state.as_str(), "mounted" | "present" | "ephemeral") {
        let missing: Vec<&str> = [("src", &src), ("fstype", &fstype)]
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        if !missing.is_empty() {
            return Err(ArgError(format!(
                "state is {state} but all of the following are missing: {}",
                missing.join(", ")
            )));
        }
    }
    let fstab_arg = a.str(&["fstab"])?;
    let fstab = fstab_arg.clone().unwrap_or_else(|| "/etc/fstab".into());
    let mut opts = a.str(&["opts"])?.unwrap_or_else(|| "defaults".into());
    let boot = a.bool(&["boot"])?.unwrap_or(true);
    let mut warnings = Vec::new();
    let mut words: Vec<&str> = opts.split(',').collect();
    if boot && words.contains(&"noauto") {
        warnings.push(json!("Ignore the 'boot' due to 'opts' contains 'noauto'."));
    } else if !boot {
        words.push("noauto");
        opts = words.join(",");
    }
    let dump = a.str(&["dump"])?.unwrap_or_else(|| "0".into());
    let passno = a.str(&["passno"])?.unwrap_or_else(|| "0".into());
    let script = assign(
        &[
            ("state", &state),
            ("name", &name),
            ("src", src.as_deref().unwrap_or_default()),
            ("fstype", fstype.as_deref().unwrap_or_default()),
            ("opts", &opts),
            ("dump", &dump),
            ("passno", &passno),
            ("fstab", &fstab),
            ("fstab_given", flag(fstab_arg.is_some())),
            ("backup", flag(a.bool(&["backup"])?.unwrap_or(false))),
            ("check", flag(mode.check)),
            ("mountinfo", mountinfo),
        ],
        SCRIPT,
    );
    let secret = a
        .bool(&["opts_no_log"])?
        .unwrap_or(false)
        .then(|| opts.clone());
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            let f = protocol::fields(&out.stdout);
            let mut o = if out.success() {
                Outcome::changed(field(&f, "changed") == Some("1"))
            } else {
                let mut o = protocol::failed_from(&out, "mount failed");
                o.result.remove("rc");
                return o;
            };
            o = o
                .with("name", name)
                .with("opts", opts)
                .with("dump", dump)
                .with("passno", passno)
                .with("fstab", fstab)
                .with("boot", if boot { "yes" } else { "no" })
                .with("backup_file", field(&f, "backup_file").unwrap_or_default());
            if let Some(s) = src {
                o = o.with("src", s);
            }
            if let Some(t) = fstype {
                o = o.with("fstype", t);
            }
            if !warnings.is_empty() {
                o = o.with("warnings", Value::Array(warnings));
            }
            if let Some(s) = &secret {
                protocol::scrub(&mut o, std::slice::from_ref(s));
            }
            o
        }),
    }))
}

super::registry::host_module!(Mount, "mount", aliases: &["ansible.posix.mount"],
    free_form: false, params: PARAMS, about: "fstab lines and mount points (ansible.posix)",
    plan: |cx| plan(&cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};

    /// Fake mount and umount that only edit the test's mountinfo file: nothing is ever
    /// mounted on the machine running the tests.
    fn fakes(h: &Host) -> String {
        let info = h.path("mountinfo").display().to_string();
        std::fs::write(&info, "22 1 0:21 / / rw - ext4 /dev/sda1 rw\n").expect("w");
        h.recording(
            "mount",
            &format!(
                r#"for a do last=$a; done
case " $* " in *" remount"*) exit 0 ;; esac
[ -e "$last" ] || {{ echo "mount: $last: mount point does not exist." >&2; exit 32; }}
echo "99 22 0:50 / $last rw - nfs srv:/export rw" >>'{info}'"#
            ),
        );
        h.recording(
            "umount",
            &format!(r#"grep -v " $1 rw - " '{info}' >'{info}.n'; mv '{info}.n' '{info}'"#),
        );
        info
    }

    fn run(h: &Host, info: &str, a: Value, check: bool) -> Outcome {
        h.run(plan_at(&args(a), Mode { check, diff: false }, info).expect("plan"))
    }

    #[test]
    fn mounted_writes_fstab_mounts_and_is_ok_again() {
        let h = Host::new();
        let info = fakes(&h);
        let fstab = h.path("fstab").display().to_string();
        std::fs::write(&fstab, "# static\n/dev/sda1 / ext4 defaults 0 1\n").expect("w");
        let mnt = h.path("mnt/my data").display().to_string();
        let a = json!({"path": mnt, "src": "srv:/export", "fstype": "nfs", "opts": "ro",
                       "state": "mounted", "fstab": fstab, "boot": false});
        let check = run(&h, &info, a.clone(), true);
        assert_eq!(check.status, Status::Changed, "{check:?}");
        assert!(!h.path("mnt").exists());
        let o = run(&h, &info, a.clone(), false);
        assert_eq!(o.status, Status::Changed, "{o:?}");
        let escaped = mnt.replace(' ', "\\040");
        assert_eq!(
            std::fs::read_to_string(&fstab).expect("r"),
            format!(
                "# static\n/dev/sda1 / ext4 defaults 0 1\nsrv:/export {escaped} nfs ro,noauto 0 0\n"
            )
        );
        assert!(h.path("mnt/my data").is_dir());
        assert_eq!(
            h.calls("mount"),
            vec![vec!["-T".to_string(), fstab.clone(), mnt.clone()]]
        );
        assert_eq!(o.result["opts"], "ro,noauto");
        assert_eq!(o.result["boot"], "no");
        // mountinfo escapes the space too, so the fake's line must: rewrite it.
        let text = std::fs::read_to_string(&info)
            .expect("r")
            .replace(&mnt, &escaped);
        std::fs::write(&info, text).expect("w");
        let again = run(&h, &info, a, false);
        assert_eq!(again.status, Status::Ok, "{again:?}");
        let gone = run(
            &h,
            &info,
            json!({"path": mnt, "state": "absent", "fstab": fstab}),
            false,
        );
        assert_eq!(gone.status, Status::Changed, "{gone:?}");
        assert_eq!(
            std::fs::read_to_string(&fstab).expect("r"),
            "# static\n/dev/sda1 / ext4 defaults 0 1\n"
        );
        assert_eq!(h.calls("umount").len(), 1);
        assert!(!h.path("mnt/my data").exists());
    }

    #[test]
    fn a_changed_line_is_rewritten_and_a_failed_mount_puts_fstab_back() {
        let h = Host::new();
        let info = fakes(&h);
        let fstab = h.path("fstab").display().to_string();
        std::fs::write(&fstab, "old:/x /srv/x nfs rw\n").expect("w");
        let present = run(
            &h,
            &info,
            json!({"path": "/srv/x", "src": "old:/x", "fstype": "nfs",
            "opts": "rw", "state": "present", "fstab": fstab}),
            false,
        );
        // The line has no dump/passno: the module always rewrites it.
        assert_eq!(present.status, Status::Changed, "{present:?}");
        assert_eq!(
            std::fs::read_to_string(&fstab).expect("r"),
            "old:/x /srv/x nfs rw 0 0\n"
        );
        h.fake("mount", "echo 'mount: permission denied' >&2; exit 32");
        let before = std::fs::read_to_string(&fstab).expect("r");
        let dir = h.path("newdir/x").display().to_string();
        let failed = run(
            &h,
            &info,
            json!({"path": dir, "src": "a:/b", "fstype": "nfs",
            "state": "mounted", "fstab": fstab}),
            false,
        );
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(
            failed.msg(),
            Some(format!("Error mounting {dir}: mount: permission denied").as_str())
        );
        assert_eq!(std::fs::read_to_string(&fstab).expect("r"), before);
        assert!(!h.path("newdir").exists());
    }
}
