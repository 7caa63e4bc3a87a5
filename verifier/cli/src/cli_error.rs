//! Errors of the command itself (exit status 2), each with a stable code.

use std::path::PathBuf;

/// Why the command could not check anything.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments are wrong.
    #[error("{0}")]
    Usage(String),
    /// The presentation could not be read.
    #[error("cannot read the presentation from {path}: {reason}")]
    Input { path: String, reason: String },
    /// The input is larger than anything genuine (an image over the bound);
    /// refused before it was held.
    #[error("{path} is larger than {limit} bytes; it was not read")]
    TooLarge { path: String, limit: u64 },
    /// An issuer or anchor key file could not be read or is not a usable key.
    #[error("key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    /// The bundle directory could not be read or written.
    #[error("trust bundle {dir}: {reason}")]
    Bundle { dir: PathBuf, reason: String },
    /// The bundle (or what sync fetched) failed verification: refused whole.
    #[error("trust bundle {dir} refused: {} ({})", rejection.code, rejection.detail)]
    BundleRefused {
        dir: PathBuf,
        rejection: tongban_verifier::Rejection,
    },
    /// A download failed or was refused (`code`: `fetch_failed`,
    /// `fetch_insecure_url`, `fetch_redirect_refused`, `fetch_too_large`).
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        url: String,
        code: &'static str,
        reason: String,
    },
    /// An image could not be decoded, or its QR code could not be read.
    #[error("{path}: {reason}")]
    QrImage { path: String, reason: String },
    /// Decoding the image would cost far more than any genuine scan (many
    /// finder-pattern look-alikes, or the time budget spent).
    #[error("{path}: {reason}")]
    QrTooComplex { path: String, reason: String },
    /// An image holds no QR code.
    #[error("{path}: no QR code found in the image")]
    QrNotFound { path: String },
}

impl CliError {
    /// The CLI's error for a failed sync or bundle directory operation on
    /// `dir` (codes and messages as they always were).
    pub fn from_sync(dir: &std::path::Path, e: tongban_trust_sync::SyncError) -> CliError {
        use tongban_trust_sync::SyncError;
        match e {
            SyncError::Fetch { url, source } => CliError::Fetch {
                url,
                code: source.code(),
                reason: source.to_string(),
            },
            SyncError::Refused { rejection } => CliError::BundleRefused {
                dir: dir.to_path_buf(),
                rejection,
            },
            SyncError::Bundle { dir, reason } => CliError::Bundle { dir, reason },
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Input { .. } => "input_unreadable",
            CliError::TooLarge { .. } => "input_too_large",
            CliError::KeyFile { .. } => "key_file_invalid",
            CliError::Bundle { .. } => "bundle_unreadable",
            CliError::BundleRefused { rejection, .. } => rejection.code.code(),
            CliError::Fetch { code, .. } => code,
            CliError::QrImage { .. } => "qr_image_unreadable",
            CliError::QrTooComplex { .. } => "qr_image_too_complex",
            CliError::QrNotFound { .. } => "qr_not_found",
        }
    }

    /// A sentence the clerk (or the engineer setting up the counter) can act on.
    fn advice(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "Run `tongban-verify verify --help` for the options.",
            CliError::Input { .. } => {
                "Check the file name, or pipe the presentation text into standard input."
            }
            CliError::TooLarge { .. } => {
                "No scan or presentation is this large; scan the citizen's code again."
            }
            CliError::KeyFile { .. } => {
                "The file must hold one public JWK ({\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":…}), a JWKS ({\"keys\":[…]}) or the issuer's /.well-known/jwt-vc-issuer/… document ({\"issuer\":…,\"jwks\":{…}})."
            }
            CliError::Bundle { .. } => {
                "Check the directory and its permissions, then run `tongban-verify sync` again."
            }
            CliError::BundleRefused { rejection, .. } => rejection.code.message_en(),
            CliError::Fetch { .. } => {
                "Check the URL and the network; the previous bundle is still in place."
            }
            CliError::QrImage { .. } => {
                "Scan again with the code flat, well lit and filling most of the picture."
            }
            CliError::QrTooComplex { .. } => {
                "The picture is not a plain scan of a QR code; scan the citizen's code again, alone in the picture."
            }
            CliError::QrNotFound { .. } => {
                "The picture holds no QR code; scan the citizen's code again."
            }
        }
    }

    /// Prints the error to standard error (or standard output as JSON).
    pub fn print(&self, json: bool) {
        if json {
            let v = serde_json::json!({"error": {"code": self.code(), "message": self.to_string(), "advice": self.advice()}});
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            eprintln!(
                "tongban-verify: error[{}]: {self}\n  {}",
                self.code(),
                self.advice()
            );
        }
    }
}
