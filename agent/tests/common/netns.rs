//! Throw-away network namespaces for root-only tests.
//!
//! A [`NetNs`] is created with `ip netns add` under a name unique to this process and test,
//! and deleted by its `Drop` even when the test panics. Code runs "inside" a namespace by
//! [`NetNs::enter`]: a helper thread `setns()`s into it, runs the closure and exits, so the
//! test's own threads never leave the root namespace. Sockets keep the namespace they were
//! created in, so a socket opened in `enter` can be used anywhere afterwards; if the caller is
//! inside a tokio runtime the helper thread enters it too, so sockets register with that
//! runtime's reactor and spawned tasks land on it.

use std::fs::File;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sched::{CloneFlags, setns};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether the tests can create namespaces at all.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A network namespace deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    /// Creates `hactl-<pid>-<tag><n>`; panics (failing the test) if `ip netns add` fails.
    pub fn create(tag: &str) -> NetNs {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("hactl-{}-{tag}{n}", std::process::id());
        run(&["ip", "netns", "add", &name]);
        let ns = NetNs { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `ip -n <ns> <args>`, panicking with its stderr on failure; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["ip", "-n", self.name.as_str()];
        full.extend_from_slice(args);
        run(&full)
    }

    /// Runs `f` on a thread that has joined this namespace, and returns its result. A panic
    /// in `f` is re-raised here.
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        let runtime = tokio::runtime::Handle::try_current().ok();
        std::thread::scope(|s| {
            let handle = s.spawn(|| {
                let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                setns(&file, CloneFlags::CLONE_NEWNET)
                    .unwrap_or_else(|e| panic!("setns {path}: {e}"));
                let _guard = runtime.as_ref().map(|r| r.enter());
                f()
            });
            match handle.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// The index of `ifname` inside this namespace.
    pub fn ifindex(&self, ifname: &str) -> u32 {
        self.enter(|| hactl_agent::network::ifindex(ifname).expect("interface exists"))
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        // Deleting the namespace also destroys its interfaces (a veth's peer goes with it).
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Connects `a:a_if` and `b:b_if` with a veth pair created directly inside the namespaces,
/// so the root namespace never holds either end.
pub fn veth(a: &NetNs, a_if: &str, b: &NetNs, b_if: &str) {
    a.ip(&[
        "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", &b.name,
    ]);
    a.ip(&["link", "set", a_if, "up"]);
    b.ip(&["link", "set", b_if, "up"]);
}

/// Runs a command, panicking with its output unless it succeeds; returns stdout.
pub fn run(argv: &[&str]) -> String {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("spawn {argv:?}: {e}"));
    assert!(
        out.status.success(),
        "{argv:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
