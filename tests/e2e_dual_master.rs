//! The user's whole job on a real fleet (issue 6): the SHIPPED inventory, site.yml, role and
//! templates build the dual-master pair with hactl-agent on two load balancers in front of two
//! web servers, and the pair behaves as the seed's article says: HTTP through both VIPs, the
//! maintenance file and a stopped nginx move a VIP and preemption brings it back, a killed
//! agent's VIP moves and is never held twice, `hactl status` names the right master, a
//! keepalived.conf change restarts only the VRRP engine, check mode changes nothing, and the
//! VIP guard drops (not resets) a stray packet of a connection the VIP's holder never saw.
//! Needs root. Prints the measured failover times (run with `--nocapture` to see them).
#![allow(clippy::print_stderr)]

mod common;

use std::time::Duration;

use common::fleet::Fleet;
use common::pair::{VIP1, VIP2, assert_status, hactl, holders, text, wait_holder};

/// Pages served through `vip`: the distinct bodies of several requests.
fn pages(fleet: &Fleet, vip: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..6 {
        let out = fleet
            .ctl("curl")
            .args(["-sS", "--max-time", "3", &format!("http://{vip}/")])
            .output()
            .expect("run curl");
        let body = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(out.status.success(), "curl {vip}: {body}");
        if !seen.contains(&body) {
            seen.push(body);
        }
    }
    seen.sort();
    seen
}

/// Sends a bare ACK and a FIN (of a flow nobody opened) from the controller to port 80 of
/// `vip` with a raw socket, and prints how many RSTs came back within 1.5 s.
const STRAY: &str = r#"
import random, socket, struct, sys, time
vip = sys.argv[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect((vip, 80))
src = u.getsockname()[0]
sport = random.randint(40000, 60000)
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF
def seg(flags):
    h = struct.pack("!HHIIBBHHH", sport, 80, 12345, 67890, 5 << 4, flags, 64240, 0, 0)
    ph = struct.pack("!4s4sBBH", socket.inet_aton(src), socket.inet_aton(vip), 0, 6, len(h))
    return h[:16] + struct.pack("!H", csum(ph + h)) + h[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.settimeout(0.2)
s.sendto(seg(0x10), (vip, 0))
s.sendto(seg(0x11), (vip, 0))
end, rst = time.time() + 1.5, 0
while time.time() < end:
    try:
        d = s.recv(200)
    except socket.timeout:
        continue
    i = (d[0] & 15) * 4
    if socket.inet_ntoa(d[12:16]) == vip and struct.unpack("!H", d[i + 2:i + 4])[0] == sport and d[i + 13] & 4:
        rst += 1
print(rst)
"#;

/// Opens a connection to port 80 of `vip` (served by its holder), then points the controller's
/// ARP entry for `vip` at the MAC address given (as a gratuitous ARP of a move would) and only
/// then sends the request: prints the status line of the answer, or what went wrong.
const SPLIT: &str = r#"
import socket, subprocess, sys
vip, mac = sys.argv[1], sys.argv[2]
s = socket.create_connection((vip, 80), timeout=3)
subprocess.run(["ip", "neigh", "replace", vip, "lladdr", mac, "dev", "eth0", "nud", "permanent"], check=True)
try:
    s.sendall(b"GET / HTTP/1.1\r\nHost: " + vip.encode() + b"\r\nConnection: close\r\n\r\n")
    body = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        body += d
    print(body.split(b"\r\n")[0].decode())
except Exception as e:
    print("failed:", e)
finally:
    subprocess.run(["ip", "neigh", "del", vip, "dev", "eth0"])
"#;

/// RSTs the holder of `vip` sends for a stray ACK and FIN (see `STRAY`).
fn stray_resets(fleet: &Fleet, vip: &str) -> String {
    let out = fleet
        .ctl("python3")
        .args(["-c", STRAY, vip])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Backup at priority 90, advert_int 1: master down after 3 x 1 s + (256 - 90) / 256 s.
const RFC_BOUND: Duration = Duration::from_millis(3649);
/// Room for the 100 ms polling and ssh round trips of the check itself.
const SLACK: Duration = Duration::from_millis(900);
/// A track script notices after `interval 1` (chk_down) or `interval 1, fall 2` (chk_nginx).
const CHK_DOWN: Duration = Duration::from_secs(1);
const CHK_NGINX: Duration = Duration::from_secs(2);

#[test]
fn the_dual_master_pair_end_to_end() {
    let fleet = Fleet::up(&["lb1", "lb2", "web1", "web2"]);

    // The web servers serve their own names (set up ad hoc, as a user's backends already are).
    let web = hactl(
        &fleet,
        &[
            "run",
            "web",
            "-i",
            "inventory/hosts.ini",
            "--no-stream",
            "hostname > /var/www/html/index.html && systemctl start nginx && echo up",
        ],
    );
    assert!(web.status.success(), "{}", text(&web));

    // 1. One apply builds everything; a second changes nothing.
    let first = hactl(&fleet, &["apply", "inventory/hosts.ini"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    for host in ["lb1", "lb2"] {
        let version = fleet.ssh(host, "/usr/local/bin/hactl-agent --version");
        assert_eq!(
            String::from_utf8_lossy(&version.stdout).trim(),
            format!("hactl-agent {}", env!("CARGO_PKG_VERSION"))
        );
        // The restart handler ran last; the unit must be active (systemd restarts it once if the
        // restart itself failed).
        let active = fleet.ssh(
            host,
            "for i in 1 2 3 4 5 6 7 8 9 10; do systemctl is-active -q hactl-agent && exit 0; sleep 0.5; done; \
             systemctl status --no-pager hactl-agent; journalctl -u hactl-agent --no-pager | tail -40; false",
        );
        assert!(active.status.success(), "{host}: {}", text(&active));
    }
    let second = hactl(&fleet, &["apply", "inventory/hosts.ini"]);
    let recap = text(&second);
    assert_eq!(second.status.code(), Some(0), "{recap}");
    assert_eq!(recap.matches(" changed=0 ").count(), 2, "{recap}");
    wait_holder(&fleet, VIP1, "lb1", Duration::from_secs(10));
    wait_holder(&fleet, VIP2, "lb2", Duration::from_secs(10));
    assert_status(&fleet, "lb1", "lb2");

    // 2. HTTP through each VIP reaches both backends.
    for vip in [VIP1, VIP2] {
        assert_eq!(pages(&fleet, vip), vec!["web1", "web2"], "through {vip}");
    }

    // 2b. The VIP guard: both load balancers keep both VIPs on lo (status still sees one
    // holder each, above), and the holder drops, not resets, a stray ACK or FIN of a flow it
    // never saw (a client's packet of a connection the other load balancer still serves).
    for host in ["lb1", "lb2"] {
        let lo = text(&fleet.ssh(host, "ip -o -4 addr show dev lo"));
        assert!(
            lo.contains(&format!(" {VIP1}/32 ")) && lo.contains(&format!(" {VIP2}/32 ")),
            "{host}: {lo}"
        );
    }
    assert_eq!(stray_resets(&fleet, VIP1), "0", "the guard drops them");
    // Without the table, the same packets are reset: the check can see a reset.
    let gone = fleet.ssh("lb1", "nft delete table ip hactl_vip_guard");
    assert!(gone.status.success(), "{}", text(&gone));
    assert_eq!(stray_resets(&fleet, VIP1), "2", "no guard, two resets");
    // --check (what the role's task runs in check mode) says what it would set and sets
    // nothing: the table stays gone.
    let would = text(&fleet.ssh("lb1", "/etc/keepalived/vip-guard.sh --check"));
    assert_eq!(would, "would change: nftables table ip hactl_vip_guard\n");
    let none = fleet.ssh("lb1", "nft list table ip hactl_vip_guard");
    assert!(!none.status.success(), "--check loaded the table");
    // The guard script puts the table back (and says so); the resets are gone again.
    let again = text(&fleet.ssh("lb1", "/etc/keepalived/vip-guard.sh"));
    assert_eq!(again, "changed: nftables table ip hactl_vip_guard\n");
    assert_eq!(stray_resets(&fleet, VIP1), "0", "the guard is back");
    let settled = text(&fleet.ssh("lb1", "/etc/keepalived/vip-guard.sh --check"));
    assert_eq!(settled, "", "nothing left to set");
    // A connection lb2 accepted whose request then reaches lb1 (the race of a move: the SYN-ACK
    // an instant before the gratuitous ARP) is served: lb1 passes the request on to lb2.
    let mac = text(&fleet.ssh("lb1", "cat /sys/class/net/eth0/address"));
    let split = fleet
        .ctl("python3")
        .args(["-c", SPLIT, VIP2, mac.trim()])
        .output()
        .expect("run python3");
    assert_eq!(
        String::from_utf8_lossy(&split.stdout).trim(),
        "HTTP/1.1 200 OK",
        "{}",
        String::from_utf8_lossy(&split.stderr)
    );

    // 3. The maintenance file moves VIP 1 within the RFC bound (after the script notices);
    // removing it moves it back.
    fleet.ssh("lb1", "touch /etc/keepalived/down");
    let took = wait_holder(&fleet, VIP1, "lb2", CHK_DOWN + RFC_BOUND + SLACK);
    eprintln!("down file: VIP 1 moved in {took:?}");
    assert_status(&fleet, "lb2", "lb2");
    fleet.ssh("lb1", "rm /etc/keepalived/down");
    wait_holder(&fleet, VIP1, "lb1", Duration::from_secs(5));
    assert_status(&fleet, "lb1", "lb2");

    // 4. Stopping nginx on lb2 moves VIP 2; starting it brings VIP 2 back.
    fleet.ssh("lb2", "systemctl stop nginx");
    let took = wait_holder(&fleet, VIP2, "lb1", CHK_NGINX + RFC_BOUND + SLACK);
    eprintln!("nginx stopped: VIP 2 moved in {took:?}");
    assert_status(&fleet, "lb1", "lb1");
    assert_eq!(pages(&fleet, VIP2), vec!["web1", "web2"], "VIP 2 via lb1");
    fleet.ssh("lb2", "systemctl start nginx");
    wait_holder(&fleet, VIP2, "lb2", Duration::from_secs(6));
    assert_status(&fleet, "lb1", "lb2");

    // 5. kill -9 of the agent on lb1 moves VIP 1; when systemd brings it back, no VIP is
    // ever held twice once it has settled.
    fleet.ssh("lb1", "systemctl kill -s KILL hactl-agent");
    let took = wait_holder(
        &fleet,
        VIP1,
        "lb2",
        RFC_BOUND + SLACK + Duration::from_secs(2),
    );
    eprintln!("agent killed: VIP 1 moved in {took:?}");
    wait_holder(&fleet, VIP1, "lb1", Duration::from_secs(10));
    for _ in 0..10 {
        assert_eq!(holders(&fleet, VIP1), ["lb1"]);
        assert_eq!(holders(&fleet, VIP2), ["lb2"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_status(&fleet, "lb1", "lb2");

    // 7. A keepalived.conf variable changed: the VRRP engine restarts, nginx does not.
    let pids = |host: &str| {
        let out = fleet.ssh(
            host,
            "systemctl show -p MainPID --value hactl-agent; systemctl show -p MainPID --value nginx",
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before: Vec<String> = ["lb1", "lb2"].iter().map(|h| pids(h)).collect();
    // A new multicast group cannot be rolled (between the two hosts neither would hear the
    // other): the shipped site.yml's rolling refuses it before touching anything, saying how
    // to apply it; then it is applied to both at once.
    let refused = hactl(
        &fleet,
        &[
            "apply",
            "inventory/hosts.ini",
            "-e",
            "vrrp_mcast_group=224.0.100.20",
        ],
    );
    let out = text(&refused);
    assert_eq!(refused.status.code(), Some(2), "{out}");
    assert!(
        out.contains("ROLLING REFUSED")
            && out.contains("multicast group 224.0.100.19 -> multicast group 224.0.100.20")
            && out.contains("-e hactl_rolling=false")
            && !out.contains("TASK ["),
        "{out}"
    );
    let changed = hactl(
        &fleet,
        &[
            "apply",
            "inventory/hosts.ini",
            "-e",
            "vrrp_mcast_group=224.0.100.20",
            "-e",
            "hactl_rolling=false",
        ],
    );
    let out = text(&changed);
    assert_eq!(changed.status.code(), Some(0), "{out}");
    assert!(
        out.contains("RUNNING HANDLER [nginx : restart keepalived]"),
        "{out}"
    );
    assert!(
        !out.contains("RUNNING HANDLER [nginx : restart nginx]"),
        "{out}"
    );
    for (host, before) in ["lb1", "lb2"].iter().zip(&before) {
        let after = pids(host);
        let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
        assert_ne!(b[0], a[0], "{host}: hactl-agent was not restarted");
        assert_eq!(b[1], a[1], "{host}: nginx was restarted");
    }
    wait_holder(&fleet, VIP1, "lb1", Duration::from_secs(10));
    wait_holder(&fleet, VIP2, "lb2", Duration::from_secs(10));
    assert_status(&fleet, "lb1", "lb2");

    // 8. Check mode with a diff after a change: the diff shows (the secret masked), no file
    // on a host changes.
    let sums = |host: &str| {
        fleet
            .ssh(
                host,
                "sha256sum /etc/keepalived/keepalived.conf /etc/nginx/nginx.conf",
            )
            .stdout
    };
    let before: Vec<Vec<u8>> = ["lb1", "lb2"].iter().map(|h| sums(h)).collect();
    let check = hactl(
        &fleet,
        &[
            "apply",
            "inventory/hosts.ini",
            "--check",
            "--diff",
            "-e",
            "vrrp_auth_pass1=newpass1",
        ],
    );
    let out = text(&check);
    assert_eq!(check.status.code(), Some(0), "{out}");
    assert!(out.contains("/etc/keepalived/keepalived.conf"), "{out}");
    assert!(out.contains("auth_pass ******** (hidden"), "{out}");
    assert!(!out.contains("newpass1"), "{out}");
    let after: Vec<Vec<u8>> = ["lb1", "lb2"].iter().map(|h| sums(h)).collect();
    assert_eq!(before, after, "check mode changed a file");

    // 9. An ad hoc command prints every host's output.
    let date = hactl(
        &fleet,
        &[
            "run",
            "all",
            "-i",
            "inventory/hosts.ini",
            "--no-stream",
            "date +%Y",
        ],
    );
    let out = text(&date);
    assert!(date.status.success(), "{out}");
    for host in ["lb1", "lb2", "web1", "web2"] {
        assert!(out.contains(&format!("{host} | CHANGED | rc=0")), "{out}");
    }
}
