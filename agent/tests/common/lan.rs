//! Two (or more) throw-away "hosts" on one Ethernet segment, and daemons running on them.
//!
//! The bridge lives in its own namespace; each host is a namespace whose `eth0` is a veth
//! into the bridge, with 198.51.100.N/24. A daemon runs under
//! `ip netns exec HOST unshare --mount --uts --propagation private`, with the host's temp
//! directory bind-mounted on /etc/keepalived and its own hostname, so hactl-agent and
//! keepalived both read /etc/keepalived/keepalived.conf as on a real box. Every daemon leads
//! its own process group; the guard SIGKILLs the group on drop (keepalived forks a VRRP
//! child), and the namespaces go with their guards, so nothing outlives a failing test.

#![allow(dead_code)]

use std::fs;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::netns::NetNs;

/// The hactl-agent binary under test.
pub const AGENT: &str = env!("CARGO_BIN_EXE_hactl-agent");

/// One host: a namespace, its address and its private /etc/keepalived.
#[derive(Debug)]
pub struct Host {
    pub ns: NetNs,
    pub name: String,
    pub addr: String,
    pub dir: tempfile::TempDir,
}

impl Host {
    /// The host's /etc/keepalived as seen from the test.
    pub fn etc(&self) -> &Path {
        self.dir.path()
    }

    pub fn write_config(&self, text: &str) {
        fs::write(self.etc().join("keepalived.conf"), text).expect("write keepalived.conf");
    }

    /// The agent's status socket.
    pub fn socket(&self) -> PathBuf {
        self.etc().join("agent.sock")
    }

    /// Whether `eth0` holds `vip` (as a /32).
    pub fn holds(&self, vip: &str) -> bool {
        self.ns
            .ip(&["-4", "addr", "show", "dev", "eth0"])
            .contains(&format!("inet {vip}/32"))
    }

    /// Starts hactl-agent on this host with /etc/keepalived/keepalived.conf, and waits until
    /// its status socket is up.
    pub fn start_agent(&self) -> Daemon {
        self.start_agent_with(&[])
    }

    /// [`Host::start_agent`] with more arguments for `hactl-agent run`.
    pub fn start_agent_with(&self, extra: &[&str]) -> Daemon {
        let socket = self.socket();
        let _ = fs::remove_file(&socket);
        let path = socket.to_str().expect("utf-8 path");
        let mut argv = vec![
            AGENT,
            "run",
            "-f",
            "/etc/keepalived/keepalived.conf",
            "--socket",
            path,
        ];
        argv.extend_from_slice(extra);
        let daemon = self.spawn("agent", &argv);
        let up = wait_for(Duration::from_secs(5), || socket.exists());
        assert!(up.is_some(), "agent did not start:\n{}", daemon.log());
        daemon
    }

    /// Starts keepalived 2.2.7 (VRRP only, foreground, logging to the console).
    pub fn start_keepalived(&self) -> Daemon {
        let d = self.etc().display().to_string();
        let (pid, vrrp_pid) = (format!("{d}/keepalived.pid"), format!("{d}/vrrp.pid"));
        self.spawn(
            "keepalived",
            &[
                "keepalived",
                "-P",
                "-n",
                "-l",
                "-D",
                "-f",
                "/etc/keepalived/keepalived.conf",
                "-p",
                &pid,
                "-r",
                &vrrp_pid,
            ],
        )
    }

    fn spawn(&self, what: &str, argv: &[&str]) -> Daemon {
        let log_path = self.etc().join(format!("{what}.log"));
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("log file");
        let script = format!(
            "mount --bind {} /etc/keepalived && hostname {} && exec \"$@\"",
            self.etc().display(),
            self.name
        );
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns.name,
                "unshare",
                "--mount",
                "--uts",
            ])
            .args(["--propagation", "private", "sh", "-c", &script, "sh"])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        Daemon {
            child: Some(child),
            log: log_path,
        }
    }
}

/// A running daemon; killed with its process group on drop.
#[derive(Debug)]
pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Daemon {
    fn pid(&self) -> Option<Pid> {
        let id = self.child.as_ref()?.id();
        Some(Pid::from_raw(i32::try_from(id).ok()?))
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` to the daemon's main process.
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid() {
            kill(pid, signal).expect("kill");
        }
    }

    /// SIGKILL to the whole group, then reaps the main process.
    pub fn kill9(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = killpg(pid, Signal::SIGKILL);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Waits up to `limit` for the main process to exit; its exit code (signal: None).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            let c = self.child.as_mut()?;
            if let Ok(Some(status)) = c.try_wait() {
                self.child = None;
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit in {limit:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A bridge namespace and hosts 198.51.100.1, .2, ... named `a`, `b`, ...
#[derive(Debug)]
pub struct Lan {
    // Hosts first: dropping them deletes their veths before the bridge goes.
    pub hosts: Vec<Host>,
    pub bridge: NetNs,
}

impl Lan {
    /// Waits until every host's eth0 has a usable link-local address (past duplicate address
    /// detection): VRRP over IPv6 is sent from it.
    pub fn wait_for_link_local(&self) {
        let ready = wait_for(Duration::from_secs(10), || {
            self.hosts.iter().all(|h| {
                let text =
                    h.ns.ip(&["-6", "addr", "show", "dev", "eth0", "scope", "link"]);
                text.contains("inet6 fe80::") && !text.contains("tentative")
            })
        });
        assert!(ready.is_some(), "no link-local addresses after DAD");
    }

    pub fn new(tag: &str, hosts: usize) -> Lan {
        let bridge = NetNs::create(&format!("{tag}br"));
        bridge.ip(&["link", "add", "br0", "type", "bridge"]);
        bridge.ip(&["link", "set", "br0", "up"]);
        let mut out = Vec::new();
        for i in 0..hosts {
            let letter = char::from(b'a' + u8::try_from(i).expect("few hosts"));
            let ns = NetNs::create(&format!("{tag}{letter}"));
            let port = format!("v{letter}");
            bridge.ip(&[
                "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns.name,
            ]);
            bridge.ip(&["link", "set", &port, "master", "br0", "up"]);
            ns.ip(&["link", "set", "eth0", "up"]);
            let addr = format!("198.51.100.{}", i + 1);
            ns.ip(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
            out.push(Host {
                ns,
                name: format!("lb{letter}"),
                addr,
                dir: tempfile::tempdir().expect("tempdir"),
            });
        }
        Lan { hosts: out, bridge }
    }
}

/// hactl-agent (`agent`) or keepalived on `host`.
pub fn start(host: &Host, agent: bool) -> Daemon {
    if agent {
        host.start_agent()
    } else {
        host.start_keepalived()
    }
}

/// The logs of `daemons`, one after the other.
pub fn logs(daemons: &[&Daemon]) -> String {
    daemons
        .iter()
        .map(|d| d.log())
        .collect::<Vec<_>>()
        .join("\n----\n")
}

/// The two trials of a scenario that runs once with hactl-agent and once with keepalived as
/// the reference: `NAME_agent` and `NAME_keepalived_reference`; `run` gets `true` for the
/// agent. `ignored` when the machine cannot run them (the harness lists them as ignored).
pub fn agent_and_keepalived(
    name: &str,
    ignored: bool,
    run: impl Fn(bool) + Clone + Send + 'static,
) -> [libtest_mimic::Trial; 2] {
    [true, false].map(|agent| {
        let who = if agent {
            "agent"
        } else {
            "keepalived_reference"
        };
        let run = run.clone();
        libtest_mimic::Trial::test(format!("{name}_{who}"), move || {
            run(agent);
            Ok(())
        })
        .with_ignored_flag(ignored)
    })
}

/// Polls `cond` every 20 ms for up to `limit`; how long it took, or None.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The seed's keepalived.conf for one host: VRID 14 (VIP .100) and 24 (VIP .200), PASS auth,
/// group 224.0.100.19, advert_int 1, and the maintenance switch `chk_down` (weight -15) as a
/// plain `/bin/test` on /etc/keepalived/down.
pub fn seed_config(router_id: &str, prio14: u8, prio24: u8) -> String {
    let state = |p: u8| if p == 100 { "MASTER" } else { "BACKUP" };
    format!(
        "global_defs {{
    router_id {router_id}
    vrrp_mcast_group4 224.0.100.19
    enable_script_security
    script_user root
}}

vrrp_script chk_down {{
    script \"/bin/test ! -f /etc/keepalived/down\"
    interval 1
    weight -15
}}

vrrp_instance VI_1 {{
    state {s14}
    interface eth0
    virtual_router_id 14
    priority {prio14}
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass 571f87b2
    }}
    virtual_ipaddress {{
        198.51.100.100
    }}
    track_script {{
        chk_down
    }}
}}

vrrp_instance VI_r2 {{
    state {s24}
    interface eth0
    virtual_router_id 24
    priority {prio24}
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass 571f97b2
    }}
    virtual_ipaddress {{
        198.51.100.200
    }}
    track_script {{
        chk_down
    }}
}}
",
        s14 = state(prio14),
        s24 = state(prio24),
    )
}
