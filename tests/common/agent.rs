//! The statically linked hactl-agent that `hactl apply` installs (see src/run/agent.rs), built
//! once per test process with the command the README gives. Cargo does nothing when it is up
//! to date, and rebuilds it when the agent's code changed, so a fleet test never installs a
//! stale agent (hactl only checks the version string on the hosts).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The static agent of this checkout, built if needed; panics with cargo's output when the
/// build fails.
pub fn static_agent() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .current_dir(root)
            .args([
                "build",
                "--locked",
                "--profile",
                "agent",
                "-p",
                "hactl-agent",
                "--target",
                "x86_64-unknown-linux-musl",
            ])
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "building the static agent failed (is the target installed? \
             rustup target add x86_64-unknown-linux-musl):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target_dir(root).join("x86_64-unknown-linux-musl/agent/hactl-agent")
    })
}

/// Cargo's target folder: `CARGO_TARGET_DIR` when set, else `target/` of the workspace.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}
