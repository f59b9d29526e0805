//! Fuzzes the keepalived.conf parser: any bytes, read as config text, must give a config or
//! errors, never a panic. Includes are resolved beside a path that does not exist, so the fuzzer
//! cannot make the parser read real files.
#![no_main]

use hactl_agent::config::{self, Severity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match config::parse_str(&text, "/nonexistent-fuzz-dir/keepalived.conf") {
        Ok(parsed) => {
            for instance in &parsed.config.instances {
                assert!(instance.vrid >= 1 && instance.priority >= 1);
            }
        }
        Err(e) => assert!(e.diagnostics().iter().any(|d| d.severity == Severity::Error)),
    }
});
