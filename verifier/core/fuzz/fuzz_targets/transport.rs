//! The QR transport under three readings of the same input, none of which
//! may panic:
//!
//! 1. the bytes as scanned QR texts (one per line): a decoded presentation
//!    must re-encode, in both body versions, to texts that decode to it;
//! 2. the bytes as a transport body (`TB1:` + base45 of them): version 1,
//!    version 2 or an unknown tag, all reached by the fuzzer;
//! 3. the bytes as the two streams of a version-2 body (a 2-byte length,
//!    the text stream, the raw bytes), compressed here: a body the decoder
//!    accepts must be exactly the one its presentation encodes to (one
//!    body per presentation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_verifier::transport;

fn round_trips(p: &str) {
    if let Ok(again) = transport::encode(p) {
        assert_eq!(transport::decode(&again).ok().as_deref(), Some(p));
    }
    if let Ok(again) = transport::encode_v1(p) {
        assert_eq!(transport::decode(&again).ok().as_deref(), Some(p));
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let lines: Vec<&str> = text.lines().collect();
        if let Ok(p) = transport::from_texts(&lines) {
            round_trips(&p);
        }
    }

    let as_body = format!("{}{}", transport::PREFIX, transport::base45_encode(data));
    if let Ok(p) = transport::decode(&as_body) {
        round_trips(&p);
    }

    if let [a, b, rest @ ..] = data {
        let split = (usize::from(*a) << 8 | usize::from(*b)).min(rest.len());
        let (stream, raw) = rest.split_at(split);
        let mut body = vec![transport::V2_TAG];
        body.extend(miniz_oxide::deflate::compress_to_vec(stream, 6));
        body.extend_from_slice(raw);
        let text = format!("{}{}", transport::PREFIX, transport::base45_encode(&body));
        if let Ok(p) = transport::decode(&text) {
            let (s2, r2) = transport::v2_streams(&p).expect("a decoded presentation encodes");
            assert_eq!((s2.as_slice(), r2.as_slice()), (stream, raw));
            round_trips(&p);
        }
    }
});
