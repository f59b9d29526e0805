//! `group`: a local group present (`groupadd`, or `groupmod -g` for another gid) or absent
//! (`groupdel`), decided on the host from `getent`, with Ansible's results.

use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, field_b64, flag, with_vars};
use super::user::int;
use super::{ArgError, Mode, Outcome, Remote, Step};

const PARAMS: &[&str] = &[
    "name",
    "state",
    "gid",
    "system",
    "force",
    "local",
    "non_unique",
    "gid_min",
    "gid_max",
];

const SCRIPT: &str = include_str!("group.sh");

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new("group", args, PARAMS)?;
    let name = a.required(&["name"])?;
    let state = a
        .choice("state", &["absent", "present"])?
        .unwrap_or_else(|| "present".into());
    if a.bool(&["local"])? == Some(true) {
        return Err(ArgError(
            "hactl's group module does not support local (lgroupadd)".into(),
        ));
    }
    let gid = int(&a, &["gid"])?;
    let non_unique = a.bool(&["non_unique"])?.unwrap_or(false);
    if non_unique && gid.is_none() {
        return Err(ArgError(
            "non_unique is True but all of the following are missing: gid".into(),
        ));
    }
    let system = a.bool(&["system"])?.unwrap_or(false);
    let num = |v: Option<i64>| v.map(|g| g.to_string()).unwrap_or_default();
    let script = with_vars(
        SCRIPT,
        &[
            ("name", &name),
            ("state", &state),
            ("gid", &num(gid)),
            ("gid_min", &num(int(&a, &["gid_min"])?)),
            ("gid_max", &num(int(&a, &["gid_max"])?)),
            ("non_unique", flag(non_unique)),
            ("system", flag(system)),
            ("force", flag(a.bool(&["force"])?.unwrap_or(false))),
            ("check", flag(mode.check)),
        ],
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            if !out.success() {
                let mut o = protocol::failed_script(&out, "group operation failed");
                o.result.remove("rc");
                return o.with("name", name);
            }
            let f = protocol::fields(&out.stdout);
            if field(&f, "only_changed") == Some("1") {
                return Outcome::changed(true);
            }
            let mut o = Outcome::changed(field(&f, "changed") == Some("1"))
                .with("name", name)
                .with("state", state);
            for key in ["stdout", "stderr"] {
                if let Some(v) = field_b64(&f, &format!("{key}_b64")) {
                    o = o.with(key, v);
                }
            }
            if let Some(g) = field(&f, "gid").and_then(|g| g.parse::<u64>().ok()) {
                o = o.with("system", system).with("gid", g);
            }
            o
        }),
    }))
}

super::registry::host_module!(Group, "group", aliases: &[], free_form: false,
    params: PARAMS, about: "manage a local group (groupadd/groupmod/groupdel)",
    plan: |cx| plan(&cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};
    use serde_json::json;

    fn host() -> Host {
        let h = Host::new();
        std::fs::write(h.path("group"), "root:x:0:\nops:x:1500:\n").expect("group");
        h.fake(
            "getent",
            r#"shift; [ "$1" = -- ] && shift
awk -F: -v k="$1" '$1 == k { print; f = 1 } END { exit !f }' group || exit 2"#,
        );
        h.recording(
            "groupadd",
            r#"for a; do n=$a; done; echo "$n:x:1600:" >> group"#,
        );
        h.recording("groupmod", "exit 0");
        h.recording("groupdel", "exit 0");
        h
    }

    fn run(h: &Host, a: Value, check: bool) -> Outcome {
        h.run(plan(&args(a), Mode { check, diff: false }).expect("plan"))
    }

    #[test]
    fn present_absent_and_gid() {
        let h = host();
        let out = run(&h, json!({"name": "ops"}), false);
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(out.result["gid"], 1500);
        assert_eq!(out.result["system"], false);
        let out = run(&h, json!({"name": "ops", "gid": 1501}), true);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert!(h.calls("groupmod").is_empty());
        let out = run(&h, json!({"name": "ops", "gid": 1501}), false);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(h.calls("groupmod"), vec![vec!["-g", "1501", "--", "ops"]]);
        let out = run(
            &h,
            json!({"name": "web", "system": true, "gid": 900}),
            false,
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(
            h.calls("groupadd"),
            vec![vec!["-g", "900", "-r", "--", "web"]]
        );
        let out = run(&h, json!({"name": "nope", "state": "absent"}), false);
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert!(!out.result.contains_key("gid"));
        let out = run(&h, json!({"name": "ops", "state": "absent"}), false);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(h.calls("groupdel"), vec![vec!["--", "ops"]]);
    }
}
