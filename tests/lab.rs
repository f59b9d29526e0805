//! `hactl lab` on this machine: a lab booted by the product command runs the shipped site.yml
//! unchanged, both VIPs answer over HTTP from the lab's controller namespace, and the lab goes
//! away without a trace; and the refusals: not root, no systemd-nspawn, an address range held
//! by another lab, a namespace in the way. Each test records its labs in a registry of its own
//! (`HACTL_LAB_DIR`), so tests and other runs on the machine never see each other's labs.
//! Needs root (setpriv drops it for the not-root case). Prints timings with `--nocapture`.
#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::fleet::require;

const VIP1: &str = "198.51.100.100";
const VIP2: &str = "198.51.100.200";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Several names per test process: a counter keeps them apart.
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "{prefix}{:06x}",
        (std::process::id() ^ nanos ^ (n << 20)) & 0xff_ffff
    )
}

/// A private lab registry; dropping it removes the folder once nothing is mounted there.
struct Registry {
    dir: PathBuf,
}

impl Registry {
    fn new() -> Registry {
        Registry {
            dir: PathBuf::from(format!("/var/tmp/{}", unique("hactl-labtest-"))),
        }
    }

    /// `hactl ARGS` from the repository, with this registry.
    fn hactl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hactl"));
        cmd.current_dir(root())
            .args(args)
            .env("HACTL_LAB_DIR", &self.dir);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.hactl(args).output().expect("run hactl")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.hactl(&["lab", "down", "--all"]).output();
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        if !mounts.contains(&format!(" {}/", self.dir.display())) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A lab of a registry, taken down when dropped (also when the test fails).
struct Lab<'a> {
    reg: &'a Registry,
    name: String,
}

impl Drop for Lab<'_> {
    fn drop(&mut self) {
        let _ = self.reg.run(&["lab", "down", &self.name]);
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn namespaces(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&format!("{prefix}-")))
                .collect()
        })
        .unwrap_or_default()
}

/// Boots a lab; panics (after the guard has torn it down) if that fails.
fn up<'a>(reg: &'a Registry, name: &str, args: &[&str]) -> (Lab<'a>, Output, Duration) {
    let start = Instant::now();
    let mut all = vec!["lab", "up", "-n", name];
    all.extend_from_slice(args);
    let out = reg.run(&all);
    let took = start.elapsed();
    let lab = Lab {
        reg,
        name: name.to_string(),
    };
    assert!(out.status.success(), "lab up {name}: {}", text(&out));
    (lab, out, took)
}

/// The distinct pages served through `vip`, asked from the controller namespace; waits for
/// the VIP to answer at all (the agents take it up right after the apply).
fn pages(reg: &Registry, lab: &str, vip: &str) -> Vec<String> {
    let start = Instant::now();
    let mut seen = Vec::new();
    let mut answered = 0;
    while answered < 8 {
        let out = reg.run(&[
            "lab",
            "exec",
            "-n",
            lab,
            "--",
            "curl",
            "-sS",
            "--max-time",
            "2",
            &format!("http://{vip}/"),
        ]);
        if out.status.success() {
            answered += 1;
            let body = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !seen.contains(&body) {
                seen.push(body);
            }
        } else {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{vip} never answered: {}",
                text(&out)
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    seen.sort();
    seen
}

#[test]
fn a_lab_runs_the_shipped_site_yml_unchanged() {
    require();
    let reg = Registry::new();
    let name = unique("le");
    let total = Instant::now();
    let (lab, out, took_up) = up(&reg, &name, &["--names", "lb1,lb2,web1,web2"]);
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    // The inventory it prints has the shipped inventory's addresses; the last line is the
    // state folder.
    for (host, addr) in [
        ("lb1", ".11"),
        ("lb2", ".12"),
        ("web1", ".13"),
        ("web2", ".14"),
    ] {
        assert!(
            printed.contains(&format!("{host} ansible_host=198.51.100{addr} ")),
            "{printed}"
        );
    }
    assert!(printed.contains("IdentityFile "), "{printed}");
    let state = reg.dir.join(&name);
    assert_eq!(printed.lines().last(), Some(state.to_str().unwrap_or("?")));

    let listed = reg.run(&["lab", "list"]);
    assert!(
        text(&listed).contains(&format!(
            "{name}  198.51.100.0/24  lb1 .11, lb2 .12, web1 .13, web2 .14  4/4"
        )),
        "{}",
        text(&listed)
    );
    let hostname = reg.run(&["lab", "ssh", "-n", &name, "lb1", "hostname"]);
    assert_eq!(text(&hostname).trim(), "lb1");

    // The backends, then the shipped deployment, as the README's first command runs them.
    let exec = |args: &[&str]| {
        let mut all = vec!["lab", "exec", "-n", &name, "--"];
        all.extend_from_slice(args);
        reg.run(&all)
    };
    let web = exec(&["hactl", "apply", "inventory/hosts.ini", "web.yml"]);
    assert_eq!(web.status.code(), Some(0), "{}", text(&web));
    let start = Instant::now();
    let site = exec(&["hactl", "apply", "inventory/hosts.ini"]);
    let took_apply = start.elapsed();
    let recap = text(&site);
    assert_eq!(site.status.code(), Some(0), "{recap}");
    assert_eq!(recap.matches(" failed=0 ").count(), 2, "{recap}");

    // Both VIPs answer over HTTP from the controller namespace, each reaching both backends.
    for vip in [VIP1, VIP2] {
        assert_eq!(pages(&reg, &name, vip), ["web1", "web2"], "through {vip}");
    }
    let status = exec(&["hactl", "status", "inventory/hosts.ini", "-l", "nginx"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));

    // Down leaves nothing: no namespace, no state folder, the range free again.
    let down = reg.run(&["lab", "down", &name]);
    assert!(down.status.success(), "{}", text(&down));
    std::mem::forget(lab);
    assert_eq!(namespaces(&name), Vec::<String>::new());
    assert!(!state.exists());
    assert!(!reg.dir.join("net-198.51.100").exists());
    eprintln!(
        "lab up {:.1}s, apply site.yml {:.1}s, total {:.1}s",
        took_up.as_secs_f64(),
        took_apply.as_secs_f64(),
        total.elapsed().as_secs_f64()
    );
}

#[test]
fn a_second_lab_on_the_same_range_is_refused() {
    require();
    let reg = Registry::new();
    let first = unique("la");
    let second = unique("lb");
    let (_lab, _, _) = up(&reg, &first, &["--names", "a1", "--net", "203.0.113"]);

    let out = reg.run(&[
        "lab",
        "up",
        "-n",
        &second,
        "--names",
        "b1",
        "--net",
        "203.0.113",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "address range 203.0.113.0/24 is in use by lab '{first}'"
        )),
        "{}",
        text(&out)
    );
    assert_eq!(namespaces(&second), Vec::<String>::new());
    assert!(!reg.dir.join(&second).exists());

    let again = reg.run(&["lab", "up", "-n", &first, "--names", "a1"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        text(&again).contains(&format!("lab '{first}' is already up")),
        "{}",
        text(&again)
    );
    // The first lab was not touched.
    let alive = reg.run(&["lab", "ssh", "-n", &first, "a1", "hostname"]);
    assert_eq!(text(&alive).trim(), "a1");
}

#[test]
fn not_root_is_refused() {
    require();
    let reg = Registry::new();
    for args in [
        &["lab", "up"][..],
        &["lab", "down", "lab"],
        &["lab", "exec", "--", "true"],
    ] {
        let out = Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_hactl"))
            .args(args)
            .env("HACTL_LAB_DIR", &reg.dir)
            .output()
            .expect("run setpriv");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("hactl lab {} must run as root", args[1])),
            "{}",
            text(&out)
        );
    }
    assert!(!reg.dir.exists(), "a refused up made {}", reg.dir.display());
}

#[test]
fn no_systemd_nspawn_is_refused() {
    require();
    let reg = Registry::new();
    // A PATH with every program the lab needs but systemd-nspawn.
    let bin = tempfile::tempdir().expect("tempdir");
    for tool in ["sshd", "ssh", "ssh-keygen", "ip", "bash"] {
        let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.is_file())
            .expect("tool installed");
        std::os::unix::fs::symlink(found, bin.path().join(tool)).expect("symlink");
    }
    let out = reg
        .hactl(&["lab", "up", "-n", &unique("ln")])
        .env("PATH", bin.path())
        .output()
        .expect("run hactl");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("systemd-nspawn not found in PATH"),
        "{}",
        text(&out)
    );
}

/// A namespace of its own the test made, deleted when dropped.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

#[test]
fn a_namespace_in_the_way_is_refused_and_left_alone() {
    require();
    let reg = Registry::new();
    let name = unique("lw");
    // Something else's namespace with the name the lab's controller would get, holding an
    // address of the lab's range (all inside that namespace, nothing in the machine's own).
    let ns = Netns(format!("{name}-ctl"));
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().expect("run ip");
        assert!(out.status.success(), "ip {args:?}: {}", text(&out));
    };
    ip(&["netns", "add", &ns.0]);
    ip(&[
        "-n", &ns.0, "link", "add", "d0", "type", "veth", "peer", "name", "d1",
    ]);
    ip(&["-n", &ns.0, "addr", "add", "198.51.100.2/24", "dev", "d0"]);
    ip(&["-n", &ns.0, "link", "set", "d0", "up"]);

    let out = reg.run(&["lab", "up", "-n", &name]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!("network namespace {} already exists", ns.0))
            && said.contains("198.51.100.2/24 on d0"),
        "{said}"
    );
    // Left as it was; the lab made nothing and holds no range.
    assert_eq!(namespaces(&name), vec![ns.0.clone()]);
    let addrs = Command::new("ip")
        .args(["-n", &ns.0, "-o", "-4", "addr", "show", "dev", "d0"])
        .output()
        .expect("run ip");
    assert!(text(&addrs).contains("198.51.100.2/24"), "{}", text(&addrs));
    assert!(!reg.dir.join(&name).exists());
    assert!(!reg.dir.join("net-198.51.100").exists());
}
