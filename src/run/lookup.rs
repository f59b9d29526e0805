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

/// The first existing file for `src`, or an error naming the `what` and every place searched.
pub fn find(
    src: &str,
    sub: &str,
    role: Option<&Path>,
    playbook_dir: &Path,
    what: &str,
) -> anyhow::Result<PathBuf> {
    let all = candidates(src, sub, role, playbook_dir);
    if let Some(found) = all.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let searched: Vec<String> = all.iter().map(|p| p.display().to_string()).collect();
    anyhow::bail!(
        "could not find the {what} '{src}' (searched {})",
        searched.join(", ")
    )
}

/// The bytes a `template` or `copy` task puts at its `dest`: the rendered template, the
/// `content`, or (when `read_files`) the `src` file from `files/`. `None` for a `copy` of a file
/// when files are not read (`hactl render` renders, it does not copy).
#[allow(clippy::too_many_arguments)] // the task's whole context; a struct would only rename it
pub fn put_content(
    templar: &crate::template::Templar,
    module: &str,
    args: &serde_json::Map<String, serde_json::Value>,
    src: Option<&str>,
    role: Option<&Path>,
    playbook_dir: &Path,
    ctx: &minijinja::Value,
    host: &str,
    read_files: bool,
) -> anyhow::Result<Option<Vec<u8>>> {
    use serde_json::Value as Json;
    Ok(match (module, src, args.get("content")) {
        ("copy", _, Some(Json::String(c))) => Some(c.clone().into_bytes()),
        ("copy", _, Some(other)) => {
            Some(crate::template::py_str(&crate::template::to_value(other)).into_bytes())
        }
        ("copy", Some(_), None) if !read_files => None,
        ("copy", Some(src), None) => Some(std::fs::read(find(
            src,
            "files",
            role,
            playbook_dir,
            "file",
        )?)?),
        (_, Some(src), _) => {
            let path = find(src, "templates", role, playbook_dir, "template")?;
            Some(templar.render_file(&path, ctx, host)?.into_bytes())
        }
        _ => anyhow::bail!("src (or content) is required"),
    })
}
