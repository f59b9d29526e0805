//! Bad playbooks the engine meets: each gets one clear error naming the file and line, and
//! nothing half-done. On local hosts (no root).

mod common;

use common::local::Sandbox;

fn run(sb: &Sandbox, play: &str) -> (Option<i32>, String, String) {
    sb.write("hosts.ini", "h1 ansible_connection=local\n");
    sb.write("site.yml", play);
    let out = sb.hactl(&["apply", "hosts.ini", "site.yml"]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_delegate_to_host_not_in_the_inventory_is_refused_before_any_task() {
    let sb = Sandbox::new();
    let out = sb.out().display().to_string();
    let (code, stdout, stderr) = run(
        &sb,
        &format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: first\n      file: path={out}/made state=directory\n    - name: elsewhere\n      command: 'true'\n      delegate_to: nosuchhost\n"
        ),
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("site.yml:6:7: in task 'elsewhere': delegate_to host 'nosuchhost' is not in the inventory"),
        "{stderr}"
    );
    assert!(!stdout.contains("TASK ["), "{stdout}");
    assert!(
        !sb.out().join("made").exists(),
        "a task ran before the refusal"
    );
}

#[test]
fn an_include_that_includes_itself_is_an_error_not_a_hang() {
    let sb = Sandbox::new();
    sb.write("loop.yml", "- include_tasks: loop.yml\n");
    let (code, stdout, stderr) = run(
        &sb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: loop.yml\n",
    );
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("includes nest more than 64 deep: a file includes itself"),
        "{stdout}"
    );
}

#[test]
fn an_include_of_a_missing_file_names_it() {
    let sb = Sandbox::new();
    let (code, stdout, stderr) = run(
        &sb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: missing.yml\n    - debug: msg=never\n",
    );
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("could not find the tasks file 'missing.yml'"),
        "{stdout}"
    );
    assert!(!stdout.contains("never"), "{stdout}");
}
