//! Killing `hactl apply` mid-write never leaves a partial file or litter on a host. On a real
//! host, hactl copies 128 MiB over a small file, and a template with a slow `validate` over
//! another; it is killed (SIGKILL, and SIGTERM) while the bytes stream, while the temp file in
//! the target folder is written, and early and late in `validate`. Each time the destination
//! keeps its old content, even after the validate would have finished; no temp file, no staging
//! folder of the host's shell and no process of the run remains on the host. A SIGTERMed hactl
//! exits 143 and ends the ssh master it started. Runs without a kill prove the new content
//! lands, so the checks can tell old from new.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::fleet::Fleet;
use sha2::{Digest, Sha256};

const HOST: &str = "lb1";
const BIG: usize = 128 << 20;
const OLD_BIG: &[u8] = b"old big.bin\n";
const OLD_CONF: &[u8] = b"old site.conf\n";
/// The validate command: long enough to kill hactl inside it, and to see it was stopped.
const VALIDATE_SECS: u64 = 4;

/// The fleet, the playbooks' folder, and the host's file system as seen from here.
struct Scene {
    fleet: Fleet,
    dir: tempfile::TempDir,
    root: PathBuf,
    big_sha: String,
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `/proc/PID/root` of the host's init: its own mounts, `/tmp` (a tmpfs) included.
fn host_root(fleet: &Fleet, host: &str) -> PathBuf {
    let pid = std::fs::read_to_string(fleet.state.join(host).join("nspawn.pid")).expect("pid");
    let pid = pid.trim();
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .expect("nspawn's child");
    let init = children.split_whitespace().next().expect("the host's init");
    PathBuf::from(format!("/proc/{init}/root"))
}

/// Names in `dir` starting with `prefix`.
fn names(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Polls `ready` every 5 ms; panics with `what` if it is not true within `limit`.
fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl Scene {
    fn new() -> Scene {
        let fleet = Fleet::up(&[HOST]);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut big = vec![0u8; BIG];
        // Cheap pseudo-random bytes (xorshift): content no layer could compress or dedupe.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for chunk in big.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        std::fs::write(dir.path().join("big.bin"), &big).expect("big.bin");
        std::fs::write(
            dir.path().join("site.conf.j2"),
            "new {{ inventory_hostname }}\n",
        )
        .expect("template");
        std::fs::write(
            dir.path().join("copy.yml"),
            format!(
                "- hosts: {HOST}\n  gather_facts: false\n  tasks:\n    - copy:\n        \
                 src: big.bin\n        dest: /srv/atomic/big.bin\n"
            ),
        )
        .expect("copy.yml");
        std::fs::write(
            dir.path().join("template.yml"),
            format!(
                "- hosts: {HOST}\n  gather_facts: false\n  tasks:\n    - template:\n        \
                 src: site.conf.j2\n        dest: /srv/atomic/site.conf\n        \
                 validate: \"sh -c 'sleep {VALIDATE_SECS}; grep -q new %s'\"\n"
            ),
        )
        .expect("template.yml");
        let root = host_root(&fleet, HOST);
        std::fs::create_dir_all(root.join("srv/atomic")).expect("target folder");
        Scene {
            fleet,
            dir,
            root,
            big_sha: sha(&big),
        }
    }

    fn target(&self) -> PathBuf {
        self.root.join("srv/atomic")
    }

    fn staging(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Puts the old contents back and checks the host is clean before a case.
    fn reset(&self) {
        std::fs::write(self.target().join("big.bin"), OLD_BIG).expect("old big.bin");
        std::fs::write(self.target().join("site.conf"), OLD_CONF).expect("old site.conf");
        assert!(names(&self.target(), ".hactl").is_empty());
        assert!(names(&self.staging(), "hactl.").is_empty());
    }

    /// Starts `hactl apply` with `playbook` and `args`. Its generated ssh config goes in the
    /// scene's folder, so a SIGKILL (no destructor runs) leaves no litter elsewhere.
    fn start(&self, playbook: &str, args: &[&str]) -> Child {
        self.fleet
            .ctl(env!("CARGO_BIN_EXE_hactl"))
            .current_dir(self.dir.path())
            .arg("apply")
            .arg(self.fleet.inventory())
            .arg(playbook)
            .args(args)
            .args(self.fleet.ssh_args())
            .env("TMPDIR", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hactl")
    }

    fn dest_sha(&self, name: &str) -> String {
        sha(&std::fs::read(self.target().join(name)).expect("destination"))
    }

    /// The host's processes that belong to a run: the persistent shell (its staging folder is
    /// `hactl.*`), its scripts, and the validate command.
    fn run_processes(&self) -> Vec<String> {
        let out = self.fleet.ssh(HOST, "ps -eo args");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("hactl.") || l.contains(&format!("sleep {VALIDATE_SECS}")))
            .map(String::from)
            .collect()
    }

    /// After a kill: within 3 s no temp file, no staging folder and no process of the run is
    /// left on the host.
    fn assert_no_litter(&self, case: &str) {
        let clean = || {
            names(&self.target(), ".hactl").is_empty()
                && names(&self.staging(), "hactl.").is_empty()
        };
        let start = Instant::now();
        while !clean() && start.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            names(&self.target(), ".hactl"),
            Vec::<String>::new(),
            "{case}: temp file left in the target folder"
        );
        assert_eq!(
            names(&self.staging(), "hactl."),
            Vec::<String>::new(),
            "{case}: the persistent shell's staging folder is left in /tmp"
        );
        assert_eq!(
            self.run_processes(),
            Vec::<String>::new(),
            "{case}: processes of the killed run still live on the host"
        );
    }

    /// The persistent shell has the copy's script and is still receiving its stdin: `dd`
    /// writes the whole block at once, so `i` stays empty until the last byte arrived.
    fn streaming(&self) -> bool {
        names(&self.staging(), "hactl.").iter().any(|d| {
            let d = self.staging().join(d);
            std::fs::read_to_string(d.join("s")).is_ok_and(|s| s.contains("hactl:dest"))
                && std::fs::metadata(d.join("i")).is_ok_and(|m| m.len() == 0)
        })
    }

    fn temp_file_exists(&self) -> bool {
        !names(&self.target(), ".hactl").is_empty()
    }

    /// The processes in the controller namespace: hactl and ssh masters (those of earlier runs
    /// stay up for the next, `--ssh-persist`).
    fn controller_processes(&self) -> Vec<String> {
        let out = Command::new("ip")
            .args(["netns", "pids", &format!("{}-ctl", self.fleet.prefix)])
            .output()
            .expect("ip netns pids");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Signal {
    Kill,
    Term,
}

/// Sends `signal` to hactl and returns how it ended.
fn stop(mut child: Child, signal: Signal) -> Output {
    match signal {
        Signal::Kill => child.kill().expect("SIGKILL"),
        Signal::Term => {
            let sent = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .expect("kill");
            assert!(sent.success());
        }
    }
    child.wait_with_output().expect("wait for hactl")
}

/// What a SIGTERMed hactl must have done: exit 143, and (run with `--ssh-persist 0`) end the
/// ssh master it started; `before` are the controller's processes before it started.
fn assert_clean_exit(scene: &Scene, out: &Output, before: &[String], case: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{case}: {stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{case}: {stderr}");
    wait_for(
        &format!("{case}: the run's ssh master to exit"),
        Duration::from_secs(3),
        || {
            scene
                .controller_processes()
                .iter()
                .all(|p| before.contains(p))
        },
    );
}

/// The options of a run that gets `signal`: a SIGTERMed run starts a master of its own, which
/// must end with it.
fn run_args(signal: Signal) -> &'static [&'static str] {
    match signal {
        Signal::Kill => &[],
        Signal::Term => &["--ssh-persist", "0"],
    }
}

#[test]
fn killing_apply_mid_write_leaves_the_old_file_and_no_litter() {
    let scene = Scene::new();
    let new_conf = sha(format!("new {HOST}\n").as_bytes());
    let long = Duration::from_secs(120);

    // Without a kill the new contents land: the checks below can tell old from new.
    scene.reset();
    let out = scene
        .start("copy.yml", &[])
        .wait_with_output()
        .expect("hactl");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(scene.dest_sha("big.bin"), scene.big_sha);
    let out = scene
        .start("template.yml", &[])
        .wait_with_output()
        .expect("hactl");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(scene.dest_sha("site.conf"), new_conf);
    scene.assert_no_litter("a run to its end");

    // The copy, killed while its bytes stream to the host, and while the temp file is written.
    for (signal, phase) in [
        (Signal::Kill, "streaming"),
        (Signal::Term, "streaming"),
        (Signal::Kill, "writing the temp file"),
    ] {
        let case = format!("copy, {signal:?} while {phase}");
        scene.reset();
        let before = scene.controller_processes();
        let child = scene.start("copy.yml", run_args(signal));
        if phase == "streaming" {
            wait_for(&format!("{case}: the bytes to stream"), long, || {
                scene.streaming()
            });
        } else {
            wait_for(&format!("{case}: the temp file"), long, || {
                scene.temp_file_exists()
            });
        }
        let out = stop(child, signal);
        scene.assert_no_litter(&case);
        assert_eq!(
            scene.dest_sha("big.bin"),
            sha(OLD_BIG),
            "{case}: the destination changed"
        );
        if signal == Signal::Term {
            assert_clean_exit(&scene, &out, &before, &case);
        }
    }

    // The template, killed early and late in its validate. Past the time the validate would
    // have passed, the old file is still there: the script was stopped, not left to rename.
    for (signal, into) in [(Signal::Kill, 300), (Signal::Term, 2500)] {
        let case = format!("template, {signal:?} {into} ms into validate");
        scene.reset();
        let before = scene.controller_processes();
        let child = scene.start("template.yml", run_args(signal));
        wait_for(&format!("{case}: the temp file"), long, || {
            scene.temp_file_exists()
        });
        std::thread::sleep(Duration::from_millis(into));
        assert!(
            scene.temp_file_exists(),
            "{case}: the validate ended before the kill"
        );
        let out = stop(child, signal);
        let killed = Instant::now();
        scene.assert_no_litter(&case);
        let passed = killed + Duration::from_secs(VALIDATE_SECS);
        std::thread::sleep(passed.saturating_duration_since(Instant::now()));
        assert_eq!(
            scene.dest_sha("site.conf"),
            sha(OLD_CONF),
            "{case}: the destination changed"
        );
        if signal == Signal::Term {
            assert_clean_exit(&scene, &out, &before, &case);
        }
    }
}
