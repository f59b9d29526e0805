//! Script argv splitting and notify arguments checked against what real keepalived 2.2.7
//! passed to scripts. The golden files and the script that regenerates them live in
//! tests/golden/keepalived_scripts/ (regen.sh runs keepalived in a network namespace).

use std::ffi::OsString;
use std::path::Path;

use hactl_agent::notify::{Kind, NotifyScripts, NotifyState};
use hactl_agent::track::{ScriptCommand, split_words};
use serde_json::Value;

const SCRIPT: &str = "/golden/S";

fn golden(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/keepalived_scripts")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("golden file");
    serde_json::from_str(&text).expect("golden JSON")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn lossy(words: &[OsString]) -> Vec<String> {
    words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect()
}

/// A `keyword value...` config line split as keepalived's config reader does: the line into
/// words (first pass), then the script word into argv (second pass).
fn command_from_line(line: &str) -> ScriptCommand {
    let words = lossy(&split_words(line).expect("line splits"));
    let rest: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    ScriptCommand::from_config_words(&rest).expect("script parses")
}

#[test]
fn vrrp_script_argv_matches_keepalived() {
    let cases = golden("cases.json");
    let cases = cases.as_array().expect("array");
    assert!(cases.len() >= 15);
    for case in cases {
        let config = case["config"].as_str().expect("config");
        let line = format!("script {}", config.replace("@S", SCRIPT));
        // vrrp_script's `script` takes only the first word; later words are ignored.
        let words = lossy(&split_words(&line).expect("line splits"));
        let cmd = ScriptCommand::parse(&words[1]).expect("script parses");
        let argv = lossy(cmd.argv());
        assert_eq!(argv[0], SCRIPT, "{config}");
        assert_eq!(argv[1..], strings(&case["argv"]), "config: {config}");
    }
}

#[test]
fn notify_arguments_match_keepalived() {
    let want = golden("notify.json");
    let script = |kw: &str| command_from_line(&format!("{kw} \"/golden/{kw} 'one arg' two\""));
    let scripts = NotifyScripts {
        master: Some(script("notify_master")),
        backup: Some(script("notify_backup")),
        stop: Some(script("notify_stop")),
        generic: Some(command_from_line("notify \"/golden/notify given-arg\"")),
        ..NotifyScripts::default()
    };
    // keepalived went BACKUP at priority 100 (scripts not yet run), then MASTER and STOP at
    // 115 (15 tracked scripts of weight 1 succeeded).
    for (state, prio, own) in [
        (NotifyState::Backup, 100, "notify_backup"),
        (NotifyState::Master, 115, "notify_master"),
        (NotifyState::Stop, 115, "notify_stop"),
    ] {
        let plan = scripts.plan(Kind::Instance, "VI_1", state, prio);
        assert_eq!(plan.len(), 2, "{state:?}");
        let (own_cmd, own_extra) = &plan[0];
        assert_eq!(lossy(own_cmd.argv())[0], format!("/golden/{own}"));
        let mut own_args = lossy(&own_cmd.argv()[1..]);
        own_args.extend(own_extra.iter().cloned());
        assert_eq!(own_args, strings(&want[own]), "{own}");
        let (gen_cmd, gen_extra) = &plan[1];
        let mut gen_args = lossy(&gen_cmd.argv()[1..]);
        gen_args.extend(gen_extra.iter().cloned());
        assert_eq!(
            gen_args,
            strings(&want[format!("notify.{}", state.as_str())]),
            "notify {state:?}"
        );
    }
}

/// Effective priority and FAULT against real keepalived: tests/golden/keepalived_priority/
/// holds the scenarios, the state and priority keepalived reported for each through `notify`,
/// and regen.sh.
#[test]
fn effective_priority_matches_keepalived() {
    use hactl_agent::track::file::parse_value;
    use hactl_agent::track::{Tracked, effective_priority};

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/keepalived_priority");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("golden file"))
            .expect("golden JSON")
    };
    let scenarios = read("scenarios.json");
    let results = read("results.json");
    let scenarios = scenarios.as_array().expect("array");
    assert!(scenarios.len() >= 20);
    for s in scenarios {
        let name = s["name"].as_str().expect("name");
        let base = u8::try_from(s["priority"].as_u64().expect("priority")).expect("u8");
        let tracked: Vec<Tracked> = s["track"]
            .as_array()
            .expect("track")
            .iter()
            .map(|t| {
                let weight = i32::try_from(t["weight"].as_i64().expect("weight")).expect("i32");
                let reverse = t["reverse"].as_bool().unwrap_or(false);
                if let Some(ok) = t["script"].as_bool() {
                    Tracked::Script {
                        ok: Some(ok),
                        weight,
                        reverse,
                    }
                } else if let Some(up) = t["interface_up"].as_bool() {
                    Tracked::Interface {
                        up,
                        weight,
                        reverse,
                    }
                } else {
                    // No file reads as 0, as in keepalived.
                    let value = t["file"]
                        .as_str()
                        .map_or(Some(0), |c| parse_value(c.as_bytes()))
                        .expect("valid number");
                    Tracked::File {
                        value,
                        weight,
                        reverse,
                    }
                }
            })
            .collect();
        let got = effective_priority(base, &tracked);
        let want = &results[name];
        let want_fault = want["state"] == "FAULT";
        assert_eq!(got.fault, want_fault, "{name}: FAULT");
        assert_eq!(
            u64::from(got.priority),
            want["priority"].as_u64().expect("priority"),
            "{name}: priority"
        );
    }
}

/// vrrp_script rise/fall counting against real keepalived: tests/golden/keepalived_rise_fall/
/// holds result sequences, the run after which keepalived changed the script's state, and
/// regen.sh.
#[test]
fn rise_fall_matches_keepalived() {
    use hactl_agent::track::ScriptCounter;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/keepalived_rise_fall");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("golden file"))
            .expect("golden JSON")
    };
    let cases = read("cases.json");
    let results = read("results.json");
    for c in cases.as_array().expect("array") {
        let name = c["name"].as_str().expect("name");
        let rise = u32::try_from(c["rise"].as_u64().expect("rise")).expect("u32");
        let fall = u32::try_from(c["fall"].as_u64().expect("fall")).expect("u32");
        let mut counter = ScriptCounter::new(rise, fall, false);
        let got: Vec<&str> = c["runs"]
            .as_str()
            .expect("runs")
            .chars()
            .map(|r| match counter.record(r == '+') {
                Some(true) => "OK",
                Some(false) => "FAIL",
                None => "",
            })
            .collect();
        assert_eq!(got, strings(&results[name]), "{name}");
    }
}
