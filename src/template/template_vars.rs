//! The variables Ansible's template module and template lookup add for one template
//! (`_template_vars.generate_ansible_template_vars` in ansible-core 2.19): `template_host`,
//! `template_path`, `template_fullpath`, `template_destpath`, `template_uid`,
//! `template_mtime`, `template_run_date` and, unless the user set it, `ansible_managed`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use minijinja::value::Value;

use super::filters::PyDateTime;

/// ansible-core's default `DEFAULT_MANAGED_STR` (`[defaults] ansible_managed` in ansible.cfg).
pub const DEFAULT_MANAGED: &str = "Ansible managed";

/// The variables for template `path` (as the task wrote it) found at `fullpath`, written to
/// `dest` (`None` for the template lookup). `include_managed` is false when the play already
/// defines `ansible_managed`, which Ansible then leaves alone.
pub fn generate(
    path: &str,
    fullpath: &Path,
    dest: Option<&str>,
    include_managed: bool,
) -> std::io::Result<Vec<(&'static str, Value)>> {
    generate_with(
        path,
        fullpath,
        dest,
        include_managed.then_some(DEFAULT_MANAGED),
    )
}

/// [`generate`]'s variables as one template context layer (above the task's variables).
pub fn layer(
    path: &str,
    fullpath: &Path,
    dest: Option<&str>,
    include_managed: bool,
) -> std::io::Result<Value> {
    let vars = generate(path, fullpath, dest, include_managed)?;
    Ok(Value::from_pairs(
        vars.into_iter().map(|(k, v)| (Value::from(k), v)),
    ))
}

/// As [`generate`], with the `ansible_managed` setting of the controller's configuration.
pub fn generate_with(
    path: &str,
    fullpath: &Path,
    dest: Option<&str>,
    managed: Option<&str>,
) -> std::io::Result<Vec<(&'static str, Value)>> {
    let meta = std::fs::metadata(fullpath)?;
    let uid = meta.uid();
    let owner = nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map_or_else(|| Value::from(uid), |u| Value::from(u.name));
    let host = nix::sys::utsname::uname()
        .map(|u| u.nodename().to_string_lossy().into_owned())
        .unwrap_or_default();
    let mtime = chrono::DateTime::from_timestamp(meta.mtime(), meta.mtime_nsec() as u32)
        .unwrap_or_default()
        .with_timezone(&chrono::Local);
    let now = chrono::Local::now();
    let mut vars = vec![
        ("template_host", Value::from(host)),
        ("template_path", Value::from(path)),
        (
            "template_mtime",
            Value::from_object(PyDateTime::new(mtime.naive_local())),
        ),
        ("template_uid", owner),
        (
            "template_run_date",
            Value::from_object(PyDateTime::new(now.naive_local())),
        ),
        (
            "template_destpath",
            dest.map_or_else(|| Value::from(()), Value::from),
        ),
        (
            "template_fullpath",
            Value::from(fullpath.display().to_string()),
        ),
    ];
    if let Some(managed) = managed {
        vars.push((
            "ansible_managed",
            Value::from(managed_text(managed, &mtime)),
        ));
    }
    Ok(vars)
}

/// `ansible_managed`: the setting with `{host}`, `{uid}`, `{file}` made into template
/// expressions (rendered when used) and strftime codes filled from the template's mtime.
fn managed_text(setting: &str, mtime: &chrono::DateTime<chrono::Local>) -> String {
    let text = setting
        .replace("{host}", "{{ template_host }}")
        .replace("{uid}", "{{ template_uid }}")
        .replace("{file}", "{{ template_path }}");
    if !text.contains('%') {
        return text;
    }
    let mut out = String::new();
    // An invalid strftime code leaves the text as it is rather than failing the render.
    if std::fmt::Write::write_fmt(&mut out, format_args!("{}", mtime.format(&text))).is_err() {
        return text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_managed_string() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("t.j2");
        std::fs::write(&f, "x").expect("write");
        let vars = generate("t.j2", &f, Some("/etc/t"), true).expect("vars");
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        assert_eq!(get("ansible_managed").as_deref(), Some("Ansible managed"));
        assert_eq!(get("template_path").as_deref(), Some("t.j2"));
        assert_eq!(get("template_destpath").as_deref(), Some("/etc/t"));
        assert_eq!(get("template_fullpath"), Some(f.display().to_string()));
        let custom =
            generate_with("t.j2", &f, None, Some("{file} by {uid} on {host}")).expect("vars");
        let managed = custom
            .iter()
            .find(|(n, _)| *n == "ansible_managed")
            .map(|(_, v)| v.to_string());
        assert_eq!(
            managed.as_deref(),
            Some("{{ template_path }} by {{ template_uid }} on {{ template_host }}")
        );
    }
}
