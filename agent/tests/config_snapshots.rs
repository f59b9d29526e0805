//! Snapshots of what users see from the config parser: the model parsed from the seed's
//! dual-master config, and the findings for every config keepalived rejects.

use std::path::Path;

use hactl_agent::config::{self, ConfigError};

fn configs_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/configs"))
}

fn parse_named(kind: &str, path: &Path) -> Result<config::Parsed, ConfigError> {
    let text = std::fs::read_to_string(path).expect("corpus file is readable");
    let name = path.file_name().expect("a file name").to_string_lossy();
    config::parse_str(&text, &format!("{kind}/{name}"))
}

#[test]
fn seed_dual_master_models() {
    for host in ["30", "28"] {
        let path = configs_dir().join(format!("valid/seed-dual-master-{host}.conf"));
        let parsed = parse_named("valid", &path).expect("the fixed seed config parses");
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        insta::assert_debug_snapshot!(format!("seed_dual_master_{host}"), parsed.config);
    }
}

#[test]
fn seed_verbatim_findings() {
    let path = configs_dir().join("invalid/seed-verbatim-30.conf");
    let parsed = parse_named("invalid", &path).expect("keepalived runs it, with complaints");
    let text: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(text.join("\n"));
}

/// Every invalid config: the findings exactly as `hactl-agent check` prints them (read with
/// `parse_file`, as `check` reads them, so script programs are looked up on this machine).
#[test]
fn invalid_config_messages() {
    let prefix = format!("{}/", configs_dir().display());
    insta::glob!("configs/invalid/*.conf", |path| {
        let findings = match config::parse_file(path) {
            Ok(parsed) => parsed.warnings,
            Err(e) => e.diagnostics().to_vec(),
        };
        let text: Vec<String> = findings
            .iter()
            .map(|d| d.to_string().replace(&prefix, ""))
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    });
}
