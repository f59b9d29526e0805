//! A sandbox for runs on the local connection: a temp dir with `home/` and `out/`, and hactl
//! (or ansible-playbook) run there with `HOME` in it. Run as root, programs drop to `nobody`
//! (setpriv), because root's pending-handlers list would go to `/var/lib/hactl`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;

pub const NOBODY: u32 = 65534;

/// A temp dir with `home/` and `out/`, and a way to run hactl there.
pub struct Sandbox {
    dir: tempfile::TempDir,
    /// Run as root: hactl runs as `nobody`.
    pub drop_root: bool,
}

pub fn running_as_root() -> bool {
    let out = std::process::Command::new("id")
        .arg("-u")
        .output()
        .expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["home", "out"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        let drop_root = running_as_root();
        Sandbox { dir, drop_root }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn out(&self) -> PathBuf {
        self.path("out")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }

    /// Hands the whole tree to the user hactl runs as.
    pub fn hand_over(&self) {
        if !self.drop_root {
            return;
        }
        fn walk(p: &Path) {
            std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).expect("chown");
            if p.is_dir() {
                for e in std::fs::read_dir(p).expect("read dir") {
                    walk(&e.expect("entry").path());
                }
            }
        }
        walk(self.dir.path());
    }

    /// `hactl ARGS` in the sandbox, with `HOME` in it (setpriv execs hactl: same process).
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        self.program(env!("CARGO_BIN_EXE_hactl"), args)
    }

    /// `PROGRAM ARGS` in the sandbox as the sandbox's user, with `HOME` in it.
    pub fn program(&self, bin: &str, args: &[&str]) -> std::process::Command {
        self.hand_over();
        let mut cmd = if self.drop_root {
            let mut c = std::process::Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
                bin,
            ]);
            c
        } else {
            std::process::Command::new(bin)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env_remove("HACTL_INVENTORY");
        cmd
    }

    /// Runs `hactl ARGS` to its end.
    pub fn hactl(&self, args: &[&str]) -> Output {
        Command::from_std(self.command(args))
            .timeout(Duration::from_secs(60))
            .output()
            .expect("run hactl")
    }

    /// The user hactl's scripts run as.
    pub fn user(&self) -> String {
        if self.drop_root {
            return "nobody".into();
        }
        let out = std::process::Command::new("id")
            .arg("-un")
            .output()
            .expect("id -un");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}
