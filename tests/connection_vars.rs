//! The connection variables a task sees without anyone setting them (`ansible_connection`,
//! `ansible_host`, `ansible_user`, `ansible_port`, the timeout, shell and pipelining), as
//! ansible-playbook 2.19 gives them (its `PlayContext.update_vars`): a role may branch on them
//! (willshersystems.sshd: `when: ansible_connection == 'chroot'`). The same expression is shown
//! by ansible-playbook's `debug` (which connects to nothing) and rendered by `hactl render`,
//! for an ssh host with an address, a local one, and one with its user and port in the
//! inventory; `hostvars` must not have them.

use std::path::Path;
use std::process::Command;

const ANSIBLE: &str = "/opt/ansible-venv/bin/ansible-playbook";

const INVENTORY: &str = "h1 ansible_host=203.0.113.9\n\
                         h2 ansible_connection=local\n\
                         h3 ansible_host=203.0.113.10 ansible_user=deploy ansible_port=2222\n";

/// Every variable compared, each with `default('UNDEF')`, and the host's `hostvars` entry.
fn expression() -> String {
    let names = [
        "ansible_connection",
        "ansible_host",
        "ansible_ssh_host",
        "ansible_user",
        "ansible_ssh_user",
        "ansible_port",
        "ansible_ssh_port",
        "ansible_timeout",
        "ansible_ssh_timeout",
        "ansible_shell_executable",
        "ansible_pipelining",
        "ansible_ssh_pipelining",
    ];
    let mut pairs: Vec<String> = names
        .iter()
        .map(|n| format!("'{n}': {n} | default('UNDEF')"))
        .collect();
    pairs.push(
        "'hostvars': hostvars[inventory_hostname].ansible_connection | default('UNDEF')".into(),
    );
    format!("{{{{ {{{}}} | to_json }}}}", pairs.join(", "))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

#[test]
fn connection_variables_are_those_ansible_gives_a_task() {
    assert!(
        Path::new(ANSIBLE).is_file(),
        "this test compares with ansible-core 2.19 at {ANSIBLE}"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    write(d, "inv", INVENTORY);
    write(d, "vars.j2", &format!("{}\n", expression()));
    // The `when` is willshersystems.sshd's: it fails where the variable is undefined.
    write(
        d,
        "ansible.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug:\n        \
         msg: \"{{ lookup('template', 'vars.j2') | trim | from_json }}\"\n      \
         when: ansible_connection != 'chroot'\n",
    );
    write(
        d,
        "hactl.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - template:\n        \
         src: vars.j2\n        dest: /vars.json\n      \
         when: ansible_connection != 'chroot'\n",
    );
    let ansible = Command::new(ANSIBLE)
        .current_dir(d)
        .args(["-i", "inv", "ansible.yml"])
        .output()
        .expect("run ansible-playbook");
    let shown = String::from_utf8_lossy(&ansible.stdout);
    assert!(ansible.status.success(), "{shown}");
    let out = d.join("rendered");
    let hactl = Command::new(env!("CARGO_BIN_EXE_hactl"))
        .current_dir(d)
        .args(["render", "-i", "inv", "hactl.yml", "--out"])
        .arg(&out)
        .output()
        .expect("run hactl");
    assert!(
        hactl.status.success(),
        "{}",
        String::from_utf8_lossy(&hactl.stderr)
    );
    for host in ["h1", "h2", "h3"] {
        // The default callback: `ok: [h1] => {` and the result as indented JSON.
        let at = shown
            .find(&format!("ok: [{host}] => "))
            .unwrap_or_else(|| panic!("ansible showed nothing for {host}: {shown}"));
        let json = &shown[at + format!("ok: [{host}] => ").len()..];
        let result: serde_json::Value = serde_json::Deserializer::from_str(json)
            .into_iter()
            .next()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("no JSON after ok: [{host}]: {shown}"));
        let theirs = &result["msg"];
        assert!(theirs.is_object(), "{host}: {result}");
        let text = std::fs::read_to_string(out.join(host).join("vars.json")).expect("rendered");
        let ours: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
        assert_eq!(&ours, theirs, "{host}");
    }
}
