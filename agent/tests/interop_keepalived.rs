//! Interoperability: adverts built by our encoder are accepted by a real keepalived.
//!
//! keepalived runs in one network namespace, our adverts are sent from a second one joined by
//! a veth pair (198.51.100.0/24, VIPs in 203.0.113.0/24). For two instances (v2 with PASS, v3)
//! we advertise priority 200, so keepalived (priority 100) must stay BACKUP past its 3.6 s
//! master-down interval; for a third our password is wrong, so keepalived must log the bad
//! password and become MASTER, which shows the test can see a rejection. Needs root, `ip`,
//! `python3` and `keepalived`; skipped otherwise. Everything is removed by a Drop guard.

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

use hactl_agent::packet::{Advertisement, AuthConfig, ChecksumMode, Ipv4Header, VRRP_GROUP_V4};

const OURS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

fn vip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, last))
}

const KEEPALIVED_CONF: &str = r#"
global_defs {
    router_id hactl-interop
}
vrrp_instance V2_PASS {
    state BACKUP
    interface veth0
    virtual_router_id 14
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret-password
    }
    virtual_ipaddress {
        203.0.113.100
    }
}
vrrp_instance V2_BADPASS {
    state BACKUP
    interface veth0
    virtual_router_id 15
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass right
    }
    virtual_ipaddress {
        203.0.113.150
    }
}
vrrp_instance V3 {
    version 3
    state BACKUP
    interface veth0
    virtual_router_id 24
    priority 100
    advert_int 1
    virtual_ipaddress {
        203.0.113.200
        203.0.113.201
    }
}
"#;

/// Sends every hex line of argv[1] once per 0.5 s for argv[2] seconds, out of veth1.
const SENDER: &str = r#"
import socket, sys, time
packets = [bytes.fromhex(l) for l in open(sys.argv[1]).read().split()]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"veth1")
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("198.51.100.2"))
end = time.time() + float(sys.argv[2])
while time.time() < end:
    for p in packets:
        s.sendto(p, ("224.0.0.18", 0))
    time.sleep(0.5)
"#;

/// Namespaces, keepalived and temp files of one run; all removed on drop.
struct Lab {
    prefix: String,
    keepalived: Option<Child>,
    dir: tempfile::TempDir,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.keepalived.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            sleep(Duration::from_millis(300));
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in ["ka", "us"] {
            let _ = Command::new("ip")
                .args(["netns", "del", &format!("{}-{ns}", self.prefix)])
                .status();
        }
    }
}

fn run(args: &[&str]) {
    let status = Command::new(args[0])
        .args(&args[1..])
        .status()
        .expect("spawn");
    assert!(status.success(), "{args:?} failed");
}

fn available() -> bool {
    let root = fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let have = |p: &str| Path::new(p).exists();
    root && have("/usr/sbin/keepalived")
        && (have("/usr/bin/python3") || have("/usr/local/bin/python3"))
        && (have("/usr/sbin/ip") || have("/usr/bin/ip") || have("/sbin/ip"))
}

fn packet(advert: &Advertisement, id: u16) -> String {
    let mode = match advert.version() {
        hactl_agent::packet::Version::V2 => ChecksumMode::Plain,
        hactl_agent::packet::Version::V3 => ChecksumMode::PseudoHeader {
            source: IpAddr::V4(OURS),
            destination: IpAddr::V4(VRRP_GROUP_V4),
        },
    };
    let payload = advert.encode(mode).expect("encode");
    let mut bytes = Ipv4Header::for_advert(OURS, VRRP_GROUP_V4, id, payload.len())
        .encode()
        .to_vec();
    bytes.extend_from_slice(&payload);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn keepalived_accepts_our_adverts() {
    if !available() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: needs root, ip, python3 and keepalived");
        }
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lab = Lab {
        prefix: format!("hactlio{}", std::process::id()),
        keepalived: None,
        dir,
    };
    let ka = format!("{}-ka", lab.prefix);
    let us = format!("{}-us", lab.prefix);
    let path = lab.dir.path().to_path_buf();

    run(&["ip", "netns", "add", &ka]);
    run(&["ip", "netns", "add", &us]);
    run(&[
        "ip", "-n", &ka, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns",
        &us,
    ]);
    run(&[
        "ip",
        "-n",
        &ka,
        "addr",
        "add",
        "198.51.100.1/24",
        "dev",
        "veth0",
    ]);
    run(&[
        "ip",
        "-n",
        &us,
        "addr",
        "add",
        "198.51.100.2/24",
        "dev",
        "veth1",
    ]);
    for (ns, dev) in [(&ka, "veth0"), (&us, "veth1")] {
        run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        run(&["ip", "-n", ns, "link", "set", dev, "up"]);
    }

    let adverts = [
        Advertisement::v2(
            14,
            200,
            1,
            &AuthConfig::password("secret-password"),
            vec![vip(100)],
        ),
        Advertisement::v2(15, 200, 1, &AuthConfig::password("wrong"), vec![vip(150)]),
        Advertisement::v3(24, 200, 100, vec![vip(200), vip(201)]),
    ];
    let lines: Vec<String> = adverts
        .iter()
        .zip(1u16..)
        .map(|(a, id)| packet(a, id))
        .collect();
    fs::write(path.join("packets.hex"), lines.join("\n")).expect("write packets");
    fs::write(path.join("sender.py"), SENDER).expect("write sender");
    fs::write(path.join("keepalived.conf"), KEEPALIVED_CONF).expect("write conf");

    let log = fs::File::create(path.join("keepalived.log")).expect("log");
    let script = format!(
        "mount -t tmpfs tmpfs /run && exec keepalived -n -l -D -G -P -f {0}/keepalived.conf \
         -p {0}/ka.pid -r {0}/vrrp.pid",
        path.display()
    );
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ka,
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
        ])
        .arg(&script)
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("keepalived");
    lab.keepalived = Some(child);

    // Adverts for 6 s: well past keepalived's 3.609 s master-down interval at priority 100.
    let sent = Command::new("ip")
        .args(["netns", "exec", &us, "python3"])
        .arg(path.join("sender.py"))
        .arg(path.join("packets.hex"))
        .arg("6")
        .status()
        .expect("sender");
    assert!(sent.success(), "sender failed");

    let log = fs::read_to_string(path.join("keepalived.log")).expect("read log");
    let entered =
        |instance: &str, state: &str| log.contains(&format!("({instance}) Entering {state} STATE"));
    assert!(entered("V2_PASS", "BACKUP"), "{log}");
    assert!(
        !entered("V2_PASS", "MASTER"),
        "keepalived rejected our v2 advert:\n{log}"
    );
    assert!(
        !entered("V3", "MASTER"),
        "keepalived rejected our v3 advert:\n{log}"
    );
    assert!(
        entered("V2_BADPASS", "MASTER"),
        "the wrong password went unnoticed:\n{log}"
    );
    assert!(
        log.contains("(V2_BADPASS) received an invalid passwd"),
        "{log}"
    );
    assert!(!log.contains("checksum"), "{log}");
}
