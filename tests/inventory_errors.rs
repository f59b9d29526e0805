//! What a user sees for a broken inventory: one error naming the file and line (snapshots), a
//! non-zero exit from `hactl inventory`, and never a panic.

use std::path::Path;

use assert_cmd::Command;
use hactl::inventory;

/// Writes `files` into a fresh folder, loads `source` from it and returns the error as the
/// binary prints it, with the folder replaced by `<dir>`.
fn load_error(files: &[(&str, &str)], source: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let err = inventory::load(&[dir.path().join(source)]).expect_err("must fail");
    format!("{:#}", anyhow::Error::from(err)).replace(&dir.path().display().to_string(), "<dir>")
}

fn ini_error(text: &str) -> String {
    load_error(&[("hosts.ini", text)], "hosts.ini")
}

#[test]
fn unknown_section_type() {
    insta::assert_snapshot!(ini_error("[web]\nh1\n[web:kids]\nh2\n"), @"<dir>/hosts.ini:3: Section [web:kids] has unknown type: kids");
}

#[test]
fn vars_for_undefined_group() {
    insta::assert_snapshot!(ini_error("[web]\nh1\n[db:vars]\nx=1\n"), @"<dir>/hosts.ini:3: Section [db:vars] not valid for undefined group 'db'.");
}

#[test]
fn children_of_undefined_group() {
    insta::assert_snapshot!(ini_error("[p:children]\nweb\nmissing\n[web]\nh\n"), @"<dir>/hosts.ini:3: Section [p:children] includes undefined group 'missing'.");
}

#[test]
fn unclosed_range() {
    insta::assert_snapshot!(ini_error("[web]\nweb[01:10\n"), @r#"<dir>/hosts.ini:2: unclosed or malformed range in host pattern "web[01:10""#);
}

#[test]
fn range_errors() {
    insta::assert_snapshot!(ini_error("web[1:]\n"), @"<dir>/hosts.ini:1: host range must specify end value");
    insta::assert_snapshot!(ini_error("web[01:100]\n"), @"<dir>/hosts.ini:1: host range must specify equal-length begin and end formats");
    insta::assert_snapshot!(ini_error("web[z:a]\n"), @"<dir>/hosts.ini:1: host range must have begin <= end");
}

#[test]
fn bad_key_value() {
    insta::assert_snapshot!(ini_error("[web]\nh1 novalue\n"), @"<dir>/hosts.ini:2: Expected key=value host variable assignment, got: novalue");
    insta::assert_snapshot!(ini_error("[web]\nh\n[web:vars]\njustakey\n"), @"<dir>/hosts.ini:4: Expected key=value, got: justakey");
}

#[test]
fn shell_quoting_errors() {
    insta::assert_snapshot!(ini_error("h1 x='open\n"), @"<dir>/hosts.ini:1: Error parsing host definition 'h1 x='open': No closing quotation");
}

#[test]
fn section_and_host_syntax() {
    insta::assert_snapshot!(ini_error("[web ]\n"), @"<dir>/hosts.ini:1: Invalid section entry: '[web ]'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters");
    insta::assert_snapshot!(ini_error("[web]\nh1:\n"), @"<dir>/hosts.ini:2: Invalid host pattern 'h1:' supplied, ending in ':' is not allowed, this character is reserved to provide a port.");
    insta::assert_snapshot!(ini_error("[p:children]\nbad:name\n"), @"<dir>/hosts.ini:2: Expected group name, got: bad:name");
}

#[test]
fn group_loops_and_priority() {
    insta::assert_snapshot!(ini_error("[a:children]\nb\n[b:children]\na\n"), @"<dir>/hosts.ini:4: Adding group 'a' as child to 'b' creates a recursive dependency loop.");
    insta::assert_snapshot!(ini_error("[g]\nh\n[g:vars]\nansible_group_priority=high\n"), @"<dir>/hosts.ini:4: invalid literal for int() with base 10: 'high'");
}

#[test]
fn unhashable_literal() {
    insta::assert_snapshot!(ini_error("h x=\"{[1]: 2}\"\n"), @"<dir>/hosts.ini:1: unhashable type: 'list'");
}

#[test]
fn unreadable_yaml() {
    let err = load_error(
        &[("inv.yml", "all:\n  hosts:\n    h1: {a: [1, 2}\n")],
        "inv.yml",
    );
    insta::assert_snapshot!(err, @"<dir>/inv.yml:3:18: while parsing a flow sequence, expected ',' or ']'");
}

#[test]
fn yaml_structure_errors() {
    insta::assert_snapshot!(load_error(&[("inv.yml", "- a\n- b\n")], "inv.yml"), @"<dir>/inv.yml:1: YAML inventory has invalid structure, it should be a dictionary, got: <class 'list'>");
    insta::assert_snapshot!(load_error(&[("inv.yml", "web:\n  hosts:\n    - h1\n")], "inv.yml"), @r#"<dir>/inv.yml:3: Invalid "hosts" entry for "web" group, requires a dictionary, found "<class 'list'>" instead."#);
    insta::assert_snapshot!(load_error(&[("inv.yml", "web:\n  hosts:\n    1:\n")], "inv.yml"), @"<dir>/inv.yml:3: Host pattern 1 must be a string. Enclose integers/floats in quotation marks.");
}

#[test]
fn bad_vars_file() {
    let err = load_error(
        &[
            ("hosts.ini", "[web]\nh\n"),
            ("group_vars/web.yml", "- not\n- a mapping\n"),
        ],
        "hosts.ini",
    );
    insta::assert_snapshot!(err, @"<dir>/group_vars/web.yml: Could not process file: expected a mapping of variables, got a list");
}

#[test]
fn missing_source() {
    let err = inventory::load(&[Path::new("/nonexistent/hactl/inventory.ini").to_path_buf()])
        .expect_err("fails");
    insta::assert_snapshot!(format!("{:#}", anyhow::Error::from(err)), @"/nonexistent/hactl/inventory.ini: cannot read: No such file or directory (os error 2)");
}

#[test]
fn binary_exits_non_zero_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("hosts.ini");
    std::fs::write(&inv, "[web]\nh1\n[web:vars]\nbroken\n").expect("write");
    let out = Command::cargo_bin("hactl")
        .expect("bin")
        .args(["inventory", "--list", "-i"])
        .arg(&inv)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&dir.path().display().to_string(), "<dir>");
    insta::assert_snapshot!(stderr.trim_end(), @"ERROR: cannot load the inventory: <dir>/hosts.ini:4: Expected key=value, got: broken");

    std::fs::write(&inv, "[web]\nh1\n").expect("write");
    let out = Command::cargo_bin("hactl")
        .expect("bin")
        .args(["inventory", "--host", "nope", "-i"])
        .arg(&inv)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stderr).trim_end(), @r#"ERROR: host "nope" is not in the inventory"#);
}

#[test]
fn an_empty_host_range_after_many_others_loads_at_once() {
    // Twenty ranges of three then an empty one: expanded the way Ansible does it, this walks
    // 3.5 billion prefixes before finding that nothing comes out (Ansible's answer: no hosts).
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hosts.ini");
    let text = format!("[g]\nh{}[3:1]\nok1\n", "[1:3]".repeat(20));
    std::fs::write(&path, text).expect("write");
    let inv = inventory::load(&[path]).expect("loads");
    assert_eq!(
        inv.inventory.hosts.keys().collect::<Vec<_>>(),
        ["ok1"],
        "no host from the empty range"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn a_pattern_of_too_many_hosts_is_refused_before_they_are_built() {
    let started = std::time::Instant::now();
    // 226 bytes that would be millions of hosts.
    let text = "[g]\nh[0:9][0:9][0:9][0:9][0:9][0:9][0:9]\n";
    let err = ini_error(text);
    assert!(
        err.starts_with("<dir>/hosts.ini:2: host pattern") && err.contains("more than 1000000"),
        "{err}"
    );
    let yaml = "all:\n  hosts:\n    h[0:9][0:9][0:9][0:9][0:9][0:9][0:9]:\n";
    let err = load_error(&[("hosts.yml", yaml)], "hosts.yml");
    assert!(
        err.starts_with("<dir>/hosts.yml:3:") && err.contains("more than 1000000"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn an_inventory_of_too_many_hosts_is_refused_at_the_line_that_crosses_the_limit() {
    // Each line is within the limit of one pattern; together they are not.
    let text = "[g]\na[0:599999]\nb[0:599999]\n";
    let err = ini_error(text);
    assert!(
        err.starts_with("<dir>/hosts.ini:3: the inventory would have more than 1000000 hosts"),
        "{err}"
    );
}
