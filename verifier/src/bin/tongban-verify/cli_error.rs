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
    /// An issuer key file could not be read or is not a usable key.
    #[error("issuer key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
}

impl CliError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Input { .. } => "input_unreadable",
            CliError::KeyFile { .. } => "issuer_key_invalid",
        }
    }

    /// A sentence the clerk (or the engineer setting up the counter) can act on.
    fn advice(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "Run `tongban-verify verify --help` for the options.",
            CliError::Input { .. } => {
                "Check the file name, or pipe the presentation text into standard input."
            }
            CliError::KeyFile { .. } => {
                "The file must hold one public JWK ({\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":…}) or a JWKS ({\"keys\":[…]})."
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
