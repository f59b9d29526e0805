//! Pattern evaluation on inventories built by hand (the parsers have their own tests).

use super::*;

/// ```ini
/// loose1
/// web3.example.com
/// [web]
/// web1.example.com
/// web2.example.com
/// [db]
/// db-a
/// db-b
/// web1.example.com
/// [prod:children]
/// web
/// db
/// ```
fn inventory() -> Inventory {
    let mut inv = Inventory::default();
    inv.add_host("loose1", "ungrouped");
    inv.add_host("web3.example.com", "ungrouped");
    for g in ["web", "db", "prod"] {
        inv.add_group(g);
    }
    inv.add_host("web1.example.com", "web");
    inv.add_host("web2.example.com", "web");
    inv.add_host("db-a", "db");
    inv.add_host("db-b", "db");
    inv.add_host("web1.example.com", "db");
    inv.add_child("prod", "web");
    inv.add_child("prod", "db");
    inv.add_child("all", "prod");
    inv
}

fn hosts(pattern: &str) -> Vec<String> {
    select(&inventory(), pattern, None)
        .map(|s| s.hosts)
        .unwrap_or_else(|e| vec![e.to_string()])
}

fn limited(pattern: &str, limit: &str) -> Vec<String> {
    select(&inventory(), pattern, Some(limit))
        .map(|s| s.hosts)
        .unwrap_or_else(|e| vec![e.to_string()])
}

fn warnings(pattern: &str) -> Vec<String> {
    select(&inventory(), pattern, None)
        .map(|s| s.warnings)
        .unwrap_or_default()
}

const ALL: [&str; 6] = [
    "loose1",
    "web3.example.com",
    "web1.example.com",
    "web2.example.com",
    "db-a",
    "db-b",
];

#[test]
fn all_and_star() {
    assert_eq!(hosts("all"), ALL);
    assert_eq!(hosts("*"), ALL);
    assert_eq!(hosts("ungrouped"), ["loose1", "web3.example.com"]);
}

#[test]
fn unions_keep_first_seen_order() {
    assert_eq!(
        hosts("db:web"),
        ["db-a", "db-b", "web1.example.com", "web2.example.com"]
    );
    assert_eq!(
        hosts("web,db"),
        ["web1.example.com", "web2.example.com", "db-a", "db-b"]
    );
    assert_eq!(hosts("db-b:db"), ["db-b", "db-a", "web1.example.com"]);
}

#[test]
fn intersections_and_exclusions_apply_after_unions() {
    assert_eq!(hosts("web:&db"), ["web1.example.com"]);
    assert_eq!(hosts("!db:web"), ["web2.example.com"]);
    assert_eq!(hosts("&db:!db-a"), ["web1.example.com", "db-b"]);
    assert_eq!(
        hosts("!db"),
        ["loose1", "web3.example.com", "web2.example.com"]
    );
    assert_eq!(hosts("!prod:&ungrouped"), ["loose1", "web3.example.com"]);
}

#[test]
fn globs_match_groups_and_hosts() {
    assert_eq!(hosts("*.example.com"), ALL[1..4]);
    // `db*` matches the group db, and, having a `*`, the hosts db-a and db-b too.
    assert_eq!(hosts("db*"), ["db-a", "db-b", "web1.example.com"]);
    assert_eq!(hosts("we?"), ["web1.example.com", "web2.example.com"]);
}

#[test]
fn regexes_are_anchored_at_the_start() {
    assert_eq!(hosts("~web[0-9]"), ALL[1..4]);
    assert_eq!(
        hosts("~(web|db)$"),
        ["web1.example.com", "web2.example.com", "db-a", "db-b"]
    );
    assert_eq!(hosts("~eb"), Vec::<String>::new());
    assert_eq!(hosts("~("), ["Invalid host list pattern: ~("]);
}

#[test]
fn subscripts_pick_from_the_matches() {
    assert_eq!(hosts("web[0]"), ["web1.example.com"]);
    assert_eq!(hosts("web[-1]"), ["web2.example.com"]);
    assert_eq!(hosts("db[1:]"), ["db-b", "web1.example.com"]);
    assert_eq!(hosts("db[0:1]"), ["db-a", "db-b"]);
    assert_eq!(hosts("db[5:9]"), Vec::<String>::new());
    assert_eq!(
        hosts("db[3]"),
        ["No hosts matched the subscripted pattern 'db[3]'"]
    );
    assert_eq!(
        hosts("!db[-9]"),
        ["No hosts matched the subscripted pattern 'db[-9]'"]
    );
    // A subscript counts duplicates: `*` lists web1 under db, web and prod.
    assert_eq!(hosts("prod[2]"), ["db-a"]);
}

#[test]
fn dash_subscripts_warn() {
    assert_eq!(hosts("db[1-2]"), ["db-b", "web1.example.com"]);
    assert_eq!(
        warnings("db[1-2]"),
        ["Use [x:y] inclusive subscripts instead of [x-y] which has been removed"]
    );
}

#[test]
fn host_names_beat_group_names() {
    let mut inv = inventory();
    inv.add_host("db", "web");
    let sel = |p| select(&inv, p, None).map(|s| s.hosts).unwrap_or_default();
    assert_eq!(sel("db"), ["db"]);
    // With `&` the term goes through groups first, as in Ansible.
    assert_eq!(sel("all:&db"), ["web1.example.com", "db-a", "db-b"]);
}

#[test]
fn mismatches_warn_once() {
    assert_eq!(hosts("nope:web"), ["web1.example.com", "web2.example.com"]);
    assert_eq!(
        warnings("nope:web:&nope:nope[0]"),
        ["Could not match supplied host pattern, ignoring: nope"]
    );
    assert_eq!(
        warnings("all:nope*"),
        ["Could not match supplied host pattern, ignoring: nope*"]
    );
    assert!(warnings("web").is_empty());
}

#[test]
fn strict_mismatch_is_an_error() {
    let inv = inventory();
    let mut selector = Selector::new(&inv).mismatch(Mismatch::Error);
    let err = selector.hosts("web:nope").err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("Could not match supplied host pattern, ignoring: nope")
    );
    let mut quiet = Selector::new(&inv).mismatch(Mismatch::Ignore);
    assert_eq!(quiet.hosts("nope").map(|h| h.len()).ok(), Some(0));
    assert!(quiet.take_warnings().is_empty());
}

#[test]
fn implicit_localhost() {
    assert_eq!(hosts("localhost"), ["localhost"]);
    assert_eq!(hosts("127.0.0.1:web[0]"), ["127.0.0.1", "web1.example.com"]);
    assert!(!hosts("all").contains(&"localhost".to_string()));
    // The first localhost name asked for names the implicit host for the rest of the run.
    let inv = inventory();
    let mut selector = Selector::new(&inv);
    assert_eq!(selector.hosts("::1").ok(), Some(vec!["::1".to_string()]));
    assert_eq!(
        selector.hosts("localhost").ok(),
        Some(vec!["::1".to_string()])
    );
    // An inventory's own localhost-like host stands for the others.
    let mut inv = inventory();
    inv.add_host("127.0.0.1", "ungrouped");
    let sel = select(&inv, "localhost", None)
        .map(|s| s.hosts)
        .unwrap_or_default();
    assert_eq!(sel, ["127.0.0.1"]);
}

#[test]
fn addresses_are_one_term() {
    assert_eq!(
        warnings("db-a:22"),
        ["Could not match supplied host pattern, ignoring: db-a:22"]
    );
    assert_eq!(hosts("db-a:db-b"), ["db-a", "db-b"]);
}

#[test]
fn limits_filter_and_keep_the_pattern_order() {
    assert_eq!(limited("all", "db:!db-a"), ["web1.example.com", "db-b"]);
    assert_eq!(limited("web", "db-a"), Vec::<String>::new());
    assert_eq!(limited("db", "web[0]"), ["web1.example.com"]);
    assert_eq!(limited("db", ""), ["db-a", "db-b", "web1.example.com"]);
    assert_eq!(limited("localhost", "all"), Vec::<String>::new());
}

#[test]
fn limit_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("retry");
    std::fs::write(&file, "db-a\n!db-b\n\n&db\n").expect("write limit file");
    let limit = format!("@{}", file.display());
    assert_eq!(limited("all", &limit), ["db-a"]);
    let missing = format!("@{}", dir.path().join("missing").display());
    assert!(limited("all", &missing)[0].starts_with("Unable to find limit file "));
    let folder = format!("@{}", dir.path().display());
    assert!(limited("all", &folder)[0].starts_with("Limit starting with \"@\" must be a file"));
}

#[test]
fn pattern_lists_are_evaluated_together() {
    let inv = inventory();
    let mut selector = Selector::new(&inv);
    let hosts = selector
        .hosts_of(&["!db", "web,ungrouped"])
        .unwrap_or_default();
    assert_eq!(hosts, ["web2.example.com", "loose1", "web3.example.com"]);
}
