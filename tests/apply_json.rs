//! `hactl apply --json` on a real fleet: every stdout line is a JSON event, each host has a
//! `host_result` for each task, the `recap` event carries the same counts as the human recap,
//! diffs are included with secrets masked, and neither output carries escape codes off a TTY.

mod common;

use std::path::Path;
use std::process::Output;

use common::fleet::Fleet;
use serde_json::Value;

fn apply(fleet: &Fleet, args: &[&str]) -> Output {
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .arg("apply")
        .args(args)
        .args(fleet.ssh_args());
    cmd.output().expect("run hactl apply")
}

/// The human recap counts of `host` as numbers, in the recap's order.
fn human_recap(text: &str, host: &str) -> Vec<u64> {
    let line = text
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.starts_with(&format!("{host} ")))
        .unwrap_or_else(|| panic!("no recap for {host} in:\n{text}"));
    line.split_whitespace()
        .filter_map(|w| w.split_once('=').and_then(|(_, n)| n.parse().ok()))
        .collect()
}

const COUNTS: [&str; 7] = [
    "ok",
    "changed",
    "unreachable",
    "failed",
    "skipped",
    "rescued",
    "ignored",
];

#[test]
fn json_event_stream_matches_the_human_output_and_shared_diffs_print_once() {
    let fleet = Fleet::up_with(&["lb1", "lb2"], true);
    let first = apply(&fleet, &["inventory/hosts.ini"]);
    assert_eq!(first.status.code(), Some(0), "{:?}", first);

    // The same local edit on both hosts: the check run's nginx.conf diff is identical.
    for host in ["lb1", "lb2"] {
        let out = fleet.ssh(
            host,
            "sed -i 's/keepalive_timeout   65/keepalive_timeout   75/' /etc/nginx/nginx.conf",
        );
        assert!(out.status.success(), "{out:?}");
    }
    let check = [
        "inventory/hosts.ini",
        "--check",
        "--diff",
        "-e",
        "vrrp_auth_pass1=newpass1",
        // Both hosts in one batch, so their identical diffs can print once (a rolling run
        // takes the pair one host at a time; a new password is not rolled anyway).
        "-e",
        "hactl_rolling=false",
    ];
    let json = apply(&fleet, &[&check[..], &["--json"]].concat());
    let human = apply(&fleet, &check);
    let (jtext, htext) = (
        String::from_utf8_lossy(&json.stdout).into_owned(),
        String::from_utf8_lossy(&human.stdout).into_owned(),
    );
    assert_eq!(json.status.code(), Some(0), "{jtext}");
    assert_eq!(human.status.code(), Some(0), "{htext}");
    assert!(
        !jtext.contains('\x1b') && !htext.contains('\x1b'),
        "no colour off a TTY"
    );
    assert!(!jtext.contains("newpass1"), "secret leaked:\n{jtext}");
    assert!(
        htext.contains("--- before: /etc/keepalived/keepalived.conf"),
        "{htext}"
    );

    // Printed once for both hosts, with both per-host changed lines.
    assert_eq!(
        htext
            .matches("--- lb1, lb2 (2 hosts) /etc/nginx/nginx.conf")
            .count(),
        1,
        "{htext}"
    );
    assert_eq!(
        htext.matches("+++ after: /etc/nginx/nginx.conf").count(),
        1,
        "{htext}"
    );
    assert!(htext.contains("-    keepalive_timeout   75"), "{htext}");
    let nginx_task = htext
        .split("TASK [nginx : config nginx]")
        .nth(1)
        .expect("config nginx task");
    assert!(nginx_task.contains("changed: [lb1]") && nginx_task.contains("changed: [lb2]"));

    let events: Vec<Value> = jtext
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(events[0]["event"], "play", "{jtext}");
    assert_eq!(events[0]["name"], "nginx", "{jtext}");

    // A host_result for each host after each task banner.
    let mut tasks = 0;
    for (i, ev) in events.iter().enumerate() {
        if ev["event"] != "task" {
            continue;
        }
        tasks += 1;
        let name = ev["name"].as_str().expect("task name");
        let hosts: Vec<&str> = events[i + 1..]
            .iter()
            .take_while(|e| e["event"] == "host_result")
            .inspect(|e| assert_eq!(e["task"], name, "{jtext}"))
            .filter_map(|e| e["host"].as_str())
            .collect();
        for host in ["lb1", "lb2"] {
            assert!(
                hosts.contains(&host),
                "no {host} result for {name}:\n{jtext}"
            );
        }
    }
    assert!(tasks >= 5, "{jtext}");
    let statuses = ["ok", "changed", "failed", "skipped", "unreachable"];
    assert!(
        events
            .iter()
            .filter(|e| e["event"] == "host_result")
            .all(|e| statuses.contains(&e["status"].as_str().unwrap_or_default()))
    );
    assert!(events.iter().any(|e| e["event"] == "handler"), "{jtext}");

    // The keepalived diff is there, masked exactly as in the human output.
    let diff = events
        .iter()
        .find_map(|e| e["diff"].as_str().filter(|d| d.contains("keepalived.conf")))
        .unwrap_or_else(|| panic!("no keepalived diff:\n{jtext}"));
    assert!(diff.contains("(hidden, fingerprint"), "{diff}");
    for line in diff
        .lines()
        .filter(|l| l.starts_with('+') || l.starts_with('-'))
    {
        assert!(htext.contains(line), "human diff lacks {line}:\n{htext}");
    }

    // The recap event equals the human recap, and is the last line.
    let recap = events.last().expect("events");
    assert_eq!(recap["event"], "recap", "{jtext}");
    for host in ["lb1", "lb2"] {
        let counts: Vec<u64> = COUNTS
            .iter()
            .map(|k| recap["hosts"][host][k].as_u64().expect("count"))
            .collect();
        assert_eq!(counts, human_recap(&htext, host), "{jtext}\n{htext}");
    }
}
