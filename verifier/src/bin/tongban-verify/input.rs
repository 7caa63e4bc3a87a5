//! Reading the presentation and the pinned issuer keys.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tongban_verifier::{InMemoryKeys, KeyWithId};

use crate::cli_error::CliError;

/// Reads the presentation from a file or standard input, refusing more than
/// `limit` bytes, and trims surrounding ASCII whitespace.
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
    // Read one byte past the limit so the verifier reports input_too_large.
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError::Input {
            path: name.clone(),
            reason: e.to_string(),
        })?;
    let start = buf
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(buf.len());
    let end = buf
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    if start >= end {
        return Err(CliError::Input {
            path: name,
            reason: "it is empty".into(),
        });
    }
    Ok(buf[start..end].to_vec())
}

/// Loads JWK or JWKS files into a resolver that trusts them for any issuer.
pub fn load_keys(files: &[PathBuf]) -> Result<InMemoryKeys, CliError> {
    let mut keys = InMemoryKeys::new();
    for key in read_key_files(files)? {
        keys.pin_for_any_issuer(key);
    }
    Ok(keys)
}

/// Reads public keys from JWK or JWKS files.
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
        let jwks = match value.get("keys") {
            Some(Value::Array(list)) => list.clone(),
            Some(_) => return Err(err("\"keys\" is not an array".into())),
            None => vec![value],
        };
        if jwks.is_empty() {
            return Err(err("the JWKS holds no keys".into()));
        }
        for jwk in &jwks {
            keys.push(KeyWithId::from_jwk(jwk).map_err(|e| err(e.to_string()))?);
        }
    }
    Ok(keys)
}

/// Reads a text file (a trust list or status list token).
pub fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::Input {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
