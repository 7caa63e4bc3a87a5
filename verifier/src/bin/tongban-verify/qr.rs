//! Reading QR codes from PNG or JPEG images (a scanner's output, a phone
//! screenshot, a printed code photographed), decoded in Rust.

use crate::cli_error::CliError;

/// The largest image accepted, in pixels (a 48-megapixel photo).
const MAX_PIXELS: u64 = 48_000_000;

/// What kind of input the bytes are.
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// Every QR code's text in the image, in the order found.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<Vec<String>, CliError> {
    let unreadable = |reason: String| CliError::QrImage {
        path: name.into(),
        reason,
    };
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(e.to_string()))?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| unreadable(e.to_string()))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(unreadable(format!(
            "{w}×{h} pixels is larger than a scan can be"
        )));
    }
    let img = image::load_from_memory(bytes)
        .map_err(|e| unreadable(e.to_string()))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err(CliError::QrNotFound { path: name.into() });
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
        return Err(unreadable(format!(
            "a QR code was found but could not be read ({}); hold it flat and scan again",
            last_error.unwrap_or_default()
        )));
    }
    Ok(texts)
}
