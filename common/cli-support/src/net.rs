//! Fetching a document over HTTP(S) the way every Tongban program does:
//! `https://` only (plain `http://` only to this machine, for tests and a
//! local proxy), redirects followed only within the same origin, a timeout
//! and a size bound.
//!
//! A URL in a trust list or a credential is written by someone else; left
//! to a general HTTP client, a redirect could send the request to any host
//! the counter can reach (an internal service) or downgrade it to plain
//! HTTP. These rules are specified in `specs/trust-list.md` ("Fetching").

use std::io::Read as _;
use std::time::Duration;

/// The most redirects followed (each within the same origin).
pub const MAX_REDIRECTS: usize = 3;

/// Why a document was not fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL is not `https://` (nor `http://` to a loopback address), or
    /// not a URL at all.
    InsecureUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server redirected to another origin (scheme, host and port), or
    /// too many times.
    RedirectRefused {
        /// The URL that answered with the redirect.
        url: String,
        /// Where it pointed.
        to: String,
    },
    /// The answer is larger than the bound.
    TooLarge {
        /// The URL.
        url: String,
        /// The bound, in bytes.
        limit: u64,
    },
    /// The network, the server or the answer failed.
    Failed {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

impl FetchError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::InsecureUrl { .. } => "fetch_insecure_url",
            FetchError::RedirectRefused { .. } => "fetch_redirect_refused",
            FetchError::TooLarge { .. } => "fetch_too_large",
            FetchError::Failed { .. } => "fetch_failed",
        }
    }

    /// The URL concerned.
    pub fn url(&self) -> &str {
        match self {
            FetchError::InsecureUrl { url, .. }
            | FetchError::RedirectRefused { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::Failed { url, .. } => url,
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::InsecureUrl { url, reason } => write!(f, "{url}: {reason}"),
            FetchError::RedirectRefused { url, to } => write!(
                f,
                "{url} redirects to {to}; only redirects within the same origin are followed, and none where the answer must come from the URL given"
            ),
            FetchError::TooLarge { url, limit } => {
                write!(f, "{url}: the answer is larger than {limit} bytes")
            }
            FetchError::Failed { url, reason } => write!(f, "{url}: {reason}"),
        }
    }
}

impl std::error::Error for FetchError {}

/// Checks that `url` may be fetched: `https://`, or `http://` to a loopback
/// address (`127.0.0.0/8`, `::1`, `localhost`).
pub fn check_url(url: &str) -> Result<url::Url, FetchError> {
    let refused = |reason: &str| FetchError::InsecureUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = url::Url::parse(url).map_err(|e| refused(&format!("not a URL ({e})")))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(refused(
            "plain http:// is accepted only for this machine (loopback); use https://",
        )),
        _ => Err(refused("only https:// URLs can be fetched")),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether two URLs share scheme, host and port.
fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A client that fetches by these rules.
pub struct Fetcher {
    agent: ureq::Agent,
    max_redirects: usize,
}

impl Fetcher {
    /// A client whose requests time out after `timeout`. It follows no
    /// redirect by itself: [`Fetcher::get_text`] decides.
    pub fn new(timeout: Duration) -> Fetcher {
        Fetcher {
            agent: ureq::AgentBuilder::new()
                .timeout(timeout)
                .redirects(0)
                .build(),
            max_redirects: MAX_REDIRECTS,
        }
    }

    /// A client that follows no redirect at all, for fetches whose answer
    /// must come from exactly the URL a person checked (keys signed into a
    /// trust list): a redirect is [`FetchError::RedirectRefused`], naming
    /// its target.
    pub fn without_redirects(timeout: Duration) -> Fetcher {
        Fetcher {
            max_redirects: 0,
            ..Fetcher::new(timeout)
        }
    }

    /// GETs `url` as UTF-8 text of at most `limit` bytes.
    pub fn get_text(&self, url: &str, limit: u64) -> Result<String, FetchError> {
        let mut at = check_url(url)?;
        let mut redirects = 0;
        let resp = loop {
            let failed = |reason: String| FetchError::Failed {
                url: at.to_string(),
                reason,
            };
            let resp = self
                .agent
                .get(at.as_str())
                .call()
                .map_err(|e| failed(e.to_string()))?;
            if !(300..400).contains(&resp.status()) {
                break resp;
            }
            let location = resp.header("location").ok_or_else(|| {
                failed(format!("a redirect ({}) without a Location", resp.status()))
            })?;
            let to = at
                .join(location)
                .map_err(|e| failed(format!("a redirect to {location:?}: {e}")))?;
            redirects += 1;
            if redirects > self.max_redirects || !same_origin(&at, &to) {
                return Err(FetchError::RedirectRefused {
                    url: at.to_string(),
                    to: to.to_string(),
                });
            }
            at = check_url(to.as_str())?;
        };
        let mut body = Vec::new();
        resp.into_reader()
            .take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| FetchError::Failed {
                url: at.to_string(),
                reason: e.to_string(),
            })?;
        if body.len() as u64 > limit {
            return Err(FetchError::TooLarge {
                url: at.to_string(),
                limit,
            });
        }
        String::from_utf8(body).map_err(|_| FetchError::Failed {
            url: at.to_string(),
            reason: "the answer is not UTF-8 text".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn https_or_loopback_http_only() {
        for ok in [
            "https://trust.example/list.jwt",
            "http://127.0.0.1:8080/x",
            "http://127.3.4.5/x",
            "http://[::1]:9/x",
            "http://localhost:1/x",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://trust.example/list.jwt",
            "http://10.0.0.1/x",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost.trust.example/x",
            "file:///etc/passwd",
            "ftp://trust.example/x",
            "not a url",
        ] {
            assert_eq!(
                check_url(bad).unwrap_err().code(),
                "fetch_insecure_url",
                "{bad}"
            );
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(same_origin(
            &u("https://a.example/x"),
            &u("https://a.example:443/y")
        ));
        assert!(!same_origin(
            &u("https://a.example/x"),
            &u("http://a.example/x")
        ));
        assert!(!same_origin(
            &u("https://a.example/x"),
            &u("https://b.example/x")
        ));
        assert!(!same_origin(
            &u("http://127.0.0.1:1/"),
            &u("http://127.0.0.1:2/")
        ));
    }
}
