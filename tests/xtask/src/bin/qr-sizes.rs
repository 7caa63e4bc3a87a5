//! Prints the QR size table of `docs/performance.md` and
//! `specs/qr-transport.md` §5: for every licence type of the catalogue, a
//! full disclosure and two typical requests (six claims: the first six, and
//! the six with the longest values), as plain SD-JWT text and in both
//! versions of the QR transport, with the QR version each needs at error
//! correction level M.
//!
//! `qr-sizes --breakdown [SLUG]` prints where the bytes of one typical
//! request go instead (default: the business licence).

use std::process::ExitCode;

use serde_json::Value;
use tongban_test_support::sample::{catalogue_samples, realistic_presentation};
use tongban_verifier::encoding::b64_decode;
use tongban_verifier::transport;

/// The smallest QR version (1–40) that holds `text` at error correction
/// level M, or `None` if none does.
fn qr_version_m(text: &str) -> Option<i16> {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .ok()?
        .version()
    {
        qrcode::Version::Normal(v) => Some(v),
        qrcode::Version::Micro(_) => Some(0),
    }
}

fn version(text: &str) -> String {
    qr_version_m(text).map_or_else(|| "> 40".into(), |v| v.to_string())
}

fn deflate(bytes: &[u8]) -> usize {
    miniz_oxide::deflate::compress_to_vec(bytes, 10).len()
}

fn base45_len(bytes: usize) -> usize {
    bytes / 2 * 3 + bytes % 2 * 2
}

/// Claim names of a type's sample: all, the first six, and the six whose
/// values are longest.
fn requests(claims: &Value) -> Vec<(String, Vec<String>)> {
    let obj = claims.as_object().cloned().unwrap_or_default();
    let all: Vec<String> = obj.keys().cloned().collect();
    let mut by_len: Vec<(usize, String)> = obj
        .iter()
        .map(|(k, v)| (v.to_string().len(), k.clone()))
        .collect();
    by_len.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    vec![
        (format!("all {}", all.len()), all.clone()),
        (
            "6 (first six)".into(),
            all.iter().take(6).cloned().collect(),
        ),
        (
            "6 (longest values)".into(),
            by_len.into_iter().take(6).map(|(_, k)| k).collect(),
        ),
    ]
}

fn table() -> Result<(), String> {
    println!(
        "| licence type | disclosed | plain text (bytes) | QR version, plain | version 1 (chars) | QR version, v1 | version 2 (chars) | QR version, v2 |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (slug, claims) in catalogue_samples() {
        for (label, names) in requests(&claims) {
            let disclose: Vec<&str> = names.iter().map(String::as_str).collect();
            let (_, p) = realistic_presentation(&slug, &disclose).map_err(|e| e.to_string())?;
            let t1 = transport::encode_v1(&p).map_err(|e| e.to_string())?;
            let t2 = transport::encode(&p).map_err(|e| e.to_string())?;
            println!(
                "| {slug} | {label} | {} | {} | {} | {} | {} | {} |",
                p.len(),
                version(&p),
                t1.len(),
                version(&t1),
                t2.len(),
                version(&t2)
            );
        }
    }
    Ok(())
}

/// The decoded segments of a compact presentation, with what they are.
fn segments(p: &str) -> Vec<(String, Vec<u8>)> {
    let comps: Vec<&str> = p.split('~').collect();
    let mut out = Vec::new();
    for (ci, c) in comps.iter().enumerate() {
        if c.is_empty() {
            continue;
        }
        for (si, s) in c.split('.').enumerate() {
            let what = match (ci, si) {
                (0, 0) => "issuer JWT header".to_owned(),
                (0, 1) => "issuer JWT payload".to_owned(),
                (0, _) => "issuer JWT signature".to_owned(),
                (c, 0) if c + 1 < comps.len() => format!("disclosure {c}"),
                (_, 0) => "KB-JWT header".to_owned(),
                (_, 1) => "KB-JWT payload".to_owned(),
                _ => "KB-JWT signature".to_owned(),
            };
            out.push((what, b64_decode(s, "a segment").unwrap_or_default()));
        }
    }
    out
}

/// `text` with every base64url run of 22 or 43 characters between two `"`
/// removed (salts, digests, key coordinates, `sd_hash`), and their total
/// length.
fn without_b64_runs(text: &[u8]) -> (Vec<u8>, usize) {
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let (mut out, mut removed, mut i) = (Vec::new(), 0, 0);
    while i < text.len() {
        let run = text[i..].iter().take_while(|&&c| is_b64(c)).count();
        if run == 0 {
            out.push(text[i]);
            i += 1;
            continue;
        }
        let quoted = i > 0 && text[i - 1] == b'"' && text.get(i + run) == Some(&b'"');
        if quoted && (run == 22 || run == 43) {
            removed += run;
        } else {
            out.extend_from_slice(&text[i..i + run]);
        }
        i += run;
    }
    (out, removed)
}

fn v1_body(segs: &[(String, Vec<u8>)], keep: impl Fn(&str, &[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut body = vec![1, 0];
    for (what, bytes) in segs {
        let b = keep(what, bytes);
        let mut n = b.len();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                body.push(byte);
                break;
            }
            body.push(byte | 0x80);
        }
        body.extend_from_slice(&b);
    }
    body
}

fn breakdown(slug: &str) -> Result<(), String> {
    let claims = catalogue_samples()
        .get(slug)
        .cloned()
        .ok_or_else(|| format!("no licence type {slug}"))?;
    let all: Vec<String> = claims
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let names: Vec<&str> = all.iter().take(6).map(String::as_str).collect();
    let (_, p) = realistic_presentation(slug, &names).map_err(|e| e.to_string())?;
    let segs = segments(&p);
    let row = |what: &str, n: usize, note: &str| println!("| {what} | {n} | {note} |");
    println!(
        "{slug}, the first six of {} claims, with a KB-JWT\n",
        all.len()
    );
    println!("| what | bytes | note |");
    println!("| --- | ---: | --- |");

    // The plain text.
    row("plain presentation (characters)", p.len(), "");
    let comps: Vec<&str> = p.split('~').collect();
    row("  issuer JWT", comps[0].len(), "header, payload, signature");
    let n_disc = comps.len() - 2;
    let disc: usize = comps[1..comps.len() - 1].iter().map(|d| d.len() + 1).sum();
    row(
        "  disclosures",
        disc,
        &format!("{n_disc} disclosures and their `~`"),
    );
    row("  KB-JWT", comps[comps.len() - 1].len(), "");
    let json: Vec<u8> = segs
        .iter()
        .filter(|(w, _)| !w.ends_with("signature"))
        .flat_map(|(_, b)| b.clone())
        .collect();
    let (_, b64_chars) = without_b64_runs(&json);
    row(
        "base64url text inside the JSON",
        b64_chars,
        "`_sd` digests, `cnf.jwk.x`, salts, `sd_hash` (characters)",
    );

    // Version 1.
    let body = v1_body(&segs, |_, b| b.to_vec());
    let v1 = transport::encode_v1(&p).map_err(|e| e.to_string())?;
    let z1 = base45_len_inverse(&v1);
    row(
        "version 1: body",
        body.len(),
        "every segment decoded, with its length",
    );
    row("version 1: one DEFLATE stream", z1, "what is sent");
    let alone: usize = segs.iter().map(|(_, b)| deflate(b)).sum();
    row(
        "  each segment compressed alone",
        alone,
        "sum of separate DEFLATE streams: a Huffman table each",
    );
    let no_sig = deflate(&v1_body(&segs, |w, b| {
        if w.ends_with("signature") {
            Vec::new()
        } else {
            b.to_vec()
        }
    }));
    row(
        "  cost of the two signatures",
        z1 - no_sig,
        "128 random bytes, which also spoil the text's Huffman code",
    );
    let no_b64 = deflate(&v1_body(&segs, |w, b| {
        if w.ends_with("signature") {
            b.to_vec()
        } else {
            without_b64_runs(b).0
        }
    }));
    row(
        "  cost of the base64url text inside the JSON",
        z1 - no_b64,
        &format!(
            "{b64_chars} characters at {:.1} bits each",
            (z1 - no_b64) as f64 * 8.0 / b64_chars as f64
        ),
    );
    row("version 1: characters", v1.len(), "");

    // Version 2.
    let (text, raw) = transport::v2_streams(&p).map_err(|e| e.to_string())?;
    let v2 = transport::encode(&p).map_err(|e| e.to_string())?;
    let b2 = base45_len_inverse(&v2);
    let z2 = b2 - 1 - raw.len();
    let sigs: usize = segs
        .iter()
        .filter(|(w, _)| w.ends_with("signature"))
        .map(|(_, b)| b.len())
        .sum();
    let salts = 16 * n_disc;
    let keys = 32;
    let digests = raw.len() - sigs - salts - keys;
    row(
        "version 2: text stream",
        text.len(),
        "the JSON, with markers",
    );
    row(
        "  compressed, preset dictionary",
        z2,
        &format!(
            "one {} Huffman block",
            if transport::base45_decode(&v2[transport::PREFIX.len()..])
                .map_err(|e| e.to_string())?
                .get(1)
                .is_some_and(|b| b & 0x06 == 0x04)
            {
                "dynamic"
            } else {
                "fixed"
            }
        ),
    );
    row(
        "  compressed without the dictionary",
        deflate(&text),
        "for comparison (miniz_oxide, level 10)",
    );
    row("version 2: raw bytes", raw.len(), "carried as they are");
    row("  signatures", sigs, "issuer JWT and KB-JWT");
    row(
        "  digests of the undisclosed claims and decoys",
        digests,
        &format!("{} × 32", digests / 32),
    );
    row("  salts", salts, &format!("{n_disc} × 16"));
    row("  holder key", keys, "`cnf.jwk.x`");
    row(
        "version 2: digests not sent",
        32 * (n_disc + 1),
        &format!("{n_disc} disclosed claims' digests and `sd_hash`, recomputed"),
    );
    row(
        "version 2: body",
        b2,
        "version tag, compressed text, raw bytes",
    );
    row("version 2: characters", v2.len(), "");
    Ok(())
}

/// The number of body bytes a transport text carries.
fn base45_len_inverse(text: &str) -> usize {
    let n = text.len() - transport::PREFIX.len();
    let bytes = n / 3 * 2 + usize::from(n % 3 == 2);
    debug_assert_eq!(base45_len(bytes), n);
    bytes
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--breakdown") => breakdown(args.get(1).map_or("business-licence", String::as_str)),
        None => table(),
        Some(other) => Err(format!(
            "unknown argument {other}; use --breakdown [SLUG] or nothing"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qr-sizes: {e}");
            ExitCode::FAILURE
        }
    }
}
