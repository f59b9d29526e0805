//! `promote_secondaries`: keepalived 2.2.7 sets `net.ipv4.conf.IF.promote_secondaries` to 1
//! on the interface of every instance that asks for it when it starts (whatever the state),
//! so that removing the primary address of a subnet promotes the VIPs in that subnet instead
//! of deleting them, and puts the value it found back at exit (checked in a namespace with
//! `sysctl`). The agent does the same through `/proc/sys`, which shows the sysctls of its own
//! network namespace.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The values this run changed, to put back at exit.
#[derive(Debug, Default)]
pub struct PromoteSecondaries {
    /// Interface name and the value found there before this run set 1.
    originals: BTreeMap<String, String>,
    /// Where the per-interface sysctls are (a test may point elsewhere).
    root: PathBuf,
}

/// Why a sysctl could not be set.
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error("'{0}' is not an interface name")]
    BadName(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl PromoteSecondaries {
    pub fn new() -> Self {
        Self::with_root(PathBuf::from("/proc/sys/net/ipv4/conf"))
    }

    pub fn with_root(root: PathBuf) -> Self {
        PromoteSecondaries {
            originals: BTreeMap::new(),
            root,
        }
    }

    fn path(&self, ifname: &str) -> Result<PathBuf, PromoteError> {
        // A name from the config becomes a path: nothing that could leave the folder.
        if ifname.is_empty() || ifname.contains('/') || ifname.starts_with('.') {
            return Err(PromoteError::BadName(ifname.to_owned()));
        }
        Ok(self.root.join(ifname).join("promote_secondaries"))
    }

    /// Sets promote_secondaries on `ifname`, remembering the value found the first time.
    pub fn enable(&mut self, ifname: &str) -> Result<(), PromoteError> {
        let path = self.path(ifname)?;
        let io = |source| PromoteError::Io {
            path: path.display().to_string(),
            source,
        };
        if !self.originals.contains_key(ifname) {
            let old = std::fs::read_to_string(&path).map_err(io)?;
            self.originals
                .insert(ifname.to_owned(), old.trim().to_owned());
        }
        std::fs::write(&path, "1").map_err(io)
    }

    /// Puts back every value this run changed (at exit); the interfaces it could not restore.
    pub fn restore(&mut self) -> Vec<(String, PromoteError)> {
        let mut failed = Vec::new();
        for (ifname, old) in std::mem::take(&mut self.originals) {
            let result = self.path(&ifname).and_then(|path| {
                std::fs::write(&path, &old).map_err(|source| PromoteError::Io {
                    path: path.display().to_string(),
                    source,
                })
            });
            if let Err(e) = result {
                failed.push((ifname, e));
            }
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(values: &[(&str, &str)]) -> (tempfile::TempDir, PromoteSecondaries) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (ifname, v) in values {
            std::fs::create_dir(dir.path().join(ifname)).expect("mkdir");
            std::fs::write(dir.path().join(ifname).join("promote_secondaries"), v).expect("w");
        }
        let p = PromoteSecondaries::with_root(dir.path().to_path_buf());
        (dir, p)
    }

    fn read(dir: &tempfile::TempDir, ifname: &str) -> String {
        std::fs::read_to_string(dir.path().join(ifname).join("promote_secondaries")).expect("read")
    }

    #[test]
    fn sets_one_and_puts_the_original_back() {
        let (dir, mut p) = fake(&[("eth0", "0\n"), ("eth1", "1\n")]);
        p.enable("eth0").expect("eth0");
        p.enable("eth0").expect("twice");
        p.enable("eth1").expect("eth1");
        assert_eq!(
            (read(&dir, "eth0"), read(&dir, "eth1")),
            ("1".into(), "1".into())
        );
        assert!(p.restore().is_empty());
        assert_eq!(
            (read(&dir, "eth0"), read(&dir, "eth1")),
            ("0".into(), "1".into())
        );
        // Nothing left to restore.
        std::fs::write(dir.path().join("eth0/promote_secondaries"), "1").expect("w");
        assert!(p.restore().is_empty());
        assert_eq!(read(&dir, "eth0"), "1");
    }

    #[test]
    fn names_that_are_not_interfaces_are_refused() {
        let (_dir, mut p) = fake(&[]);
        for bad in ["", "../x", "a/b", ".", ".."] {
            assert!(
                matches!(p.enable(bad), Err(PromoteError::BadName(_))),
                "{bad}"
            );
        }
        assert!(matches!(p.enable("eth9"), Err(PromoteError::Io { .. })));
    }
}
