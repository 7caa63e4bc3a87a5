//! Runs one of the verification measurements of
//! `benches/verify_presentation.rs` a given number of times, for counting
//! instructions under callgrind, which, unlike a timer, the other work on a
//! shared machine does not disturb. Run it with 1 and with 101 iterations
//! and divide the difference by 100, so that building the fixture cancels:
//!
//! ```sh
//! cargo build --release -p tongban-verifier --example verify_instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/verify_instructions tongban 101
//! ```
//!
//! `verify_instructions dump DIR` instead writes the presentation
//! (`presentation.txt`) and the issuer's public JWK (`issuer.jwk.json`) for
//! the peers' timing scripts (`tests/interop/js/bench_verify.mjs`,
//! `tests/interop/py/bench_verify.py`).
//!
//! Measurements: `tongban` (`verify`), `two_verify_strict` (ed25519-dalek),
//! `two_verify_cofactored` (`PublicKey::verify` twice), `one_equation`
//! (both signatures decoded and checked in one batch equation), `sd_jwt_rs`,
//! `batch64` (`verify_batch` over 64 presentations).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../benches/fixture/mod.rs"]
mod fixture;

use std::hint::black_box;

use fixture::{BATCH, Fixture, issuer_x, presentation, sd_jwt_rs_verify};
use tongban_verifier::ed25519::{Prepared, verify_batch as ed25519_batch};
use tongban_verifier::{Algorithm, Ed25519Signer, Signer, verify, verify_batch};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("tongban");
    let f = Fixture::new();
    if which == "dump" {
        let dir = std::path::Path::new(args.get(2).expect("dump needs a directory"));
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("presentation.txt"), &f.pres).unwrap();
        let mut jwk = f.issuer.public_key().to_jwk();
        jwk["kid"] = fixture::KID.into();
        std::fs::write(dir.join("issuer.jwk.json"), jwk.to_string()).unwrap();
        return;
    }
    let fl = f.floors();
    let n: usize = args.get(2).map_or(1, |a| a.parse().unwrap());
    let x = issuer_x(&f.issuer);
    let many: Vec<String> = (0..BATCH)
        .filter(|_| which == "batch64")
        .map(|i| {
            let h = Ed25519Signer::from_seed(&[u8::try_from(i).unwrap() + 0x40; 32], None);
            presentation(&f.issuer, &h, i)
        })
        .collect();
    let inputs: Vec<&[u8]> = many.iter().map(|p| p.as_bytes()).collect();
    let mut ok = true;
    for _ in 0..n {
        ok &= match which {
            "tongban" => verify(black_box(&f.pres), &f.policy, &f.keys).is_accepted(),
            "two_verify_strict" => {
                fl.iss_vk
                    .verify_strict(black_box(fl.iss_input), &fl.iss_dalek)
                    .is_ok()
                    & fl.holder_vk
                        .verify_strict(black_box(fl.kb_input), &fl.kb_dalek)
                        .is_ok()
            }
            "two_verify_cofactored" => {
                fl.iss_key
                    .verify(Algorithm::EdDsa, black_box(fl.iss_input), &fl.iss_sig)
                    & fl.holder_key
                        .verify(Algorithm::EdDsa, black_box(fl.kb_input), &fl.kb_sig)
            }
            "one_equation" => {
                let both = [
                    Prepared::new(&fl.iss_vk, black_box(fl.iss_input), &fl.iss_sig).unwrap(),
                    Prepared::new(&fl.holder_vk, black_box(fl.kb_input), &fl.kb_sig).unwrap(),
                ];
                ed25519_batch(&both)
            }
            "sd_jwt_rs" => sd_jwt_rs_verify(f.pres.clone(), x.clone()).is_ok(),
            "batch64" => verify_batch(black_box(&inputs), &f.policy, &f.keys)
                .iter()
                .all(|r| r.is_accepted()),
            other => panic!("unknown measurement {other}"),
        };
    }
    assert!(ok, "{which} rejected");
}
