//! Master connections that outlive one run, as Ansible keeps them (`ControlPersist=60s`).
//!
//! Opening an SSH connection costs a key exchange, authentication and a first session on the
//! host: about 0.2 s on the test fleet, most of a no-change run. A master started with
//! `ControlPersist` stays up after the run for the idle time asked, and the next run of hactl
//! for the same host, user, port, key and options finds its socket and opens a channel on it
//! in about 10 ms.
//!
//! The sockets live in `HACTL_CONTROL_PATH_DIR`, else ansible.cfg's `control_path_dir`
//! (`ANSIBLE_SSH_CONTROL_PATH_DIR`), else `~/.hactl/cp` (made with mode 0700,
//! like `~/.ansible/cp`; an existing folder that another user owns, or whose mode lets group
//! or others in, is refused before any connection is made). The `openssh` crate makes each master's socket inside a fresh folder of
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

/// The control directory, created 0700 if missing. `Ok(None)` if there is no home to put it in
/// or it cannot be made (then hactl connects without persistence); an error if it exists but
/// is not private (see [`check_private`]).
fn control_dir(configured: Option<&Path>) -> Result<Option<PathBuf>, String> {
    let dir = match std::env::var_os("HACTL_CONTROL_PATH_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => match (configured, std::env::var_os("HOME")) {
            (Some(dir), _) => dir.to_path_buf(),
            (None, Some(home)) => PathBuf::from(home).join(".hactl/cp"),
            (None, None) => return Ok(None),
        },
    };
    prepare(&dir)
}

/// Makes `dir` (0700) if it is missing, then checks that it is private.
fn prepare(dir: &Path) -> Result<Option<PathBuf>, String> {
    if std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .is_err()
    {
        return Ok(None);
    }
    check_private(dir)?;
    Ok(Some(dir.to_path_buf()))
}

/// Refuses a control directory that another user owns or that group or others may use: a
/// socket planted there would carry this run's commands to the planter's master (OpenSSH
/// likewise refuses unsafe control paths). Symlinks are followed: what counts is the folder
/// the sockets end up in.
pub fn check_private(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;
    let meta =
        std::fs::metadata(dir).map_err(|e| format!("ssh control folder {}: {e}", dir.display()))?;
    let fix = "make it yours with mode 0700, set HACTL_CONTROL_PATH_DIR to a private folder, \
               or run with --ssh-persist 0";
    if !meta.is_dir() {
        return Err(format!(
            "ssh control folder {} is not a folder; {fix}",
            dir.display()
        ));
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "refusing the ssh control folder {}: it is owned by uid {}, not by this user \
             (uid {me}), who could hand hactl a socket of theirs; {fix}",
            dir.display(),
            meta.uid()
        ));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "refusing the ssh control folder {}: its mode is {mode:04o}, not 0700 (group or \
             others may use it); {fix}",
            dir.display()
        ));
    }
    Ok(())
}

/// The slot for `target`; `Ok(None)` when persistence cannot be used, an error when the
/// control directory is not safe to use.
pub fn slot(target: &Target) -> Result<Option<Slot>, String> {
    let Some(dir) = control_dir(target.control_path_dir.as_deref())? else {
        return Ok(None);
    };
    let link = dir.join(key(target));
    Ok(Some(Slot { dir, link }))
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
        target.ssh_args,
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
                ssh_args: vec![crate::transport::SshArgs {
                    kind: crate::transport::SshArgsKind::Common,
                    source: "test".into(),
                    words: vec!["-J".into(), "bastion".into()],
                }],
                ..t.clone()
            },
        ] {
            assert_ne!(key(&changed), base, "{changed:?}");
        }
    }

    #[test]
    fn a_folder_made_fresh_is_private_and_used() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("a/cp");
        assert_eq!(prepare(&dir), Ok(Some(dir.clone())));
        let mode = std::fs::metadata(&dir).expect("made").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // And again, now that it exists.
        assert_eq!(prepare(&dir), Ok(Some(dir.clone())));
    }

    #[test]
    fn a_folder_others_may_use_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        for mode in [0o755, 0o750, 0o705, 0o710, 0o701, 0o777, 0o1777] {
            let dir = tmp.path().join(format!("cp{mode:o}"));
            std::fs::create_dir(&dir).expect("mkdir");
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let err = prepare(&dir).expect_err("refused");
            assert!(
                err.contains(&format!("{}", dir.display())) && err.contains("not 0700"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_folder_of_another_user_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("cp");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let me = nix::unistd::geteuid().as_raw();
        let other = if me == 65534 { 65533 } else { 65534 };
        if std::os::unix::fs::chown(&dir, Some(other), None).is_err() {
            // Only root can give a folder away; as another user the check is the same code.
            return;
        }
        let err = prepare(&dir).expect_err("refused");
        assert!(err.contains(&format!("owned by uid {other}")), "{err}");
        // A symlink to it is no way around the check.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).expect("symlink");
        assert!(prepare(&link).is_err());
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
