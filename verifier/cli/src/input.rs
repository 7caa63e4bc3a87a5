//! Reading the presentation and the pinned issuer keys.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tongban_verifier::{InMemoryKeys, KeyWithId};

use crate::cli_error::CliError;

/// The largest image read (a scanner's or a phone's picture): 32 MiB.
pub const MAX_IMAGE_BYTES: u64 = 32 * 1024 * 1024;

/// Reads the presentation from a file or standard input and trims
/// surrounding ASCII whitespace. Text is read up to `limit` bytes and one
/// more (the verifier then reports `input_too_large` without more having
/// been held); an image up to [`MAX_IMAGE_BYTES`], and a larger one is
/// refused before it is held.
pub fn read_presentation(path: Option<&Path>, limit: usize) -> Result<Vec<u8>, CliError> {
    let (name, reader): (String, Box<dyn std::io::Read>) = match path {
        None => ("standard input".into(), Box::new(std::io::stdin())),
        Some(p) if p == Path::new("-") => ("standard input".into(), Box::new(std::io::stdin())),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| CliError::Input {
                path: p.display().to_string(),
                reason: e.to_string(),
            })?;
            (p.display().to_string(), Box::new(f))
        }
    };
    let mut buf = Vec::new();
    let mut reader = reader;
    let unreadable = |e: std::io::Error| CliError::Input {
        path: name.clone(),
        reason: e.to_string(),
    };
    // Read one byte past the limit so the verifier reports input_too_large.
    let text_limit = limit as u64 + 1;
    (&mut reader)
        .take(text_limit)
        .read_to_end(&mut buf)
        .map_err(unreadable)?;
    if tongban_cli_support::qr::is_image(&buf) && buf.len() as u64 == text_limit {
        reader
            .take(MAX_IMAGE_BYTES + 1 - text_limit)
            .read_to_end(&mut buf)
            .map_err(unreadable)?;
        if buf.len() as u64 > MAX_IMAGE_BYTES {
            return Err(CliError::TooLarge {
                path: name,
                limit: MAX_IMAGE_BYTES,
            });
        }
    }
    // Line breaks and tabs around the text are dropped; spaces are kept,
    // since base45 (the QR transport) uses them. Binary input (an image) is
    // left as it is.
    let blank = |b: &u8| matches!(b, b'\n' | b'\r' | b'\t');
    let (start, end) = if tongban_cli_support::qr::is_image(&buf) {
        (0, buf.len())
    } else {
        let start = buf.iter().position(|b| !blank(b)).unwrap_or(buf.len());
        (
            start,
            buf.iter().rposition(|b| !blank(b)).map_or(start, |i| i + 1),
        )
    };
    if buf[start..end].iter().all(u8::is_ascii_whitespace) {
        return Err(CliError::Input {
            path: name,
            reason: "it is empty".into(),
        });
    }
    Ok(buf[start..end].to_vec())
}

/// What was read, made ready for verification.
pub enum Scanned {
    /// A compact presentation (or bytes to be rejected by the verifier).
    Presentation(Vec<u8>),
    /// A QR transport text that could not be decoded.
    Refused(tongban_verifier::Rejection),
}

/// Turns input bytes into a presentation: a PNG/JPEG with one or more QR
/// codes, one or more transport texts (`TB1:`/`TB1M:`, one per line), or a
/// plain SD-JWT. A version-3 transport text's certificate references are
/// put back from `certs` (the trust bundle's certificates).
pub fn scanned(
    bytes: Vec<u8>,
    name: &str,
    certs: &dyn tongban_verifier::transport::CertificateStore,
) -> Result<Scanned, CliError> {
    let texts: Vec<String> = if tongban_cli_support::qr::is_image(&bytes) {
        crate::qr::decode_image(&bytes, name)?
    } else if bytes.starts_with(b"TB1") {
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| l.trim_end_matches('\r').to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        return Ok(Scanned::Presentation(bytes));
    };
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    Ok(
        match tongban_verifier::transport::from_texts_with(&refs, certs) {
            Ok(p) => Scanned::Presentation(p.into_bytes()),
            Err(r) => Scanned::Refused(r),
        },
    )
}

/// Loads JWK or JWKS files into a resolver that trusts them for any issuer.
pub fn load_keys(files: &[PathBuf]) -> Result<InMemoryKeys, CliError> {
    let mut keys = InMemoryKeys::new();
    for key in read_key_files(files)? {
        keys.pin_for_any_issuer(key);
    }
    Ok(keys)
}

/// Reads public keys from JWK, JWKS or issuer metadata files.
pub fn read_key_files(files: &[PathBuf]) -> Result<Vec<KeyWithId>, CliError> {
    let mut keys = Vec::new();
    for path in files {
        let err = |reason: String| CliError::KeyFile {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let value: Value =
            serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
        keys.extend(KeyWithId::from_key_document(&value).map_err(|e| err(e.to_string()))?);
    }
    Ok(keys)
}

/// Reads what a counter pins as its trust anchor: one signed root of trust
/// (a JSON document with `signatures`), or public anchor keys (JWK or JWKS
/// files, any one of which suffices: a root of *k* = 1).
pub fn read_anchors(files: &[PathBuf]) -> Result<tongban_verifier::TrustAnchors, CliError> {
    let mut keys = Vec::new();
    let mut root = None;
    for path in files {
        let err = |reason: String| CliError::KeyFile {
            path: path.clone(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| err(format!("not JSON: {e}")))?;
        if value.get("signatures").is_some() {
            if root.is_some() || files.len() > 1 {
                return Err(err(
                    "pin one root of trust, alone (its keys and threshold come from it)".into(),
                ));
            }
            root = Some(
                tongban_verifier::TrustAnchors::from_pin_document(&bytes)
                    .map_err(|r| err(format!("{}: {}", r.code, r.detail)))?,
            );
        } else {
            keys.extend(KeyWithId::from_key_document(&value).map_err(|e| err(e.to_string()))?);
        }
    }
    Ok(root.unwrap_or_else(|| tongban_verifier::TrustAnchors::from_keys(&keys)))
}

/// Reads a text file (a trust list or status list token).
pub fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::Input {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
