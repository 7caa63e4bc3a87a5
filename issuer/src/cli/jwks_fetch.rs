//! Fetching an agency's published JWKS for the trust-list operator: the
//! keys fetched here are signed into the trust list, so the fetch is as
//! strict as a key ceremony allows over a network. Only `https://` (plain
//! `http://` to a loopback host alone, for tests on one machine), no
//! redirect followed (a redirect is an answer from somewhere else), a
//! bounded body. The operator then confirms the keys by their RFC 7638
//! thumbprints (in `trust_list`).

use std::time::Duration;

use tongban_cli_support::net::{FetchError, Fetcher};

/// The largest JWKS document read (a JWKS of a few keys is a few KB).
const MAX_JWKS_BYTES: u64 = 1024 * 1024;

/// Why the keys could not be fetched.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JwksFetchError {
    /// The URL is not one keys may come from.
    #[error("{url}: {reason}")]
    NotAllowed {
        /// The URL given.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// The request failed or the answer is not a usable document.
    #[error("cannot fetch {url}: {reason}")]
    Failed {
        /// The URL given.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

fn refused(url: &str, e: &FetchError) -> JwksFetchError {
    match e {
        FetchError::InsecureUrl { reason, .. } => JwksFetchError::NotAllowed {
            url: url.into(),
            reason: format!(
                "{reason} (keys signed into a trust list must not be open to an attacker on the path)"
            ),
        },
        other => JwksFetchError::Failed {
            url: url.into(),
            reason: other.to_string(),
        },
    }
}

/// GETs the JWKS at `url` as JSON: [`tongban_cli_support::net`]'s rules,
/// with no redirect followed at all (give the final https URL after
/// checking it) and at most [`MAX_JWKS_BYTES`].
pub(crate) fn fetch(url: &str) -> Result<serde_json::Value, JwksFetchError> {
    let text = Fetcher::without_redirects(Duration::from_secs(30))
        .get_text(url, MAX_JWKS_BYTES)
        .map_err(|e| refused(url, &e))?;
    serde_json::from_str(&text).map_err(|e| JwksFetchError::Failed {
        url: url.into(),
        reason: format!("not JSON: {e}"),
    })
}
