//! `fetch`: a file of the host copied to the controller, as Ansible's fetch action does:
//! `dest/INVENTORY_HOSTNAME/SRC` (or `dest` itself with `flat`, `dest/BASENAME` for a `dest`
//! ending in `/`), a relative `dest` taken from the playbook's folder, `fail_on_missing`,
//! and `changed` only when the controller's copy differs (SHA-1, Ansible's checksum).
//!
//! One round trip: the controller sends the SHA-1 of the copy it has; the host answers with
//! its own, its MD5 (for `md5sum`), and the content (base64) only when they differ. The copy
//! is written atomically (a temp file in the same folder, then a rename), keeping the mode of
//! a copy it replaces. Check mode skips the task, as Ansible does.

use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use super::args::Args;
use super::edit::assign;
use super::protocol::{self, field};
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::stat::EXPAND_HOME;
use super::{ArgError, Outcome, Status};

const PARAMS: &[&str] = &[
    "src",
    "dest",
    "flat",
    "fail_on_missing",
    "validate_checksum",
];

/// Arguments: `path`, `want` (the controller's SHA-1, or empty).
const SCRIPT: &str = include_str!("fetch.sh");

#[derive(Debug)]
pub struct Fetch;

static SPEC: Spec = Spec {
    name: "fetch",
    aliases: &[],
    runs: Runs::Both,
    free_form: false,
    params: Some(PARAMS),
    check_mode: false,
    about: "copy a file of the host to the controller",
};

impl Module for Fetch {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

/// What the task asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub src: String,
    pub dest: String,
    pub flat: bool,
    pub fail_on_missing: bool,
    pub validate_checksum: bool,
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("fetch", args, PARAMS)?;
    let (Some(src), Some(dest)) = (a.str(&["src"])?, a.str(&["dest"])?) else {
        return Err(ArgError("src and dest are required".into()));
    };
    Ok(Params {
        src,
        dest,
        flat: a.bool(&["flat"])?.unwrap_or(false),
        fail_on_missing: a.bool(&["fail_on_missing"])?.unwrap_or(true),
        validate_checksum: a.bool(&["validate_checksum"])?.unwrap_or(true),
    })
}

/// Python's `os.path.normpath` (lexical: `.`, `..` and repeated slashes go).
pub fn normpath(p: &str) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Where the copy goes on the controller, as Ansible's fetch works it out.
pub fn local_dest(p: &Params, host: &str, playbook_dir: &Path) -> Result<PathBuf, String> {
    let dwim = |d: &str| -> PathBuf {
        if d.starts_with('/') {
            PathBuf::from(d)
        } else {
            playbook_dir.join(d)
        }
    };
    if p.flat {
        let mut dest = p.dest.clone();
        if Path::new(&dest).is_dir() && !dest.ends_with('/') {
            return Err(
                "dest is an existing directory, use a trailing slash if you want to fetch src into that directory"
                    .into(),
            );
        }
        if dest.ends_with('/') {
            let base = p.src.rsplit('/').next().unwrap_or_default();
            dest = format!("{dest}{base}");
            if Path::new(&dest).is_dir() {
                return Err(format!(
                    "calculated dest '{dest}' is an existing directory, use another path that does not point to an existing directory"
                ));
            }
        }
        return Ok(normpath(&dwim(&dest).to_string_lossy()));
    }
    let base = dwim(&p.dest);
    let root = normpath(&format!("{}/{host}", base.display()));
    let dest = normpath(&format!("{}/{host}/{}", base.display(), p.src));
    // Ansible would write outside `dest/HOST` for a `src` with `..` in it; hactl refuses.
    if !dest.starts_with(&root) || dest == root {
        return Err(format!(
            "Detected directory traversal, expected to be contained in '{}' but got '{}'",
            root.display(),
            dest.display()
        ));
    }
    Ok(dest)
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SHA-1 of a controller file, or `None` when there is none (or it is a folder).
fn local_checksum(p: &Path) -> Option<String> {
    if p.is_dir() {
        return None;
    }
    std::fs::read(p).ok().map(|b| sha1_hex(&b))
}

/// Writes `bytes` at `dest` atomically: a temp file beside it, renamed over it; a file it
/// replaces keeps its permissions, a new one gets 0666 less the umask (as Python's `open`).
fn write_atomic(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let old = std::fs::metadata(dest).ok().map(|m| m.permissions());
    let mut tmp = tempfile::Builder::new()
        .prefix(".hactl-fetch.")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    let perms = match old {
        Some(p) => p,
        None => {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::Permissions::from_mode(0o666 & !umask())
        }
    };
    tmp.as_file().set_permissions(perms)?;
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// The process's umask, read without changing it (`umask(2)` would, for all threads).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

async fn run(cx: &mut Cx<'_>) -> Result<Outcome, Unreachable> {
    if cx.mode.check {
        return Ok(Outcome::new(Status::Skipped)
            .with("msg", "check mode not (yet) supported for this module"));
    }
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    if cx.offline() {
        return Ok(Outcome::offline(cx.module));
    }
    let dest = match local_dest(&p, cx.host, cx.playbook_dir) {
        Ok(d) => d,
        Err(msg) => return Ok(Outcome::failed(msg)),
    };
    let have = local_checksum(&dest);
    let script = assign(
        &[
            ("path", &p.src),
            ("want", have.as_deref().unwrap_or_default()),
        ],
        &format!("{EXPAND_HOME}{SCRIPT}"),
    );
    let Some(out) = cx.exec(&script, b"").await? else {
        return Ok(Outcome::offline(cx.module));
    };
    if !out.success() {
        return Ok(protocol::failed_from(&out, "Failed to fetch the file."));
    }
    let fields = protocol::fields(&out.stdout);
    let ignored = |o: Outcome| {
        if p.fail_on_missing {
            o
        } else {
            Outcome::changed(false).with("file", p.src.clone())
        }
    };
    match field(&fields, "error") {
        Some("dir") => {
            let msg = "remote file is a directory, fetch cannot work on directories";
            return Ok(if p.fail_on_missing {
                Outcome::failed(msg)
            } else {
                Outcome::changed(false).with("msg", format!("{msg}, not transferring, ignored"))
            });
        }
        Some("missing") => {
            let msg = "the remote file does not exist, not transferring, ignored";
            return Ok(ignored(Outcome::failed(msg)).with("msg", msg));
        }
        Some("unreadable") => {
            return Ok(ignored(Outcome::failed(format!(
                "File is not readable: {}",
                p.src
            ))));
        }
        _ => {}
    }
    let remote = field(&fields, "checksum").unwrap_or_default().to_string();
    let md5 = field(&fields, "md5")
        .filter(|m| !m.is_empty())
        .map_or(Value::Null, |m| Value::String(m.into()));
    let dest_s = dest.display().to_string();
    if have.as_deref() == Some(remote.as_str()) {
        return Ok(Outcome::changed(false)
            .with("md5sum", md5)
            .with("file", p.src)
            .with("dest", dest_s)
            .with("checksum", remote));
    }
    let Some(content) = field(&fields, "content").and_then(|c| {
        base64::engine::general_purpose::STANDARD
            .decode(c.trim())
            .ok()
    }) else {
        return Ok(Outcome::failed("Failed to fetch the file.").with("file", p.src));
    };
    let got = sha1_hex(&content);
    if p.validate_checksum && got != remote {
        return Ok(Outcome::failed("checksum mismatch")
            .with("md5sum", Value::Null)
            .with("file", p.src)
            .with("dest", dest_s)
            .with("remote_md5sum", Value::Null)
            .with("checksum", got)
            .with("remote_checksum", remote));
    }
    if let Err(e) = write_atomic(&dest, &content) {
        return Ok(Outcome::failed(format!(
            "Failed to fetch the file. ({}: {e})",
            dest.display()
        )));
    }
    Ok(Outcome::changed(true)
        .with("md5sum", md5)
        .with("dest", dest_s)
        .with("remote_md5sum", Value::Null)
        .with("checksum", got)
        .with("remote_checksum", remote))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Params {
        params(v.as_object().expect("map")).expect("params")
    }

    #[test]
    fn dest_layout_as_ansible() {
        let pb = Path::new("/play");
        let got = local_dest(&p(json!({"src": "/etc/hosts", "dest": "out"})), "web1", pb);
        assert_eq!(got, Ok(PathBuf::from("/play/out/web1/etc/hosts")));
        let got = local_dest(
            &p(json!({"src": "rel/x.conf", "dest": "/abs/"})),
            "web1",
            pb,
        );
        assert_eq!(got, Ok(PathBuf::from("/abs/web1/rel/x.conf")));
        let got = local_dest(
            &p(json!({"src": "/etc/hosts", "dest": "/nonexistent-hactl/", "flat": true})),
            "web1",
            pb,
        );
        assert_eq!(got, Ok(PathBuf::from("/nonexistent-hactl/hosts")));
        let got = local_dest(
            &p(json!({"src": "/etc/hosts", "dest": "copy.txt", "flat": "yes"})),
            "web1",
            pb,
        );
        assert_eq!(got, Ok(PathBuf::from("/play/copy.txt")));
        let err = local_dest(
            &p(json!({"src": "/etc/hosts", "dest": "/tmp", "flat": true})),
            "h",
            pb,
        )
        .expect_err("existing dir");
        assert!(err.starts_with("dest is an existing directory"), "{err}");
        let err = local_dest(&p(json!({"src": "../../../etc/x", "dest": "/o"})), "h", pb)
            .expect_err("traversal");
        assert!(err.contains("directory traversal"), "{err}");
    }

    #[test]
    fn arguments() {
        let err = params(json!({"src": "/x"}).as_object().expect("map")).expect_err("dest");
        assert_eq!(err.0, "src and dest are required");
        assert_eq!(normpath("/a//b/./c/../d"), PathBuf::from("/a/b/d"));
    }

    #[test]
    fn writes_atomically_and_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("sub/f");
        write_atomic(&f, b"one").expect("write");
        assert_eq!(std::fs::read(&f).expect("read"), b"one");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        write_atomic(&f, b"two").expect("write");
        assert_eq!(std::fs::read(&f).expect("read"), b"two");
        let mode = std::fs::metadata(&f).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let left: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .expect("ls")
            .collect();
        assert_eq!(left.len(), 1, "no temp file is left behind");
    }
}
