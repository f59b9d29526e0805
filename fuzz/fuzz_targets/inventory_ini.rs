//! Fuzzes the INI inventory parser and everything run on its result: any bytes must yield an
//! inventory or an error, never a panic. Run in `fuzz/` with `cargo fuzz run inventory_ini`
//! (on a stable toolchain: `RUSTC_BOOTSTRAP=1 cargo fuzz run inventory_ini`).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(loaded) = hactl::inventory::parse_ini(text, Path::new("fuzz.ini")) {
        let inv = &loaded.inventory;
        let _ = hactl::inventory::output::list(inv);
        let _ = hactl::inventory::output::graph(inv, "all", true);
    }
    let _ = hactl::inventory::pyliteral::eval(text);
});
