//! The shipped deployment (site.yml, roles/, templates/, inventory/) renders for both load
//! balancers, and what it renders is a keepalived.conf that hactl-agent's parser and the real
//! keepalived 2.2.7 (`keepalived -t`) both accept, with the seed's dual-master shape, and a VIP
//! guard that `nft -c` and shellcheck accept.

use std::path::Path;
use std::process::Command;

use assert_cmd::Command as Cmd;

/// A network namespace with an `eth0` (one end of a veth pair; this kernel has no dummy
/// devices), deleted on drop (also when the test fails).
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("hsr{}", std::process::id());
        let ok = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        assert!(ok(&["netns", "add", &name]), "ip netns add (needs root)");
        let ns = Netns(name.clone());
        assert!(ok(&[
            "-n", &name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"
        ]));
        assert!(ok(&["-n", &name, "link", "set", "eth0", "up"]));
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn shipped_site_renders_configs_keepalived_accepts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("tmp");
    Cmd::cargo_bin("hactl")
        .expect("binary")
        .current_dir(root)
        .args([
            "render",
            "-i",
            "inventory/hosts.ini",
            "site.yml",
            "--facts",
            "tests/fixtures/facts",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let ns = Netns::new();
    let mut masters = Vec::new();
    for host in ["lb1", "lb2"] {
        let conf = out.path().join(host).join("etc/keepalived/keepalived.conf");
        let parsed = hactl_agent::config::parse_file(&conf)
            .unwrap_or_else(|e| panic!("{host}: hactl-agent rejects the rendered config: {e:?}"));
        let instances = &parsed.config.instances;
        assert_eq!(instances.len(), 2, "{host}: two VRRP instances");
        let keepalived = Command::new("ip")
            .args(["netns", "exec", &ns.0, "keepalived", "-t", "-f"])
            .arg(&conf)
            .output()
            .expect("run keepalived -t");
        assert!(
            keepalived.status.success(),
            "{host}: keepalived -t rejects the rendered config:\n{}",
            String::from_utf8_lossy(&keepalived.stderr)
        );
        // The VIP guard's table is one nft accepts (checked, not loaded, in the test's own
        // namespace), for both VIPs; its script is clean POSIX sh.
        let guard = out.path().join(host).join("etc/keepalived/vip-guard.nft");
        let nft = Command::new("ip")
            .args(["netns", "exec", &ns.0, "nft", "-c", "-f"])
            .arg(&guard)
            .output()
            .expect("run nft -c");
        assert!(
            nft.status.success(),
            "{host}: nft -c rejects vip-guard.nft:\n{}",
            String::from_utf8_lossy(&nft.stderr)
        );
        let table = std::fs::read_to_string(&guard).expect("read");
        // Both VIPs; a stray packet is passed on to the other load balancer, then dropped.
        let peer = if host == "lb1" {
            "198.51.100.12"
        } else {
            "198.51.100.11"
        };
        assert!(
            table.contains("elements = { 198.51.100.100, 198.51.100.200 }")
                && table.contains(&format!("dup to {peer} device \"eth0\"\n"))
                && table.contains("ct state { new, invalid } counter drop\n"),
            "{table}"
        );
        let script = out.path().join(host).join("etc/keepalived/vip-guard.sh");
        let sc = Command::new("shellcheck")
            .args(["-s", "sh", "-S", "style"])
            .arg(&script)
            .output()
            .expect("run shellcheck (CI installs it)");
        assert!(
            sc.status.success(),
            "{host}: {}",
            String::from_utf8_lossy(&sc.stdout)
        );
        let text = std::fs::read_to_string(&conf).expect("read");
        assert!(text.contains(&format!("router_id {host}")));
        let master_first = text.find("state MASTER") < text.find("state BACKUP");
        masters.push((host, master_first));
    }
    // Dual master: lb1 is MASTER of the first instance (VRID 14), lb2 of the second (VRID 24).
    assert_eq!(masters, [("lb1", true), ("lb2", false)]);
}

/// Render and lint install nothing, so the role's agent check (architecture, an agent found)
/// stays out of their way: the shipped site renders and lints with an agent that matches no
/// host (HACTL_AGENT naming a file that is no ELF program) and facts without
/// `ansible_architecture`.
#[test]
fn render_and_lint_do_not_need_an_agent_for_the_hosts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("tmp");
    let fake = out.path().join("not-an-agent");
    std::fs::write(&fake, "#!/bin/sh\n").expect("write");
    Cmd::cargo_bin("hactl")
        .expect("binary")
        .current_dir(root)
        .env("HACTL_AGENT", &fake)
        .args(["render", "-i", "inventory/hosts.ini", "site.yml"])
        .args(["--facts", "tests/fixtures/facts", "--out"])
        .arg(out.path().join("rendered"))
        .assert()
        .success();
    assert!(
        out.path()
            .join("rendered/lb1/etc/keepalived/keepalived.conf")
            .is_file()
    );
    Cmd::cargo_bin("hactl")
        .expect("binary")
        .current_dir(root)
        .env("HACTL_AGENT", &fake)
        .args(["lint", "inventory/hosts.ini", "site.yml"])
        .assert()
        .success();
}
