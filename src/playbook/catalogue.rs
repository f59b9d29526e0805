//! Modules Ansible has and hactl may not: ansible-core 2.19's own modules, the modules of the
//! collections installed where ansible-core looks for them, and a role's or playbook's
//! `library/` folder. The loader reads a task whose module hactl lacks but Ansible would find
//! (it does not refuse a whole role for a task no host runs, as nginxinc.nginx's Alpine-only
//! `community.general.apk`); the engine refuses the task when a host would run it (see
//! `engine::task`), and `hactl apply` finds that out before the first change
//! (`engine::preflight`). A name found nowhere stays a load error.
//!
//! This module does not run anything and does not follow a collection's `meta/runtime.yml`
//! redirects: a redirected name without its own file is "not found", as hactl said before.

use std::path::{Path, PathBuf};

/// The modules of ansible-core 2.19 (`ansible/modules/*.py`); the tests below check the list
/// against the ansible-core of /opt/ansible-venv.
pub const ANSIBLE_CORE: &[&str] = &[
    "add_host",
    "apt",
    "apt_key",
    "apt_repository",
    "assemble",
    "assert",
    "async_status",
    "async_wrapper",
    "blockinfile",
    "command",
    "copy",
    "cron",
    "deb822_repository",
    "debconf",
    "debug",
    "dnf",
    "dnf5",
    "dpkg_selections",
    "expect",
    "fail",
    "fetch",
    "file",
    "find",
    "gather_facts",
    "get_url",
    "getent",
    "git",
    "group",
    "group_by",
    "hostname",
    "import_playbook",
    "import_role",
    "import_tasks",
    "include_role",
    "include_tasks",
    "include_vars",
    "iptables",
    "known_hosts",
    "lineinfile",
    "meta",
    "mount_facts",
    "package",
    "package_facts",
    "pause",
    "ping",
    "pip",
    "raw",
    "reboot",
    "replace",
    "rpm_key",
    "script",
    "service",
    "service_facts",
    "set_fact",
    "set_stats",
    "setup",
    "shell",
    "slurp",
    "stat",
    "subversion",
    "systemd",
    "systemd_service",
    "sysvinit",
    "tempfile",
    "template",
    "unarchive",
    "uri",
    "user",
    "validate_argument_spec",
    "wait_for",
    "wait_for_connection",
    "yum_repository",
];

/// Prefixes that name ansible-core's own modules.
const CORE_PREFIXES: &[&str] = &["ansible.builtin.", "ansible.legacy."];

/// Where Ansible would find the module `name` that hactl lacks, said for an error message
/// ("ansible-core's module 'X'", "the module FILE of collection NS.COLL", "the library module
/// FILE"); `None` when Ansible would not find it either. `library` is the file a `library/`
/// folder holds for the name, if any (the loader knows those folders).
pub fn where_ansible_has(
    name: &str,
    library: Option<&Path>,
    collections: &[PathBuf],
) -> Option<String> {
    if let Some(file) = library {
        return Some(format!("the library module {}", file.display()));
    }
    let short = CORE_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    if ANSIBLE_CORE.contains(&short) {
        return Some(format!("ansible-core's module 'ansible.builtin.{short}'"));
    }
    let file = collection_module(name, collections)?;
    let mut parts = name.splitn(3, '.');
    let (ns, coll) = (parts.next()?, parts.next()?);
    Some(format!(
        "the module {} of the collection {ns}.{coll}",
        file.display()
    ))
}

/// The file of the collection module `ns.coll.name` (or `ns.coll.sub.name`, in
/// `plugins/modules/sub/`) under the first of `paths` that has it, as ansible-core's
/// collection finder looks: `PATH/ansible_collections/NS/COLL/plugins/modules/`, or `PATH`
/// itself when it is an `ansible_collections` folder.
pub fn collection_module(name: &str, paths: &[PathBuf]) -> Option<PathBuf> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 3 || parts.iter().any(|p| !is_identifier(p)) {
        return None;
    }
    let (ns, coll, rest) = (parts[0], parts[1], &parts[2..]);
    paths.iter().find_map(|p| {
        let root = if p.file_name().is_some_and(|n| n == "ansible_collections") {
            p.clone()
        } else {
            p.join("ansible_collections")
        };
        let mut dir = root.join(ns).join(coll).join("plugins/modules");
        for sub in &rest[..rest.len() - 1] {
            dir.push(sub);
        }
        let base = rest[rest.len() - 1];
        ["py", "ps1"]
            .iter()
            .map(|ext| dir.join(format!("{base}.{ext}")))
            .find(|f| f.is_file())
    })
}

/// A Python identifier as collection names use them (ASCII letters, digits, `_`).
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The folders ansible-playbook searches for collections: `<playbook dir>/collections`,
/// then `collections_path` (`ANSIBLE_COLLECTIONS_PATH`, ansible.cfg), whose default is
/// `~/.ansible/collections:/usr/share/ansible/collections`.
pub fn search_paths(playbook_dir: &Path) -> Vec<PathBuf> {
    let mut paths = vec![playbook_dir.join("collections")];
    match crate::config::get()
        .ok()
        .and_then(|s| s.collections_path.as_ref())
    {
        Some(configured) => paths.extend(configured.value.iter().cloned()),
        None => {
            if let Some(home) = std::env::var_os("HOME") {
                paths.push(Path::new(&home).join(".ansible/collections"));
            }
            paths.push("/usr/share/ansible/collections".into());
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::print_stderr)] // why the comparison did not run
    fn core_list_is_ansible_cores() {
        let venv = std::env::var("HACTL_ANSIBLE_VENV").unwrap_or("/opt/ansible-venv".into());
        let Some(dir) = std::fs::read_dir(Path::new(&venv).join("lib"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("site-packages/ansible/modules"))
            .find(|d| d.is_dir())
        else {
            eprintln!("SKIPPED: no ansible-core in {venv}");
            return;
        };
        let mut theirs: Vec<String> = std::fs::read_dir(&dir)
            .expect("read ansible/modules")
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let base = name.strip_suffix(".py")?;
                (!base.starts_with("__")).then(|| base.to_string())
            })
            .collect();
        theirs.sort();
        assert_eq!(
            ANSIBLE_CORE,
            theirs,
            "ansible-core's modules in {}",
            dir.display()
        );
    }

    #[test]
    fn core_names_with_and_without_prefix() {
        for name in ["reboot", "ansible.builtin.reboot", "ansible.legacy.reboot"] {
            let said = where_ansible_has(name, None, &[]);
            assert_eq!(
                said.as_deref(),
                Some("ansible-core's module 'ansible.builtin.reboot'")
            );
        }
        assert_eq!(where_ansible_has("rebooot", None, &[]), None);
        assert_eq!(
            where_ansible_has("community.general.reboot", None, &[]),
            None
        );
    }

    #[test]
    fn collection_modules_are_found_as_ansible_finds_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let modules = dir
            .path()
            .join("ansible_collections/community/general/plugins/modules");
        std::fs::create_dir_all(modules.join("net")).expect("mkdir");
        std::fs::write(modules.join("apk.py"), "").expect("write");
        std::fs::write(modules.join("net/thing.py"), "").expect("write");
        let paths = vec![dir.path().join("nowhere"), dir.path().to_path_buf()];
        assert_eq!(
            collection_module("community.general.apk", &paths),
            Some(modules.join("apk.py"))
        );
        assert_eq!(
            collection_module("community.general.net.thing", &paths),
            Some(modules.join("net/thing.py"))
        );
        // The `ansible_collections` folder itself works as a path too.
        let inner = vec![dir.path().join("ansible_collections")];
        assert!(collection_module("community.general.apk", &inner).is_some());
        assert_eq!(collection_module("community.general.pkg5", &paths), None);
        assert_eq!(collection_module("community.other.apk", &paths), None);
        assert_eq!(collection_module("apk", &paths), None);
        assert_eq!(collection_module("community.general.../apk", &paths), None);
        let said = where_ansible_has("community.general.apk", None, &paths).expect("found");
        assert!(
            said.ends_with("apk.py of the collection community.general"),
            "{said}"
        );
    }
}
