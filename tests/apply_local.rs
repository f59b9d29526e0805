//! The local connection (`ansible_connection=local`, a play's `connection: local`): `hactl
//! apply` and `hactl run` on the controller's own machine, no ssh, no root.
//!
//! Everything a test writes stays in its temp dir: every `dest` is under it, and hactl runs
//! with `HOME` there, so the pending-handlers list (`~/.hactl`) lands there too. Run as root,
//! the tests drop to `nobody` (setpriv), because root's list would go to `/var/lib/hactl`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::local::{NOBODY, Sandbox};

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The recap counts of `host` (ok, changed, unreachable, failed, skipped, rescued, ignored).
fn recap(out: &Output, host: &str) -> Vec<u64> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.starts_with(&format!("{host} ")))
        .unwrap_or_else(|| panic!("no recap for {host}:\n{}", text(out)));
    line.split_whitespace()
        .filter_map(|w| w.split_once('=').and_then(|(_, n)| n.parse().ok()))
        .collect()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o7777
}

const PLAYBOOK: &str = r#"
- hosts: h1
  vars:
    greeting: hello
  tasks:
    - name: copy a file
      copy:
        content: "static\n"
        dest: "{{ out }}/copied.txt"
        mode: "0640"
      notify: note
    - name: template
      template:
        src: greet.j2
        dest: "{{ out }}/greet.txt"
      notify: note
    - name: directory
      file:
        path: "{{ out }}/sub"
        state: directory
        mode: "0750"
    - name: a line
      lineinfile:
        path: "{{ out }}/config"
        line: "key=value"
        create: true
    - name: command with creates
      command: touch marker
      args:
        chdir: "{{ out }}"
        creates: "{{ out }}/marker"
    - name: where scripts start
      command: pwd
      register: where
      changed_when: false
    - name: keep it
      copy:
        content: "{{ where.stdout }}|{{ ansible_user_id }}"
        dest: "{{ out }}/pwd.txt"
  handlers:
    - name: note
      shell: echo ran >> "{{ out }}/handler.log"
"#;

const GREET: &str = "{{ greeting }} from {{ inventory_hostname }} on {{ ansible_system }} as {{ ansible_user_id }}\n";

#[test]
fn apply_on_a_local_host_writes_files_runs_handlers_once_and_is_idempotent() {
    let sb = Sandbox::new();
    let out = sb.out();
    sb.write(
        "inv",
        &format!("h1 ansible_connection=local out={}\n", out.display()),
    );
    sb.write("site.yml", PLAYBOOK);
    sb.write("templates/greet.j2", GREET);

    let first = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("TASK [Gathering Facts]") && stdout.contains("RUNNING HANDLER [note]"),
        "{}",
        text(&first)
    );
    // facts 1 + 7 tasks + handler; all but the facts, `pwd` and nothing else changed.
    assert_eq!(
        recap(&first, "h1"),
        [9, 7, 0, 0, 0, 0, 0],
        "{}",
        text(&first)
    );

    let user = sb.user();
    assert_eq!(read(&out.join("copied.txt")), "static\n");
    assert_eq!(mode(&out.join("copied.txt")), 0o640);
    assert_eq!(
        read(&out.join("greet.txt")),
        format!("hello from h1 on Linux as {user}\n")
    );
    assert!(out.join("sub").is_dir());
    assert_eq!(mode(&out.join("sub")), 0o750);
    assert_eq!(read(&out.join("config")), "key=value\n");
    assert!(out.join("marker").is_file());
    assert_eq!(read(&out.join("handler.log")), "ran\n");
    // Scripts start in the home, as over an ssh login, not where hactl was started.
    assert_eq!(
        read(&out.join("pwd.txt")),
        format!("{}|{user}", sb.path("home").display())
    );
    // The pending-handlers list was kept under the sandbox's HOME (and emptied).
    assert!(sb.path("home/.hactl").is_dir());
    assert!(!sb.path("home/.hactl/pending-handlers").exists());
    if sb.drop_root {
        assert_eq!(
            std::fs::metadata(out.join("copied.txt"))
                .expect("stat")
                .uid(),
            NOBODY
        );
    }

    let second = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(
        recap(&second, "h1"),
        [8, 0, 0, 0, 0, 0, 0],
        "{}",
        text(&second)
    );
    assert!(
        !String::from_utf8_lossy(&second.stdout).contains("RUNNING HANDLER"),
        "{}",
        text(&second)
    );
    assert_eq!(read(&out.join("handler.log")), "ran\n");
}

#[test]
fn a_plays_connection_keyword_selects_local() {
    let sb = Sandbox::new();
    let out = sb.out();
    // No ansible_connection: without the keyword hactl would ssh to a host named h1.
    sb.write("inv", &format!("h1 out={}\n", out.display()));
    sb.write(
        "site.yml",
        r#"
- hosts: h1
  connection: local
  gather_facts: false
  tasks:
    - copy:
        content: "kw\n"
        dest: "{{ out }}/kw.txt"
"#,
    );
    let run = sb.hactl(&["apply", "inv", "site.yml"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert_eq!(recap(&run, "h1"), [1, 1, 0, 0, 0, 0, 0], "{}", text(&run));
    assert_eq!(read(&out.join("kw.txt")), "kw\n");
}

#[test]
fn adhoc_run_on_a_local_host() {
    let sb = Sandbox::new();
    sb.write("inv", "h1 ansible_connection=local\n");
    let run = sb.hactl(&["run", "h1", "-i", "inv", "echo hi; pwd; echo oops >&2"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let home = sb.path("home");
    assert!(stdout.contains("h1 | hi\n"), "{}", text(&run));
    assert!(
        stdout.contains(&format!("h1 | {}\n", home.display())),
        "{}",
        text(&run)
    );
    assert!(stdout.contains("h1 | CHANGED | rc=0"), "{}", text(&run));

    let failed = sb.hactl(&["run", "h1", "-i", "inv", "exit 3"]);
    assert_eq!(failed.status.code(), Some(2), "{}", text(&failed));
    assert!(
        String::from_utf8_lossy(&failed.stdout).contains("h1 | FAILED | rc=3"),
        "{}",
        text(&failed)
    );
}

#[test]
fn an_unknown_connection_is_refused_naming_host_and_value() {
    let sb = Sandbox::new();
    sb.write("inv", "h1 ansible_connection=docker\n");
    sb.write("site.yml", "- hosts: h1\n  tasks:\n    - command: 'true'\n");
    for args in [
        &["run", "h1", "-i", "inv", "echo hi"][..],
        &["apply", "inv", "site.yml"][..],
    ] {
        let run = sb.hactl(args);
        assert_ne!(run.status.code(), Some(0), "{}", text(&run));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            stderr.contains("h1: ansible_connection 'docker'") && stderr.contains("not supported"),
            "{}",
            text(&run)
        );
        assert!(!String::from_utf8_lossy(&run.stdout).contains("hi\n"));
    }
}

#[test]
fn connection_below_a_play_or_unknown_on_a_play_is_refused_at_load() {
    let sb = Sandbox::new();
    sb.write("inv", "h1 ansible_connection=local\n");
    sb.write(
        "task.yml",
        "- hosts: h1\n  tasks:\n    - command: 'true'\n      connection: local\n",
    );
    sb.write(
        "play.yml",
        "- hosts: h1\n  connection: winrm\n  tasks:\n    - command: 'true'\n",
    );
    let task = sb.hactl(&["apply", "inv", "task.yml"]);
    assert_ne!(task.status.code(), Some(0), "{}", text(&task));
    let stderr = String::from_utf8_lossy(&task.stderr);
    assert!(
        stderr.contains("task.yml:4:") && stderr.contains("'connection' on a play only"),
        "{}",
        text(&task)
    );
    let play = sb.hactl(&["apply", "inv", "play.yml"]);
    assert_ne!(play.status.code(), Some(0), "{}", text(&play));
    let stderr = String::from_utf8_lossy(&play.stderr);
    assert!(
        stderr.contains("play.yml:2:") && stderr.contains("connection 'winrm' is not supported"),
        "{}",
        text(&play)
    );
}

/// Files in `dir` whose name starts with `.hactl` (copy's temp files).
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".hactl"))
        .collect()
}

#[test]
fn sigterm_during_validate_stops_the_local_script_and_keeps_the_old_file() {
    let sb = Sandbox::new();
    let out = sb.out();
    sb.write("out/app.conf", "old\n");
    sb.write(
        "inv",
        &format!("h1 ansible_connection=local out={}\n", out.display()),
    );
    // The validate leaves a mark if it is not stopped.
    sb.write(
        "site.yml",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - copy:
        content: "new\n"
        dest: "{{ out }}/app.conf"
        validate: "sh -c 'sleep 3; touch {{ out }}/validated; grep -q new %s'"
"#,
    );
    let mut child = sb
        .command(&["apply", "inv", "site.yml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hactl");
    // Wait for the temp file: the validate is running then.
    let start = Instant::now();
    while temp_files(&out).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no temp file appeared"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("hactl ended before the validate: {status:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(143), "{status:?}");
    // Past the time the validate would have ended.
    std::thread::sleep(Duration::from_secs(4));
    assert!(!out.join("validated").exists(), "the validate ran on");
    assert_eq!(read(&out.join("app.conf")), "old\n");
    assert_eq!(temp_files(&out), Vec::<String>::new());
}
