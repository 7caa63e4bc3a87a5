//! The native twin of the counter page's in-browser timing: reads what
//! the browser test wrote (`target/counter-page-perf/browser.json`: the
//! pinned root, the bundle's files as the page stored them, the same
//! presentations and the browser's time per presentation), verifies the
//! same presentations natively through the same code the page runs
//! (`CounterState::verify`: transport decode, every check, the report and
//! the verdict's content) and through the library's `verify` alone, and
//! prints both beside the browser's with the ratio.
//!
//! ```text
//! cargo run --release -p tongban-verifier-web --example time_verify [-- FILE]
//! ```
//!
//! `scripts/counter-page-perf.sh` runs the browser test and this in one go.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a developer's tool: fails loudly

use std::time::Instant;

use serde_json::{Value, json};
use tongban_verifier::transport::from_texts;
use tongban_verifier::{Policy, verify};
use tongban_verifier_web::bundle;
use tongban_verifier_web::counter::{CounterState, Settings};

fn main() {
    let file = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/counter-page-perf/browser.json".into());
    let text = std::fs::read_to_string(&file).expect("run the browser test first");
    let b: Value = serde_json::from_str(&text).unwrap();
    let n = b["n"].as_u64().unwrap_or(200).max(1) as u32;
    let now = b["now"].as_f64().unwrap() as i64;
    let mut counter = CounterState::new(&b["pinned"].to_string()).unwrap();
    counter
        .load_stored(&b["bundle"].to_string(), now, Settings::default())
        .unwrap();
    let files: bundle::Files = serde_json::from_value(b["bundle"].clone()).unwrap();
    let pin = bundle::pin(&b["pinned"]).unwrap();
    let held = bundle::load(&files, &pin, Default::default()).unwrap();

    let mut out = json!({"n": n});
    for which in ["single", "multipart"] {
        let presentation = b["presentations"][which].as_str().unwrap().to_owned();
        let texts = vec![presentation.clone()];
        let time = |f: &mut dyn FnMut()| {
            for _ in 0..5 {
                f();
            }
            let t0 = Instant::now();
            for _ in 0..n {
                f();
            }
            t0.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
        };
        let page_path = time(&mut || {
            let v = counter
                .verify(&texts, None, now, Settings::default())
                .unwrap();
            std::hint::black_box(v);
        });
        let policy = Policy::without_holder_binding(now);
        let library = time(&mut || {
            let p = from_texts(&[presentation.as_str()]).unwrap();
            std::hint::black_box(verify(&p, &policy, &held));
        });
        let browser = b["ms_per_presentation"][which].as_f64().unwrap_or(f64::NAN);
        out[which] = json!({
            "chars": presentation.len(),
            "browser_ms": browser,
            "native_ms": page_path,
            "native_library_verify_ms": library,
            "browser_over_native": browser / page_path,
        });
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
