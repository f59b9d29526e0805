//! `lineinfile`'s edits equal ansible-core's: every case of `tests/golden/lineinfile/cases.json`
//! (a file before, the module's arguments) gives the file, `changed`, `msg`, `rc` and `found`
//! that the real module gave (`expected.json`, written by `regen.py` from ansible-core).

use std::path::Path;

use hactl::modules::lineinfile;
use serde_json::{Map, Value};

fn load(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/lineinfile")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("golden file");
    serde_json::from_str::<Vec<Value>>(&text).expect("JSON list")
}

#[test]
fn lineinfile_edits_equal_ansible_cores() {
    let cases = load("cases.json");
    let expected = load("expected.json");
    assert_eq!(cases.len(), expected.len(), "regenerate expected.json");
    for (case, want) in cases.iter().zip(&expected) {
        let name = case["name"].as_str().unwrap_or_default();
        let mut args: Map<String, Value> = case["args"].as_object().cloned().unwrap_or_default();
        args.insert("path".into(), Value::String("/etc/test.conf".into()));
        let params = lineinfile::params(&args).unwrap_or_else(|e| panic!("{name}: {}", e.0));
        let before = case["before"].as_str().map(str::as_bytes);
        match lineinfile::edit(before, &params) {
            Ok(edit) => {
                assert_eq!(
                    want["failed"], false,
                    "{name}: Ansible failed, hactl did not"
                );
                assert_eq!(
                    Value::Bool(edit.changed),
                    want["changed"],
                    "{name}: changed"
                );
                assert_eq!(Value::String(edit.msg.clone()), want["msg"], "{name}: msg");
                let after = if before.is_none() && !edit.changed {
                    Value::Null
                } else {
                    Value::String(String::from_utf8_lossy(&edit.after).into_owned())
                };
                assert_eq!(after, want["after"], "{name}: the file afterwards");
                assert_eq!(
                    edit.found.map(Value::from).unwrap_or(Value::Null),
                    want.get("found").cloned().unwrap_or(Value::Null),
                    "{name}: found"
                );
            }
            Err(failure) => {
                assert_eq!(
                    want["failed"], true,
                    "{name}: hactl failed: {}",
                    failure.msg
                );
                assert_eq!(
                    Value::String(failure.msg.replace("/etc/test.conf", "PATH")),
                    want["msg"],
                    "{name}: msg"
                );
                assert_eq!(
                    failure.rc.map(Value::from).unwrap_or(Value::Null),
                    want.get("rc").cloned().unwrap_or(Value::Null),
                    "{name}: rc"
                );
            }
        }
    }
}
