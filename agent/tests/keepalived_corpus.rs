//! Verdict parity of `hactl-agent check` with `keepalived -t` (2.2.7) on a corpus the project
//! did not write: keepalived's own sample configs (read from the shared corpus, never copied)
//! and the configs the public keepalived roles render (`configs/roles/`, written by hand from
//! their templates and README examples; see its README).
//!
//! `configs/corpus-verdicts.json` holds keepalived's verdicts, from `configs/regen-corpus.sh`
//! (real keepalived in a network namespace with the configs' interfaces). For every file:
//! - the verdict agrees (exit 0 for both, or non-zero for both; keepalived's 6, script
//!   security, must be named), unless the file uses a keyword the agent refuses on purpose
//!   ([`REFUSED_ON_PURPOSE`]: exit 1, naming the keyword);
//! - every message keepalived prints is printed by `check` too (same text, file and line
//!   prefix aside), unless listed with its reason in [`MESSAGE_DIFFERENCES`].
//!
//! Both lists are exact: a difference that goes away fails the test until it is struck off.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Configs `check` refuses because of a keyword keepalived would act on and the agent does
/// not implement (the LVS samples), whatever keepalived's verdict.
const REFUSED_ON_PURPOSE: &[(&str, &str)] = &[
    ("samples/etc.keepalived.conf", "virtual_server"),
    ("samples/keepalived.conf.HTTP_GET.port", "virtual_server"),
    ("samples/keepalived.conf.IPv6", "virtual_server_group"),
    ("samples/keepalived.conf.PING_CHECK", "virtual_server"),
    ("samples/keepalived.conf.SMTP_CHECK", "virtual_server"),
    ("samples/keepalived.conf.SSL_GET", "virtual_server"),
    ("samples/keepalived.conf.UDP_CHECK", "virtual_server"),
    ("samples/keepalived.conf.fwmark", "virtual_server"),
    ("samples/keepalived.conf.inhibit", "virtual_server"),
    ("samples/keepalived.conf.misc_check", "virtual_server"),
    ("samples/keepalived.conf.misc_check_arg", "virtual_server"),
    ("samples/keepalived.conf.quorum", "virtual_server"),
    ("samples/keepalived.conf.sample", "virtual_server"),
    ("samples/keepalived.conf.status_code", "virtual_server"),
    (
        "samples/keepalived.conf.virtual_server_group",
        "virtual_server_group",
    ),
    ("samples/keepalived.conf.virtualhost", "virtual_server"),
    (
        "samples/keepalived.conf.vrrp.lvs_syncd",
        "lvs_sync_daemon_interface",
    ),
];

/// keepalived messages `check` does not print, with the reason: (file, message, why).
const MESSAGE_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "roles/hifis-multi-vip.conf",
        "WARNING - interface eht1 for ip address 10.0.11.15 doesn't exist",
        HOST_INTERFACES,
    ),
    (
        "roles/hifis-multi-vip.conf",
        "Non-existent interface specified in configuration",
        HOST_INTERFACES,
    ),
    (
        "roles/mrlesmithjr-two-peers.conf",
        "There are 1 missing '}'s or extra '{'s",
        BRACES,
    ),
    (
        "roles/mrlesmithjr-two-peers.conf",
        "Configuration error: VRRP instance[vrrp_1] malformed unicast peer address[unicast_peer]. Skipping...",
        BRACES,
    ),
    (
        "roles/mrlesmithjr-two-peers.conf",
        "Configuration error: VRRP instance[vrrp_1] malformed unicast peer address[{]. Skipping...",
        BRACES,
    ),
    (
        "roles/mrlesmithjr-two-peers.conf",
        "Truncating auth_pass to 8 characters",
        BRACES,
    ),
    (
        "samples/keepalived.conf.fwmark",
        "Warning: Virtual server FWM 1: protocol specified for fwmark - protocol will be ignored",
        LVS,
    ),
    (
        "samples/keepalived.conf.vrrp.lvs_syncd",
        "(VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.",
        LVS,
    ),
    (
        "samples/keepalived.conf.vrrp.lvs_syncd",
        "Please use global lvs_sync_daemon",
        LVS,
    ),
    (
        "samples/keepalived.conf.vrrp.routes",
        "\"or\" for routes is deprecated. Please use \"nexthop\"",
        ROUTE_OR,
    ),
    (
        "samples/keepalived.conf.vrrp.routes",
        "Warning - cannot track route 192.168.113.0/24 with no interface specified, not tracking",
        ROUTE_OR,
    ),
];

const HOST_INTERFACES: &str = "check does not look up interfaces on the host (the instance \
                               fails to start on a missing one instead)";
const BRACES: &str = "unbalanced braces are an error: keepalived reads on and attaches what \
                      follows to whatever block it is in, which the agent does not guess";
const LVS: &str = "LVS is refused, so its keywords are not read";
const ROUTE_OR: &str = "a route with 'or' (multipath) is refused, so the route is not read";

/// The shared corpus: `$HACTL_CORPUS`, else `shared/corpus` beside the repository (as CI lays
/// it out), else the development machine's `/work/shared/corpus`.
fn corpus_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("HACTL_CORPUS").map(PathBuf::from),
        Some(manifest.join("../../shared/corpus")),
        Some(PathBuf::from("/work/shared/corpus")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|c| c.join("keepalived-samples").is_dir())
        .unwrap_or_else(|| {
            panic!("no keepalived-samples in the shared corpus: set HACTL_CORPUS to its folder")
        })
}

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs")
}

/// Where `samples/NAME` and `roles/NAME` live.
fn folder(file: &str) -> PathBuf {
    if file.starts_with("samples/") {
        corpus_dir().join("keepalived-samples")
    } else {
        configs_dir().join("roles")
    }
}

#[derive(Debug)]
struct Verdict {
    exit_code: i64,
    stderr: Vec<String>,
}

fn verdicts() -> BTreeMap<String, Verdict> {
    let text = std::fs::read_to_string(configs_dir().join("corpus-verdicts.json"))
        .expect("corpus-verdicts.json is committed beside regen-corpus.sh");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    json["files"]
        .as_object()
        .expect("a files map")
        .iter()
        .map(|(name, v)| {
            let verdict = Verdict {
                exit_code: v["exit_code"].as_i64().expect("exit_code"),
                stderr: v["stderr"]
                    .as_array()
                    .expect("stderr lines")
                    .iter()
                    .map(|l| l.as_str().expect("a line").to_owned())
                    .collect(),
            };
            (name.clone(), verdict)
        })
        .collect()
}

/// Every sample (README and licence aside) and every role config.
fn corpus() -> Vec<String> {
    let mut files = Vec::new();
    let samples = corpus_dir().join("keepalived-samples");
    for entry in std::fs::read_dir(&samples).expect("readable samples") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name != "README.md" && name != "COPYING" {
            files.push(format!("samples/{name}"));
        }
    }
    for entry in std::fs::read_dir(configs_dir().join("roles")).expect("roles folder") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".conf") {
            files.push(format!("roles/{name}"));
        }
    }
    files.sort();
    files
}

/// `hactl-agent check` in the file's folder: exit code and the message texts.
fn check(file: &str) -> (i32, Vec<String>, String) {
    let name = file.split_once('/').map_or(file, |(_, n)| n);
    let output = Command::new(env!("CARGO_BIN_EXE_hactl-agent"))
        .current_dir(folder(file))
        .args(["check", "-f", name])
        .output()
        .expect("hactl-agent runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let texts = stderr.lines().map(agent_text).collect();
    (output.status.code().expect("exits normally"), texts, stderr)
}

/// `FILE:LINE: SEVERITY: TEXT` (or `SEVERITY: TEXT`) to TEXT.
fn agent_text(line: &str) -> String {
    for severity in [": warning: ", ": error: ", ": note: "] {
        if let Some((_, text)) = line.split_once(severity) {
            return text.trim().to_owned();
        }
    }
    for severity in ["warning: ", "error: ", "note: "] {
        if let Some(text) = line.strip_prefix(severity) {
            return text.trim().to_owned();
        }
    }
    line.trim().to_owned()
}

/// keepalived's `(FILE: Line N) TEXT` or `(Line N) TEXT` to TEXT.
fn keepalived_text(line: &str) -> String {
    if let Some(rest) = line.strip_prefix('(') {
        if let Some((head, text)) = rest.split_once(") ") {
            if head.starts_with("Line ") || head.contains(": Line ") {
                return text.trim().to_owned();
            }
        }
    }
    line.trim().to_owned()
}

#[test]
fn every_corpus_file_has_a_keepalived_verdict() {
    let verdicts = verdicts();
    let corpus = corpus();
    assert!(corpus.len() >= 30, "corpus has {} files", corpus.len());
    let listed: Vec<&String> = verdicts.keys().collect();
    assert_eq!(
        listed,
        corpus.iter().collect::<Vec<_>>(),
        "run configs/regen-corpus.sh"
    );
}

#[test]
fn verdicts_agree_except_what_is_refused_on_purpose() {
    let verdicts = verdicts();
    let mut wrong = Vec::new();
    let mut agree = 0;
    for (file, k) in &verdicts {
        let (code, _, stderr) = check(file);
        if let Some((_, keyword)) = REFUSED_ON_PURPOSE.iter().find(|(f, _)| f == file) {
            let names = format!("hactl-agent does not support '{keyword}'; run keepalived");
            if code != 1 || !stderr.contains(&names) {
                wrong.push(format!("{file}: want exit 1 naming '{keyword}':\n{stderr}"));
            }
            agree += usize::from(k.exit_code != 0);
            continue;
        }
        if (code == 0) != (k.exit_code == 0) {
            wrong.push(format!(
                "{file}: keepalived exited {}, check exited {code}\n{stderr}",
                k.exit_code
            ));
        } else if k.exit_code == 6 && !stderr.contains("SECURITY VIOLATION") {
            wrong.push(format!("{file}: no SECURITY VIOLATION\n{stderr}"));
        } else {
            agree += 1;
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The parity figure of the report: the 13 refused files where keepalived exits 0 are the
    // only verdicts that differ (vrrp_track_process is implemented now).
    assert_eq!((agree, verdicts.len()), (21, 34));
}

#[test]
fn keepalived_messages_are_printed_except_listed_differences() {
    let verdicts = verdicts();
    let mut missing = Vec::new();
    let mut listed_but_printed = Vec::new();
    let (mut matched, mut total) = (0, 0);
    for (file, k) in &verdicts {
        let (_, ours, stderr) = check(file);
        for line in &k.stderr {
            let text = keepalived_text(line);
            total += 1;
            let printed = ours.contains(&text);
            let listed = MESSAGE_DIFFERENCES
                .iter()
                .any(|(f, m, _)| f == file && *m == text);
            match (printed, listed) {
                (true, false) => matched += 1,
                (true, true) => listed_but_printed.push(format!("{file}: {text}")),
                (false, false) => missing.push(format!("{file}: `{text}`\n{stderr}")),
                (false, true) => {}
            }
        }
    }
    assert!(missing.is_empty(), "not printed:\n{}", missing.join("\n"));
    assert!(
        listed_but_printed.is_empty(),
        "printed now, strike off MESSAGE_DIFFERENCES: {listed_but_printed:?}"
    );
    assert_eq!((matched, total), (37, 51));
}

#[test]
fn message_normalisation_strips_file_and_line() {
    assert_eq!(
        keepalived_text("(a.conf: Line 29) Warning - cannot track route"),
        "Warning - cannot track route"
    );
    assert_eq!(keepalived_text("(Line 15) number '0'"), "number '0'");
    assert_eq!(
        keepalived_text("(VI_1) Unknown interface!"),
        "(VI_1) Unknown interface!"
    );
    assert_eq!(agent_text("a.conf:3: warning: (VI_1) x"), "(VI_1) x");
    assert_eq!(
        agent_text("warning: SECURITY VIOLATION"),
        "SECURITY VIOLATION"
    );
}
