//! Notify FIFOs (`notify_fifo`, `vrrp_notify_fifo` and their `_script`s), as keepalived 2.2.7
//! runs them: the FIFO is created (mode 0600) if it does not exist and removed at stop if it
//! was created; it is held open for reading and writing, so lines are kept (up to the pipe's
//! size) until a reader comes; every state change writes one line,
//! `INSTANCE "VI_1" MASTER 100` or `GROUP "G" BACKUP 0` (STOP and DELETED too); the script,
//! if any, is started once with the FIFO's path appended and stopped with the daemon.
//!
//! A full FIFO (no reader for a long time) drops the line with a warning rather than holding
//! up the instance.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use nix::sys::stat::Mode;

use super::{Kind, NotifyState};
use crate::track::{RunAs, ScriptCommand};

/// One FIFO as configured (users resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoSpec {
    pub path: PathBuf,
    /// Owner of a FIFO the agent creates.
    pub owner: Option<RunAs>,
    pub script: Option<ScriptCommand>,
}

#[derive(Debug)]
struct OpenFifo {
    spec: FifoSpec,
    file: File,
    created: bool,
    /// Killed when dropped.
    script: Option<tokio::process::Child>,
}

impl Drop for OpenFifo {
    fn drop(&mut self) {
        // The script leads its own process group: SIGTERM reaches what it started too.
        if let Some(pid) = self.script.as_ref().and_then(tokio::process::Child::id) {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        if self.created {
            let _ = std::fs::remove_file(&self.spec.path);
        }
    }
}

/// The daemon's open FIFOs, shared by every instance task; clones share them.
#[derive(Debug, Clone, Default)]
pub struct NotifyFifos {
    open: Arc<Mutex<Vec<OpenFifo>>>,
}

/// The line keepalived writes for a state change.
pub fn line(kind: Kind, name: &str, state: NotifyState, priority: u8) -> String {
    let priority = match kind {
        Kind::Instance => priority,
        Kind::Group => 0,
    };
    format!(
        "{} \"{name}\" {} {priority}\n",
        kind.as_str(),
        state.as_str()
    )
}

impl NotifyFifos {
    /// Opens the FIFOs of `specs` that are not open yet and closes (and removes, if created)
    /// the others. Must run inside the tokio runtime (scripts are its children).
    pub fn apply(&self, specs: &[FifoSpec]) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|f| specs.contains(&f.spec));
        for spec in specs {
            if open.iter().any(|f| f.spec == *spec) {
                continue;
            }
            match open_fifo(spec) {
                Ok(f) => open.push(f),
                Err(e) => {
                    tracing::error!(fifo = %spec.path.display(), error = %e, "notify FIFO not opened")
                }
            }
        }
    }

    /// Writes one state change to every FIFO.
    pub fn write(&self, kind: Kind, name: &str, state: NotifyState, priority: u8) {
        let text = line(kind, name, state, priority);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for f in open.iter_mut() {
            if let Err(e) = f.file.write_all(text.as_bytes()) {
                tracing::warn!(fifo = %f.spec.path.display(), error = %e, line = text.trim_end(),
                    "notify FIFO full or closed: line dropped");
            }
        }
    }

    /// Stops the scripts and closes (and removes, if created) every FIFO.
    pub fn close(&self) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

fn open_fifo(spec: &FifoSpec) -> std::io::Result<OpenFifo> {
    let created = match std::fs::symlink_metadata(&spec.path) {
        Ok(m) if m.file_type().is_fifo() => false,
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} exists and is not a FIFO",
                spec.path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            nix::unistd::mkfifo(&spec.path, Mode::S_IRUSR | Mode::S_IWUSR)?;
            if let Some(owner) = spec.owner {
                nix::unistd::chown(&spec.path, Some(owner.uid), Some(owner.gid))?;
            }
            true
        }
        Err(e) => return Err(e),
    };
    // Read and write: opening never waits for a reader, and the pipe keeps lines until one
    // comes.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW)
        .open(&spec.path);
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            if created {
                let _ = std::fs::remove_file(&spec.path);
            }
            return Err(e);
        }
    };
    let script = match &spec.script {
        Some(s) => match s.command([spec.path.as_os_str()]).spawn() {
            Ok(child) => Some(child),
            Err(e) => {
                tracing::warn!(script = %s.display(), error = %e, "cannot run notify FIFO script");
                None
            }
        },
        None => None,
    };
    tracing::info!(fifo = %spec.path.display(), created, "notify FIFO open");
    Ok(OpenFifo {
        spec: spec.clone(),
        file,
        created,
        script,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn lines_as_keepalived_writes_them() {
        assert_eq!(
            line(Kind::Instance, "VI_1", NotifyState::Master, 100),
            "INSTANCE \"VI_1\" MASTER 100\n"
        );
        assert_eq!(
            line(Kind::Group, "G", NotifyState::Stop, 100),
            "GROUP \"G\" STOP 0\n"
        );
    }

    #[tokio::test]
    async fn created_written_kept_for_a_late_reader_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("n.fifo");
        let fifos = NotifyFifos::default();
        let spec = FifoSpec {
            path: path.clone(),
            owner: None,
            script: None,
        };
        fifos.apply(std::slice::from_ref(&spec));
        let meta = std::fs::metadata(&path).expect("created");
        assert!(meta.file_type().is_fifo());
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600
        );
        fifos.write(Kind::Instance, "VI_1", NotifyState::Backup, 90);
        let mut reader = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(&path)
            .expect("reader");
        fifos.write(Kind::Group, "G", NotifyState::Master, 90);
        fifos.close();
        assert!(!path.exists(), "a FIFO the agent created goes at stop");
        let mut text = String::new();
        let _ = reader.read_to_string(&mut text);
        assert_eq!(text, "INSTANCE \"VI_1\" BACKUP 90\nGROUP \"G\" MASTER 0\n");
        // A plain file in the way is not replaced.
        std::fs::write(&path, "x").expect("file");
        fifos.apply(&[spec]);
        assert_eq!(std::fs::read_to_string(&path).expect("kept"), "x");
    }
}
