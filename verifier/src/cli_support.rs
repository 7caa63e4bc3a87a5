//! Helpers shared by Tongban's command-line tools (behind the `cli`
//! feature): reading times as people write them, and showing them in
//! China Standard Time. Pure functions; no I/O.

/// Parses RFC 3339 (`2026-11-25T10:00:00+08:00`) or Unix seconds.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("{text:?} is neither RFC 3339 (e.g. 2026-11-25T10:00:00+08:00) nor Unix seconds: {e}"))
}

/// `2026-11-25 18:00:00 (UTC+8)`: China Standard Time, the time of every
/// counter in the country.
pub fn format_cst(secs: i64) -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} (UTC+8)",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => format!("{secs} (out of range)"),
    }
}

/// The current time in Unix seconds (the CLIs' default "now").
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_time("2026-11-25T08:00:00+08:00"), Ok(1_795_564_800));
        assert!(parse_time("yesterday").is_err());
        assert_eq!(format_cst(1_795_572_000), "2026-11-25 10:00:00 (UTC+8)");
    }
}

/// Why a QR image could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrImageError {
    /// The bytes are not a readable PNG/JPEG, or too large, or the code in
    /// it could not be decoded.
    Unreadable(String),
    /// The image holds no QR code.
    NotFound,
}

/// The largest image accepted, in pixels (a 48-megapixel photo).
const MAX_PIXELS: u64 = 48_000_000;

/// Whether the bytes look like a PNG or JPEG image.
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// Every QR code's text in a PNG or JPEG image, in the order found.
pub fn decode_qr_image(bytes: &[u8]) -> Result<Vec<String>, QrImageError> {
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
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err(QrImageError::NotFound);
    }
    let mut texts = Vec::new();
    let mut last_error = None;
    for g in grids {
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

/// Renders texts as QR codes (ECC M) side by side in one PNG.
pub fn write_qr_png(file: &std::path::Path, texts: &[String]) -> Result<(), String> {
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
    canvas
        .save(file)
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// Renders a text as a QR code for a terminal (two rows per character).
pub fn qr_for_terminal(text: &str) -> Result<String, String> {
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
pub fn qr_svg(texts: &[String]) -> Result<String, String> {
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
