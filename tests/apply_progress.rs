//! The progress display of `hactl apply`: shown on a terminal (run under `script`, which gives
//! hactl a pseudo-terminal) with the host still running; absent, with no escape codes, when
//! stdout is a pipe; absent with `--json`.

mod common;

use common::fleet::Fleet;

#[test]
fn progress_on_a_terminal_only() {
    let fleet = Fleet::up(&["p1"]);
    let dir = tempfile::tempdir().expect("tmp");
    let inv = std::fs::read_to_string(fleet.inventory()).expect("inventory");
    std::fs::write(dir.path().join("hosts.ini"), inv).expect("inventory");
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: slow\n      shell: sleep 1.5\n",
    )
    .expect("playbook");
    let args = format!(
        "{} apply {} {} --private-key {} --ssh-common-args '-o UserKnownHostsFile={}'",
        env!("CARGO_BIN_EXE_hactl"),
        dir.path().join("hosts.ini").display(),
        dir.path().join("site.yml").display(),
        fleet.state.join("id_ed25519").display(),
        fleet.state.join("known_hosts").display(),
    );

    let tty = fleet
        .ctl("script")
        .args(["-qec", &args, "/dev/null"])
        .output()
        .expect("script");
    let text = String::from_utf8_lossy(&tty.stdout).into_owned();
    assert_eq!(tty.status.code(), Some(0), "{text}");
    assert!(text.contains("slow: 0/1 done, waiting on p1 ("), "{text}");
    assert!(text.contains("changed: [p1]"), "{text}");

    for extra in ["", " --json"] {
        let piped = fleet
            .ctl("sh")
            .args(["-c", &format!("{args}{extra} | cat")])
            .output()
            .expect("sh");
        let text = String::from_utf8_lossy(&piped.stdout).into_owned();
        assert!(piped.status.success(), "{text}");
        assert!(!text.contains("waiting on"), "{text}");
        assert!(!text.contains('\x1b'), "{text}");
    }
}
