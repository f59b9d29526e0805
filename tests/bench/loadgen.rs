//! A bounded, open-loop HTTP load generator for `tests/bench/rolling.sh`: a fixed rate of
//! GET requests per URL (each on a new connection, as a browser's first request), for a fixed
//! time, then it waits for the requests in flight (at most the timeout) and prints one JSON
//! summary. A request fails when it cannot connect, is reset, times out, or gets a status
//! outside 2xx/3xx.
//!
//!   loadgen --rate 100 --seconds 25 --timeout 2 http://198.51.100.100/ http://198.51.100.200/
//!
//! Open loop: a slow or failed request never delays the next one (the ticks do not wait), so
//! a VIP that is gone for 300 ms shows as about 30 failures per 100 req/s, not as one.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    max_ms: AtomicU64,
    /// (seconds since start, url, why) of each failure.
    failures: Mutex<Vec<(f64, String, String)>>,
}

async fn request(host: &str, port: u16, path: &str) -> Result<(), String> {
    let mut s = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut body = Vec::new();
    s.read_to_end(&mut body)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&body);
    let status = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| "no HTTP status (connection closed early)".to_string())?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

fn split(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (auth, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match auth.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().ok()?),
        None => (auth.to_string(), 80),
    };
    Some((host, port, path.to_string()))
}

#[tokio::main]
async fn main() {
    let mut rate = 100.0f64;
    let mut seconds = 10.0f64;
    let mut timeout = 2.0f64;
    let mut urls = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> f64 {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("{name} needs a number");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--rate" => rate = num("--rate"),
            "--seconds" => seconds = num("--seconds"),
            "--timeout" => timeout = num("--timeout"),
            u => urls.push(u.to_string()),
        }
    }
    if urls.is_empty() || rate <= 0.0 {
        eprintln!("usage: loadgen [--rate N] [--seconds S] [--timeout T] URL...");
        std::process::exit(2);
    }
    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let limit = Duration::from_secs_f64(timeout);
    let mut senders = Vec::new();
    for url in urls.clone() {
        let Some((host, port, path)) = split(&url) else {
            eprintln!("not an http:// URL: {url}");
            std::process::exit(2);
        };
        let counts = counts.clone();
        senders.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let n = (rate * seconds).round() as u64;
            let mut inflight = Vec::new();
            for _ in 0..n {
                tick.tick().await;
                let (host, path, url, counts) =
                    (host.clone(), path.clone(), url.clone(), counts.clone());
                inflight.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let r = tokio::time::timeout(limit, request(&host, port, &path)).await;
                    let ms = sent.elapsed().as_millis() as u64;
                    counts.max_ms.fetch_max(ms, Ordering::Relaxed);
                    let at = start.elapsed().as_secs_f64();
                    match r {
                        Ok(Ok(())) => {
                            counts.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Err(e)) => {
                            counts.failed.fetch_add(1, Ordering::Relaxed);
                            counts.failures.lock().await.push((at, url, e));
                        }
                        Err(_) => {
                            counts.timed_out.fetch_add(1, Ordering::Relaxed);
                            counts
                                .failures
                                .lock()
                                .await
                                .push((at, url, "timed out".into()));
                        }
                    }
                }));
            }
            for t in inflight {
                let _ = t.await;
            }
        }));
    }
    for s in senders {
        let _ = s.await;
    }
    let failures = counts.failures.lock().await.clone();
    let summary = serde_json::json!({
        "urls": urls,
        "rate_per_url": rate,
        "seconds": seconds,
        "sent": counts.ok.load(Ordering::Relaxed) + counts.failed.load(Ordering::Relaxed) + counts.timed_out.load(Ordering::Relaxed),
        "ok": counts.ok.load(Ordering::Relaxed),
        "failed": counts.failed.load(Ordering::Relaxed),
        "timed_out": counts.timed_out.load(Ordering::Relaxed),
        "max_latency_ms": counts.max_ms.load(Ordering::Relaxed),
        "failures": failures.iter().take(50).map(|(t, u, e)| serde_json::json!({"at": (t * 1000.0).round() / 1000.0, "url": u, "why": e})).collect::<Vec<_>>(),
    });
    println!("{summary}");
}
