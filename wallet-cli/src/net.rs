//! The wallet's one HTTP client: a timeout, the wallet's user agent, and no
//! redirect ever followed (an answer from elsewhere than the URL the wallet
//! checked is not the party's). Shared by the OpenID4VCI client
//! ([`crate::receive`]) and the OpenID4VP answer ([`crate::oid4vp`]).

use std::io::Read as _;
use std::time::Duration;

/// An agent that follows no redirect.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(timeout)
        .user_agent(concat!("tongban-wallet/", env!("CARGO_PKG_VERSION")))
        .redirects(0)
        .build()
}

/// Reads a response body of at most `limit` bytes: `Ok(None)` when it is
/// larger (nothing beyond `limit + 1` bytes is read).
pub(crate) fn read_bounded(resp: ureq::Response, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    resp.into_reader().take(limit + 1).read_to_end(&mut body)?;
    Ok((body.len() as u64 <= limit).then_some(body))
}
