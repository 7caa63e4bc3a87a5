//! Reading QR codes from PNG or JPEG images (a scanner's output, a phone
//! screenshot, a printed code photographed), decoded in Rust.

use tongban_cli_support::qr::{self, QrImageError};

use crate::cli_error::CliError;

/// Every QR code's text in the image, in the order found.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<Vec<String>, CliError> {
    qr::decode_image(bytes).map_err(|e| match e {
        QrImageError::NotFound => CliError::QrNotFound { path: name.into() },
        QrImageError::Unreadable(reason) => CliError::QrImage {
            path: name.into(),
            reason,
        },
        QrImageError::TooComplex(reason) => CliError::QrTooComplex {
            path: name.into(),
            reason,
        },
    })
}
