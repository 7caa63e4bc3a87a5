//! HTTP(S) fetching for `sync`: the only networking in Tongban's verifier,
//! and it lives in the CLI, never in the library. The rules (https, or
//! plain http to this machine only; redirects within the same origin only)
//! are `tongban_cli_support::net`'s.

use std::time::Duration;

use tongban_cli_support::net;

use crate::cli_error::CliError;

/// The largest document `sync` downloads (a trust list or a status list
/// token): 32 MiB.
const MAX_DOWNLOAD: u64 = 32 * 1024 * 1024;

/// An HTTP client with a timeout.
pub struct Fetcher {
    inner: net::Fetcher,
}

impl Fetcher {
    /// A client whose requests time out after `timeout`.
    pub fn new(timeout: Duration) -> Fetcher {
        Fetcher {
            inner: net::Fetcher::new(timeout),
        }
    }

    /// GETs `url` as text.
    pub fn get(&self, url: &str) -> Result<String, CliError> {
        self.inner
            .get_text(url, MAX_DOWNLOAD)
            .map_err(|e| CliError::Fetch {
                url: url.into(),
                code: e.code(),
                reason: e.to_string(),
            })
    }
}
