//! Golden tests for `hactl::yaml`: every `tests/golden/yaml/*.yml` is loaded with our loader
//! and compared with the `.json` that ansible-core 2.19's own loader produced for it
//! (`tests/golden/yaml/regen.py` documents the encoding and regenerates them).

use std::path::{Path, PathBuf};

use hactl::yaml::{self, Node, Yaml};
use serde_json::{Value, json};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/yaml")
}

/// Our value in regen.py's encoding; floats are compared separately (see `same`).
fn encode(node: &Node) -> Value {
    match &node.value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => json!(b),
        Yaml::Int(i) => json!(i),
        // Python's repr for the values JSON numbers cannot hold.
        Yaml::Float(f) if f.is_nan() => json!({ "__float__": "nan" }),
        Yaml::Float(f) if f.is_infinite() => {
            json!({ "__float__": if *f > 0.0 { "inf" } else { "-inf" } })
        }
        Yaml::Float(f) => json!({ "__float__": f }),
        Yaml::Str(s) => json!(s),
        Yaml::Unsafe(s) => json!({ "__unsafe__": s }),
        Yaml::Seq(items) => Value::Array(items.iter().map(encode).collect()),
        Yaml::Map(pairs) => {
            let pairs: Vec<Value> = pairs
                .iter()
                .map(|(k, v)| Value::Array(vec![encode(k), encode(v)]))
                .collect();
            json!({ "__map__": pairs })
        }
    }
}

/// Python's `repr(float)` as a number (`nan`, `inf`, `-inf` included).
fn py_float(repr: &str) -> Option<f64> {
    match repr {
        "nan" => Some(f64::NAN),
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => repr.parse().ok(),
    }
}

fn same(ours: &Value, golden: &Value) -> bool {
    match (ours, golden) {
        (Value::Object(o), Value::Object(g)) if g.contains_key("__float__") => {
            let ours = o
                .get("__float__")
                .and_then(|v| v.as_f64().or_else(|| py_float(v.as_str()?)));
            let golden = g
                .get("__float__")
                .and_then(Value::as_str)
                .and_then(py_float);
            match (ours, golden) {
                (Some(a), Some(b)) => a == b || (a.is_nan() && b.is_nan()),
                _ => false,
            }
        }
        (Value::Object(o), Value::Object(g)) => {
            o.len() == g.len()
                && o.iter()
                    .all(|(k, v)| g.get(k).is_some_and(|gv| same(v, gv)))
        }
        (Value::Array(o), Value::Array(g)) => {
            o.len() == g.len() && o.iter().zip(g).all(|(a, b)| same(a, b))
        }
        _ => ours == golden,
    }
}

/// Compares one file; returns a description of the difference.
fn check(yml: &Path) -> Result<(), String> {
    let golden_text = std::fs::read_to_string(yml.with_extension("json"))
        .map_err(|e| format!("no golden .json: {e}"))?;
    let golden: Value = serde_json::from_str(&golden_text).map_err(|e| e.to_string())?;
    let parsed = yaml::parse_file(yml);
    if let Some(error) = golden.get("error") {
        let err = match parsed {
            Ok(p) => {
                return Err(format!(
                    "Ansible fails ({error}), we load {}",
                    encode(&p.root)
                ));
            }
            Err(err) => err,
        };
        // Constructor errors carry no position in Ansible; parser errors must agree on it.
        if let Some(line) = error.get("line").and_then(Value::as_u64) {
            let col = error.get("col").and_then(Value::as_u64);
            let ours = (err.mark.line as u64, Some(err.mark.col as u64));
            if ours != (line, col) {
                return Err(format!(
                    "error at {:?}, Ansible at {line}:{col:?}: {err}",
                    ours
                ));
            }
        }
        return Ok(());
    }
    let parsed = parsed.map_err(|e| format!("Ansible loads it, we fail: {e}"))?;
    let ours = encode(&parsed.root);
    if !same(&ours, &golden["value"]) {
        return Err(format!(
            "value differs:\n ours:   {ours}\n golden: {}",
            golden["value"]
        ));
    }
    // Warning order follows PyYAML's breadth-first construction, which we do not mimic.
    let mut ours: Vec<(Option<usize>, Option<usize>, String)> = parsed
        .warnings
        .iter()
        .map(|w| (Some(w.mark.line), Some(w.mark.col), w.message.clone()))
        .collect();
    let mut theirs: Vec<(Option<usize>, Option<usize>, String)> = golden["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            let pos = |k: &str| w.get(k).and_then(Value::as_u64).map(|n| n as usize);
            (
                pos("line"),
                pos("col"),
                w["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    // Ansible knows no position for keys that are not strings or numbers (True, None).
    for t in theirs.iter().filter(|t| t.0.is_none()) {
        if let Some(o) = ours.iter_mut().find(|o| o.2 == t.2 && o.0.is_some()) {
            o.0 = None;
            o.1 = None;
        }
    }
    ours.sort();
    theirs.sort();
    if ours != theirs {
        return Err(format!(
            "warnings differ:\n ours:   {ours:?}\n golden: {theirs:?}"
        ));
    }
    Ok(())
}

#[test]
fn golden_yaml_matches_ansible() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "golden corpus too small: {}",
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| check(f).err().map(|e| format!("{}: {e}", f.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} files differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// This thread's CPU time so far (Linux), so the timing below ignores other load on the box.
fn thread_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // After `(comm)` come state, ppid, ...: utime and stime (fields 14 and 15 of proc(5)) are
    // the 12th and 13th, in clock ticks of 1/100 s.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    std::time::Duration::from_millis(ticks * 10)
}

/// Timing check, for release builds:
/// `cargo test --release --test yaml_golden -- --ignored --nocapture`.
/// Prints the CPU time per run of saphyr-parser's bare event stream and of our loader.
#[test]
#[ignore = "timing; run in release"]
fn parses_a_megabyte_quickly() {
    let mut src = String::from("hosts:\n");
    let mut i = 0;
    while src.len() < 1 << 20 {
        src.push_str(&format!(
            "  web{i}:\n    ansible_host: 198.51.100.{}\n    port: {}\n    enabled: yes\n    \
             weight: 1.5\n    tags: [a, 'b', \"c\"]\n    note: plain text with words\n",
            i % 250,
            8000 + i % 1000
        ));
        i += 1;
    }
    const RUNS: u32 = 20;
    let per_run = |f: &dyn Fn()| {
        let start = thread_cpu();
        for _ in 0..RUNS {
            f();
        }
        (thread_cpu() - start) / RUNS
    };
    let events = per_run(&|| {
        let count = saphyr_parser::Parser::new_from_str(&src)
            .filter_map(Result::ok)
            .count();
        assert!(count > 0);
    });
    let load = per_run(&|| {
        let parsed = yaml::parse_str(&src, Path::new("big.yml")).expect("parses");
        let hosts = parsed
            .root
            .get("hosts")
            .and_then(Node::as_map)
            .map_or(0, <[_]>::len);
        assert_eq!(hosts, i);
    });
    #[allow(clippy::print_stderr)] // the numbers are the point of this test
    {
        eprintln!(
            "{} bytes, {i} hosts, CPU per run: saphyr events {events:?}, parse_str {load:?}",
            src.len()
        );
    }
    assert!(load.as_millis() < 500, "{load:?}");
}
