//! Loading playbooks and roles: the seed's role as the article wrote it, and one clear error
//! (file, line, task, hint) for each kind of bad input.

use std::path::Path;

use hactl::playbook::{self, Item, Loop};
use serde_json::json;

fn fixture(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

#[test]
fn loads_the_seed_playbook_unchanged() {
    let loaded = playbook::load(&fixture("seed/nginx.yml")).expect("seed playbook loads");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let pb = &loaded.playbook;
    assert_eq!(pb.plays.len(), 1);
    let play = &pb.plays[0];
    assert_eq!(play.hosts, "nginx");
    assert_eq!(play.keywords.remote_user.as_deref(), Some("root"));
    assert!(play.gather_facts);
    assert_eq!(play.roles.len(), 1);
    let role = &pb.roles[&play.roles[0].path];
    assert_eq!(role.name, "nginx");
    let tasks: Vec<_> = role
        .tasks
        .iter()
        .map(|i| match i {
            Item::Task(t) => t,
            Item::Block(_) => panic!("no blocks in the seed"),
        })
        .collect();
    let modules: Vec<_> = tasks.iter().map(|t| t.module.as_str()).collect();
    assert_eq!(modules, ["yum", "template", "copy", "template", "service"]);
    assert_eq!(tasks[0].args["name"], json!("{{ item }}"));
    assert_eq!(
        tasks[0].looping,
        Some(Loop::Items {
            lookup: Some("items".into()),
            value: json!(["nginx", "keepalived"])
        })
    );
    assert_eq!(tasks[1].args["src"], json!("keepalived.conf.j2"));
    assert_eq!(
        tasks[1].args["dest"],
        json!("/etc/keepalived/keepalived.conf")
    );
    assert_eq!(tasks[1].notify, ["restart keepalived"]);
    assert_eq!(tasks[2].args["dest"], json!("/etc/keepalived/"));
    assert_eq!(tasks[4].args["enabled"], json!("true"));
    assert_eq!(tasks[1].origin.mark.line, 6);
    assert_eq!(
        tasks[1].display_name(Some(&role.name)),
        "nginx : config keepalived"
    );
    let handlers: Vec<_> = role
        .handlers
        .iter()
        .filter_map(|i| {
            if let Item::Task(t) = i {
                t.name.clone()
            } else {
                None
            }
        })
        .collect();
    assert_eq!(handlers, ["restart keepalived", "restart nginx"]);
}

#[test]
fn bad_playbooks_get_one_clear_error_each() {
    let dir = fixture("bad-playbooks");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    names.sort();
    assert!(names.len() >= 10);
    let mut report = String::new();
    for path in names {
        let err = playbook::load(&path).expect_err(&format!("{} must fail", path.display()));
        let msg = format!("{err:#}")
            .replace(&format!("{}/", dir.display()), "")
            .replace(&dir.display().to_string(), "<dir>");
        report.push_str(&msg);
        report.push('\n');
    }
    insta::assert_snapshot!(report);
}

/// Writes `text` as a playbook in a fresh folder and loads it.
fn load_text(text: &str) -> Result<playbook::Loaded, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("site.yml");
    std::fs::write(&path, text).expect("write");
    playbook::load(&path).map_err(|e| e.to_string())
}

#[test]
fn gather_keywords_are_read_not_ignored() {
    let loaded = load_text(
        "- hosts: all\n  gather_subset: ['!all', 'network,virtual']\n  gather_timeout: 3\n  fact_path: /srv/facts.d\n  tasks: []\n",
    )
    .expect("loads");
    let g = &loaded.playbook.plays[0].gather;
    assert_eq!(g.subset, ["!all", "network", "virtual"]);
    assert_eq!(g.timeout, Some(3));
    assert_eq!(g.fact_path.as_deref(), Some("/srv/facts.d"));

    let err =
        load_text("- hosts: all\n  gather_subset: [netwrk]\n  tasks: []\n").expect_err("refused");
    assert!(
        err.contains("site.yml") && err.contains("Bad subset 'netwrk'"),
        "{err}"
    );
    let err =
        load_text("- hosts: all\n  fact_path: '{{ d }}'\n  tasks: []\n").expect_err("refused");
    assert!(
        err.contains("does not template the play keyword 'fact_path'"),
        "{err}"
    );
    let err =
        load_text("- hosts: all\n  gather_timeout: soon\n  tasks: []\n").expect_err("refused");
    assert!(
        err.contains("'gather_timeout' must be a positive integer"),
        "{err}"
    );
}
