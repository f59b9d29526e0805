//! Fuzzes the host pattern expander (`web[01:10]:22`, `[a:c][1:3]`): any text must give hosts
//! or an error, never a panic, never more than the stated limit, and never a hang or a huge
//! allocation (`h[1:3]...[3:1]` once walked billions of prefixes). Every pattern is read,
//! checked and counted; it is expanded too when it makes at most 100,000 hosts, and the count
//! must match. (Building a million names is linear but takes seconds under AddressSanitizer,
//! which would read as a hang at `-timeout=2`.) Run in `fuzz/` with
//! `cargo +nightly fuzz run host_range -- -timeout=2 -rss_limit_mb=512`.
#![no_main]

use hactl::inventory::hostrange::{MAX_HOSTS, count, expand};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let counted = count(text);
    match counted {
        Ok(n) if n <= 100_000 => {
            let expanded = expand(text).expect("counted, so it expands");
            assert_eq!(expanded.hosts.len(), n, "count and expansion disagree");
        }
        Ok(n) => assert!(n <= MAX_HOSTS, "{n} hosts"),
        Err(_) => assert!(expand(text).is_err(), "count refused what expand accepts"),
    }
});
