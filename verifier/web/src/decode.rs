//! The fallback QR decoder for camera frames where the browser has no
//! `BarcodeDetector`: the page hands over a frame in grayscale (one byte a
//! pixel, row by row) and gets back the texts of the codes in it.

use crate::error::WebError;

/// The largest frame accepted: 4096 × 4096 pixels.
const MAX_PIXELS: usize = 4096 * 4096;

/// Decodes every QR code in a grayscale frame of `width` × `height`.
pub fn grayscale(pixels: &[u8], width: usize, height: usize) -> Result<Vec<String>, WebError> {
    let expected = width
        .checked_mul(height)
        .filter(|&n| n > 0 && n <= MAX_PIXELS)
        .ok_or_else(|| WebError::Frame(format!("a frame of {width} × {height} pixels")))?;
    if pixels.len() != expected {
        return Err(WebError::Frame(format!(
            "{} bytes for {width} × {height} pixels",
            pixels.len()
        )));
    }
    let mut decoder = quircs::Quirc::new();
    Ok(decoder
        .identify(width, height, pixels)
        .filter_map(|code| code.ok()?.decode().ok())
        .filter_map(|data| String::from_utf8(data.payload).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_code_is_read_back_and_bad_frames_are_refused() {
        let text = "TB1:HELLO COUNTER 12345";
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let img = code
            .render::<image::Luma<u8>>()
            .module_dimensions(4, 4)
            .build();
        let (w, h) = (img.width() as usize, img.height() as usize);
        assert_eq!(
            grayscale(img.as_raw(), w, h).unwrap(),
            vec![text.to_owned()]
        );
        assert_eq!(
            grayscale(&[0; 10], 4, 4).unwrap_err().code(),
            "frame_invalid"
        );
        assert_eq!(grayscale(&[], 0, 0).unwrap_err().code(), "frame_invalid");
        assert!(grayscale(&[255; 64 * 64], 64, 64).unwrap().is_empty());
    }
}
