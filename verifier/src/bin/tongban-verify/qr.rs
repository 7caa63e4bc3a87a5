//! Reading QR codes from PNG or JPEG images (a scanner's output, a phone
//! screenshot, a printed code photographed), decoded in Rust.

use tongban_verifier::cli_support::{QrImageError, decode_qr_image};

use crate::cli_error::CliError;

/// What kind of input the bytes are.
pub fn is_image(bytes: &[u8]) -> bool {
    tongban_verifier::cli_support::is_image(bytes)
}

/// Every QR code's text in the image, in the order found.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<Vec<String>, CliError> {
    decode_qr_image(bytes).map_err(|e| match e {
        QrImageError::NotFound => CliError::QrNotFound { path: name.into() },
        QrImageError::Unreadable(reason) => CliError::QrImage {
            path: name.into(),
            reason,
        },
    })
}
