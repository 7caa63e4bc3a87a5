//! HTTP(S) fetching for `sync`: the only networking in Tongban's verifier,
//! and it lives in the CLI, never in the library.

use std::io::Read as _;
use std::time::Duration;

use crate::cli_error::CliError;

/// The largest document `sync` downloads (a trust list or a status list
/// token): 32 MiB.
const MAX_DOWNLOAD: u64 = 32 * 1024 * 1024;

/// An HTTP client with a timeout.
pub struct Fetcher {
    agent: ureq::Agent,
}

impl Fetcher {
    /// A client whose requests time out after `timeout`.
    pub fn new(timeout: Duration) -> Fetcher {
        Fetcher {
            agent: ureq::AgentBuilder::new()
                .timeout(timeout)
                .redirects(3)
                .build(),
        }
    }

    /// GETs `url` as text.
    pub fn get(&self, url: &str) -> Result<String, CliError> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(CliError::Fetch {
                url: url.into(),
                reason: "only http:// and https:// URLs can be fetched".into(),
            });
        }
        let err = |reason: String| CliError::Fetch {
            url: url.into(),
            reason,
        };
        let resp = self.agent.get(url).call().map_err(|e| err(e.to_string()))?;
        let mut body = Vec::new();
        resp.into_reader()
            .take(MAX_DOWNLOAD + 1)
            .read_to_end(&mut body)
            .map_err(|e| err(e.to_string()))?;
        if body.len() as u64 > MAX_DOWNLOAD {
            return Err(err(format!("larger than {MAX_DOWNLOAD} bytes")));
        }
        String::from_utf8(body).map_err(|_| err("the response is not UTF-8 text".into()))
    }
}
