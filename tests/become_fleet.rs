//! `-b`/`--become` and `--become-user` (sudo) on a real host, logged in as an ordinary user:
//! ad hoc commands run as that user, as root with `-b`, as another user with
//! `--become-user`; a play's `become: true` task writes where the user cannot, with the same
//! recap as ansible-playbook's; without sudo rights `-b` fails at once with sudo's words
//! instead of waiting for a password.

mod common;

use std::path::Path;
use std::process::Output;

use common::fleet::Fleet;

const PLAY: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - name: as the login user
      copy: content=mine dest=/tmp/become-test-mine
    - name: without become, /etc is closed
      copy: content=x dest=/etc/become-test
      ignore_errors: true
    - name: with become
      copy: content=root dest=/etc/become-test mode=0640
      become: true
    - name: who runs a become task
      command: id -un
      become: true
      register: who
    - name: check
      assert:
        that: who.stdout == 'root'
"#;

fn hactl(fleet: &Fleet, args: &[&str]) -> Output {
    fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .args(args)
        .args(fleet.ssh_args())
        .output()
        .expect("run hactl")
}

fn run(fleet: &Fleet, inv: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let inv = inv.display().to_string();
    let mut args = vec!["run", "all", "-i", &inv, "--no-stream"];
    args.extend_from_slice(extra);
    args.push("id -un");
    let out = hactl(fleet, &args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn recap(text: &str) -> String {
    text.lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.starts_with("s1 "))
        .and_then(|l| l.split_once(':'))
        .map(|(_, r)| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| panic!("no recap in:\n{text}"))
}

#[test]
fn become_runs_as_root_or_another_user_through_sudo() {
    let fleet = Fleet::up(&["s1"]);
    let setup = fleet.ssh(
        "s1",
        "useradd -m -s /bin/sh deploy && install -d -o deploy -m 700 ~deploy/.ssh && \
         install -o deploy -m 600 /root/.ssh/authorized_keys ~deploy/.ssh/ && \
         echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy && \
         chmod 440 /etc/sudoers.d/deploy && rm -f /etc/become-test",
    );
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("hosts.ini");
    std::fs::write(
        &inv,
        format!("s1 ansible_host={} ansible_user=deploy\n", fleet.addr("s1")),
    )
    .expect("inventory");

    // Ad hoc.
    let (code, text) = run(&fleet, &inv, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("deploy") && !text.contains("root"), "{text}");
    let (code, text) = run(&fleet, &inv, &["-b"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("root"), "{text}");
    let (code, text) = run(&fleet, &inv, &["-b", "--become-user", "nobody"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nobody"), "{text}");

    // A play, beside ansible-playbook.
    std::fs::write(dir.path().join("site.yml"), PLAY).expect("playbook");
    let ours = hactl(
        &fleet,
        &[
            "apply",
            &inv.display().to_string(),
            &dir.path().join("site.yml").display().to_string(),
        ],
    );
    let ours_text = String::from_utf8_lossy(&ours.stdout).into_owned();
    assert_eq!(ours.status.code(), Some(0), "{ours_text}");
    assert!(
        recap(&ours_text).starts_with("ok=5 changed=3 "),
        "{ours_text}"
    );
    let file = fleet.ssh(
        "s1",
        "stat -c '%U %a' /etc/become-test /tmp/become-test-mine",
    );
    assert_eq!(
        String::from_utf8_lossy(&file.stdout),
        "root 640\ndeploy 644\n"
    );
    fleet.ssh("s1", "rm -f /etc/become-test /tmp/become-test-mine");
    let theirs = fleet
        .ctl("/opt/ansible-venv/bin/ansible-playbook")
        .arg("-i")
        .arg(&inv)
        .arg(dir.path().join("site.yml"))
        .env("ANSIBLE_CONFIG", fleet.state.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("run ansible-playbook");
    let theirs_text = String::from_utf8_lossy(&theirs.stdout).into_owned();
    assert_eq!(recap(&ours_text), recap(&theirs_text), "{theirs_text}");

    // No sudo rights: a clear failure, at once.
    fleet.ssh("s1", "rm -f /etc/sudoers.d/deploy");
    let start = std::time::Instant::now();
    let (code, text) = run(&fleet, &inv, &["-b"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("sudo"), "{text}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}
