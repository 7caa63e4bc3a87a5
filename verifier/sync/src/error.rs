//! Why a sync (or a bundle directory's read or write) failed.

use std::path::PathBuf;

use tongban_cli_support::net::FetchError;
use tongban_verifier::Rejection;

/// Why the trust bundle could not be synced, loaded or stored. On every
/// error the bundle already on disk is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A download failed or was refused.
    #[error("cannot fetch {url}: {source}")]
    Fetch {
        /// The URL asked for (a redirect may have led elsewhere; `source`
        /// names where).
        url: String,
        /// What went wrong.
        source: FetchError,
    },
    /// What was fetched (or the bundle on disk) failed verification: the
    /// whole bundle is refused.
    #[error("trust bundle refused: {} ({})", rejection.code, rejection.detail)]
    Refused {
        /// The verifier library's rejection, with its stable code.
        rejection: Rejection,
    },
    /// The bundle directory could not be read or written.
    #[error("trust bundle {dir}: {reason}")]
    Bundle {
        /// The directory.
        dir: PathBuf,
        /// What failed, with the operating system's reason.
        reason: String,
    },
}

impl SyncError {
    /// The stable snake_case code: the fetch error's (`fetch_failed`,
    /// `fetch_insecure_url`, `fetch_redirect_refused`, `fetch_too_large`),
    /// the verifier library's rejection code, or `bundle_unreadable`.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Fetch { source, .. } => source.code(),
            SyncError::Refused { rejection } => rejection.code.code(),
            SyncError::Bundle { .. } => "bundle_unreadable",
        }
    }

    /// A sentence in English the operator can act on.
    pub fn advice_en(&self) -> &'static str {
        match self {
            SyncError::Fetch { .. } => {
                "Check the URL and the network; the previous bundle is still in place."
            }
            SyncError::Refused { rejection } => rejection.code.message_en(),
            SyncError::Bundle { .. } => "Check the directory and its permissions, then sync again.",
        }
    }

    /// The same sentence in Chinese.
    pub fn advice_zh(&self) -> &'static str {
        match self {
            SyncError::Fetch { .. } => "请检查地址和网络；原有的信任包仍然有效。",
            SyncError::Refused { rejection } => rejection.code.message_zh(),
            SyncError::Bundle { .. } => "请检查目录及其权限，然后重新同步。",
        }
    }
}
