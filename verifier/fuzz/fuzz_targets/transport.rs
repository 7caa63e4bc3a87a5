//! Any text as scanned QR codes (one per line): decoding must refuse or
//! return a presentation, never panic, and a decoded presentation must
//! re-encode to a text that decodes to the same presentation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_verifier::transport;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines: Vec<&str> = text.lines().collect();
    if let Ok(p) = transport::from_texts(&lines) {
        if let Ok(again) = transport::encode(&p) {
            assert_eq!(transport::decode(&again).ok().as_deref(), Some(p.as_str()));
        }
    }
});
