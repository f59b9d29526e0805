//! Free-form module arguments split exactly as ansible-core's `parse_kv` splits them
//! (tests/golden/kv/golden.json, made by tests/golden/kv/regen.py).

use hactl::playbook::kv::parse_kv;
use serde_json::Value;

#[test]
fn parse_kv_matches_ansible() {
    let golden = include_str!("golden/kv/golden.json");
    let cases: Vec<Value> = serde_json::from_str(golden).expect("golden.json");
    assert!(cases.len() >= 20, "golden set too small: {}", cases.len());
    for case in &cases {
        let input = case["input"].as_str().expect("input");
        let check_raw = case["check_raw"].as_bool().expect("check_raw");
        let ours = parse_kv(input, check_raw);
        match (case.get("ok"), ours) {
            (Some(want), Ok(got)) => {
                let got: serde_json::Map<String, Value> = got
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                assert_eq!(&Value::Object(got), want, "input: {input:?}");
            }
            (None, Err(_)) => {}
            (want, got) => panic!("input {input:?}: ansible gave {want:?}, hactl gave {got:?}"),
        }
    }
}
