//! HTTP(S) fetching for a sync. The rules (https, or plain http to this
//! machine only; redirects within the same origin only; a timeout) are
//! `tongban_cli_support::net`'s; this adds the size bound.

use std::time::Duration;

use tongban_cli_support::net;

use crate::SyncError;

/// The largest document a sync downloads (a trust list or a status list
/// token): 32 MiB.
pub const MAX_DOWNLOAD: u64 = 32 * 1024 * 1024;

/// An HTTP client with a timeout and the download bound.
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

    /// GETs `url` as text of at most [`MAX_DOWNLOAD`] bytes.
    pub fn get(&self, url: &str) -> Result<String, SyncError> {
        self.inner
            .get_text(url, MAX_DOWNLOAD)
            .map_err(|source| SyncError::Fetch {
                url: url.into(),
                source,
            })
    }
}
