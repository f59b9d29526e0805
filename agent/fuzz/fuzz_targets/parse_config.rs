//! Fuzzes what `hactl-agent check` runs on a keepalived.conf: any bytes, read as config text,
//! must give a config or errors, never a panic; a config that parses must also turn into what
//! the daemon would run (instances and sync groups, static entries) without a panic. Includes
//! are resolved beside a path that does not exist, so the fuzzer cannot make the parser read
//! real files. Seeds: keepalived's sample configs, passed as a second corpus directory.
#![no_main]

use hactl_agent::config::{self, Severity};
use hactl_agent::runtime::spec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match config::parse_str(&text, "/nonexistent-fuzz-dir/keepalived.conf") {
        Ok(parsed) => {
            for instance in &parsed.config.instances {
                assert!(instance.vrid >= 1 && instance.priority >= 1);
            }
            // Errors are fine (an unknown script user, a missing interface...); panics not.
            let _ = spec::units(&parsed.config);
            let _ = spec::statics(&parsed.config);
        }
        Err(e) => assert!(e.diagnostics().iter().any(|d| d.severity == Severity::Error)),
    }
});
