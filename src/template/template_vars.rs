//! The variables Ansible's template module and template lookup add for one template
//! (`_template_vars.generate_ansible_template_vars` in ansible-core 2.19): `template_host`,
//! `template_path`, `template_fullpath`, `template_destpath`, `template_uid`,
//! `template_mtime`, `template_run_date` and, unless the play set it, `ansible_managed`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use minijinja::value::Value;

use super::filters::PyDateTime;

/// ansible-core's default `DEFAULT_MANAGED_STR` (`[defaults] ansible_managed` in ansible.cfg).
pub const DEFAULT_MANAGED: &str = "Ansible managed";

/// The task's own names for the template: `src` as written and `dest` (`None` for the lookup).
#[derive(Debug, Clone, Copy)]
pub struct TaskPaths<'a> {
    pub src: &'a str,
    pub dest: Option<&'a str>,
}

/// The variables for the template found at `fullpath`. Without `task` (a caller that does not
/// know the task's `src`/`dest`), `template_path` and `template_destpath` are left out, so a
/// template using them fails instead of printing a wrong path. `managed` is the
/// `ansible_managed` setting, `None` when the play defines the variable itself.
pub fn generate(
    task: Option<TaskPaths<'_>>,
    fullpath: &Path,
    managed: Option<&str>,
) -> Result<Vec<(&'static str, Value)>, String> {
    let meta = std::fs::metadata(fullpath).map_err(|e| format!("{}: {e}", fullpath.display()))?;
    let uid = meta.uid();
    let owner = nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name);
    let host = nix::sys::utsname::uname()
        .map(|u| u.nodename().to_string_lossy().into_owned())
        .unwrap_or_default();
    let mtime = chrono::DateTime::from_timestamp(meta.mtime(), meta.mtime_nsec() as u32)
        .unwrap_or_default()
        .with_timezone(&chrono::Local);
    let now = chrono::Local::now();
    let uid_value = if owner == uid.to_string() {
        Value::from(uid)
    } else {
        Value::from(owner.as_str())
    };
    let mut vars = vec![
        ("template_host", Value::from(host.as_str())),
        (
            "template_mtime",
            Value::from_object(PyDateTime::new(mtime.naive_local())),
        ),
        ("template_uid", uid_value),
        (
            "template_run_date",
            Value::from_object(PyDateTime::new(now.naive_local())),
        ),
        (
            "template_fullpath",
            Value::from(fullpath.display().to_string()),
        ),
    ];
    if let Some(task) = task {
        vars.push(("template_path", Value::from(task.src)));
        vars.push((
            "template_destpath",
            task.dest.map_or_else(|| Value::from(()), Value::from),
        ));
    }
    if let Some(setting) = managed {
        let file = task.map(|t| t.src);
        vars.push((
            "ansible_managed",
            Value::from(managed_text(setting, &host, &owner, file, &mtime)?),
        ));
    }
    Ok(vars)
}

/// [`generate`]'s variables as a map, to put above the task's variables.
pub fn layer(
    task: Option<TaskPaths<'_>>,
    fullpath: &Path,
    managed: Option<&str>,
) -> Result<Value, String> {
    Ok(Value::from_pairs(
        generate(task, fullpath, managed)?
            .into_iter()
            .map(|(k, v)| (Value::from(k), v)),
    ))
}

/// `ansible_managed`: Ansible puts `{{ template_host }}`, `{{ template_uid }}` and
/// `{{ template_path }}` for `{host}`, `{uid}`, `{file}` (rendered when used, giving these
/// same values) and fills strftime codes from the template's mtime.
fn managed_text(
    setting: &str,
    host: &str,
    uid: &str,
    file: Option<&str>,
    mtime: &chrono::DateTime<chrono::Local>,
) -> Result<String, String> {
    if setting.contains("{file}") && file.is_none() {
        return Err(format!(
            "ansible_managed ({setting:?}) names {{file}}, but hactl was not told the task's src"
        ));
    }
    let text = setting
        .replace("{host}", host)
        .replace("{uid}", uid)
        .replace("{file}", file.unwrap_or_default());
    if !text.contains('%') {
        return Ok(text);
    }
    let mut out = String::new();
    std::fmt::Write::write_fmt(&mut out, format_args!("{}", mtime.format(&text)))
        .map_err(|_| format!("ansible_managed: invalid strftime format {setting:?}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(vars: &[(&str, Value)], k: &str) -> Option<String> {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }

    #[test]
    fn module_variables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("t.j2");
        std::fs::write(&f, "x").expect("write");
        let task = TaskPaths {
            src: "t.j2",
            dest: Some("/etc/t"),
        };
        let vars = generate(Some(task), &f, Some(DEFAULT_MANAGED)).expect("vars");
        assert_eq!(
            get(&vars, "ansible_managed").as_deref(),
            Some("Ansible managed")
        );
        assert_eq!(get(&vars, "template_path").as_deref(), Some("t.j2"));
        assert_eq!(get(&vars, "template_destpath").as_deref(), Some("/etc/t"));
        assert_eq!(
            get(&vars, "template_fullpath"),
            Some(f.display().to_string())
        );
        let custom = generate(Some(task), &f, Some("{file} on {host} %%")).expect("vars");
        let host = get(&custom, "template_host").unwrap_or_default();
        assert_eq!(
            get(&custom, "ansible_managed"),
            Some(format!("t.j2 on {host} %"))
        );
        // Without the task's paths: no template_path, and {file} cannot be filled.
        let bare = generate(None, &f, Some(DEFAULT_MANAGED)).expect("vars");
        assert_eq!(get(&bare, "template_path"), None);
        assert!(generate(None, &f, Some("{file}")).is_err());
    }
}
