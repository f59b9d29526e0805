//! Property tests: the INI parser and the Python literal evaluator never panic, whatever the
//! input, and every host they produce is in `all`'s tree.

use std::path::Path;

use hactl::inventory::{self, pyliteral};
use proptest::prelude::*;

/// Lines built from the pieces INI inventories are made of, so that most inputs get deep into
/// the parser instead of failing on the first character.
fn ini_line() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("[web]".to_string()),
        Just("[web:vars]".to_string()),
        Just("[web:children]".to_string()),
        Just("[db:children]".to_string()),
        Just("[all:vars]".to_string()),
        Just("db".to_string()),
        Just("web".to_string()),
        Just("h[01:03]".to_string()),
        Just("h[a:c]:22".to_string()),
        Just("x=1".to_string()),
        Just("y='a b'".to_string()),
        Just("z=\"[1, {'a': (2,)}]\"".to_string()),
        Just("# c".to_string()),
        Just("; c".to_string()),
        "[a-z0-9\\[\\]:=,'\" #;{}()._-]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(pieces, 0..5).prop_map(|p| p.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn ini_parser_never_panics(lines in prop::collection::vec(ini_line(), 0..12)) {
        let text = lines.join("\n");
        if let Ok(loaded) = inventory::parse_ini(&text, Path::new("fuzz.ini")) {
            let inv = &loaded.inventory;
            for (name, host) in &inv.hosts {
                prop_assert!(!host.groups.is_empty(), "host {name} has no group");
                let _ = inv.host_vars(name);
            }
            let _ = inventory::output::list(inv);
            let _ = inventory::output::graph(inv, "all", true);
        }
    }

    #[test]
    fn literal_eval_never_panics(text in "[-+0-9a-fA-Fxobj_.eE'\"\\\\(){}\\[\\],: #TrueFalsNn]{0,24}") {
        let _ = pyliteral::eval(&text);
    }

    #[test]
    fn literal_eval_never_panics_on_any_text(text in any::<String>()) {
        let _ = pyliteral::eval(&text);
    }
}
