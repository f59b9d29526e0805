//! Finding the files tasks name: `template` sources in the role's `templates/`, then
//! `templates/` next to the playbook, then the playbook's folder; `copy` sources likewise under
//! `files/`; `include_tasks` files in the role's `tasks/` or next to the playbook.

use std::path::{Path, PathBuf};

/// Where a relative `src` may be, in Ansible's order.
fn candidates(src: &str, sub: &str, role: Option<&Path>, playbook_dir: &Path) -> Vec<PathBuf> {
    let path = Path::new(src);
    if path.is_absolute() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    if let Some(role) = role {
        out.push(role.join(sub).join(path));
        out.push(role.join(path));
    }
    out.push(playbook_dir.join(sub).join(path));
    out.push(playbook_dir.join(path));
    out
}

/// The first existing file for `src`, or the list of places searched.
pub fn find(
    src: &str,
    sub: &str,
    role: Option<&Path>,
    playbook_dir: &Path,
) -> Result<PathBuf, Vec<PathBuf>> {
    let all = candidates(src, sub, role, playbook_dir);
    all.iter().find(|p| p.is_file()).cloned().ok_or(all)
}
