//! A real test fleet for integration tests: `tests/fleet up` on creation, `tests/fleet down` on
//! drop, so a failing test still cleans up its namespaces, mounts and containers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fleet of booted hosts. Dropping it tears everything down.
#[derive(Debug)]
pub struct Fleet {
    pub prefix: String,
    pub state: PathBuf,
    pub hosts: Vec<String>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet")
}

/// Whether this machine can run a fleet (root, nspawn, sshd). Tests that need one say so and
/// fail loudly when it is missing, rather than passing silently.
pub fn require() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    assert!(
        root,
        "fleet tests need root (run them as CI does: sudo cargo test)"
    );
    for tool in ["systemd-nspawn", "sshd", "ip"] {
        let found = Command::new("sh")
            .args([
                "-c",
                &format!("command -v {tool} || test -x /usr/sbin/{tool}"),
            ])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(found, "fleet tests need {tool}; .ci/run installs it");
    }
}

impl Fleet {
    /// Boots hosts with the given names.
    pub fn up(names: &[&str]) -> Fleet {
        Fleet::up_with(names, false)
    }

    /// Boots hosts, with keepalived's unit left enabled when `keepalived` is set.
    pub fn up_with(names: &[&str], keepalived: bool) -> Fleet {
        require();
        let prefix = format!("hf{:06x}", std::process::id() ^ rand_bits());
        let mut cmd = Command::new(script());
        cmd.args(["up", "--prefix", &prefix, "--names", &names.join(",")]);
        if keepalived {
            cmd.arg("--keepalived");
        }
        let out = cmd.output().expect("run tests/fleet");
        // Even when `up` failed it tore itself down; a guard for a half-made fleet is harmless.
        let fleet = Fleet {
            prefix,
            state: PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string()),
            hosts: names.iter().map(|s| s.to_string()).collect(),
        };
        assert!(
            out.status.success(),
            "tests/fleet up failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        fleet
    }

    pub fn inventory(&self) -> PathBuf {
        self.state.join("inventory.ini")
    }

    pub fn ssh_config(&self) -> PathBuf {
        self.state.join("ssh_config")
    }

    pub fn addr(&self, host: &str) -> String {
        std::fs::read_to_string(self.state.join(format!("addr-{host}")))
            .expect("host address")
            .trim()
            .to_string()
    }

    /// A command that runs in the controller namespace.
    pub fn ctl(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &format!("{}-ctl", self.prefix)])
            .arg(program)
            // Persistent ssh masters of this fleet keep their sockets in its state folder.
            .env("HACTL_CONTROL_PATH_DIR", self.state.join("cp"));
        cmd
    }

    /// Runs a shell command on a host over ssh from the controller namespace.
    pub fn ssh(&self, host: &str, command: &str) -> Output {
        self.ctl("ssh")
            .arg("-F")
            .arg(self.ssh_config())
            .arg(self.addr(host))
            .arg(command)
            .output()
            .expect("run ssh")
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = Command::new(script()).args(["down", &self.prefix]).output();
    }
}

fn rand_bits() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        & 0xff_ffff
}

/// The fleet state folder when this test process was re-run inside a fleet's controller
/// namespace by [`Fleet::rerun_inside`].
pub fn inside() -> Option<PathBuf> {
    std::env::var_os("HACTL_TEST_FLEET_STATE").map(PathBuf::from)
}

impl Fleet {
    /// hactl's connection options for this fleet: its key, and its known_hosts (host keys
    /// stay checked).
    pub fn ssh_args(&self) -> Vec<String> {
        vec![
            "--private-key".into(),
            self.state.join("id_ed25519").display().to_string(),
            "--ssh-common-args".into(),
            format!(
                "-o UserKnownHostsFile={}",
                self.state.join("known_hosts").display()
            ),
        ]
    }

    /// Makes every later SSH session of `host` start inside a fresh mount namespace prepared
    /// by `prepare` (shell commands run there first): sshd's `ForceCommand`. Tests use it to
    /// show the host without systemd, or without Python. Returns once a session shows
    /// `probe` printing `want`.
    pub fn wrap_sessions(&self, host: &str, prepare: &str, probe: &str, want: &str) {
        let wrapper = format!(
            "#!/bin/sh\nexec unshare -m sh -c '{prepare}; exec sh -c \"${{SSH_ORIGINAL_COMMAND:-sh}}\"'\n"
        );
        let setup = self.ssh(
            host,
            &format!(
                "cat > /usr/local/bin/hactl-test-session <<'EOF'\n{wrapper}EOF\n\
                 chmod 755 /usr/local/bin/hactl-test-session && \
                 echo 'ForceCommand /usr/local/bin/hactl-test-session' \
                   > /etc/ssh/sshd_config.d/hactl-test.conf && systemctl reload ssh"
            ),
        );
        assert!(
            setup.status.success(),
            "{}",
            String::from_utf8_lossy(&setup.stderr)
        );
        // sshd re-executes itself on reload: wait until sessions come through the wrapper.
        let start = std::time::Instant::now();
        loop {
            let seen = self.ssh(host, probe);
            if String::from_utf8_lossy(&seen.stdout).trim() == want {
                return;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "{host}: sessions never showed {want:?} for {probe:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// Runs the test named `test` again, in this same test binary, inside the controller
    /// namespace, so everything it does on the network stays in the fleet. Panics if it fails.
    pub fn rerun_inside(&self, test: &str) {
        let exe = std::env::current_exe().expect("test binary");
        let out = self
            .ctl(exe)
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env("HACTL_TEST_FLEET_STATE", &self.state)
            .output()
            .expect("rerun test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{test} failed inside the controller namespace:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// How hactl's transport reaches `host` of the fleet whose state folder is `state`: the
/// fleet's key and known_hosts, host keys checked.
pub fn target(state: &Path, host: &str) -> hactl::transport::Target {
    let addr = std::fs::read_to_string(state.join(format!("addr-{host}"))).expect("host address");
    hactl::transport::Target {
        name: host.into(),
        address: addr.trim().into(),
        user: Some("root".into()),
        private_key: Some(state.join("id_ed25519")),
        ssh_args: vec![hactl::transport::SshArgs {
            kind: hactl::transport::SshArgsKind::Common,
            source: "test".into(),
            words: vec![
                "-o".into(),
                format!("UserKnownHostsFile={}", state.join("known_hosts").display()),
            ],
        }],
        check_host_key: true,
        connect_timeout: Some(std::time::Duration::from_secs(5)),
        ..hactl::transport::Target::default()
    }
}
