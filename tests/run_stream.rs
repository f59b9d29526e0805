//! `hactl run` streams each host's output line by line as it arrives (read here while hactl
//! runs), `--no-stream` keeps the per-host blocks, and `--json` is a clean event stream.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::fleet::Fleet;
use serde_json::Value;

fn hactl(fleet: &Fleet, args: &[&str]) -> std::process::Command {
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    cmd.arg("run")
        .args(args)
        .arg("-i")
        .arg(fleet.inventory())
        .args(fleet.ssh_args());
    cmd
}

/// Runs hactl and returns each stdout line with when it was read.
fn timed_lines(mut cmd: std::process::Command) -> (Vec<(Duration, String)>, Option<i32>) {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("spawn hactl");
    let out = child.stdout.take().expect("stdout");
    let lines = BufReader::new(out)
        .lines()
        .map(|l| (start.elapsed(), l.expect("line")))
        .collect();
    let status = child.wait().expect("wait");
    (lines, status.code())
}

fn when(lines: &[(Duration, String)], text: &str) -> Duration {
    lines
        .iter()
        .find(|(_, l)| l == text)
        .map(|(t, _)| *t)
        .unwrap_or_else(|| panic!("no line {text:?} in {lines:#?}"))
}

#[test]
fn run_streams_lines_as_they_arrive() {
    let fleet = Fleet::up(&["s1", "s2"]);
    let cmd = "echo a; sleep 2; echo b; echo oops >&2";

    let (lines, code) = timed_lines(hactl(&fleet, &["all", cmd]));
    assert_eq!(code, Some(0), "{lines:#?}");
    for host in ["s1", "s2"] {
        let (a, b) = (
            when(&lines, &format!("{host} | a")),
            when(&lines, &format!("{host} | b")),
        );
        assert!(
            b >= a + Duration::from_millis(1500),
            "{host}: a at {a:?} came with b at {b:?}"
        );
        when(&lines, &format!("{host} | CHANGED | rc=0"));
        when(&lines, &format!("{host} | oops"));
    }
    when(&lines, "SUMMARY");
    assert!(lines.iter().all(|(_, l)| !l.contains('\x1b')), "{lines:#?}");

    // --no-stream: each host's output comes in one block when it is done.
    let (lines, code) = timed_lines(hactl(&fleet, &["all", cmd, "--no-stream"]));
    assert_eq!(code, Some(0), "{lines:#?}");
    let a = when(&lines, "a");
    let b = lines
        .iter()
        .skip_while(|(_, l)| l != "a")
        .find(|(_, l)| l == "b")
        .map(|(t, _)| *t)
        .expect("b");
    assert!(b < a + Duration::from_millis(200), "a {a:?} b {b:?}");
    assert!(!lines.iter().any(|(_, l)| l == "s1 | a"), "{lines:#?}");

    // --json: one event per line, no streamed lines, a recap that counts every host.
    let out = hactl(&fleet, &["all", cmd, "--json"])
        .output()
        .expect("hactl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(events.len(), 3, "{text}");
    for host in ["s1", "s2"] {
        let ev = events
            .iter()
            .find(|e| e["host"] == host)
            .unwrap_or_else(|| panic!("no {host}:\n{text}"));
        assert_eq!(ev["event"], "host_result");
        assert_eq!(ev["status"], "changed");
        assert_eq!(ev["result"]["stdout"], "a\nb");
        assert_eq!(events[2]["hosts"][host]["changed"], 1, "{text}");
    }
    assert_eq!(events[2]["event"], "recap");
}
