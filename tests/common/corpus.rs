//! The public-role corpus, as tests/corpus_render.rs and tests/corpus_apply.rs find it: the
//! shared corpus read in place, and the extra roles of tests/corpus/extra-roles.txt at their
//! pinned commits.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus: `HACTL_CORPUS`, else `shared/corpus` beside the checkout (CI lays
/// shared/ there) or two levels up (a developer's worktree under /work/wt).
pub fn corpus_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("HACTL_CORPUS") {
        candidates.push(dir.into());
    }
    candidates.push(root().join("../shared/corpus"));
    candidates.push(root().join("../../shared/corpus"));
    candidates.push("/work/shared/corpus".into());
    candidates
        .into_iter()
        .find(|d| d.join("README.md").is_file())
}

/// regen.sh's cache: the collections ansible needs, and the extra roles at their commits.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("HACTL_CORPUS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/hactl-corpus".into())
}

/// One line of tests/corpus/extra-roles.txt.
pub struct Extra {
    pub name: String,
    pub github: String,
    pub commit: String,
}

pub fn extra_roles() -> Vec<Extra> {
    let text = std::fs::read_to_string(root().join("tests/corpus/extra-roles.txt"))
        .expect("read tests/corpus/extra-roles.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 3, "extra-roles.txt: bad line {l:?}");
            Extra {
                name: f[0].into(),
                github: f[1].into(),
                commit: f[2].into(),
            }
        })
        .collect()
}

/// Puts the extra role at its pinned commit under `into/<name>`: from `HACTL_EXTRA_ROLES`,
/// regen.sh's cache, or the fetch mirror. `Err` says why it is not available.
pub fn provide_extra(e: &Extra, into: &Path) -> Result<(), String> {
    let dest = into.join(&e.name);
    let copy_from = |dir: &Path| -> Result<(), String> {
        let ok = Command::new("cp")
            .arg("-a")
            .arg(dir)
            .arg(&dest)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(())
            .ok_or(format!("cannot copy {}", dir.display()))
    };
    if let Some(dir) = std::env::var_os("HACTL_EXTRA_ROLES") {
        let dir = Path::new(&dir).join(&e.name);
        if dir.is_dir() {
            return copy_from(&dir);
        }
    }
    let cache = cache_dir().join("roles").join(&e.name);
    if std::fs::read_to_string(cache.join(".commit")).is_ok_and(|c| c.trim() == e.commit) {
        return copy_from(&cache);
    }
    let git_dir = Path::new("/work/.mirror")
        .join(e.github.replace('/', "+"))
        .join("repo");
    if !git_dir.is_dir() {
        return Err(format!(
            "{} not found: set HACTL_EXTRA_ROLES to a folder holding {} at {}",
            e.github, e.name, e.commit
        ));
    }
    std::fs::create_dir_all(&dest).map_err(|err| err.to_string())?;
    let archive = Command::new("sh")
        .arg("-c")
        .arg(r#"git --git-dir="$1" archive "$2" | tar -x -C "$3""#)
        .args(["sh", &git_dir.to_string_lossy(), &e.commit])
        .arg(&dest)
        .status()
        .is_ok_and(|s| s.success());
    archive
        .then_some(())
        .ok_or(format!("{} has no commit {}", git_dir.display(), e.commit))
}

/// Every file under `dir`, as paths relative to it.
pub fn files(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else if let Ok(rel) = path.strip_prefix(base) {
                out.insert(rel.to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Fleet hosts are offline but see this machine's apt cache through their overlay: a role's
/// own package tasks install from it when the .debs (with whatever this machine lacks of their
/// dependencies) are there. Downloads them, installing nothing on this machine (`apt-get
/// --download-only`, as tests/corpus/regen.sh does); `Err` says why not (no registry, stale
/// package lists), and the role is skipped with it.
pub fn download_debs(debs: &[&str]) -> Result<(), String> {
    if debs.is_empty() {
        return Ok(());
    }
    let mut last = String::new();
    // Another test (or apt itself) may hold the archives lock for a moment.
    for _ in 0..30 {
        let out = std::process::Command::new("apt-get")
            .args(["install", "-y", "-q", "--download-only"])
            .args(debs)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        last = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if !last.contains("lock") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    Err(format!(
        "cannot download {} for the offline fleet hosts (`apt-get install --download-only`): \
         {}",
        debs.join(" "),
        last.lines().last().unwrap_or("no error text")
    ))
}

/// The play of tests/corpus/<role>/ made for real hosts: tests/corpus_render.rs gives hactl the
/// facts with `--facts` and the play turns gathering off; on a fleet the tools gather them.
/// `edits` apply to the role's play: (role, text, replacement).
pub fn play_dir(role: &str, edits: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let from = root().join("tests/corpus").join(role);
    let dir = tempfile::tempdir().expect("tmp");
    let mut site = std::fs::read_to_string(from.join("site.yml")).expect("site.yml");
    assert!(
        site.contains("gather_facts: false"),
        "{role}: site.yml no longer turns gathering off; update play_dir"
    );
    site = site.replace("gather_facts: false", "gather_facts: true");
    for (_, text, replacement) in edits.iter().filter(|e| e.0 == role) {
        assert!(site.contains(text), "{role}: site.yml no longer has {text}");
        site = site.replace(text, replacement);
    }
    std::fs::write(dir.path().join("site.yml"), site).expect("write site.yml");
    std::fs::copy(from.join("inventory.ini"), dir.path().join("inventory.ini"))
        .expect("copy inventory.ini");
    dir
}
