//! `no_log` hides everything of a task, on a local host: loop items and results in the text
//! output (also with `-v` and `-vvv`), in `--json`, and in `--diff`; what Ansible prints in
//! their place is `(item=(censored due to no_log))` and its censored message.

mod common;

use common::local::Sandbox;

const SECRET: &str = "hunter2-s3cret";

fn play(out: &str) -> String {
    format!(
        r#"- hosts: all
  gather_facts: false
  tasks:
    - name: loop over secrets
      command: echo {{{{ item.password }}}}
      loop:
        - {{ user: bob, password: {SECRET} }}
      no_log: true
    - name: write a secret file
      copy:
        content: "token {SECRET}\n"
        dest: {out}/secret.txt
      no_log: true
    - name: failing with the secret
      shell: echo {SECRET}; exit 3
      no_log: true
      ignore_errors: true
"#
    )
}

#[test]
fn no_log_hides_items_results_diffs_and_scripts() {
    let sb = Sandbox::new();
    let out = sb.out().display().to_string();
    sb.write("hosts.ini", "h1 ansible_connection=local\n");
    sb.write("site.yml", &play(&out));
    for args in [
        vec!["apply", "hosts.ini", "site.yml", "--diff"],
        vec!["apply", "hosts.ini", "site.yml", "--diff", "-v"],
        vec!["apply", "hosts.ini", "site.yml", "--diff", "-vvv"],
        vec!["apply", "hosts.ini", "site.yml", "--diff", "--json"],
    ] {
        let run = sb.hactl(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            !text.contains(SECRET),
            "{args:?} printed the secret:\n{text}"
        );
        if !args.contains(&"--json") {
            assert!(
                text.contains("(item=(censored due to no_log))"),
                "{args:?}:\n{text}"
            );
        }
    }
    // The task still did its work.
    let written = std::fs::read_to_string(sb.out().join("secret.txt")).expect("written");
    assert!(written.contains(SECRET));
}

/// A vars file a host sent (`fetch`) is the host's data: `include_vars` of it gives values
/// that are never templated, so a host cannot make the controller read its files through it.
#[test]
fn include_vars_of_a_fetched_file_is_never_templated() {
    let sb = Sandbox::new();
    let out = sb.out().display().to_string();
    let secret_file = sb.path("controller-secret");
    sb.write("controller-secret", SECRET);
    // What the host holds: a vars file whose value is a lookup of a controller file.
    sb.write(
        "out/remote.yml",
        &format!(
            "x: \"{{{{ lookup('file', '{}') }}}}\"\n",
            secret_file.display()
        ),
    );
    sb.write("hosts.ini", "h1 ansible_connection=local\n");
    sb.write(
        "site.yml",
        &format!(
            r#"- hosts: all
  gather_facts: false
  tasks:
    - name: fetch the host's vars file
      fetch:
        src: {out}/remote.yml
        dest: {out}/fetched/
        flat: true
    - name: read it
      include_vars: {out}/fetched/remote.yml
    - name: show it
      debug: var=x
"#
        ),
    );
    let run = sb.hactl(&["apply", "hosts.ini", "site.yml"]);
    let text = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{text}");
    assert!(
        !text.contains(SECRET),
        "the fetched value was templated:\n{text}"
    );
    assert!(text.contains("lookup('file'"), "{text}");
}
