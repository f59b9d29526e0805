//! Real-world roles applied to real hosts, side by side with ansible-playbook: for every role
//! of the corpus (/work/shared/corpus, read in place, and the pinned extras of
//! tests/corpus/extra-roles.txt; the hosts are offline, so the packages a role installs are
//! downloaded into this machine's apt cache first, see [`download_debs`], and a role that
//! updates apt's cache gets a local repository, see [`LOCAL_REPO`]), the play of
//! tests/corpus/<role>/ (the one tests/corpus_render.rs renders, with facts gathered for real)
//! runs with `hactl apply` on one fleet and with ansible-core 2.19 on a second fleet that is
//! the same hosts from the same starting point. Both must leave the same files (content,
//! mode, owner), the same service states and the same recap per host; a second hactl run must
//! report `changed=0`, or the same recap as ansible's second run.
//!
//! Files are compared as each host sees them: every path either fleet's overlay upper folder
//! holds (what the run wrote, removed or copied up), resolved through the machine's root when a
//! fleet left that path alone, minus what differs between any two boots (logs, journal, host
//! keys, caches, each tool's own scratch folders).
//!
//! Fleets are expensive (about 10 s each) and the roles are many, so roles that touch
//! different things share one pair of fleets (a group) and run one after the other; a role is
//! charged only with the differences that appear during its own run. [`CASES`] says what each
//! role gives today, as corpus_render.rs's EXPECTED does: the test fails when a role does worse
//! and also when it does better (then the table and COMPATIBILITY.md must be updated).
//!
//! Needs root, the fleet tools, /opt/ansible-venv (ansible-core 2.19) and the collections the
//! roles use (ansible.posix), which tests/corpus/collections.sh unpacks into
//! $HACTL_CORPUS_CACHE/collections (default /var/tmp/hactl-corpus; .ci/run runs it), and
//! current apt package lists on this machine with a reachable Debian mirror for the .debs
//! (a role whose packages cannot be downloaded is skipped with apt's error).
//!
//! Run with `cargo test --test corpus_apply -- --nocapture` to see the per-role report.

#![allow(clippy::print_stderr)] // the per-role report (and why a role is skipped) is the output

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use common::corpus::{cache_dir, corpus_dir, download_debs, extra_roles, play_dir, provide_extra};
use common::fleet::Fleet;
use sha2::{Digest, Sha256};

const ANSIBLE: &str = "/opt/ansible-venv/bin/ansible-playbook";

/// The hosts of every corpus inventory (tests/corpus/<role>/inventory.ini names them with the
/// addresses tests/fleet gives the first two hosts of a fleet).
const HOSTS: &[&str] = &["node1", "node2"];

/// What a role is expected to give today.
enum Expect {
    /// Same recap, files and services as ansible-playbook, and a second hactl run changes
    /// nothing.
    Same,
    /// A known difference: every difference found must contain the text (so a new
    /// difference is noticed too); the second part explains it, for COMPATIBILITY.md.
    Differs(&'static str, &'static str),
}

use Expect::{Differs, Same};

/// One role: the fleet pair it runs on (roles of one group must not touch the same files or
/// services), the packages its own tasks install (downloaded beforehand, see
/// [`download_debs`]), the services of this machine's image that would take what the role's
/// service needs (stopped and disabled on both fleets before the role runs: nginx, installed
/// and enabled here, holds port 80, which the haproxy roles' frontends bind), the services
/// whose state is compared, and what it gives today.
struct Case {
    role: &'static str,
    group: u8,
    debs: &'static [&'static str],
    clashes: &'static [&'static str],
    services: &'static [&'static str],
    expect: Expect,
}

const CASES: &[Case] = &[
    Case {
        role: "oefenweb.sysctl",
        group: 1,
        debs: &[],
        clashes: &[],
        services: &[],
        expect: Same,
    },
    Case {
        role: "singleplatform-eng.users",
        group: 2,
        debs: &[],
        clashes: &[],
        services: &[],
        expect: Differs(
            "/etc/shadow-:",
            "hactl sets the password hash with `chpasswd -e` after `useradd` (a hash never \
             appears on a command line), so shadow's own backup /etc/shadow- holds the state \
             between the two; /etc/shadow itself is the same",
        ),
    },
    Case {
        role: "robertdebock.keepalived",
        group: 1,
        debs: &[],
        clashes: &[],
        services: &["keepalived"],
        expect: Same,
    },
    Case {
        role: "nginxinc.nginx_config",
        group: 1,
        debs: &[],
        clashes: &[],
        services: &["nginx"],
        expect: Differs(
            "second run recap",
            "both runs end the same way at handler `nginx -t` (the main template runs nginx \
             as user `nginx`, which only nginx.org's package makes); on the second run hactl \
             first re-runs the handlers the failed run left pending (by design), \
             ansible-playbook forgot them",
        ),
    },
    Case {
        role: "mrlesmithjr.keepalived",
        group: 2,
        debs: &[],
        clashes: &[],
        services: &["keepalived"],
        expect: Same,
    },
    Case {
        role: "geerlingguy.nginx",
        group: 2,
        debs: &[],
        clashes: &[],
        services: &["nginx"],
        expect: Differs(
            "second run recap",
            "both runs fail the same way at handler `restart nginx` (the play's vhost has \
             `error_page: \"\"`, which nginx refuses); on the second run hactl first re-runs \
             the handlers the failed run left pending (by design), ansible-playbook forgot them",
        ),
    },
    // haproxy listens on port 80, as nginx does: the haproxy roles run in groups without nginx.
    Case {
        role: "geerlingguy.haproxy",
        group: 3,
        debs: &["haproxy"],
        clashes: &["nginx"],
        services: &["haproxy"],
        expect: Same,
    },
    Case {
        role: "geerlingguy.ntp",
        group: 5,
        debs: &["ntpsec"],
        clashes: &[],
        services: &["ntpsec", "systemd-timesyncd"],
        expect: Same,
    },
    // Last of its group: it turns off root's ssh login, which every later run needs.
    Case {
        role: "geerlingguy.security",
        group: 3,
        debs: &["fail2ban", "unattended-upgrades"],
        clashes: &[],
        services: &["fail2ban", "ssh"],
        expect: Same,
    },
    Case {
        role: "oefenweb.haproxy",
        group: 4,
        debs: &[
            "haproxy",
            "software-properties-common",
            "dirmngr",
            "apt-transport-https",
        ],
        clashes: &["nginx"],
        services: &["haproxy"],
        expect: Same,
    },
    // Last of its group: its firewall stays up.
    Case {
        role: "geerlingguy.firewall",
        group: 4,
        debs: &["iptables"],
        clashes: &[],
        services: &["firewall"],
        expect: Same,
    },
    // The play pins the keepalived Debian ships, at its path: the role finds it and skips the
    // source build; it still installs the build dependencies, from the local repository (see
    // [`LOCAL_REPO`]). Last of its group but for nginxinc.nginx, which uses one too.
    Case {
        role: "hifis-net.keepalived",
        group: 5,
        debs: &[],
        clashes: &[],
        services: &["keepalived"],
        expect: Same,
    },
    // Last of its group: its hosts' apt reads the local repository afterwards (see
    // [`LOCAL_REPO`]).
    Case {
        role: "nginxinc.nginx",
        group: 5,
        debs: &[],
        clashes: &[],
        services: &["nginx"],
        expect: Same,
    },
    // Last of its group: it rewrites the sshd_config both tools reach the hosts through
    // (README example: no defaults, so root's key login rests on OpenSSH's own default).
    Case {
        role: "willshersystems.sshd",
        group: 2,
        debs: &[],
        clashes: &[],
        services: &["ssh"],
        expect: Same,
    },
];

/// Paths (relative to a host's root) whose content differs between any two boots or belongs
/// to one tool's own machinery, not to what a role configures.
/// Roles whose package tasks update apt's cache unconditionally (nginxinc.nginx:
/// `update_cache: true` with `state: latest`; hifis-net.keepalived: `update_cache: yes`),
/// which offline hosts cannot do from Debian's mirror (both tools fail there): their hosts'
/// apt reads a local repository instead (`file:`, trusted, made with `apt-get download` and
/// `dpkg-scanpackages` from the packages their tasks name and those that installing them
/// would add, see [`local_repo`]), on both fleets alike.
const LOCAL_REPO: &[(&str, &[&str])] = &[
    (
        "nginxinc.nginx",
        &[
            "apt-transport-https",
            "ca-certificates",
            "gnupg",
            "gpg-agent",
            "nginx-core",
            "logrotate",
        ],
    ),
    (
        "hifis-net.keepalived",
        &[
            "build-essential",
            "curl",
            "gcc",
            "libssl-dev",
            "libnl-3-dev",
            "libnl-genl-3-dev",
            "libsnmp-dev",
        ],
    ),
];

/// The local repository of `role` (see [`LOCAL_REPO`]) under the corpus cache, made once per
/// set of packages; `Err` says why not (no registry, no dpkg-scanpackages).
fn local_repo(role: &str, pkgs: &[&str]) -> Result<PathBuf, String> {
    let dir = cache_dir().join("apt-repo").join(role);
    let stamp = pkgs.join(" ");
    if std::fs::read_to_string(dir.join(".packages")).is_ok_and(|s| s == stamp) {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // The named packages (at the version apt would install), and what installing them on
    // this machine's image would add.
    let simulated = std::process::Command::new("apt-get")
        .args(["install", "-s", "-y", "-q"])
        .args(pkgs)
        .output()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    let mut wanted: BTreeSet<String> = pkgs.iter().map(|p| p.to_string()).collect();
    for line in String::from_utf8_lossy(&simulated.stdout).lines() {
        if let Some(rest) = line.strip_prefix("Inst ") {
            wanted.extend(rest.split_whitespace().next().map(String::from));
        }
    }
    let run = |cmd: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("cannot run {cmd}: {e}"))
    };
    let names: Vec<String> = wanted.into_iter().collect();
    let got = run(&format!("apt-get download -q {}", names.join(" ")))?;
    if !got.status.success() {
        return Err(format!(
            "apt-get download {}: {}",
            names.join(" "),
            String::from_utf8_lossy(&got.stderr).trim()
        ));
    }
    let index = run("dpkg-scanpackages . /dev/null > Packages 2>/dev/null")?;
    if !index.status.success() {
        return Err("dpkg-scanpackages failed (package dpkg-dev)".into());
    }
    std::fs::write(dir.join(".packages"), stamp).map_err(|e| e.to_string())?;
    Ok(dir)
}

const NOISE: &[&str] = &[
    "var/log/",
    "var/lib/systemd/",
    "var/cache/",
    "var/tmp/",
    "tmp/",
    "run/",
    "root/.ansible/",
    "root/.cache/",
    "var/lib/hactl/",
    "etc/ssh/ssh_host_",
    "etc/machine-id",
    // fail2ban's own database (its start times and jails), rewritten by the daemon.
    "var/lib/fail2ban/",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Edits of a corpus play for real hosts: (role, text, replacement), each keeping the runs'
/// own way in, root over ssh with a key. geerlingguy.firewall's README example forwards port
/// 22 to 2222, where nothing listens: once the firewall is up every new ssh connection to
/// the host (both tools', the test's) would hang; forwarding 2222 to 22 keeps the rule.
/// geerlingguy.security's default `PermitRootLogin no` would leave the second runs to
/// whichever tool's master connection outlived its idle time (`ControlPersist=60s`), a race;
/// `prohibit-password` keeps key logins and the role's edit of the same line.
const PLAY_EDITS: &[(&str, &str, &str)] = &[
    (
        "geerlingguy.firewall",
        r#"{ src: "22", dest: "2222" }"#,
        r#"{ src: "2222", dest: "22" }"#,
    ),
    (
        "geerlingguy.security",
        r#"security_autoupdate_mail_to: "ops@example.com""#,
        "security_autoupdate_mail_to: \"ops@example.com\"\n    \
         security_ssh_permit_root_login: prohibit-password",
    ),
];

/// Everything a run needs besides its fleet.
struct Setup {
    roles_path: String,
    collections: PathBuf,
}

/// The controller's PATH for both tools: roles run `ansible --version` on the controller
/// (`delegate_to: localhost`), so ansible's own programs are found by both.
fn controller_path() -> String {
    format!(
        "/opt/ansible-venv/bin:{}",
        std::env::var("PATH").unwrap_or_default()
    )
}

fn hactl(fleet: &Fleet, play: &Path, setup: &Setup) -> Output {
    fleet
        .ctl("timeout")
        .arg("300")
        .arg(env!("CARGO_BIN_EXE_hactl"))
        .current_dir(play)
        .args(["apply", "inventory.ini", "site.yml", "-u", "root"])
        .arg("--ssh-common-args")
        .arg(format!("-F {}", fleet.ssh_config().display()))
        .env("HACTL_ROLES_PATH", &setup.roles_path)
        // The same controller as ansible's: roles ask it which collections are installed
        // (nginxinc.nginx runs `ansible-galaxy collection list` there).
        .env("ANSIBLE_COLLECTIONS_PATH", &setup.collections)
        .env("PATH", controller_path())
        .output()
        .expect("run hactl")
}

fn ansible(fleet: &Fleet, play: &Path, setup: &Setup) -> Output {
    fleet
        .ctl("timeout")
        .arg("300")
        .arg(ANSIBLE)
        .current_dir(play)
        .args(["-i", "inventory.ini", "site.yml"])
        .env("ANSIBLE_CONFIG", fleet.state.join("ansible.cfg"))
        .env("ANSIBLE_ROLES_PATH", &setup.roles_path)
        .env("ANSIBLE_COLLECTIONS_PATH", &setup.collections)
        .env("ANSIBLE_REMOTE_USER", "root")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        // One ssh session per task instead of several: the same results in half the time,
        // which keeps the test within its few minutes.
        .env("ANSIBLE_PIPELINING", "True")
        .env("PATH", controller_path())
        .output()
        .expect("run ansible-playbook")
}

/// The recap of each host ("ok=.. changed=.. ..."), or why there is none.
fn recaps(out: &Output) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(&out.stdout);
    HOSTS
        .iter()
        .map(|h| {
            let line = text
                .lines()
                .skip_while(|l| !l.starts_with("PLAY RECAP"))
                .find(|l| l.starts_with(&format!("{h} ")))
                .and_then(|l| l.split_once(':'))
                .map(|(_, r)| r.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|| format!("no recap (exit {:?})", out.status.code()));
            (h.to_string(), line)
        })
        .collect()
}

/// The tail of a run's output, for a failure report.
fn tail(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// What is at `path` (type, mode, owner, content hash), or "absent"; a whiteout in an
/// overlay upper folder says the host removed the file.
fn describe(path: &Path) -> String {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return "absent".into();
    };
    let ft = meta.file_type();
    let own = format!("{:o} {}:{}", meta.mode() & 0o7777, meta.uid(), meta.gid());
    if ft.is_char_device() && meta.rdev() == 0 {
        "absent".into()
    } else if ft.is_symlink() {
        let target = std::fs::read_link(path).unwrap_or_default();
        format!("link -> {}", target.display())
    } else if ft.is_dir() {
        format!("dir {own}")
    } else if ft.is_file() {
        let hash = std::fs::read(path)
            .map(|b| format!("{:x}", Sha256::digest(&b)))
            .unwrap_or_else(|e| format!("unreadable ({e})"));
        format!("file {own} sha256:{}", &hash[..16.min(hash.len())])
    } else {
        format!("special {own}")
    }
}

/// Every path under a host's overlay upper folder (what the host wrote), relative to its root.
fn upper_paths(fleet: &Fleet, host: &str) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(base) else {
                continue;
            };
            let rel_text = rel.to_string_lossy();
            if NOISE
                .iter()
                .any(|n| rel_text.starts_with(n) || format!("{rel_text}/") == *n)
                || rel_text.contains("__pycache__")
            {
                continue;
            }
            out.insert(rel.to_path_buf());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(base, &path, out);
            }
        }
    }
    let upper = fleet.state.join(host).join("upper");
    let mut out = BTreeSet::new();
    walk(&upper, &upper, &mut out);
    out
}

/// How a path looks on a host: its upper entry if the host wrote it, else the machine's own.
fn seen(fleet: &Fleet, host: &str, rel: &Path) -> String {
    let upper = fleet.state.join(host).join("upper").join(rel);
    if std::fs::symlink_metadata(&upper).is_ok() {
        describe(&upper)
    } else {
        describe(&Path::new("/").join(rel))
    }
}

/// `backup: true` names a copy `<file>.<pid>.<YYYY-MM-DD@HH:MM:SS>~`, which no two runs
/// share: the name up to the pid, or `None` for any other path.
fn backup_stem(rel: &Path) -> Option<String> {
    let name = rel.to_string_lossy();
    let rest = name.strip_suffix('~')?;
    let (before, stamp) = rest.rsplit_once('.')?;
    let (stem, pid) = before.rsplit_once('.')?;
    let stamp_shape = stamp.len() == 19 && stamp.as_bytes().get(10) == Some(&b'@');
    (stamp_shape && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{stem}.<pid>.<time>~"))
}

/// What one fleet's host holds at the paths either fleet wrote, backups by their shape.
fn host_view(fleet: &Fleet, host: &str, paths: &BTreeSet<PathBuf>) -> BTreeMap<String, String> {
    let mut view = BTreeMap::new();
    for rel in paths {
        let state = seen(fleet, host, rel);
        match backup_stem(rel) {
            // A backup is compared by its content; the other fleet's has another name.
            Some(stem) if state != "absent" => {
                view.insert(format!("/{stem}"), state);
            }
            Some(_) => {}
            None => {
                view.insert(format!("/{}", rel.display()), state);
            }
        }
    }
    view
}

/// Where the two fleets' files differ now: "host:/path: hactl X / ansible Y".
fn file_differences(ours: &Fleet, theirs: &Fleet) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for host in HOSTS {
        let mut paths = upper_paths(ours, host);
        paths.extend(upper_paths(theirs, host));
        let (a, b) = (
            host_view(ours, host, &paths),
            host_view(theirs, host, &paths),
        );
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            let absent = "absent".to_string();
            let (x, y) = (a.get(key).unwrap_or(&absent), b.get(key).unwrap_or(&absent));
            if x != y {
                out.insert(format!("{host}:{key}: hactl {x} / ansible {y}"));
            }
        }
    }
    out
}

/// `systemctl is-active` and `is-enabled` of each service on each host, asked inside the
/// host's namespaces rather than over ssh, which a role may have closed by then.
fn services(fleet: &Fleet, names: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for host in HOSTS {
        // The host's systemd: the child of its systemd-nspawn.
        let nspawn =
            std::fs::read_to_string(fleet.state.join(host).join("nspawn.pid")).expect("nspawn.pid");
        let nspawn = nspawn.trim();
        let init = std::fs::read_to_string(format!("/proc/{nspawn}/task/{nspawn}/children"))
            .expect("the host's init");
        let init = init.split_whitespace().next().expect("the host's init");
        for name in names {
            let state = std::process::Command::new("nsenter")
                .args(["-t", init, "-m", "-u", "-i", "-n", "-p", "sh", "-c"])
                .arg(format!(
                    "systemctl is-active {name}; systemctl is-enabled {name}"
                ))
                .output()
                .expect("nsenter");
            out.insert(
                format!("{host}:{name}"),
                String::from_utf8_lossy(&state.stdout)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    out
}

/// Runs hactl on `ours` and ansible-playbook on `theirs` at the same time (they share
/// nothing), timed.
fn both(ours: &Fleet, theirs: &Fleet, play: &Path, setup: &Setup) -> (Output, Output, f64, f64) {
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            let t = Instant::now();
            (hactl(ours, play, setup), t.elapsed().as_secs_f64())
        });
        let b = s.spawn(|| {
            let t = Instant::now();
            (ansible(theirs, play, setup), t.elapsed().as_secs_f64())
        });
        let (a, ta) = a.join().expect("hactl thread");
        let (b, tb) = b.join().expect("ansible thread");
        (a, b, ta, tb)
    })
}

/// Applies one role on both fleets, twice, and says how they differ (an empty list: they do
/// not). `before` holds the file differences left by earlier roles of the group, which are
/// not this role's; the report gets the timings and the second runs' recaps.
fn measure(
    case: &Case,
    ours: &Fleet,
    theirs: &Fleet,
    setup: &Setup,
    before: &BTreeSet<String>,
    report: &mut Vec<String>,
) -> Vec<String> {
    let play = play_dir(case.role, PLAY_EDITS);
    let mut diffs = Vec::new();
    let repo = LOCAL_REPO
        .iter()
        .find(|(role, _)| *role == case.role)
        .map(|(role, _)| cache_dir().join("apt-repo").join(role));
    for fleet in [ours, theirs] {
        for host in HOSTS {
            for service in case.clashes {
                let stop = fleet.ssh(host, &format!("systemctl disable --now {service}"));
                assert!(stop.status.success(), "{host}: cannot stop {service}");
            }
            if let Some(dir) = &repo {
                let cmd = format!(
                    "rm -f /etc/apt/sources.list.d/* && \
                     echo 'deb [trusted=yes] file:{} ./' >/etc/apt/sources.list",
                    dir.display()
                );
                let set = fleet.ssh(host, &cmd);
                assert!(
                    set.status.success(),
                    "{host}: cannot use the local repository"
                );
            }
        }
    }
    let (a, b, ta, tb) = both(ours, theirs, play.path(), setup);
    let (ra, rb) = (recaps(&a), recaps(&b));
    for host in HOSTS {
        if ra[*host] != rb[*host] {
            diffs.push(format!(
                "recap {host}: hactl {} / ansible {}",
                ra[*host], rb[*host]
            ));
        }
    }
    // Both outputs, when the recaps say the runs went differently (a run that fails the
    // same way with both tools is the role's own business, reported by the recap).
    if ra != rb {
        report.push(format!("    hactl output:\n{}", tail(&a)));
        report.push(format!("    ansible-playbook output:\n{}", tail(&b)));
    }
    for d in file_differences(ours, theirs).difference(before) {
        diffs.push(d.clone());
    }
    let (sa, sb) = (
        services(ours, case.services),
        services(theirs, case.services),
    );
    for (key, state) in &sa {
        if sb[key] != *state {
            diffs.push(format!(
                "service {key}: hactl {state} / ansible {}",
                sb[key]
            ));
        }
    }

    let (a2, b2, ta2, tb2) = both(ours, theirs, play.path(), setup);
    let (ra2, rb2) = (recaps(&a2), recaps(&b2));
    for host in HOSTS {
        // A second run that changes something is wrong, unless ansible's changes the same
        // (geerlingguy.ntp starts ntpsec each time: its unit needs CAP_SYS_TIME, which a
        // container lacks, so it never stays active); the report shows both.
        if ra2[*host] == rb2[*host] {
            continue;
        }
        if !ra2[*host].contains(" changed=0 ") {
            diffs.push(format!("second run {host} changed: hactl {}", ra2[*host]));
        } else {
            diffs.push(format!(
                "second run recap {host}: hactl {} / ansible {}",
                ra2[*host], rb2[*host]
            ));
        }
    }
    if a2.status.success() != b2.status.success() {
        report.push(format!("    hactl second run output:\n{}", tail(&a2)));
        report.push(format!(
            "    ansible-playbook second run output:\n{}",
            tail(&b2)
        ));
    }
    report.push(format!(
        "    first run: hactl {ta:.1} s, ansible {tb:.1} s; second run: hactl {ta2:.1} s, \
         ansible {tb2:.1} s"
    ));
    for host in HOSTS {
        report.push(format!(
            "    {host} recap: hactl {} | ansible {}",
            ra[*host], rb[*host]
        ));
        report.push(format!(
            "    {host} second run: hactl {} | ansible {}",
            ra2[*host], rb2[*host]
        ));
    }
    for (key, state) in &sa {
        report.push(format!("    {key}: hactl {state} | ansible {}", sb[key]));
    }
    diffs
}

/// Boots the two fleets of one group and measures its roles in order: the report lines, and
/// what does not match [`CASES`].
/// Held while a group's two fleets boot.
static BOOTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run_group(group: u8, cases: &[&Case], setup: &Setup) -> (Vec<String>, Vec<String>) {
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    if cases.is_empty() {
        return (report, wrong);
    }
    // Two fleets of the same hosts, booted side by side; keepalived's unit is left as the
    // package has it (enabled), since the keepalived roles start it. The guards tear both
    // down whatever happens below.
    // One group's pair boots at a time: twenty hosts booting at once on two cores have left
    // one without ssh for over 30 s.
    let t = Instant::now();
    let (ours, theirs) = {
        let _booting = BOOTING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::thread::scope(|s| {
            let a = s.spawn(|| Fleet::up_with(HOSTS, true));
            let b = s.spawn(|| Fleet::up_with(HOSTS, true));
            (a.join(), b.join())
        })
    };
    let (ours, theirs) = (
        ours.expect("fleet for hactl"),
        theirs.expect("fleet for ansible"),
    );
    report.push(format!(
        "group {group}: two fleets up in {:.1} s",
        t.elapsed().as_secs_f64()
    ));
    // Roles update the apt cache unless it is fresh (oefenweb.sysctl: `update_cache` with
    // `cache_valid_time: 3600`), which offline hosts cannot do. The hosts see the machine's
    // lists through their overlay; stamp them as just updated on every host of both fleets,
    // so the outcome does not depend on how long ago this machine ran `apt-get update`.
    // The roles' own package tasks install from the .debs [`download_debs`] put in the
    // machine's apt cache. This machine's image (a Docker-built Debian) has apt delete every
    // cached .deb after each dpkg run (/etc/apt/apt.conf.d/docker-clean); on an offline host
    // that would take away the .debs of the group's later roles, so the hosts lose that hook.
    // Name lookups (oefenweb.haproxy's keyserver) would wait for the machine's name server,
    // which the offline hosts cannot reach, until they time out, five times over; a name
    // server on the host's own loopback, where none listens, makes them fail at once, the
    // same way for both tools. (`rm` first: it fails on a bind mount, never writing through.)
    for fleet in [&ours, &theirs] {
        for host in HOSTS {
            let stamp = fleet.ssh(
                host,
                "mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp \
                 && rm -f /etc/apt/apt.conf.d/docker-clean \
                 && rm /etc/resolv.conf && echo 'nameserver 127.0.0.1' >/etc/resolv.conf",
            );
            assert!(
                stamp.status.success(),
                "{host}: cannot prepare the apt cache"
            );
        }
    }
    let mut before = file_differences(&ours, &theirs);
    for case in cases {
        let mut lines = Vec::new();
        let diffs = measure(case, &ours, &theirs, setup, &before, &mut lines);
        before = file_differences(&ours, &theirs);
        let outcome = if diffs.is_empty() {
            "same".to_string()
        } else {
            diffs.join("\n    ")
        };
        report.push(format!("{}: {outcome}", case.role));
        if let Differs(_, why) = case.expect {
            report.push(format!("    known difference: {why}"));
        }
        report.extend(lines);
        match (&case.expect, diffs.is_empty()) {
            (Same, true) => {}
            (Same, false) => wrong.push(format!("REGRESSION {}: {outcome}", case.role)),
            (Differs(sig, _), true) => wrong.push(format!(
                "{} is now the same as ansible (was expected to differ with {sig:?}): \
                 update CASES and COMPATIBILITY.md",
                case.role
            )),
            (Differs(sig, _), false) if diffs.iter().all(|d| d.contains(sig)) => {}
            (Differs(sig, _), false) => wrong.push(format!(
                "{} differs otherwise than CASES says ({sig:?}): {outcome}",
                case.role
            )),
        }
    }
    (report, wrong)
}

#[test]
fn corpus_roles_apply_as_ansible_does() {
    let Some(corpus) = corpus_dir() else {
        eprintln!("SKIPPED: the role corpus (shared/corpus) is not here; set HACTL_CORPUS");
        return;
    };
    common::fleet::require();
    assert!(
        Path::new(ANSIBLE).is_file(),
        "this test compares with ansible-core 2.19 at {ANSIBLE}"
    );
    let collections = cache_dir().join("collections");
    assert!(
        collections
            .join("ansible_collections/ansible/posix/MANIFEST.json")
            .is_file(),
        "ansible needs the roles' collections in {}: run tests/corpus/collections.sh once \
         (.ci/run does), or point HACTL_CORPUS_CACHE at a cache that has them",
        collections.display()
    );

    // Every role folder has a row, and every row a folder.
    let mut folders: Vec<String> = std::fs::read_dir(root().join("tests/corpus"))
        .expect("tests/corpus")
        .flatten()
        .filter(|e| e.path().join("site.yml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut rows: Vec<&str> = CASES.iter().map(|c| c.role).collect();
    rows.sort();
    assert_eq!(
        folders, rows,
        "CASES must list exactly the folders of tests/corpus/"
    );

    let extras = tempfile::tempdir().expect("tmp");
    let mut unavailable = BTreeMap::new();
    for case in CASES {
        if !corpus.join(case.role).is_dir() {
            let provided = match extra_roles().into_iter().find(|e| e.name == case.role) {
                Some(extra) => provide_extra(&extra, extras.path()),
                None => Err(format!("{} is not in extra-roles.txt", case.role)),
            };
            if let Err(why) = provided {
                unavailable.insert(case.role, why);
                continue;
            }
        }
        if let Err(why) = download_debs(case.debs) {
            unavailable.insert(case.role, why);
        }
        if let Some((_, pkgs)) = LOCAL_REPO.iter().find(|(role, _)| *role == case.role) {
            if let Err(why) = local_repo(case.role, pkgs) {
                unavailable.insert(case.role, why);
            }
        }
    }
    let setup = Setup {
        roles_path: std::env::join_paths([corpus.as_path(), extras.path()])
            .expect("roles path")
            .to_string_lossy()
            .into_owned(),
        collections,
    };

    let started = Instant::now();
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    // The groups run side by side: the runs mostly wait on ssh and on the hosts, so two
    // groups at once take little longer than one.
    let groups: BTreeSet<u8> = CASES.iter().map(|c| c.group).collect();
    let results: Vec<(Vec<String>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .iter()
            .map(|group| {
                let cases: Vec<&Case> = CASES
                    .iter()
                    .filter(|c| c.group == *group && !unavailable.contains_key(c.role))
                    .collect();
                let setup = &setup;
                s.spawn(move || run_group(*group, &cases, setup))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("group thread"))
            .collect()
    });
    for (lines, problems) in results {
        report.extend(lines);
        wrong.extend(problems);
    }
    for (role, why) in &unavailable {
        report.push(format!("{role}: SKIPPED ({why})"));
    }
    report.push(format!("total {:.1} s", started.elapsed().as_secs_f64()));
    eprintln!("corpus apply report:\n  {}", report.join("\n  "));
    assert!(wrong.is_empty(), "\n{}\n", wrong.join("\n"));
}
