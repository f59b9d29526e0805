//! The account and network modules (`user`, `group`, `get_url`, `uri`) through
//! `hactl apply` on one host and ansible-playbook on another, from the same start: both leave
//! the same accounts and files (content, mode, owner) and register the same results, on a
//! first run and on a second one (all `ok`). The web server is each host's own nginx
//! (127.0.0.1), so no request leaves the fleet.

mod common;

use std::path::Path;
use std::process::Output;

use common::fleet::Fleet;

const PLAY: &str = include_str!("mods_net/site.yml");

fn prepare(fleet: &Fleet, host: &str) {
    let out = fleet.ssh(
        host,
        "set -e; mkdir -p /var/www/html/hnet /root/hnet; \
         printf 'hello from nginx\\n' > /var/www/html/hnet/a.txt; \
         printf 'c\\n' > /var/www/html/hnet/c.txt; \
         printf '{\"name\": \"hnet\", \"n\": 3}\\n' > /var/www/html/hnet/v.json; \
         useradd -M hnet-gone; systemctl restart nginx",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the play left: accounts, files with mode and owner, and the registered results.
fn leaves(fleet: &Fleet, host: &str) -> String {
    let out = fleet.ssh(
        host,
        "getent passwd hnet-ann hnet-bob hnet-gone | cut -d: -f1,3,5-7; \
         getent group hnet-ops adm | cut -d: -f1,3,4; getent group hnet-sys | cut -d: -f1; \
         getent shadow hnet-ann | cut -d: -f1,2; \
         ls -ld /home/hnet-ann | cut -d' ' -f1,3,4; \
         cd /root/hnet && for f in *; do echo \"$f $(stat -c '%a %U %G' \"$f\") $(sha256sum < \"$f\")\"; done; \
         cat results.txt",
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn recap(text: &str, host: &str) -> String {
    text.lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.starts_with(&format!("{host} ")))
        .and_then(|l| l.split_once(':'))
        .map(|(_, r)| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| panic!("no recap for {host} in:\n{text}"))
}

fn hactl(fleet: &Fleet, dir: &Path, extra: &[&str]) -> (Output, String) {
    let out = fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .arg("apply")
        .arg(fleet.inventory())
        .arg(dir.join("site.yml"))
        .args(["--limit", "n1"])
        .args(extra)
        .args(fleet.ssh_args())
        .output()
        .expect("run hactl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

fn ansible(fleet: &Fleet, dir: &Path, extra: &[&str]) -> (Output, String) {
    let out = fleet
        .ctl("/opt/ansible-venv/bin/ansible-playbook")
        .args(["-i"])
        .arg(fleet.inventory())
        .arg(dir.join("site.yml"))
        .args(["--limit", "n2"])
        .args(extra)
        .env("ANSIBLE_CONFIG", fleet.state.join("ansible.cfg"))
        // Ansible's ssh masters are keyed by address, which every fleet reuses: without a
        // folder of this fleet's own, a run could reach another test's host.
        .env(
            "ANSIBLE_SSH_CONTROL_PATH_DIR",
            fleet.state.join("ansible-cp"),
        )
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("run ansible-playbook");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

#[test]
fn account_and_network_modules_leave_what_ansible_leaves() {
    let fleet = Fleet::up(&["n1", "n2"]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("site.yml"), PLAY).expect("playbook");
    prepare(&fleet, "n1");
    prepare(&fleet, "n2");

    // Check mode first: both report the same and change nothing.
    let (_, ours) = hactl(&fleet, dir.path(), &["--check"]);
    let (_, theirs) = ansible(&fleet, dir.path(), &["--check"]);
    assert_eq!(
        recap(&ours, "n1"),
        recap(&theirs, "n2"),
        "check:\n{ours}\n{theirs}"
    );
    assert!(
        !String::from_utf8_lossy(&fleet.ssh("n1", "getent passwd hnet-ann").stdout)
            .contains("hnet-ann"),
        "check mode made the user"
    );

    for round in ["first", "second"] {
        let (ours, ours_text) = hactl(&fleet, dir.path(), &[]);
        let (theirs, theirs_text) = ansible(&fleet, dir.path(), &[]);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{ours_text}\n{theirs_text}"
        );
        assert_eq!(
            recap(&ours_text, "n1"),
            recap(&theirs_text, "n2"),
            "{round} run:\n{ours_text}\n{theirs_text}"
        );
        let (a, b) = (leaves(&fleet, "n1"), leaves(&fleet, "n2"));
        assert_eq!(a, b, "{round} run:\n{ours_text}\n{theirs_text}");
        assert!(
            !ours_text.contains("$6$salt"),
            "the password hash was shown:\n{ours_text}"
        );
    }
    let (_, text) = hactl(&fleet, dir.path(), &[]);
    assert!(recap(&text, "n1").starts_with("ok=13 changed=0 "), "{text}");
}
