//! `hactl lint` as a user runs it: a bad multi-host inventory with the seed's bugs (snapshot
//! of the whole output), the shipped deployment (clean), `--json`, and no password in sight.

use std::path::Path;
use std::process::Output;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn lint(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hactl"))
        .current_dir(root())
        .arg("lint")
        .args(args)
        .output()
        .expect("run hactl lint")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bad_inventory_names_every_problem_with_host_file_and_line() {
    let out = lint(&[
        "tests/fixtures/lint/bad/hosts.ini",
        "tests/fixtures/lint/bad/site.yml",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        !text.contains("571f87b2secret"),
        "a password leaked:\n{text}"
    );
    insta::assert_snapshot!("bad_inventory", text);
}

#[test]
fn the_shipped_deployment_lints_clean() {
    let out = lint(&["inventory/hosts.ini", "site.yml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text, "lint: 0 errors, 0 warnings in 2 keepalived configs\n");
    // The default playbook (site.yml beside the inventory's folder) is the same one.
    let out = lint(&["inventory/hosts.ini", "--facts", "tests/fixtures/facts"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn the_seeds_original_chk_down_fails_the_shipped_deployment() {
    // A copy of the shipped deployment with the article's line put back in the template.
    let dir = tempfile::tempdir().expect("tmp");
    for sub in [
        "inventory/group_vars",
        "roles/nginx/tasks",
        "roles/nginx/handlers",
        "templates",
    ] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
    }
    for file in [
        "site.yml",
        "inventory/hosts.ini",
        "inventory/group_vars/all.yml",
        "roles/nginx/tasks/main.yml",
        "roles/nginx/handlers/main.yml",
        "templates/nginx.conf.j2",
        "templates/notify.sh.j2",
    ] {
        std::fs::copy(root().join(file), dir.path().join(file)).expect("copy");
    }
    let template = std::fs::read_to_string(root().join("templates/keepalived.conf.j2"))
        .expect("template")
        .replace(
            r#"script "/bin/bash -c '[[ ! -f /etc/keepalived/down ]]'""#,
            r#"script "/bin/bash -c '[[ -f /etc/keepalived/down ]]' && exit 1 || exit 0""#,
        );
    assert!(template.contains("&& exit 1 || exit 0"));
    std::fs::write(dir.path().join("templates/keepalived.conf.j2"), template).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hactl"))
        .current_dir(dir.path())
        .args(["lint", "inventory/hosts.ini", "--json"])
        .output()
        .expect("run hactl lint");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["errors"], 2, "{doc}");
    let hosts: Vec<&str> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "script-needs-shell")
        .filter_map(|f| f["host"].as_str())
        .collect();
    assert_eq!(hosts, ["lb1", "lb2"]);
    assert_eq!(
        doc["findings"][0]["file"],
        "/etc/keepalived/keepalived.conf"
    );
    assert!(doc["findings"][0]["line"].as_u64().is_some_and(|l| l > 1));
}
