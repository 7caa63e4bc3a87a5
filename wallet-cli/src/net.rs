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

/// What the HTTP tests of the wallet's clients share.
#[cfg(test)]
pub(crate) mod testing {
    #![allow(clippy::unwrap_used)]

    /// Serves one connection on loopback with `answer` (a raw HTTP
    /// response); reports whether it was asked within five seconds.
    pub(crate) fn serve_once(answer: String) -> (String, std::sync::mpsc::Receiver<bool>) {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            listener.set_nonblocking(true).unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while std::time::Instant::now() < deadline {
                if let Ok((mut s, _)) = listener.accept() {
                    let _ = s.set_nonblocking(false);
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf);
                    let _ = s.write_all(answer.as_bytes());
                    let _ = tx.send(true);
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let _ = tx.send(false);
        });
        (url, rx)
    }
}
