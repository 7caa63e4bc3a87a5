//! Reading what the arguments name: issuer key files and credential offers.

use std::path::PathBuf;

use serde_json::Value;
use tongban_cli_support::qr;
use tongban_protocol::oid4vci::OFFER_SCHEME;
use tongban_verifier::{InMemoryKeys, KeyWithId};

use super::error::CliError;

/// The keys in `files` (each a JWK or a JWKS), trusted for any issuer.
pub fn read_keys(files: &[PathBuf]) -> Result<InMemoryKeys, CliError> {
    let mut keys = InMemoryKeys::new();
    for k in read_key_list(files)? {
        keys.pin_for_any_issuer(k);
    }
    Ok(keys)
}

/// The keys in `files` (each a JWK or a JWKS).
pub fn read_key_list(files: &[PathBuf]) -> Result<Vec<KeyWithId>, CliError> {
    let mut keys = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?;
        keys.extend(
            KeyWithId::from_jwk_or_set(&v)
                .map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?,
        );
    }
    Ok(keys)
}

/// Reads an offer given as a URI, a file holding one, or a QR image.
pub fn read_offer(arg: &str) -> Result<String, CliError> {
    if arg.trim_start().starts_with(OFFER_SCHEME) {
        return Ok(arg.trim().to_owned());
    }
    let bytes = std::fs::read(arg).map_err(|e| {
        CliError::Usage(format!(
            "{arg}: not an {}:// URI, and not a readable file ({e})",
            OFFER_SCHEME
        ))
    })?;
    if qr::is_image(&bytes) {
        let texts =
            qr::decode_image(&bytes).map_err(|e| CliError::Usage(format!("{arg}: {e:?}")))?;
        return texts
            .into_iter()
            .find(|t| t.starts_with(OFFER_SCHEME))
            .ok_or_else(|| {
                CliError::Usage(format!("{arg}: no credential offer QR code in the image"))
            });
    }
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}
