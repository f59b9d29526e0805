//! `hactl render` end to end: inventory, playbook, loops and templates give files byte-identical
//! to those ansible-playbook's template module wrote for the same inventory and playbook
//! (tests/golden/templates/out, made by tests/golden/templates/regen.sh). The set includes the
//! seed's keepalived.conf, nginx.conf and notify.sh for both load balancers.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn render_matches_ansible_byte_for_byte() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/templates");
    let out = tempfile::tempdir().expect("tmp");
    Command::cargo_bin("hactl")
        .expect("binary")
        .args(["render", "-i"])
        .arg(golden.join("inventory.ini"))
        .arg(golden.join("playbook.yml"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let expected = files(&golden.join("out"));
    assert!(
        expected.len() >= 50,
        "golden set too small: {}",
        expected.len()
    );
    // The playbook writes to {{ playbook_dir }}/out/<host>/<name>; render keeps that absolute
    // path under the host's folder.
    let playbook_dir = std::fs::canonicalize(&golden).expect("canonical");
    let rel_out = playbook_dir.join("out");
    let rel_out = rel_out.strip_prefix("/").expect("absolute");
    let mut checked = 0;
    for want in &expected {
        let rel = want.strip_prefix(golden.join("out")).expect("under out");
        let host = rel.components().next().expect("host folder").as_os_str();
        let got = out.path().join(host).join(rel_out).join(rel);
        let got_bytes = std::fs::read(&got).unwrap_or_else(|e| panic!("{}: {e}", got.display()));
        let want_bytes = std::fs::read(want).expect("golden");
        assert!(
            got_bytes == want_bytes,
            "{} differs from Ansible's:\n--- ansible\n{}\n--- hactl\n{}",
            rel.display(),
            String::from_utf8_lossy(&want_bytes),
            String::from_utf8_lossy(&got_bytes)
        );
        checked += 1;
    }
    assert_eq!(
        files(out.path()).len(),
        checked,
        "render wrote files Ansible did not"
    );
}

#[test]
fn render_errors_name_the_template_line_and_host_and_other_hosts_finish() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("templates")).expect("mkdir");
    std::fs::write(dir.path().join("inv.ini"), "[g]\na x=1\nb\n").expect("inv");
    std::fs::write(
        dir.path().join("templates/t.j2"),
        "line one\nvalue {{ x }}\n",
    )
    .expect("tpl");
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: g\n  gather_facts: false\n  tasks:\n    - name: render t\n      template: src=t.j2 dest=/etc/t\n",
    )
    .expect("playbook");
    let out = dir.path().join("out");
    let assert = Command::cargo_bin("hactl")
        .expect("binary")
        .current_dir(dir.path())
        .args(["render", "-i", "inv.ini", "site.yml", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("b:"), "names the host: {stderr}");
    assert!(stderr.contains("t.j2"), "names the template: {stderr}");
    assert!(
        stderr.contains("line 2") || stderr.contains(":2"),
        "names the line: {stderr}"
    );
    assert!(stderr.contains("'x' is undefined"), "says what: {stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("a/etc/t")).expect("a rendered"),
        "line one\nvalue 1\n"
    );
}

#[test]
fn variable_precedence_matches_ansible() {
    // Every layer from role defaults to extra vars sets the same names; the report template
    // prints which layer won (tests/golden/precedence, made by its regen.sh).
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/precedence");
    let out = tempfile::tempdir().expect("tmp");
    Command::cargo_bin("hactl")
        .expect("binary")
        .current_dir(&golden)
        .args([
            "render",
            "-i",
            "inventory.ini",
            "playbook.yml",
            "-e",
            "out=/o",
        ])
        .args(["-e", "x=extra_vars", "-e", "k=extra_vars", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let got = std::fs::read_to_string(out.path().join("h1/o/h1/report.txt")).expect("rendered");
    let want = std::fs::read_to_string(golden.join("out/h1/report.txt")).expect("golden");
    assert_eq!(got, want);
    assert_eq!(want.lines().count(), 15, "the golden covers every layer");
}

#[test]
fn a_missing_template_names_the_task_and_where_it_looked() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("inv.ini"), "a\n").expect("inv");
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: conf\n      template: src=nope.j2 dest=/etc/x\n",
    )
    .expect("playbook");
    let assert = Command::cargo_bin("hactl")
        .expect("binary")
        .current_dir(dir.path())
        .args(["render", "-i", "inv.ini", "site.yml", "--out", "out"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("task 'conf' at site.yml:4:7"), "{stderr}");
    assert!(
        stderr.contains("could not find the template 'nope.j2'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("templates/nope.j2"),
        "lists where it looked: {stderr}"
    );
}
