//! Any text as a status list token, and any JSON as `status_list`: refused
//! with a code or decoded within the bound, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_verifier::status::{StatusList, StatusListToken};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(signed) = StatusListToken::parse(text) {
        let _ = signed.token.list.get(signed.token.list.len());
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(list) = StatusList::from_json(&v, 1 << 20) {
            assert!(list.as_bytes().len() <= 1 << 20);
        }
    }
});
