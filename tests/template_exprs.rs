//! Every filter, test and printing rule against ansible-core's own Templar.
//!
//! `tests/golden/exprs/cases.json` holds variables and template strings; `expected.json` is what
//! ansible-core 2.19 returned for each (regenerate with `tests/golden/templates/regen.sh`, which installs passlib for password_hash).

use hactl::template::{Templar, to_value};

#[derive(serde::Deserialize)]
struct Cases {
    vars: serde_json::Value,
    cases: Vec<String>,
    conditions: Vec<String>,
}

#[derive(serde::Deserialize)]
struct Expected {
    #[serde(default)]
    src: String,
    when: Option<String>,
    out: Option<String>,
    error: Option<String>,
}

/// The variables of every case, with lookups searching (and running commands in)
/// `tests/golden/exprs/lookup/`, as `eval.py` sets up Ansible's loader.
fn context(cases: &Cases) -> minijinja::Value {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/exprs/lookup");
    let mut vars = cases.vars.clone();
    if let Some(map) = vars.as_object_mut() {
        map.insert("ansible_search_path".into(), serde_json::json!([fixtures]));
        map.insert("playbook_dir".into(), serde_json::json!(fixtures));
    }
    to_value(&vars)
}

fn load() -> (Cases, Vec<Expected>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/exprs/");
    let read = |f: &str| {
        std::fs::read_to_string(format!("{dir}{f}")).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    let cases: Cases =
        serde_json::from_str(&read("cases.json")).unwrap_or_else(|e| panic!("cases.json: {e}"));
    let expected: Vec<Expected> = serde_json::from_str(&read("expected.json"))
        .unwrap_or_else(|e| panic!("expected.json: {e}"));
    (cases, expected)
}

/// `when:` conditions where hactl knowingly differs: Ansible 2.19 still renders template text
/// inside a string constant (deprecated) and refuses a template that yields an expression
/// from a constant; hactl does neither.
const KNOWN_CONDITION_GAPS: &[&str] = &["'{{ t }}'", "{{ 'n > 1' }}"];

#[test]
fn conditions_match_ansible() {
    let (cases, expected) = load();
    let templar = Templar::new();
    let ctx = context(&cases);
    let mut failures = Vec::new();
    let mut checked = 0;
    for want in &expected {
        let Some(cond) = want
            .when
            .as_deref()
            .filter(|c| !KNOWN_CONDITION_GAPS.contains(c))
        else {
            continue;
        };
        checked += 1;
        let got = templar.eval_condition(cond, &ctx, "localhost");
        let same = match (&want.out, got.as_ref()) {
            (Some(out), Ok(b)) => *out == if *b { "True" } else { "False" },
            (None, Err(_)) => true,
            _ => false,
        };
        if !same {
            failures.push(format!(
                "{cond:?}: ansible {:?}/{:?}, hactl {:?}",
                want.out,
                want.error,
                got.map_err(|e| e.to_string())
            ));
        }
    }
    assert!(checked >= 20, "conditions missing from expected.json");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Cases where hactl knowingly differs (COMPATIBILITY.md, "Templates"): Ansible fails on a
/// missing attribute looked up inside minijinja's built-in `sum`/`selectattr`; hactl treats it
/// as undefined (falsy, skipped). hactl also knows ansible.utils' `ipaddr` by its short name,
/// which Ansible resolves only with `collections: [ansible.utils]` (or ansible.netcommon).
const KNOWN_GAPS: &[&str] = &[
    "<{{ nums | sum('x') }}>",
    "<{{ users | selectattr('admin') | list }}>",
    "<{{ ip4 | ipaddr('address') }}>",
];

#[test]
fn expressions_match_ansible() {
    let (cases, expected) = load();
    assert_eq!(
        cases.cases.len() + cases.conditions.len(),
        expected.len(),
        "expected.json is stale: run regen.sh"
    );
    let templar = Templar::new();
    let ctx = context(&cases);
    let mut failures = Vec::new();
    for want in expected
        .iter()
        .filter(|w| w.when.is_none() && !KNOWN_GAPS.contains(&w.src.as_str()))
    {
        let got = templar.render_str(&want.src, "case", &ctx, "localhost");
        match (&want.out, &want.error, got) {
            (Some(out), _, Ok(got)) if *out == got => {}
            (None, Some(_), Err(_)) => {}
            (out, err, got) => failures.push(format!(
                "{}\n  ansible: {}\n  hactl:   {}",
                want.src,
                out.as_deref().map_or_else(
                    || format!("error {}", err.as_deref().unwrap_or("")),
                    |o| format!("{o:?}")
                ),
                match got {
                    Ok(s) => format!("{s:?}"),
                    Err(e) => format!("error {e}"),
                }
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}
