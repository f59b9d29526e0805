//! `hactl render --out DIR` writes only inside DIR: a `dest` that climbs out with `..`, or
//! goes through a symlink that leads out, is refused with the task and dest named. Rendered
//! files get the task's `mode:`, else 0600 when they hold a secret, else a new file's default.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use assert_cmd::Command;

/// A playbook of `tasks` (YAML lines under `tasks:`) for host `a`, in a fresh folder.
fn project(tasks: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("templates")).expect("mkdir");
    std::fs::write(dir.path().join("inv.ini"), "a\n").expect("inv");
    std::fs::write(
        dir.path().join("templates/k.conf.j2"),
        "vrrp_instance VI_1 {\n  authentication {\n    auth_pass s3cret\n  }\n}\n",
    )
    .expect("tpl");
    std::fs::write(
        dir.path().join("templates/plain.j2"),
        "worker_processes 2;\n",
    )
    .expect("tpl");
    std::fs::write(
        dir.path().join("site.yml"),
        format!("- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}"),
    )
    .expect("playbook");
    dir
}

fn render(dir: &Path) -> (Option<i32>, String) {
    let out = Command::cargo_bin("hactl")
        .expect("binary")
        .current_dir(dir)
        .args(["render", "-i", "inv.ini", "site.yml", "--out", "out"])
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn a_dest_that_climbs_out_of_the_folder_is_refused() {
    for dest in [
        "../../escaped",
        "/etc/../../../escaped",
        "../a/../../escaped",
        "../../../../../../../../tmp/escaped",
    ] {
        let dir = project(&format!(
            "    - name: sneaky\n      copy: content=x dest={dest}\n"
        ));
        let (code, stderr) = render(dir.path());
        assert_eq!(code, Some(2), "{dest}: {stderr}");
        assert!(stderr.contains("task 'sneaky'"), "{stderr}");
        assert!(
            stderr.contains(&format!("dest {dest:?} leaves")),
            "{stderr}"
        );
        assert!(!dir.path().join("escaped").exists(), "{dest} escaped");
        assert!(!dir.path().join("out/escaped").exists(), "{dest} escaped");
    }
    // `..` that stays inside is resolved, not refused.
    let dir = project("    - name: fine\n      copy: content=x dest=/etc/nginx/../keepalived/x\n");
    let (code, stderr) = render(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(dir.path().join("out/a/etc/keepalived/x").is_file());
}

#[test]
fn a_symlink_out_of_the_folder_is_not_followed() {
    let dir = project("    - name: through a link\n      copy: content=x dest=/etc/app/x\n");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("out/a")).expect("mkdir");
    std::os::unix::fs::symlink(&outside, dir.path().join("out/a/etc")).expect("symlink");
    let (code, stderr) = render(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("task 'through a link'") && stderr.contains("symlink"),
        "{stderr}"
    );
    assert!(!outside.join("app/x").exists(), "wrote through the symlink");

    // A symlink in the last place is replaced, and what it pointed at is left alone.
    let dir = project("    - name: over a link\n      copy: content=new dest=/etc/x\n");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "old").expect("victim");
    std::fs::create_dir_all(dir.path().join("out/a/etc")).expect("mkdir");
    std::os::unix::fs::symlink(&victim, dir.path().join("out/a/etc/x")).expect("symlink");
    let (code, stderr) = render(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "old");
    let x = dir.path().join("out/a/etc/x");
    assert!(!x.is_symlink());
    assert_eq!(std::fs::read_to_string(&x).expect("x"), "new");
}

/// The umask this process (and so hactl) runs with, from /proc.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .expect("Umask line");
    u32::from_str_radix(line.trim(), 8).expect("octal")
}

#[test]
fn files_get_the_asked_mode_and_secrets_stay_private() {
    let dir = project(
        "    - template: src=k.conf.j2 dest=/etc/keepalived/keepalived.conf\n\
         \x20   - template: src=k.conf.j2 dest=/etc/k-0640.conf mode=0640\n\
         \x20   - template: src=k.conf.j2 dest=/etc/k-sym.conf mode=u=rw,g=r,o=\n\
         \x20   - template: src=plain.j2 dest=/etc/plain.conf\n\
         \x20   - template: src=plain.j2 dest=/etc/plain-0755 mode=0755\n\
         \x20   - copy: {content: x, dest: /etc/num, mode: 420}\n\
         \x20   - copy: content=x dest=/etc/str mode=420\n",
    );
    // An earlier render left a world-readable copy: it is replaced with the right mode.
    std::fs::create_dir_all(dir.path().join("out/a/etc/keepalived")).expect("mkdir");
    let old = dir.path().join("out/a/etc/keepalived/keepalived.conf");
    std::fs::write(&old, "old").expect("old");
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (code, stderr) = render(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    let etc = dir.path().join("out/a/etc");
    assert_eq!(mode(&etc.join("keepalived/keepalived.conf")), 0o600);
    assert_eq!(mode(&etc.join("k-0640.conf")), 0o640);
    assert_eq!(mode(&etc.join("k-sym.conf")), 0o640);
    assert_eq!(mode(&etc.join("plain.conf")), 0o666 & !umask());
    assert_eq!(mode(&etc.join("plain-0755")), 0o755);
    // A YAML number is decimal; a string is octal, as in Ansible.
    assert_eq!(mode(&etc.join("num")), 0o644);
    assert_eq!(mode(&etc.join("str")), 0o420);
}
