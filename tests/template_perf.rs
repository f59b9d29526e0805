//! Measures rendering the seed role's two templates for 1,000 hosts.
//! Run: `cargo test --release --test template_perf -- --ignored --nocapture`.

use std::path::Path;
use std::time::Instant;

use hactl::template::{HostInfo, PlayInfo, PlayVars, Templar};
use indexmap::IndexMap;

#[test]
#[ignore = "timing measurement; run in release mode"]
#[allow(clippy::print_stderr)] // the measurement is the output
fn seed_templates_for_1000_hosts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/templates/templates");
    let hosts: Vec<HostInfo> = (0..1000)
        .map(|i| {
            let master = i % 2 == 0;
            let vars = serde_json::json!({
                "ansible_hostname": format!("lb{i}"),
                "state1": if master { "MASTER" } else { "BACKUP" },
                "priority1": if master { 100 } else { 90 },
                "state2": if master { "BACKUP" } else { "MASTER" },
                "priority2": if master { 90 } else { 100 },
            });
            HostInfo {
                name: format!("lb{i}.example.test"),
                vars: vars.as_object().cloned().unwrap_or_default(),
                group_names: vec!["nginx".into()],
                facts: Default::default(),
            }
        })
        .collect();
    let names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
    let groups = IndexMap::from([
        ("all".to_string(), names.clone()),
        ("nginx".to_string(), names.clone()),
    ]);
    let start = Instant::now();
    let play = PlayVars::new(
        &hosts,
        &groups,
        &PlayInfo {
            hosts: names.clone(),
            ..PlayInfo::default()
        },
    );
    let templar = Templar::new();
    let built = start.elapsed();
    let mut bytes = 0;
    for host in &names {
        let ctx = play
            .host_context(host, &[])
            .unwrap_or_else(|| panic!("{host}"));
        for t in ["keepalived.conf.j2", "nginx.conf.j2"] {
            let out = templar
                .render_file(&dir.join(t), &ctx, host)
                .unwrap_or_else(|e| panic!("{e}"));
            bytes += out.len();
        }
    }
    let total = start.elapsed();
    eprintln!("1000 hosts x 2 templates: {total:?} total ({built:?} building vars), {bytes} bytes");
    assert!(total.as_secs_f64() < 1.0, "rendering took {total:?}");
}
