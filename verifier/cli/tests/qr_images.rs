//! Scanning at the counter: QR codes rendered as PNG/JPEG images (one code,
//! several codes of a multi-part presentation in one picture), decoded by
//! `tongban-verify` itself, and a day's scans verified with `scan`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{GenericImage as _, ImageBuffer, Luma};
use qrcode::{EcLevel, QrCode};
use tongban_verifier::transport;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/vectors/sample")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(sample(name))
        .unwrap()
        .trim()
        .to_owned()
}

/// Renders texts as QR codes (ECC M) side by side in one greyscale image.
fn render(texts: &[&str]) -> ImageBuffer<Luma<u8>, Vec<u8>> {
    let codes: Vec<ImageBuffer<Luma<u8>, Vec<u8>>> = texts
        .iter()
        .map(|t| {
            QrCode::with_error_correction_level(t.as_bytes(), EcLevel::M)
                .unwrap()
                .render::<Luma<u8>>()
                .quiet_zone(true)
                .module_dimensions(3, 3)
                .build()
        })
        .collect();
    let w: u32 = codes.iter().map(|c| c.width()).sum();
    let h = codes.iter().map(|c| c.height()).max().unwrap();
    let mut canvas = ImageBuffer::from_pixel(w, h, Luma([255u8]));
    let mut x = 0;
    for c in &codes {
        canvas.copy_from(c, x, 0).unwrap();
        x += c.width();
    }
    canvas
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tongban-verify"))
        .args(args)
        .output()
        .unwrap()
}

fn counter(file: &Path) -> Output {
    run(&[
        "verify",
        "--issuer-key",
        sample("issuer.jwk.json").to_str().unwrap(),
        "--aud",
        "https://counter.qingpu.example",
        "--nonce",
        "qp-20261125-0001",
        "--at",
        "2026-11-25T10:01:00+08:00",
        "--json",
        file.to_str().unwrap(),
    ])
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn a_qr_png_and_jpeg_of_the_sample_verify() {
    let dir = tempfile::tempdir().unwrap();
    let t = transport::encode(&text("presentation.txt")).unwrap();
    let img = render(&[&t]);
    let png = dir.path().join("scan.png");
    img.save(&png).unwrap();
    let out = counter(&png);
    assert_eq!(out.status.code(), Some(0), "{}", json(&out));
    assert_eq!(json(&out)["claims"]["legal_representative"], "李明");
    let jpg = dir.path().join("scan.jpg");
    img.save(&jpg).unwrap();
    assert_eq!(counter(&jpg).status.code(), Some(0));
    // The transport text itself, and the plain presentation, verify too.
    let txt = dir.path().join("scan.txt");
    std::fs::write(&txt, &t).unwrap();
    assert_eq!(counter(&txt).status.code(), Some(0));
}

#[test]
fn a_multi_part_presentation_in_one_picture_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let single = transport::encode(&text("credential.txt")).unwrap();
    let parts = transport::split(&single, 700).unwrap();
    assert!(parts.len() >= 2);
    let mut refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    refs.reverse();
    let png = dir.path().join("parts.png");
    render(&refs).save(&png).unwrap();
    let out = run(&[
        "verify",
        "--issuer-key",
        sample("issuer.jwk.json").to_str().unwrap(),
        "--no-holder-binding",
        "--at",
        "2026-11-25T10:01:00+08:00",
        "--json",
        png.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", json(&out));
    // A missing part: refused with its own code.
    let partial = dir.path().join("partial.png");
    render(&refs[1..]).save(&partial).unwrap();
    let out = counter(&partial);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["rejection"]["code"], "transport_part_missing");
}

#[test]
fn bad_images_and_foreign_codes() {
    let dir = tempfile::tempdir().unwrap();
    // A picture without a code.
    let blank = dir.path().join("blank.png");
    ImageBuffer::from_pixel(200, 200, Luma([255u8]))
        .save(&blank)
        .unwrap();
    let out = counter(&blank);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("qr_not_found"));
    // A damaged file that claims to be a PNG.
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"\x89PNG\r\n\x1a\nthis is not an image").unwrap();
    let out = counter(&broken);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("qr_image_unreadable"));
    // Somebody else's QR code (a URL): not a presentation.
    let url = dir.path().join("url.png");
    render(&["HTTPS://EXAMPLE.COM/PAY"]).save(&url).unwrap();
    let out = counter(&url);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["rejection"]["code"], "transport_prefix_unknown");
    // A code with an unknown transport version.
    let v2 = dir.path().join("v2.png");
    render(&["TB2:ABC"]).save(&v2).unwrap();
    let out = counter(&v2);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["rejection"]["code"], "transport_prefix_unknown");
}

#[test]
fn a_days_scans_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let good = transport::encode(&text("presentation.txt")).unwrap();
    render(&[&good])
        .save(dir.path().join("01-good.png"))
        .unwrap();
    std::fs::write(dir.path().join("02-good.txt"), &good).unwrap();
    std::fs::write(dir.path().join("03-plain.txt"), text("presentation.txt")).unwrap();
    std::fs::write(
        dir.path().join("04-tampered.txt"),
        text("presentation.txt").replacen('e', "f", 1),
    )
    .unwrap();
    ImageBuffer::from_pixel(100, 100, Luma([255u8]))
        .save(dir.path().join("05-blank.png"))
        .unwrap();
    let key = sample("issuer.jwk.json");
    let base = [
        "scan",
        "--issuer-key",
        key.to_str().unwrap(),
        "--aud",
        "https://counter.qingpu.example",
        "--nonce",
        "qp-20261125-0001",
        "--at",
        "2026-11-25T10:01:00+08:00",
    ];
    let mut args = base.to_vec();
    args.push(dir.path().to_str().unwrap());
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one is tampered, one unreadable"
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("3 of 5 accepted"), "{table}");
    assert!(
        table.contains("UNREADABLE") && table.contains("qr_not_found"),
        "{table}"
    );
    let mut args = base.to_vec();
    args.push("--json");
    args.push(dir.path().to_str().unwrap());
    let v = json(&run(&args));
    assert_eq!(v["accepted"], 3);
    assert_eq!(v["results"][3]["verdict"], "rejected");
    assert_eq!(v["results"][4]["verdict"], "unreadable");
}

/// A file that starts with `head` and is `len` bytes long, the rest zeros
/// (sparse: it costs no disk).
fn sparse(path: &Path, head: &[u8], len: u64) {
    std::fs::write(path, head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn inputs_larger_than_anything_genuine_are_refused_without_being_held() {
    let dir = tempfile::tempdir().unwrap();
    // An "image" of 33 MiB: refused before it is read whole.
    let image = dir.path().join("huge.png");
    sparse(&image, b"\x89PNG\r\n\x1a\n", 33 * 1024 * 1024);
    let out = counter(&image);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["code"], "input_too_large");
    // A transport text of 1 MiB (valid base45 throughout): longer than any
    // set of QR codes carries.
    let long = dir.path().join("long.txt");
    std::fs::write(&long, format!("TB1:{}", "000".repeat(350_000))).unwrap();
    let out = counter(&long);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["rejection"]["code"], "transport_too_large");
}

#[test]
fn scan_holds_a_few_files_at_a_time_not_the_whole_day() {
    // 600 files of 1 MiB each would hold 600 MB if every file were kept
    // until the end; under a 200 MB data limit scan must still finish and
    // report each one.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..600 {
        sparse(&dir.path().join(format!("{i:04}.txt")), b"eyJ", 1024 * 1024);
    }
    let key = sample("issuer.jwk.json");
    let out = Command::new("prlimit")
        .arg("--data=200000000")
        .arg(env!("CARGO_BIN_EXE_tongban-verify"))
        .args([
            "scan",
            "--issuer-key",
            key.to_str().unwrap(),
            "--no-holder-binding",
            "--json",
            dir.path().to_str().unwrap(),
        ])
        .output();
    let Ok(out) = out else {
        eprintln!("prlimit is not installed; skipping");
        return;
    };
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["total"], 600);
    assert_eq!(v["results"][599]["rejection"]["code"], "input_too_large");
}

/// A PNG tiled with finder patterns (7×7 modules of 2 pixels, one light
/// module between them), which kept the QR decoder busy for minutes.
fn finder_lattice(side: u32) -> ImageBuffer<Luma<u8>, Vec<u8>> {
    ImageBuffer::from_fn(side, side, |x, y| {
        let (mx, my) = ((x % 16) / 2, (y % 16) / 2);
        let ring = |m: u32| m == 0 || m == 6;
        let dark = mx < 7
            && my < 7
            && (ring(mx) || ring(my) || ((2..=4).contains(&mx) && (2..=4).contains(&my)));
        Luma([if dark { 0 } else { 255 }])
    })
}

#[test]
fn scan_survives_an_image_full_of_finder_patterns() {
    let dir = tempfile::tempdir().unwrap();
    let good = transport::encode(&text("presentation.txt")).unwrap();
    render(&[&good])
        .save(dir.path().join("01-good.png"))
        .unwrap();
    finder_lattice(450)
        .save(dir.path().join("02-crafted.png"))
        .unwrap();
    render(&[&good])
        .save(dir.path().join("03-good.png"))
        .unwrap();
    let key = sample("issuer.jwk.json");
    let started = std::time::Instant::now();
    let v = json(&run(&[
        "scan",
        "--issuer-key",
        key.to_str().unwrap(),
        "--aud",
        "https://counter.qingpu.example",
        "--nonce",
        "qp-20261125-0001",
        "--at",
        "2026-11-25T10:01:00+08:00",
        "--json",
        dir.path().to_str().unwrap(),
    ]));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(v["accepted"], 2, "{v}");
    assert_eq!(v["results"][0]["verdict"], "accepted");
    assert_eq!(v["results"][1]["verdict"], "unreadable");
    assert_eq!(v["results"][1]["error"]["code"], "qr_image_too_complex");
    assert_eq!(v["results"][2]["verdict"], "accepted");
}
