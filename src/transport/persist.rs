//! Master connections that outlive one run, as Ansible keeps them (`ControlPersist=60s`).
//!
//! Opening an SSH connection costs a key exchange, authentication and a first session on the
//! host: about 0.2 s on the test fleet, most of a no-change run. A master started with
//! `ControlPersist` stays up after the run for the idle time asked, and the next run of hactl
//! for the same host, user, port, key and options finds its socket and opens a channel on it
//! in about 10 ms.
//!
//! The sockets live in `HACTL_CONTROL_PATH_DIR`, else `~/.hactl/cp` (mode 0700, like
//! `~/.ansible/cp`). The `openssh` crate makes each master's socket inside a fresh folder of
//! that directory; a symlink named by a hash of everything that shapes the connection (and of
//! the network namespace, since a socket in the file system would otherwise hand a run in one
//! namespace a master that lives in another) points at it.

use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

use super::Target;

/// Where the masters of one target are found and made.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The folder the masters' folders are made in.
    pub dir: PathBuf,
    /// The symlink to this target's socket.
    pub link: PathBuf,
}

/// The control directory, created 0700 if missing; `None` if there is no home to put it in
/// or it cannot be made (then hactl connects without persistence).
fn control_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("HACTL_CONTROL_PATH_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".hactl/cp"),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ok()?;
    // A directory another user can write to could be handed a socket of theirs.
    let meta = std::fs::metadata(&dir).ok()?;
    (meta.permissions().mode() & 0o022 == 0).then_some(dir)
}

/// The slot for `target`, or `None` when persistence cannot be used.
pub fn slot(target: &Target) -> Option<Slot> {
    let dir = control_dir()?;
    let link = dir.join(key(target));
    Some(Slot { dir, link })
}

/// A short hash of everything that shapes a connection to `target`.
fn key(target: &Target) -> String {
    let netns = std::fs::read_link("/proc/self/ns/net")
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut h = Sha256::new();
    let text = format!(
        "{netns}\0{}\0{:?}\0{:?}\0{:?}\0{:?}\0{}",
        target.address,
        target.port,
        target.user,
        target.private_key,
        target.ssh_options,
        target.check_host_key
    );
    h.update(text.as_bytes());
    let digest = h.finalize();
    digest[..10].iter().map(|b| format!("{b:02x}")).collect()
}

impl Slot {
    /// The socket a live master of this target may be listening on.
    pub fn existing(&self) -> Option<PathBuf> {
        let target = std::fs::read_link(&self.link).ok()?;
        let socket = self.dir.join(target);
        socket.exists().then_some(socket)
    }

    /// Points the slot at `socket` (a master just made in [`Slot::dir`]), replacing what was
    /// there in one rename.
    pub fn point_at(&self, socket: &Path) {
        let Ok(rel) = socket.strip_prefix(&self.dir) else {
            return;
        };
        let tmp = self
            .link
            .with_extension(format!("new{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        if std::os::unix::fs::symlink(rel, &tmp).is_ok()
            && std::fs::rename(&tmp, &self.link).is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// Forgets a master that no longer answers: the link and its folder.
    pub fn forget(&self) {
        if let Ok(target) = std::fs::read_link(&self.link) {
            if let Some(folder) = self.dir.join(target).parent() {
                if folder != self.dir {
                    let _ = std::fs::remove_dir_all(folder);
                }
            }
        }
        let _ = std::fs::remove_file(&self.link);
    }

    /// Removes the folders of masters that have exited (ssh removes its socket when it goes;
    /// the folder and log stay), and links to them. Young folders are left alone: their
    /// master may still be starting.
    pub fn sweep(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let old = |p: &Path| {
            std::fs::symlink_metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > Duration::from_secs(120))
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && name.starts_with(".ssh-connection") {
                if !path.join("master").exists() && old(&path) {
                    let _ = std::fs::remove_dir_all(&path);
                }
            } else if kind.is_symlink() && !path.exists() && old(&path) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_every_connection_setting() {
        let t = Target {
            name: "lb1".into(),
            address: "198.51.100.11".into(),
            check_host_key: true,
            ..Target::default()
        };
        let base = key(&t);
        assert_eq!(base.len(), 20);
        assert_eq!(key(&t), base, "stable");
        let renamed = Target {
            name: "other".into(),
            ..t.clone()
        };
        assert_eq!(
            key(&renamed),
            base,
            "the inventory name does not shape the connection"
        );
        for changed in [
            Target {
                port: Some(2222),
                ..t.clone()
            },
            Target {
                user: Some("deploy".into()),
                ..t.clone()
            },
            Target {
                check_host_key: false,
                ..t.clone()
            },
            Target {
                ssh_options: vec![("ProxyJump".into(), "bastion".into())],
                ..t.clone()
            },
        ] {
            assert_ne!(key(&changed), base, "{changed:?}");
        }
    }

    #[test]
    fn links_point_at_sockets_and_dead_masters_are_swept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let slot = Slot {
            dir: dir.path().into(),
            link: dir.path().join("abc"),
        };
        assert!(slot.existing().is_none());
        let folder = dir.path().join(".ssh-connectionXYZ");
        std::fs::create_dir(&folder).expect("mkdir");
        let socket = folder.join("master");
        std::fs::write(&socket, b"").expect("stand-in socket");
        slot.point_at(&socket);
        assert_eq!(slot.existing(), Some(socket.clone()));
        // The master exits: ssh removes its socket. A young folder stays, the link resolves
        // to nothing.
        std::fs::remove_file(&socket).expect("rm");
        assert!(slot.existing().is_none());
        slot.sweep();
        assert!(folder.exists(), "young folders are kept");
        slot.forget();
        assert!(!folder.exists() && std::fs::symlink_metadata(&slot.link).is_err());
    }
}
