//! QR codes: rendering texts as PNG, SVG or terminal text, and reading them
//! back from a scanned PNG or JPEG image. Every code is error-correction
//! level M, the level the QR transport's sizes are measured at.

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
pub fn decode_image(bytes: &[u8]) -> Result<Vec<String>, QrImageError> {
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
