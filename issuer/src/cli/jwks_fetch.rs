//! Fetching an agency's published JWKS for the trust-list operator: the
//! keys fetched here are signed into the trust list, so the fetch is as
//! strict as a key ceremony allows over a network. Only `https://` (plain
//! `http://` to a loopback host alone, for tests on one machine), no
//! redirect followed (a redirect is an answer from somewhere else), a
//! bounded body. The operator then confirms the keys by their RFC 7638
//! thumbprints (in `trust_list`).

use std::io::Read as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

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

/// Whether `host` (as a URL writes it) is this machine: `localhost`,
/// 127.0.0.0/8 or `[::1]`.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<Ipv6Addr>().ok())
        .is_some_and(|v6| v6.is_loopback())
}

/// Refuses a URL keys may not come from, before any request is made.
pub(crate) fn check_url(url: &str) -> Result<(), JwksFetchError> {
    let refuse = |reason: &str| JwksFetchError::NotAllowed {
        url: url.into(),
        reason: reason.into(),
    };
    let parsed = ureq::get(url)
        .request_url()
        .map_err(|e| refuse(&format!("not a URL ({e})")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(parsed.host()) => Ok(()),
        "http" => Err(refuse(
            "keys are fetched over https only (plain http only from this machine, for tests); an attacker on the path could swap them",
        )),
        _ => Err(refuse("only https:// URLs can be fetched")),
    }
}

/// GETs the JWKS at `url` (checked with [`check_url`] first) as JSON.
pub(crate) fn fetch(url: &str) -> Result<serde_json::Value, JwksFetchError> {
    check_url(url)?;
    let failed = |reason: String| JwksFetchError::Failed {
        url: url.into(),
        reason,
    };
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build();
    let resp = agent.get(url).call().map_err(|e| failed(e.to_string()))?;
    let status = resp.status();
    if (300..400).contains(&status) {
        return Err(failed(format!(
            "the server answered with a redirect ({status}) to {}; redirects are not followed, give the final https URL after checking it",
            resp.header("location").unwrap_or("(no location)")
        )));
    }
    if status != 200 {
        return Err(failed(format!("the server answered {status}")));
    }
    let mut body = Vec::new();
    resp.into_reader()
        .take(MAX_JWKS_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| failed(e.to_string()))?;
    if body.len() as u64 > MAX_JWKS_BYTES {
        return Err(failed(format!("larger than {MAX_JWKS_BYTES} bytes")));
    }
    serde_json::from_slice(&body).map_err(|e| failed(format!("not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_plain_http_only_on_loopback() {
        for ok in [
            "https://issuer.example/jwks.json",
            "http://127.0.0.1:8080/jwks.json",
            "http://127.9.9.9/jwks.json",
            "http://localhost/jwks.json",
            "http://[::1]:9000/jwks.json",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://issuer.example/jwks.json",
            "http://10.0.0.1/jwks.json",
            "http://[::2]/jwks.json",
            "http://localhost.evil.example/jwks.json",
            "http://127.0.0.1.evil.example/jwks.json",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
