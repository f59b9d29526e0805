//! Every template of `tests/golden/templates/templates/` rendered for every host of the golden
//! inventory must be byte-identical to what ansible-playbook 2.19's template module wrote into
//! `tests/golden/templates/out/<host>/<name>` (see regen.sh there).
//!
//! The host variables come from the committed `ansible-inventory --list` dump, so this test
//! depends on Ansible's inventory semantics only through real output, not on hactl's parser.

use std::path::{Path, PathBuf};

use hactl::template::{HostInfo, PlayInfo, PlayVars, Templar, to_value};
use indexmap::IndexMap;
use serde_json::Value as Json;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/templates")
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn names(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// `groups` as Ansible computes it: each group's own hosts, then its descendants' hosts,
/// descendants visited level by level.
fn groups_of(inventory: &Json) -> IndexMap<String, Vec<String>> {
    let group = |g: &str| inventory.get(g).cloned().unwrap_or(Json::Null);
    let mut all_groups = vec!["all".to_string()];
    let mut i = 0;
    while i < all_groups.len() {
        for child in names(group(&all_groups[i]).get("children")) {
            if !all_groups.contains(&child) {
                all_groups.push(child);
            }
        }
        i += 1;
    }
    let mut out = IndexMap::new();
    for g in &all_groups {
        let mut level = vec![g.clone()];
        let mut seen = level.clone();
        let mut hosts: Vec<String> = Vec::new();
        while !level.is_empty() {
            let mut next = Vec::new();
            for lg in &level {
                for h in names(group(lg).get("hosts")) {
                    if !hosts.contains(&h) {
                        hosts.push(h);
                    }
                }
                for c in names(group(lg).get("children")) {
                    if !seen.contains(&c) {
                        seen.push(c.clone());
                        next.push(c);
                    }
                }
            }
            level = next;
        }
        out.insert(g.clone(), hosts);
    }
    out
}

fn play_vars() -> (PlayVars, Vec<String>, Json) {
    let dir = golden_dir();
    let inventory = read_json(&dir.join("inventory.json"));
    let groups = groups_of(&inventory);
    let all_hosts = groups.get("all").cloned().unwrap_or_default();
    let hostvars = inventory
        .pointer("/_meta/hostvars")
        .cloned()
        .unwrap_or(Json::Null);
    let hosts: Vec<HostInfo> = all_hosts
        .iter()
        .map(|h| {
            let mut group_names: Vec<String> = groups
                .iter()
                .filter(|(g, hs)| *g != "all" && hs.contains(h))
                .map(|(g, _)| g.clone())
                .collect();
            group_names.sort();
            HostInfo {
                name: h.clone(),
                vars: hostvars
                    .get(h)
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default(),
                group_names,
                facts: Default::default(),
            }
        })
        .collect();
    let play = PlayInfo {
        hosts: all_hosts.clone(),
        playbook_dir: dir.display().to_string(),
        check_mode: false,
        offline: false,
        ..PlayInfo::default()
    };
    let vars_file = read_json(&dir.join("vars.json"));
    (PlayVars::new(&hosts, &groups, &play), all_hosts, vars_file)
}

#[test]
fn templates_match_ansible_byte_for_byte() {
    let dir = golden_dir();
    let (play, hosts, vars_file) = play_vars();
    let vars_layer = to_value(&vars_file);
    let templar = Templar::new();
    let mut templates: Vec<PathBuf> = std::fs::read_dir(dir.join("templates"))
        .unwrap_or_else(|e| panic!("templates: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    templates.sort();
    assert!(templates.len() >= 15, "golden templates missing");
    let mut compared = 0;
    let mut failures = Vec::new();
    for host in &hosts {
        let ctx = play
            .host_context(host, std::slice::from_ref(&vars_layer))
            .unwrap_or_else(|| panic!("{host}"));
        for tpl in &templates {
            let file_name = tpl.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let out_name = file_name.strip_suffix(".j2").unwrap_or(file_name);
            let expected = std::fs::read(dir.join("out").join(host).join(out_name))
                .unwrap_or_else(|e| panic!("{host}/{out_name}: {e} (run regen.sh)"));
            // The playbook's task: `src: templates/<name>`, `dest: .../out/<host>/<out_name>`.
            let src = format!("templates/{file_name}");
            let dest = dir.join("out").join(host).join(out_name);
            let got =
                templar.render_template_module(tpl, &src, &dest.display().to_string(), &ctx, host);
            compared += 1;
            match got {
                Ok(text) if text.as_bytes() == expected.as_slice() => {}
                Ok(text) => {
                    let diff = similar::TextDiff::from_lines(
                        String::from_utf8_lossy(&expected).as_ref(),
                        text.as_str(),
                    )
                    .unified_diff()
                    .header("ansible", "hactl")
                    .to_string();
                    failures.push(format!(
                        "{host}/{out_name}:\n{diff}\n{:?}\n{:?}",
                        String::from_utf8_lossy(&expected),
                        text
                    ));
                }
                Err(e) => failures.push(format!("{host}/{out_name}: error {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
