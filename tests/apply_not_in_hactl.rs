//! A task whose module hactl lacks but Ansible has (an installed collection's, ansible-core's,
//! a role's `library/`): it loads, `hactl render` and `hactl apply` pass over it on hosts its
//! `when` skips, and a host that would run it is refused before anything is changed, naming
//! the file, line, task and module. A name Ansible does not have either stays a load error.
//!
//! Runs on the local connection (no ssh, no root): see tests/apply_local.rs.

use std::process::Output;

mod common;

use common::local::Sandbox;

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A sandbox with an installed collection module (`community.general.apk`, an empty file: only
/// its presence counts) in `~/.ansible/collections`, Ansible's default collections path, a
/// library module in the role, and a playbook whose role runs `first` (a file), then the
/// collection module and the library module under the given `when`s, then `last` (a file).
fn sandbox(apk_when: &str, library_when: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write(
        "home/.ansible/collections/ansible_collections/community/general/plugins/modules/apk.py",
        "# stands in for the collection's module\n",
    );
    sb.write("roles/r/library/fingerprint.py", "# a Python module\n");
    let out = sb.out();
    sb.write(
        "inv",
        &format!("h1 ansible_connection=local out={}\n", out.display()),
    );
    sb.write("site.yml", "- hosts: h1\n  roles:\n    - r\n");
    sb.write(
        "roles/r/tasks/main.yml",
        &format!(
            r#"- name: first
  copy:
    content: "first\n"
    dest: "{{{{ out }}}}/first.txt"
- name: (Alpine Linux) Install dependencies
  community.general.apk:
    name: ca-certificates
  when: {apk_when}
- name: Record a fingerprint
  fingerprint:
    message: hello
  when: {library_when}
- name: last
  template:
    src: last.j2
    dest: "{{{{ out }}}}/last.txt"
"#
        ),
    );
    sb.write("roles/r/templates/last.j2", "on {{ ansible_system }}\n");
    sb.write(
        "facts/h1.json",
        r#"{"ansible_facts": {"ansible_system": "Linux", "ansible_os_family": "Debian"}}"#,
    );
    sb
}

/// `hactl render` of the sandbox's playbook with its facts, into `rendered/`.
fn render(sb: &Sandbox) -> Output {
    let rendered = sb.path("rendered");
    sb.hactl(&[
        "render",
        "-i",
        "inv",
        "site.yml",
        "--facts",
        "facts",
        "--out",
        &rendered.to_string_lossy(),
    ])
}

/// Where `hactl render` puts the file the playbook writes to `out/NAME`.
fn rendered(sb: &Sandbox, name: &str) -> std::path::PathBuf {
    let dest = sb.out().join(name);
    sb.path("rendered/h1")
        .join(dest.strip_prefix("/").expect("absolute"))
}

/// Rewrites the role's tasks file with `edit`.
fn edit_main(sb: &Sandbox, edit: impl FnOnce(String) -> String) {
    let main = std::fs::read_to_string(sb.path("roles/r/tasks/main.yml")).expect("main.yml");
    sb.write("roles/r/tasks/main.yml", &edit(main));
}

/// A run that failed, saying each of `needles` on stderr.
fn assert_fails_saying(out: &Output, needles: &[&str]) {
    assert_ne!(out.status.code(), Some(0), "{}", text(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(needles.iter().all(|n| stderr.contains(n)), "{}", text(out));
}

#[test]
fn skipped_tasks_with_modules_hactl_lacks_render_and_apply() {
    let sb = sandbox("ansible_facts['os_family'] == 'Alpine'", "false");
    let applied = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    let stdout = String::from_utf8_lossy(&applied.stdout);
    assert!(
        stdout.contains("TASK [r : (Alpine Linux) Install dependencies]")
            && stdout.contains("skipping: [h1]"),
        "{}",
        text(&applied)
    );
    assert_eq!(
        std::fs::read_to_string(sb.out().join("last.txt")).expect("last.txt"),
        "on Linux\n"
    );

    let r = render(&sb);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert_eq!(
        std::fs::read_to_string(rendered(&sb, "last.txt")).expect("rendered last.txt"),
        "on Linux\n"
    );
}

/// The refusal: exit code, message naming module, task, file and line, and no file written.
fn assert_refused_before_any_change(sb: &Sandbox, out: &Output, module: &str, line: usize) {
    assert_ne!(out.status.code(), Some(0), "{}", text(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = format!("roles/r/tasks/main.yml:{line}:");
    assert!(
        stderr.contains(&format!("module '{module}'"))
            && stderr.contains(&at)
            && stderr.contains("nothing was changed"),
        "{}",
        text(out)
    );
    assert!(
        !sb.out().join("first.txt").exists(),
        "a file was written before the refusal:\n{}",
        text(out)
    );
}

#[test]
fn a_collection_module_a_host_would_run_is_refused_before_any_change() {
    let sb = sandbox("ansible_facts['system'] == 'Linux'", "false");
    let applied = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_refused_before_any_change(&sb, &applied, "community.general.apk", 5);
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert!(
        stderr.contains("task '(Alpine Linux) Install dependencies'")
            && stderr.contains("of the collection community.general"),
        "{}",
        text(&applied)
    );
    // --check refuses the same way: Ansible would run (or check) the module.
    let checked = sb.hactl(&["apply", "--check", "inv", "site.yml"]);
    assert_refused_before_any_change(&sb, &checked, "community.general.apk", 5);
    // render says it per host, and writes nothing past it.
    let r = render(&sb);
    assert_fails_saying(&r, &["hactl does not have the module"]);
    assert!(rendered(&sb, "first.txt").exists() && !rendered(&sb, "last.txt").exists());
}

#[test]
fn a_library_module_a_host_would_run_is_refused_before_any_change() {
    let sb = sandbox("false", "true");
    let applied = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_refused_before_any_change(&sb, &applied, "fingerprint", 9);
    assert!(
        String::from_utf8_lossy(&applied.stderr).contains("hactl runs no Python on hosts"),
        "{}",
        text(&applied)
    );
}

#[test]
fn a_when_only_the_host_can_answer_is_refused_before_any_change() {
    let sb = sandbox("false", "false");
    // The library module's `when` now depends on a command's result on the host.
    edit_main(&sb, |main| {
        main.replacen(
            "- name: first\n",
            "- name: look\n  command: uname\n  register: look\n  changed_when: false\n- name: first\n",
            1,
        )
        .replace(
            "  fingerprint:\n    message: hello\n  when: false",
            "  fingerprint:\n    message: hello\n  when: look.stdout == 'Plan9'",
        )
    });
    let applied = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_refused_before_any_change(&sb, &applied, "fingerprint", 13);
    assert!(
        String::from_utf8_lossy(&applied.stderr)
            .contains("cannot tell whether this host runs the task"),
        "{}",
        text(&applied)
    );
}

#[test]
fn a_module_ansible_does_not_have_either_is_a_load_error() {
    let sb = sandbox("false", "false");
    edit_main(&sb, |main| {
        main.replace("community.general.apk:", "community.general.apkk:")
    });
    let applied = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_fails_saying(
        &applied,
        &[
            "couldn't resolve module/action 'community.general.apkk'",
            "roles/r/tasks/main.yml:6:",
        ],
    );
    assert!(
        !String::from_utf8_lossy(&applied.stdout).contains("TASK ["),
        "{}",
        text(&applied)
    );
}

#[test]
fn a_walk_that_stops_before_such_a_task_is_refused_before_any_change() {
    // Both modules are skipped, but the template before them uses a command's result, which
    // the offline walk cannot know: what comes after cannot be told, so the run is refused.
    let sb = sandbox("false", "false");
    edit_main(&sb, |main| {
        main.replacen(
            "- name: first\n",
            "- name: look\n  command: uname\n  register: look\n  changed_when: false\n\
             - name: kernel\n  copy:\n    content: \"{{ look.stdout }}\\n\"\n    dest: \"{{ out }}/kernel.txt\"\n\
             - name: first\n",
            1,
        )
    });
    let applied = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_fails_saying(
        &applied,
        &[
            "cannot tell before the run whether a host runs the tasks",
            "module 'community.general.apk'",
            "module 'fingerprint'",
            "task 'kernel'",
            "nothing was changed",
        ],
    );
    assert!(!sb.out().join("kernel.txt").exists(), "{}", text(&applied));
}

#[test]
fn a_rollout_of_a_playbook_holding_such_a_task_is_refused_before_any_change() {
    // A rollout drains hosts before the facts that decide the `when` are in.
    let sb = sandbox("false", "false");
    let applied = sb.hactl(&["apply", "--rolling", "inv", "site.yml"]);
    assert_fails_saying(
        &applied,
        &[
            "roles/r/tasks/main.yml:5:",
            "module 'community.general.apk'",
            "run it without --rolling",
            "nothing was changed",
        ],
    );
    assert!(!sb.out().join("first.txt").exists(), "{}", text(&applied));
}

#[test]
fn neither_failed_when_nor_ignore_errors_passes_over_the_refusal() {
    let sb = sandbox("true", "false");
    edit_main(&sb, |main| {
        main.replacen(
            "  when: true\n",
            "  when: true\n  failed_when: false\n  ignore_errors: true\n",
            1,
        )
    });
    let r = render(&sb);
    assert_fails_saying(&r, &["hactl does not have the module"]);
    assert!(!rendered(&sb, "last.txt").exists(), "{}", text(&r));
    let applied = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_refused_before_any_change(&sb, &applied, "community.general.apk", 5);
}
