//! Local labs: real hosts booted on this machine for `hactl lab` (in the spirit of kind and
//! Molecule). A lab is the test fleet of `tests/fleet`, run by the very same script, which is
//! embedded in the binary ([`FLEET_SCRIPT`]): the integration tests boot their fleets with it
//! too, so the product command and the tests cannot drift apart.
//!
//! Each host is a systemd-nspawn container over an overlay of the machine's own root, in a
//! network namespace of its own (`LAB-HOST`), joined by a bridge that lives in a namespace of its
//! own (`LAB-br`) to a controller namespace (`LAB-ctl`, address `.2`). Host `i` gets `.(10+i)` of
//! the lab's /24, so the default hosts `lb1 lb2 web1 web2` get `.11`-`.14` of 198.51.100.0/24:
//! the addresses of the shipped `inventory/hosts.ini`. Nothing is added to the machine's own
//! namespace; the controller namespace has no route out, so whatever runs there
//! (`hactl lab exec`) reaches the lab's hosts and nothing else.
//!
//! Labs are recorded in [`registry()`] (`HACTL_LAB_DIR`, else `/var/tmp/hactl-lab`): one state
//! folder per lab (made by the script: key, known_hosts, ssh_config, inventory.ini, the hosts'
//! overlays) and one claim file per address range (`net-A.B.C`, holding the lab's name). A range
//! belongs to one lab at a time: the same address would otherwise name a host of two labs, in
//! the shipped inventory, in ssh's known_hosts and control sockets, and in the user's head.

use std::io::{BufRead as _, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// The fleet script of `tests/fleet`, run with bash.
pub const FLEET_SCRIPT: &str = include_str!("../../tests/fleet");

/// The hosts of a lab when none are named: the shipped inventory's, in its order, so they get
/// its addresses (lb1 .11, lb2 .12, web1 .13, web2 .14).
pub const DEFAULT_HOSTS: [&str; 4] = ["lb1", "lb2", "web1", "web2"];

/// The lab name when none is given.
pub const DEFAULT_NAME: &str = "lab";

/// The address ranges a lab may use: the documentation ranges TEST-NET-2 and TEST-NET-3
/// (RFC 5737). They are never routed, so an address of the lab typed by mistake outside the
/// lab's namespaces reaches no real host.
pub const RANGES: [&str; 2] = ["198.51.100", "203.0.113"];

/// Host `i` (from 1) takes `.(10+i)`; the shipped inventory's VIPs are `.100` and `.200`.
pub const MAX_HOSTS: usize = 89;

/// Programs the lab needs on this machine.
const TOOLS: [&str; 6] = ["systemd-nspawn", "sshd", "ssh", "ssh-keygen", "ip", "bash"];

/// A claim older than this whose lab has no state folder is stale: left by an `up` that failed
/// or was interrupted (the script removes the folder as it tears down). The script makes the
/// folder first thing, within milliseconds of the claim.
const STALE_CLAIM: Duration = Duration::from_secs(5);

/// Why a lab command cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(
        "hactl lab {0} must run as root: it makes network namespaces, overlay mounts and \
         systemd-nspawn containers (try: sudo hactl lab {0} ...)"
    )]
    NotRoot(&'static str),
    #[error(
        "{0} not found in PATH: hactl lab boots hosts with systemd-nspawn (Debian: apt-get \
         install systemd-container openssh-server openssh-client iproute2)"
    )]
    MissingTool(&'static str),
    #[error("lab name '{0}': use 2 to 8 lowercase letters and digits, starting with a letter")]
    BadName(String),
    #[error("{0}")]
    BadHosts(String),
    #[error(
        "address range '{0}': a lab uses 198.51.100 or 203.0.113 (documentation ranges, never \
         routed, so a lab address used by mistake outside the lab reaches no real host)"
    )]
    BadNet(String),
    #[error(
        "address range {net}.0/24 is in use by lab '{lab}' ({state}): one lab per range, or an \
         address would name two hosts. Take it down first (hactl lab down {lab}) or use the \
         other range (--net {other})"
    )]
    RangeInUse {
        net: String,
        lab: String,
        state: String,
        other: &'static str,
    },
    #[error("lab '{name}' is already up ({state}); take it down with: hactl lab down {name}")]
    AlreadyUp { name: String, state: String },
    #[error(
        "network namespace {ns} already exists{details}; lab '{name}' would create it. It is \
         left as it is: remove it if it is a leftover (ip netns del {ns}), or name the lab \
         otherwise (--name)"
    )]
    NamespaceExists {
        ns: String,
        name: String,
        details: String,
    },
    #[error("no lab named '{name}' (labs up: {known})")]
    NoSuchLab { name: String, known: String },
    #[error("no lab is up (start one with: hactl lab up)")]
    NoLab,
    #[error("several labs are up ({0}): say which with --name")]
    SeveralLabs(String),
    #[error("lab '{lab}' has no host '{host}' (its hosts: {hosts})")]
    NoSuchHost {
        lab: String,
        host: String,
        hosts: String,
    },
    #[error("{what} failed{}", if .output.is_empty() { String::new() } else { format!(":\n{}", .output) })]
    Script { what: String, output: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
    let what = what.into();
    move |source| LabError::Io { what, source }
}

/// Where labs are recorded: `HACTL_LAB_DIR`, else `/var/tmp/hactl-lab`.
pub fn registry() -> PathBuf {
    match std::env::var_os("HACTL_LAB_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from("/var/tmp/hactl-lab"),
    }
}

/// What `hactl lab up` was asked for.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub hosts: Vec<String>,
    /// The first three numbers of the lab's /24.
    pub net: String,
    /// Leave keepalived's unit enabled (for `vrrp_engine=keepalived`).
    pub keepalived: bool,
}

impl Spec {
    /// Checks names, hosts and range; `count` (h1..hN) or `names`, else [`DEFAULT_HOSTS`].
    pub fn new(
        name: &str,
        count: Option<usize>,
        names: Option<&str>,
        net: &str,
        keepalived: bool,
    ) -> Result<Spec, LabError> {
        check_name(name)?;
        let hosts: Vec<String> = match (count, names) {
            (Some(_), Some(_)) => {
                return Err(LabError::BadHosts(
                    "give a number of hosts or --names, not both".into(),
                ));
            }
            (Some(0), None) => return Err(LabError::BadHosts("a lab needs a host".into())),
            (Some(n), None) => (1..=n).map(|i| format!("h{i}")).collect(),
            (None, Some(list)) => list.split(',').map(|h| h.trim().to_string()).collect(),
            (None, None) => DEFAULT_HOSTS.iter().map(|h| h.to_string()).collect(),
        };
        if hosts.len() > MAX_HOSTS {
            return Err(LabError::BadHosts(format!(
                "{} hosts: a lab has at most {MAX_HOSTS} (host i takes .(10+i), and .100 is the \
                 shipped inventory's first VIP)",
                hosts.len()
            )));
        }
        for (i, h) in hosts.iter().enumerate() {
            check_host(h)?;
            if hosts[..i].contains(h) {
                return Err(LabError::BadHosts(format!("host '{h}' is named twice")));
            }
        }
        let net = net.trim().trim_end_matches(".0/24").to_string();
        if !RANGES.contains(&net.as_str()) {
            return Err(LabError::BadNet(net));
        }
        Ok(Spec {
            name: name.to_string(),
            hosts,
            net,
            keepalived,
        })
    }

    /// The namespaces `up` will create.
    pub fn namespaces(&self) -> Vec<String> {
        ["br", "ctl"]
            .iter()
            .map(|s| s.to_string())
            .chain(self.hosts.iter().cloned())
            .map(|s| format!("{}-{s}", self.name))
            .collect()
    }

    /// The address of host `i` (from 0).
    pub fn addr(&self, i: usize) -> String {
        format!("{}.{}", self.net, 11 + i)
    }
}

fn check_name(name: &str) -> Result<(), LabError> {
    let ok = (2..=8).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(LabError::BadName(name.to_string()))
    }
}

fn check_host(h: &str) -> Result<(), LabError> {
    let ok = (1..=20).contains(&h.len())
        && h.starts_with(|c: char| c.is_ascii_lowercase())
        && h.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(LabError::BadHosts(format!(
            "host name '{h}': use up to 20 lowercase letters, digits and '-', starting with a letter"
        )));
    }
    if h == "ctl" || h == "br" {
        return Err(LabError::BadHosts(format!(
            "host name '{h}' is the lab's own (its {} namespace)",
            if h == "ctl" { "controller" } else { "bridge" }
        )));
    }
    Ok(())
}

/// Refuses unless running as root.
pub fn require_root(command: &'static str) -> Result<(), LabError> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err(LabError::NotRoot(command))
    }
}

/// Refuses unless every program the lab runs is found in PATH (the script runs with it).
pub fn require_tools() -> Result<(), LabError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in TOOLS {
        if !std::env::split_paths(&path).any(|d| d.join(tool).is_file()) {
            return Err(LabError::MissingTool(tool));
        }
    }
    Ok(())
}

/// A lab that is up (or half up, or half down): what its state folder says.
#[derive(Debug, Clone)]
pub struct Lab {
    pub name: String,
    pub state: PathBuf,
    pub net: String,
    /// Each host with its address.
    pub hosts: Vec<(String, String)>,
}

impl Lab {
    /// Reads the lab recorded in `state`.
    pub fn read(state: &Path) -> Lab {
        let name = state
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let read = |f: &str| {
            std::fs::read_to_string(state.join(f))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let hosts = read("hosts")
            .lines()
            .filter(|l| !l.is_empty())
            .map(|h| (h.to_string(), read(&format!("addr-{h}"))))
            .collect();
        Lab {
            net: read("net"),
            name,
            state: state.to_path_buf(),
            hosts,
        }
    }

    /// The controller namespace, where everything that talks to the lab runs.
    pub fn ctl_namespace(&self) -> String {
        format!("{}-ctl", self.name)
    }

    /// How many of its containers are running.
    pub fn running(&self) -> usize {
        self.hosts
            .iter()
            .filter(|(h, _)| {
                std::fs::read_to_string(self.state.join(h).join("nspawn.pid"))
                    .ok()
                    .is_some_and(|pid| Path::new("/proc").join(pid.trim()).exists())
            })
            .count()
    }

    /// The address of `host`, or an error naming the hosts there are.
    pub fn addr(&self, host: &str) -> Result<&str, LabError> {
        self.hosts
            .iter()
            .find(|(h, a)| h == host && !a.is_empty())
            .map(|(_, a)| a.as_str())
            .ok_or_else(|| LabError::NoSuchHost {
                lab: self.name.clone(),
                host: host.to_string(),
                hosts: self
                    .hosts
                    .iter()
                    .map(|(h, _)| h.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// A command that runs `program` in the lab's controller namespace, with what hactl (and
    /// ansible) need to reach the hosts: the lab's ssh_config (key, user, its own known_hosts,
    /// and nothing from ~/.ssh/config), control sockets in the lab's state folder, and the
    /// running hactl's folder first in PATH.
    pub fn ctl_command(&self, program: &std::ffi::OsStr) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ctl_namespace()])
            .arg(program);
        let ssh_config = self.state.join("ssh_config");
        cmd.env(
            "ANSIBLE_SSH_COMMON_ARGS",
            format!("-F {}", ssh_config.display()),
        )
        .env("HACTL_CONTROL_PATH_DIR", self.state.join("cp"))
        .env(
            "ANSIBLE_SSH_CONTROL_PATH_DIR",
            self.state.join("ansible-cp"),
        )
        .env("HACTL_LAB", &self.name)
        .env("HACTL_LAB_STATE", &self.state);
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let dirs = std::iter::once(dir).chain(std::env::split_paths(&path));
            if let Ok(joined) = std::env::join_paths(dirs) {
                cmd.env("PATH", joined);
            }
        }
        cmd
    }
}

/// The labs recorded in the registry, by name.
pub fn list() -> Vec<Lab> {
    let Ok(entries) = std::fs::read_dir(registry()) else {
        return Vec::new();
    };
    let mut labs: Vec<Lab> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| Lab::read(&e.path()))
        .collect();
    labs.sort_by(|a, b| a.name.cmp(&b.name));
    labs
}

/// The lab named `name`, else the only lab up.
pub fn find(name: Option<&str>) -> Result<Lab, LabError> {
    let labs = list();
    let names = || {
        labs.iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => labs
            .iter()
            .find(|l| l.name == n)
            .cloned()
            .ok_or_else(|| LabError::NoSuchLab {
                name: n.to_string(),
                known: if labs.is_empty() {
                    "none".into()
                } else {
                    names()
                },
            }),
        None => match labs.as_slice() {
            [] => Err(LabError::NoLab),
            [one] => Ok(one.clone()),
            _ => Err(LabError::SeveralLabs(names())),
        },
    }
}

fn claim_path(net: &str) -> PathBuf {
    registry().join(format!("net-{net}"))
}

/// Takes the spec's address range for its lab, or says which lab has it. Atomic: of two `up`s
/// at once, one gets the range.
fn claim(spec: &Spec) -> Result<(), LabError> {
    let dir = registry();
    std::fs::create_dir_all(&dir).map_err(io(format!("cannot make {}", dir.display())))?;
    let path = claim_path(&spec.net);
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write as _;
                return f
                    .write_all(format!("{}\n", spec.name).as_bytes())
                    .map_err(io(format!("cannot write {}", path.display())));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let owner = std::fs::read_to_string(&path)
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default();
                let state = dir.join(&owner);
                let age = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .unwrap_or_default();
                if owner.is_empty() || (!state.exists() && age > STALE_CLAIM) {
                    // Left by an `up` that failed or was interrupted: nothing of that lab
                    // exists, the range is free.
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
                return Err(LabError::RangeInUse {
                    net: spec.net.clone(),
                    lab: owner,
                    state: state.display().to_string(),
                    other: if spec.net == RANGES[0] {
                        RANGES[1]
                    } else {
                        RANGES[0]
                    },
                });
            }
            Err(e) => return Err(io(format!("cannot write {}", path.display()))(e)),
        }
    }
    Err(LabError::Io {
        what: format!("cannot claim {}", path.display()),
        source: std::io::Error::other("the claim came back at once"),
    })
}

/// Gives up the ranges claimed for lab `name`.
fn release(name: &str) {
    let Ok(entries) = std::fs::read_dir(registry()) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let is_claim = p
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with("net-"));
        if is_claim
            && std::fs::read_to_string(&p).is_ok_and(|owner| owner.trim() == name)
            && p.is_file()
        {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// What is in an existing namespace on the lab's range, for the refusal: its IPv4 addresses
/// and routes (read with `ip -n`, which enters that namespace only).
fn namespace_details(ns: &str) -> String {
    let run = |args: &[&str]| {
        Command::new("ip")
            .args(["-n", ns])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    let addrs: Vec<String> = run(&["-o", "-4", "addr", "show"])
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let at = w.iter().position(|x| *x == "inet")?;
            Some(format!("{} on {}", w.get(at + 1)?, w.get(1)?))
        })
        .filter(|a| !a.starts_with("127."))
        .collect();
    let routes: Vec<String> = run(&["-4", "route", "show"])
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let mut parts = Vec::new();
    if !addrs.is_empty() {
        parts.push(format!("addresses {}", addrs.join(", ")));
    }
    if !routes.is_empty() {
        parts.push(format!("routes '{}'", routes.join("', '")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// Everything `up` checks before it makes anything: root, the programs, a free name, free
/// namespaces and a free address range. Nothing outside the registry is changed (the range is
/// claimed there on success); the machine's own interfaces and routes are never even read.
pub fn preflight(spec: &Spec) -> Result<(), LabError> {
    require_root("up")?;
    require_tools()?;
    let state = registry().join(&spec.name);
    if state.exists() {
        return Err(LabError::AlreadyUp {
            name: spec.name.clone(),
            state: state.display().to_string(),
        });
    }
    for ns in spec.namespaces() {
        if Path::new("/run/netns").join(&ns).exists() {
            return Err(LabError::NamespaceExists {
                details: namespace_details(&ns),
                ns,
                name: spec.name.clone(),
            });
        }
    }
    claim(spec)
}

/// A step of `up`, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The host's container was started.
    Boot(String),
    /// The host answers ssh and has finished booting.
    Up(String),
    /// A line the script printed (a note, or why it failed).
    Line(String),
}

/// Boots the lab of `spec` after [`preflight`]; calls `on_event` as hosts boot and come up.
/// On failure the script has torn down what it made, and the range is given back.
pub fn up(spec: &Spec, mut on_event: impl FnMut(Event)) -> Result<Lab, LabError> {
    preflight(spec)?;
    let result = run_up(spec, &mut on_event);
    if result.is_err() {
        release(&spec.name);
    }
    result
}

fn script(args: &[&str]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(FLEET_SCRIPT)
        .arg("hactl-lab")
        .args(args)
        .env("HACTL_FLEET_DIR", registry());
    cmd
}

fn run_up(spec: &Spec, on_event: &mut impl FnMut(Event)) -> Result<Lab, LabError> {
    let names = spec.hosts.join(",");
    let mut args = vec![
        "up", "--prefix", &spec.name, "--names", &names, "--net", &spec.net,
    ];
    if spec.keepalived {
        args.push("--keepalived");
    }
    let mut child = script(&args)
        .env("FLEET_PROGRESS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io("cannot run bash"))?;
    let mut lines = Vec::new();
    if let Some(err) = child.stderr.take() {
        for line in std::io::BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            let event = match line.strip_prefix("@progress ").map(|r| r.split_once(' ')) {
                Some(Some(("boot", h))) => Event::Boot(h.to_string()),
                Some(Some(("up", h))) => Event::Up(h.to_string()),
                _ => {
                    lines.push(line.clone());
                    Event::Line(line)
                }
            };
            on_event(event);
        }
    }
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let status = child.wait().map_err(io("cannot wait for the lab script"))?;
    if !status.success() {
        return Err(LabError::Script {
            what: format!("booting lab '{}'", spec.name),
            output: lines.join("\n"),
        });
    }
    let state = out
        .lines()
        .last()
        .map(PathBuf::from)
        .unwrap_or_else(|| registry().join(&spec.name));
    Ok(Lab::read(&state))
}

/// Tears lab `lab` down: its containers, mounts, namespaces, cgroups and state folder, and
/// gives its range back. Idempotent, also for a lab whose `up` was interrupted.
pub fn down(lab: &Lab) -> Result<(), LabError> {
    require_root("down")?;
    let out = script(&["down", &lab.name])
        .stdin(Stdio::null())
        .output()
        .map_err(io("cannot run bash"))?;
    if !out.status.success() || lab.state.exists() {
        return Err(LabError::Script {
            what: format!(
                "taking lab '{}' down ({} is still there)",
                lab.name,
                lab.state.display()
            ),
            output: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    release(&lab.name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_hosts_get_the_shipped_inventory_addresses() {
        let spec = Spec::new("lab", None, None, "198.51.100", false).expect("spec");
        let got: Vec<(String, String)> = spec
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), spec.addr(i)))
            .collect();
        let shipped = include_str!("../../inventory/hosts.ini");
        for (h, a) in &got {
            assert!(
                shipped
                    .lines()
                    .any(|l| l.starts_with(&format!("{h} ansible_host={a} "))
                        || l == format!("{h} ansible_host={a}")),
                "{h} {a} not in inventory/hosts.ini"
            );
        }
        assert_eq!(got.len(), 4);
        assert_eq!(
            spec.namespaces(),
            [
                "lab-br", "lab-ctl", "lab-lb1", "lab-lb2", "lab-web1", "lab-web2"
            ]
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        let e = |r: Result<Spec, LabError>| r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e(Spec::new("Lab", None, None, "198.51.100", false)).contains("lowercase"));
        assert!(e(Spec::new("lab", None, None, "192.0.2", false)).contains("198.51.100 or"));
        assert!(e(Spec::new("lab", None, Some("a,ctl"), "198.51.100", false)).contains("ctl"));
        assert!(e(Spec::new("lab", None, Some("a,a"), "198.51.100", false)).contains("twice"));
        assert!(e(Spec::new("lab", Some(90), None, "198.51.100", false)).contains("at most 89"));
        assert!(e(Spec::new("lab", Some(2), Some("a"), "198.51.100", false)).contains("not both"));
        let s = Spec::new("lab", Some(2), None, "203.0.113.0/24", false).expect("spec");
        assert_eq!(
            (s.hosts, s.net),
            (vec!["h1".into(), "h2".into()], "203.0.113".into())
        );
    }

    #[test]
    fn the_script_is_the_tests_fleet_script() {
        let on_disk =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet"))
                .expect("tests/fleet");
        assert_eq!(FLEET_SCRIPT, on_disk);
        assert!(FLEET_SCRIPT.contains("HACTL_FLEET_DIR") && FLEET_SCRIPT.contains("@progress"));
    }
}
