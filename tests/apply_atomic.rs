//! Killing `hactl apply` mid-write never leaves a partial file, nor a temp file, on a real
//! host: killed (SIGKILL) while a large file is on its way, the old file stays and no temp file
//! is ever made; killed (SIGKILL, then SIGTERM) while `validate` runs on the new file, the old
//! file stays and the temp file is removed. Left alone, the same run puts the new file in
//! place, so the kills are what kept the old one.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::fleet::Fleet;

const DEST: &str = "/var/lib/atomic-test/data.bin";

fn playbook(dir: &Path, fleet: &Fleet) {
    std::fs::copy(fleet.inventory(), dir.join("hosts.ini")).expect("inventory");
    // 120 MB that takes a moment to travel, with a validate that takes its time.
    let mut big = Vec::with_capacity(120 << 20);
    let mut x: u32 = 1;
    while big.len() < 120 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        big.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(dir.join("big.bin"), &big).expect("big file");
    std::fs::write(
        dir.join("site.yml"),
        format!(
            "- hosts: fleet
  gather_facts: false
  tasks:
    - name: put the file
      copy:
        src: big.bin
        dest: {DEST}
        validate: \"sh -c 'sleep {{{{ pause | default(0) }}}}; test -s %s'\"
"
        ),
    )
    .expect("playbook");
}

fn start(fleet: &Fleet, dir: &Path, pause: u32) -> Child {
    fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .arg("apply")
        .arg(dir.join("hosts.ini"))
        .arg(dir.join("site.yml"))
        .args(["-e", &format!("pause={pause}")])
        .args(fleet.ssh_args())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hactl")
}

fn sh(fleet: &Fleet, script: &str) -> String {
    String::from_utf8_lossy(&fleet.ssh("a1", script).stdout)
        .trim()
        .to_string()
}

fn dest_sum(fleet: &Fleet) -> String {
    sh(fleet, &format!("sha256sum < {DEST}"))
}

/// Temp files of the writer next to the destination.
fn temps(fleet: &Fleet) -> String {
    sh(
        fleet,
        "ls -A /var/lib/atomic-test | grep -v '^data.bin$' || true",
    )
}

/// Waits until `probe` (a shell test on the host) succeeds.
fn wait_for(fleet: &Fleet, probe: &str, what: &str) {
    let start = Instant::now();
    while !fleet.ssh("a1", probe).status.success() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never saw {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// After a kill: the old content, and no temp file once the host has noticed.
fn assert_untouched(fleet: &Fleet, old: &str, case: &str) {
    assert_eq!(dest_sum(fleet), old, "{case}: the file changed");
    let start = Instant::now();
    while !temps(fleet).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{case}: left behind: {}",
            temps(fleet)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_killed_run_leaves_the_old_file_and_no_temp_file() {
    let fleet = Fleet::up(&["a1"]);
    let dir = tempfile::tempdir().expect("tempdir");
    playbook(dir.path(), &fleet);
    sh(
        &fleet,
        &format!("mkdir -p /var/lib/atomic-test && echo old > {DEST}"),
    );
    let old = dest_sum(&fleet);

    // 1. SIGKILL while the bytes travel: the host's shell holds the incoming frame in its own
    //    folder; it must never run a frame cut short, so no temp file appears by the file.
    let mut child = start(&fleet, dir.path(), 0);
    wait_for(
        &fleet,
        "pgrep -f 'dd bs=125829120 ' >/dev/null",
        "the file on its way",
    );
    child.kill().expect("kill");
    let _ = child.wait();
    assert_untouched(&fleet, &old, "killed in transfer");
    wait_for(
        &fleet,
        "! find /tmp -maxdepth 2 -path '/tmp/tmp.*/s' | grep -q .",
        "the shell's frame folder removed",
    );

    // 2. SIGKILL, then SIGTERM, while validate runs on the complete temp file.
    for signal in ["KILL", "TERM"] {
        let child = start(&fleet, dir.path(), 3);
        wait_for(
            &fleet,
            "for f in /var/lib/atomic-test/.hactl.*; do [ \"$(stat -c %s \"$f\")\" -ge 125829120 ] && exit 0; done; exit 1",
            "the complete temp file",
        );
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let mut child = child;
        let _ = child.wait();
        // validate sleeps 3 s; the writer must not rename after it.
        std::thread::sleep(Duration::from_secs(4));
        assert_untouched(&fleet, &old, &format!("{signal} during validate"));
    }

    // 3. Left alone, the same run puts the new file in place.
    let mut child = start(&fleet, dir.path(), 0);
    let status = child.wait().expect("hactl");
    assert!(status.success());
    let new = std::process::Command::new("sha256sum")
        .stdin(std::fs::File::open(dir.path().join("big.bin")).expect("big"))
        .output()
        .expect("sha256sum");
    assert_eq!(
        dest_sum(&fleet),
        String::from_utf8_lossy(&new.stdout).trim(),
        "the unkilled run writes the file"
    );
    assert_eq!(temps(&fleet), "");
}
