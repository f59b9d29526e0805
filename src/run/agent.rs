//! Which hactl-agent binary a run installs: the one built beside the running `hactl` (or
//! `HACTL_AGENT`), and the version string it must report. The shipped role reads them as the
//! magic variables `hactl_agent_path` and `hactl_agent_version`.

use std::path::PathBuf;

/// What `hactl-agent --version` prints for the agent of this controller's build (both crates
/// share the workspace version).
pub fn expected_version() -> String {
    format!("hactl-agent {}", env!("CARGO_PKG_VERSION"))
}

/// The agent binary to install: `HACTL_AGENT` if set, else `hactl-agent` in the folder of the
/// running executable (for a test binary in `target/debug/deps`, the folder above it too).
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HACTL_AGENT") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("hactl-agent"), dir.parent()?.join("hactl-agent")]
        .into_iter()
        .find(|p| p.is_file())
}

/// The magic variables, for every host of every play.
pub fn magic_vars() -> Vec<(&'static str, String)> {
    let mut vars = vec![("hactl_agent_version", expected_version())];
    if let Some(path) = binary() {
        vars.push(("hactl_agent_path", path.display().to_string()));
    }
    vars
}
