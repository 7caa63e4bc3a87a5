//! QR codes: rendering texts as PNG, SVG or terminal text, and reading them
//! back from a scanned PNG or JPEG image. Every code is error-correction
//! level M, the level the QR transport's sizes are measured at.

mod finders;

use std::time::{Duration, Instant};

/// Why a QR image could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrImageError {
    /// The bytes are not a readable PNG/JPEG, or too large, or the code in
    /// it could not be decoded.
    Unreadable(String),
    /// The image holds no QR code.
    NotFound,
    /// Decoding the image would cost far more than any genuine scan: it
    /// holds more finder-pattern look-alikes than a few codes have, or the
    /// time budget ran out.
    TooComplex(String),
}

/// The largest image accepted, in pixels (a 48-megapixel photo).
const MAX_PIXELS: u64 = 48_000_000;

/// Images larger than this (in pixels) are scaled down before decoding: a
/// QR code fills most of a scan, and two megapixels still give a version-40
/// code several pixels a module.
const MAX_SCAN_PIXELS: u64 = 2_000_000;

/// The most finder-pattern candidates decoded: three for each of the
/// sixteen parts a presentation may have, and as many again for look-alikes
/// in the codes' data and around them. Beyond it the decoder's grouping
/// (which grows with the cube of the count) is not attempted.
pub const MAX_FINDER_CANDIDATES: usize = 96;

/// The time a single image may take to decode, checked between stages.
pub const DECODE_BUDGET: Duration = Duration::from_secs(10);

/// Whether the bytes look like a PNG or JPEG image.
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// Every QR code's text in a PNG or JPEG image, in the order found, within
/// [`DECODE_BUDGET`].
pub fn decode_image(bytes: &[u8]) -> Result<Vec<String>, QrImageError> {
    decode_image_within(bytes, DECODE_BUDGET)
}

/// Every QR code's text in a PNG or JPEG image, in the order found. The
/// work is bounded before it is done: the image's size (refused beyond
/// 48 megapixels, scaled down beyond two), the number of finder-pattern
/// candidates ([`MAX_FINDER_CANDIDATES`]), and `budget`, checked between
/// the stages (loading, scaling, thresholding, counting, grouping, each
/// code's decoding).
pub fn decode_image_within(bytes: &[u8], budget: Duration) -> Result<Vec<String>, QrImageError> {
    let deadline = Deadline(Instant::now() + budget, budget);
    let unreadable = |e: &dyn core::fmt::Display| QrImageError::Unreadable(e.to_string());
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(&e))?;
    let (w, h) = reader.into_dimensions().map_err(|e| unreadable(&e))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(QrImageError::Unreadable(format!(
            "{w}×{h} pixels is larger than a scan can be"
        )));
    }
    let img = image::load_from_memory(bytes)
        .map_err(|e| unreadable(&e))?
        .to_luma8();
    deadline.check("loading")?;
    let img = scaled_for_scanning(img);
    deadline.check("scaling")?;
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    drop(img);
    deadline.check("thresholding")?;
    let candidates = finders::count(
        prepared.width(),
        prepared.height(),
        |x, y| u8::from(prepared.get_pixel_at(x, y)) != 0,
        MAX_FINDER_CANDIDATES,
    );
    if candidates > MAX_FINDER_CANDIDATES {
        return Err(QrImageError::TooComplex(format!(
            "more than {MAX_FINDER_CANDIDATES} finder-pattern look-alikes, more than a few QR codes have"
        )));
    }
    deadline.check("finding the codes")?;
    let grids = prepared.detect_grids();
    deadline.check("grouping the codes")?;
    if grids.is_empty() {
        return Err(QrImageError::NotFound);
    }
    let mut texts = Vec::new();
    let mut last_error = None;
    for g in grids {
        deadline.check("reading the codes")?;
        match g.decode() {
            Ok((_, text)) => texts.push(text),
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    if texts.is_empty() {
        return Err(QrImageError::Unreadable(format!(
            "a QR code was found but could not be read ({}); hold it flat and scan again",
            last_error.unwrap_or_default()
        )));
    }
    Ok(texts)
}

/// When decoding must have finished, and the budget it came from.
struct Deadline(Instant, Duration);

impl Deadline {
    fn check(&self, stage: &str) -> Result<(), QrImageError> {
        if Instant::now() > self.0 {
            return Err(QrImageError::TooComplex(format!(
                "decoding took more than {} s (stopped after {stage})",
                self.1.as_secs()
            )));
        }
        Ok(())
    }
}

/// The image, scaled down to about [`MAX_SCAN_PIXELS`] if it is larger.
fn scaled_for_scanning(img: image::GrayImage) -> image::GrayImage {
    let pixels = u64::from(img.width()) * u64::from(img.height());
    if pixels <= MAX_SCAN_PIXELS {
        return img;
    }
    let scale = (MAX_SCAN_PIXELS as f64 / pixels as f64).sqrt();
    let w = ((f64::from(img.width()) * scale) as u32).max(1);
    let h = ((f64::from(img.height()) * scale) as u32).max(1);
    image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle)
}

/// Renders texts as QR codes (ECC M, four pixels a module, with the quiet
/// zone) side by side in one PNG image, and returns its bytes.
pub fn png(texts: &[String]) -> Result<Vec<u8>, String> {
    use image::{GenericImage as _, ImageBuffer, Luma};
    let codes: Vec<ImageBuffer<Luma<u8>, Vec<u8>>> = texts
        .iter()
        .map(|t| {
            qrcode::QrCode::with_error_correction_level(t.as_bytes(), qrcode::EcLevel::M)
                .map(|c| {
                    c.render::<Luma<u8>>()
                        .quiet_zone(true)
                        .module_dimensions(4, 4)
                        .build()
                })
                .map_err(|e| format!("cannot make a QR code: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let w: u32 = codes.iter().map(|c| c.width()).sum();
    let h = codes.iter().map(|c| c.height()).max().unwrap_or(0);
    let mut canvas = ImageBuffer::from_pixel(w, h, Luma([255u8]));
    let mut x = 0;
    for c in &codes {
        canvas.copy_from(c, x, 0).map_err(|e| e.to_string())?;
        x += c.width();
    }
    let mut out = std::io::Cursor::new(Vec::new());
    canvas
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the QR image: {e}"))?;
    Ok(out.into_inner())
}

/// Renders texts as QR codes side by side ([`png`]) and writes the PNG to
/// `file` atomically.
pub fn write_png(file: &std::path::Path, texts: &[String]) -> Result<(), String> {
    let bytes = png(texts)?;
    crate::fs::write_atomic(file, &bytes, crate::fs::Access::Default)
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// Renders a text as a QR code for a terminal (two rows per character).
pub fn terminal(text: &str) -> Result<String, String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| e.to_string())?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// Renders texts as QR codes (ECC M) in one SVG document, side by side.
pub fn svg(texts: &[String]) -> Result<String, String> {
    let mut x = 0u32;
    let mut parts = Vec::new();
    let mut height = 0u32;
    for t in texts {
        let code = qrcode::QrCode::with_error_correction_level(t.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| e.to_string())?;
        let side = u32::try_from(code.width()).unwrap_or(0) + 8;
        let svg = code
            .render::<qrcode::render::svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(1, 1)
            .build();
        // Nest each code's SVG at its offset, one module per unit.
        let inner = svg
            .split_once("?>")
            .map_or(svg.as_str(), |(_, rest)| rest)
            .trim();
        parts.push(format!(r#"<g transform="translate({x} 0)">{inner}</g>"#));
        x += side;
        height = height.max(side);
    }
    Ok(format!(
        r#"<?xml version="1.0" standalone="yes"?><svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {x} {height}" width="{}" height="{}" shape-rendering="crispEdges">{}</svg>"#,
        x * 4,
        height * 4,
        parts.concat()
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_rendered_png_scans_back_to_its_texts() {
        let texts = vec!["TB1:HELLO".to_string(), "TB1:WORLD".to_string()];
        let bytes = png(&texts).unwrap();
        assert!(is_image(&bytes));
        let mut read = decode_image(&bytes).unwrap();
        read.sort();
        assert_eq!(read, texts);
    }

    #[test]
    fn svg_and_terminal_renderings_hold_one_code_per_text() {
        let svg = svg(&["A".to_string(), "B".to_string()]).unwrap();
        assert_eq!(svg.matches("<g transform").count(), 2);
        assert!(terminal("A").unwrap().lines().count() > 5);
    }

    /// A `side`×`side` PNG tiled with finder patterns (7×7 modules of
    /// `module` pixels, one light module between them): the shape that
    /// kept the decoder busy for minutes.
    fn finder_lattice(side: u32, module: u32) -> Vec<u8> {
        let pitch = 8 * module;
        let img = image::GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = ((x % pitch) / module, (y % pitch) / module);
            let ring = |m: u32| m == 0 || m == 6;
            let dark = mx < 7
                && my < 7
                && (ring(mx) || ring(my) || ((2..=4).contains(&mx) && (2..=4).contains(&my)));
            image::Luma([if dark { 0 } else { 255 }])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn an_image_full_of_finder_patterns_is_refused_quickly() {
        for (side, module) in [(450, 2), (450, 1), (900, 3), (3000, 4)] {
            let png = finder_lattice(side, module);
            let started = std::time::Instant::now();
            let result = decode_image(&png);
            let took = started.elapsed();
            assert!(
                matches!(result, Err(QrImageError::TooComplex(_))),
                "{side}/{module}: {result:?}"
            );
            // A correctness bound, generous for a slow machine and a debug
            // build: the unbounded decoder took minutes.
            assert!(
                took < std::time::Duration::from_secs(10),
                "{side}/{module}: {took:?}"
            );
        }
    }

    #[test]
    fn a_spent_budget_stops_decoding_between_stages() {
        let png = png(&["TB1:HELLO".to_string()]).unwrap();
        assert!(matches!(
            decode_image_within(&png, std::time::Duration::ZERO),
            Err(QrImageError::TooComplex(_))
        ));
    }

    #[test]
    fn genuine_scans_stay_well_under_the_finder_bound() {
        // Sixteen codes side by side, the most parts a presentation has.
        let texts: Vec<String> = (0..16)
            .map(|i| format!("TB1M:{i}/16:ABCDEF:{}", "Q".repeat(300)))
            .collect();
        let bytes = png(&texts).unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_luma8();
        let img = scaled_for_scanning(img);
        let prepared = rqrr::PreparedImage::prepare_from_greyscale(
            img.width() as usize,
            img.height() as usize,
            |x, y| img.get_pixel(x as u32, y as u32).0[0],
        );
        let n = finders::count(
            prepared.width(),
            prepared.height(),
            |x, y| u8::from(prepared.get_pixel_at(x, y)) != 0,
            usize::MAX,
        );
        assert!((48..=MAX_FINDER_CANDIDATES).contains(&n), "{n}");
        let mut read = decode_image(&bytes).unwrap();
        read.sort();
        let mut want = texts.clone();
        want.sort();
        assert_eq!(read, want);
    }

    #[test]
    fn images_without_codes_and_non_images_are_told_apart() {
        assert!(!is_image(b"TB1:ABC"));
        let blank = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
        let mut out = std::io::Cursor::new(Vec::new());
        blank.write_to(&mut out, image::ImageFormat::Png).unwrap();
        assert_eq!(decode_image(out.get_ref()), Err(QrImageError::NotFound));
        assert!(matches!(
            decode_image(b"\x89PNG\r\n\x1a\nbroken"),
            Err(QrImageError::Unreadable(_))
        ));
    }
}
