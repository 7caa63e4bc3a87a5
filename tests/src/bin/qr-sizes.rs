//! Prints the QR size table of `docs/performance.md`: for every licence type
//! of the catalogue, a full disclosure and a typical request (six claims),
//! as plain SD-JWT text and in the QR transport, with the QR version each
//! needs at error correction level M.

use std::process::ExitCode;

use tongban_e2e::{catalogue_samples, qr_version_m, realistic_presentation};
use tongban_verifier::transport;

fn version(text: &str) -> String {
    qr_version_m(text).map_or_else(|| "> 40".into(), |v| v.to_string())
}

fn main() -> ExitCode {
    println!(
        "| licence type | disclosed | plain text (bytes) | QR version, plain | transport (chars) | QR version, transport |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (slug, claims) in catalogue_samples() {
        let names: Vec<String> = claims
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let all: Vec<&str> = names.iter().map(String::as_str).collect();
        let typical: Vec<&str> = all.iter().copied().take(6).collect();
        for (label, disclose) in [("all", &all), ("6 (typical)", &typical)] {
            let (_, p) = match realistic_presentation(&slug, disclose) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("qr-sizes: {slug}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let t = match transport::encode(&p) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("qr-sizes: {slug}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let label = if disclose.len() == all.len() {
                format!("all {}", all.len())
            } else {
                label.to_string()
            };
            println!(
                "| {slug} | {label} | {} | {} | {} | {} |",
                p.len(),
                version(&p),
                t.len(),
                version(&t)
            );
        }
    }
    ExitCode::SUCCESS
}
