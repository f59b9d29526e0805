//! `file`: a path that is a directory, a file, a symlink, touched, or absent, with its owner,
//! group and mode.

use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, with_args};
use super::{ArgError, Mode, Outcome, Remote, Step};

const PARAMS: &[&str] = &[
    "path",
    "dest",
    "name",
    "state",
    "mode",
    "owner",
    "group",
    "src",
    "recurse",
    "force",
    "follow",
    "modification_time",
    "access_time",
    "attributes",
    "unsafe_writes",
];

/// Shell functions comparing owner, group and mode as Ansible does (also used by `file_put`).
pub(crate) const ATTRS_SH: &str = include_str!("attrs.sh");

const SCRIPT: &str = include_str!("file.sh");

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new("file", args, PARAMS)?;
    let path = a.required(&["path", "dest", "name"])?;
    let state = a
        .choice(
            "state",
            &["absent", "directory", "file", "hard", "link", "touch"],
        )?
        .unwrap_or_default();
    if state == "hard" {
        return Err(ArgError("hactl does not support state=hard yet".into()));
    }
    let src = a.str(&["src"])?.unwrap_or_default();
    if state == "link" && src.is_empty() {
        return Err(ArgError("src is required for creating a symlink".into()));
    }
    let flag = |b: bool| if b { "1" } else { "0" };
    let file_mode = a.mode()?.unwrap_or_default();
    let body = format!("{ATTRS_SH}{SCRIPT}");
    let script = with_args(
        &body,
        &[
            &path,
            &state,
            &file_mode,
            &a.owner()?.unwrap_or_default(),
            &a.group()?.unwrap_or_default(),
            &src,
            flag(mode.check),
            flag(a.bool(&["force"])?.unwrap_or(false)),
        ],
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            if !out.success() {
                return protocol::failed_from(&out, "file operation failed").with("path", path);
            }
            let fields = protocol::fields(&out.stdout);
            let changed = field(&fields, "changed") == Some("1");
            let state = field(&fields, "state").unwrap_or_default().to_string();
            Outcome::changed(changed)
                .with("path", path)
                .with("state", state)
        }),
    }))
}

super::registry::host_module!(File, "file", aliases: &[], free_form: false,
    params: PARAMS, about: "files, folders, links and their attributes",
    plan: |cx| plan(&cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args, mode_of};
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt as _;

    fn run(host: &Host, a: Value, check: bool) -> Outcome {
        let mode = Mode { check, diff: false };
        match plan(&args(a), mode) {
            Ok(step) => host.run(step),
            Err(e) => Outcome::failed(e.0),
        }
    }

    fn set_mode(path: &std::path::Path, bits: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(bits)).expect("chmod");
    }

    #[test]
    fn symbolic_modes_are_compared_as_the_bits_they_give() {
        let host = Host::new();
        let f = host.path("f");
        std::fs::write(&f, "").expect("write");
        // (mode, bits it gives a file with 0640), as Ansible's _symbolic_mode_to_octal.
        for (spec, bits) in [
            ("u=rw,g=r,o=r", 0o644),
            ("u+x", 0o740),
            ("a-w", 0o440),
            ("g=u", 0o660),
            ("o=g", 0o644),
            ("u=rwX,g=rX,o=", 0o640),
            ("ug+x,u+s", 0o4750),
            ("u=rw,g=r,o=r,", 0o644),
        ] {
            set_mode(&f, 0o640);
            let path = f.to_string_lossy();
            let out = run(&host, json!({"path": path, "mode": spec}), false);
            let want = if bits == 0o640 {
                Status::Ok
            } else {
                Status::Changed
            };
            assert_eq!(out.status, want, "{spec}: {out:?}");
            assert_eq!(mode_of(&f), bits, "{spec}: {:o}", mode_of(&f));
            let again = run(&host, json!({"path": path, "mode": spec}), false);
            assert_eq!(again.status, Status::Ok, "{spec} a second time: {again:?}");
        }
    }

    #[test]
    fn symbolic_modes_without_who_honour_the_umask_as_chmod_does() {
        let host = Host::new();
        for spec in ["+x", "-w", "=r", "+rwx"] {
            let (f, twin) = (host.path("f"), host.path("twin"));
            for p in [&f, &twin] {
                std::fs::write(p, "").expect("write");
                set_mode(p, 0o600);
            }
            // GNU chmod applies a who-less mode through the umask too.
            let out = host.exec(&format!("chmod -- {spec} twin"), b"");
            assert!(out.success(), "{out:?}");
            let path = f.to_string_lossy();
            run(&host, json!({"path": path, "mode": spec}), false);
            assert_eq!(mode_of(&f), mode_of(&twin), "{spec}");
            let again = run(&host, json!({"path": path, "mode": spec}), false);
            assert_eq!(again.status, Status::Ok, "{spec}: {again:?}");
        }
    }

    #[test]
    fn capital_x_counts_for_folders_and_executables() {
        let host = Host::new();
        let d = host.path("d");
        std::fs::create_dir(&d).expect("mkdir");
        set_mode(&d, 0o700);
        let path = d.to_string_lossy();
        let out = run(&host, json!({"path": path, "mode": "go=rX"}), false);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(mode_of(&d), 0o755);
        let again = run(&host, json!({"path": path, "mode": "go=rX"}), false);
        assert_eq!(again.status, Status::Ok, "{again:?}");
    }

    #[test]
    fn check_mode_reports_a_symbolic_change_without_making_it() {
        let host = Host::new();
        let f = host.path("f");
        std::fs::write(&f, "").expect("write");
        set_mode(&f, 0o640);
        let path = f.to_string_lossy();
        let out = run(&host, json!({"path": path, "mode": "u+x"}), true);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(mode_of(&f), 0o640);
    }

    #[test]
    fn an_octal_mode_clears_a_folders_setgid_bit_as_ansible_does() {
        let host = Host::new();
        let d = host.path("d");
        std::fs::create_dir(&d).expect("mkdir");
        set_mode(&d, 0o2755);
        let path = d.to_string_lossy();
        let out = run(&host, json!({"path": path, "mode": "0755"}), false);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(mode_of(&d), 0o755);
        let again = run(&host, json!({"path": path, "mode": "0755"}), false);
        assert_eq!(again.status, Status::Ok, "{again:?}");
    }

    #[test]
    fn bad_symbolic_modes_fail_as_in_ansible() {
        for spec in ["u=rwx,x", "ua=r", "u=rwq"] {
            let err =
                plan(&args(json!({"path": "/f", "mode": spec})), Mode::default()).expect_err(spec);
            assert!(
                err.0.starts_with("mode must be in octal or symbolic form"),
                "{err}"
            );
        }
    }

    #[test]
    fn numeric_owner_and_group_are_compared_as_ids() {
        let host = Host::new();
        let f = host.path("f");
        std::fs::write(&f, "").expect("write");
        let meta = std::fs::metadata(&f).expect("stat");
        let (uid, gid) = (
            std::os::unix::fs::MetadataExt::uid(&meta),
            std::os::unix::fs::MetadataExt::gid(&meta),
        );
        let path = f.to_string_lossy();
        // A YAML integer, and a string with a leading zero (Ansible's int() reads it as decimal).
        for (owner, group) in [
            (json!(uid), json!(format!("{gid}"))),
            (json!(format!("0{uid}")), json!(gid)),
        ] {
            let out = run(
                &host,
                json!({"path": path, "owner": owner, "group": group}),
                false,
            );
            assert_eq!(out.status, Status::Ok, "{owner} {group}: {out:?}");
        }
    }

    #[test]
    fn an_owner_or_group_that_is_an_option_never_reaches_chown() {
        let host = Host::new();
        host.recording("chown", "exit 0");
        host.recording("chgrp", "exit 0");
        let f = host.path("f");
        std::fs::write(&f, "").expect("write");
        let path = f.to_string_lossy();
        for (param, msg) in [
            (
                "owner",
                "chown failed: failed to look up user --reference=/etc/shadow",
            ),
            (
                "group",
                "chgrp failed: failed to look up group --reference=/etc/shadow",
            ),
        ] {
            let out = run(
                &host,
                json!({"path": path, param: "--reference=/etc/shadow"}),
                false,
            );
            assert_eq!(out.status, Status::Failed, "{out:?}");
            let text = out.msg().unwrap_or_default();
            assert!(text.starts_with(msg) && text.contains(param), "{text}");
        }
        for bad in ["root:shadow", "a b", "+0", "-1", "x/y"] {
            let err =
                plan(&args(json!({"path": "/f", "owner": bad})), Mode::default()).expect_err(bad);
            assert!(err.0.contains("owner"), "{err}");
        }
        assert!(host.calls("chown").is_empty());
        assert!(host.calls("chgrp").is_empty());
    }

    #[test]
    fn an_unknown_user_fails_with_ansibles_words() {
        let host = Host::new();
        let f = host.path("f");
        std::fs::write(&f, "").expect("write");
        let path = f.to_string_lossy();
        let out = run(
            &host,
            json!({"path": path, "owner": "hactl-no-such-user"}),
            false,
        );
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert_eq!(
            out.msg(),
            Some("chown failed: failed to look up user hactl-no-such-user")
        );
    }
}
