//! The checks of a rollout: who holds each VIP (as `hactl status` reads it: the addresses on
//! the hosts) and an HTTP GET from the controller, through each VIP or straight to one host.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::status::{Answer, Fleet};

/// An `http://HOST[:PORT]/PATH` health URL; an IPv6 host is written in brackets
/// (`http://[2001:db8::100]/`), `host` holds it without them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub text: String,
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl Url {
    pub fn parse(text: &str) -> Result<Url, String> {
        let rest = text.strip_prefix("http://").ok_or_else(|| {
            format!("health URL '{text}': only http:// URLs are checked (give http URLs, or none)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, after) = v6
                    .split_once(']')
                    .ok_or_else(|| format!("health URL '{text}': no ']' after the IPv6 address"))?;
                if h.parse::<std::net::Ipv6Addr>().is_err() {
                    return Err(format!("health URL '{text}': '{h}' is not an IPv6 address"));
                }
                match after.strip_prefix(':') {
                    Some(p) => (h, port_of(text, p)?),
                    None if after.is_empty() => (h, 80),
                    None => return Err(format!("health URL '{text}': bad port '{after}'")),
                }
            }
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, port_of(text, p)?),
                None => (authority, 80),
            },
        };
        if host.is_empty() || authority.contains('@') {
            return Err(format!("health URL '{text}': no host"));
        }
        Ok(Url {
            text: text.to_string(),
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    /// `http://VIP/`, the default health URL of a VIP.
    pub fn of_vip(vip: IpAddr) -> Url {
        let host = vip.to_string();
        Url {
            text: format!("http://{}/", bracketed(&host)),
            host,
            port: 80,
            path: "/".into(),
        }
    }

    /// The VIP this URL goes through, when its host is one.
    pub fn vip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

fn port_of(text: &str, p: &str) -> Result<u16, String> {
    p.parse::<u16>()
        .map_err(|_| format!("health URL '{text}': bad port '{p}'"))
}

/// An IPv6 address in brackets, as URLs and `Host` headers write it; anything else as it is.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// GETs `url` (connecting to `via` instead of the URL's host when given, with the URL's
/// `Host`); `Ok(status)` for 2xx/3xx, else why not.
pub async fn get(url: &Url, via: Option<&str>, limit: Duration) -> Result<u16, String> {
    let target = via.unwrap_or(&url.host);
    let work = async {
        let mut stream = tokio::net::TcpStream::connect((target, url.port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let host = if url.port == 80 {
            bracketed(&url.host)
        } else {
            format!("{}:{}", bracketed(&url.host), url.port)
        };
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: hactl-rolling\r\nConnection: close\r\n\r\n",
            url.path
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("send: {e}"))?;
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.contains(&b'\n') && head.len() < 8192 {
            let n = stream
                .read(&mut buf)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head);
        let line = line.lines().next().unwrap_or_default().to_string();
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("no HTTP status line (got {line:?})"))?;
        if (200..400).contains(&status) {
            Ok(status)
        } else {
            Err(format!("HTTP {status}"))
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer in {:.1} s", limit.as_secs_f64())),
    }
}

/// What a VIP check wants of a group.
#[derive(Debug, Default, Clone)]
pub struct Want {
    /// Hosts that must hold no VIP (drained).
    pub drained: BTreeSet<String>,
    /// VIPs that must be on one given host (it preempts).
    pub on: BTreeMap<IpAddr, String>,
    /// VIPs not checked (`--force` over a VIP that was already wrong before the rollout).
    pub exempt_vips: BTreeSet<IpAddr>,
    /// Hosts whose engine problems are not checked (`--force`).
    pub exempt_hosts: BTreeSet<String>,
}

/// Checks the group `hosts` in `fleet`: every host answered without problems, every VIP of
/// their VRIDs is held by exactly one host, none by a drained host, each wanted one where
/// wanted. `Ok` says where each VIP is; `Err` says what is wrong.
pub fn judge(fleet: &Fleet, hosts: &[String], want: &Want) -> Result<String, String> {
    let mut wrong = Vec::new();
    for h in fleet.hosts.iter().filter(|h| hosts.contains(&h.host)) {
        match &h.answer {
            Answer::Unreachable(msg) => wrong.push(format!("{} is unreachable: {msg}", h.host)),
            Answer::Reached(view) => {
                if !want.exempt_hosts.contains(&h.host) {
                    wrong.extend(view.problems.iter().map(|p| format!("{}: {p}", h.host)));
                }
            }
        }
    }
    let mut seen = Vec::new();
    for v in fleet
        .vrids
        .iter()
        .filter(|v| v.members.iter().any(|m| hosts.contains(&m.host)))
    {
        for vip in &v.vips {
            let holders = &vip.holders;
            seen.push(format!(
                "VIP {} on {}",
                vip.address,
                if holders.is_empty() {
                    "nobody".to_string()
                } else {
                    holders.join("+")
                }
            ));
            if want.exempt_vips.contains(&vip.address) {
                continue;
            }
            if holders.len() != 1 {
                wrong.push(format!(
                    "VIP {} (VRID {}) held by {} host(s){}",
                    vip.address,
                    v.vrid,
                    holders.len(),
                    if holders.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", holders.join(", "))
                    }
                ));
                continue;
            }
            if let Some(d) = holders.iter().find(|h| want.drained.contains(*h)) {
                wrong.push(format!("VIP {} is still on {d}", vip.address));
            }
            if let Some(w) = want.on.get(&vip.address) {
                if &holders[0] != w {
                    wrong.push(format!(
                        "VIP {} is on {}, not yet back on {w}",
                        vip.address, holders[0]
                    ));
                }
            }
        }
    }
    for (vip, host) in &want.on {
        let known = fleet
            .vrids
            .iter()
            .any(|v| v.vips.iter().any(|x| x.address == *vip));
        if !known {
            wrong.push(format!("VIP {vip} is not served yet (wanted on {host})"));
        }
    }
    if wrong.is_empty() {
        Ok(seen.join(", "))
    } else {
        Err(wrong.join("; "))
    }
}

/// The VIPs of the VRIDs `hosts` take part in, as the fleet reports them.
pub fn vips(fleet: &Fleet, hosts: &[String]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for v in fleet
        .vrids
        .iter()
        .filter(|v| v.members.iter().any(|m| hosts.contains(&m.host)))
    {
        for vip in &v.vips {
            if !out.contains(&vip.address) {
                out.push(vip.address);
            }
        }
    }
    out
}

/// Who holds `vip` now.
pub fn holders(fleet: &Fleet, vip: IpAddr) -> Vec<String> {
    fleet
        .vrids
        .iter()
        .flat_map(|v| v.vips.iter())
        .find(|v| v.address == vip)
        .map(|v| v.holders.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{Engine, HostStatus, HostView, Instance};

    fn host(name: &str, own: u8, holds: &[u8], problems: &[&str]) -> HostStatus {
        let instances = [(14u8, 100u8), (24, 200)]
            .iter()
            .map(|(vrid, vip)| Instance {
                vrid: Some(*vrid),
                state: if holds.contains(vip) {
                    "MASTER"
                } else {
                    "BACKUP"
                }
                .into(),
                interface: Some("eth0".into()),
                vips: vec![IpAddr::from([198, 51, 100, *vip])],
                ..Instance::named(&format!("VI_{vrid}"), "hactl-agent")
            })
            .collect();
        let mut addresses = vec![IpAddr::from([198, 51, 100, own])];
        addresses.extend(holds.iter().map(|v| IpAddr::from([198, 51, 100, *v])));
        HostStatus {
            host: name.into(),
            answer: Answer::Reached(HostView {
                engine: Engine::HactlAgent,
                instances,
                addresses,
                problems: problems.iter().map(|p| p.to_string()).collect(),
            }),
        }
    }

    fn pair() -> Vec<String> {
        vec!["lb1".into(), "lb2".into()]
    }

    const V1: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 100));

    #[test]
    fn healthy_drained_and_back() {
        let f = Fleet::build(vec![
            host("lb1", 11, &[100], &[]),
            host("lb2", 12, &[200], &[]),
        ]);
        assert_eq!(
            judge(&f, &pair(), &Want::default()),
            Ok("VIP 198.51.100.100 on lb1, VIP 198.51.100.200 on lb2".into())
        );
        let drained = Want {
            drained: ["lb1".to_string()].into(),
            ..Want::default()
        };
        assert_eq!(
            judge(&f, &pair(), &drained),
            Err("VIP 198.51.100.100 is still on lb1".into())
        );
        let f = Fleet::build(vec![
            host("lb1", 11, &[], &[]),
            host("lb2", 12, &[100, 200], &[]),
        ]);
        assert!(judge(&f, &pair(), &drained).is_ok());
        let back = Want {
            on: [(V1, "lb1".to_string())].into(),
            ..Want::default()
        };
        assert_eq!(
            judge(&f, &pair(), &back),
            Err("VIP 198.51.100.100 is on lb2, not yet back on lb1".into())
        );
    }

    #[test]
    fn zero_or_two_holders_and_problems_fail_unless_exempt() {
        let f = Fleet::build(vec![
            host("lb1", 11, &[100], &["hactl-agent does not answer"]),
            host("lb2", 12, &[100], &[]),
        ]);
        let err = judge(&f, &pair(), &Want::default())
            .err()
            .unwrap_or_default();
        assert!(err.contains("lb1: hactl-agent does not answer"), "{err}");
        assert!(
            err.contains("VIP 198.51.100.100 (VRID 14) held by 2 host(s): lb1, lb2"),
            "{err}"
        );
        assert!(
            err.contains("VIP 198.51.100.200 (VRID 24) held by 0 host(s)"),
            "{err}"
        );
        let forced = Want {
            exempt_vips: [V1, IpAddr::from([198, 51, 100, 200])].into(),
            exempt_hosts: ["lb1".to_string()].into(),
            ..Want::default()
        };
        assert!(judge(&f, &pair(), &forced).is_ok());
    }

    #[test]
    fn urls() {
        let u = Url::parse("http://198.51.100.100/health").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("198.51.100.100", 80, "/health")
        );
        assert_eq!(u.vip(), Some(V1));
        let u = Url::parse("http://lb.example:8080").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.port, u.path.as_str(), u.vip()), (8080, "/", None));
        assert!(
            Url::parse("https://x/")
                .err()
                .unwrap_or_default()
                .contains("only http://")
        );
        assert!(Url::parse("http://x:y/").is_err());
        // IPv6 hosts in brackets.
        let v6: IpAddr = "2001:db8:61::100".parse().unwrap_or(V1);
        let u =
            Url::parse("http://[2001:db8:61::100]:8080/health").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str(), u.vip()),
            ("2001:db8:61::100", 8080, "/health", Some(v6))
        );
        let u = Url::parse("http://[2001:db8:61::100]").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        assert_eq!(Url::of_vip(v6).text, "http://[2001:db8:61::100]/");
        assert_eq!(Url::of_vip(V1).text, "http://198.51.100.100/");
        assert!(Url::parse("http://[2001:db8::1/").is_err());
        assert!(Url::parse("http://[lb]/").is_err());
        assert!(Url::parse("http://[2001:db8::1]x/").is_err());
    }

    /// Through an IPv6 address the request reaches the server with the host in brackets.
    #[tokio::test]
    async fn get_over_ipv6_sends_a_bracketed_host() {
        let Ok(listener) = tokio::net::TcpListener::bind("[::1]:0").await else {
            // No IPv6 loopback here: nothing to check against.
            return;
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let seen = tokio::spawn(async move {
            let mut request = Vec::new();
            if let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).await.unwrap_or(0);
                request.extend_from_slice(&buf[..n]);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
            }
            String::from_utf8_lossy(&request).into_owned()
        });
        let url =
            Url::parse(&format!("http://[::1]:{port}/health")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(get(&url, None, Duration::from_secs(2)).await, Ok(200));
        let request = seen.await.unwrap_or_default();
        assert!(
            request.starts_with("GET /health HTTP/1.1\r\nHost: [::1]:"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn get_reads_the_status_line() {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        tokio::spawn(async move {
            for reply in ["HTTP/1.1 302 Found\r\n\r\n", "HTTP/1.1 500 Oops\r\n\r\n"] {
                if let Ok((mut s, _)) = listener.accept().await {
                    let mut buf = [0u8; 512];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(reply.as_bytes()).await;
                }
            }
        });
        let url =
            Url::parse(&format!("http://198.51.100.100:{port}/")).unwrap_or_else(|e| panic!("{e}"));
        let limit = Duration::from_secs(2);
        assert_eq!(get(&url, Some("127.0.0.1"), limit).await, Ok(302));
        assert_eq!(
            get(&url, Some("127.0.0.1"), limit).await,
            Err("HTTP 500".into())
        );
    }
}
