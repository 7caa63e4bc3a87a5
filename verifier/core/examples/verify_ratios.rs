//! The goals of `docs/performance.md` as ratios measured side by side, for a
//! machine whose speed drifts from second to second (a shared VM): each
//! round times every measurement for a short slice, in a rotated order, and
//! each round gives its own ratios. A slow moment then lands on one slice of
//! one round, not on a whole benchmark as in a sequential criterion run; the
//! medians and quartiles of the rounds' ratios are printed.
//!
//! ```sh
//! cargo run --release -p tongban-verifier --example verify_ratios -- 60
//! ```
//!
//! The measurements are those of `benches/verify_presentation.rs` on the
//! same presentation: `tongban` (`verify`), `two_verify_strict`
//! (ed25519-dalek), `one_equation`, `two_ring_verify` (sd-jwt-rs's own
//! signature floor), `sd_jwt_rs`, and `verify_batch` over 64 presentations
//! (per presentation).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../benches/fixture/mod.rs"]
mod fixture;

use std::hint::black_box;
use std::time::{Duration, Instant};

use fixture::{BATCH, Fixture, issuer_x, presentation, sd_jwt_rs_verify};
use tongban_verifier::ed25519::{Prepared, verify_batch as ed25519_batch};
use tongban_verifier::{Ed25519Signer, verify, verify_batch};

/// How long each measurement runs in each round.
const SLICE: Duration = Duration::from_millis(40);

/// One measurement: its name, and one iteration returning how many
/// presentations it verified (the time is divided by that).
type Measurement<'a> = (&'static str, Box<dyn Fn() -> u32 + 'a>);

/// Runs `f` for about [`SLICE`] and returns the time per presentation.
fn per_presentation(f: &dyn Fn() -> u32) -> f64 {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < SLICE {
        done += u64::from(f());
    }
    start.elapsed().as_secs_f64() * 1e6 / done as f64
}

fn quartiles(mut v: Vec<f64>) -> [f64; 3] {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    [at(0.25), at(0.5), at(0.75)]
}

fn main() {
    let rounds: usize = std::env::args().nth(1).map_or(60, |a| a.parse().unwrap());
    let f = Fixture::new();
    let fl = f.floors();
    let iss_ring =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, fl.iss_vk.to_bytes());
    let kb_ring =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, fl.holder_vk.to_bytes());
    let x = issuer_x(&f.issuer);
    let many: Vec<String> = (0..BATCH)
        .map(|i| {
            let h = Ed25519Signer::from_seed(&[u8::try_from(i).unwrap() + 0x40; 32], None);
            presentation(&f.issuer, &h, i)
        })
        .collect();
    let inputs: Vec<&[u8]> = many.iter().map(|p| p.as_bytes()).collect();

    let measurements: Vec<Measurement<'_>> = vec![
        (
            "tongban",
            Box::new(|| {
                assert!(verify(black_box(&f.pres), &f.policy, &f.keys).is_accepted());
                1
            }),
        ),
        (
            "two_verify_strict",
            Box::new(|| {
                let a = fl
                    .iss_vk
                    .verify_strict(black_box(fl.iss_input), &fl.iss_dalek);
                let k = fl
                    .holder_vk
                    .verify_strict(black_box(fl.kb_input), &fl.kb_dalek);
                assert!(a.is_ok() & k.is_ok());
                1
            }),
        ),
        (
            "one_equation",
            Box::new(|| {
                let both = [
                    Prepared::new(&fl.iss_vk, black_box(fl.iss_input), &fl.iss_sig).unwrap(),
                    Prepared::new(&fl.holder_vk, black_box(fl.kb_input), &fl.kb_sig).unwrap(),
                ];
                assert!(ed25519_batch(&both));
                1
            }),
        ),
        (
            "two_ring_verify",
            Box::new(|| {
                let a = iss_ring.verify(black_box(fl.iss_input), &fl.iss_sig);
                let k = kb_ring.verify(black_box(fl.kb_input), &fl.kb_sig);
                assert!(a.is_ok() & k.is_ok());
                1
            }),
        ),
        (
            "sd_jwt_rs",
            Box::new(|| {
                // The copies sd-jwt-rs takes by value, as in the bench
                // (there made outside the timed part; here about 0.1 µs).
                assert!(sd_jwt_rs_verify(f.pres.clone(), x.clone()).is_ok());
                1
            }),
        ),
        (
            "verify_batch",
            Box::new(|| {
                let reports = verify_batch(black_box(&inputs), &f.policy, &f.keys);
                assert!(reports.iter().all(|r| r.is_accepted()));
                BATCH as u32
            }),
        ),
    ];
    let n = measurements.len();
    // Warm-up: one slice each.
    for (_, m) in &measurements {
        per_presentation(m.as_ref());
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            times[i].push(per_presentation(measurements[i].1.as_ref()));
        }
    }
    let at = |name: &str| measurements.iter().position(|(m, _)| *m == name).unwrap();
    println!(
        "{rounds} rounds of {} ms per measurement",
        SLICE.as_millis()
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9}",
        "µs per presentation", "q1", "median", "q3"
    );
    for (i, (name, _)) in measurements.iter().enumerate() {
        let [a, b, c] = quartiles(times[i].clone());
        println!("{name:<34} {a:>9.2} {b:>9.2} {c:>9.2}");
    }
    let ratio = |num: &str, den: &str| {
        let (a, b) = (at(num), at(den));
        quartiles(times[a].iter().zip(&times[b]).map(|(x, y)| x / y).collect())
    };
    println!(
        "{:<34} {:>9} {:>9} {:>9}",
        "ratio within each round", "q1", "median", "q3"
    );
    for (num, den) in [
        ("tongban", "two_verify_strict"),
        ("sd_jwt_rs", "tongban"),
        ("two_ring_verify", "tongban"),
        ("tongban", "one_equation"),
        ("verify_batch", "one_equation"),
    ] {
        let [a, b, c] = ratio(num, den);
        println!(
            "{:<34} {a:>9.3} {b:>9.3} {c:>9.3}",
            format!("{num} / {den}")
        );
    }
}
