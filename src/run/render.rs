//! `hactl render`: every `template` task (and the `content:` of every `copy` task), loops
//! included, rendered for every targeted host into `DIR/<inventory_hostname>/<dest>`, without
//! touching any host. The playbook engine walks plays exactly as `hactl apply` does (roles,
//! blocks, includes, `when`), running the controller's modules (`set_fact`, `include_vars`,
//! `assert`, ...) and no module on a host.
//!
//! A `dest` is taken as a path under `DIR/<host>/` and never leaves it: `..` is resolved
//! first and a path that climbs out is refused, as is one that passes through a symlink to
//! somewhere outside DIR. Files get the task's `mode:` (octal or symbolic), else 0600 when
//! they look like they hold a secret (the lines `--diff` masks, or a private key), else the
//! default of a new file (0666 less the umask).

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Component, Path, PathBuf};

use super::context::Facts;
use crate::inventory::Inventory;
use crate::playbook::{Playbook, Vars};

/// What to render and where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write files under `out/<host>/`; `None` keeps them in [`Report::files`] instead.
    pub out: Option<PathBuf>,
    pub limit: Option<String>,
    pub extra_vars: Vars,
    pub facts: Facts,
    /// Render only the files whose destination path passes this test (`hactl lint` renders
    /// keepalived configs only, so a broken nginx template does not hide them).
    pub only: Option<fn(&str) -> bool>,
}

/// A file rendered in memory.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub host: String,
    /// The destination path on the host.
    pub dest: String,
    /// The task's `src`, when it has one.
    pub src: Option<String>,
    /// The task's `mode:` argument, as written (`0640`, `u=rw,g=r`), when it has one.
    pub mode: Option<String>,
    /// Which task wrote it: `task 'NAME' at FILE:LINE`.
    pub task: String,
    pub bytes: Vec<u8>,
}

/// What a render did: files written, and per-host errors (other hosts carry on).
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    /// With no `out` folder: the rendered files, in render order.
    pub files: Vec<Rendered>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Renders every template of `pb` for every host its plays target: the playbook engine runs
/// offline (controller modules only), and the files it renders are written or kept.
pub fn render(inv: &Inventory, pb: &Playbook, opts: &Options) -> Result<Report, anyhow::Error> {
    let mode = crate::engine::Mode::Offline {
        facts: opts.facts.clone(),
        keep: opts.only,
    };
    let eopts = crate::engine::Options {
        limit: opts.limit.clone(),
        extra_vars: opts.extra_vars.clone(),
        skip_lint: true,
        ..Default::default()
    };
    let sink = crate::engine::events::Collect::default();
    // `unconstrained`: apply's lint gate and `--rolling` call this from inside a tokio task,
    // whose cooperative budget the inner engine's semaphores and channels would use up; past
    // it every tokio resource answers Pending and wakes at once, so this block_on spun
    // forever (seen with 10 hosts).
    let done = futures::executor::block_on(tokio::task::unconstrained(crate::engine::run(
        inv, pb, &eopts, &mode, &sink,
    )))?;
    let mut out = Output {
        opts,
        written: Vec::new(),
        files: Vec::new(),
    };
    let mut errors = done.errors;
    for r in done.rendered {
        let file = Rendered {
            host: r.host,
            dest: r.dest,
            src: r.src,
            mode: r.mode,
            task: r.task,
            bytes: r.bytes,
        };
        let (host, task) = (file.host.clone(), file.task.clone());
        if let Err(e) = out.write(file) {
            errors.push(format!("{host}: {task}: {e:#}"));
        }
    }
    Ok(Report {
        written: out.written,
        files: out.files,
        errors,
        warnings: done.warnings,
    })
}

/// Where rendered files go.
struct Output<'a> {
    opts: &'a Options,
    written: Vec<PathBuf>,
    files: Vec<Rendered>,
}

impl Output<'_> {
    /// Writes one rendered file under `DIR/<host>/`, or keeps it when there is no folder.
    fn write(&mut self, file: Rendered) -> anyhow::Result<()> {
        let Some(out) = &self.opts.out else {
            self.files.push(file);
            return Ok(());
        };
        let path = inside(out, &file.host, &file.dest)?;
        let mode = file_mode(file.mode.as_deref(), &file.bytes);
        write_file(out, &path, &file.bytes, &mode)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        self.written.push(path);
        Ok(())
    }
}

/// Why a rendered file cannot be written where its task says.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("the host name {host:?} cannot be a folder name under {out}")]
    Host { host: String, out: String },
    #[error("dest {dest:?} leaves the output folder {folder} (render writes only inside it)")]
    Escapes { dest: String, folder: String },
    #[error("dest {dest:?} names no file")]
    Empty { dest: String },
    #[error(
        "dest {dest:?} goes through the symlink {link}, which points outside the output folder {out}"
    )]
    Symlink {
        dest: String,
        link: String,
        out: String,
    },
}

/// Where `dest` of `host` goes under `out`: `out/host/dest` with `.` and `..` resolved by
/// name, refused if it climbs out of `out/host` or passes through a symlink that leads out
/// of `out`. The last part may be a symlink: the file replaces it and does not follow it.
pub fn inside(out: &Path, host: &str, dest: &str) -> Result<PathBuf, PathError> {
    let mut host_parts = Path::new(host).components();
    match (host_parts.next(), host_parts.next()) {
        (Some(Component::Normal(_)), None) => {}
        _ => {
            return Err(PathError::Host {
                host: host.to_string(),
                out: out.display().to_string(),
            });
        }
    }
    let folder = out.join(host);
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in Path::new(dest).components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(PathError::Escapes {
                        dest: dest.to_string(),
                        folder: folder.display().to_string(),
                    });
                }
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    if parts.is_empty() {
        return Err(PathError::Empty {
            dest: dest.to_string(),
        });
    }
    // Symlinks already in the folder (from an earlier render, or planted) must stay inside.
    let real_out = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    let mut at = folder.clone();
    let dirs = std::iter::once(None).chain(parts[..parts.len() - 1].iter().map(Some));
    for part in dirs {
        if let Some(p) = part {
            at.push(p);
        }
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            break;
        };
        if meta.file_type().is_symlink() {
            let leads_in = std::fs::canonicalize(&at).is_ok_and(|t| t.starts_with(&real_out));
            if !leads_in {
                return Err(PathError::Symlink {
                    dest: dest.to_string(),
                    link: at.display().to_string(),
                    out: out.display().to_string(),
                });
            }
        }
    }
    let mut path = folder;
    path.extend(parts);
    Ok(path)
}

/// The mode a rendered file gets.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileMode {
    /// The task's `mode:`.
    Asked(String),
    /// 0600: the content looks secret.
    Private,
    /// What a new file gets: 0666 less the umask.
    Default,
}

fn file_mode(asked: Option<&str>, bytes: &[u8]) -> FileMode {
    match asked {
        Some(m) => FileMode::Asked(m.to_string()),
        None if crate::report::holds_secret(&String::from_utf8_lossy(bytes)) => FileMode::Private,
        None => FileMode::Default,
    }
}

/// Writes `bytes` to `path` through a new file beside it, renamed over it: the rename replaces
/// a symlink in the last place rather than writing through it, and the mode is set before any
/// byte is written, so a secret is never readable by others, not even for a moment.
fn write_file(out: &Path, path: &Path, bytes: &[u8], mode: &FileMode) -> anyhow::Result<()> {
    let parent = path.parent().unwrap_or(out);
    std::fs::create_dir_all(parent)?;
    // Belt and braces: whatever was created must have landed inside the output folder.
    let real_out = std::fs::canonicalize(out)?;
    if !std::fs::canonicalize(parent)?.starts_with(&real_out) {
        anyhow::bail!("{} is outside {}", parent.display(), out.display());
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(
        ".{}.hactl-render-{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> anyhow::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&tmp)?;
        let default = f.metadata()?.permissions().mode() & 0o7777;
        let want = match mode {
            FileMode::Asked(m) => parse_mode(m, default)?,
            FileMode::Private => 0o600,
            FileMode::Default => default,
        };
        f.set_permissions(std::fs::Permissions::from_mode(want))?;
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A `mode:` as chmod reads it: octal (`0640`, `640`), or symbolic (`u=rw,g=r,o=`, `a+x`)
/// applied to `base` (the mode a new file would get).
pub(crate) fn parse_mode(mode: &str, base: u32) -> anyhow::Result<u32> {
    let bad = || anyhow::anyhow!("mode {mode:?} is neither octal nor symbolic (like u=rw,g=r)");
    if !mode.is_empty() && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let m = u32::from_str_radix(mode, 8).map_err(|_| bad())?;
        return if m <= 0o7777 { Ok(m) } else { Err(bad()) };
    }
    let mut current = base;
    for clause in mode.split(',') {
        let who_end = clause.find(['+', '-', '=']).ok_or_else(bad)?;
        let who = &clause[..who_end];
        let mut mask = 0;
        for c in who.chars() {
            mask |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return Err(bad()),
            };
        }
        if who.is_empty() {
            mask = 0o7777;
        }
        let mut rest = &clause[who_end..];
        while let Some(op) = rest.chars().next() {
            let perms_end = rest[1..]
                .find(['+', '-', '='])
                .map_or(rest.len(), |i| i + 1);
            let mut bits = 0;
            for c in rest[1..perms_end].chars() {
                bits |= match c {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    // Execute if it is already executable by someone (a file is no folder).
                    'X' if current & 0o111 != 0 => 0o111,
                    'X' => 0,
                    's' => 0o6000,
                    't' => 0o1000,
                    _ => return Err(bad()),
                };
            }
            let bits = bits & mask;
            current = match op {
                '+' => current | bits,
                '-' => current & !bits,
                '=' => (current & !(mask & 0o0777)) | bits,
                _ => return Err(bad()),
            };
            rest = &rest[perms_end..];
        }
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apply's lint gate and `--rolling` render inside a tokio task. Many hosts times many
    /// tasks used up the task's cooperative budget, and the render then spun forever at full
    /// CPU (a 10-host `hactl apply` of the shipped site.yml never finished).
    #[test]
    fn rendering_inside_a_tokio_task_finishes_for_many_hosts() {
        let dir = tempfile::tempdir().expect("tmp");
        let inv_text: String = std::iter::once("[lb]\n".to_string())
            .chain((1..=40).map(|i| format!("lb{i} prio={i}\n")))
            .collect();
        std::fs::write(dir.path().join("hosts.ini"), inv_text).expect("inventory");
        std::fs::write(
            dir.path().join("k.j2"),
            "vrrp_instance VI_1 {\n priority {{ p8 }}\n}\n",
        )
        .expect("template");
        let mut pb = String::from("- hosts: lb\n  gather_facts: false\n  tasks:\n");
        pb.push_str("  - set_fact: {p1: \"{{ prio }}\"}\n");
        for i in 2..=8 {
            pb.push_str(&format!(
                "  - set_fact: {{p{i}: \"{{{{ p{} }}}}\"}}\n",
                i - 1
            ));
        }
        pb.push_str("  - template: {src: k.j2, dest: /etc/keepalived/keepalived.conf}\n");
        std::fs::write(dir.path().join("site.yml"), pb).expect("playbook");
        let loaded = crate::playbook::load(&dir.path().join("site.yml")).expect("playbook");
        let inv = crate::inventory::load(&[dir.path().join("hosts.ini")])
            .expect("inventory")
            .inventory;
        let (tx, rx) = std::sync::mpsc::channel();
        // A thread of its own: were it to spin again, the test fails instead of hanging.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            let configs = rt.block_on(async {
                crate::lint::source::render(
                    &inv,
                    &loaded.playbook,
                    None,
                    &Default::default(),
                    Default::default(),
                )
            });
            let _ = tx.send(configs.map(|c| (c.configs.len(), c.errors)));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the render did not finish within 60 s");
        let (count, errors) = got.expect("render");
        assert_eq!((count, errors), (40, Vec::<String>::new()));
    }

    #[test]
    fn paths_stay_inside_the_host_folder() {
        let out = Path::new("/nonexistent-hactl-render-out");
        let ok = |dest: &str| inside(out, "lb1", dest).map_err(|e| e.to_string());
        assert_eq!(
            ok("/etc/keepalived/keepalived.conf"),
            Ok(out.join("lb1/etc/keepalived/keepalived.conf"))
        );
        assert_eq!(ok("/etc/a/../b/./c"), Ok(out.join("lb1/etc/b/c")));
        assert_eq!(ok("relative/x"), Ok(out.join("lb1/relative/x")));
        for dest in [
            "../x",
            "/etc/../../x",
            "a/../../x",
            "/../../../../etc/passwd",
        ] {
            let err = ok(dest).expect_err(dest);
            assert!(err.contains(&format!("dest {dest:?} leaves")), "{err}");
        }
        assert!(ok("/").is_err() && ok("/etc/..").is_err());
        for host in ["..", ".", "a/b", ""] {
            assert!(inside(out, host, "/etc/x").is_err(), "{host:?}");
        }
    }

    #[test]
    fn modes_octal_and_symbolic() {
        assert_eq!(parse_mode("0640", 0o644).ok(), Some(0o640));
        assert_eq!(parse_mode("600", 0o644).ok(), Some(0o600));
        assert_eq!(parse_mode("u=rw,g=r,o=", 0o644).ok(), Some(0o640));
        assert_eq!(parse_mode("go-rwx", 0o644).ok(), Some(0o600));
        assert_eq!(parse_mode("a+x", 0o644).ok(), Some(0o755));
        assert_eq!(parse_mode("u+x,g+X", 0o640).ok(), Some(0o750));
        assert_eq!(
            parse_mode("o+X", 0o640).ok(),
            Some(0o640),
            "X needs an x already"
        );
        assert_eq!(parse_mode("u=rwx,go=rx", 0).ok(), Some(0o755));
        assert!(parse_mode("q=rw", 0o644).is_err());
        assert!(parse_mode("u=z", 0o644).is_err());
        assert!(parse_mode("77777", 0o644).is_err());
    }

    #[test]
    fn the_mode_follows_the_task_then_the_content() {
        assert_eq!(
            file_mode(Some("0644"), b"auth_pass x\n"),
            FileMode::Asked("0644".into())
        );
        assert_eq!(file_mode(None, b"  auth_pass x\n"), FileMode::Private);
        assert_eq!(file_mode(None, b"password: x\n"), FileMode::Private);
        assert_eq!(file_mode(None, b"worker_processes 2;\n"), FileMode::Default);
    }
}
