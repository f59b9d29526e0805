//! Prometheus metrics for `hactl-agent run --metrics-listen ADDR`: the status board in the
//! text exposition format, served over plain HTTP.
//!
//! Metric names and labels are those of the widely used keepalived exporter
//! (mehdy/keepalived-exporter) wherever it has the quantity, so its dashboards and alerts keep
//! working when keepalived is replaced: `keepalived_up`, `keepalived_vrrp_state` (per VIP,
//! 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT), the `keepalived_*_total` counters labelled
//! `iname, intf, vrid, state`, and `keepalived_script_status` (0 BAD, 1 GOOD). What that
//! exporter does not have is under `hactl_agent_`: priorities, transitions and their time,
//! every drop reason, the drain flag.
//!
//! The responder is a hand-written HTTP/1.0 one on tokio (one GET endpoint, one response
//! per connection, no keep-alive, no TLS): a web framework would be most of the agent's
//! dependencies for that. It does not own any VRRP behaviour; it only reads the board.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::status::{AgentStatus, Board, InstanceStatus, ScriptStatus, State};

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Longest wait for a request head, and for the response to be taken.
const IO_WAIT: Duration = Duration::from_secs(5);

/// Largest request head read.
const MAX_HEAD: usize = 8192;

/// Why the metrics listener could not start.
#[derive(Debug, thiserror::Error)]
#[error("metrics listener {addr}: {source}")]
pub struct MetricsError {
    pub addr: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// Binds `addr` and serves `/metrics` until the task is dropped.
pub async fn serve(
    addr: SocketAddr,
    board: Arc<Board>,
) -> Result<tokio::task::JoinHandle<()>, MetricsError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError { addr, source })?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            // A slow client must not hold up the next scrape.
            let board = board.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(IO_WAIT, answer(conn, &board)).await;
            });
        }
    }))
}

async fn answer(mut conn: TcpStream, board: &Board) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = conn.read(&mut buf).await?;
        if n == 0 || head.len() > MAX_HEAD {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let response = respond(&String::from_utf8_lossy(&head), board);
    conn.write_all(&response).await?;
    conn.shutdown().await
}

/// The whole response to a request whose head is `head`.
fn respond(head: &str, board: &Board) -> Vec<u8> {
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => (
            "200 OK",
            CONTENT_TYPE,
            render(&board.snapshot(), &board.scripts()),
        ),
        ("GET" | "HEAD", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "hactl-agent: metrics at /metrics\n".to_owned(),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: try /metrics\n".to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".to_owned(),
        ),
    };
    let mut out = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

/// keepalived's state numbers, as the exporter reports them.
fn state_number(state: State) -> u8 {
    match state {
        State::Init => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
    }
}

/// keepalived-exporter counters: (metric, help, value).
type CounterOf = fn(&InstanceStatus) -> u64;

fn drops(i: &InstanceStatus, reasons: &[&str]) -> u64 {
    reasons
        .iter()
        .map(|r| i.counters.drops.get(*r).copied().unwrap_or(0))
        .sum()
}

/// The exporter's per-instance counters and which of the agent's counts make each. Drop
/// reasons the exporter has no counter for are only in `hactl_agent_adverts_dropped_total`.
const EXPORTER_COUNTERS: &[(&str, &str, CounterOf)] = &[
    (
        "keepalived_advertisements_received_total",
        "Advertisements received",
        |i| i.counters.adverts_received,
    ),
    (
        "keepalived_advertisements_sent_total",
        "Advertisements sent",
        |i| i.counters.adverts_sent,
    ),
    ("keepalived_become_master_total", "Became master", |i| {
        i.counters.became_master
    }),
    ("keepalived_release_master_total", "Released master", |i| {
        i.counters.released_master
    }),
    (
        "keepalived_packet_length_errors_total",
        "Packet length errors",
        |i| drops(i, &["truncated", "ip_length", "length"]),
    ),
    (
        "keepalived_advertisements_interval_errors_total",
        "Advertisement interval errors",
        |i| drops(i, &["interval"]),
    ),
    ("keepalived_ip_ttl_errors_total", "TTL errors", |i| {
        drops(i, &["ttl", "peer_ttl"])
    }),
    (
        "keepalived_invalid_type_received_total",
        "Invalid type errors",
        |i| drops(i, &["packet_type"]),
    ),
    (
        "keepalived_address_list_errors_total",
        "Address list errors",
        |i| drops(i, &["address_list", "address_count"]),
    ),
    (
        "keepalived_authentication_invalid_total",
        "Authentication invalid",
        |i| drops(i, &["invalid_auth_type"]),
    ),
    (
        "keepalived_authentication_mismatch_total",
        "Authentication mismatch",
        |i| drops(i, &["auth_type_mismatch"]),
    ),
    (
        "keepalived_authentication_failure_total",
        "Authentication failure",
        |i| drops(i, &["auth_failure"]),
    ),
    (
        "keepalived_priority_zero_received_total",
        "Priority zero received",
        |i| i.counters.priority_zero_received,
    ),
    (
        "keepalived_priority_zero_sent_total",
        "Priority zero sent",
        |i| i.counters.priority_zero_sent,
    ),
];

/// A label value, escaped as the exposition format wants.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The metrics of `status` and `scripts` in the text exposition format.
pub fn render(status: &AgentStatus, scripts: &[ScriptStatus]) -> String {
    let mut out = String::new();
    header(&mut out, "keepalived_up", "gauge", "Status");
    out += "keepalived_up 1\n";

    header(&mut out, "keepalived_vrrp_state", "gauge", "State of vrrp");
    for i in &status.instances {
        for vip in &i.vips {
            let addr = vip.split('/').next().unwrap_or(vip);
            let _ = writeln!(
                out,
                "keepalived_vrrp_state{{iname=\"{}\",intf=\"{}\",vrid=\"{}\",ip_address=\"{}\"}} {}",
                esc(&i.name),
                esc(&i.interface),
                i.vrid,
                esc(addr),
                state_number(i.state)
            );
        }
    }

    let labels = |i: &InstanceStatus| {
        format!(
            "iname=\"{}\",intf=\"{}\",vrid=\"{}\",state=\"{}\"",
            esc(&i.name),
            esc(&i.interface),
            i.vrid,
            i.state.name()
        )
    };
    for (name, help, value) in EXPORTER_COUNTERS {
        header(&mut out, name, "counter", help);
        for i in &status.instances {
            let _ = writeln!(out, "{name}{{{}}} {}", labels(i), value(i));
        }
    }

    header(
        &mut out,
        "keepalived_script_status",
        "gauge",
        "Tracker Script Status",
    );
    for s in scripts {
        // BAD until a first result, as keepalived starts a script that has not run yet.
        let _ = writeln!(
            out,
            "keepalived_script_status{{name=\"{}\"}} {}",
            esc(&s.name),
            u8::from(s.ok == Some(true))
        );
    }

    // The agent's own: no keepalived exporter has these.
    let own = |i: &InstanceStatus| {
        format!(
            "iname=\"{}\",intf=\"{}\",vrid=\"{}\"",
            esc(&i.name),
            esc(&i.interface),
            i.vrid
        )
    };
    header(
        &mut out,
        "hactl_agent_vrrp_state",
        "gauge",
        "VRRP state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT",
    );
    for i in &status.instances {
        let _ = writeln!(
            out,
            "hactl_agent_vrrp_state{{{}}} {}",
            own(i),
            state_number(i.state)
        );
    }
    header(
        &mut out,
        "hactl_agent_vrrp_priority",
        "gauge",
        "Configured (base) priority",
    );
    for i in &status.instances {
        let _ = writeln!(
            out,
            "hactl_agent_vrrp_priority{{{}}} {}",
            own(i),
            i.base_priority
        );
    }
    header(
        &mut out,
        "hactl_agent_vrrp_effective_priority",
        "gauge",
        "Priority advertised: base plus tracking weights",
    );
    for i in &status.instances {
        let _ = writeln!(
            out,
            "hactl_agent_vrrp_effective_priority{{{}}} {}",
            own(i),
            i.effective_priority
        );
    }
    header(
        &mut out,
        "hactl_agent_vrrp_transitions_total",
        "counter",
        "State changes",
    );
    for i in &status.instances {
        let _ = writeln!(
            out,
            "hactl_agent_vrrp_transitions_total{{{}}} {}",
            own(i),
            i.counters.transitions
        );
    }
    header(
        &mut out,
        "hactl_agent_vrrp_last_transition_timestamp_seconds",
        "gauge",
        "Unix time of the last state change (absent before the first)",
    );
    for i in &status.instances {
        if let Some(t) = &i.last_transition {
            let _ = writeln!(
                out,
                "hactl_agent_vrrp_last_transition_timestamp_seconds{{{}}} {}.{:03}",
                own(i),
                t.unix_ms / 1000,
                t.unix_ms % 1000
            );
        }
    }
    header(
        &mut out,
        "hactl_agent_vrrp_drained",
        "gauge",
        "1 while drained by hactl-agent drain",
    );
    for i in &status.instances {
        let _ = writeln!(
            out,
            "hactl_agent_vrrp_drained{{{}}} {}",
            own(i),
            u8::from(i.drained)
        );
    }
    header(
        &mut out,
        "hactl_agent_adverts_dropped_total",
        "counter",
        "Received packets dropped, by reason",
    );
    for i in &status.instances {
        for (reason, n) in &i.counters.drops {
            let _ = writeln!(
                out,
                "hactl_agent_adverts_dropped_total{{{},reason=\"{}\"}} {n}",
                own(i),
                esc(reason)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::DropReason;

    fn sample() -> (AgentStatus, Vec<ScriptStatus>) {
        let mut i = InstanceStatus::new("VI_1", "eth0", 14, 100);
        i.vips = vec!["198.51.100.100/32".into()];
        i.transition(State::Backup, "startup");
        i.transition(State::Master, "master_down");
        i.transition(State::Backup, "drained");
        i.drained = true;
        i.effective_priority = 85;
        i.counters.adverts_sent = 7;
        i.counters.priority_zero_sent = 1;
        i.counters.drop(DropReason::AuthFailure);
        i.counters.drop(DropReason::Ttl);
        i.counters.drop(DropReason::PeerTtl);
        if let Some(t) = &mut i.last_transition {
            t.unix_ms = 1_700_000_000_123;
        }
        let status = AgentStatus {
            pid: 1,
            config: "c".into(),
            instances: vec![i],
        };
        let scripts = vec![
            ScriptStatus {
                name: "chk_down".into(),
                ok: Some(true),
            },
            ScriptStatus {
                name: "chk_new".into(),
                ok: None,
            },
        ];
        (status, scripts)
    }

    #[test]
    fn exporter_names_and_labels() {
        let (status, scripts) = sample();
        let text = render(&status, &scripts);
        let l = "iname=\"VI_1\",intf=\"eth0\",vrid=\"14\"";
        for want in [
            "keepalived_up 1".to_owned(),
            format!("keepalived_vrrp_state{{{l},ip_address=\"198.51.100.100\"}} 1"),
            format!("keepalived_advertisements_sent_total{{{l},state=\"BACKUP\"}} 7"),
            format!("keepalived_become_master_total{{{l},state=\"BACKUP\"}} 0"),
            format!("keepalived_release_master_total{{{l},state=\"BACKUP\"}} 1"),
            format!("keepalived_ip_ttl_errors_total{{{l},state=\"BACKUP\"}} 2"),
            format!("keepalived_authentication_failure_total{{{l},state=\"BACKUP\"}} 1"),
            format!("keepalived_priority_zero_sent_total{{{l},state=\"BACKUP\"}} 1"),
            "keepalived_script_status{name=\"chk_down\"} 1".to_owned(),
            "keepalived_script_status{name=\"chk_new\"} 0".to_owned(),
            format!("hactl_agent_vrrp_priority{{{l}}} 100"),
            format!("hactl_agent_vrrp_effective_priority{{{l}}} 85"),
            format!("hactl_agent_vrrp_transitions_total{{{l}}} 3"),
            format!("hactl_agent_vrrp_last_transition_timestamp_seconds{{{l}}} 1700000000.123"),
            format!("hactl_agent_vrrp_drained{{{l}}} 1"),
            format!("hactl_agent_adverts_dropped_total{{{l},reason=\"peer_ttl\"}} 1"),
            format!("hactl_agent_adverts_dropped_total{{{l},reason=\"checksum\"}} 0"),
        ] {
            assert!(text.lines().any(|line| line == want), "{want}\n{text}");
        }
        // Every sample line belongs to a family announced with HELP and TYPE.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().expect("a name");
            assert!(text.contains(&format!("# TYPE {name} ")), "{line}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn http_answers() {
        let board = Board::default();
        let ok = String::from_utf8(respond("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &board))
            .expect("utf-8");
        assert!(ok.starts_with("HTTP/1.0 200 OK\r\n"), "{ok}");
        assert!(
            ok.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")),
            "{ok}"
        );
        let body = ok.split("\r\n\r\n").nth(1).expect("a body");
        assert!(ok.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(body.contains("keepalived_up 1\n"));
        let head =
            String::from_utf8(respond("HEAD /metrics HTTP/1.0\r\n\r\n", &board)).expect("utf-8");
        assert!(head.ends_with("\r\n\r\n"), "{head}");
        let missing = String::from_utf8(respond("GET /x HTTP/1.0\r\n\r\n", &board)).expect("utf-8");
        assert!(missing.starts_with("HTTP/1.0 404 "), "{missing}");
        let post =
            String::from_utf8(respond("POST /metrics HTTP/1.0\r\n\r\n", &board)).expect("utf-8");
        assert!(post.starts_with("HTTP/1.0 405 "), "{post}");
    }
}
