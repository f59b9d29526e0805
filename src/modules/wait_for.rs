//! `wait_for`: wait for a TCP port to open, close or drain, or a file to appear (with
//! `search_regex` in it) or go, as ansible-core's `wait_for` decides, with its messages and
//! result (`state`, `port`, `path`, `search_regex`, `match_groups`, `match_groupdict`,
//! `elapsed`).
//!
//! The loop runs on the controller: every `sleep` seconds one look at the host (one round
//! trip of `wait_for.sh`) until `timeout`. A port is tried with bash's `/dev/tcp` when the
//! host has bash, else with `nc -z`, else (local addresses only) by a LISTEN socket in
//! `/proc/net/tcp`; `drained` counts connections in `/proc/net/tcp{,6}` as Ansible's Linux
//! code does. `search_regex` is matched on the controller (Python `re` syntax on the `regex`
//! crate; look-around is refused): on the whole file for a path, on what the port sends
//! within `connect_timeout` (up to 64 KiB) for a port.
//! Ansible's module has no check mode: the task is skipped in check mode.

use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::ArgError;
use super::args::Args;
use super::edit::{assign, flag, python_regex};
use super::protocol::{self, field};
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::stat::EXPAND_HOME;
use super::{Outcome, Status};

const SCRIPT: &str = include_str!("wait_for.sh");

const PARAMS: &[&str] = &[
    "host",
    "timeout",
    "connect_timeout",
    "delay",
    "port",
    "active_connection_states",
    "path",
    "search_regex",
    "state",
    "exclude_hosts",
    "sleep",
    "msg",
];

/// TCP states as `/proc/net/tcp` numbers them.
const TCP_STATES: &[(&str, u8)] = &[
    ("ESTABLISHED", 0x01),
    ("SYN_SENT", 0x02),
    ("SYN_RECV", 0x03),
    ("FIN_WAIT1", 0x04),
    ("FIN_WAIT2", 0x05),
    ("TIME_WAIT", 0x06),
    ("CLOSE", 0x07),
    ("CLOSE_WAIT", 0x08),
    ("LAST_ACK", 0x09),
    ("LISTEN", 0x0A),
    ("CLOSING", 0x0B),
];

#[derive(Debug, Clone)]
pub struct Params {
    pub host: String,
    pub timeout: u64,
    pub connect_timeout: u64,
    pub delay: u64,
    pub port: Option<u16>,
    pub states: Vec<u8>,
    pub path: Option<String>,
    pub search_regex: Option<String>,
    pub state: String,
    pub exclude_hosts: Option<Vec<String>>,
    pub sleep: u64,
    pub msg: Option<String>,
}

fn int(a: &Args<'_>, name: &str, default: u64) -> Result<u64, ArgError> {
    match a.str(&[name])? {
        None => Ok(default),
        Some(s) => s.trim().parse::<u64>().map_err(|_| {
            ArgError(format!(
                "argument '{name}' is of type str and we were unable to convert to int: \
                 invalid literal for int() with base 10: '{s}'"
            ))
        }),
    }
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("wait_for", args, PARAMS)?;
    let state = a
        .choice(
            "state",
            &["absent", "drained", "present", "started", "stopped"],
        )?
        .unwrap_or_else(|| "started".into());
    let port = match a.str(&["port"])? {
        None => None,
        Some(s) => Some(
            s.trim()
                .parse::<u16>()
                .map_err(|_| ArgError(format!("argument 'port' is not a valid port: {s}")))?,
        ),
    };
    let path = a.str(&["path"])?;
    let fail0 = |m: &str| Err(ArgError(m.to_string()));
    if port.is_some_and(|p| p != 0) && path.is_some() {
        return fail0("port and path parameter can not both be passed to wait_for");
    }
    if path.is_some() && state == "stopped" {
        return fail0(
            "state=stopped should only be used for checking a port in the wait_for module",
        );
    }
    if path.is_some() && state == "drained" {
        return fail0(
            "state=drained should only be used for checking a port in the wait_for module",
        );
    }
    let exclude = args
        .get("exclude_hosts")
        .filter(|v| !v.is_null())
        .map(|_| a.list(&["exclude_hosts"]))
        .transpose()?;
    if exclude.is_some() && state != "drained" {
        return fail0("exclude_hosts should only be with state=drained");
    }
    let names = if args.get("active_connection_states").is_some() {
        a.list(&["active_connection_states"])?
    } else {
        [
            "ESTABLISHED",
            "FIN_WAIT1",
            "FIN_WAIT2",
            "SYN_RECV",
            "SYN_SENT",
            "TIME_WAIT",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut states = Vec::new();
    for n in &names {
        match TCP_STATES.iter().find(|(s, _)| s == n) {
            Some((_, id)) => states.push(*id),
            None => {
                return fail0(&format!("unknown active_connection_state ({n}) defined"));
            }
        }
    }
    let search_regex = a.str(&["search_regex"])?;
    if let Some(re) = &search_regex {
        python_regex(re, true, false)
            .map_err(|e| ArgError(format!("Invalid regular expression: {e}")))?;
    }
    Ok(Params {
        host: a.str(&["host"])?.unwrap_or_else(|| "127.0.0.1".into()),
        timeout: int(&a, "timeout", 300)?,
        connect_timeout: int(&a, "connect_timeout", 5)?.max(1),
        delay: int(&a, "delay", 0)?,
        port: port.filter(|p| *p != 0),
        states,
        path,
        search_regex,
        state,
        exclude_hosts: exclude,
        sleep: int(&a, "sleep", 1)?,
        msg: a.str(&["msg"])?,
    })
}

/// One look at the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Look {
    pub open: bool,
    pub exists: bool,
    pub error: Option<String>,
    pub data: Option<Vec<u8>>,
    pub tcp: String,
    /// `uid|gid|mode|size|owner|group|state` of an existing path.
    pub pathinfo: Option<String>,
}

pub fn parse_look(stdout: &[u8]) -> Look {
    let f = protocol::fields(stdout);
    let b64 = |k: &str| {
        field(&f, k).map(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .unwrap_or_default()
        })
    };
    let tcp = [b64("tcp_b64"), b64("tcp6_b64")]
        .into_iter()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    Look {
        open: field(&f, "open") == Some("1"),
        exists: field(&f, "exists") == Some("1"),
        error: field(&f, "error").map(str::to_string),
        data: b64("data_b64"),
        tcp,
        pathinfo: field(&f, "pathinfo").map(str::to_string),
    }
}

/// Ansible's `add_path_info`: a result with an existing `path` also says its owner, group,
/// mode, kind and size (`state` is then the kind: file, directory, link, hard).
pub fn add_path_info(mut o: Outcome, info: &str) -> Outcome {
    let v: Vec<&str> = info.split('|').collect();
    if v.len() != 7 {
        return o;
    }
    let num = |s: &str| s.parse::<u64>().map_or(Value::Null, |n| json!(n));
    let mode = u32::from_str_radix(v[2], 8).unwrap_or(0);
    for (k, val) in [
        ("uid", num(v[0])),
        ("gid", num(v[1])),
        ("owner", json!(v[4])),
        ("group", json!(v[5])),
        ("mode", json!(format!("0{mode:03o}"))),
        ("state", json!(v[6])),
        ("size", num(v[3])),
    ] {
        o.result.insert(k.into(), val);
    }
    o
}

/// An address of `/proc/net/tcp` (`0100007F:0050`, or 32 hex digits for IPv6) as text.
fn proc_addr(hex: &str) -> Option<(String, u16)> {
    let (ip, port) = hex.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let bytes: Vec<u8> = (0..ip.len() / 2)
        .filter_map(|i| u8::from_str_radix(ip.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    // The kernel prints each 32-bit word in host (little-endian) order.
    let words: Vec<u8> = bytes
        .chunks(4)
        .flat_map(|w| w.iter().rev().copied().collect::<Vec<_>>())
        .collect();
    let ip = match words.len() {
        4 => std::net::IpAddr::from([words[0], words[1], words[2], words[3]]),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&words);
            let v6 = std::net::Ipv6Addr::from(a);
            match v6.to_ipv4_mapped() {
                Some(v4) => std::net::IpAddr::V4(v4),
                None => std::net::IpAddr::V6(v6),
            }
        }
        _ => return None,
    };
    Some((ip.to_string(), port))
}

/// Active connections to `port` on `host` (any address for 0.0.0.0/::), as Ansible's
/// `LinuxTCPConnectionInfo` counts them.
pub fn active_connections(tcp: &str, p: &Params) -> usize {
    let any = matches!(p.host.as_str(), "0.0.0.0" | "::" | "");
    let want = match p.host.as_str() {
        "localhost" => "127.0.0.1",
        h => h,
    };
    let exclude = p.exclude_hosts.clone().unwrap_or_default();
    tcp.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let (local, remote, st) = (cols.get(1)?, cols.get(2)?, cols.get(3)?);
            let (lip, lport) = proc_addr(local)?;
            let (rip, _) = proc_addr(remote)?;
            let st = u8::from_str_radix(st, 16).ok()?;
            let ok = Some(lport) == p.port
                && p.states.contains(&st)
                && (any || lip == want || lip == "0.0.0.0" || lip == "::")
                && !exclude.contains(&rip);
            ok.then_some(())
        })
        .count()
}

#[derive(Debug)]
pub struct WaitFor;

static SPEC: Spec = Spec {
    name: "wait_for",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    check_mode: false,
    about: "wait for a port or a file (or text in it)",
};

impl Module for WaitFor {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

async fn look(
    cx: &Cx<'_>,
    p: &Params,
    what: &str,
    read: bool,
) -> Result<Result<Look, Outcome>, Unreachable> {
    let port = p.port.map(|p| p.to_string()).unwrap_or_default();
    let ct = p.connect_timeout.to_string();
    let script = assign(
        &[
            ("what", what),
            ("host", &p.host),
            ("port", &port),
            ("path", p.path.as_deref().unwrap_or_default()),
            ("ct", &ct),
            ("read", flag(read)),
        ],
        &format!("{EXPAND_HOME}{SCRIPT}"),
    );
    match cx.exec(&script, b"").await? {
        None => Ok(Err(Outcome::offline(cx.module))),
        Some(out) if !out.success() => Ok(Err(protocol::failed_from(&out, "wait_for failed"))),
        Some(out) => Ok(Ok(parse_look(&out.stdout))),
    }
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    if cx.mode.check {
        return Ok(Outcome::new(Status::Skipped).with(
            "msg",
            "remote module (wait_for) does not support check mode",
        ));
    }
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0).with("elapsed", 0)),
    };
    if cx.offline() {
        return Ok(Outcome::offline(cx.module));
    }
    let start = Instant::now();
    let elapsed = || start.elapsed().as_secs();
    let end = start + Duration::from_secs(p.timeout);
    let pause = Duration::from_secs(p.sleep);
    let fail = |m: String| Outcome::failed(p.msg.clone().unwrap_or(m)).with("elapsed", elapsed());
    if p.delay > 0 {
        tokio::time::sleep(Duration::from_secs(p.delay)).await;
    }
    let re = p
        .search_regex
        .as_deref()
        .map(|r| python_regex(r, true, false))
        .transpose()
        .ok()
        .flatten();
    let host_port = format!(
        "{}:{}",
        p.host,
        p.port.map(|p| p.to_string()).unwrap_or_default()
    );
    let mut groups = json!([]);
    let mut groupdict = json!({});
    let what = if p.path.is_some() { "path" } else { "port" };
    let mut pathinfo = None;
    if p.port.is_none() && p.path.is_none() && p.state != "drained" {
        tokio::time::sleep(Duration::from_secs(p.timeout)).await;
    } else if p.state == "absent" || p.state == "stopped" {
        loop {
            if Instant::now() >= end {
                return Ok(fail(match &p.path {
                    Some(path) => format!("Timeout when waiting for {path} to be absent."),
                    None => format!("Timeout when waiting for {host_port} to stop."),
                }));
            }
            let l = match look(cx, &p, what, false).await? {
                Ok(l) => l,
                Err(o) => return Ok(o),
            };
            if (p.path.is_some() && !l.exists) || (p.path.is_none() && !l.open) {
                break;
            }
            tokio::time::sleep(pause).await;
        }
    } else if p.state == "started" || p.state == "present" {
        loop {
            if Instant::now() >= end {
                return Ok(fail(match (&p.path, &p.search_regex) {
                    (None, Some(r)) => {
                        format!("Timeout when waiting for search string {r} in {host_port}")
                    }
                    (None, None) => format!("Timeout when waiting for {host_port}"),
                    (Some(path), Some(r)) => {
                        format!("Timeout when waiting for search string {r} in {path}")
                    }
                    (Some(path), None) => format!("Timeout when waiting for file {path}"),
                }));
            }
            let l = match look(cx, &p, what, re.is_some()).await? {
                Ok(l) => l,
                Err(o) => return Ok(o),
            };
            if let Some(e) = &l.error {
                let path = p.path.clone().unwrap_or_default();
                return Ok(fail(format!("Failed to stat {path}, {e}")));
            }
            let up = if p.path.is_some() { l.exists } else { l.open };
            pathinfo = l.pathinfo.clone();
            if up {
                let Some(re) = &re else { break };
                if let Some(data) = &l.data {
                    let text = String::from_utf8_lossy(data);
                    if let Some(c) = re.captures(&text) {
                        let list: Vec<Value> = c
                            .iter()
                            .skip(1)
                            .map(|m| m.map_or(Value::Null, |m| json!(m.as_str())))
                            .collect();
                        groups = json!(list);
                        let mut d = Map::new();
                        for name in re.capture_names().flatten() {
                            d.insert(
                                name.into(),
                                c.name(name).map_or(Value::Null, |m| json!(m.as_str())),
                            );
                        }
                        groupdict = Value::Object(d);
                        break;
                    }
                }
            }
            tokio::time::sleep(pause).await;
        }
    } else {
        // drained
        loop {
            if Instant::now() >= end {
                return Ok(fail(format!(
                    "Timeout when waiting for {host_port} to drain"
                )));
            }
            let l = match look(cx, &p, "tcp", false).await? {
                Ok(l) => l,
                Err(o) => return Ok(o),
            };
            if active_connections(&l.tcp, &p) == 0 {
                break;
            }
            tokio::time::sleep(pause).await;
        }
    }
    let o = Outcome::changed(false)
        .with("state", p.state.clone())
        .with("port", p.port.map_or(Value::Null, |v| json!(v)))
        .with(
            "search_regex",
            p.search_regex.clone().map_or(Value::Null, Value::String),
        )
        .with("match_groups", groups)
        .with("match_groupdict", groupdict)
        .with("path", p.path.clone().map_or(Value::Null, Value::String))
        .with("elapsed", elapsed());
    Ok(match pathinfo {
        Some(info) => add_path_info(o, &info),
        None => o,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testutil::Host;

    fn p(v: Value) -> Params {
        params(v.as_object().expect("map")).expect("params")
    }

    fn script(p: &Params, what: &str, read: bool) -> String {
        let port = p.port.map(|p| p.to_string()).unwrap_or_default();
        assign(
            &[
                ("what", what),
                ("host", &p.host),
                ("port", &port),
                ("path", p.path.as_deref().unwrap_or_default()),
                ("ct", "1"),
                ("read", flag(read)),
            ],
            &format!("{EXPAND_HOME}{SCRIPT}"),
        )
    }

    #[test]
    fn a_port_open_and_closed_with_bash() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let host = Host::new();
        let open = p(json!({"port": port}));
        let l = parse_look(&host.exec(&script(&open, "port", false), b"").stdout);
        assert!(l.open, "{l:?}");
        drop(listener);
        let l = parse_look(&host.exec(&script(&open, "port", false), b"").stdout);
        assert!(!l.open, "{l:?}");
    }

    #[test]
    fn a_port_through_proc_net_tcp_without_bash_or_nc() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let host = Host::new();
        // `command -v` finds no bash and no nc: fake them as missing with a PATH of our own.
        for tool in [
            "base64", "awk", "cat", "stat", "mktemp", "timeout", "head", "rm", "printf",
        ] {
            if let Ok(path) = which(tool) {
                host.fake(tool, &format!("exec {path} \"$@\""));
            }
        }
        let s = format!(
            "PATH={}\n{}",
            host.root().join("../bin").display(),
            script(&p(json!({"port": port})), "port", false)
        );
        let l = parse_look(&host.exec(&s, b"").stdout);
        assert!(l.open, "{l:?}");
        drop(listener);
        let l = parse_look(&host.exec(&s, b"").stdout);
        assert!(!l.open, "{l:?}");
    }

    fn which(tool: &str) -> Result<String, ()> {
        for dir in ["/usr/bin", "/bin"] {
            let p = format!("{dir}/{tool}");
            if std::path::Path::new(&p).exists() {
                return Ok(p);
            }
        }
        Err(())
    }

    #[test]
    fn paths_and_their_content() {
        let host = Host::new();
        std::fs::write(host.path("log"), "ready on port 8080\n").expect("write");
        let f = host.path("log").to_string_lossy().into_owned();
        let l = parse_look(
            &host
                .exec(&script(&p(json!({"path": f})), "path", true), b"")
                .stdout,
        );
        assert!(l.exists && l.error.is_none(), "{l:?}");
        assert_eq!(l.data.as_deref(), Some(&b"ready on port 8080\n"[..]));
        let missing = host.path("nope").to_string_lossy().into_owned();
        let l = parse_look(
            &host
                .exec(&script(&p(json!({"path": missing})), "path", false), b"")
                .stdout,
        );
        assert!(!l.exists && l.error.is_none(), "{l:?}");
    }

    #[test]
    fn drained_counts_connections_as_ansible() {
        // A listener on :80 and one established connection from 198.51.100.7.
        let tcp = "  sl  local_address rem_address   st\n\
   0: 00000000:0050 00000000:0000 0A 0\n\
   1: 0100007F:0050 076433C6:D431 01 0\n";
        let params = p(json!({"port": 80, "state": "drained"}));
        assert_eq!(active_connections(tcp, &params), 1);
        let params = p(json!({"port": 80, "state": "drained", "exclude_hosts": ["198.51.100.7"]}));
        assert_eq!(
            proc_addr("076433C6:D431").map(|a| a.0),
            Some("198.51.100.7".into())
        );
        assert_eq!(active_connections(tcp, &params), 0);
    }

    #[test]
    fn argument_errors_are_ansibles() {
        let err =
            params(json!({"port": 1, "path": "/x"}).as_object().expect("map")).expect_err("both");
        assert_eq!(
            err.0,
            "port and path parameter can not both be passed to wait_for"
        );
        let err = params(
            json!({"path": "/x", "state": "drained"})
                .as_object()
                .expect("map"),
        )
        .expect_err("drained");
        assert!(err.0.starts_with("state=drained should only"));
        let err = params(
            json!({"port": 1, "active_connection_states": ["NOPE"]})
                .as_object()
                .expect("map"),
        )
        .expect_err("state");
        assert_eq!(err.0, "unknown active_connection_state (NOPE) defined");
    }
}
