//! Loader-level tests: documents, anchors and merge keys, duplicate keys, `!unsafe`, errors
//! and their positions, the JSON-first rule, the node helpers, and that no input panics.
//! Expected values were checked against ansible-core 2.19 (see also tests/yaml_golden.rs).

use std::path::Path;

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn load(src: &str) -> Parsed {
    parse_str(src, Path::new("t.yml")).unwrap_or_else(|e| panic!("{e}"))
}

fn json_of(src: &str) -> serde_json::Value {
    load(src).root.to_json()
}

fn fail(src: &str) -> Error {
    match parse_str(src, Path::new("t.yml")) {
        Ok(p) => panic!("loaded {:?}", p.root.to_json()),
        Err(e) => e,
    }
}

fn at(line: usize, col: usize) -> Mark {
    Mark { line, col }
}

#[test]
fn empty_and_comment_only_files_are_a_null_document() {
    for src in ["", "# just a comment\n", "---\n", "---\n...\n"] {
        let parsed = load(src);
        assert!(parsed.root.is_null(), "{src:?}");
        assert!(parsed.warnings.is_empty());
    }
}

#[test]
fn a_second_document_is_an_error_at_its_start() {
    let err = fail("a: 1\n---\nb: 2\n");
    assert_eq!(err.mark, at(2, 1));
    assert!(err.message.contains("single document"), "{err}");
}

#[test]
fn nodes_carry_their_start_positions() {
    let root = load("a: 1\nb:\n  - x\n  - {c: d}\n").root;
    assert_eq!(root.mark, at(1, 1));
    let b = root.get("b").expect("b");
    assert_eq!(b.mark, at(3, 3));
    let items = b.as_seq().expect("seq");
    assert_eq!(items[0].mark, at(3, 5));
    assert_eq!(items[1].get("c").map(|n| n.mark), Some(at(4, 9)));
}

#[test]
fn merge_keys_put_merged_pairs_first_and_explicit_keys_win() {
    let src = "base: &b {x: 1, y: 2}\nm:\n  y: 3\n  <<: *b\n  z: 4\n";
    assert_eq!(json_of(src)["m"], json!({"x": 1, "y": 3, "z": 4}));
    let keys: Vec<_> = load(src)
        .root
        .get("m")
        .expect("m")
        .as_map()
        .expect("map")
        .iter()
        .map(|(k, _)| k.json_key())
        .collect();
    assert_eq!(keys, ["x", "y", "z"]);
}

#[test]
fn merging_a_list_lets_later_mappings_win_as_pyyaml_6_0_4_does() {
    let src = "a: &a {alpha: 1, beta: 2}\nb: &b {beta: 20, gamma: 30}\nm:\n  <<: [*a, *b]\n";
    let parsed = load(src);
    assert_eq!(
        parsed.root.get("m").expect("m").to_json(),
        json!({"alpha": 1, "beta": 20, "gamma": 30})
    );
    // Ansible warns about the second `beta`, at the key inside `b`.
    assert_eq!(parsed.warnings.len(), 1);
    assert_eq!(parsed.warnings[0].mark, at(2, 8));
}

#[test]
fn merging_one_letter_keys_keeps_the_first_as_cpython_s_string_cache_makes_it() {
    let src = "a: &a {k: 1}\nb: &b {k: 2}\nm:\n  <<: [*a, *b]\n";
    let parsed = load(src);
    assert_eq!(parsed.root.get("m").expect("m").to_json(), json!({"k": 1}));
    assert!(parsed.warnings.is_empty());
}

#[test]
fn merging_the_same_mapping_twice_is_silent() {
    let parsed = load("a: &a {key: 1}\nm:\n  <<: [*a, *a]\n");
    assert_eq!(
        parsed.root.get("m").expect("m").to_json(),
        json!({"key": 1})
    );
    assert!(parsed.warnings.is_empty());
}

#[test]
fn a_quoted_merge_key_is_an_ordinary_key() {
    assert_eq!(
        json_of("a: &a {x: 1}\nm: {'<<': *a}\n")["m"],
        json!({"<<": {"x": 1}})
    );
}

#[test]
fn merging_a_scalar_is_an_error() {
    let err = fail("m:\n  <<: 5\n");
    assert_eq!(err.mark, at(2, 7));
    assert!(err.message.contains("for merging"), "{err}");
    let err = fail("m:\n  <<: [{a: 1}, 2]\n");
    assert_eq!(err.mark, at(2, 16));
}

#[test]
fn duplicate_keys_keep_the_first_place_and_the_last_value_with_ansible_s_warning() {
    let parsed = load("a: 1\nb: 2\na: 3\n");
    assert_eq!(parsed.root.to_json(), json!({"a": 3, "b": 2}));
    let [warning] = parsed.warnings.as_slice() else {
        panic!("{:?}", parsed.warnings)
    };
    assert_eq!(warning.mark, at(3, 1));
    assert_eq!(
        warning.message,
        "Found duplicate mapping key 'a'. Using last defined value only."
    );
    assert_eq!(
        warning.to_string(),
        "t.yml:3:1: Found duplicate mapping key 'a'. Using last defined value only."
    );
}

#[test]
fn keys_are_equal_as_python_compares_them() {
    let parsed = load("1: int\ntrue: bool\n1.0: float\n~: a\nnull: b\n\"it's\": c\n'it''s': d\n");
    let messages: Vec<_> = parsed.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Found duplicate mapping key True. Using last defined value only.",
            "Found duplicate mapping key 1.0. Using last defined value only.",
            "Found duplicate mapping key None. Using last defined value only.",
            "Found duplicate mapping key \"it's\". Using last defined value only.",
        ]
    );
    assert_eq!(
        parsed.root.to_json(),
        json!({"1": "float", "null": "b", "it's": "d"})
    );
}

#[test]
fn unhashable_keys_are_errors() {
    assert!(fail("? [1, 2]\n: x\n").message.contains("unhashable"));
    assert!(fail("? {a: 1}\n: x\n").message.contains("unhashable"));
}

#[test]
fn unsafe_strings_and_what_unsafe_leaves_alone() {
    let root = load("a: !unsafe '{{ x }}'\nb: !unsafe 12\nc: !unsafe 'yes'\nd: !unsafe [x, {k: v}]\ne: '{{ y }}'\n").root;
    assert_eq!(
        root.get("a").map(|n| &n.value),
        Some(&Yaml::Unsafe("{{ x }}".into()))
    );
    assert_eq!(root.get("b").map(|n| &n.value), Some(&Yaml::Int(12)));
    assert_eq!(root.get("c").map(|n| &n.value), Some(&Yaml::Bool(true)));
    let d = root.get("d").and_then(Node::as_seq).expect("d");
    assert!(d[0].is_unsafe());
    let (k, v) = &d[1].as_map().expect("map")[0];
    assert!(k.is_unsafe() && v.is_unsafe());
    assert!(!root.get("e").expect("e").is_unsafe());
    assert_eq!(root.to_json()["a"], json!("{{ x }}"));
}

#[test]
fn aliases_copy_the_anchored_value() {
    assert_eq!(
        json_of("a: &x [1, 2]\nb: *x\nc: &s hi\nd: [*s, *s]\n"),
        json!({"a": [1, 2], "b": [1, 2], "c": "hi", "d": ["hi", "hi"]})
    );
}

#[test]
fn a_redefined_anchor_is_an_error_as_in_pyyaml() {
    let err = fail("é: &x 1\nü: !!str &x 2\n");
    assert_eq!(err.mark, at(2, 4));
    assert!(err.message.contains("duplicate anchor \"x\""), "{err}");
    assert_eq!(
        json_of("日本: &x 1\nb: [&y 2, *x]\nc: *y\n"),
        json!({"日本": 1, "b": [2, 1], "c": 2})
    );
}

#[test]
fn undefined_and_recursive_aliases_are_errors() {
    assert_eq!(fail("a: *nope\n").mark.line, 1);
    assert!(fail("a: &a [*a]\n").message.contains("recursive"));
}

#[test]
fn an_alias_bomb_is_refused_not_expanded() {
    let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        src.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert!(fail(&src).message.contains("aliases expand"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let src = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let err = fail(&src);
    // saphyr stops at 256 levels itself; our own limit backs it up.
    assert!(
        err.message.contains("recursion limit") || err.message.contains("nesting"),
        "{err}"
    );
}

#[test]
fn syntax_errors_point_where_pyyaml_points() {
    let cases = [
        ("a: [1\n", at(2, 1)),
        ("a:\n  b: 1\n c: 2\n", at(3, 2)),
        ("a: 'abc\n", at(2, 1)),
        ("- a\nb: c\n", at(2, 1)),
        ("a: *nope\n", at(1, 4)),
        ("a: !foo x\n", at(1, 4)),
    ];
    for (src, mark) in cases {
        let err = fail(src);
        assert_eq!(err.mark, mark, "{src:?}: {err}");
        assert_eq!(err.file, Path::new("t.yml"));
    }
}

#[test]
fn error_display_names_file_line_and_column() {
    let err = fail("a: !foo x\n");
    assert_eq!(
        err.to_string(),
        "t.yml:1:4: could not determine a constructor for the tag '!foo'"
    );
}

#[test]
fn unsupported_and_failing_tags_are_errors() {
    assert_eq!(
        fail("a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n").message,
        "Attempting to decrypt but no vault secrets found."
    );
    assert_eq!(
        fail("a: !vault [1]\n").message,
        "The '!vault' tag requires a string value."
    );
    assert!(fail("a: !!binary aGk=\n").message.contains("constructor"));
    assert!(fail("a: !!int x\n").message.contains("integer"));
    assert!(fail("a: =\n").message.contains("tag:yaml.org,2002:value"));
    assert!(
        fail("a: !!map [1]\n")
            .message
            .contains("does not apply to a sequence")
    );
    assert!(
        fail("a: !!str {b: 1}\n")
            .message
            .contains("does not apply to a mapping")
    );
    assert!(fail("a: !!set {b: 1}\n").message.contains("constructor"));
}

#[test]
fn a_tab_after_a_colon_separates_as_in_pyyaml() {
    assert_eq!(
        json_of("a:\tb\nc: {d:\t1}\n"),
        json!({"a": "b", "c": {"d": 1}})
    );
}

#[test]
fn valid_json_is_read_with_json_rules() {
    let parsed =
        load("{\"a\": 1e3, \"b\": \"yes\", \"a\": 2, \"u\": {\"__ansible_unsafe\": \"{{ x }}\"}}");
    assert!(parsed.warnings.is_empty(), "JSON duplicates are silent");
    assert_eq!(
        parsed.root.to_json(),
        json!({"a": 2, "b": "yes", "u": "{{ x }}"})
    );
    assert!(parsed.root.get("u").expect("u").is_unsafe());
    // Ansible's JSON decoder leaves keys untrusted.
    assert!(parsed.root.as_map().expect("map")[0].0.is_unsafe());
    assert_eq!(json_of("[1e3]"), json!([1000.0]));
    // The same scalar read as YAML 1.1 is a string.
    assert_eq!(json_of("[1e3, 0755]"), json!(["1e3", 493]));
}

#[test]
fn json_vault_objects_need_a_password_and_unsafe_objects_need_a_string() {
    assert_eq!(
        fail("{\"v\": {\"__ansible_vault\": \"$ANSIBLE_VAULT;1.1;AES256\\n\"}}").message,
        "Attempting to decrypt but no vault secrets found."
    );
    assert!(
        fail("{\"u\": {\"__ansible_unsafe\": 1}}")
            .message
            .contains("not a string")
    );
}

#[test]
fn to_json_stringifies_keys_like_json_dumps() {
    assert_eq!(
        json_of("1: a\n1.5: b\n~: c\ntrue: d\n1e20: e\n"),
        json!({"1": "d", "1.5": "b", "null": "c", "1e20": "e"})
    );
    assert_eq!(
        json_of("a: [.inf, -.inf, .nan, 1.0e+20]\n")["a"],
        json!(["Infinity", "-Infinity", "NaN", 1e20])
    );
    let root = load("? 1.0e+20\n: x\n? 0.00001\n: y\n").root;
    let keys: Vec<_> = root
        .as_map()
        .expect("map")
        .iter()
        .map(|(k, _)| k.json_key())
        .collect();
    assert_eq!(keys, ["1e+20", "1e-05"]);
}

#[test]
fn helpers() {
    let root = load("s: text\nb: yes\ni: 7\nf: 1.5\nn:\nl: [1]\n").root;
    assert_eq!(root.get("s").and_then(Node::as_str), Some("text"));
    assert_eq!(root.get("b").and_then(Node::as_bool), Some(true));
    assert_eq!(root.get("i").and_then(Node::as_i64), Some(7));
    assert_eq!(root.get("i").and_then(Node::as_f64), Some(7.0));
    assert_eq!(root.get("f").and_then(Node::as_f64), Some(1.5));
    assert!(root.get("n").is_some_and(Node::is_null));
    assert_eq!(
        root.get("l").and_then(Node::as_seq).map(<[Node]>::len),
        Some(1)
    );
    assert_eq!(root.get("missing"), None);
    assert_eq!(root.kind(), "a mapping");
    assert_eq!(root.get("s").and_then(Node::as_i64), None);
}

#[test]
fn parse_file_reports_a_missing_file() {
    let err = parse_file(Path::new("/nonexistent/hactl/x.yml")).expect_err("missing");
    assert_eq!(err.file, Path::new("/nonexistent/hactl/x.yml"));
    assert!(err.message.contains("cannot read"));
}

#[test]
fn parse_file_reads_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vars.yml");
    std::fs::write(&path, "port: 8080\n").expect("write");
    assert_eq!(
        parse_file(&path).expect("parse").root.to_json(),
        json!({"port": 8080})
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn never_panics_on_arbitrary_text(src in "\\PC{0,200}") {
        let _ = parse_str(&src, Path::new("p.yml"));
    }

    #[test]
    fn never_panics_on_yaml_like_text(
        src in proptest::collection::vec(
            prop_oneof![
                Just("- "), Just(": "), Just(":"), Just("\n"), Just("  "), Just("\t"), Just("? "),
                Just("&a "), Just("*a"), Just("!unsafe "), Just("!!int "), Just("<<"), Just("{"),
                Just("}"), Just("["), Just("]"), Just(", "), Just("'"), Just("\""), Just("|"),
                Just(">"), Just("#"), Just("---\n"), Just("..."), Just("key"), Just("1"), Just("0x"),
                Just("yes"), Just("~"), Just("2001-12-14"), Just("é"), Just("\\"), Just("%YAML 1.1\n"),
            ],
            0..60,
        )
    ) {
        let _ = parse_str(&src.concat(), Path::new("p.yml"));
    }
}

#[test]
fn tab_indented_json_keeps_its_positions() {
    let root = load("{\n\t\"a\":\t[1,\n\t2]}").root;
    let items = root.get("a").and_then(Node::as_seq).expect("a");
    assert_eq!((items[1].mark, &items[1].value), (at(3, 2), &Yaml::Int(2)));
}

fn secrets(password: &str) -> crate::vault::VaultSecrets {
    crate::vault::VaultSecrets {
        secrets: vec![crate::vault::Secret {
            label: "default".into(),
            password: password.as_bytes().to_vec(),
        }],
    }
}

/// `text` as a `!vault |` block indented by `indent` spaces.
fn vault_block(plain: &str, indent: usize) -> String {
    let text = crate::vault::format::encrypt_with_salt(plain.as_bytes(), b"pw", None, b"salt-yaml");
    let pad = " ".repeat(indent);
    let mut out = "!vault |\n".to_owned();
    for line in text.lines() {
        out.push_str(&format!("{pad}{line}\n"));
    }
    out
}

#[test]
fn vault_values_decrypt_to_unsafe_strings() {
    let src = format!("a: 1\nb: {}c: 2\n", vault_block("{{ 123 }}", 4));
    let parsed = parse_str_with(&src, Path::new("t.yml"), &secrets("pw")).expect("decrypts");
    // Never templated, and never resolved as YAML (a string, not an integer).
    assert_eq!(
        parsed.root.get("b").map(|n| &n.value),
        Some(&Yaml::Unsafe("{{ 123 }}".into()))
    );
    assert!(crate::vault::revealed::contains("x {{ 123 }} y"));
    let err = parse_str_with(&src, Path::new("t.yml"), &secrets("wrong")).expect_err("wrong");
    assert_eq!(
        err.to_string(),
        "t.yml:2:4: Decryption failed (no vault secrets were found that could decrypt)."
    );
    let err = parse_str_with(&src, Path::new("t.yml"), &Default::default()).expect_err("none");
    assert_eq!(
        err.to_string(),
        "t.yml:2:4: Attempting to decrypt but no vault secrets found."
    );
    let err = parse_str_with("a: !vault plain\n", Path::new("t.yml"), &secrets("pw"))
        .expect_err("not vault data");
    assert_eq!(err.message, "Input is not vault encrypted data.");
}

#[test]
fn encrypted_files_are_decrypted_then_read() {
    let text = crate::vault::format::encrypt_with_salt(
        b"vault_db_password: Xyzzy-7731\nport: 5432\n",
        b"pw",
        Some("prod"),
        b"salt",
    );
    let parsed = parse_str_with(&text, Path::new("v.yml"), &secrets("pw")).expect("decrypts");
    assert_eq!(
        parsed.root.to_json(),
        json!({"vault_db_password": "Xyzzy-7731", "port": 5432})
    );
    // Values from an encrypted file are secrets; its keys are not.
    assert!(crate::vault::revealed::contains("password Xyzzy-7731"));
    assert!(!crate::vault::revealed::contains("vault_db_password:"));
    let err = parse_str_with(&text, Path::new("v.yml"), &secrets("no")).expect_err("wrong");
    assert_eq!(
        err.to_string(),
        "v.yml:1:1: Decryption failed (no vault secrets were found that could decrypt)."
    );
    let json = format!(
        "{{\"v\": {{\"__ansible_vault\": {}}}}}",
        serde_json::to_string(&text).expect("json")
    );
    let parsed = parse_str_with(&json, Path::new("v.json"), &secrets("pw")).expect("json vault");
    assert!(
        matches!(parsed.root.get("v").map(|n| &n.value), Some(Yaml::Unsafe(s)) if s.contains("Xyzzy"))
    );
}
